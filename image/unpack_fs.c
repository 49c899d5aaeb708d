/* Filesystem side of the layer unpacker. Every path from the tar is resolved
 * from the destination's directory fd one component at a time (or with one
 * openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS call), and nothing ever follows
 * a symlink: a symlink where a directory is needed is an error naming the
 * entry, so no entry, in this layer or a later one, can write through a
 * symlink another entry planted. Objects are created with *at() calls on the
 * parent fd and O_NOFOLLOW/O_EXCL, so the final component cannot be
 * redirected either. */
#include "image/unpack.h"
#include "base/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WALK_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

int up_fail(struct unpack *u, int code, const char *fmt, ...) {
    char msg[HULL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return hull_err_set(u->err, code, "entry \"%.300s\": %s", u->entry ? u->entry : "?", msg);
}

int up_fail_sys(struct unpack *u, const char *fmt, ...) {
    int code = errno ? errno : EIO;
    char msg[HULL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return up_fail(u, code, "%s: %s", msg, strerror(code));
}

/* A bounded view of the tree below dirfd: symlinks and ".." are refused by
 * the kernel. ENOSYS (pre-5.6) callers fall back to the component walk. */
static int open_beneath(int dirfd, const char *rel, int flags) {
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW), .resolve = WALK_RESOLVE };
    int fd;
    do fd = (int)syscall(SYS_openat2, dirfd, rel[0] ? rel : ".", &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
    return fd;
}

/* An entry's name (or a hardlink's target) as a path below the layer root.
 * A leading "/" means the layer root, as containerd and podman apply it
 * (tar writers such as umoci name the root "/" or "./"); "." components are
 * dropped; ".." is refused, never clamped, so no name can leave the layer. */
int up_norm(struct unpack *u, const char *raw, char *out, size_t n) {
    if (!raw || !raw[0]) return up_fail(u, EINVAL, "empty name");
    size_t o = 0;
    const char *p = raw;
    while (*p == '/') p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return up_fail(u, EPERM, "path escapes the layer (\"..\"): refused");
        if (len && !(len == 1 && p[0] == '.')) {
            if (o + len + 2 > n) return up_fail(u, ENAMETOOLONG, "name too long");
            if (o) out[o++] = '/';
            memcpy(out + o, p, len);
            o += len;
        }
        p += len;
        if (*p) p++;
    }
    out[o] = '\0';
    return 0;
}

void up_cache_drop(struct unpack *u) {
    if (u->cache_fd >= 0) close(u->cache_fd);
    u->cache_fd = -1;
    u->cache_rel[0] = '\0';
}

