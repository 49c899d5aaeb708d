/* What hull knows about one container's networking, kept in its directory
 * (net.json), and the names derived from its id (see internal.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "net/etcfiles.h"
#include "net/internal.h"
#include "base/fsutil.h"

static const char *const mode_names[] = {
    [HULL_NET_BRIDGE] = "bridge", [HULL_NET_NONE] = "none", [HULL_NET_HOST] = "host",
    [HULL_NET_NS] = "ns", [HULL_NET_CONTAINER] = "container",
};

const char *hull_net_mode_name(enum hull_net_mode m) {
    return (unsigned)m < sizeof mode_names / sizeof *mode_names ? mode_names[m] : "?";
}

void hull_net_ctr_dir(const char *data_root, const char *id, char *out, size_t len) {
    snprintf(out, len, "%s/containers/%s", data_root, id);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

void hull_net_root_tag(const char *data_root, char out[9]) {
    char real[PATH_MAX];
    const char *p = realpath(data_root, real) ? real : data_root;
    snprintf(out, 9, "%08x", (unsigned)(fnv1a(p) & 0xffffffffu));
}

void hull_net_veth_name(const char *id, char out[16]) {
    snprintf(out, 16, "hv%013llx", (unsigned long long)(fnv1a(id) & 0xfffffffffffffULL));
}

void hull_net_tag(const char *id, const char *root_tag, const struct hull_port *p, char *out, size_t len) {
    char m[64];
    if (p) snprintf(out, len, "hull:%s r=%s p=%s", id, root_tag, hull_port_fmt(p, m, sizeof m));
    else snprintf(out, len, "hull:%s r=%s", id, root_tag);
}

bool hull_net_tag_parse(const char *s, char *id, size_t id_len, char root_tag[9], struct hull_port *port) {
    memset(port, 0, sizeof *port);
    if (strncmp(s, "hull:", 5) != 0) return false;
    s += 5;
    size_t il = strcspn(s, " ");
    if (il == 0 || il >= id_len || strncmp(s + il, " r=", 3) != 0) return false;
    memcpy(id, s, il);
    id[il] = '\0';
    s += il + 3;
    if (strspn(s, "0123456789abcdef") != 8) return false;
    memcpy(root_tag, s, 8);
    root_tag[8] = '\0';
    s += 8;
    if (!*s) return true;
    struct hull_err e;
    return strncmp(s, " p=", 3) == 0 && hull_port_parse(s + 3, port, &e) == 0;
}

#include "base/json_gen.h"

int hull_net_record_write(const char *data_root, const char *id, const struct hull_net_record *r,
                          struct hull_err *err) {
    char dir[PATH_MAX];
    hull_net_ctr_dir(data_root, id, dir, sizeof dir);
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return hull_err_set(err, ENOMEM, "out of memory");
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    jg_kstr(g, "mode", hull_net_mode_name(r->mode));
    if (r->network[0]) { jg_kstr(g, "network", r->network); }
    if (r->bridge[0]) { jg_kstr(g, "bridge", r->bridge); }
    if (r->veth[0]) { jg_kstr(g, "veth", r->veth); }
    jg_str(g, "ports");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < r->n_ports; i++) {
        char m[64];
        jg_str(g, hull_port_fmt(&r->ports[i], m, sizeof m));
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        yajl_gen_free(g);
        return hull_err_sys(err, "container %s: write net.json", id);
    }
    if (jg_write_at(g, fd, "net.json", 0600) < 0) return hull_err_sys(err, "container %s: write net.json", id);
    return 0;
}

static bool copy_str(yajl_val root, const char *key, char *out, size_t len) {
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    if (!v) return true;   /* optional */
    const char *s = YAJL_GET_STRING(v);
    if (!s || strlen(s) >= len) return false;
    snprintf(out, len, "%s", s);
    return true;
}

