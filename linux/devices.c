/* /dev inside the container: the default devices, linux.devices, the
 * conventional symlinks, /dev/pts and /dev/shm when the mounts list did not
 * provide them, and /dev/console bound from the pty slave.
 *
 * Nodes are made with mknodat() relative to the parent directory opened inside
 * the rootfs, after removing whatever non-directory sat there (a symlink
 * planted in the image must not make us write through it). In a user
 * namespace mknod of devices is refused, so an empty file is created and the
 * host's node is bind-mounted on it; the host source is checked to really be
 * that device, so a hostile "path" cannot pull an arbitrary host file in. */
#include "linux/rootfs_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct node {
    const char *path;
    char type;              /* 'c', 'b', 'u', 'p' */
    unsigned maj, min;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

static const struct node default_nodes[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

/* "/dev//pts/" and "/dev/pts" are the same destination. */
static bool same_path(const char *a, const char *b) {
    for (;;) {
        while (*a == '/' && (a[1] == '/' || a[1] == '\0')) a++;
        while (*b == '/' && (b[1] == '/' || b[1] == '\0')) b++;
        if (*a != *b) return false;
        if (!*a) return true;
        a++, b++;
    }
}

static const struct hull_mount *find_mount(const struct hull_spec *spec, const char *dest) {
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (spec->mounts[i].destination && same_path(spec->mounts[i].destination, dest))
            return &spec->mounts[i];
    return NULL;
}

/* Clears the way for a new node: anything but a directory is unlinked. */
static int clear_entry(int pfd, const char *base, const char *path, struct hull_err *err) {
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) return 0;
    if (S_ISDIR(st.st_mode))
        return hull_err_set(err, EISDIR, "create device %s: a directory is in the way", path);
    if (unlinkat(pfd, base, 0) < 0) return hull_err_sys(err, "create device %s: remove old entry", path);
    return 0;
}

static int bind_node(int pfd, const char *base, const struct node *n, mode_t ifmt,
                     struct hull_err *err) {
    struct stat hst;
    if (stat(n->path, &hst) < 0) return hull_err_sys(err, "bind device %s from the host", n->path);
    if ((hst.st_mode & S_IFMT) != ifmt || hst.st_rdev != makedev(n->maj, n->min))
        return hull_err_set(err, EPERM, "bind device %s from the host: the host file is not device %u:%u",
                            n->path, n->maj, n->min);
    int f = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (f < 0) return hull_err_sys(err, "create mount target for device %s", n->path);
    close(f);
    _cleanup_close_ int tfd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (tfd < 0) return hull_err_sys(err, "open mount target for device %s", n->path);
    return hull_bind_onto(n->path, tfd, false, n->path, err);
}