static bool is_whiteout(const struct stat *st) {
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool dir_opaque(int dfd) {
    char v[4];
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", dfd);
    ssize_t n = getxattr(path, "trusted.overlay.opaque", v, sizeof v);
    return n == 1 && v[0] == 'y';
}

/* Looks rel up through the lower layers as overlayfs would show it (the
 * destination first, for its whiteouts and opaque markers). 0 and *st when
 * found in lower *layer; -ENOENT when absent or hidden; -ELOOP when a
 * directory component is a symlink (named in *at_comp). */
static int lower_find(struct unpack *u, const char *rel, struct stat *st, int *layer, size_t *at_comp) {
    for (int L = -1; L < (int)u->n_lowers; L++) {
        int dfd = openat(L < 0 ? u->root_fd : u->lower_fds[L], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) return -errno;
        bool opaque = dir_opaque(dfd), next_layer = false;
        const char *p = rel;
        while (!next_layer) {
            const char *end = strchr(p, '/');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char comp[NAME_MAX + 1];
            if (len > NAME_MAX) { close(dfd); return -ENAMETOOLONG; }
            memcpy(comp, p, len);
            comp[len] = '\0';
            struct stat s;
            if (fstatat(dfd, comp, &s, AT_SYMLINK_NOFOLLOW) < 0) {
                close(dfd);
                if (errno != ENOENT) return -errno;
                if (opaque) return -ENOENT;     /* an opaque dir hides every lower layer */
                next_layer = true;
                continue;
            }
            if (is_whiteout(&s)) { close(dfd); return -ENOENT; }
            if (!end) {
                close(dfd);
                if (L < 0) return -EEXIST;      /* callers only ask about missing paths */
                *st = s;
                *layer = L;
                return 0;
            }
            if (S_ISLNK(s.st_mode)) { close(dfd); *at_comp = (size_t)(end - rel); return -ELOOP; }
            if (!S_ISDIR(s.st_mode)) { close(dfd); return -ENOENT; }
            int nd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            close(dfd);
            if (nd < 0) return -errno;
            dfd = nd;
            if (dir_opaque(dfd)) opaque = true;
            p = end + 1;
        }
    }
    return -ENOENT;
}

/* Creates directory prefix[0..len) (its last component comp, in dfd) the way
 * the overlay needs it: with the lower layer's owner/mode/times when a lower
 * has it, so an implicit parent does not change e.g. /tmp's 1777. */
static int make_implicit_dir(struct unpack *u, int dfd, const char *comp, const char *prefix) {
    struct stat st;
    int layer = 0;
    size_t at = 0;
    int rc = lower_find(u, prefix, &st, &layer, &at);
    if (rc == -ELOOP || (rc == 0 && S_ISLNK(st.st_mode)))
        return up_fail(u, ELOOP, "\"%.*s\" is a symlink in a lower layer: writing through it is refused",
                       rc == -ELOOP ? (int)at : (int)strlen(prefix), prefix);
    bool lower_dir = rc == 0 && S_ISDIR(st.st_mode);
    if (mkdirat(dfd, comp, 0700) < 0) return up_fail_sys(u, "mkdir \"%s\"", prefix);
    if (!lower_dir) {
        st.st_mode = 0755;
        st.st_uid = 0;
        st.st_gid = 0;
    }
    if (!u->o->no_chown && fchownat(dfd, comp, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return up_fail_sys(u, "chown \"%s\"", prefix);
    struct timespec t[2] = { st.st_atim, st.st_mtim };
    return up_dir_defer(u, prefix, st.st_mode & 07777, lower_dir ? t : NULL);
}

/* Slow path: component by component, creating what is missing. */
static int walk_create(struct unpack *u, const char *dir) {
    int dfd = openat(u->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return up_fail_sys(u, "open destination");
    const char *p = dir;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char comp[NAME_MAX + 1], prefix[PATH_MAX];
        if (len > NAME_MAX) { close(dfd); return up_fail(u, ENAMETOOLONG, "component too long"); }
        memcpy(comp, p, len);
        comp[len] = '\0';
        snprintf(prefix, sizeof prefix, "%.*s", (int)(p - dir + len), dir);
        struct stat st;
        if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            int rc = errno == ENOENT ? make_implicit_dir(u, dfd, comp, prefix) : up_fail_sys(u, "stat \"%s\"", prefix);
            if (rc < 0) { close(dfd); return rc; }
        } else if (S_ISLNK(st.st_mode)) {
            close(dfd);
            return up_fail(u, ELOOP, "\"%s\" is a symlink: writing through it is refused", prefix);
        } else if (!S_ISDIR(st.st_mode)) {
            close(dfd);
            return up_fail(u, ENOTDIR, "\"%s\" is not a directory", prefix);
        }
        int nd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dfd);
        if (nd < 0) return up_fail_sys(u, "open \"%s\"", prefix);
        dfd = nd;
        p += len;
        if (*p) p++;
    }
    return dfd;
}

int up_parent(struct unpack *u, const char *rel, const char **name) {
    const char *slash = strrchr(rel, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - rel) : 0, rel);
    *name = slash ? slash + 1 : rel;
    if (u->cache_fd >= 0 && strcmp(dir, u->cache_rel) == 0) return u->cache_fd;
    up_cache_drop(u);
    int fd = open_beneath(u->root_fd, dir, O_PATH | O_DIRECTORY);
    if (fd < 0) fd = walk_create(u, dir);      /* missing parts, or a precise error */
    if (fd < 0) return fd;
    u->cache_fd = fd;
    snprintf(u->cache_rel, sizeof u->cache_rel, "%s", dir);
    return fd;
}

