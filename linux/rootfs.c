/* The rootfs sequence: prepare (propagation, rootfs bind, mounts, /dev),
 * pivot (pivot_root or MS_MOVE + chroot) and finalize (sysctl, readonly and
 * masked paths, readonly root, rootfsPropagation); plus hostname/domainname. See rootfs.h. */
#include "linux/rootfs_internal.h"
#include "base/mountinfo.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* rootfsPropagation -> MS_* ; default rslave, like runc: host mounts keep
 * reaching the container, nothing the container mounts reaches the host. */
static int root_propagation(const struct hull_spec *spec, unsigned long *flag, struct hull_err *err) {
    static const struct { const char *name; unsigned long flag; } map[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    const char *p = spec->linux.rootfs_propagation;
    *flag = MS_SLAVE | MS_REC;
    if (!p || !*p) return 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(p, map[i].name)) {
            *flag = map[i].flag;
            return 0;
        }
    return hull_err_set(err, EINVAL, "linux.rootfsPropagation: unknown value \"%s\"", p);
}

static int canonical_rootfs(const struct hull_rootfs_opts *o, char *out, struct hull_err *err) {
    if (!o || !o->rootfs || !*o->rootfs) return hull_err_set(err, EINVAL, "rootfs: no path given");
    if (!realpath(o->rootfs, out)) return hull_err_sys(err, "rootfs %s", o->rootfs);
    struct stat st;
    if (stat(out, &st) < 0) return hull_err_sys(err, "rootfs %s", out);
    if (!S_ISDIR(st.st_mode)) return hull_err_set(err, ENOTDIR, "rootfs %s: not a directory", out);
    return 0;
}

struct mount_by_id {
    unsigned long long id;
    char mp[PATH_MAX];
};

static int match_id(struct hull_mountinfo *m, void *arg) {
    struct mount_by_id *w = arg;
    if (m->id != w->id) return 0;
    snprintf(w->mp, sizeof w->mp, "%s", m->mount_point);
    return 1;
}

/* The mount the rootfs lies on, made a slave (slave modes: the container's
 * root keeps receiving from the host) or private (the others). A
 * non-recursive value on "/" leaves it as it came from the host, and shared
 * it makes pivot_root fail (EINVAL: shared parent of the new root) and carries
 * the rootfs self-bind and every mount below it to the host. */
