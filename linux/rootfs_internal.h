/* Pieces shared by the rootfs implementation files (safe_path.c, mount_opts.c,
 * mounts.c, mount_apply.c, mounts_cgroup.c, devices.c, sysctl.c, masked.c, rootfs.c).
 * Not a public contract: callers outside linux/ use rootfs.h. */
#ifndef HULL_LINUX_ROOTFS_INTERNAL_H
#define HULL_LINUX_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "linux/rootfs.h"

/* ---- safe_path.c ------------------------------------------------------ */

/* "/proc/self/fd/N": the magic link mount(2) follows to exactly the object the
 * fd was opened on, so a later symlink swap in the rootfs cannot redirect it. */
#define HULL_FD_PATH_MAX 32
const char *hull_fd_path(int fd, char buf[HULL_FD_PATH_MAX]);

/* Creates (if missing) a regular file to serve as the target of a file bind
 * mount, parents included; returns an O_PATH fd of it or <0. A dangling
 * symlink on the way is followed inside the root, never out of it. */
int hull_mkfile_in_root(int root_fd, const char *path, mode_t mode, struct hull_err *err);

/* Splits path into an O_PATH fd of its parent directory (created if missing)
 * and its last component (copied into base). Refuses "", "/", "." and "..". */
int hull_parent_in_root(int root_fd, const char *path, char *base, size_t base_len,
                        struct hull_err *err);

/* ---- mount_opts.c ----------------------------------------------------- */

#define HULL_MAX_PROPAGATION 8

struct hull_mount_opts {
    unsigned long flags;        /* MS_* to set (MS_BIND/MS_REC for bind/rbind) */
    unsigned long clear;        /* MS_* explicitly turned off ("rw", "suid", ...) */
    unsigned long propagation[HULL_MAX_PROPAGATION]; /* applied in order */
    size_t n_propagation;
    uint64_t rec_set, rec_clr;  /* MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE) */
    bool has_rw;                /* "rw" written explicitly */
    bool atime_given;           /* an atime option replaces the inherited one */
    char *data;                 /* unknown options, comma-joined (malloc'd), or NULL */
};

int hull_mount_opts_parse(char *const *opts, size_t n, struct hull_mount_opts *out,
                          struct hull_err *err);
void hull_mount_opts_free(struct hull_mount_opts *o);
/* statvfs f_flag (ST_*) -> MS_* for the flags a bind remount must keep. */
unsigned long hull_st_to_ms(unsigned long st_flags);

/* ---- mounts.c --------------------------------------------------------- */

/* Mount `m` with the root confined to root_fd. */
int hull_mount_entry(int root_fd, const struct hull_spec *spec, const struct hull_mount *m,
                     const struct hull_rootfs_opts *o, struct hull_err *err);

/* ---- mount_apply.c ---------------------------------------------------- */

/* Applies the parsed options on an already-attached mount: remount flags,
 * recursive attributes, propagation. mnt_fd is an O_PATH fd of the mount top. */
int hull_mount_finish(int mnt_fd, const char *dest, const struct hull_mount_opts *mo,
                      bool is_bind, struct hull_err *err);
/* bind `src` (host path) onto target_fd, optionally recursive; returns 0/<0. */
int hull_bind_onto(const char *src, int target_fd, bool recursive, const char *dest,
                   struct hull_err *err);

/* ---- mounts_cgroup.c -------------------------------------------------- */

int hull_mount_cgroup(int root_fd, const struct hull_spec *spec, const struct hull_mount *m,
                      const struct hull_mount_opts *mo, const struct hull_rootfs_opts *o,
                      struct hull_err *err);

/* ---- devices.c -------------------------------------------------------- */

int hull_devices_setup(int root_fd, const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                       struct hull_err *err);

/* ---- sysctl.c --------------------------------------------------------- */

/* Turns "net.ipv4.ip_forward" into "net/ipv4/ip_forward" (sysctl(8) rules:
 * when the first separator is '.', dots and slashes swap). Refuses keys that
 * are empty or whose components are "", "." or "..". */
int hull_sysctl_key_to_path(const char *key, char *out, size_t len, struct hull_err *err);
int hull_sysctl_apply(const struct hull_spec *spec, struct hull_err *err);

/* ---- masked.c --------------------------------------------------------- */

int hull_readonly_paths(int root_fd, const struct hull_spec *spec, struct hull_err *err);
int hull_masked_paths(int root_fd, const struct hull_spec *spec, struct hull_err *err);
int hull_readonly_root(struct hull_err *err);

#endif
