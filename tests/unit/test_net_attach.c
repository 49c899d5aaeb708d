/* net/net.h end to end without the runtime: prepare / attach / release /
 * prune for stand-in containers (forked children in network namespaces of
 * their own), all inside a network namespace of the test's own, with a temp
 * data root. Checks what the kernel and the files hold after each step,
 * traffic from a container to the gateway, name files, port conflicts, and
 * the clean-up of a "crashed" container by prune. */
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "net/internal.h"
#include "net/net.h"
#include "net/nft.h"
#include "base/fsutil.h"
#include "net_helpers.h"
#include "tap.h"

static char root[256];

struct fake { pid_t pid; char id[65]; };

/* A stand-in container: a child in a new network namespace, waiting. */
static void fake_start(struct fake *f, const char *id) {
    snprintf(f->id, sizeof f->id, "%s", id);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/containers/%s", root, id);
    hull_mkdir_p(dir, 0700);
    int p[2];
    if (pipe(p) < 0) { f->pid = -1; return; }
    f->pid = fork();
    if (f->pid == 0) {
        close(p[0]);
        if (unshare(CLONE_NEWNET) < 0) _exit(1);
        if (write(p[1], "x", 1) != 1) _exit(1);
        /* hold none of the parent's fds (set-up locks among them), as an exec would */
        close_range(3, ~0U, 0);
        pause();
        _exit(0);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) f->pid = -1;
    close(p[0]);
}

static void fake_stop(struct fake *f) {
    if (f->pid > 0) { kill(f->pid, SIGKILL); waitpid(f->pid, NULL, 0); }
    f->pid = -1;
}

static int ns_of(pid_t pid) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
    return open(p, O_RDONLY | O_CLOEXEC);
}

/* A TCP socket living in pid's namespace (made there, used from here). */
static int socket_in(pid_t pid) {
    int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns = ns_of(pid), s = -1;
    if (self >= 0 && ns >= 0 && setns(ns, CLONE_NEWNET) == 0) {
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (setns(self, CLONE_NEWNET) < 0) { close(s); s = -1; }
    }
    if (self >= 0) close(self);
    if (ns >= 0) close(ns);
    return s;
}

