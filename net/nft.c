/* The "inet hull" nftables table (see nft.h). Rules are assembled from
 * expressions the way nft(8) compiles them, e.g. for a published port:
 *   meta nfproto ipv4  fib daddr type local | ip daddr HOSTIP
 *   meta l4proto tcp   th dport HOSTPORT    dnat ip to CIP:CPORT */
#include "net/nft.h"

#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/internal.h"

/* ---- expressions -------------------------------------------------------------- */

static void add(struct nftnl_rule *r, struct nftnl_expr *e) { if (e) nftnl_rule_add_expr(r, e); }

static void meta(struct nftnl_rule *r, uint32_t key) {
    struct nftnl_expr *e = nftnl_expr_alloc("meta");
    if (!e) return;
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    add(r, e);
}

static void cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len) {
    struct nftnl_expr *e = nftnl_expr_alloc("cmp");
    if (!e) return;
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    add(r, e);
}

static void cmp_u8(struct nftnl_rule *r, uint8_t v) { cmp(r, NFT_CMP_EQ, &v, 1); }

static void payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len) {
    struct nftnl_expr *e = nftnl_expr_alloc("payload");
    if (!e) return;
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    add(r, e);
}

/* reg1 &= mask (then compared against the network) */
static void mask(struct nftnl_rule *r, const uint8_t *m, uint32_t len) {
    static const uint8_t zero[16];
    struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
    if (!e) return;
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    add(r, e);
}

static void immediate(struct nftnl_rule *r, uint32_t reg, const void *data, uint32_t len) {
    struct nftnl_expr *e = nftnl_expr_alloc("immediate");
    if (!e) return;
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
    nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
    add(r, e);
}

static void nfproto(struct nftnl_rule *r, int family) {
    meta(r, NFT_META_NFPROTO);
    cmp_u8(r, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
}

/* ip saddr / ip6 saddr inside the prefix */
static void saddr_in(struct nftnl_rule *r, const struct hull_cidr *c) {
    bool v4 = c->ip.family == AF_INET;
    uint32_t len = v4 ? 4 : 16;
    payload(r, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 12 : 8, len);
    uint8_t m[16] = {0};
    for (int i = 0; i < c->plen; i++) m[i / 8] |= (uint8_t)(0x80 >> (i % 8));
    mask(r, m, len);
    cmp(r, NFT_CMP_EQ, c->ip.a, len);
}

static void oifname(struct nftnl_rule *r, uint32_t op, const char *name) {
    char buf[16] = {0};
    snprintf(buf, sizeof buf, "%s", name);
    meta(r, NFT_META_OIFNAME);
    cmp(r, op, buf, sizeof buf);
}

static void comment(struct nftnl_rule *r, const char *text) {
    struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    if (!u) return;
    if (nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, text))
        nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
    nftnl_udata_buf_free(u);
}

static struct nftnl_rule *rule_new(const char *chain) {
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (!r) return NULL;
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, HULL_NFT_TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    return r;
}

/* ---- batch plumbing ------------------------------------------------------------- */

static void batch_begin(struct hull_nl *nl) {
    uint32_t seq;
    void *buf = hull_nl_raw(nl, false, 0, NULL, &seq);
    nftnl_batch_begin(buf, seq);
}

static int batch_commit(struct hull_nl *nl, struct hull_err *err) {
    uint32_t seq;
    void *buf = hull_nl_raw(nl, false, 0, NULL, &seq);
    nftnl_batch_end(buf, seq);
    return hull_nl_commit(nl, err);
}

static struct nlmsghdr *msg(struct hull_nl *nl, uint16_t type, uint16_t flags, int ok_errno, const char *what) {
    uint32_t seq;
    void *buf = hull_nl_raw(nl, true, ok_errno, what, &seq);
    return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags | NLM_F_ACK, seq);
}

