/* net/ parsers and text builders on good and hostile input: addresses,
 * CIDRs, names, -p mappings, rule tags, resolv.conf filtering, hosts files. */
#include <stdlib.h>
#include <string.h>

#include "net/etcfiles.h"
#include "net/internal.h"
#include "net/ipaddr.h"
#include "tap.h"

static int cidr_ok(const char *s, const char *want) {
    struct hull_cidr c;
    struct hull_err err;
    char b[HULL_CIDR_STRLEN];
    return hull_cidr_parse(s, &c, &err) == 0 && !strcmp(hull_cidr_fmt(&c, b, sizeof b), want);
}

static const char *cidr_err(const char *s) {
    static struct hull_err err;
    struct hull_cidr c;
    memset(&err, 0, sizeof err);
    return hull_cidr_parse(s, &c, &err) < 0 ? err.msg : NULL;
}

static const char *port_err(const char *s) {
    static struct hull_err err;
    struct hull_port p;
    memset(&err, 0, sizeof err);
    return hull_port_parse(s, &p, &err) < 0 ? err.msg : NULL;
}

int main(void) {
    struct hull_err err;
    struct hull_ip ip;
    char b[64];

    /* addresses */
    ok(hull_ip_parse("10.1.2.3", &ip, &err) == 0 && ip.family == AF_INET, "IPv4 address");
    ok(hull_ip_parse("fd00::1", &ip, &err) == 0 && ip.family == AF_INET6, "IPv6 address");
    ok(hull_ip_parse("10.1.2", &ip, &err) < 0, "three octets refused");
    ok(hull_ip_parse("010.1.2.3", &ip, &err) < 0, "leading zeros refused (no octal guessing)");
    ok(hull_ip_parse("", &ip, &err) < 0 && hull_ip_parse("1.2.3.4 ", &ip, &err) < 0, "empty and trailing space refused");
    hull_ip_parse("127.0.0.53", &ip, &err);
    ok(hull_ip_is_loopback(&ip), "127.0.0.53 is loopback");
    hull_ip_parse("::1", &ip, &err);
    ok(hull_ip_is_loopback(&ip), "::1 is loopback");
    hull_ip_parse("::ffff:127.0.0.1", &ip, &err);
    ok(hull_ip_is_loopback(&ip), "v4-mapped 127.0.0.1 is loopback");
    hull_ip_parse("10.0.0.1", &ip, &err);
    ok(!hull_ip_is_loopback(&ip), "10.0.0.1 is not");

    /* CIDR */
    ok(cidr_ok("10.88.0.0/16", "10.88.0.0/16"), "10.88.0.0/16");
    ok(cidr_ok("192.168.5.8/29", "192.168.5.8/29"), "a /29");
    ok(cidr_ok("fd00:1::/64", "fd00:1::/64"), "IPv6 /64");
    ok(cidr_ok("0.0.0.0/0", "0.0.0.0/0"), "/0");
    like(cidr_err("10.88.0.1/16"), "host bits are set (the network is 10.88.0.0/16)", "host bits set: says which network");
    like(cidr_err("10.88.0.0/33"), "out of range", "/33 refused");
    like(cidr_err("fd00::/129"), "out of range", "/129 refused");
    like(cidr_err("10.88.0.0"), "expected ADDRESS/PREFIX", "no prefix refused");
    like(cidr_err("10.88.0.0/"), "bad prefix", "empty prefix refused");
    like(cidr_err("10.88.0.0/1x"), "bad prefix", "garbage prefix refused");
    like(cidr_err("10.88.0.0/-1"), "bad prefix", "negative prefix refused");
    like(cidr_err("10.88.0.0/0016"), "bad prefix", "over-long prefix refused");
    like(cidr_err("banana/16"), "not an IPv4 or IPv6 address", "garbage address refused");
    like(cidr_err("/16"), "bad address", "no address refused");
    ok(cidr_err(NULL) != NULL, "NULL refused");
    struct hull_cidr a, c2;
    hull_cidr_parse("10.88.0.0/16", &a, &err);
    hull_cidr_parse("10.88.4.0/24", &c2, &err);
    ok(hull_cidr_overlap(&a, &c2) && hull_cidr_overlap(&c2, &a), "a /24 inside a /16 overlaps, both ways");
    hull_cidr_parse("10.89.0.0/16", &c2, &err);
    ok(!hull_cidr_overlap(&a, &c2), "neighbouring /16s do not overlap");
    hull_cidr_parse("fd00::/8", &c2, &err);
    ok(!hull_cidr_overlap(&a, &c2), "families never overlap");
    ok(hull_cidr_nth(&a, 1, &ip) && !strcmp(hull_ip_fmt(&ip, b, sizeof b), "10.88.0.1"), "nth 1 = .0.1");
    ok(hull_cidr_nth(&a, 65535, &ip) && !strcmp(hull_ip_fmt(&ip, b, sizeof b), "10.88.255.255"), "nth 65535 = broadcast");
    ok(!hull_cidr_nth(&a, 65536, &ip), "nth 65536 does not fit");
    is_int((long long)hull_cidr_offset(&a, &ip), 65535, "offset of the broadcast");
    struct hull_cidr v6;
    hull_cidr_parse("fd00:1::/64", &v6, &err);
    ok(hull_cidr_nth(&v6, 258, &ip) && !strcmp(hull_ip_fmt(&ip, b, sizeof b), "fd00:1::102"), "IPv6 nth with carry");

    /* names */
    ok(hull_ifname_validate("hull0", &err) == 0, "hull0 is an interface name");
    ok(hull_ifname_validate("abcdefghijklmno", &err) == 0, "15 characters fit");
    ok(hull_ifname_validate("abcdefghijklmnop", &err) < 0, "16 do not");
    ok(hull_ifname_validate("a/b", &err) < 0 && hull_ifname_validate("a b", &err) < 0 &&
       hull_ifname_validate("a:b", &err) < 0 && hull_ifname_validate("..", &err) < 0 &&
       hull_ifname_validate("", &err) < 0 && hull_ifname_validate("x\n", &err) < 0,
       "'/', space, ':', \"..\", empty, control characters refused");
    ok(hull_netname_validate("web-net.1_a", &err) == 0, "a network name");
    ok(hull_netname_validate("-x", &err) < 0 && hull_netname_validate("a/b", &err) < 0 &&
       hull_netname_validate("none", &err) < 0 && hull_netname_validate("host", &err) < 0 &&
       hull_netname_validate("", &err) < 0, "bad network names and mode keywords refused");
    ok(hull_hostsname_ok("web-1.local") && !hull_hostsname_ok("a b") && !hull_hostsname_ok("-x") &&
       !hull_hostsname_ok("a#b") && !hull_hostsname_ok(""), "hosts-file names");

    /* -p */
    struct hull_port p;
    ok(hull_port_parse("8080:80", &p, &err) == 0 && p.host_port == 8080 && p.ctr_port == 80 && p.proto == HULL_TCP &&
       !p.host_ip.family, "8080:80 (tcp, every address)");
    ok(hull_port_parse("127.0.0.1:53:5353/udp", &p, &err) == 0 && p.proto == HULL_UDP && p.host_ip.family == AF_INET,
       "HOSTIP:53:5353/udp");
    ok(hull_port_parse("0.0.0.0:1:65535", &p, &err) == 0 && !p.host_ip.family, "0.0.0.0 means every address");
    like(port_err("0:80"), "host port \"0\"", "port 0 refused");
    like(port_err("65536:80"), "host port \"65536\"", "port 65536 refused");
    like(port_err("80:99999"), "container port \"99999\"", "container port out of range refused");
    like(port_err("80"), "expected [HOSTIP:]HOSTPORT:CONTAINERPORT", "a lone port refused");
    like(port_err("80:80/sctp"), "unknown protocol", "sctp refused");
    like(port_err("1.2.3:80:80"), "host address", "bad host address refused");
    like(port_err("[::1]:80:80"), "IPv6 host addresses are not supported", "IPv6 host address refused");
    like(port_err("a:b:c"), "host address", "garbage refused");
    like(port_err("+80:80"), "host port", "signs refused");
    struct hull_port q;
    hull_port_parse("8080:80", &p, &err);
    hull_port_parse("10.0.0.1:8080:81", &q, &err);
    ok(hull_port_clash(&p, &q), "any-address 8080 clashes with 10.0.0.1:8080");
    hull_port_parse("8080:80/udp", &q, &err);
    ok(!hull_port_clash(&p, &q), "tcp and udp do not clash");
    hull_port_parse("10.0.0.1:8080:80", &p, &err);
    hull_port_parse("10.0.0.2:8080:80", &q, &err);
    ok(!hull_port_clash(&p, &q), "different host addresses do not clash");
    char m[64];
    hull_port_parse("8080:80", &p, &err);
    is_str(hull_port_fmt(&p, m, sizeof m), "0.0.0.0:8080:80/tcp", "format round-trips through the parser");
    ok(hull_port_parse(m, &q, &err) == 0 && hull_port_clash(&p, &q) && q.ctr_port == 80, "... parsed back");

    /* rule tags */
    char tag[200], id[80], root[9];
    hull_net_tag("abc123", "0123abcd", &p, tag, sizeof tag);
    is_str(tag, "hull:abc123 r=0123abcd p=0.0.0.0:8080:80/tcp", "a rule comment");
    ok(hull_net_tag_parse(tag, id, sizeof id, root, &q) && !strcmp(id, "abc123") && !strcmp(root, "0123abcd") &&
       q.host_port == 8080, "... parsed back");
    ok(hull_net_tag_parse("hull:x r=0123abcd", id, sizeof id, root, &q) && q.host_port == 0, "a link alias (no port)");
    ok(!hull_net_tag_parse("hull:net hull0", id, sizeof id, root, &q), "the network rules' comment is not a tag");
    ok(!hull_net_tag_parse("hull:x r=0123ABCD", id, sizeof id, root, &q), "uppercase root tag refused");
    ok(!hull_net_tag_parse("hull:x r=0123abcd p=bogus", id, sizeof id, root, &q), "a bad port refused");
    ok(!hull_net_tag_parse("someone else's comment", id, sizeof id, root, &q), "other comments ignored");
    char v1[16], v2[16];
    hull_net_veth_name("aaaa", v1);
    hull_net_veth_name("aaab", v2);
    ok(strlen(v1) == 15 && !strncmp(v1, "hv", 2) && strcmp(v1, v2), "veth names: 15 characters, per id");

    /* resolv.conf */
    char *r = hull_resolv_filter("search example.com\nnameserver 127.0.0.53\noptions edns0\n", false, NULL);
    like(r, "search example.com", "search line kept");
    like(r, "options edns0", "options line kept");
    ok(r && !strstr(r, "127.0.0.53"), "the loopback resolver is gone");
    like(r, "nameserver 8.8.8.8", "... replaced by a public one");
    free(r);
    r = hull_resolv_filter("nameserver 127.0.0.53\n", false, "nameserver 10.1.1.1\nnameserver 127.0.0.1\n");
    like(r, "nameserver 10.1.1.1", "systemd-resolved's upstreams preferred over the public fallback");
    ok(r && !strstr(r, "8.8.8.8") && !strstr(r, "127.0.0.1"), "... and only the non-loopback ones");
    free(r);
    r = hull_resolv_filter("nameserver 10.0.0.2\nnameserver ::1\nnameserver fd00::53\nnameserver fe80::1%eth0\n",
                           false, NULL);
    ok(r && strstr(r, "10.0.0.2") && !strstr(r, "::1") && !strstr(r, "fd00::53") && !strstr(r, "fe80"),
       "IPv6 resolvers dropped without IPv6; zoned ones always");
    ok(r && !strstr(r, "8.8.8.8"), "no fallback when a real resolver is left");
    free(r);
    r = hull_resolv_filter("nameserver 10.0.0.2\nnameserver fd00::53\n", true, NULL);
    ok(r && strstr(r, "fd00::53"), "IPv6 resolvers kept with IPv6");
    free(r);
    r = hull_resolv_filter("nameserver\nnameserver 999.1.1.1\nnameservers 1.1.1.1\n", false, NULL);
    ok(r && strstr(r, "8.8.8.8") && !strstr(r, "999"), "garbage nameserver lines dropped");
    free(r);

    /* hosts */
    struct hull_network net = {0};
    hull_cidr_parse("10.88.0.0/16", &net.subnet, &err);
    hull_ip_parse("10.88.0.1", &net.gateway, &err);
    struct hull_lease leases[3] = {0};
    hull_ip_parse("10.88.0.2", &leases[0].ip, &err);
    strcpy(leases[0].id, "id-a");
    strcpy(leases[0].name, "alpha");
    hull_ip_parse("10.88.0.3", &leases[1].ip, &err);
    strcpy(leases[1].id, "id-b");
    strcpy(leases[1].name, "beta");
    strcpy(leases[1].host, "betahost");
    hull_ip_parse("10.88.0.4", &leases[2].ip, &err);
    strcpy(leases[2].id, "id-c");
    strcpy(leases[2].name, "we:ird");
    struct hull_hosts_self self = {.name = "alpha", .hostname = "abcdef123456", .ip = &leases[0].ip};
    char *h = hull_hosts_text(&self, "id-a", &net, leases, 3);
    like(h, "127.0.0.1\tlocalhost\n", "localhost");
    like(h, "10.88.0.2\tabcdef123456 alpha\n", "self: hostname and name");
    like(h, "10.88.0.3\tbeta betahost\n", "another container by name and hostname");
    ok(h && !strstr(h, "we:ird"), "a name unfit for hosts is left out");
    int times = 0;
    for (const char *x = h; x && (x = strstr(x, "alpha")); x++) times++;
    is_int(times, 1, "self listed once");
    free(h);
    struct hull_hosts_self lone = {.name = "x y", .hostname = NULL};
    h = hull_hosts_text(&lone, "id", NULL, NULL, 0);
    ok(h && !strstr(h, "x y") && strstr(h, "localhost"), "no address: localhost lines only");
    free(h);
    return done_testing();
}
