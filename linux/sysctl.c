/* linux.sysctl: each key written under the container's /proc/sys.
 *
 * Keys are turned into relative paths and opened with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) from /proc/sys, after checking /proc/sys really is
 * procfs: a rootfs without proc mounted (or with a fake /proc/sys directory)
 * gets a clear error instead of a file written somewhere in the image. */
#include "linux/rootfs_internal.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <limits.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int hull_sysctl_key_to_path(const char *key, char *out, size_t len, struct hull_err *err) {
    if (!key || !*key) return hull_err_set(err, EINVAL, "sysctl: empty key");
    size_t n = strlen(key);
    if (n >= len) return hull_err_set(err, ENAMETOOLONG, "sysctl %s: key too long", key);
    /* sysctl(8): with '.' as the separator, a '/' stands for a literal '.'
     * (an interface name like "eth0.100") */
    size_t first = strcspn(key, "./");
    bool dotted = key[first] == '.';
    for (size_t i = 0; i <= n; i++) {
        char c = key[i];
        if (dotted && c == '.') c = '/';
        else if (dotted && c == '/') c = '.';
        out[i] = c;
    }
    /* every component must be a plain name */
    for (const char *p = out;;) {
        const char *e = strchrnul(p, '/');
        size_t cl = (size_t)(e - p);
        if (cl == 0 || (cl == 1 && p[0] == '.') || (cl == 2 && p[0] == '.' && p[1] == '.'))
            return hull_err_set(err, EINVAL, "sysctl %s: not a valid key", key);
        if (!*e) break;
        p = e + 1;
    }
    return 0;
}

static int write_all(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int hull_sysctl_apply(const struct hull_spec *spec, struct hull_err *err) {
    if (spec->linux.n_sysctl == 0) return 0;
    _cleanup_close_ int dfd = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) return hull_err_sys(err, "sysctl: open /proc/sys");
    struct statfs sf;
    if (fstatfs(dfd, &sf) < 0) return hull_err_sys(err, "sysctl: statfs /proc/sys");
    if (sf.f_type != PROC_SUPER_MAGIC)
        return hull_err_set(err, EINVAL, "sysctl: /proc/sys is not procfs (is proc in the mounts list?)");
    for (size_t i = 0; i < spec->linux.n_sysctl; i++) {
        const struct hull_kv *kv = &spec->linux.sysctl[i];
        char rel[PATH_MAX];
        int rc = hull_sysctl_key_to_path(kv->key, rel, sizeof rel, err);
        if (rc < 0) return rc;
        if (!kv->value) return hull_err_set(err, EINVAL, "sysctl %s: no value", kv->key);
        struct open_how how = {
            .flags = O_WRONLY | O_TRUNC | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof how);
        if (fd < 0) return hull_err_sys(err, "sysctl %s: open /proc/sys/%s", kv->key, rel);
        if (write_all(fd, kv->value, strlen(kv->value)) < 0)
            return hull_err_sys(err, "sysctl %s: write \"%s\"", kv->key, kv->value);
    }
    return 0;
}
