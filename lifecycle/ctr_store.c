#include "lifecycle/ctr_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "net/net.h"
#include "base/cleanup.h"
#include "base/fsutil.h"
#include "base/state.h"

#include "base/json_gen.h"

void hull_ctr_path(const struct hull_ctr *c, const char *rel, char *out, size_t len) {
    snprintf(out, len, "%s/%s", c->dir, rel);
}

static void containers_dir(const char *data_root, char *out, size_t len) {
    snprintf(out, len, "%s/containers", data_root);
}

/* meta.json into the directory dir_fd (the record's, or its staging dir's) */
static int save_at(int dir_fd, const struct hull_ctr *c, struct hull_err *err) {
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    jg_kstr(g, "id", c->id);
    jg_kstr(g, "name", c->name);
    jg_kstr(g, "image", c->image);
    jg_kstr(g, "imageDigest", c->image_digest);
    jg_kstr(g, "command", c->command);
    jg_kstr(g, "created", c->created);
    jg_kstr(g, "finished", c->finished);
    jg_kstr(g, "status", c->status);
    jg_kint(g, "exitCode", c->exit_code);
    jg_kint(g, "monitorPid", c->monitor_pid);
    jg_kbool(g, "autoRemove", c->auto_remove);
    yajl_gen_map_close(g);
    if (jg_write_at(g, dir_fd, "meta.json", 0600) < 0) return hull_err_sys(err, "container %s: write meta.json", c->id);
    return 0;
}

int hull_ctr_save(const struct hull_ctr *c, struct hull_err *err) {
    _cleanup_close_ int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "container %s: write meta.json", c->id);
    return save_at(fd, c, err);
}

/* A record is born in <containers>/.new-<id>, locked (flock) by its maker,
 * with its meta.json (the name in it) and its directories, then renamed to
 * <id>: under its id a record always has its name. A staging dir nobody
 * holds is a maker killed before the rename; it holds nothing else (no mount,
 * no cgroup, no network yet), so it is simply removed. */
#define STAGING_PREFIX ".new-"

static void reap_staging(int cd_fd, const char *cd, const char *name) {
    _cleanup_close_ int fd = openat(cd_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) return;   /* its maker is still at work */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", cd, name);
    hull_rm_rf(p);
}

static void get(yajl_val root, const char *key, char *out, size_t len) {
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    snprintf(out, len, "%s", v && YAJL_GET_STRING(v) ? YAJL_GET_STRING(v) : "");
}

static long long get_int(yajl_val root, const char *key) {
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);
    return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

int hull_ctr_load(const char *data_root, const char *id, struct hull_ctr *c, struct hull_err *err) {
    memset(c, 0, sizeof *c);
    int rc = hull_id_validate(id, err);
    if (rc < 0) return rc;
    char cd[PATH_MAX];
    containers_dir(data_root, cd, sizeof cd);
    snprintf(c->dir, sizeof c->dir, "%s/%s", cd, id);
    int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return hull_err_set(err, ENOENT, "no such container: %s", id);
        return hull_err_sys(err, "container %s", id);
    }
    size_t len;
    char *text = hull_read_file_at(fd, "meta.json", 1 << 20, &len);
    close(fd);
    if (!text) {
        /* a record whose meta was never written (killed at birth): still removable */
        snprintf(c->id, sizeof c->id, "%s", id);
        snprintf(c->status, sizeof c->status, "unknown");
        return 0;
    }
    char ebuf[128];
    yajl_val root = yajl_tree_parse(text, ebuf, sizeof ebuf);
    free(text);
    if (!root) return hull_err_set(err, EINVAL, "container %s: meta.json is corrupt", id);
    get(root, "id", c->id, sizeof c->id);
    get(root, "name", c->name, sizeof c->name);
    get(root, "image", c->image, sizeof c->image);
    get(root, "imageDigest", c->image_digest, sizeof c->image_digest);
    get(root, "command", c->command, sizeof c->command);
    get(root, "created", c->created, sizeof c->created);
    get(root, "finished", c->finished, sizeof c->finished);
    get(root, "status", c->status, sizeof c->status);
    c->exit_code = (int)get_int(root, "exitCode");
    c->monitor_pid = (pid_t)get_int(root, "monitorPid");
    const char *path[] = {"autoRemove", NULL};
    c->auto_remove = YAJL_IS_TRUE(yajl_tree_get(root, path, yajl_t_true));
    yajl_tree_free(root);
    if (strcmp(c->id, id) != 0) snprintf(c->id, sizeof c->id, "%s", id);
    return 0;
}

