/* Network configs under <data_root>/networks (see network.h). */
#include "net/network.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "net/internal.h"
#include "base/fsutil.h"

void hull_netstore_path(const char *data_root, const char *rel, char *out, size_t len) {
    snprintf(out, len, "%s/networks%s%s", data_root, rel && *rel ? "/" : "", rel ? rel : "");
}

int hull_netstore_lock(const char *data_root, struct hull_err *err) {
    char dir[PATH_MAX], p[PATH_MAX];
    hull_netstore_path(data_root, NULL, dir, sizeof dir);
    if (hull_mkdir_p(dir, 0700) < 0) return hull_err_sys(err, "create %s", dir);
    hull_netstore_path(data_root, ".lock", p, sizeof p);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return hull_err_sys(err, "open %s", p);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int r = hull_err_sys(err, "lock %s", p);
            close(fd);
            return r;
        }
    }
    return fd;
}

int hull_network_validate(const struct hull_network *n, struct hull_err *err) {
    char b[HULL_CIDR_STRLEN];
    if (hull_netname_validate(n->name, err) < 0) return -err->code;
    if (hull_ifname_validate(n->bridge, err) < 0) return hull_err_prefix(err, "network %s: bridge: ", n->name);
    if (n->subnet.ip.family != AF_INET)
        return hull_err_set(err, EINVAL, "network %s: the subnet must be IPv4 (IPv6 goes in --subnet6)", n->name);
    if (n->subnet.plen < 8 || n->subnet.plen > 30)
        return hull_err_set(err, EINVAL, "network %s: subnet %s: the prefix must be /8 to /30", n->name,
                            hull_cidr_fmt(&n->subnet, b, sizeof b));
    struct hull_ip last;
    hull_cidr_nth(&n->subnet, (1ULL << hull_cidr_host_bits(&n->subnet)) - 1, &last);
    if (!hull_cidr_contains(&n->subnet, &n->gateway) || hull_ip_eq(&n->gateway, &n->subnet.ip) ||
        hull_ip_eq(&n->gateway, &last))
        return hull_err_set(err, EINVAL, "network %s: the gateway must be a host address of %s", n->name,
                            hull_cidr_fmt(&n->subnet, b, sizeof b));
    if (n->subnet6.ip.family) {
        if (n->subnet6.ip.family != AF_INET6)
            return hull_err_set(err, EINVAL, "network %s: --subnet6 must be an IPv6 prefix", n->name);
        /* every IPv4 offset must have its IPv6 twin */
        if (n->subnet6.plen > 120 || hull_cidr_host_bits(&n->subnet6) < hull_cidr_host_bits(&n->subnet))
            return hull_err_set(err, EINVAL, "network %s: subnet6 %s is too small for the IPv4 subnet (needs at "
                                "least %d host bits, at most /120)", n->name,
                                hull_cidr_fmt(&n->subnet6, b, sizeof b), hull_cidr_host_bits(&n->subnet));
        if (!hull_cidr_contains(&n->subnet6, &n->gateway6))
            return hull_err_set(err, EINVAL, "network %s: gateway6 is not inside subnet6", n->name);
    }
    return 0;
}

#include "base/json_gen.h"

int hull_network_save(const char *data_root, const struct hull_network *n, struct hull_err *err) {
    int r = hull_network_validate(n, err);
    if (r < 0) return r;
    char b[HULL_CIDR_STRLEN], dir[PATH_MAX], file[128];
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return hull_err_set(err, ENOMEM, "out of memory");
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    jg_kstr(g, "name", n->name);
    jg_kstr(g, "bridge", n->bridge);
    jg_kstr(g, "subnet", hull_cidr_fmt(&n->subnet, b, sizeof b));
    jg_kstr(g, "gateway", hull_ip_fmt(&n->gateway, b, sizeof b));
    if (n->subnet6.ip.family) {
        jg_kstr(g, "subnet6", hull_cidr_fmt(&n->subnet6, b, sizeof b));
        jg_kstr(g, "gateway6", hull_ip_fmt(&n->gateway6, b, sizeof b));
    }
    jg_kstr(g, "created", n->created);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    hull_netstore_path(data_root, NULL, dir, sizeof dir);
    snprintf(file, sizeof file, "%s.json", n->name);
    int fd = hull_mkdir_p(dir, 0700) < 0 ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    r = fd < 0 ? -1 : hull_write_file_atomic(fd, file, buf, len, 0600);
    if (r < 0) r = hull_err_sys(err, "network %s: write %s/%s", n->name, dir, file);
    if (fd >= 0) close(fd);
    yajl_gen_free(g);
    return r;
}

