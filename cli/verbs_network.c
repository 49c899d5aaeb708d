/* `hull network ls|create|rm|inspect|prune`: user-defined bridge networks
 * (net/network.h) and the clean-up of what a crash left (net/net.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "net/net.h"
#include "net/nft.h"
#include "lifecycle/container.h"
#include "lifecycle/ctr_store.h"

#include "base/json_gen.h"

static int lease_count(const struct hull_network *n) {
    struct hull_lease *v;
    size_t cnt;
    struct hull_err err;
    if (hull_leases_read(cli_data_root(), n, &v, &cnt, &err) < 0) return -1;
    free(v);
    return (int)cnt;
}

static int net_ls(int argc, char **argv) {
    static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
    bool json = false, quiet = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+qf:", opts, NULL)) != -1) {
        if (c == 'q') quiet = true;
        else if (c == 'f' && !strcmp(optarg, "json")) json = true;
        else return cli_usage_error("network ls", "unknown option \"%s\"", argv[optind - 1]);
    }
    struct hull_network *v;
    size_t n;
    struct hull_err err = {0};
    if (hull_network_list(cli_data_root(), &v, &n, &err) < 0) return cli_fail(&err);
    yajl_gen g = NULL;
    if (json) { g = yajl_gen_alloc(NULL); yajl_gen_array_open(g); }
    else if (!quiet) printf("%-20s  %-8s  %-18s  %-16s  %-24s  %s\n", "NAME", "BRIDGE", "SUBNET", "GATEWAY", "SUBNET6", "CONTAINERS");
    for (size_t i = 0; i < n; i++) {
        char s[HULL_CIDR_STRLEN], gw[HULL_IP_STRLEN], s6[HULL_CIDR_STRLEN];
        hull_cidr_fmt(&v[i].subnet, s, sizeof s);
        hull_ip_fmt(&v[i].gateway, gw, sizeof gw);
        if (v[i].subnet6.ip.family) hull_cidr_fmt(&v[i].subnet6, s6, sizeof s6);
        else snprintf(s6, sizeof s6, "-");
        int cnt = lease_count(&v[i]);
        if (quiet) printf("%s\n", v[i].name);
        else if (!json) printf("%-20s  %-8s  %-18s  %-16s  %-24s  %d\n", v[i].name, v[i].bridge, s, gw, s6, cnt);
        else {
            yajl_gen_map_open(g);
            jg_kstr(g, "Name", v[i].name);
            jg_kstr(g, "Bridge", v[i].bridge);
            jg_kstr(g, "Subnet", s);
            jg_kstr(g, "Gateway", gw);
            jg_kint(g, "Containers", cnt);
            yajl_gen_map_close(g);
        }
    }
    if (json) { yajl_gen_array_close(g); cli_print_json(g); }
    free(v);
    return 0;
}

/* Checks the name, the bridge and the subnet against the host and the
 * other networks, and saves n, all under the network store's lock. */
static int create_network(struct hull_network *n, const char *name, const char *bridge, const char *subnet,
                          const char *gateway, const char *subnet6, const char *gateway6, struct hull_err *err) {
    _cleanup_close_ int lock = hull_netstore_lock(cli_data_root(), err);
    if (lock < 0) return lock;
    _cleanup_nl_ struct hull_nl nl = {0};
    struct hull_network other;
    struct hull_err e2;
    int r = hull_network_load(cli_data_root(), name, &other, &e2);
    if (r == 0) return hull_err_set(err, EEXIST, "network \"%s\" already exists", name);
    if (e2.code != ENOENT) { *err = e2; return r; }
    if (!strcmp(name, HULL_DEFAULT_NETWORK))
        return hull_err_set(err, EEXIST, "\"%s\" is the default network (made on first use)", name);
    if ((r = hull_nl_open(&nl, NETLINK_ROUTE, -1, err)) < 0) return r;
    if (bridge) {
        _cleanup_free_ struct hull_network *all = NULL;
        size_t cnt;
        struct hull_link l;
        if ((r = hull_network_list(cli_data_root(), &all, &cnt, err)) < 0) return r;
        for (size_t i = 0; i < cnt; i++)
            if (!strcmp(all[i].bridge, bridge))
                return hull_err_set(err, EEXIST, "--bridge %s: network %s uses it already", bridge, all[i].name);
        if (hull_rtnl_get_link(&nl, bridge, &l, &e2) == 0)
            return hull_err_set(err, EEXIST, "--bridge %s: a link of that name exists on this host", bridge);
        snprintf(n->bridge, sizeof n->bridge, "%s", bridge);
    } else if ((r = hull_network_pick_bridge(&nl, cli_data_root(), n->bridge, err)) < 0) {
        return r;
    }
    if (subnet) r = hull_network_check_subnet(&nl, cli_data_root(), &n->subnet, NULL, err);
    else r = hull_network_pick_subnet(&nl, cli_data_root(), &n->subnet, err);
    if (r < 0) return r;
    if (!gateway) hull_cidr_nth(&n->subnet, 1, &n->gateway);
    if (subnet6 && !gateway6) hull_cidr_nth(&n->subnet6, 1, &n->gateway6);
    hull_now_rfc3339(n->created, sizeof n->created);
    return hull_network_save(cli_data_root(), n, err);
}