static int cmp_created(const void *a, const void *b) {
    return strcmp(((const struct hull_ctr *)b)->created, ((const struct hull_ctr *)a)->created);
}

int hull_ctr_list(const char *data_root, struct hull_ctr **v, size_t *n, struct hull_err *err) {
    *v = NULL;
    *n = 0;
    char cd[PATH_MAX];
    containers_dir(data_root, cd, sizeof cd);
    DIR *d = opendir(cd);
    if (!d) return errno == ENOENT ? 0 : hull_err_sys(err, "list %s", cd);
    struct dirent *de;
    size_t cap = 0;
    while ((de = readdir(d))) {
        if (!strncmp(de->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX))) reap_staging(dirfd(d), cd, de->d_name);
        if (de->d_name[0] == '.') continue;
        struct hull_ctr c;
        struct hull_err ignored;
        if (hull_ctr_load(data_root, de->d_name, &c, &ignored) < 0) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *v = realloc(*v, cap * sizeof **v);
        }
        (*v)[(*n)++] = c;
    }
    closedir(d);
    if (*n) qsort(*v, *n, sizeof **v, cmp_created);
    return 0;
}

int hull_ctr_find(const char *data_root, const char *what, struct hull_ctr *c, struct hull_err *err) {
    struct hull_ctr *v;
    size_t n;
    int r = hull_ctr_list(data_root, &v, &n, err);
    if (r < 0) return r;
    int hits = 0;
    size_t wl = strlen(what);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].id, what) == 0 || strcmp(v[i].name, what) == 0) { *c = v[i]; hits = 1; break; }
        if (wl >= 3 && strncmp(v[i].id, what, wl) == 0) { *c = v[i]; hits++; }
    }
    free(v);
    if (hits == 1) return 0;
    if (hits > 1) return hull_err_set(err, EINVAL, "\"%s\" matches more than one container; give more of the id", what);
    return hull_err_set(err, ENOENT, "no such container: %s", what);
}

