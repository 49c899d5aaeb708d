/* The "cgroup"/"cgroup2" entries of the mounts list.
 *
 * cgroup2 (type cgroup2, or a unified host): with a cgroup namespace the
 * filesystem is mounted directly (the kernel roots it at the namespace);
 * without one, the container's own cgroup directory on the host is bind-mounted.
 * cgroup v1 / hybrid: a tmpfs at the destination, then one directory per
 * hierarchy listed in /proc/self/cgroup (plus the unified one in hybrid mode),
 * each a direct mount with a cgroup namespace or a bind of the host directory,
 * and symlinks for co-mounted controllers ("cpu" -> "cpu,cpuacct").
 * Everything is read-only unless the options say "rw". */
#include "linux/rootfs_internal.h"
#include "base/mountinfo.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

static bool spec_has_ns(const struct hull_spec *spec, int ns_type) {
    for (size_t i = 0; i < spec->linux.n_namespaces; i++)
        if ((int)spec->linux.namespaces[i].type == ns_type) return true;
    return false;
}

struct cg_ctx {
    int root_fd;
    const char *dest;
    unsigned long flags;
    bool cgns;
    const struct hull_mount_opts *mo;
};

static bool has_token(const char *list, const char *tok, size_t len) {
    for (const char *p = list; *p;) {
        const char *e = strchrnul(p, ',');
        if ((size_t)(e - p) == len && !strncmp(p, tok, len)) return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

struct hierarchy {
    const char *fstype, *ctrls;
    char *mnt, *root;
    size_t mlen, rlen;
};

static int match_hierarchy(struct hull_mountinfo *m, void *arg) {
    struct hierarchy *h = arg;
    if (strcmp(m->fstype, h->fstype)) return 0;
    for (const char *p = h->ctrls; p && *p;) {
        const char *e = strchrnul(p, ',');
        if (!has_token(m->super_options, p, (size_t)(e - p))) return 0;
        p = *e ? e + 1 : e;
    }
    snprintf(h->root, h->rlen, "%s", m->root);
    snprintf(h->mnt, h->mlen, "%s", m->mount_point);
    return 1;
}

/* Finds the host mount of the hierarchy: fstype matches and, for v1, every
 * controller of `ctrls` is in the super options. Fills mountpoint and root. */
static int find_hierarchy(const char *fstype, const char *ctrls, char *mnt, size_t mlen,
                          char *root, size_t rlen) {
    _cleanup_close_ int fd = hull_mountinfo_open();
    if (fd < 0) return fd;
    struct hierarchy h = { fstype, ctrls, mnt, root, mlen, rlen };
    int rc = hull_mountinfo_each(fd, match_hierarchy, &h);
    return rc > 0 ? 0 : rc < 0 ? rc : -ENOENT;
}

/* Host directory of our own cgroup in a hierarchy: mountpoint + (path - root). */
static int host_cgroup_dir(const char *fstype, const char *ctrls, const char *path, char *out,
                           size_t len) {
    char mnt[PATH_MAX], root[PATH_MAX];
    int rc = find_hierarchy(fstype, ctrls, mnt, sizeof mnt, root, sizeof root);
    if (rc < 0) return rc;
    size_t rl = strlen(root);
    const char *rel = path;
    if (!strcmp(root, "/")) rel = path;
    else if (!strncmp(path, root, rl) && (path[rl] == '/' || path[rl] == '\0')) rel = path + rl;
    else rel = "";  /* our cgroup is outside what the host mounted: expose its root */
    snprintf(out, len, "%s%s", mnt, rel);
    return 0;
}

/* Mounts one hierarchy at <dest>/<sub> ("" for dest itself). */
static int mount_hierarchy(const struct cg_ctx *c, const char *sub, const char *fstype,
                           const char *ctrls, const char *path, struct hull_err *err) {
    char dest[PATH_MAX];
    snprintf(dest, sizeof dest, "%s%s%s", c->dest, *sub ? "/" : "", sub);
    _cleanup_close_ int tfd = hull_mkdirs_in_root(c->root_fd, dest, 0755, err);
    if (tfd < 0) return tfd;
    char p[HULL_FD_PATH_MAX];
    hull_fd_path(tfd, p);
    if (c->cgns) {
        /* v1 hierarchies are selected by the controller list as mount data */
        const char *data = strcmp(fstype, "cgroup") ? NULL : ctrls;
        if (mount(fstype, p, fstype, c->flags, data) == 0) return 0;
        /* v1 cannot be mounted from a user namespace: fall back to the bind */
    }
    char host[PATH_MAX];
    int rc = host_cgroup_dir(fstype, strcmp(fstype, "cgroup") ? NULL : ctrls, path, host, sizeof host);
    if (rc < 0) {
        errno = -rc;
        return hull_err_sys(err, "mount cgroup on %s: host %s hierarchy %s", dest, fstype,
                            ctrls ? ctrls : "");
    }
    rc = hull_bind_onto(host, tfd, false, dest, err);
    if (rc < 0) return rc;
    _cleanup_close_ int mfd = hull_open_in_root(c->root_fd, dest, O_PATH, 0, err);
    if (mfd < 0) return mfd;
    struct hull_mount_opts ro = {.flags = c->flags, .clear = c->mo->clear,
                                 .atime_given = c->mo->atime_given};
    return hull_mount_finish(mfd, dest, &ro, true, err);
}

static int mount_v1_tree(const struct cg_ctx *c, struct hull_err *err) {
    _cleanup_close_ int tfd = hull_mkdirs_in_root(c->root_fd, c->dest, 0755, err);
    if (tfd < 0) return tfd;
    char p[HULL_FD_PATH_MAX];
    if (mount("tmpfs", hull_fd_path(tfd, p), "tmpfs", (c->flags & ~MS_RDONLY), "mode=755") < 0)
        return hull_err_sys(err, "mount tmpfs for cgroups on %s", c->dest);

    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return hull_err_sys(err, "mount cgroup on %s: open /proc/self/cgroup", c->dest);
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *ctrls = strchr(line, ':');
        char *path = ctrls ? strchr(ctrls + 1, ':') : NULL;
        if (!path) continue;
        *ctrls++ = '\0';
        *path++ = '\0';
        if (!*ctrls) {
            /* hybrid: the unified hierarchy, only if the host mounts one */
            char m[PATH_MAX], r[PATH_MAX];
            if (find_hierarchy("cgroup2", NULL, m, sizeof m, r, sizeof r) < 0) continue;
            rc = mount_hierarchy(c, "unified", "cgroup2", NULL, path, err);
            continue;
        }
        const char *sub = !strncmp(ctrls, "name=", 5) ? ctrls + 5 : ctrls;
        if (!*sub || strchr(sub, '/') || !strcmp(sub, ".") || !strcmp(sub, "..")) continue;
        rc = mount_hierarchy(c, sub, "cgroup", ctrls, path, err);
        if (rc < 0 || !strchr(sub, ',')) continue;
        /* co-mounted controllers: one symlink per controller, as hosts have */
        _cleanup_close_ int dfd = hull_open_in_root(c->root_fd, c->dest, O_PATH | O_DIRECTORY, 0, err);
        if (dfd < 0) { rc = dfd; break; }
        char *copy = strdup(sub), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
            if (symlinkat(sub, dfd, t) < 0 && errno != EEXIST) {
                rc = hull_err_sys(err, "symlink %s/%s", c->dest, t);
                break;
            }
        free(copy);
    }
    free(line);
    fclose(f);
    if (rc < 0) return rc;
    if (c->flags & MS_RDONLY) {
        _cleanup_close_ int mfd = hull_open_in_root(c->root_fd, c->dest, O_PATH, 0, err);
        if (mfd < 0) return mfd;
        if (mount(NULL, hull_fd_path(mfd, p), NULL, MS_REMOUNT | MS_BIND | c->flags, NULL) < 0)
            return hull_err_sys(err, "remount %s read-only", c->dest);
    }
    return 0;
}

static int own_cgroup2_path(char *out, size_t len) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return -errno;
    char *line = NULL;
    size_t cap = 0;
    int rc = -ENOENT;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        if (!strncmp(line, "0::", 3)) {
            snprintf(out, len, "%s", line + 3);
            rc = 0;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

int hull_mount_cgroup(int root_fd, const struct hull_spec *spec, const struct hull_mount *m,
                      const struct hull_mount_opts *mo, const struct hull_rootfs_opts *o,
                      struct hull_err *err) {
    if (o->before_cgroup) {
        int r = o->before_cgroup(o->opaque, err);
        if (r < 0) return r;
    }
    struct cg_ctx c = {
        .root_fd = root_fd,
        .dest = m->destination,
        .flags = (mo->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) | (mo->has_rw ? 0 : MS_RDONLY),
        .cgns = spec_has_ns(spec, HULL_NS_CGROUP),
        .mo = mo,
    };
    struct statfs sf;
    bool unified = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
    int rc;
    if (!strcmp(m->type, "cgroup2") || unified) {
        char path[PATH_MAX];
        if (own_cgroup2_path(path, sizeof path) < 0) snprintf(path, sizeof path, "/");
        rc = mount_hierarchy(&c, "", "cgroup2", NULL, path, err);
    } else {
        rc = mount_v1_tree(&c, err);
    }
    if (rc < 0) return rc;
    /* propagation and recursive attributes, as for any other mount */
    _cleanup_close_ int mfd = hull_open_in_root(root_fd, m->destination, O_PATH, 0, err);
    if (mfd < 0) return mfd;
    struct hull_mount_opts rest = *mo;
    rest.flags = 0;
    return hull_mount_finish(mfd, m->destination, &rest, false, err);
}
