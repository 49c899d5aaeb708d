/* net/nft.c against the kernel, in a network namespace of its own: the
 * "inet hull" table, a bridge's masquerade chain (idempotent), published-port
 * rules with their comments, listing, deleting by match, dropping a network,
 * errors carried from the kernel. nft(8), when installed, confirms what the
 * kernel holds in its own words. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/nft.h"
#include "net_helpers.h"
#include "tap.h"

static char *nft_list(void) {
    if (access("/usr/sbin/nft", X_OK) != 0) return NULL;
    FILE *f = popen("/usr/sbin/nft list table inet hull 2>&1", "r");
    if (!f) return NULL;
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    pclose(f);
    return buf;
}

static size_t count_rules(struct hull_nl *nl, const char *chain, const char *needle) {
    struct hull_nft_rule *v;
    size_t n, k = 0;
    struct hull_err err;
    if (hull_nft_rules(nl, &v, &n, &err) < 0) return (size_t)-1;
    for (size_t i = 0; i < n; i++)
        if ((!chain || !strcmp(v[i].chain, chain)) && (!needle || strstr(v[i].comment, needle))) k++;
    free(v);
    return k;
}

static bool match_owner(const struct hull_nft_rule *r, void *data) { return strstr(r->comment, data) != NULL; }

int main(void) {
    net_test_unshare();
    struct hull_nl nl;
    struct hull_err err = {0};
    int r;
    net_test_nl_open(&nl, NETLINK_NETFILTER, "netfilter", &err);

    struct hull_nft_rule *v;
    size_t n = 99;
    ok(hull_nft_rules(&nl, &v, &n, &err) == 0 && n == 0, "no table yet: no rules, no error");
    ok(hull_nft_network_ready(&nl, "hull0", &err) == 0, "the network is not ready yet");
    ok(hull_nft_drop_network(&nl, "hull0", &err) == 0, "dropping a missing network is fine");

    struct hull_cidr sub, sub6;
    hull_cidr_parse("10.88.0.0/16", &sub, &err);
    hull_cidr_parse("fd00:88::/64", &sub6, &err);
    is_int(hull_nft_ensure_network(&nl, "hull0", &sub, &sub6, &err), 0, "ensure network hull0 (%s)", err.msg);
    ok(hull_nft_network_ready(&nl, "hull0", &err) == 1, "now it is ready");
    is_int((long long)count_rules(&nl, "post-hull0", NULL), 2, "two masquerade rules (IPv4, IPv6)");
    is_int(hull_nft_ensure_network(&nl, "hull0", &sub, &sub6, &err), 0, "ensure again");
    is_int((long long)count_rules(&nl, "post-hull0", NULL), 2, "... still two: the chain is flushed and refilled");
    struct hull_cidr sub2;
    hull_cidr_parse("10.89.0.0/16", &sub2, &err);
    is_int(hull_nft_ensure_network(&nl, "hull1", &sub2, NULL, &err), 0, "a second network");
    is_int((long long)count_rules(&nl, "post-hull1", NULL), 1, "... one IPv4 rule in its own chain");

    struct hull_ip cip;
    hull_ip_parse("10.88.0.2", &cip, &err);
    struct hull_port ports[2];
    hull_port_parse("8080:80", &ports[0], &err);
    hull_port_parse("192.0.2.1:5353:53/udp", &ports[1], &err);
    char *comments[2] = {"hull:ctrA r=00000000 p=0.0.0.0:8080:80/tcp", "hull:ctrA r=00000000 p=192.0.2.1:5353:53/udp"};
    is_int(hull_nft_add_ports(&nl, &cip, ports, comments, 2, &err), 0, "publish two ports (%s)", err.msg);
    is_int((long long)count_rules(&nl, "prerouting", "hull:ctrA"), 2, "two prerouting rules carry the container's tag");
    is_int((long long)count_rules(&nl, "output", "hull:ctrA"), 2, "two output rules too");
    char *comments_b[1] = {"hull:ctrB r=00000000 p=0.0.0.0:9090:90/tcp"};
    hull_port_parse("9090:90", &ports[0], &err);
    hull_ip_parse("10.88.0.3", &cip, &err);
    is_int(hull_nft_add_ports(&nl, &cip, ports, comments_b, 1, &err), 0, "another container's port");

    char *text = nft_list();
    if (text) {
        like(text, "ip saddr 10.88.0.0/16 oifname != \"hull0\" masquerade", "nft sees the masquerade rule");
        like(text, "ip6 saddr fd00:88::/64 oifname != \"hull0\" masquerade", "... and its IPv6 twin");
        like(text, "fib daddr type local tcp dport 8080 dnat ip to 10.88.0.2:80", "nft sees the DNAT for 8080");
        like(text, "ip daddr 192.0.2.1 udp dport 5353 dnat ip to 10.88.0.2:53", "... and the one bound to 192.0.2.1");
        like(text, "ip daddr != 127.0.0.0/8", "output DNAT leaves loopback alone");
        like(text, "comment \"hull:ctrA r=00000000 p=0.0.0.0:8080:80/tcp\"", "... with the container's tag as comment");
    } else {
        skip("nft(8) not installed");
        skip("nft(8) not installed");
        skip("nft(8) not installed");
        skip("nft(8) not installed");
        skip("nft(8) not installed");
        skip("nft(8) not installed");
    }

    size_t gone = 0;
    is_int(hull_nft_delete_matching(&nl, match_owner, "hull:ctrA ", &gone, &err), 0, "delete container A's rules");
    is_int((long long)gone, 4, "... four of them");
    is_int((long long)count_rules(&nl, NULL, "hull:ctrA"), 0, "... none left");
    is_int((long long)count_rules(&nl, NULL, "hull:ctrB"), 2, "... B's untouched");
    is_int(hull_nft_delete_matching(&nl, match_owner, "hull:ctrA ", &gone, &err), 0, "deleting again: nothing to do");
    is_int((long long)gone, 0, "... zero deleted");

    /* many rules: more than one batch */
    struct hull_port many[60];
    char *mc[60];
    char store[60][80];
    for (int i = 0; i < 60; i++) {
        char s[32];
        snprintf(s, sizeof s, "%d:80", 20000 + i);
        hull_port_parse(s, &many[i], &err);
        snprintf(store[i], sizeof store[i], "hull:ctrM r=00000000 p=0.0.0.0:%d:80/tcp", 20000 + i);
        mc[i] = store[i];
    }
    is_int(hull_nft_add_ports(&nl, &cip, many, mc, 60, &err), 0, "120 rules in one batch (%s)", err.msg);
    is_int(hull_nft_delete_matching(&nl, match_owner, "hull:ctrM ", &gone, &err), 0, "delete them all");
    is_int((long long)gone, 120, "... 120, over more than one batch");

    /* the kernel's refusal travels up */
    struct hull_ip v6ip;
    hull_ip_parse("fd00::2", &v6ip, &err);
    ok(hull_nft_add_ports(&nl, &v6ip, ports, comments_b, 1, &err) < 0, "an IPv6 container address is refused");

    /* a refusal by the kernel in the middle of a batch: the whole batch is
     * answered (no hang), the error names the request and says why */
    if (system("/usr/sbin/nft delete chain inet hull output 2>/dev/null") == 0) {
        hull_port_parse("9191:91", &ports[0], &err);
        r = hull_nft_add_ports(&nl, &cip, ports, comments_b, 1, &err);
        ok(r == -ENOENT, "publishing into a chain that is gone fails: ENOENT (%s)", err.msg);
        like(err.msg, "nft: publish 0.0.0.0:9191:91/tcp", "... naming the request");
        is_int((long long)count_rules(&nl, "prerouting", "9191"), 0, "... and nothing of the batch was applied");
    } else {
        skip("nft(8) not installed");
        skip("nft(8) not installed");
        skip("nft(8) not installed");
    }

    is_int(hull_nft_drop_network(&nl, "hull1", &err), 0, "drop network hull1");
    ok(hull_nft_network_ready(&nl, "hull1", &err) == 0, "... its chain is gone");
    ok(hull_nft_network_ready(&nl, "hull0", &err) == 1, "... hull0's is not");
    hull_nl_close(&nl);
    return done_testing();
}