static const char *jstr(yajl_val root, const char *key) {
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

int hull_network_load(const char *data_root, const char *name, struct hull_network *n, struct hull_err *err) {
    memset(n, 0, sizeof *n);
    if (hull_netname_validate(name, err) < 0) return -err->code;
    char dir[PATH_MAX], file[128];
    hull_netstore_path(data_root, NULL, dir, sizeof dir);
    snprintf(file, sizeof file, "%s.json", name);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    size_t len = 0;
    char *text = fd < 0 ? NULL : hull_read_file_at(fd, file, 1 << 16, &len);
    int saved = errno;
    if (fd >= 0) close(fd);
    if (!text) {
        errno = saved;
        if (errno == ENOENT) return hull_err_set(err, ENOENT, "network \"%s\" not found (hull network ls)", name);
        return hull_err_sys(err, "network %s: read %s/%s", name, dir, file);
    }
    char ebuf[128];
    yajl_val root = yajl_tree_parse(text, ebuf, sizeof ebuf);
    free(text);
    if (!root) return hull_err_set(err, EINVAL, "network %s: %s/%s is corrupt", name, dir, file);
    int r = 0;
    const char *v;
    snprintf(n->name, sizeof n->name, "%s", name);
    if (!(v = jstr(root, "bridge")) || strlen(v) >= sizeof n->bridge) r = -EINVAL;
    else snprintf(n->bridge, sizeof n->bridge, "%s", v);
    struct hull_err e2;
    if (r == 0 && (!(v = jstr(root, "subnet")) || hull_cidr_parse(v, &n->subnet, &e2) < 0)) r = -EINVAL;
    if (r == 0 && (!(v = jstr(root, "gateway")) || hull_ip_parse(v, &n->gateway, &e2) < 0)) r = -EINVAL;
    if (r == 0 && (v = jstr(root, "subnet6")) &&
        (hull_cidr_parse(v, &n->subnet6, &e2) < 0 || !(v = jstr(root, "gateway6")) ||
         hull_ip_parse(v, &n->gateway6, &e2) < 0))
        r = -EINVAL;
    if ((v = jstr(root, "created"))) snprintf(n->created, sizeof n->created, "%s", v);
    yajl_tree_free(root);
    if (r < 0) return hull_err_set(err, EINVAL, "network %s: %s/%s is corrupt", name, dir, file);
    if (hull_network_validate(n, err) < 0) return hull_err_prefix(err, "%s/%s: ", dir, file);
    return 0;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const struct hull_network *)a)->name, ((const struct hull_network *)b)->name);
}

int hull_network_list(const char *data_root, struct hull_network **v, size_t *n, struct hull_err *err) {
    *v = NULL;
    *n = 0;
    char dir[PATH_MAX];
    hull_netstore_path(data_root, NULL, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : hull_err_sys(err, "list %s", dir);
    struct hull_vec x = {.elem = sizeof **v};
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".json") != 0) continue;
        char name[80];
        if (l - 5 >= sizeof name) continue;
        snprintf(name, sizeof name, "%.*s", (int)(l - 5), de->d_name);
        struct hull_network one;
        struct hull_err e2;
        if (hull_netname_validate(name, &e2) < 0) continue;   /* not one of ours */
        if ((r = hull_network_load(data_root, name, &one, err)) < 0) break;
        struct hull_network *slot = hull_vec_push(&x);
        if (slot) *slot = one;
    }
    closedir(d);
    if (r == 0 && x.oom) r = hull_err_set(err, ENOMEM, "out of memory");
    if (r < 0) { free(x.v); return r; }
    if (x.n) qsort(x.v, x.n, sizeof **v, cmp_name);
    *v = x.v;
    *n = x.n;
    return 0;
}

int hull_network_forget(const char *data_root, const char *name, struct hull_err *err) {
    if (hull_netname_validate(name, err) < 0) return -err->code;
    const char *suffix[] = {".leases", ".json"};   /* config last: a crash leaves a network to rm again */
    for (size_t i = 0; i < 2; i++) {
        char file[128], p[PATH_MAX];
        snprintf(file, sizeof file, "%s%s", name, suffix[i]);
        hull_netstore_path(data_root, file, p, sizeof p);
        if (unlink(p) < 0 && errno != ENOENT) return hull_err_sys(err, "remove %s", p);
    }
    return 0;
}
