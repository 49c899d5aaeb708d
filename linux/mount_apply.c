/* Mount primitives on fds, shared by mounts.c, mounts_cgroup.c and devices.c:
 * bind a host path onto an opened target, and finish an attached mount with
 * its parsed options (bind remount keeping the source's flags, recursive
 * attributes, propagation). */
#include "linux/rootfs_internal.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#define ATIME_MS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
/* Flags a user namespace locks on mounts it inherited: a remount must keep them. */
#define LOCKED_MS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | ATIME_MS | MS_NODIRATIME)

int hull_bind_onto(const char *src, int target_fd, bool recursive, const char *dest,
                   struct hull_err *err) {
    char p[HULL_FD_PATH_MAX];
    if (mount(src, hull_fd_path(target_fd, p), NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
        return hull_err_sys(err, "bind mount %s on %s", src, dest);
    return 0;
}

static int remount_bind(int mnt_fd, const char *dest, const struct hull_mount_opts *mo,
                        struct hull_err *err) {
    struct statvfs sv;
    if (fstatvfs(mnt_fd, &sv) < 0) return hull_err_sys(err, "statvfs %s", dest);
    unsigned long cur = hull_st_to_ms(sv.f_flag);
    unsigned long want = cur & ~mo->clear;
    if (mo->atime_given) want &= ~ATIME_MS;
    want |= mo->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (want == cur) return 0;
    char p[HULL_FD_PATH_MAX];
    hull_fd_path(mnt_fd, p);
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | want, NULL) == 0) return 0;
    /* In a user namespace the flags of an inherited mount are locked: keep them
     * and try once more, so "ro" on a nodev host mount still works. */
    if (errno == EPERM &&
        mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | want | (cur & LOCKED_MS), NULL) == 0)
        return 0;
    return hull_err_sys(err, "remount %s with its options", dest);
}

int hull_mount_finish(int mnt_fd, const char *dest, const struct hull_mount_opts *mo,
                      bool is_bind, struct hull_err *err) {
    if (is_bind) {
        int rc = remount_bind(mnt_fd, dest, mo, err);
        if (rc < 0) return rc;
    }
    if (mo->rec_set || mo->rec_clr) {
        struct mount_attr attr = {.attr_set = mo->rec_set, .attr_clr = mo->rec_clr};
        if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
            return hull_err_sys(err, "set recursive mount attributes on %s", dest);
    }
    char p[HULL_FD_PATH_MAX];
    hull_fd_path(mnt_fd, p);
    for (size_t i = 0; i < mo->n_propagation; i++)
        if (mount(NULL, p, NULL, mo->propagation[i], NULL) < 0)
            return hull_err_sys(err, "set mount propagation of %s", dest);
    return 0;
}
