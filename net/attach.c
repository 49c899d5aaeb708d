/* Setting up a container's network: prepare (before create) and attach
 * (between create and start). See net.h for the order and why. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/etcfiles.h"
#include "net/internal.h"
#include "net/nft.h"
#include "base/fsutil.h"

int hull_net_parse_mode(const char *s, struct hull_net_req *r, struct hull_err *err) {
    r->network[0] = r->ns_path[0] = r->target[0] = r->share_dir[0] = '\0';
    if (!s || !*s || !strcmp(s, "bridge") || !strcmp(s, "default")) {
        r->mode = HULL_NET_BRIDGE;
        snprintf(r->network, sizeof r->network, "%s", HULL_DEFAULT_NETWORK);
    } else if (!strcmp(s, "none")) {
        r->mode = HULL_NET_NONE;
    } else if (!strcmp(s, "host")) {
        r->mode = HULL_NET_HOST;
    } else if (!strncmp(s, "ns:", 3)) {
        r->mode = HULL_NET_NS;
        if (s[3] != '/' || strlen(s + 3) >= sizeof r->ns_path)
            return hull_err_set(err, EINVAL, "--network %.200s: ns: takes an absolute path to a network namespace", s);
        snprintf(r->ns_path, sizeof r->ns_path, "%s", s + 3);
    } else if (!strncmp(s, "container:", 10)) {
        r->mode = HULL_NET_CONTAINER;
        if (!s[10] || strlen(s + 10) >= sizeof r->target)
            return hull_err_set(err, EINVAL, "--network %.200s: container: takes a container name or id", s);
        snprintf(r->target, sizeof r->target, "%s", s + 10);
    } else {
        if (hull_netname_validate(s, err) < 0)
            return hull_err_prefix(err, "--network %.100s: not bridge, none, host, ns:PATH, container:ID or a "
                                   "network name: ", s);
        r->mode = HULL_NET_BRIDGE;
        snprintf(r->network, sizeof r->network, "%s", s);
    }
    return 0;
}

/* Reads a small host file, NULL if unreadable. */
static char *slurp(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    char *buf = malloc(65537);
    ssize_t n = buf ? hull_read_all(fd, buf, 65536) : -1;
    close(fd);
    if (n < 0) { free(buf); return NULL; }
    buf[n] = '\0';
    return buf;
}

static int write_text(int dir_fd, const char *name, char *text, struct hull_err *err) {
    if (!text) return hull_err_set(err, ENOMEM, "out of memory");
    int r = hull_write_file_atomic(dir_fd, name, text, strlen(text), 0644) < 0 ? hull_err_sys(err, "write %s", name) : 0;
    free(text);
    return r;
}

/* /proc/sys knobs of hull's own namespace: written only when not set yet. */
static int sysctl_on(const char *path, struct hull_err *err) {
    char cur[4] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, cur, 1) < 0) cur[0] = '\0';
        close(fd);
    }
    if (cur[0] == '1') return 0;
    if (hull_write_str(path, "1") < 0) return hull_err_sys(err, "enable %s", path);
    return 0;
}

/* Is a host port free? Binding it is what docker's proxy would do; we only
 * look, so a process already listening there gets a clear error instead of
 * having its traffic silently taken away by the DNAT rule. */
static int check_host_port(const struct hull_port *p, struct hull_err *err) {
    char m[64], a[HULL_IP_STRLEN];
    int fd = socket(AF_INET, (p->proto == HULL_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return hull_err_sys(err, "-p %s: socket", hull_port_fmt(p, m, sizeof m));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->host_port)};
    if (p->host_ip.family) memcpy(&sa.sin_addr, p->host_ip.a, 4);
    int r = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno == EADDRINUSE)
            r = hull_err_set(err, EADDRINUSE, "-p %s: port %u/%s is in use by a program on this host",
                             hull_port_fmt(p, m, sizeof m), p->host_port, p->proto == HULL_UDP ? "udp" : "tcp");
        else if (errno == EADDRNOTAVAIL)
            r = hull_err_set(err, EADDRNOTAVAIL, "-p %s: %s is not an address of this host",
                             hull_port_fmt(p, m, sizeof m), hull_ip_fmt(&p->host_ip, a, sizeof a));
        else if (errno != EACCES)
            r = hull_err_sys(err, "-p %s: bind", hull_port_fmt(p, m, sizeof m));
    }
    close(fd);
    return r;
}