static int net_create(int argc, char **argv) {
    static const struct option opts[] = {
        {"subnet", required_argument, NULL, 's'}, {"gateway", required_argument, NULL, 'g'},
        {"subnet6", required_argument, NULL, 'S'}, {"gateway6", required_argument, NULL, 'G'},
        {"bridge", required_argument, NULL, 'b'}, {0},
    };
    const char *subnet = NULL, *gateway = NULL, *subnet6 = NULL, *gateway6 = NULL, *bridge = NULL;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': subnet = optarg; break;
        case 'g': gateway = optarg; break;
        case 'S': subnet6 = optarg; break;
        case 'G': gateway6 = optarg; break;
        case 'b': bridge = optarg; break;
        default: return cli_usage_error("network create", "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return cli_usage_error("network create", "expects one NAME");
    const char *name = argv[optind];
    struct hull_err err = {0};
    struct hull_network n = {0};
    if (hull_netname_validate(name, &err) < 0) return cli_fail(&err);
    snprintf(n.name, sizeof n.name, "%s", name);
    if (subnet && hull_cidr_parse(subnet, &n.subnet, &err) < 0) return cli_fail(&err);
    if (subnet && n.subnet.ip.family != AF_INET) {
        hull_err_set(&err, EINVAL, "--subnet %s: must be IPv4 (IPv6 goes in --subnet6)", subnet);
        return cli_fail(&err);
    }
    if (gateway && hull_ip_parse(gateway, &n.gateway, &err) < 0) return cli_fail(&err);
    if (subnet6 && hull_cidr_parse(subnet6, &n.subnet6, &err) < 0) return cli_fail(&err);
    if (gateway6 && (!subnet6 || hull_ip_parse(gateway6, &n.gateway6, &err) < 0)) {
        if (!subnet6) hull_err_set(&err, EINVAL, "--gateway6 needs --subnet6");
        return cli_fail(&err);
    }
    if (bridge && hull_ifname_validate(bridge, &err) < 0) return cli_fail(&err);
    if (create_network(&n, name, bridge, subnet, gateway, subnet6, gateway6, &err) < 0) return cli_fail(&err);
    printf("%s\n", name);
    return 0;
}

static int net_rm_one(const char *name, struct hull_err *err) {
    _cleanup_close_ int lock = hull_netstore_lock(cli_data_root(), err);
    if (lock < 0) return lock;
    struct hull_network n;
    struct hull_lease *v = NULL;
    size_t cnt = 0;
    _cleanup_nl_ struct hull_nl nf = {0};
    _cleanup_nl_ struct hull_nl rt = {0};
    int r = hull_network_load(cli_data_root(), name, &n, err);
    if (r == 0) r = hull_leases_read(cli_data_root(), &n, &v, &cnt, err);
    if (r == 0 && cnt) {
        r = hull_err_set(err, EBUSY, "network %s has %zu container%s (%s%s); remove %s first, or `hull network prune` "
                         "if they are gone", name, cnt, cnt == 1 ? "" : "s", v[0].name, cnt > 1 ? ", ..." : "",
                         cnt == 1 ? "it" : "them");
    }
    free(v);
    if (r == 0) r = hull_nl_open(&nf, NETLINK_NETFILTER, -1, err);
    if (r == 0) r = hull_nft_drop_network(&nf, n.bridge, err);
    if (r == 0) r = hull_nl_open(&rt, NETLINK_ROUTE, -1, err);
    if (r == 0) {
        hull_rtnl_del_link(&rt, n.bridge, true);
        r = hull_nl_commit(&rt, err);
    }
    if (r == 0) r = hull_network_forget(cli_data_root(), name, err);
    return r;   /* rt, then nf, then the lock are released */
}

static int net_rm(int argc, char **argv) {
    if (argc < 2) return cli_usage_error("network rm", "expects a NAME");
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct hull_err err = {0};
        if (net_rm_one(argv[i], &err) < 0) rc = cli_fail(&err);
        else printf("%s\n", argv[i]);
    }
    return rc;
}

