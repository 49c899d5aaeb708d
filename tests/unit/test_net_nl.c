/* net/ rtnetlink layer against the kernel, inside a network namespace of its
 * own (unshare(CLONE_NEWNET)): links (bridge, veth with the peer born in a
 * second namespace, rename, MTU, up/down, move by fd, delete), addresses,
 * routes, read back, batching, and the kernel's extended-ack messages. */
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/rtnl.h"
#include "net_helpers.h"
#include "tap.h"

static int self_ns = -1, other_ns = -1;

/* A second namespace to move links into: made by unsharing again, then back. */
static int make_other_ns(void) {
    self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ns < 0 || unshare(CLONE_NEWNET) < 0) return -1;
    other_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    return setns(self_ns, CLONE_NEWNET);
}

static bool has_addr(struct hull_nl *nl, int index, const char *ip, int plen) {
    struct hull_addr *v;
    size_t n;
    struct hull_err err;
    struct hull_ip want;
    if (hull_rtnl_addrs(nl, AF_UNSPEC, &v, &n, &err) < 0 || hull_ip_parse(ip, &want, &err) < 0) return false;
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (v[i].index == index && v[i].plen == plen && hull_ip_eq(&v[i].ip, &want)) found = true;
    free(v);
    return found;
}

static bool has_route(struct hull_nl *nl, int family, const char *dst, const char *gw) {
    struct hull_route *v;
    size_t n;
    struct hull_err err;
    struct hull_cidr d;
    struct hull_ip g = {0};
    if (hull_rtnl_routes(nl, family, &v, &n, &err) < 0 || hull_cidr_parse(dst, &d, &err) < 0) return false;
    if (gw && hull_ip_parse(gw, &g, &err) < 0) return false;
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (v[i].table == RT_TABLE_MAIN && v[i].dst.plen == d.plen && hull_ip_eq(&v[i].dst.ip, &d.ip) &&
            (!gw || hull_ip_eq(&v[i].gw, &g)))
            found = true;
    free(v);
    return found;
}