/* Appends r (freed) to the batch; a failed allocation anywhere makes r NULL. */
static void put_rule(struct hull_nl *nl, struct nftnl_rule *r, const char *what, bool *oom) {
    if (!r) { *oom = true; return; }
    struct nlmsghdr *nlh = msg(nl, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, 0, what);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
}

static void put_table(struct hull_nl *nl) {
    struct nftnl_table *t = nftnl_table_alloc();
    if (!t) return;
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, HULL_NFT_TABLE);
    nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
    nftnl_table_nlmsg_build_payload(msg(nl, NFT_MSG_NEWTABLE, NLM_F_CREATE, 0, "nft: add table inet hull"), t);
    nftnl_table_free(t);
}

static void put_base_chain(struct hull_nl *nl, const char *name, uint32_t hook, int prio) {
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (!c) return;
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HULL_NFT_TABLE);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    char what[96];
    snprintf(what, sizeof what, "nft: add chain inet hull %s", name);
    nftnl_chain_nlmsg_build_payload(msg(nl, NFT_MSG_NEWCHAIN, NLM_F_CREATE, 0, what), c);
    nftnl_chain_free(c);
}

static void put_chain_op(struct hull_nl *nl, uint16_t type, const char *name, int ok_errno, const char *what) {
    if (type == NFT_MSG_DELRULE) {   /* no handle: every rule of the chain */
        struct nftnl_rule *r = rule_new(name);
        if (!r) return;
        nftnl_rule_nlmsg_build_payload(msg(nl, type, 0, ok_errno, what), r);
        nftnl_rule_free(r);
        return;
    }
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (!c) return;
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HULL_NFT_TABLE);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
    nftnl_chain_nlmsg_build_payload(msg(nl, type, 0, ok_errno, what), c);
    nftnl_chain_free(c);
}

static void post_chain_name(const char *bridge, char *out, size_t len) { snprintf(out, len, "post-%s", bridge); }

/* ---- network chains --------------------------------------------------------------- */

static struct nftnl_rule *masq_rule(const char *chain, const struct hull_cidr *src, const char *bridge,
                                    uint32_t op, const char *note) {
    struct nftnl_rule *r = rule_new(chain);
    if (!r) return NULL;
    nfproto(r, src->ip.family);
    saddr_in(r, src);
    oifname(r, op, bridge);
    add(r, nftnl_expr_alloc("masq"));
    comment(r, note);
    return r;
}

int hull_nft_ensure_network(struct hull_nl *nl, const char *bridge, const struct hull_cidr *subnet,
                            const struct hull_cidr *subnet6, struct hull_err *err) {
    char chain[64], note[64];
    post_chain_name(bridge, chain, sizeof chain);
    snprintf(note, sizeof note, "hull:net %s", bridge);
    bool oom = false;
    batch_begin(nl);
    put_table(nl);
    put_base_chain(nl, "prerouting", NF_INET_PRE_ROUTING, NF_IP_PRI_NAT_DST);
    put_base_chain(nl, "output", NF_INET_LOCAL_OUT, NF_IP_PRI_NAT_DST);
    put_base_chain(nl, chain, NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC);
    put_chain_op(nl, NFT_MSG_DELRULE, chain, 0, "nft: flush the bridge's chain");
    /* outbound: the network's addresses leaving by any other interface */
    put_rule(nl, masq_rule(chain, subnet, bridge, NFT_CMP_NEQ, note), "nft: add masquerade rule", &oom);
    if (subnet6 && subnet6->ip.family)
        put_rule(nl, masq_rule(chain, subnet6, bridge, NFT_CMP_NEQ, note), "nft: add IPv6 masquerade rule", &oom);
    if (oom) { hull_nl_discard(nl); return hull_err_set(err, ENOMEM, "nft: out of memory"); }
    return batch_commit(nl, err);
}

static int chain_cb(const struct nlmsghdr *nlh, void *data) {
    (void)nlh;
    *(bool *)data = true;
    return 0;
}