static int net_inspect(int argc, char **argv) {
    if (argc < 2) return cli_usage_error("network inspect", "expects a NAME");
    yajl_gen g = yajl_gen_alloc(NULL);
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_array_open(g);
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct hull_err err = {0};
        struct hull_network n;
        struct hull_lease *v;
        size_t cnt;
        if (hull_network_load(cli_data_root(), argv[i], &n, &err) < 0 ||
            hull_leases_read(cli_data_root(), &n, &v, &cnt, &err) < 0) {
            rc = cli_fail(&err);
            continue;
        }
        char b[HULL_CIDR_STRLEN];
        yajl_gen_map_open(g);
        jg_kstr(g, "Name", n.name);
        jg_kstr(g, "Bridge", n.bridge);
        jg_kstr(g, "Subnet", hull_cidr_fmt(&n.subnet, b, sizeof b));
        jg_kstr(g, "Gateway", hull_ip_fmt(&n.gateway, b, sizeof b));
        if (n.subnet6.ip.family) {
            jg_kstr(g, "Subnet6", hull_cidr_fmt(&n.subnet6, b, sizeof b));
            jg_kstr(g, "Gateway6", hull_ip_fmt(&n.gateway6, b, sizeof b));
        }
        jg_kstr(g, "Created", n.created);
        jg_str(g, "Containers");
        yajl_gen_array_open(g);
        for (size_t k = 0; k < cnt; k++) {
            yajl_gen_map_open(g);
            jg_kstr(g, "Id", v[k].id);
            jg_kstr(g, "Name", v[k].name);
            jg_kstr(g, "IPv4", hull_ip_fmt(&v[k].ip, b, sizeof b));
            struct hull_ip ip6;
            hull_ipam_ip6(&n, &v[k].ip, &ip6);
            if (ip6.family) { jg_kstr(g, "IPv6", hull_ip_fmt(&ip6, b, sizeof b)); }
            struct hull_net_info info;
            if (hull_net_info(cli_data_root(), v[k].id, &info, &err) == 0 && info.ports[0]) {
                jg_kstr(g, "Ports", info.ports);
            }
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        free(v);
    }
    yajl_gen_array_close(g);
    if (rc == 0) cli_print_json(g);
    else yajl_gen_free(g);
    return rc;
}

/* Containers that still have processes: their leases, rules and links stay. */
static int net_prune(int argc, char **argv) {
    if (argc > 1) return cli_usage_error("network prune", "takes no arguments");
    struct hull_err err = {0};
    struct hull_ctr *v;
    size_t n;
    if (hull_ctr_list(cli_data_root(), &v, &n, &err) < 0) return cli_fail(&err);
    char **live = calloc(n + 1, sizeof *live);
    size_t k = 0;
    for (size_t i = 0; live && i < n; i++) {
        struct hull_state st;
        enum hull_status status = HULL_STOPPED;
        if (hull_container_state(g_opts.root, v[i].id, &st, &status, &err) == 0) hull_state_release(&st);
        if (status != HULL_STOPPED) live[k++] = v[i].id;
    }
    struct hull_net_pruned p;
    int r = live ? hull_net_prune(cli_data_root(), live, k, &p, &err) : hull_err_set(&err, ENOMEM, "out of memory");
    free(live);
    free(v);
    if (r < 0) return cli_fail(&err);
    printf("removed %zu lease%s, %zu rule%s, %zu link%s\n", p.leases, p.leases == 1 ? "" : "s", p.rules,
           p.rules == 1 ? "" : "s", p.links, p.links == 1 ? "" : "s");
    return 0;
}

int verb_network(int argc, char **argv) {
    static const struct { const char *name; int (*fn)(int, char **); } subs[] = {
        {"ls", net_ls}, {"list", net_ls}, {"create", net_create}, {"rm", net_rm}, {"remove", net_rm},
        {"inspect", net_inspect}, {"prune", net_prune},
    };
    if (argc < 2) return cli_usage_error("network", "expects ls, create, rm, inspect or prune");
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(argv[1], subs[i].name)) return subs[i].fn(argc - 1, argv + 1);
    return cli_usage_error("network", "unknown command \"%s\" (ls, create, rm, inspect, prune)", argv[1]);
}