static void random_id(char out[65]) {
    unsigned char b[32];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(rand() ^ getpid() ^ (int)i);
    for (size_t i = 0; i < sizeof b; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int hull_ctr_new(const char *data_root, const char *image, const char *name, bool auto_remove,
                 struct hull_ctr *c, struct hull_err *err) {
    memset(c, 0, sizeof *c);
    random_id(c->id);
    if (name) {
        if (hull_id_validate(name, err) < 0) return hull_err_prefix(err, "--name: ");
        struct hull_ctr other;
        struct hull_err e2;
        if (hull_ctr_find(data_root, name, &other, &e2) == 0 && strcmp(other.name, name) == 0)
            return hull_err_set(err, EEXIST, "the name \"%s\" is already used by container %.12s", name, other.id);
        snprintf(c->name, sizeof c->name, "%s", name);
    } else {
        snprintf(c->name, sizeof c->name, "hull_%.8s", c->id);
    }
    snprintf(c->image, sizeof c->image, "%s", image);
    snprintf(c->status, sizeof c->status, "created");
    hull_now_rfc3339(c->created, sizeof c->created);
    c->auto_remove = auto_remove;
    char cd[PATH_MAX];
    containers_dir(data_root, cd, sizeof cd);
    if (hull_mkdir_p(cd, 0700) < 0) return hull_err_sys(err, "create %s", cd);
    snprintf(c->dir, sizeof c->dir, "%s/%s", cd, c->id);
    char staging[PATH_MAX];
    snprintf(staging, sizeof staging, "%s/" STAGING_PREFIX "%s", cd, c->id);
    if (mkdir(staging, 0700) < 0) return hull_err_sys(err, "create %s", staging);
    _cleanup_close_ int fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    int r;
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        r = hull_err_sys(err, "create %s", staging);
        goto fail;
    }
    if ((r = save_at(fd, c, err)) < 0) goto fail;
    const char *subs[] = {"bundle", "bundle/rootfs", "upper", "work"};
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (mkdirat(fd, subs[i], 0755) < 0) {
            r = hull_err_sys(err, "create %s/%s", staging, subs[i]);
            goto fail;
        }
    if (rename(staging, c->dir) < 0) {
        r = hull_err_sys(err, "create %s", c->dir);
        goto fail;
    }
    return 0;
fail:
    hull_rm_rf(staging);
    return r;
}

/* cp -a of one layer onto the rootfs, honouring overlay whiteouts (char 0:0)
 * and opaque dirs, for hosts without overlayfs. */
static int copy_layer(int src, int dst, struct hull_err *err);

int hull_ctr_mount_rootfs(const struct hull_ctr *c, char **layers, size_t n, struct hull_err *err) {
    char root[PATH_MAX], upper[PATH_MAX], work[PATH_MAX];
    hull_ctr_path(c, "bundle/rootfs", root, sizeof root);
    hull_ctr_path(c, "upper", upper, sizeof upper);
    hull_ctr_path(c, "work", work, sizeof work);
    char data[8192];
    size_t len = (size_t)snprintf(data, sizeof data, "lowerdir=");
    for (size_t i = n; i-- > 0 && len < sizeof data;)   /* overlay wants the top layer first */
        len += (size_t)snprintf(data + len, sizeof data - len, "%s%s", layers[i], i ? ":" : "");
    len += (size_t)snprintf(data + len, sizeof data - len, ",upperdir=%s,workdir=%s", upper, work);
    /* HULL_NO_OVERLAY=1 takes the copy path on purpose (tests, filesystems
     * that cannot be an overlay's upper layer). */
    const char *no = getenv("HULL_NO_OVERLAY");
    bool try_overlay = !(no && strcmp(no, "1") == 0);
    if (try_overlay && len < 4000 && n > 0 && mount("overlay", root, "overlay", 0, data) == 0) return 0;
    /* No overlayfs (or too many layers for one mount's options): a copy. */
    int dst = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dst < 0) return hull_err_sys(err, "rootfs %s", root);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        int src = open(layers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0) { r = hull_err_sys(err, "layer %s", layers[i]); break; }
        r = copy_layer(src, dst, err);
        close(src);
    }
    close(dst);
    return r;
}

#include <sys/sysmacros.h>
#include <sys/xattr.h>

static int copy_file(int sfd, int dfd, const char *name, const struct stat *st, struct hull_err *err) {
    int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return hull_err_sys(err, "copy %s", name);
    unlinkat(dfd, name, 0);
    int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
    if (out < 0) { close(in); return hull_err_sys(err, "copy %s", name); }
    char buf[65536];
    ssize_t k;
    int r = 0;
    while ((k = read(in, buf, sizeof buf)) > 0)
        if (hull_write_all(out, buf, (size_t)k) < 0) { r = hull_err_sys(err, "copy %s", name); break; }
    if (k < 0) r = hull_err_sys(err, "copy %s", name);
    if (fchown(out, st->st_uid, st->st_gid) < 0) { /* keep going: a rootless copy */ }
    fchmod(out, st->st_mode & 07777);
    close(in);
    close(out);
    return r;
}