static int make_node(int root_fd, const struct node *n, bool in_userns, struct hull_err *err) {
    char base[NAME_MAX + 1];
    _cleanup_close_ int pfd = hull_parent_in_root(root_fd, n->path, base, sizeof base, err);
    if (pfd < 0) return hull_err_prefix(err, "create device %s: ", n->path);
    mode_t ifmt;
    switch (n->type) {
    case 'c': case 'u': ifmt = S_IFCHR; break;
    case 'b': ifmt = S_IFBLK; break;
    case 'p': ifmt = S_IFIFO; break;
    default: return hull_err_set(err, EINVAL, "device %s: unknown type '%c'", n->path, n->type);
    }
    int rc = clear_entry(pfd, base, n->path, err);
    if (rc < 0) return rc;
    dev_t dev = ifmt == S_IFIFO ? 0 : makedev(n->maj, n->min);
    if (ifmt != S_IFIFO && in_userns) return bind_node(pfd, base, n, ifmt, err);
    if (mknodat(pfd, base, ifmt | (n->mode & 07777), dev) < 0) {
        if (errno == EPERM && ifmt != S_IFIFO) return bind_node(pfd, base, n, ifmt, err);
        return hull_err_sys(err, "mknod %s", n->path);
    }
    /* mknod applied the umask; the spec's mode is exact */
    if (fchmodat(pfd, base, n->mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
        return hull_err_sys(err, "chmod %s", n->path);
    if (fchownat(pfd, base, n->uid, n->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return hull_err_sys(err, "chown %s", n->path);
    return 0;
}

static int make_symlinks(int root_fd, struct hull_err *err) {
    static const char *const links[][2] = {
        {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
        {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
    };
    _cleanup_close_ int dfd = hull_mkdirs_in_root(root_fd, "/dev", 0755, err);
    if (dfd < 0) return dfd;
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        if (symlinkat(links[i][1], dfd, links[i][0]) < 0 && errno != EEXIST)
            return hull_err_sys(err, "symlink /dev/%s", links[i][0]);
    if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dfd, "core") < 0 && errno != EEXIST)
        return hull_err_sys(err, "symlink /dev/core");
    /* /dev/ptmx must be the one of the container's devpts instance */
    int rc = clear_entry(dfd, "ptmx", "/dev/ptmx", err);
    if (rc < 0) return rc;
    if (symlinkat("pts/ptmx", dfd, "ptmx") < 0) return hull_err_sys(err, "symlink /dev/ptmx");
    return 0;
}

static int mount_default(int root_fd, const char *dest, const char *type, unsigned long flags,
                         const char *data, const char *fallback_data, struct hull_err *err) {
    _cleanup_close_ int tfd = hull_mkdirs_in_root(root_fd, dest, 0755, err);
    if (tfd < 0) return tfd;
    char p[HULL_FD_PATH_MAX];
    hull_fd_path(tfd, p);
    if (mount(type, p, type, flags, data) == 0) return 0;
    /* e.g. gid=5 does not exist in the user namespace's mapping */
    if (fallback_data && errno == EINVAL && mount(type, p, type, flags, fallback_data) == 0) return 0;
    return hull_err_sys(err, "mount %s on %s", type, dest);
}

int hull_devices_setup(int root_fd, const struct hull_spec *spec, const struct hull_rootfs_opts *o,
                       struct hull_err *err) {
    const struct hull_mount *devm = find_mount(spec, "/dev");
    bool own_dev = devm && ((devm->type && !strcmp(devm->type, "bind")) ||
                            (devm->source && devm->source[0] == '/' &&
                             (!devm->type || !strcmp(devm->type, "none"))));
    int rc;
    if (!own_dev) {
        /* a bind-mounted /dev is the user's own: leave it alone */
        for (size_t i = 0; i < sizeof default_nodes / sizeof default_nodes[0]; i++)
            if ((rc = make_node(root_fd, &default_nodes[i], o->in_userns, err)) < 0) return rc;
        if ((rc = make_symlinks(root_fd, err)) < 0) return rc;
        if (!find_mount(spec, "/dev/pts") &&
            (rc = mount_default(root_fd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                                "newinstance,ptmxmode=0666,mode=0620,gid=5",
                                "newinstance,ptmxmode=0666,mode=0620", err)) < 0)
            return rc;
        if (!find_mount(spec, "/dev/shm") &&
            (rc = mount_default(root_fd, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                "mode=1777,size=65536k", NULL, err)) < 0)
            return rc;
    }
    for (size_t i = 0; i < spec->linux.n_devices; i++) {
        const struct hull_device *d = &spec->linux.devices[i];
        if (!d->path || d->path[0] != '/')
            return hull_err_set(err, EINVAL, "linux.devices[%zu]: path must be absolute", i);
        if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
            return hull_err_set(err, EINVAL, "device %s: major/minor out of range", d->path);
        struct node n = {
            .path = d->path, .type = d->type,
            .maj = (unsigned)d->major, .min = (unsigned)d->minor,
            .mode = d->file_mode.set ? (mode_t)(d->file_mode.v & 07777) : 0666,
            .uid = d->uid.set ? (uid_t)d->uid.v : 0,
            .gid = d->gid.set ? (gid_t)d->gid.v : 0,
        };
        if ((rc = make_node(root_fd, &n, o->in_userns, err)) < 0) return rc;
    }
    if (o->console_slave) {
        /* the pty slave becomes /dev/console (an empty file is the mount target) */
        _cleanup_close_ int cfd = hull_mkfile_in_root(root_fd, "/dev/console", 0, err);
        if (cfd < 0) return cfd;
        if ((rc = hull_bind_onto(o->console_slave, cfd, false, "/dev/console", err)) < 0) return rc;
    }
    return 0;
}
