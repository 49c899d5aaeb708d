/* Path resolution confined to the container rootfs.
 *
 * Everything is looked up with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * relative to an fd of the rootfs, so absolute symlinks and ".." are clamped to
 * the rootfs the way they will be once it is "/". When something must be
 * created (mkdir -p, a file as a bind target) and the path goes through a
 * dangling symlink, the symlink's text is spliced into the path and the walk
 * restarts from the root: the new object ends up where the container will see
 * it, never on the host. */
#include "linux/rootfs_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINK_HOPS 40

const char *hull_fd_path(int fd, char buf[HULL_FD_PATH_MAX]) {
    snprintf(buf, HULL_FD_PATH_MAX, "/proc/self/fd/%d", fd);
    return buf;
}

static int openat2_in_root(int root_fd, const char *path, int flags, mode_t mode) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/') path++;
    if (!*path) path = ".";
    /* EAGAIN: a concurrent rename raced the ".." check; the kernel asks to retry. */
    for (int i = 0; i < 64; i++) {
        int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
        if (fd >= 0 || errno != EAGAIN) return fd;
    }
    return -1;
}

int hull_open_in_root(int root_fd, const char *path, int flags, mode_t mode, struct hull_err *err) {
    if (!path) return hull_err_set(err, EINVAL, "open in rootfs: no path given");
    int fd = openat2_in_root(root_fd, path, flags, mode);
    if (fd < 0) return hull_err_sys(err, "open %s inside the rootfs", path);
    return fd;
}

/* Joins "<dir>/<target>/<rest>" into a fresh string (dir may be empty). */
static char *join_link(const char *dir, size_t dir_len, const char *target, const char *rest) {
    char *out = NULL;
    int n;
    if (target[0] == '/')
        n = asprintf(&out, "%s/%s", target, rest ? rest : "");
    else
        n = asprintf(&out, "%.*s/%s/%s", (int)dir_len, dir, target, rest ? rest : "");
    return n < 0 ? NULL : out;
}

/* If name in dirfd is a symlink, returns its text (malloc'd); else NULL. */
static char *read_symlink(int dirfd, const char *name) {
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) return NULL;
    char buf[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    return strdup(buf);
}