/* Published ports: none may clash with a port any hull container already
 * has (whatever its data root: the namespace's ports are one space). */
static int publish(struct hull_nl *nf, const char *data_root, const char *id, const struct hull_net_plan *plan,
                   const struct hull_port *ports, size_t n, struct hull_err *err) {
    if (n == 0) return 0;
    struct hull_nft_rule *rules;
    size_t nr;
    int r = hull_nft_rules(nf, &rules, &nr, err);
    if (r < 0) return r;
    for (size_t i = 0; i < nr && r == 0; i++) {
        char oid[80], tag[9], m[64];
        struct hull_port op;
        if (!hull_net_tag_parse(rules[i].comment, oid, sizeof oid, tag, &op) || !op.host_port) continue;
        for (size_t k = 0; k < n && r == 0; k++)
            if (hull_port_clash(&ports[k], &op))
                r = hull_err_set(err, EADDRINUSE, "-p %s: the host port is already published by container %.12s",
                                 hull_port_fmt(&ports[k], m, sizeof m), oid);
    }
    free(rules);
    for (size_t k = 0; k < n && r == 0; k++) r = check_host_port(&ports[k], err);
    if (r < 0) return r;
    char tag[9];
    hull_net_root_tag(data_root, tag);
    char *comments[HULL_NET_MAX_PORTS];
    char store[HULL_NET_MAX_PORTS][200];
    for (size_t k = 0; k < n; k++) {
        hull_net_tag(id, tag, &ports[k], store[k], sizeof store[k]);
        comments[k] = store[k];
    }
    r = hull_nft_add_ports(nf, &plan->ip, ports, comments, n, err);
    if (r == -ENOENT) {
        /* someone deleted part of the table (nft flush ...): rebuild it, once */
        const struct hull_network *net = &plan->net;
        if ((r = hull_nft_ensure_network(nf, net->bridge, &net->subnet, &net->subnet6, err)) == 0)
            r = hull_nft_add_ports(nf, &plan->ip, ports, comments, n, err);
    }
    return r;
}

/* The bridge with its addresses, up; forwarding on; nftables ready. Fast
 * path (everything there already): one get, one batch, one nft get. */
static int host_side(struct hull_nl *rt, struct hull_nl *nf, struct hull_net_plan *plan, struct hull_err *err) {
    const struct hull_network *net = &plan->net;
    struct hull_link br;
    struct hull_err e2;
    int r = hull_rtnl_get_link(rt, net->bridge, &br, &e2);
    if (r == -ENODEV) {
        hull_rtnl_add_bridge(rt, net->bridge, true);   /* a concurrent hull may win the race: fine */
        if ((r = hull_nl_commit(rt, err)) < 0) return hull_err_prefix(err, "network %s: ", net->name);
        r = hull_rtnl_get_link(rt, net->bridge, &br, &e2);
    }
    if (r < 0) { *err = e2; return r; }
    if (strcmp(br.kind, "bridge") != 0)
        return hull_err_set(err, EEXIST, "network %s: the link %s exists and is not a bridge", net->name, net->bridge);
    plan->bridge_index = br.index;
    hull_rtnl_addr(rt, true, br.index, &net->gateway, net->subnet.plen, false, true);
    if (net->subnet6.ip.family) hull_rtnl_addr(rt, true, br.index, &net->gateway6, net->subnet6.plen, true, true);
    if (!(br.flags & IFF_UP)) {
        struct hull_link_change up = HULL_LINK_CHANGE_INIT;
        up.index = br.index;
        up.up = 1;
        hull_rtnl_set_link(rt, &up);
    }
    if ((r = hull_nl_commit(rt, err)) < 0) return hull_err_prefix(err, "network %s: ", net->name);
    if ((r = sysctl_on("/proc/sys/net/ipv4/ip_forward", err)) < 0) return r;
    if (net->subnet6.ip.family && (r = sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding", err)) < 0) return r;
    int ready = hull_nft_network_ready(nf, net->bridge, err);
    if (ready < 0) return ready;
    if (!ready) r = hull_nft_ensure_network(nf, net->bridge, &net->subnet, &net->subnet6, err);
    return r;
}

/* The container's lease: its existing one (a second prepare of the same id)
 * or the lowest free address. Returns the network's leases, self included. */
static int take_lease(const char *data_root, const char *id, const char *name, const char *hostname,
                      struct hull_net_plan *plan, struct hull_lease **v, size_t *n, struct hull_err *err) {
    int r = hull_leases_read(data_root, &plan->net, v, n, err);
    if (r < 0) return r;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].id, id)) { plan->ip = (*v)[i].ip; return 0; }
    struct hull_lease l = {0};
    if ((r = hull_ipam_pick(&plan->net, *v, *n, &l.ip, err)) < 0) return r;
    snprintf(l.id, sizeof l.id, "%s", id);
    snprintf(l.name, sizeof l.name, "%s", name && *name ? name : id);
    if (hostname && hull_hostsname_ok(hostname) && strlen(hostname) < sizeof l.host)
        snprintf(l.host, sizeof l.host, "%s", hostname);
    struct hull_lease *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv) return hull_err_set(err, ENOMEM, "out of memory");
    *v = nv;
    nv[(*n)++] = l;
    plan->ip = l.ip;
    return hull_leases_write(data_root, &plan->net, nv, *n, err);
}

