#include "base/fsutil.h"

#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

int hull_mkdir_p(const char *path, mode_t mode) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) { errno = ENAMETOOLONG; return -1; }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

int hull_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t hull_read_all(int fd, void *buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int hull_write_file_atomic(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode) {
    char tmp[NAME_MAX + 1];
    snprintf(tmp, sizeof tmp, ".%s.tmp.%d", name, (int)getpid());
    int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return -1;
    if (hull_write_all(fd, buf, len) < 0) goto fail;
    if (close(fd) < 0) { fd = -1; goto fail; }
    if (renameat(dir_fd, tmp, dir_fd, name) < 0) { fd = -1; goto fail; }
    return 0;
fail:;
    int saved = errno;
    if (fd >= 0) close(fd);
    unlinkat(dir_fd, tmp, 0);
    errno = saved;
    return -1;
}

char *hull_read_file_at(int dir_fd, const char *name, size_t max, size_t *len) {
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap >= max) { free(buf); close(fd); errno = EFBIG; return NULL; }
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            free(buf);
            close(fd);
            errno = saved;
            return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int hull_write_str(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t len = strlen(s);
    ssize_t n = write(fd, s, len);
    int saved = errno;
    close(fd);
    if (n < 0) { errno = saved; return -1; }
    if ((size_t)n != len) { errno = EIO; return -1; }
    return 0;
}

static int rm_rf_at(int parent, const char *name, dev_t dev) {
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    if (st.st_dev != dev) { errno = EXDEV; return -1; }   /* a mount inside: never descend */
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (!d) { close(fd); return -1; }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (rm_rf_at(dirfd(d), de->d_name, dev) < 0) rc = -1;
    }
    closedir(d);
    if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT) rc = -1;
    return rc;
}

int hull_rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0) return -1;
    return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

int hull_cache_publish(const char *final_path, const char *what,
                       int (*fill)(int fd, const char *tmp, void *ctx, struct hull_err *err), void *ctx,
                       struct hull_err *err) {
    const char *slash = strrchr(final_path, '/');
    int dl = slash ? (int)(slash - final_path) : 1;
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%.*s/.%s.XXXXXX", dl, slash ? final_path : ".", slash ? slash + 1 : final_path) >=
        (int)sizeof tmp)
        return hull_err_set(err, ENAMETOOLONG, "%s: path too long", what);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "%s: create a temp file beside %s", what, final_path);
    int rc = fill(fd, tmp, ctx, err);
    close(fd);
    if (rc == 0) {   /* by path: fill may have replaced the file fd points at */
        fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0 || fchmod(fd, 0644) < 0) rc = hull_err_sys(err, "%s: sync %s", what, tmp);
        if (fd >= 0) close(fd);
    }
    if (rc == 0 && rename(tmp, final_path) < 0) rc = hull_err_sys(err, "%s: rename into %s", what, final_path);
    if (rc < 0) unlink(tmp);
    return rc;
}