static int rmtree_at(int dfd, const char *name) {
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dfd, name, 0);
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) { if (fd >= 0) close(fd); return -1; }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && rmtree_at(dirfd(d), de->d_name) < 0) rc = -1;
    closedir(d);
    return rc < 0 ? rc : unlinkat(dfd, name, AT_REMOVEDIR);
}

int up_clear(struct unpack *u, int pfd, const char *name, bool keep_dir) {
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return 0;
        return up_fail_sys(u, "stat");
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) return 1;
        /* the cached parent survives (it is pfd or outside); any other cached
         * directory might be inside the removed tree */
        if (pfd != u->cache_fd) up_cache_drop(u);
        if (rmtree_at(pfd, name) < 0) return up_fail_sys(u, "remove the existing directory");
        return 0;
    }
    if (unlinkat(pfd, name, 0) < 0) return up_fail_sys(u, "remove the existing entry");
    return 0;
}

/* Which xattrs a layer may set: user.* and file capabilities. trusted.* and
 * security.* (overlay markers, SELinux labels) would let an image steer the
 * host overlay or labels, so they are dropped. */
static bool xattr_allowed(const char *name) {
    return strncmp(name, "user.", 5) == 0 || strcmp(name, "security.capability") == 0;
}

int up_xattrs(struct unpack *u, int fd, struct archive_entry *e) {
    const char *name;
    const void *val;
    size_t len;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
        if (!name || !xattr_allowed(name)) continue;
        if (fsetxattr(fd, name, val, len, 0) < 0 && errno != ENOTSUP)
            return up_fail_sys(u, "set xattr %s", name);
    }
    return 0;
}

int up_meta(struct unpack *u, int fd, int pfd, const char *name, struct archive_entry *e) {
    uid_t uid = (uid_t)archive_entry_uid(e);
    gid_t gid = (gid_t)archive_entry_gid(e);
    struct timespec t[2] = {
        { archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e),
          archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : archive_entry_mtime_nsec(e) },
        { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
    };
    if (fd >= 0) {
        /* chown before chmod (chown drops set-id bits) and before xattrs
         * (chown drops security.capability) */
        if (!u->o->no_chown && fchown(fd, uid, gid) < 0) return up_fail_sys(u, "chown");
        if (fchmod(fd, archive_entry_perm(e)) < 0) return up_fail_sys(u, "chmod");
        int rc = up_xattrs(u, fd, e);
        if (rc < 0) return rc;
        if (futimens(fd, t) < 0) return up_fail_sys(u, "set times");
        return 0;
    }
    if (!u->o->no_chown && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return up_fail_sys(u, "chown");
    if (archive_entry_filetype(e) != AE_IFLNK && fchmodat(pfd, name, archive_entry_perm(e), 0) < 0)
        return up_fail_sys(u, "chmod");
    if (utimensat(pfd, name, t, AT_SYMLINK_NOFOLLOW) < 0) return up_fail_sys(u, "set times");
    return 0;
}

int up_dir_defer(struct unpack *u, const char *rel, mode_t mode, const struct timespec *times) {
    if (u->n_dirs == u->cap_dirs) {
        size_t cap = u->cap_dirs ? u->cap_dirs * 2 : 64;
        void *v = realloc(u->dirs, cap * sizeof *u->dirs);
        if (!v) return up_fail(u, ENOMEM, "out of memory");
        u->dirs = v;
        u->cap_dirs = cap;
    }
    struct dir_meta *d = &u->dirs[u->n_dirs];
    if (!(d->rel = strdup(rel))) return up_fail(u, ENOMEM, "out of memory");
    d->mode = mode;
    d->set_times = times != NULL;
    if (times) { d->times[0] = times[0]; d->times[1] = times[1]; }
    u->n_dirs++;
    return 0;
}

int up_dirs_finish(struct unpack *u) {
    int rc = 0;
    for (size_t i = 0; i < u->n_dirs; i++) {     /* in order: a later entry for a dir wins */
        struct dir_meta *d = &u->dirs[i];
        u->entry = d->rel[0] ? d->rel : ".";
        int fd = open_beneath(u->root_fd, d->rel, O_RDONLY | O_DIRECTORY);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR) continue;      /* replaced by a later entry */
            rc = up_fail_sys(u, "reopen directory");
            break;
        }
        if (fchmod(fd, d->mode) < 0 || (d->set_times && futimens(fd, d->times) < 0))
            rc = up_fail_sys(u, "directory metadata");
        close(fd);
        if (rc < 0) break;
    }
    for (size_t i = 0; i < u->n_dirs; i++) free(u->dirs[i].rel);
    free(u->dirs);
    u->dirs = NULL;
    u->n_dirs = u->cap_dirs = 0;
    return rc;
}

