/* Undoing a container's networking: release (exit, rm), prune (what a crash
 * left), and reading it back (info). See net.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "net/internal.h"
#include "net/nft.h"

/* Drops the leases matching keep() == false from one network; rewrites the
 * file and the remaining containers' hosts only when something changed. */
typedef bool (*keep_fn)(const struct hull_lease *l, void *data);

static int drop_leases(const char *data_root, const struct hull_network *net, keep_fn keep, void *data,
                       size_t *dropped, struct hull_err *err) {
    struct hull_lease *v;
    size_t n, k = 0;
    int r = hull_leases_read(data_root, net, &v, &n, err);
    if (r < 0) return r;
    for (size_t i = 0; i < n; i++)
        if (keep(&v[i], data)) v[k++] = v[i];
    if (k != n) {
        r = hull_leases_write(data_root, net, v, k, err);
        if (r == 0) hull_net_refresh_hosts(data_root, net, v, k);
        if (dropped) *dropped += n - k;
    }
    free(v);
    return r;
}

static bool not_this_id(const struct hull_lease *l, void *id) { return strcmp(l->id, id) != 0; }

struct tag_match { const char *id; char root[9]; };

static bool rule_of(const struct hull_nft_rule *r, void *data) {
    const struct tag_match *m = data;
    char id[80], root[9];
    struct hull_port p;
    return hull_net_tag_parse(r->comment, id, sizeof id, root, &p) && !strcmp(root, m->root) && !strcmp(id, m->id);
}

int hull_net_release(const char *data_root, const char *id, bool links, struct hull_err *err) {
    struct hull_net_record rec;
    struct hull_err e2;
    int r = hull_net_record_read(data_root, id, &rec, &e2);
    if (r == -ENOENT) return 0;              /* nothing was ever set up */
    bool unknown = r < 0;                    /* a corrupt record: look everywhere */
    if (!unknown && rec.mode != HULL_NET_BRIDGE) return 0;
    int lock = hull_netstore_lock(data_root, err);
    if (lock < 0) return lock;
    if (unknown) {
        struct hull_network *nets;
        size_t n;
        r = hull_network_list(data_root, &nets, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++) r = drop_leases(data_root, &nets[i], not_this_id, (void *)id, NULL, err);
        free(nets);
    } else {
        struct hull_network net;
        r = hull_network_load(data_root, rec.network, &net, &e2);
        if (r == 0) r = drop_leases(data_root, &net, not_this_id, (void *)id, NULL, err);
        else if (e2.code == ENOENT) r = 0;   /* the network went, and its leases with it */
        else *err = e2;
    }
    if (r == 0 && (unknown || rec.n_ports)) {
        struct hull_nl nf;
        struct tag_match m = {.id = id};
        hull_net_root_tag(data_root, m.root);
        if ((r = hull_nl_open(&nf, NETLINK_NETFILTER, -1, err)) == 0) {
            size_t gone = 0;
            r = hull_nft_delete_matching(&nf, rule_of, &m, &gone, err);
            if (gone) hull_nl_close_detached(&nf);
            else hull_nl_close(&nf);
        }
    }
    close(lock);
    /* the host end dies with the container's namespace; deleting it here is
     * for a namespace that outlived the container (and costs an RCU grace
     * period, so only when asked) */
    if (r == 0 && links) {
        char veth[16];
        if (unknown) hull_net_veth_name(id, veth);
        else snprintf(veth, sizeof veth, "%s", rec.veth);
        struct hull_nl rt;
        if (veth[0] && (r = hull_nl_open(&rt, NETLINK_ROUTE, -1, err)) == 0) {
            struct hull_link l;
            if (hull_rtnl_get_link(&rt, veth, &l, &e2) == 0) {
                hull_rtnl_del_link(&rt, veth, true);
                r = hull_nl_commit(&rt, err);
            }
            hull_nl_close(&rt);
        }
    }
    if (r < 0) hull_err_prefix(err, "container %.12s: release its network: ", id);
    return r;
}

/* ---- prune ------------------------------------------------------------------ */

struct live {
    const char *data_root;
    char *const *ids;
    size_t n;
    char root[9];
};