int hull_nft_network_ready(struct hull_nl *nl, const char *bridge, struct hull_err *err) {
    char chain[64], req[HULL_NL_MSG_ROOM];
    post_chain_name(bridge, chain, sizeof chain);
    memset(req, 0, sizeof req);
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_ACK, ++nl->seq);
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (!c) return hull_err_set(err, ENOMEM, "nft: out of memory");
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HULL_NFT_TABLE);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    bool found = false;
    struct hull_err e2;
    int r = hull_nl_request(nl, nlh, chain_cb, &found, "nft: get chain", &e2);
    if (r < 0 && e2.code != ENOENT) { *err = e2; return r; }
    return r == 0 && found;
}

int hull_nft_drop_network(struct hull_nl *nl, const char *bridge, struct hull_err *err) {
    char chain[64];
    post_chain_name(bridge, chain, sizeof chain);
    int ready = hull_nft_network_ready(nl, bridge, err);
    if (ready <= 0) return ready;
    batch_begin(nl);
    put_chain_op(nl, NFT_MSG_DELRULE, chain, 0, "nft: flush the bridge's chain");
    put_chain_op(nl, NFT_MSG_DELCHAIN, chain, 0, "nft: delete the bridge's chain");
    return batch_commit(nl, err);
}

/* ---- published ports ------------------------------------------------------------- */

static struct nftnl_rule *dnat_rule(const char *chain, const struct hull_ip *ctr_ip, const struct hull_port *p,
                                    const char *note) {
    struct nftnl_rule *r = rule_new(chain);
    if (!r) return NULL;
    nfproto(r, AF_INET);
    if (p->host_ip.family) {
        payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);           /* ip daddr */
        cmp(r, NFT_CMP_EQ, p->host_ip.a, 4);
    } else {
        /* every local address, and only those: traffic routed through the
         * host to elsewhere keeps its destination */
        struct nftnl_expr *e = nftnl_expr_alloc("fib");
        if (e) {
            nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
            nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
            nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
            add(r, e);
        }
        uint32_t local = RTN_LOCAL;
        cmp(r, NFT_CMP_EQ, &local, sizeof local);
        /* not 127/8: a DNAT'ed packet keeps its loopback source, which the
         * kernel will not route out of the bridge (that would need
         * route_localnet on it, letting containers reach the host's loopback
         * services): such a connection is refused instead of hanging */
        if (!strcmp(chain, "output")) {
            payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 1);
            cmp(r, NFT_CMP_NEQ, (const uint8_t[]){127}, 1);
        }
    }
    meta(r, NFT_META_L4PROTO);
    cmp_u8(r, (uint8_t)p->proto);
    payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);               /* th dport */
    uint16_t hp = htons(p->host_port), cp = htons(p->ctr_port);
    cmp(r, NFT_CMP_EQ, &hp, 2);
    immediate(r, NFT_REG_1, ctr_ip->a, 4);
    immediate(r, NFT_REG_2, &cp, 2);
    struct nftnl_expr *e = nftnl_expr_alloc("nat");
    if (e) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
        add(r, e);
    }
    comment(r, note);
    return r;
}

int hull_nft_add_ports(struct hull_nl *nl, const struct hull_ip *ctr_ip, const struct hull_port *ports,
                       char *const *comments, size_t n, struct hull_err *err) {
    if (n == 0) return 0;
    if (ctr_ip->family != AF_INET) return hull_err_set(err, EINVAL, "published ports need an IPv4 container address");
    bool oom = false;
    batch_begin(nl);
    for (size_t i = 0; i < n; i++) {
        char what[96], m[64];
        snprintf(what, sizeof what, "nft: publish %s", hull_port_fmt(&ports[i], m, sizeof m));
        put_rule(nl, dnat_rule("prerouting", ctr_ip, &ports[i], comments[i]), what, &oom);
        put_rule(nl, dnat_rule("output", ctr_ip, &ports[i], comments[i]), what, &oom);
    }
    if (oom) { hull_nl_discard(nl); return hull_err_set(err, ENOMEM, "nft: out of memory"); }
    return batch_commit(nl, err);
}