static char *read_ctr_file(const char *id, const char *name) {
    static char buf[8192];
    char p[512];
    snprintf(p, sizeof p, "%s/containers/%s/%s", root, id, name);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static bool has_lease(const char *net, const char *id) {
    struct hull_network n;
    struct hull_lease *v;
    size_t cnt;
    struct hull_err err;
    if (hull_network_load(root, net, &n, &err) < 0 || hull_leases_read(root, &n, &v, &cnt, &err) < 0) return false;
    bool found = false;
    for (size_t i = 0; i < cnt; i++) found |= !strcmp(v[i].id, id);
    free(v);
    return found;
}

static size_t rules_with(const char *needle) {
    struct hull_nl nl;
    struct hull_err err;
    struct hull_nft_rule *v;
    size_t n, k = 0;
    if (hull_nl_open(&nl, NETLINK_NETFILTER, -1, &err) < 0) return (size_t)-1;
    if (hull_nft_rules(&nl, &v, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) k += strstr(v[i].comment, needle) != NULL;
        free(v);
    }
    hull_nl_close(&nl);
    return k;
}

static int prep(const char *id, const char *name, const char *mode, const char *ports, struct hull_net_plan *plan,
                struct hull_err *err) {
    struct hull_net_req req = {0};
    struct hull_port p;
    if (hull_net_parse_mode(mode, &req, err) < 0) return -err->code;
    if (ports) {
        if (hull_port_parse(ports, &p, err) < 0) return -err->code;
        req.ports = &p;
        req.n_ports = 1;
    }
    return hull_net_prepare(root, id, name, name, &req, plan, err);
}

int main(void) {
    net_test_unshare();
    snprintf(root, sizeof root, "/tmp/hull-test-netattach.XXXXXX");
    if (!mkdtemp(root)) bail_out("mkdtemp %s: %s", root, strerror(errno));
    struct hull_err err = {0};
    struct hull_nl rt;
    net_test_nl_open(&rt, NETLINK_ROUTE, "route", &err);
    struct hull_link_change lo = HULL_LINK_CHANGE_INIT;
    lo.name = "lo";
    lo.up = 1;
    hull_rtnl_set_link(&rt, &lo);
    hull_nl_commit(&rt, &err);

    /* modes */
    struct hull_net_req req;
    ok(hull_net_parse_mode(NULL, &req, &err) == 0 && req.mode == HULL_NET_BRIDGE && !strcmp(req.network, "bridge"),
       "no --network: the default bridge");
    ok(hull_net_parse_mode("none", &req, &err) == 0 && req.mode == HULL_NET_NONE, "none");
    ok(hull_net_parse_mode("host", &req, &err) == 0 && req.mode == HULL_NET_HOST, "host");
    ok(hull_net_parse_mode("ns:/run/netns/x", &req, &err) == 0 && req.mode == HULL_NET_NS &&
       !strcmp(req.ns_path, "/run/netns/x"), "ns:PATH");
    ok(hull_net_parse_mode("ns:relative", &req, &err) < 0, "ns: with a relative path refused");
    ok(hull_net_parse_mode("container:web", &req, &err) == 0 && req.mode == HULL_NET_CONTAINER, "container:ID");
    ok(hull_net_parse_mode("mynet", &req, &err) == 0 && req.mode == HULL_NET_BRIDGE && !strcmp(req.network, "mynet"),
       "a network name");
    ok(hull_net_parse_mode("bad name!", &req, &err) < 0, "a bad name refused");
    like(err.msg, "--network bad name!", "... naming it (%s)", err.msg);

    /* container A on the default bridge */
    struct fake a, b, c, d;
    fake_start(&a, "aaaa1111");
    struct hull_net_plan pa;
    is_int(prep(a.id, "alpha", "bridge", NULL, &pa, &err), 0, "prepare A (%s)", err.msg);
    char ip[HULL_IP_STRLEN];
    is_str(hull_ip_fmt(&pa.ip, ip, sizeof ip), "10.88.0.2", "A leases 10.88.0.2 (default subnet 10.88/16)");
    ok(has_lease("bridge", a.id), "... recorded in bridge.leases");
    like(read_ctr_file(a.id, "net.json"), "\"mode\": \"bridge\"", "the record is written");
    like(read_ctr_file(a.id, "hosts"), "10.88.0.2\talpha\n", "hosts names A");
    ok(read_ctr_file(a.id, "resolv.conf") != NULL, "resolv.conf written");
    is_str(read_ctr_file(a.id, "hostname"), "alpha\n", "hostname written");
    struct hull_link br;
    ok(hull_rtnl_get_link(&rt, "hull0", &br, &err) == 0 && !strcmp(br.kind, "bridge") && (br.flags & IFF_UP),
       "hull0 exists, up");
    is_int(hull_net_attach(&pa, a.pid, &err), 0, "attach A (%s)", err.msg);
    hull_net_plan_done(&pa);
    struct hull_link veth;
    ok(hull_rtnl_get_link(&rt, pa.veth, &veth, &err) == 0 && veth.master == br.index, "A's veth is a port of hull0");
    like(veth.alias, "hull:aaaa1111 r=", "... tagged with A's id");
    struct hull_nl in_a;
    int nsa = ns_of(a.pid);
    hull_nl_open(&in_a, NETLINK_ROUTE, nsa, &err);
    close(nsa);
    struct hull_link eth, l;
    ok(hull_rtnl_get_link(&in_a, "eth0", &eth, &err) == 0 && (eth.flags & IFF_UP), "eth0 is up inside A");
    ok(eth.mac[0] == 0x02 && eth.mac[1] == 0x42 && eth.mac[2] == 10 && eth.mac[5] == 2, "... MAC 02:42:0a:58:00:02");
    ok(hull_rtnl_get_link(&in_a, "lo", &l, &err) == 0 && (l.flags & IFF_UP), "lo is up inside A");
    struct hull_route *routes;
    size_t nr;
    bool def = false;
    if (hull_rtnl_routes(&in_a, AF_INET, &routes, &nr, &err) == 0) {
        char g[HULL_IP_STRLEN];
        for (size_t i = 0; i < nr; i++)
            if (routes[i].dst.plen == 0 && !strcmp(hull_ip_fmt(&routes[i].gw, g, sizeof g), "10.88.0.1")) def = true;
        free(routes);
    }
    ok(def, "A's default route goes via 10.88.0.1");
    hull_nl_close(&in_a);

    /* traffic: A connects to a server on the gateway */
    int srv = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(18081)};
    memcpy(&sa.sin_addr, pa.net.gateway.a, 4);
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ok(bind(srv, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(srv, 4) == 0, "a server on 10.88.0.1:18081");
    int cs = socket_in(a.pid);
    ok(cs >= 0 && connect(cs, (struct sockaddr *)&sa, sizeof sa) == 0, "A connects to it over the bridge");
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int acc = accept(srv, (struct sockaddr *)&peer, &pl);
    ok(acc >= 0 && memcmp(&peer.sin_addr, pa.ip.a, 4) == 0, "... the server sees A's address");
    if (acc >= 0) close(acc);
    if (cs >= 0) close(cs);
    close(srv);

    /* B joins: the two know each other by name */
    fake_start(&b, "bbbb2222");
    struct hull_net_plan pb;
    is_int(prep(b.id, "beta", NULL, NULL, &pb, &err), 0, "prepare B");
    is_str(hull_ip_fmt(&pb.ip, ip, sizeof ip), "10.88.0.3", "B leases 10.88.0.3");
    is_int(hull_net_attach(&pb, b.pid, &err), 0, "attach B");
    hull_net_plan_done(&pb);
    like(read_ctr_file(b.id, "hosts"), "10.88.0.2\talpha\n", "B's hosts names A");
    like(read_ctr_file(a.id, "hosts"), "10.88.0.3\tbeta\n", "A's hosts was updated with B");

    /* published ports and a conflict */
    fake_start(&c, "cccc3333");
    struct hull_net_plan pc, pd;
    is_int(prep(c.id, "gamma", NULL, "18080:80", &pc, &err), 0, "prepare C with -p 18080:80 (%s)", err.msg);
    is_int((long long)rules_with("hull:cccc3333 "), 2, "C has its two DNAT rules");
    fake_start(&d, "dddd4444");
    int r = prep(d.id, "delta", NULL, "18080:81", &pd, &err);
    ok(r == -EADDRINUSE, "D publishing the same host port fails");
    like(err.msg, "already published by container cccc3333", "... naming the container that has it (%s)", err.msg);
    ok(!has_lease("bridge", d.id) && rules_with("hull:dddd4444") == 0, "... and leaves no lease or rule for D");
    int busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in bs = {.sin_family = AF_INET, .sin_port = htons(18090)};
    ok(bind(busy, (struct sockaddr *)&bs, sizeof bs) == 0 && listen(busy, 1) == 0, "a host program listens on 18090");
    r = prep(d.id, "delta", NULL, "18090:80", &pd, &err);
    ok(r == -EADDRINUSE && strstr(err.msg, "in use by a program on this host"), "publishing it fails (%s)", err.msg);
    close(busy);
    r = prep(d.id, "delta", "none", "18091:80", &pd, &err);
    ok(r == -EINVAL && strstr(err.msg, "needs a bridge network"), "-p with --network none refused (%s)", err.msg);
    r = prep(d.id, "delta", "nosuchnet", NULL, &pd, &err);
    ok(r == -ENOENT && strstr(err.msg, "network \"nosuchnet\" not found"), "a missing network (%s)", err.msg);
    ok(!has_lease("bridge", d.id), "none of D's attempts left a lease");

    /* release A: its lease, and its line in B's hosts, go */
    is_int(hull_net_release(root, a.id, true, &err), 0, "release A (%s)", err.msg);
    ok(!has_lease("bridge", a.id), "A's lease is gone");
    ok(!strstr(read_ctr_file(b.id, "hosts"), "alpha"), "B's hosts no longer names A");
    is_int(hull_net_release(root, a.id, true, &err), 0, "releasing again is harmless");
    fake_stop(&a);

    /* none mode: loopback only */
    struct hull_net_plan pn;
    is_int(prep(d.id, "delta", "none", NULL, &pn, &err), 0, "prepare D with --network none");
    is_int(hull_net_attach(&pn, d.pid, &err), 0, "attach D");
    hull_net_plan_done(&pn);
    struct hull_link *links;
    size_t nl;
    int nsd = ns_of(d.pid);
    struct hull_nl in_d;
    hull_nl_open(&in_d, NETLINK_ROUTE, nsd, &err);
    close(nsd);
    ok(hull_rtnl_links(&in_d, &links, &nl, &err) == 0 && nl == 1 && !strcmp(links[0].name, "lo") &&
       (links[0].flags & IFF_UP), "D has only lo, and it is up");
    free(links);
    hull_nl_close(&in_d);
    ok(!has_lease("bridge", d.id), "none takes no lease");

    /* ns: joins what it is given, and leaves it alone */
    struct hull_net_plan ps;
    char nspath[64];
    snprintf(nspath, sizeof nspath, "ns:/proc/%d/ns/net", (int)d.pid);
    is_int(prep("eeee5555", "eps", nspath, NULL, &ps, &err), -ENOENT, "ns: for a container with no directory fails");
    hull_mkdir_p(root, 0700);
    char edir[512];
    snprintf(edir, sizeof edir, "%s/containers/eeee5555", root);
    hull_mkdir_p(edir, 0700);
    is_int(prep("eeee5555", "eps", nspath, NULL, &ps, &err), 0, "ns:/proc/PID/ns/net");
    is_str(ps.ns_path, nspath + 3, "... the plan joins that path");
    is_int(hull_net_attach(&ps, 1, &err), 0, "... and attach does nothing to it");
    hull_net_plan_done(&ps);
    r = prep("eeee5555", "eps", "ns:/nonexistent/ns", NULL, &ps, &err);
    ok(r < 0 && strstr(err.msg, "ns:/nonexistent/ns"), "a missing ns: path fails (%s)", err.msg);

    /* a crash: C is gone without release (its hull died: the set-up lock went
     * with it); prune takes its lease, rules and links */
    hull_net_plan_done(&pc);
    fake_stop(&c);
    struct hull_veth stale = {.name = "hvstale", .peer = "hvstalep", .peer_netns_fd = -1};
    char alias[128], tag[9];
    hull_net_root_tag(root, tag);
    hull_net_tag(c.id, tag, NULL, alias, sizeof alias);
    stale.alias = alias;
    hull_rtnl_add_veth(&rt, &stale);
    is_int(hull_nl_commit(&rt, &err), 0, "a veth left behind for C (both ends on the host)");
    struct hull_veth other = {.name = "hvother", .peer = "hvotherp", .peer_netns_fd = -1, .alias = "hull:cccc3333 r=ffffffff"};
    hull_rtnl_add_veth(&rt, &other);
    hull_nl_commit(&rt, &err);
    char *live[] = {b.id};
    struct hull_net_pruned pr;
    is_int(hull_net_prune(root, live, 1, &pr, &err), 0, "prune with B alive (%s)", err.msg);
    ok(pr.leases == 1 && pr.rules == 2 && pr.links == 1, "... 1 lease, 2 rules, 1 link (%zu, %zu, %zu)", pr.leases,
       pr.rules, pr.links);
    ok(!has_lease("bridge", c.id) && rules_with("hull:cccc3333") == 0, "C's lease and rules are gone");
    ok(hull_rtnl_get_link(&rt, "hvstale", &l, &err) == -ENODEV, "C's stale veth is gone");
    ok(hull_rtnl_get_link(&rt, "hvother", &l, &err) == 0, "a link tagged by another data root is left alone");
    ok(has_lease("bridge", b.id), "B (alive) keeps its lease");
    ok(hull_rtnl_get_link(&rt, pb.veth, &l, &err) == 0, "... and its veth");
    /* a container in set-up holds its lock: prune leaves it alone */
    struct hull_net_plan pe;
    fake_start(&c, "ffff6666");
    is_int(prep(c.id, "phi", NULL, NULL, &pe, &err), 0, "prepare F (not attached yet)");
    is_int(hull_net_prune(root, live, 1, &pr, &err), 0, "prune while F is being set up");
    ok(has_lease("bridge", c.id), "F keeps its lease: its set-up lock is held");
    hull_net_plan_done(&pe);
    is_int(hull_net_prune(root, live, 1, &pr, &err), 0, "prune once F's set-up is over (and it never ran)");
    ok(!has_lease("bridge", c.id), "F's lease is reclaimed");

    /* info */
    struct hull_net_info info;
    ok(hull_net_info(root, b.id, &info, &err) == 0 && info.mode == HULL_NET_BRIDGE &&
       !strcmp(hull_ip_fmt(&info.ip, ip, sizeof ip), "10.88.0.3"), "info: B is on the bridge at 10.88.0.3");
    ok(hull_net_info(root, "nosuch", &info, &err) == -ENOENT, "info of a container without a record: ENOENT");
    is_int(hull_net_release(root, b.id, false, &err), 0, "release B");

    /* subnet choice: what this namespace routes is avoided; hull0 is adopted */
    struct hull_cidr pick;
    char cb[HULL_CIDR_STRLEN];
    is_int(hull_network_pick_subnet(&rt, root, &pick, &err), 0, "pick a subnet with hull0 on 10.88/16");
    is_str(hull_cidr_fmt(&pick, cb, sizeof cb), "10.89.0.0/16", "... 10.89/16: 10.88/16 is routed already");
    struct hull_link dummy;
    struct hull_veth dv = {.name = "hvpick", .peer = "hvpickp", .peer_netns_fd = -1, .up = true};
    hull_rtnl_add_veth(&rt, &dv);
    hull_nl_commit(&rt, &err);
    hull_rtnl_get_link(&rt, "hvpick", &dummy, &err);
    struct hull_ip a89;
    hull_ip_parse("10.89.7.1", &a89, &err);
    hull_rtnl_addr(&rt, true, dummy.index, &a89, 30, false, false);
    hull_nl_commit(&rt, &err);
    is_int(hull_network_pick_subnet(&rt, root, &pick, &err), 0, "with an address in 10.89/16 too");
    is_str(hull_cidr_fmt(&pick, cb, sizeof cb), "10.90.0.0/16", "... 10.90/16");
    struct hull_cidr want;
    hull_cidr_parse("10.89.0.0/16", &want, &err);
    ok(hull_network_check_subnet(&rt, root, &want, NULL, &err) == -EEXIST, "a user subnet over that address is refused");
    like(err.msg, "overlaps the route to 10.89.7.0/30 on this host", "... saying why (%s)", err.msg);
    char root2[300];
    snprintf(root2, sizeof root2, "%s/second-root", root);
    hull_mkdir_p(root2, 0700);
    struct hull_network adopted;
    is_int(hull_network_default(&rt, root2, &adopted, &err), 0, "a second data root's default network");
    is_str(hull_cidr_fmt(&adopted.subnet, cb, sizeof cb), "10.88.0.0/16", "... adopts the existing hull0's subnet");

    fake_stop(&b);
    fake_stop(&c);
    fake_stop(&d);
    hull_nl_close(&rt);
    hull_rm_rf(root);
    return done_testing();
}