static int parent_mount_unshared(const char *root, unsigned long flag, struct hull_err *err) {
    struct statx sx;
    if (statx(AT_FDCWD, root, 0, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
        return hull_err_sys(err, "rootfs %s: find its mount", root);
    _cleanup_close_ int fd = hull_mountinfo_open();
    if (fd < 0) {
        errno = -fd;
        return hull_err_sys(err, "open /proc/self/mountinfo");
    }
    struct mount_by_id w = { .id = sx.stx_mnt_id };
    int rc = hull_mountinfo_each(fd, match_id, &w);
    if (rc < 0) {
        errno = -rc;
        return hull_err_sys(err, "read /proc/self/mountinfo");
    }
    const char *mp = w.mp;
    if (!mp[0]) return hull_err_set(err, ENOENT, "rootfs %s: its mount is not in mountinfo", root);
    if (mount(NULL, mp, NULL, flag, NULL) < 0)
        return hull_err_sys(err, "make %s %s (parent mount of the rootfs)", mp,
                            flag == MS_SLAVE ? "a slave" : "private");
    return 0;
}

int hull_rootfs_prepare(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                        struct hull_err *err) {
    char root[PATH_MAX];
    unsigned long prop;
    int rc = canonical_rootfs(o, root, err);
    if (rc < 0 || (rc = root_propagation(spec, &prop, err)) < 0) return rc;

    /* Before the bind, "/" only needs to stop what the container mounts from
     * reaching the host: an unbindable "/" (or rootfs mount) would make the
     * self-bind below fail with EINVAL, so unbindable is private until
     * finalize applies the value asked for to the container's own root. */
    unsigned long early = prop & MS_UNBINDABLE ? (prop & ~MS_UNBINDABLE) | MS_PRIVATE : prop;
    if (mount(NULL, "/", NULL, early, NULL) < 0)
        return hull_err_sys(err, "set mount propagation of / (rootfsPropagation %s)",
                            spec->linux.rootfs_propagation ? spec->linux.rootfs_propagation : "rslave");
    if ((rc = parent_mount_unshared(root, early & MS_SLAVE ? MS_SLAVE : MS_PRIVATE, err)) < 0) return rc;
    /* the rootfs must be a mount point of its own for pivot_root/MS_MOVE */
    if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
        return hull_err_sys(err, "bind mount rootfs %s onto itself", root);

    _cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return hull_err_sys(err, "open rootfs %s", root);
    for (size_t i = 0; i < spec->n_mounts; i++) {
        rc = hull_mount_entry(root_fd, spec, &spec->mounts[i], o, err);
        if (rc < 0) return hull_err_prefix(err, "mounts[%zu]: ", i);
    }
    return hull_devices_setup(root_fd, spec, o, err);
}

int hull_rootfs_pivot(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                      struct hull_err *err) {
    char root[PATH_MAX];
    int rc = canonical_rootfs(o, root, err);
    if (rc < 0) return rc;
    if (chdir(root) < 0) return hull_err_sys(err, "chdir to rootfs %s", root);

    if (o->no_pivot) {
        /* the rootfs mount replaces "/" in this namespace, then chroot into it */
        if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
            return hull_err_sys(err, "move rootfs %s to /", root);
        if (chroot(".") < 0) return hull_err_sys(err, "chroot to rootfs %s", root);
    } else {
        /* pivot_root(".", "."): the old root ends up stacked on top of the new
         * one at "."; it is made a slave first so detaching it cannot
         * propagate an unmount to the host, then detached. */
        if (syscall(SYS_pivot_root, ".", ".") < 0) return hull_err_sys(err, "pivot_root to %s", root);
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
            return hull_err_sys(err, "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0) return hull_err_sys(err, "detach the old root");
    }
    if (chdir("/") < 0) return hull_err_sys(err, "chdir to / of the container");
    return 0;
}

int hull_rootfs_finalize(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                         struct hull_err *err) {
    _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return hull_err_sys(err, "open /");
    int rc;
    if ((rc = hull_sysctl_apply(spec, err)) < 0) return rc;
    if ((rc = hull_readonly_paths(root_fd, spec, err)) < 0) return rc;
    if ((rc = hull_masked_paths(root_fd, spec, err)) < 0) return rc;
    if (spec->root_readonly && (rc = hull_readonly_root(err)) < 0) return rc;
    /* rootfsPropagation asked for is applied to the container's root last,
     * once nothing binds from it any more: the bind of the rootfs and the
     * readonly/masked paths would fail on an unbindable root (EINVAL), and
     * the self-bind's copy does not keep a private/unbindable of "/" that
     * prepare set. The default (rslave, set in prepare) needs nothing here. */
    unsigned long prop;
    if (spec->linux.rootfs_propagation && *spec->linux.rootfs_propagation) {
        if ((rc = root_propagation(spec, &prop, err)) < 0) return rc;
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
            return hull_err_sys(err, "set mount propagation of the container root to %s",
                                spec->linux.rootfs_propagation);
    }
    return 0;
}

int hull_set_hostname(const struct hull_spec *spec, struct hull_err *err) {
    if (spec->hostname && *spec->hostname &&
        sethostname(spec->hostname, strlen(spec->hostname)) < 0)
        return hull_err_sys(err, "set hostname \"%s\"", spec->hostname);
    if (spec->domainname && *spec->domainname &&
        setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
        return hull_err_sys(err, "set domainname \"%s\"", spec->domainname);
    return 0;
}
