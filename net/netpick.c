/* Choosing subnets and bridge names that collide with nothing (network.h). */
#include "net/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

/* What the namespace already routes or owns, and the other hull networks. */
struct taken {
    struct hull_route *routes;
    size_t n_routes;
    struct hull_addr *addrs;
    size_t n_addrs;
    struct hull_network *nets;
    size_t n_nets;
    int skip_oif;                   /* a bridge's own routes and addresses do not count */
};

static void taken_free(struct taken *t) {
    free(t->routes);
    free(t->addrs);
    free(t->nets);
}

static int taken_load(struct hull_nl *nl, const char *data_root, const char *self_bridge, struct taken *t,
                      struct hull_err *err) {
    memset(t, 0, sizeof *t);
    int r = hull_rtnl_routes(nl, AF_INET, &t->routes, &t->n_routes, err);
    if (r == 0) r = hull_rtnl_addrs(nl, AF_INET, &t->addrs, &t->n_addrs, err);
    if (r == 0) r = hull_network_list(data_root, &t->nets, &t->n_nets, err);
    if (r == 0 && self_bridge) {
        struct hull_link l;
        struct hull_err e2;
        if (hull_rtnl_get_link(nl, self_bridge, &l, &e2) == 0) t->skip_oif = l.index;
    }
    if (r < 0) taken_free(t);
    return r;
}

/* Why c cannot be used (into why), or false when it is free. */
static bool collides(const struct taken *t, const struct hull_cidr *c, const char *self_bridge, char *why,
                     size_t len) {
    char b[HULL_CIDR_STRLEN];
    for (size_t i = 0; i < t->n_nets; i++) {
        if (self_bridge && !strcmp(t->nets[i].bridge, self_bridge)) continue;
        if (hull_cidr_overlap(c, &t->nets[i].subnet)) {
            snprintf(why, len, "it overlaps network %s (%s)", t->nets[i].name,
                     hull_cidr_fmt(&t->nets[i].subnet, b, sizeof b));
            return true;
        }
    }
    for (size_t i = 0; i < t->n_routes; i++) {
        const struct hull_route *r = &t->routes[i];
        if (r->dst.plen == 0 || (t->skip_oif && r->oif == t->skip_oif)) continue;   /* a default route is no claim */
        if (hull_cidr_overlap(c, &r->dst)) {
            snprintf(why, len, "it overlaps the route to %s on this host", hull_cidr_fmt(&r->dst, b, sizeof b));
            return true;
        }
    }
    for (size_t i = 0; i < t->n_addrs; i++) {
        if (t->skip_oif && t->addrs[i].index == t->skip_oif) continue;
        if (hull_cidr_contains(c, &t->addrs[i].ip)) {
            snprintf(why, len, "this host has the address %s in it", hull_ip_fmt(&t->addrs[i].ip, b, sizeof b));
            return true;
        }
    }
    return false;
}

int hull_network_check_subnet(struct hull_nl *nl, const char *data_root, const struct hull_cidr *c,
                              const char *self_bridge, struct hull_err *err) {
    struct taken t;
    int r = taken_load(nl, data_root, self_bridge, &t, err);
    if (r < 0) return r;
    char why[160], b[HULL_CIDR_STRLEN];
    if (collides(&t, c, self_bridge, why, sizeof why))
        r = hull_err_set(err, EEXIST, "subnet %s cannot be used: %s", hull_cidr_fmt(c, b, sizeof b), why);
    taken_free(&t);
    return r;
}

int hull_network_pick_subnet(struct hull_nl *nl, const char *data_root, struct hull_cidr *out, struct hull_err *err) {
    struct taken t;
    int r = taken_load(nl, data_root, NULL, &t, err);
    if (r < 0) return r;
    /* podman's 10.88/16 first, then its neighbours, then 172.17-31/16 */
    for (int k = 0; k < 40 + 15; k++) {
        struct hull_ip ip = {.family = AF_INET};
        if (k < 40) { ip.a[0] = 10; ip.a[1] = (uint8_t)(88 + k); }
        else { ip.a[0] = 172; ip.a[1] = (uint8_t)(17 + k - 40); }
        struct hull_cidr c;
        hull_cidr_from(&ip, 16, &c);
        char why[160];
        if (!collides(&t, &c, NULL, why, sizeof why)) {
            *out = c;
            taken_free(&t);
            return 0;
        }
    }
    taken_free(&t);
    return hull_err_set(err, EADDRINUSE, "no free private /16 for a network (10.88-127.0.0/16 and 172.17-31.0.0/16 "
                        "all overlap routes or networks here); give one with --subnet");
}

int hull_network_pick_bridge(struct hull_nl *nl, const char *data_root, char out[HULL_IFNAMSIZ], struct hull_err *err) {
    struct hull_network *nets;
    size_t n;
    int r = hull_network_list(data_root, &nets, &n, err);
    if (r < 0) return r;
    for (int k = 1; k < 10000; k++) {
        char name[HULL_IFNAMSIZ];
        snprintf(name, sizeof name, "hull%d", k);
        bool used = false;
        for (size_t i = 0; i < n && !used; i++) used = !strcmp(nets[i].bridge, name);
        struct hull_link l;
        struct hull_err e2;
        if (!used && hull_rtnl_get_link(nl, name, &l, &e2) < 0 && e2.code == ENODEV) {
            memcpy(out, name, sizeof name);
            free(nets);
            return 0;
        }
    }
    free(nets);
    return hull_err_set(err, EADDRINUSE, "no free bridge name hull1..hull9999");
}

int hull_network_default(struct hull_nl *nl, const char *data_root, struct hull_network *out, struct hull_err *err) {
    int r = hull_network_load(data_root, HULL_DEFAULT_NETWORK, out, err);
    if (r == 0 || err->code != ENOENT) return r;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", HULL_DEFAULT_NETWORK);
    snprintf(out->bridge, sizeof out->bridge, "%s", HULL_DEFAULT_BRIDGE);
    time_t now = time(NULL);
    struct tm tm;
    strftime(out->created, sizeof out->created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    /* hull0 already there (made by an earlier data root, or this one before
     * its config was lost): keep its subnet rather than stacking a second one */
    struct hull_link l;
    struct hull_err e2;
    bool adopted = false;
    if (hull_rtnl_get_link(nl, HULL_DEFAULT_BRIDGE, &l, &e2) == 0) {
        struct hull_addr *a;
        size_t n;
        if ((r = hull_rtnl_addrs(nl, AF_INET, &a, &n, err)) < 0) return r;
        for (size_t i = 0; i < n && !adopted; i++)
            if (a[i].index == l.index && a[i].plen >= 8 && a[i].plen <= 30) {
                hull_cidr_from(&a[i].ip, a[i].plen, &out->subnet);
                out->gateway = a[i].ip;
                adopted = true;
            }
        free(a);
    }
    if (!adopted) {
        if ((r = hull_network_pick_subnet(nl, data_root, &out->subnet, err)) < 0) return r;
        hull_cidr_nth(&out->subnet, 1, &out->gateway);
    }
    return hull_network_save(data_root, out, err);
}