int up_opaque(struct unpack *u, int pfd) {
    int fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return up_fail_sys(u, "open directory");
    int rc = fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0 ? up_fail_sys(u, "mark opaque") : 0;
    close(fd);
    return rc;
}

/* Copies the lower layer's file up to trel in the destination. */
static int copy_up(struct unpack *u, int layer, const char *trel, const struct stat *st) {
    if (!S_ISREG(st->st_mode)) return up_fail(u, EINVAL, "hardlink target \"%s\" in a lower layer is not a regular file", trel);
    int src = open_beneath(u->lower_fds[layer], trel, O_RDONLY);
    if (src < 0) return up_fail_sys(u, "open lower \"%s\"", trel);
    const char *name;
    int pfd = up_parent(u, trel, &name);
    if (pfd < 0) { close(src); return pfd; }
    int dst = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dst < 0) { close(src); return up_fail_sys(u, "copy up \"%s\"", trel); }
    int rc = 0;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(src, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { if (n < 0) rc = up_fail_sys(u, "copy up \"%s\"", trel); break; }
        if (hull_write_all(dst, buf, (size_t)n) < 0) { rc = up_fail_sys(u, "copy up \"%s\"", trel); break; }
    }
    struct timespec t[2] = { st->st_atim, st->st_mtim };
    if (rc == 0 && !u->o->no_chown && fchown(dst, st->st_uid, st->st_gid) < 0) rc = up_fail_sys(u, "copy up chown");
    if (rc == 0 && (fchmod(dst, st->st_mode & 07777) < 0 || futimens(dst, t) < 0)) rc = up_fail_sys(u, "copy up metadata");
    close(src);
    close(dst);
    return rc;
}

int up_link_target(struct unpack *u, const char *trel, int *tpfd, const char **tname) {
    if (!trel[0]) return up_fail(u, EINVAL, "hardlink to the layer root");
    const char *slash = strrchr(trel, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - trel) : 0, trel);
    *tname = slash ? slash + 1 : trel;
    for (int pass = 0; pass < 2; pass++) {
        int fd = open_beneath(u->root_fd, dir, O_PATH | O_DIRECTORY);
        if (fd < 0 && errno == ELOOP)
            return up_fail(u, ELOOP, "hardlink target \"%s\" goes through a symlink: refused", trel);
        if (fd < 0 && errno == EXDEV)
            return up_fail(u, EXDEV, "hardlink target \"%s\" leaves the layer: refused", trel);
        struct stat st;
        if (fd >= 0 && fstatat(fd, *tname, &st, AT_SYMLINK_NOFOLLOW) == 0 && !is_whiteout(&st)) {
            if (S_ISDIR(st.st_mode)) { close(fd); return up_fail(u, EPERM, "hardlink to directory \"%s\"", trel); }
            *tpfd = fd;
            return 0;
        }
        if (fd >= 0) close(fd);
        if (pass) break;
        int layer = 0;
        size_t at = 0;
        int rc = lower_find(u, trel, &st, &layer, &at);
        if (rc == -ELOOP)
            return up_fail(u, ELOOP, "hardlink target \"%s\" goes through a symlink: refused", trel);
        if (rc < 0) break;
        if ((rc = copy_up(u, layer, trel, &st)) < 0) return rc;
    }
    return up_fail(u, ENOENT, "hardlink target \"%s\" not found in this layer or below", trel);
}