/* Everything of bridge mode before create, under the networks lock. */
static int prepare_bridge(const char *data_root, int dir_fd, const char *id, const char *name, const char *hostname,
                          const struct hull_net_req *req, struct hull_net_plan *plan, bool *recorded,
                          struct hull_err *err) {
    struct hull_nl rt = {0}, nf = {0};
    struct hull_lease *leases = NULL;
    size_t n = 0;
    int r = hull_nl_open(&rt, NETLINK_ROUTE, -1, err);
    if (r < 0) return r;
    if (!strcmp(req->network, HULL_DEFAULT_NETWORK)) r = hull_network_default(&rt, data_root, &plan->net, err);
    else r = hull_network_load(data_root, req->network, &plan->net, err);
    if (r < 0) goto out;
    /* the record first: from here on, whatever exists can be found again */
    struct hull_net_record rec = {.mode = HULL_NET_BRIDGE, .n_ports = req->n_ports};
    snprintf(rec.network, sizeof rec.network, "%s", plan->net.name);
    snprintf(rec.bridge, sizeof rec.bridge, "%s", plan->net.bridge);
    hull_net_veth_name(id, plan->veth);
    snprintf(rec.veth, sizeof rec.veth, "%s", plan->veth);
    if (req->n_ports) memcpy(rec.ports, req->ports, req->n_ports * sizeof *req->ports);
    if ((r = hull_net_record_write(data_root, id, &rec, err)) < 0) goto out;
    *recorded = true;
    if ((r = take_lease(data_root, id, name, hostname, plan, &leases, &n, err)) < 0) goto out;
    hull_ipam_ip6(&plan->net, &plan->ip, &plan->ip6);
    /* docker's scheme: the MAC follows the address, so a reused address never
     * meets a stale neighbour entry for another MAC */
    uint8_t mac[6] = {0x02, 0x42, plan->ip.a[0], plan->ip.a[1], plan->ip.a[2], plan->ip.a[3]};
    memcpy(plan->mac, mac, 6);
    char tag[9];
    hull_net_root_tag(data_root, tag);
    hull_net_tag(id, tag, NULL, plan->alias, sizeof plan->alias);
    if ((r = hull_nl_open(&nf, NETLINK_NETFILTER, -1, err)) < 0) goto out;
    if ((r = host_side(&rt, &nf, plan, err)) < 0) goto out;
    if ((r = publish(&nf, data_root, id, plan, req->ports, req->n_ports, err)) < 0) goto out;
    struct hull_hosts_self self = {.name = name, .hostname = hostname, .ip = &plan->ip, .ip6 = &plan->ip6};
    if ((r = write_text(dir_fd, "hosts", hull_hosts_text(&self, id, &plan->net, leases, n), err)) < 0) goto out;
    if ((r = hull_write_resolv(dir_fd, false, plan->net.subnet6.ip.family != 0, err)) < 0) goto out;
    hull_net_refresh_hosts(data_root, &plan->net, leases, n);
out:
    free(leases);
    if (nf.sock) hull_nl_close(&nf);
    hull_nl_close(&rt);
    return r;
}

