/* Small file helpers every driver uses. cgroupfs files are written with one
 * write() each, because the kernel parses exactly what one write delivers;
 * nothing is created and no symlink is followed. */
#include "cgroups/cg_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void cg_sleep_ms(int ms) {
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static int open_in(const char *dir, const char *file, int flags) {
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -1;
    return openat(dfd, file, flags | O_NOFOLLOW | O_CLOEXEC);
}

int cg_write(const char *dir, const char *file, const char *value, struct hull_err *err) {
    _cleanup_close_ int fd = open_in(dir, file, O_WRONLY);
    if (fd < 0) return hull_err_sys(err, "cgroup %s: %s", dir, file);
    size_t len = strlen(value);
    ssize_t n;
    do n = write(fd, value, len); while (n < 0 && errno == EINTR);
    if (n < 0) return hull_err_sys(err, "cgroup %s: %s = %s", dir, file, value);
    if ((size_t)n != len)
        return hull_err_set(err, EIO, "cgroup %s: %s = %s: short write", dir, file, value);
    return 0;
}

int cg_writef(const char *dir, const char *file, struct hull_err *err, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return hull_err_set(err, EINVAL, "cgroup %s: %s: value too long", dir, file);
    return cg_write(dir, file, buf, err);
}

int cg_read(const char *dir, const char *file, char **out, struct hull_err *err) {
    _cleanup_close_ int fd = open_in(dir, file, O_RDONLY);
    if (fd < 0) return hull_err_sys(err, "cgroup %s: %s", dir, file);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) return hull_err_set(err, ENOMEM, "out of memory");
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); return hull_err_set(err, ENOMEM, "out of memory"); }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int r = hull_err_sys(err, "cgroup %s: reading %s", dir, file);
            free(buf);
            return r;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct hull_err *err) {
    _cleanup_free_ char *s = NULL;
    int r = cg_read(dir, file, &s, err);
    if (r < 0) return r;
    if (strncmp(s, "max", 3) == 0) { *out = UINT64_MAX; return 0; }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return hull_err_set(err, EINVAL, "cgroup %s: %s: not a number: \"%.32s\"", dir, file, s);
    *out = v;
    return 0;
}

bool cg_file_exists(const char *dir, const char *file) {
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    return dfd >= 0 && fstatat(dfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

bool cg_keyed(const char *text, const char *key, uint64_t *out) {
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            *out = strtoull(p + kl + 1, NULL, 10);
            return true;
        }
    }
    return false;
}

static ssize_t created_index(const struct cg_dir *d, const char *path, size_t len) {
    for (size_t i = 0; i < d->n_created; i++)
        if (strlen(d->created[i]) == len && strncmp(d->created[i], path, len) == 0) return (ssize_t)i;
    return -1;
}

int cg_plan_tracked(struct cg_dir *d) {
    size_t ml = strlen(d->mountpoint);
    for (const char *e = d->path + ml; *e;) {
        while (*e == '/') e++;
        if (!*e) break;
        e = strchrnul(e, '/');
        size_t len = (size_t)(e - d->path);
        char *s = strndup(d->path, len);
        if (!s) return -ENOMEM;
        struct stat st;
        if (lstat(s, &st) == 0 || created_index(d, s, len) >= 0) { free(s); continue; }
        char **nc = realloc(d->created, (d->n_created + 1) * sizeof *nc);
        if (!nc) { free(s); return -ENOMEM; }
        d->created = nc;
        d->created[d->n_created++] = s;
    }
    return 0;
}

/* Walks from the mount point down, one component at a time with O_NOFOLLOW,
 * so a symlink planted anywhere on the way cannot redirect the mkdir. A
 * parent can vanish under us (another container's destroy removing the
 * shared parent it made): then the walk starts over. */
static int mkdir_walk(struct cg_dir *d, struct hull_err *err) {
    size_t ml = strlen(d->mountpoint);
    int fd = open(d->mountpoint, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "cgroup mount %s", d->mountpoint);
    const char *p = d->path + ml;
    int r = 0;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchrnul(p, '/');
        char name[256];
        if ((size_t)(e - p) >= sizeof name) { r = hull_err_set(err, ENAMETOOLONG, "cgroup %s: component too long", d->path); break; }
        memcpy(name, p, (size_t)(e - p));
        name[e - p] = '\0';
        bool made = false;
        if (mkdirat(fd, name, 0755) == 0) made = true;
        else if (errno != EEXIST) {
            r = hull_err_sys(err, "cgroup %s: mkdir %.*s", d->path, (int)(e - d->path), d->path);
            break;
        }
        int nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0) {
            r = hull_err_sys(err, "cgroup %s: open %.*s", d->path, (int)(e - d->path), d->path);
            if (made) unlinkat(fd, name, AT_REMOVEDIR);
            break;
        }
        close(fd);
        fd = nfd;
        /* Directories planned (hull_cgroup_plan) are already listed; one
         * that someone else made first is not ours to remove. */
        ssize_t listed = created_index(d, d->path, (size_t)(e - d->path));
        if (!made && listed >= 0) {
            free(d->created[listed]);
            memmove(&d->created[listed], &d->created[listed + 1], (d->n_created - (size_t)listed - 1) * sizeof *d->created);
            d->n_created--;
        }
        if (made && listed < 0) {
            char **nc = realloc(d->created, (d->n_created + 1) * sizeof *nc);
            char *s = strndup(d->path, (size_t)(e - d->path));
            if (!nc || !s) {
                free(s);
                if (nc) d->created = nc;
                r = hull_err_set(err, ENOMEM, "out of memory");
                break;
            }
            d->created = nc;
            d->created[d->n_created++] = s;
        }
        p = e;
    }
    close(fd);
    return r;
}

int cg_mkdir_tracked(struct cg_dir *d, struct hull_err *err) {
    size_t ml = strlen(d->mountpoint);
    if (strncmp(d->path, d->mountpoint, ml) != 0 || (d->path[ml] != '/' && d->path[ml] != '\0'))
        return hull_err_set(err, EINVAL, "cgroup %s: not below %s", d->path, d->mountpoint);
    for (int attempt = 0;; attempt++) {
        int r = mkdir_walk(d, err);
        if (r != -ENOENT || attempt >= 5) return r;
    }
}

int cg_rmdir_retry(const char *path, int wait_ms, struct hull_err *err) {
    for (int waited = 0;; waited += 10) {
        if (rmdir(path) == 0 || errno == ENOENT) return 0;
        if (errno != EBUSY || waited >= wait_ms) return hull_err_sys(err, "cgroup %s: rmdir", path);
        cg_sleep_ms(10);
    }
}

int cg_read_pids(const char *dir, pid_t **pids, size_t *n, struct hull_err *err) {
    _cleanup_free_ char *s = NULL;
    int r = cg_read(dir, "cgroup.procs", &s, err);
    if (r < 0) return r;
    size_t cnt = 0, cap = 0;
    pid_t *v = NULL;
    for (char *p = s; *p;) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p) { p++; continue; }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            pid_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) { free(v); return hull_err_set(err, ENOMEM, "out of memory"); }
            v = nv;
        }
        v[cnt++] = (pid_t)x;
        p = end;
    }
    *pids = v;
    *n = cnt;
    return 0;
}