/* ---- listing and deleting ------------------------------------------------------------ */

static int udata_cb(const struct nftnl_udata *attr, void *data) {
    uint8_t len = nftnl_udata_len(attr);
    const char *v = nftnl_udata_get(attr);
    if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && v[len - 1] == '\0')
        snprintf(data, 256, "%s", v);
    return 0;
}

static int rules_cb(const struct nlmsghdr *nlh, void *data) {
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (!r) return -1;
    if (nftnl_rule_nlmsg_parse(nlh, r) < 0) { nftnl_rule_free(r); return -1; }
    const char *table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
    if (!table || strcmp(table, HULL_NFT_TABLE) != 0 || nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) != NFPROTO_INET) {
        nftnl_rule_free(r);
        return 0;
    }
    struct hull_nft_rule x = {.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE)};
    const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
    snprintf(x.chain, sizeof x.chain, "%s", chain ? chain : "");
    uint32_t ulen = 0;
    const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
    if (ud && ulen) nftnl_udata_parse(ud, ulen, udata_cb, x.comment);
    nftnl_rule_free(r);
    struct hull_nft_rule *slot = hull_vec_push(data);
    if (slot) *slot = x;
    return 0;
}

int hull_nft_rules(struct hull_nl *nl, struct hull_nft_rule **v, size_t *n, struct hull_err *err) {
    *v = NULL;
    *n = 0;
    char req[HULL_NL_MSG_ROOM];
    memset(req, 0, sizeof req);
    struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, ++nl->seq);
    struct nftnl_rule *f = nftnl_rule_alloc();
    if (!f) return hull_err_set(err, ENOMEM, "nft: out of memory");
    nftnl_rule_set_str(f, NFTNL_RULE_TABLE, HULL_NFT_TABLE);
    nftnl_rule_nlmsg_build_payload(nlh, f);
    nftnl_rule_free(f);
    struct hull_vec x = {.elem = sizeof **v};
    struct hull_err e2;
    int r = hull_nl_request(nl, nlh, rules_cb, &x, "nft: list rules of table inet hull", &e2);
    if (r < 0 && e2.code == ENOENT) r = 0;   /* no table yet: no rules */
    else if (r < 0) *err = e2;
    if (r == 0 && x.oom) r = hull_err_set(err, ENOMEM, "nft: out of memory");
    if (r < 0) { free(x.v); return r; }
    *v = x.v;
    *n = x.n;
    return 0;
}

int hull_nft_delete_matching(struct hull_nl *nl, hull_nft_match match, void *data, size_t *deleted,
                             struct hull_err *err) {
    enum { PER_BATCH = 100 };   /* well inside HULL_NL_PENDING_MAX */
    size_t total = 0;
    if (deleted) *deleted = 0;
    for (int attempt = 0;;) {
        struct hull_nft_rule *v;
        size_t n, k = 0;
        int r = hull_nft_rules(nl, &v, &n, err);
        if (r < 0) return r;
        bool oom = false;
        for (size_t i = 0; i < n && k < PER_BATCH; i++) {
            if (!match(&v[i], data)) continue;
            if (k == 0) batch_begin(nl);
            struct nftnl_rule *rl = rule_new(v[i].chain);
            if (!rl) { oom = true; break; }
            nftnl_rule_set_u64(rl, NFTNL_RULE_HANDLE, v[i].handle);
            nftnl_rule_nlmsg_build_payload(msg(nl, NFT_MSG_DELRULE, 0, 0, "nft: delete rule"), rl);
            nftnl_rule_free(rl);
            k++;
        }
        free(v);
        if (oom) { hull_nl_discard(nl); return hull_err_set(err, ENOMEM, "nft: out of memory"); }
        if (k > 0 && (r = batch_commit(nl, err)) < 0) {
            if (err->code != ENOENT || ++attempt == 3) return r;
            continue;   /* someone else deleted one of them: look again */
        }
        total += k;
        if (deleted) *deleted = total;
        if (k < PER_BATCH) return 0;
    }
}