int hull_mkdirs_in_root(int root_fd, const char *path, mode_t mode, struct hull_err *err) {
    if (!path) return hull_err_set(err, EINVAL, "mkdir in rootfs: no path given");
    char *cur = strdup(path);
    if (!cur) return hull_err_set(err, ENOMEM, "mkdir %s: out of memory", path);
    int hops = 0, rc = 0;
    int dirfd = -1;

restart:
    if (dirfd >= 0) close(dirfd);
    dirfd = openat2_in_root(root_fd, ".", O_PATH | O_DIRECTORY, 0);
    if (dirfd < 0) { rc = hull_err_sys(err, "mkdir %s: open rootfs", path); goto out; }

    for (size_t i = 0; cur[i];) {
        while (cur[i] == '/') i++;
        if (!cur[i]) break;
        size_t start = i;
        while (cur[i] && cur[i] != '/') i++;
        size_t end = i;
        char saved = cur[end];

        cur[end] = '\0';
        int fd = openat2_in_root(root_fd, cur, O_PATH | O_DIRECTORY, 0);
        int open_errno = errno;
        const char *comp = cur + start;
        if (fd >= 0) {
            cur[end] = saved;
            close(dirfd);
            dirfd = fd;
            continue;
        }
        if (open_errno != ENOENT) {
            errno = open_errno;
            rc = hull_err_sys(err, "mkdir %s: %s inside the rootfs", path, cur);
            goto out;
        }
        if (mkdirat(dirfd, comp, mode) < 0 && errno != EEXIST) {
            rc = hull_err_sys(err, "mkdir %s: create %s inside the rootfs", path, cur);
            goto out;
        }
        char *link = read_symlink(dirfd, comp);
        if (link) {
            /* a dangling symlink: create what it points to, inside the root */
            char *next = join_link(cur, start, link, saved ? cur + end + 1 : NULL);
            free(link);
            if (!next) { rc = hull_err_set(err, ENOMEM, "mkdir %s: out of memory", path); goto out; }
            free(cur);
            cur = next;
            if (++hops > MAX_SYMLINK_HOPS) {
                rc = hull_err_set(err, ELOOP, "mkdir %s: too many levels of symbolic links", path);
                goto out;
            }
            goto restart;
        }
        struct open_how how = {
            .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        fd = (int)syscall(SYS_openat2, dirfd, comp, &how, sizeof how);
        if (fd < 0) {
            rc = hull_err_sys(err, "mkdir %s: open %s inside the rootfs", path, cur);
            goto out;
        }
        cur[end] = saved;
        close(dirfd);
        dirfd = fd;
    }
    rc = dirfd;
    dirfd = -1;
out:
    if (dirfd >= 0) close(dirfd);
    free(cur);
    return rc;
}

/* Splits path into parent and last component; the parent is created. */
int hull_parent_in_root(int root_fd, const char *path, char *base, size_t base_len,
                        struct hull_err *err) {
    size_t len = strlen(path);
    while (len > 0 && path[len - 1] == '/') len--;
    size_t b = len;
    while (b > 0 && path[b - 1] != '/') b--;
    size_t blen = len - b;
    if (blen == 0 || (blen == 1 && path[b] == '.') || (blen == 2 && path[b] == '.' && path[b + 1] == '.'))
        return hull_err_set(err, EINVAL, "%s: not a valid path for a file inside the rootfs", path);
    if (blen >= base_len || blen >= NAME_MAX + 1)
        return hull_err_set(err, ENAMETOOLONG, "%s: file name too long", path);
    memcpy(base, path + b, blen);
    base[blen] = '\0';
    char *parent = strndup(path, b);
    if (!parent) return hull_err_set(err, ENOMEM, "%s: out of memory", path);
    int fd = hull_mkdirs_in_root(root_fd, parent[0] ? parent : "/", 0755, err);
    free(parent);
    return fd;
}

int hull_mkfile_in_root(int root_fd, const char *path, mode_t mode, struct hull_err *err) {
    char *cur = strdup(path);
    if (!cur) return hull_err_set(err, ENOMEM, "%s: out of memory", path);
    int rc = -1;
    for (int hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
        int fd = openat2_in_root(root_fd, cur, O_PATH, 0);
        if (fd >= 0) { rc = fd; goto out; }
        if (errno != ENOENT) { rc = hull_err_sys(err, "open %s inside the rootfs", path); goto out; }

        char base[NAME_MAX + 1];
        int pfd = hull_parent_in_root(root_fd, cur, base, sizeof base, err);
        if (pfd < 0) { rc = pfd; goto out; }
        int f = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        if (f >= 0) {
            close(f);
            rc = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            if (rc < 0) rc = hull_err_sys(err, "open %s inside the rootfs", path);
            close(pfd);
            goto out;
        }
        if (errno != EEXIST) {
            rc = hull_err_sys(err, "create %s inside the rootfs", path);
            close(pfd);
            goto out;
        }
        char *link = read_symlink(pfd, base);
        close(pfd);
        if (link) {
            /* dangling symlink as the last component: create its target instead */
            size_t len = strlen(cur);
            while (len > 0 && cur[len - 1] == '/') len--;
            while (len > 0 && cur[len - 1] != '/') len--;
            char *next = join_link(cur, len, link, NULL);
            free(link);
            if (!next) { rc = hull_err_set(err, ENOMEM, "%s: out of memory", path); goto out; }
            size_t nl = strlen(next);
            while (nl > 1 && next[nl - 1] == '/') next[--nl] = '\0';
            free(cur);
            cur = next;
        }
        /* else: it appeared between the two calls; the next round opens it */
    }
    rc = hull_err_set(err, ELOOP, "create %s inside the rootfs: too many levels of symbolic links", path);
out:
    free(cur);
    return rc;
}