/* Alive: in the caller's list of running containers, or being set up right
 * now (its setup lock is held: see hull_net_prepare). */
static bool is_live(const struct live *lv, const char *id) {
    for (size_t i = 0; i < lv->n; i++)
        if (!strcmp(lv->ids[i], id)) return true;
    char dir[PATH_MAX], p[PATH_MAX + 16];
    hull_net_ctr_dir(lv->data_root, id, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/net.lock", dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    bool busy = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

static bool lease_live(const struct hull_lease *l, void *data) { return is_live(data, l->id); }

static bool rule_stale(const struct hull_nft_rule *r, void *data) {
    const struct live *lv = data;
    char id[80], root[9];
    struct hull_port p;
    return hull_net_tag_parse(r->comment, id, sizeof id, root, &p) && !strcmp(root, lv->root) && !is_live(lv, id);
}

int hull_net_prune(const char *data_root, char *const *live_ids, size_t n_live, struct hull_net_pruned *out,
                   struct hull_err *err) {
    memset(out, 0, sizeof *out);
    struct live lv = {.data_root = data_root, .ids = live_ids, .n = n_live};
    hull_net_root_tag(data_root, lv.root);
    int lock = hull_netstore_lock(data_root, err);
    if (lock < 0) return lock;
    struct hull_network *nets = NULL;
    size_t n = 0;
    int r = hull_network_list(data_root, &nets, &n, err);
    for (size_t i = 0; r == 0 && i < n; i++) r = drop_leases(data_root, &nets[i], lease_live, &lv, &out->leases, err);
    free(nets);
    struct hull_nl nf = {0}, rt = {0};
    if (r == 0 && (r = hull_nl_open(&nf, NETLINK_NETFILTER, -1, err)) == 0)
        r = hull_nft_delete_matching(&nf, rule_stale, &lv, &out->rules, err);
    struct hull_link *links = NULL;
    size_t nl = 0;
    if (r == 0 && (r = hull_nl_open(&rt, NETLINK_ROUTE, -1, err)) == 0) r = hull_rtnl_links(&rt, &links, &nl, err);
    for (size_t i = 0; r == 0 && i < nl; i++) {
        char id[80], root[9];
        struct hull_port p;
        if (strcmp(links[i].kind, "veth") || !hull_net_tag_parse(links[i].alias, id, sizeof id, root, &p) ||
            strcmp(root, lv.root) || is_live(&lv, id))
            continue;
        hull_rtnl_del_link(&rt, links[i].name, true);
        out->links++;
    }
    if (r == 0 && out->links) r = hull_nl_commit(&rt, err);
    free(links);
    if (rt.sock) hull_nl_close(&rt);
    if (nf.sock) hull_nl_close(&nf);
    close(lock);
    return r;
}

/* ---- info ------------------------------------------------------------------- */

int hull_net_info(const char *data_root, const char *id, struct hull_net_info *out, struct hull_err *err) {
    memset(out, 0, sizeof *out);
    struct hull_net_record rec;
    int r = hull_net_record_read(data_root, id, &rec, err);
    if (r < 0) return r;
    out->mode = rec.mode;
    snprintf(out->network, sizeof out->network, "%s", rec.network);
    snprintf(out->veth, sizeof out->veth, "%s", rec.veth);
    size_t len = 0;
    for (size_t i = 0; i < rec.n_ports && len < sizeof out->ports; i++) {
        char m[64];
        len += (size_t)snprintf(out->ports + len, sizeof out->ports - len, "%s%s", i ? "," : "",
                                hull_port_fmt(&rec.ports[i], m, sizeof m));
    }
    if (rec.mode != HULL_NET_BRIDGE) return 0;
    struct hull_network net;
    struct hull_lease *v;
    size_t n;
    struct hull_err e2;
    if (hull_network_load(data_root, rec.network, &net, &e2) < 0 || hull_leases_read(data_root, &net, &v, &n, &e2) < 0)
        return 0;   /* the network went: no address to show */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, id)) {
            out->ip = v[i].ip;
            hull_ipam_ip6(&net, &v[i].ip, &out->ip6);
        }
    free(v);
    return 0;
}
