/* IPAM: network configs and lease files under a temp data root. Allocation
 * order, exhaustion of a /29 (5 usable after the gateway), release, corrupt
 * files refused, 100 allocate/release cycles leaving nothing, and concurrent
 * allocators (forked processes under the networks lock) never sharing an
 * address. No network namespace needed: nothing here touches the kernel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/network.h"
#include "base/fsutil.h"
#include "tap.h"

static char root[256];

static void mknet(struct hull_network *n, const char *name, const char *subnet) {
    memset(n, 0, sizeof *n);
    struct hull_err err;
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->bridge, sizeof n->bridge, "hull9");
    hull_cidr_parse(subnet, &n->subnet, &err);
    hull_cidr_nth(&n->subnet, 1, &n->gateway);
}

/* lock, read, pick, append, write, unlock: what prepare does */
static int alloc(const struct hull_network *n, const char *id, struct hull_ip *ip, struct hull_err *err) {
    int lock = hull_netstore_lock(root, err);
    if (lock < 0) return lock;
    struct hull_lease *v;
    size_t cnt;
    int r = hull_leases_read(root, n, &v, &cnt, err);
    if (r == 0) {
        struct hull_lease l = {0};
        r = hull_ipam_pick(n, v, cnt, &l.ip, err);
        if (r == 0) {
            snprintf(l.id, sizeof l.id, "%s", id);
            snprintf(l.name, sizeof l.name, "n-%s", id);
            v = realloc(v, (cnt + 1) * sizeof *v);
            v[cnt++] = l;
            r = hull_leases_write(root, n, v, cnt, err);
            *ip = l.ip;
        }
        free(v);
    }
    close(lock);
    return r;
}

static int release(const struct hull_network *n, const char *id, struct hull_err *err) {
    int lock = hull_netstore_lock(root, err);
    if (lock < 0) return lock;
    struct hull_lease *v;
    size_t cnt, k = 0;
    int r = hull_leases_read(root, n, &v, &cnt, err);
    for (size_t i = 0; r == 0 && i < cnt; i++)
        if (strcmp(v[i].id, id)) v[k++] = v[i];
    if (r == 0) r = hull_leases_write(root, n, v, k, err);
    free(v);
    close(lock);
    return r;
}

static size_t count(const struct hull_network *n) {
    struct hull_lease *v;
    size_t cnt = 0;
    struct hull_err err;
    if (hull_leases_read(root, n, &v, &cnt, &err) < 0) return (size_t)-1;
    free(v);
    return cnt;
}

