/* One entry of the spec's mounts list.
 *
 * The destination is opened inside the rootfs first (created as a directory, or
 * as an empty file when a file is bind-mounted), and the mount is made on
 * /proc/self/fd/N of that fd: whatever symlinks the rootfs holds, the mount
 * lands on the object we resolved, inside the rootfs. Binds take two steps
 * because MS_BIND ignores every other flag on the first call; the remount
 * keeps the flags of the source mount unless an option turned one off (so
 * binding a nosuid host mount never makes it suid by accident). */
#include "linux/rootfs_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Refuses to mount over the rootfs itself ("/", "/..", "." all land there). */
static int check_not_root(int root_fd, int fd, const char *dest, struct hull_err *err) {
    struct stat a, b;
    if (fstat(root_fd, &a) < 0 || fstat(fd, &b) < 0) return hull_err_sys(err, "stat %s", dest);
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return hull_err_set(err, EINVAL, "mount destination %s is the container root", dest);
    return 0;
}

static int bind_entry(int root_fd, const struct hull_mount *m, const struct hull_mount_opts *mo,
                      const struct hull_rootfs_opts *o, struct hull_err *err) {
    const char *dest = m->destination;
    if (!m->source || !*m->source)
        return hull_err_set(err, EINVAL, "bind mount on %s: no source", dest);
    _cleanup_free_ char *src = NULL;
    if (m->source[0] != '/' && o->bundle) {
        if (asprintf(&src, "%s/%s", o->bundle, m->source) < 0) {
            src = NULL;
            return hull_err_set(err, ENOMEM, "bind mount on %s: out of memory", dest);
        }
    } else if (!(src = strdup(m->source))) {
        return hull_err_set(err, ENOMEM, "bind mount on %s: out of memory", dest);
    }
    struct stat sst, tst;
    if (stat(src, &sst) < 0) return hull_err_sys(err, "bind mount on %s: source %s", dest, src);

    _cleanup_close_ int tfd = S_ISDIR(sst.st_mode) ? hull_mkdirs_in_root(root_fd, dest, 0755, err)
                                                   : hull_mkfile_in_root(root_fd, dest, 0644, err);
    if (tfd < 0) return hull_err_prefix(err, "bind mount %s: ", src);
    int rc = check_not_root(root_fd, tfd, dest, err);
    if (rc < 0) return rc;
    if (fstat(tfd, &tst) < 0) return hull_err_sys(err, "stat %s", dest);
    if (S_ISDIR(sst.st_mode) != S_ISDIR(tst.st_mode))
        return hull_err_set(err, ENOTDIR, "bind mount %s on %s: %s", src, dest,
                            S_ISDIR(sst.st_mode) ? "the destination is not a directory"
                                                 : "the destination is a directory, the source is not");
    rc = hull_bind_onto(src, tfd, mo->flags & MS_REC, dest, err);
    if (rc < 0) return rc;
    _cleanup_close_ int mfd = hull_open_in_root(root_fd, dest, O_PATH, 0, err);
    if (mfd < 0) return mfd;
    return hull_mount_finish(mfd, dest, mo, true, err);
}

static int fs_entry(int root_fd, const struct hull_mount *m, const struct hull_mount_opts *mo,
                    const struct hull_rootfs_opts *o, struct hull_err *err) {
    const char *dest = m->destination, *type = m->type;
    _cleanup_close_ int tfd = hull_mkdirs_in_root(root_fd, dest, 0755, err);
    if (tfd < 0) return hull_err_prefix(err, "mount %s on %s: ", type, dest);
    int rc = check_not_root(root_fd, tfd, dest, err);
    if (rc < 0) return rc;

    char p[HULL_FD_PATH_MAX];
    const char *source = m->source && *m->source ? m->source : type;
    bool as_bind = false;
    if (mount(source, hull_fd_path(tfd, p), type, mo->flags & ~MS_REC, mo->data) < 0) {
        /* sysfs belongs to the network namespace: in a user namespace without
         * its own netns the kernel refuses it, so give the host's view, read
         * through a recursive bind (what runc does too). */
        if (!(errno == EPERM && o->in_userns && !strcmp(type, "sysfs")))
            return hull_err_sys(err, "mount %s on %s", type, dest);
        rc = hull_bind_onto("/sys", tfd, true, dest, err);
        if (rc < 0) return rc;
        as_bind = true;
    }
    _cleanup_close_ int mfd = hull_open_in_root(root_fd, dest, O_PATH, 0, err);
    if (mfd < 0) return mfd;
    return hull_mount_finish(mfd, dest, mo, as_bind, err);
}

int hull_mount_entry(int root_fd, const struct hull_spec *spec, const struct hull_mount *m,
                     const struct hull_rootfs_opts *o, struct hull_err *err) {
    if (!m->destination || !*m->destination)
        return hull_err_set(err, EINVAL, "mount: empty destination");
    if (m->n_uid_mappings || m->n_gid_mappings)
        return hull_err_set(err, ENOTSUP, "mount on %s: idmapped mounts are not supported",
                            m->destination);
    struct hull_mount_opts mo;
    int rc = hull_mount_opts_parse(m->options, m->n_options, &mo, err);
    if (rc < 0) return hull_err_prefix(err, "mount on %s: ", m->destination);

    bool is_bind = (mo.flags & MS_BIND) || (m->type && !strcmp(m->type, "bind"));
    if (is_bind)
        rc = bind_entry(root_fd, m, &mo, o, err);
    else if (!m->type || !*m->type)
        rc = hull_err_set(err, EINVAL, "mount on %s: no type and not a bind mount", m->destination);
    else if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"))
        rc = hull_mount_cgroup(root_fd, spec, m, &mo, o, err);
    else
        rc = fs_entry(root_fd, m, &mo, o, err);
    hull_mount_opts_free(&mo);
    return rc;
}