static int copy_layer(int src, int dst, struct hull_err *err) {
    DIR *d = fdopendir(dup(src));
    if (!d) return hull_err_sys(err, "read layer");
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) { r = hull_err_sys(err, "stat %s", name); break; }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {   /* whiteout */
            struct stat t;
            if (fstatat(dst, name, &t, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(t.st_mode)) {
                    char p[64];
                    int fd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
                    if (fd >= 0) { hull_rm_rf(p); close(fd); }
                    unlinkat(dst, name, AT_REMOVEDIR);
                } else {
                    unlinkat(dst, name, 0);
                }
            }
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            char opq[2];
            int sub_s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_s < 0) { r = hull_err_sys(err, "open %s", name); break; }
            struct stat t;
            if (fstatat(dst, name, &t, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(t.st_mode)) unlinkat(dst, name, 0);
            bool opaque = fgetxattr(sub_s, "trusted.overlay.opaque", opq, sizeof opq) == 1 && opq[0] == 'y';
            if (mkdirat(dst, name, st.st_mode & 07777) < 0 && errno != EEXIST) { close(sub_s); r = hull_err_sys(err, "mkdir %s", name); break; }
            int sub_d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub_d < 0) { close(sub_s); r = hull_err_sys(err, "open %s", name); break; }
            if (opaque) {   /* an opaque dir hides what the lower layers put there */
                DIR *od = fdopendir(dup(sub_d));
                struct dirent *oe;
                while (od && (oe = readdir(od)))
                    if (strcmp(oe->d_name, ".") && strcmp(oe->d_name, "..")) {
                        char p[64];
                        snprintf(p, sizeof p, "/proc/self/fd/%d/%s", sub_d, oe->d_name);
                        hull_rm_rf(p);
                    }
                if (od) closedir(od);
            }
            if (fchown(sub_d, st.st_uid, st.st_gid) < 0) { /* rootless copy */ }
            fchmod(sub_d, st.st_mode & 07777);
            r = copy_layer(sub_s, sub_d, err);
            close(sub_s);
            close(sub_d);
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t k = readlinkat(src, name, target, sizeof target - 1);
            if (k < 0) { r = hull_err_sys(err, "readlink %s", name); break; }
            target[k] = '\0';
            unlinkat(dst, name, 0);
            if (symlinkat(target, dst, name) < 0) r = hull_err_sys(err, "symlink %s", name);
            else if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) { /* rootless */ }
        } else if (S_ISREG(st.st_mode)) {
            r = copy_file(src, dst, name, &st, err);
        } else {
            unlinkat(dst, name, 0);
            if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) r = hull_err_sys(err, "mknod %s", name);
        }
    }
    closedir(d);
    return r;
}

int hull_ctr_umount_rootfs(const struct hull_ctr *c, struct hull_err *err) {
    char root[PATH_MAX];
    hull_ctr_path(c, "bundle/rootfs", root, sizeof root);
    if (umount2(root, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return hull_err_sys(err, "unmount %s", root);
    return 0;
}

int hull_ctr_remove(const struct hull_ctr *c, struct hull_err *err) {
    int r = hull_ctr_umount_rootfs(c, err);
    if (r < 0) return r;
    /* its lease and published ports go first: a crash after this leaves a
     * record `rm` can remove again, never an address nobody can reclaim */
    char data_root[PATH_MAX];
    size_t dl = strlen(c->dir), il = strlen(c->id), sl = strlen("/containers/");
    if (il && dl > il + sl && !strcmp(c->dir + dl - il, c->id) && !strncmp(c->dir + dl - il - sl, "/containers/", sl)) {
        snprintf(data_root, sizeof data_root, "%.*s", (int)(dl - il - sl), c->dir);
        if ((r = hull_net_release(data_root, c->id, false, err)) < 0) return r;
    }
    if (hull_rm_rf(c->dir) < 0 && errno != ENOENT) return hull_err_sys(err, "remove %s", c->dir);
    return 0;
}
