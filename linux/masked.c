/* linux.readonlyPaths, linux.maskedPaths and root.readonly, applied after the
 * pivot (so "/" is the container's root and host paths are gone).
 *
 * These use the fd-based mount API (open_tree/move_mount/fsopen/fsmount and
 * mount_setattr): the target is an fd resolved inside the root, and the new
 * mount is fully configured (read-only) before it is attached, so there is no
 * window with a writable bind and no need for /proc/self/fd (which may not
 * exist if the spec mounts no proc). Missing paths are skipped, as the spec
 * asks. */
#include "linux/rootfs_internal.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Opens path inside the root; 0 with *fd = -1 when it does not exist. */
static int open_existing(int root_fd, const char *path, int *fd, struct hull_err *err) {
    *fd = -1;
    if (!path || path[0] != '/') return hull_err_set(err, EINVAL, "%s: path must be absolute",
                                                     path ? path : "(null)");
    struct hull_err e2;
    int r = hull_open_in_root(root_fd, path, O_PATH, 0, &e2);
    if (r == -ENOENT || r == -ENOTDIR) return 0;
    if (r < 0) {
        if (err) *err = e2;
        return r;
    }
    *fd = r;
    return 0;
}

static int attach(int tree_fd, int target_fd, const char *what, const char *path,
                  struct hull_err *err) {
    if (move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return hull_err_sys(err, "%s %s: attach mount", what, path);
    return 0;
}

int hull_readonly_paths(int root_fd, const struct hull_spec *spec, struct hull_err *err) {
    for (size_t i = 0; i < spec->linux.n_readonly_paths; i++) {
        const char *path = spec->linux.readonly_paths[i];
        _cleanup_close_ int fd = -1;
        int rc = open_existing(root_fd, path, &fd, err);
        if (rc < 0) return hull_err_prefix(err, "readonly path: ");
        if (fd < 0) continue;
        /* a recursive clone of whatever is there, made read-only as a whole;
         * nosuid/nodev/noexec of the original are kept by mount_setattr */
        _cleanup_close_ int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                         AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0) return hull_err_sys(err, "readonly path %s: clone mount", path);
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
            return hull_err_sys(err, "readonly path %s: make read-only", path);
        if ((rc = attach(tree, fd, "readonly path", path, err)) < 0) return rc;
    }
    return 0;
}

static int mask_dir(int fd, const char *path, struct hull_err *err) {
    _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return hull_err_sys(err, "masked path %s: fsopen tmpfs", path);
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return hull_err_sys(err, "masked path %s: create tmpfs", path);
    _cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                                               MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0) return hull_err_sys(err, "masked path %s: fsmount tmpfs", path);
    return attach(mnt, fd, "masked path", path, err);
}

static int mask_file(int root_fd, int fd, const char *path, struct hull_err *err) {
    /* the container's own /dev/null, checked to be the real device */
    _cleanup_close_ int null_fd = -1;
    struct hull_err e2;
    null_fd = hull_open_in_root(root_fd, "/dev/null", O_PATH | O_NOFOLLOW, 0, &e2);
    struct stat st;
    if (null_fd < 0 || fstat(null_fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return hull_err_set(err, ENODEV, "masked path %s: the container has no /dev/null device", path);
    _cleanup_close_ int tree = open_tree(null_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) return hull_err_sys(err, "masked path %s: clone /dev/null", path);
    return attach(tree, fd, "masked path", path, err);
}

int hull_masked_paths(int root_fd, const struct hull_spec *spec, struct hull_err *err) {
    for (size_t i = 0; i < spec->linux.n_masked_paths; i++) {
        const char *path = spec->linux.masked_paths[i];
        _cleanup_close_ int fd = -1;
        int rc = open_existing(root_fd, path, &fd, err);
        if (rc < 0) return hull_err_prefix(err, "masked path: ");
        if (fd < 0) continue;
        struct stat st;
        if (fstat(fd, &st) < 0) return hull_err_sys(err, "masked path %s: stat", path);
        rc = S_ISDIR(st.st_mode) ? mask_dir(fd, path, err) : mask_file(root_fd, fd, path, err);
        if (rc < 0) return rc;
    }
    return 0;
}

int hull_readonly_root(struct hull_err *err) {
    /* only the root mount itself: mounts below keep what the spec gave them */
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) == 0) return 0;
    if (errno != ENOSYS) return hull_err_sys(err, "remount / read-only");
    struct statvfs sv;
    if (statvfs("/", &sv) < 0) return hull_err_sys(err, "statvfs /");
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | hull_st_to_ms(sv.f_flag), NULL) < 0)
        return hull_err_sys(err, "remount / read-only");
    return 0;
}