int main(void) {
    net_test_unshare();
    if (make_other_ns() < 0) bail_out("a second network namespace (the first one worked): %s", strerror(errno));
    struct hull_nl nl, other;
    struct hull_err err = {0};
    net_test_nl_open(&nl, NETLINK_ROUTE, "route", &err);
    int r = hull_nl_open(&other, NETLINK_ROUTE, other_ns, &err);
    is_int(r, 0, "a socket inside another namespace (%s)", err.msg);

    /* loopback up */
    struct hull_link_change lo = HULL_LINK_CHANGE_INIT;
    lo.name = "lo";
    lo.up = 1;
    hull_rtnl_set_link(&nl, &lo);
    is_int(hull_nl_commit(&nl, &err), 0, "lo up by name");
    struct hull_link l;
    ok(hull_rtnl_get_link(&nl, "lo", &l, &err) == 0 && (l.flags & IFF_UP) && l.index == 1, "lo reads back up, index 1");

    /* bridge */
    hull_rtnl_add_bridge(&nl, "tb0", false);
    is_int(hull_nl_commit(&nl, &err), 0, "create bridge tb0");
    struct hull_link br;
    is_int(hull_rtnl_get_link(&nl, "tb0", &br, &err), 0, "read it back");
    is_str(br.kind, "bridge", "its kind is bridge");
    hull_rtnl_add_bridge(&nl, "tb0", false);
    r = hull_nl_commit(&nl, &err);
    ok(r == -EEXIST, "creating it again fails with EEXIST");
    like(err.msg, "create bridge tb0: File exists", "... the error names the request (%s)", err.msg);
    hull_rtnl_add_bridge(&nl, "tb0", true);
    is_int(hull_nl_commit(&nl, &err), 0, "... unless an existing one is welcome");
    r = hull_rtnl_get_link(&nl, "nosuch0", &l, &err);
    ok(r == -ENODEV, "get_link of a missing link: ENODEV (%s)", err.msg);

    /* veth: host end on the bridge, peer born in the other namespace with a fixed MAC */
    static const uint8_t mac[6] = {0x02, 0x42, 10, 55, 0, 2};
    struct hull_veth v = {.name = "tv0", .peer = "eth0", .peer_netns_fd = other_ns, .peer_mac = mac,
                          .master = br.index, .up = true, .alias = "hull test owner"};
    hull_rtnl_add_veth(&nl, &v);
    is_int(hull_nl_commit(&nl, &err), 0, "veth pair with the peer in another namespace (%s)", err.msg);
    is_int(hull_rtnl_get_link(&nl, "tv0", &l, &err), 0, "host end exists");
    is_str(l.kind, "veth", "... a veth");
    is_int(l.master, br.index, "... enslaved to the bridge at creation");
    ok(l.flags & IFF_UP, "... up");
    is_str(l.alias, "hull test owner", "... with its alias");
    ok(hull_rtnl_get_link(&nl, "eth0", &l, &err) == -ENODEV, "the peer is not here");
    struct hull_link peer;
    is_int(hull_rtnl_get_link(&other, "eth0", &peer, &err), 0, "the peer is in the other namespace, named eth0");
    ok(memcmp(peer.mac, mac, 6) == 0, "... with the MAC asked for");
    ok(!(peer.flags & IFF_UP), "... and down (the caller brings it up where it lives)");
    struct hull_link_change pu = HULL_LINK_CHANGE_INIT;
    pu.name = "eth0";
    pu.up = 1;
    hull_rtnl_set_link(&other, &pu);
    ok(hull_nl_commit(&other, &err) == 0 && hull_rtnl_get_link(&other, "eth0", &peer, &err) == 0 &&
       (peer.flags & IFF_UP), "the peer goes up through the other namespace's socket");

    /* MTU, down, rename, move by fd */
    struct hull_link_change c = HULL_LINK_CHANGE_INIT;
    c.name = "tv0";
    c.mtu = 1400;
    c.up = 0;
    hull_rtnl_set_link(&nl, &c);
    is_int(hull_nl_commit(&nl, &err), 0, "MTU 1400 and down");
    ok(hull_rtnl_get_link(&nl, "tv0", &l, &err) == 0 && l.mtu == 1400 && !(l.flags & IFF_UP), "... read back");
    struct hull_veth v2 = {.name = "tva", .peer = "tvb", .peer_netns_fd = -1};
    hull_rtnl_add_veth(&nl, &v2);
    is_int(hull_nl_commit(&nl, &err), 0, "a second veth pair, both ends here");
    struct hull_link a;
    hull_rtnl_get_link(&nl, "tva", &a, &err);
    struct hull_link_change rn = HULL_LINK_CHANGE_INIT;
    rn.index = a.index;
    rn.new_name = "tvc";
    hull_rtnl_set_link(&nl, &rn);
    is_int(hull_nl_commit(&nl, &err), 0, "rename tva -> tvc by index");
    ok(hull_rtnl_get_link(&nl, "tvc", &l, &err) == 0 && l.index == a.index, "tvc is the same link");
    ok(hull_rtnl_get_link(&nl, "tva", &l, &err) == -ENODEV, "tva is gone");
    struct hull_link_change mv = HULL_LINK_CHANGE_INIT;
    mv.name = "tvb";
    mv.netns_fd = other_ns;
    hull_rtnl_set_link(&nl, &mv);
    is_int(hull_nl_commit(&nl, &err), 0, "move tvb into the other namespace by fd");
    ok(hull_rtnl_get_link(&nl, "tvb", &l, &err) == -ENODEV && hull_rtnl_get_link(&other, "tvb", &l, &err) == 0,
       "... it left here and arrived there");

    /* addresses */
    struct hull_link_change up = HULL_LINK_CHANGE_INIT;
    up.index = br.index;
    up.up = 1;
    hull_rtnl_set_link(&nl, &up);
    struct hull_ip ip4, ip6;
    hull_ip_parse("10.55.0.1", &ip4, &err);
    hull_ip_parse("fd55::1", &ip6, &err);
    hull_rtnl_addr(&nl, true, br.index, &ip4, 24, false, false);
    hull_rtnl_addr(&nl, true, br.index, &ip6, 64, true, false);
    is_int(hull_nl_commit(&nl, &err), 0, "bridge up + IPv4 and IPv6 addresses in one batch (%s)", err.msg);
    ok(has_addr(&nl, br.index, "10.55.0.1", 24), "IPv4 address reads back");
    ok(has_addr(&nl, br.index, "fd55::1", 64), "IPv6 address reads back");
    {
        struct hull_addr *av;
        size_t an;
        bool nodad = false;
        if (hull_rtnl_addrs(&nl, AF_INET6, &av, &an, &err) == 0) {
            for (size_t i = 0; i < an; i++)
                if (av[i].index == br.index && hull_ip_eq(&av[i].ip, &ip6)) nodad = (av[i].flags & IFA_F_NODAD) != 0;
            free(av);
        }
        ok(nodad, "... flagged nodad (usable at once)");
    }
    hull_rtnl_addr(&nl, true, br.index, &ip4, 24, false, false);
    r = hull_nl_commit(&nl, &err);
    ok(r == -EEXIST, "adding it again: EEXIST (%s)", err.msg);
    hull_rtnl_addr(&nl, true, br.index, &ip4, 24, false, true);
    is_int(hull_nl_commit(&nl, &err), 0, "... tolerated when asked");

    /* routes */
    struct hull_cidr dst, def = {.ip = {.family = AF_INET}, .plen = 0};
    struct hull_ip gw;
    hull_cidr_parse("10.66.0.0/16", &dst, &err);
    hull_ip_parse("10.55.0.2", &gw, &err);
    hull_rtnl_route(&nl, true, &dst, &gw, 0, false);
    hull_rtnl_route(&nl, true, &def, &gw, 0, false);
    is_int(hull_nl_commit(&nl, &err), 0, "route 10.66/16 and a default route via 10.55.0.2 (%s)", err.msg);
    ok(has_route(&nl, AF_INET, "10.66.0.0/16", "10.55.0.2"), "10.66/16 reads back with its gateway");
    ok(has_route(&nl, AF_INET, "0.0.0.0/0", "10.55.0.2"), "the default route reads back");
    ok(has_route(&nl, AF_INET, "10.55.0.0/24", NULL), "the bridge's connected route is listed");

    /* extended ack: the kernel says why */
    struct hull_cidr far;
    struct hull_ip nowhere;
    hull_cidr_parse("10.77.0.0/16", &far, &err);
    hull_ip_parse("192.0.2.99", &nowhere, &err);
    hull_rtnl_route(&nl, true, &far, &nowhere, 0, false);
    r = hull_nl_commit(&nl, &err);
    ok(r < 0, "a route via an unreachable gateway fails");
    like(err.msg, "add route 10.77.0.0/16", "... the message names the request");
    like(err.msg, "(", "... and carries the kernel's extended ack: %s", err.msg);

    /* a batch with an error in the middle: the first error is reported, the rest applied */
    struct hull_cidr d2;
    hull_cidr_parse("10.67.0.0/16", &d2, &err);
    hull_rtnl_route(&nl, true, &dst, &gw, 0, false);   /* exists already */
    hull_rtnl_route(&nl, true, &d2, &gw, 0, false);
    r = hull_nl_commit(&nl, &err);
    ok(r == -EEXIST, "batch: the failing request is reported (%s)", err.msg);
    ok(has_route(&nl, AF_INET, "10.67.0.0/16", "10.55.0.2"), "batch: the request after it was applied");

    /* deletes */
    hull_rtnl_route(&nl, false, &dst, &gw, 0, false);
    hull_rtnl_addr(&nl, false, br.index, &ip6, 64, false, false);
    is_int(hull_nl_commit(&nl, &err), 0, "delete a route and an address");
    ok(!has_route(&nl, AF_INET, "10.66.0.0/16", NULL), "route gone");
    ok(!has_addr(&nl, br.index, "fd55::1", 64), "address gone");
    hull_rtnl_route(&nl, false, &dst, &gw, 0, true);
    hull_rtnl_addr(&nl, false, br.index, &ip6, 64, false, true);
    is_int(hull_nl_commit(&nl, &err), 0, "deleting them again is tolerated when asked (%s)", err.msg);
    hull_rtnl_del_link(&nl, "tv0", false);
    hull_rtnl_del_link(&nl, "tb0", false);
    is_int(hull_nl_commit(&nl, &err), 0, "delete the veth and the bridge");
    ok(hull_rtnl_get_link(&other, "eth0", &l, &err) == -ENODEV, "deleting one end took the peer with it");
    hull_rtnl_del_link(&nl, "tb0", false);
    ok(hull_nl_commit(&nl, &err) == -ENODEV, "deleting a missing link: ENODEV (%s)", err.msg);
    hull_rtnl_del_link(&nl, "tb0", true);
    is_int(hull_nl_commit(&nl, &err), 0, "... tolerated when asked");

    /* a full list */
    struct hull_link *links;
    size_t nlinks;
    is_int(hull_rtnl_links(&nl, &links, &nlinks, &err), 0, "list links");
    bool saw_lo = false, saw_tvc = false;
    for (size_t i = 0; i < nlinks; i++) {
        if (!strcmp(links[i].name, "lo")) saw_lo = true;
        if (!strcmp(links[i].name, "tvc")) saw_tvc = true;
    }
    free(links);
    ok(saw_lo && saw_tvc, "... lo and tvc are in it");

    /* overflow: too many requests in one batch is an error, not a crash */
    for (int i = 0; i < HULL_NL_PENDING_MAX + 5; i++) hull_rtnl_del_link(&nl, "nosuch", true);
    ok(hull_nl_commit(&nl, &err) == -ENOBUFS, "an overfull batch fails cleanly (%s)", err.msg);
    hull_rtnl_del_link(&nl, "nosuch", true);
    is_int(hull_nl_commit(&nl, &err), 0, "... and the socket is usable afterwards");

    hull_nl_close(&other);
    hull_nl_close(&nl);
    return done_testing();
}