static void put_file(const char *rel, const char *text) {
    char p[512];
    hull_netstore_path(root, rel, p, sizeof p);
    FILE *f = fopen(p, "w");
    if (f) { fputs(text, f); fclose(f); }
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/hull-test-ipam.XXXXXX");
    if (!mkdtemp(root)) bail_out("mkdtemp %s: %s", root, strerror(errno));
    struct hull_err err = {0};
    char b[64];

    /* configs */
    struct hull_network n, back;
    mknet(&n, "small", "192.168.77.0/29");
    snprintf(n.created, sizeof n.created, "2024-01-01T00:00:00Z");
    is_int(hull_network_save(root, &n, &err), 0, "save a network (%s)", err.msg);
    is_int(hull_network_load(root, "small", &back, &err), 0, "load it back");
    ok(!strcmp(back.bridge, "hull9") && hull_ip_eq(&back.gateway, &n.gateway) && back.subnet.plen == 29,
       "... bridge, subnet, gateway survive");
    ok(hull_network_load(root, "nosuch", &back, &err) == -ENOENT, "a missing network: ENOENT");
    like(err.msg, "network \"nosuch\" not found", "... said plainly");
    ok(hull_network_load(root, "../etc", &back, &err) < 0, "a path as a network name is refused");
    struct hull_network bad = n;
    hull_ip_parse("10.0.0.1", &bad.gateway, &err);
    ok(hull_network_save(root, &bad, &err) < 0, "a gateway outside the subnet is refused");
    like(err.msg, "gateway", "... saying so (%s)", err.msg);
    mknet(&bad, "tiny", "10.9.9.0/31");
    ok(hull_network_save(root, &bad, &err) < 0, "a /31 is refused (no room)");
    mknet(&bad, "v6small", "10.10.0.0/16");
    hull_cidr_parse("fd00::/120", &bad.subnet6, &err);
    hull_cidr_nth(&bad.subnet6, 1, &bad.gateway6);
    ok(hull_network_save(root, &bad, &err) < 0, "an IPv6 subnet smaller than the IPv4 one is refused");
    put_file("broken.json", "{\"bridge\": 5}");
    ok(hull_network_load(root, "broken", &back, &err) < 0, "a corrupt network file is an error");
    like(err.msg, "corrupt", "... called corrupt");
    {
        char p[512];
        hull_netstore_path(root, "broken.json", p, sizeof p);
        unlink(p);
    }

    /* allocation: lowest free, skipping network, gateway and broadcast */
    is_int((long long)hull_ipam_capacity(&n), 5, "a /29 has 5 addresses for containers");
    struct hull_ip ip;
    char ids[8][8];
    for (int i = 0; i < 5; i++) {
        snprintf(ids[i], sizeof ids[i], "c%d", i);
        is_int(alloc(&n, ids[i], &ip, &err), 0, "allocation %d", i + 1);
    }
    is_str(hull_ip_fmt(&ip, b, sizeof b), "192.168.77.6", "the fifth is .6 (.1 gateway, .7 broadcast)");
    int r = alloc(&n, "c5", &ip, &err);
    ok(r == -ENOSPC, "the sixth fails with ENOSPC");
    like(err.msg, "no free address in 192.168.77.0/29 (all 5 in use", "... with a clear message (%s)", err.msg);
    is_int(release(&n, "c2", &err), 0, "release the third");
    is_int(alloc(&n, "c6", &ip, &err), 0, "allocate again");
    is_str(hull_ip_fmt(&ip, b, sizeof b), "192.168.77.4", "... gets the freed address back");
    for (int i = 0; i < 7; i++) release(&n, i == 2 ? "c6" : ids[i], &err);
    is_int((long long)count(&n), 0, "all released: no lease left");

    /* 100 allocate/release cycles on a /24 leave nothing */
    struct hull_network big;
    mknet(&big, "big", "10.123.0.0/24");
    hull_network_save(root, &big, &err);
    int fails = 0;
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "x%d", i);
        if (alloc(&big, id, &ip, &err) < 0) fails++;
        if (i % 3 == 2)   /* release in batches, out of order */
            for (int k = i; k > i - 3; k--) {
                snprintf(id, sizeof id, "x%d", k);
                if (release(&big, id, &err) < 0) fails++;
            }
    }
    release(&big, "x99", &err);
    is_int(fails, 0, "100 containers allocated and released");
    is_int((long long)count(&big), 0, "... no lease left");

    /* concurrency: 8 processes x 20 allocations, all distinct */
    enum { PROCS = 8, EACH = 20 };
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        if ((kids[k] = fork()) == 0) {
            for (int i = 0; i < EACH; i++) {
                char id[16];
                struct hull_ip mine;
                struct hull_err e;
                snprintf(id, sizeof id, "p%d-%d", k, i);
                if (alloc(&big, id, &mine, &e) < 0) _exit(1);
            }
            _exit(0);
        }
    }
    int bad_kids = 0;
    for (int k = 0; k < PROCS; k++) {
        int st;
        waitpid(kids[k], &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) bad_kids++;
    }
    is_int(bad_kids, 0, "8 concurrent allocators all succeeded");
    struct hull_lease *v;
    size_t cnt;
    hull_leases_read(root, &big, &v, &cnt, &err);
    is_int((long long)cnt, PROCS * EACH, "... 160 leases");
    int dup = 0;
    for (size_t i = 0; i < cnt; i++)
        for (size_t k = i + 1; k < cnt; k++)
            if (hull_ip_eq(&v[i].ip, &v[k].ip)) dup++;
    is_int(dup, 0, "... no address given twice");
    free(v);

    /* IPv6 twins */
    struct hull_network dual;
    mknet(&dual, "dual", "10.124.0.0/24");
    hull_cidr_parse("fd00:124::/64", &dual.subnet6, &err);
    hull_cidr_nth(&dual.subnet6, 1, &dual.gateway6);
    is_int(hull_network_save(root, &dual, &err), 0, "a dual-stack network (%s)", err.msg);
    hull_ip_parse("10.124.0.9", &ip, &err);
    struct hull_ip ip6;
    hull_ipam_ip6(&dual, &ip, &ip6);
    is_str(hull_ip_fmt(&ip6, b, sizeof b), "fd00:124::9", "the IPv6 twin has the same offset");

    /* hostile lease files */
    static const char *const corrupt[] = {
        "192.168.77.2 c1\n",                          /* too few fields */
        "192.168.77.2 c1 n h extra\n",                /* too many */
        "10.0.0.2 c1 n -\n",                          /* outside the subnet */
        "192.168.77.2 ../x n -\n",                    /* a path as an id */
        "192.168.77.2 c1 n bad#host\n",               /* not a hostname */
        "not-an-ip c1 n -\n",
    };
    for (size_t i = 0; i < sizeof corrupt / sizeof *corrupt; i++) {
        put_file("small.leases", corrupt[i]);
        struct hull_lease *lv;
        size_t ln;
        r = hull_leases_read(root, &n, &lv, &ln, &err);
        ok(r == -EINVAL && strstr(err.msg, "small.leases:1 is corrupt"), "corrupt lease file %zu refused (%s)", i,
           err.msg);
    }
    put_file("small.leases", "192.168.77.2 c1 n -\n\n192.168.77.3 c2 m host-2\n");
    struct hull_lease *lv;
    size_t ln = 0;
    ok(hull_leases_read(root, &n, &lv, &ln, &err) == 0 && ln == 2 && !strcmp(lv[1].host, "host-2") && !lv[0].host[0],
       "a good file with a blank line reads");
    if (ln) free(lv);

    /* list */
    struct hull_network *all;
    size_t na;
    is_int(hull_network_list(root, &all, &na, &err), 0, "list networks");
    ok(na == 3 && !strcmp(all[0].name, "big") && !strcmp(all[1].name, "dual") && !strcmp(all[2].name, "small"),
       "... big, dual, small, sorted (the refused ones were never saved)");
    free(all);
    is_int(hull_network_forget(root, "small", &err), 0, "forget a network");
    ok(hull_network_load(root, "small", &back, &err) == -ENOENT && count(&n) == 0, "... config and leases gone");

    hull_rm_rf(root);
    return done_testing();
}