int hull_net_record_read(const char *data_root, const char *id, struct hull_net_record *r, struct hull_err *err) {
    memset(r, 0, sizeof *r);
    char dir[PATH_MAX];
    hull_net_ctr_dir(data_root, id, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    size_t len;
    char *text = fd < 0 ? NULL : hull_read_file_at(fd, "net.json", 1 << 16, &len);
    int saved = errno;
    if (fd >= 0) close(fd);
    if (!text) {
        errno = saved;
        if (errno == ENOENT) return hull_err_set(err, ENOENT, "container %s has no network record", id);
        return hull_err_sys(err, "container %s: read net.json", id);
    }
    char ebuf[128];
    yajl_val root = yajl_tree_parse(text, ebuf, sizeof ebuf);
    free(text);
    if (!root) return hull_err_set(err, EINVAL, "container %s: net.json is corrupt", id);
    char mode[16] = "";
    bool good = copy_str(root, "mode", mode, sizeof mode) && copy_str(root, "network", r->network, sizeof r->network) &&
                copy_str(root, "bridge", r->bridge, sizeof r->bridge) && copy_str(root, "veth", r->veth, sizeof r->veth);
    good = good && mode[0];
    for (size_t m = 0; good && m < sizeof mode_names / sizeof *mode_names; m++)
        if (!strcmp(mode, mode_names[m])) { r->mode = (enum hull_net_mode)m; mode[0] = '\0'; break; }
    good = good && !mode[0];
    const char *path[] = {"ports", NULL};
    yajl_val ports = yajl_tree_get(root, path, yajl_t_array);
    for (size_t i = 0; good && ports && i < YAJL_GET_ARRAY(ports)->len; i++) {
        yajl_val p = YAJL_GET_ARRAY(ports)->values[i];
        struct hull_err e;
        if (r->n_ports == HULL_NET_MAX_PORTS || !YAJL_IS_STRING(p) ||
            hull_port_parse(YAJL_GET_STRING(p), &r->ports[r->n_ports], &e) < 0)
            good = false;
        else
            r->n_ports++;
    }
    struct hull_err e;
    if (good && r->network[0] && hull_netname_validate(r->network, &e) < 0 && strcmp(r->network, HULL_DEFAULT_NETWORK))
        good = false;
    if (good && r->veth[0] && hull_ifname_validate(r->veth, &e) < 0) good = false;
    if (good && r->bridge[0] && hull_ifname_validate(r->bridge, &e) < 0) good = false;
    yajl_tree_free(root);
    if (!good) return hull_err_set(err, EINVAL, "container %s: net.json is corrupt", id);
    return 0;
}

/* Rewrites a hosts file in place: it is bind-mounted into a running
 * container, where a rename would leave the container with the old inode.
 * The new text is written over the old before truncating, so a reader sees
 * the old lines or the new ones, never an empty file. */
static void rewrite_in_place(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return;
    size_t len = strlen(text);
    if (pwrite(fd, text, len, 0) == (ssize_t)len) {
        if (ftruncate(fd, (off_t)len) < 0) { /* the old tail stays: harmless duplicate lines */ }
    }
    close(fd);
}

void hull_net_refresh_hosts(const char *data_root, const struct hull_network *net, const struct hull_lease *v,
                            size_t n) {
    for (size_t i = 0; i < n; i++) {
        char dir[PATH_MAX], path[PATH_MAX + 8];
        hull_net_ctr_dir(data_root, v[i].id, dir, sizeof dir);
        snprintf(path, sizeof path, "%s/hosts", dir);
        struct hull_ip ip6;
        hull_ipam_ip6(net, &v[i].ip, &ip6);
        struct hull_hosts_self self = {.name = v[i].name, .hostname = v[i].host[0] ? v[i].host : NULL,
                                       .ip = &v[i].ip, .ip6 = &ip6};
        char *text = hull_hosts_text(&self, v[i].id, net, v, n);
        if (text) rewrite_in_place(path, text);
        free(text);
    }
}