static int check_ports(const struct hull_net_req *req, struct hull_err *err) {
    char a[64], b[64];
    if (req->n_ports && req->mode != HULL_NET_BRIDGE)
        return hull_err_set(err, EINVAL, "-p %s: publishing ports needs a bridge network (--network bridge or a "
                            "network name)", hull_port_fmt(&req->ports[0], a, sizeof a));
    if (req->n_ports > HULL_NET_MAX_PORTS) return hull_err_set(err, EINVAL, "-p: at most %d mappings", HULL_NET_MAX_PORTS);
    for (size_t i = 0; i < req->n_ports; i++)
        for (size_t k = i + 1; k < req->n_ports; k++)
            if (hull_port_clash(&req->ports[i], &req->ports[k]))
                return hull_err_set(err, EINVAL, "-p %s and -p %s publish the same host port",
                                    hull_port_fmt(&req->ports[i], a, sizeof a), hull_port_fmt(&req->ports[k], b, sizeof b));
    return 0;
}

/* A file of another container, shared when it exists (container: mode). */
static bool shared_file(const char *dir, const char *name, char *out, size_t len) {
    if (!dir[0]) return false;
    snprintf(out, len, "%s/%s", dir, name);
    return access(out, F_OK) == 0;
}

int hull_net_prepare(const char *data_root, const char *id, const char *name, const char *hostname,
                     const struct hull_net_req *req, struct hull_net_plan *plan, struct hull_err *err) {
    memset(plan, 0, sizeof *plan);
    plan->setup_lock = -1;
    plan->mode = req->mode;
    int r = check_ports(req, err);
    if (r < 0) return r;
    char dir[PATH_MAX];
    hull_net_ctr_dir(data_root, id, dir, sizeof dir);
    _cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dir_fd < 0) return hull_err_sys(err, "container %s: open %s", id, dir);
    /* held until attach is done: a prune meanwhile must not take this container's lease */
    plan->setup_lock = openat(dir_fd, "net.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (plan->setup_lock < 0 || flock(plan->setup_lock, LOCK_EX) < 0) {
        r = hull_err_sys(err, "container %s: lock net.lock", id);
        hull_net_plan_done(plan);
        return r;
    }
    snprintf(plan->hosts, sizeof plan->hosts, "%s/hosts", dir);
    snprintf(plan->resolv, sizeof plan->resolv, "%s/resolv.conf", dir);
    snprintf(plan->hostname, sizeof plan->hostname, "%s/hostname", dir);
    bool recorded = false;
    if (req->mode == HULL_NET_BRIDGE) {
        int lock = hull_netstore_lock(data_root, err);
        if (lock < 0) { r = lock; goto fail; }
        r = prepare_bridge(data_root, dir_fd, id, name, hostname, req, plan, &recorded, err);
        close(lock);
        if (r == 0) r = hull_write_hostname(dir_fd, hostname, err);
        if (r < 0) goto fail;
        return 0;
    }
    struct hull_net_record rec = {.mode = req->mode};
    if ((r = hull_net_record_write(data_root, id, &rec, err)) < 0) goto fail;
    recorded = true;
    struct hull_hosts_self self = {.name = name, .hostname = hostname};
    switch (req->mode) {
    case HULL_NET_HOST:
        plan->host = true;
        r = write_text(dir_fd, "hosts", slurp("/etc/hosts") ?: hull_hosts_text(&self, id, NULL, NULL, 0), err);
        if (r == 0) r = hull_write_resolv(dir_fd, true, true, err);
        break;
    case HULL_NET_CONTAINER:
    case HULL_NET_NS:
        if (access(req->ns_path, F_OK) < 0) {
            r = req->mode == HULL_NET_NS ? hull_err_sys(err, "--network ns:%s", req->ns_path)
                                         : hull_err_sys(err, "--network container:%s", req->target);
            break;
        }
        snprintf(plan->ns_path, sizeof plan->ns_path, "%s", req->ns_path);
        if (!shared_file(req->share_dir, "hosts", plan->hosts, sizeof plan->hosts)) {
            snprintf(plan->hosts, sizeof plan->hosts, "%s/hosts", dir);
            r = write_text(dir_fd, "hosts", hull_hosts_text(&self, id, NULL, NULL, 0), err);
        }
        if (r == 0 && !shared_file(req->share_dir, "resolv.conf", plan->resolv, sizeof plan->resolv)) {
            snprintf(plan->resolv, sizeof plan->resolv, "%s/resolv.conf", dir);
            r = hull_write_resolv(dir_fd, false, true, err);
        }
        break;
    default:   /* none */
        r = write_text(dir_fd, "hosts", hull_hosts_text(&self, id, NULL, NULL, 0), err);
        if (r == 0) r = hull_write_resolv(dir_fd, false, true, err);
        break;
    }
    if (r == 0) r = hull_write_hostname(dir_fd, hostname, err);
    if (r == 0) return 0;
