/* The container's filesystem view, built by the init child inside its new mount
 * namespace (and user namespace, if any). Order, as the runtime spec wants it:
 *
 *   hull_rootfs_prepare()   propagation, rootfs bind, the mounts list in order,
 *                           /dev (default devices, linux.devices, symlinks,
 *                           /dev/pts, /dev/shm, /dev/console)
 *   ... createContainer hooks run here (host paths still visible) ...
 *   hull_rootfs_pivot()     pivot_root (or MS_MOVE + chroot with no_pivot)
 *   hull_rootfs_finalize()  sysctl, readonlyPaths, maskedPaths, readonly root,
 *                           then rootfsPropagation applied to the new "/" (last:
 *                           an unbindable root cannot be bound from)
 *
 * Every destination is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT), so
 * a symlink planted in the rootfs cannot send a mount or a write outside it. */
#ifndef HULL_LINUX_ROOTFS_H
#define HULL_LINUX_ROOTFS_H

#include <stdbool.h>
#include "base/spec.h"

struct hull_rootfs_opts {
    const char *rootfs;        /* absolute host path of the rootfs directory */
    const char *bundle;        /* absolute bundle dir: relative mount sources resolve here */
    bool no_pivot;             /* --no-pivot: MS_MOVE + chroot instead of pivot_root */
    bool in_userns;            /* running in a new user namespace: no mknod, bind devices */
    const char *console_slave; /* pty slave path when process.terminal, else NULL */
    /* Called before anything that depends on the process's own cgroup (the
     * cgroup mounts read /proc/self/cgroup). The executor moves the init into
     * its cgroup while the rest of the rootfs is prepared, and this waits for
     * it. NULL: already in place. */
    int (*before_cgroup)(void *opaque, struct hull_err *err);
    void *opaque;
};

int hull_rootfs_prepare(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                        struct hull_err *err);
int hull_rootfs_pivot(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                      struct hull_err *err);
int hull_rootfs_finalize(const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                         struct hull_err *err);

/* sethostname/setdomainname when the spec asks (needs a new UTS namespace). */
int hull_set_hostname(const struct hull_spec *spec, struct hull_err *err);

/* Path resolution confined to a root directory fd (openat2 RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS). Returns an fd or <0. */
int hull_open_in_root(int root_fd, const char *path, int flags, mode_t mode, struct hull_err *err);
/* mkdir -p of `path` inside root_fd; returns an O_PATH fd of the final dir or <0. */
int hull_mkdirs_in_root(int root_fd, const char *path, mode_t mode, struct hull_err *err);

#endif