fail:
    if (recorded) {
        struct hull_err ignored;
        hull_net_release(data_root, id, true, &ignored);
    }
    hull_net_plan_done(plan);
    return r;
}

void hull_net_plan_done(struct hull_net_plan *plan) {
    if (plan->setup_lock >= 0) close(plan->setup_lock);
    plan->setup_lock = -1;
}

int hull_net_attach(struct hull_net_plan *plan, pid_t pid, struct hull_err *err) {
    if (plan->host || plan->ns_path[0]) return 0;   /* a namespace hull does not own */
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
    _cleanup_close_ int ns = open(p, O_RDONLY | O_CLOEXEC);
    if (ns < 0) return hull_err_sys(err, "open %s", p);
    struct hull_nl ctr = {0}, rt = {0};
    int r = hull_nl_open(&ctr, NETLINK_ROUTE, ns, err);
    if (r < 0) return r;
    if (plan->mode == HULL_NET_BRIDGE) {
        if ((r = hull_nl_open(&rt, NETLINK_ROUTE, -1, err)) < 0) goto out;
        /* the container end is born inside the namespace as eth0: it can never
         * linger on the host, and it goes when the namespace goes */
        struct hull_veth v = {.name = plan->veth, .peer = "eth0", .peer_netns_fd = ns, .peer_mac = plan->mac,
                              .master = plan->bridge_index, .up = true, .alias = plan->alias};
        hull_rtnl_add_veth(&rt, &v);
        if ((r = hull_nl_commit(&rt, err)) < 0) goto out;
    }
    struct hull_link_change lo = HULL_LINK_CHANGE_INIT;
    lo.name = "lo";
    lo.up = 1;
    hull_rtnl_set_link(&ctr, &lo);
    if (plan->mode == HULL_NET_BRIDGE) {
        struct hull_link_change eth = HULL_LINK_CHANGE_INIT;
        eth.name = "eth0";
        eth.up = 1;
        hull_rtnl_set_link(&ctr, &eth);
    }
    if ((r = hull_nl_commit(&ctr, err)) < 0 || plan->mode != HULL_NET_BRIDGE) goto out;
    struct hull_link eth;
    if ((r = hull_rtnl_get_link(&ctr, "eth0", &eth, err)) < 0) goto out;
    const struct hull_network *net = &plan->net;
    struct hull_cidr def4 = {.ip = {.family = AF_INET}}, def6 = {.ip = {.family = AF_INET6}};
    hull_rtnl_addr(&ctr, true, eth.index, &plan->ip, net->subnet.plen, false, false);
    if (plan->ip6.family) hull_rtnl_addr(&ctr, true, eth.index, &plan->ip6, net->subnet6.plen, true, false);
    hull_rtnl_route(&ctr, true, &def4, &net->gateway, 0, false);
    if (plan->ip6.family) hull_rtnl_route(&ctr, true, &def6, &net->gateway6, 0, false);
    r = hull_nl_commit(&ctr, err);
out:
    if (r < 0) hull_err_prefix(err, "container network: ");
    if (rt.sock) hull_nl_close(&rt);
    hull_nl_close(&ctr);
    return r;
}
