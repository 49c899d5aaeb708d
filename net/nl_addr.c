/* rtnetlink addresses and routes: add, delete, read back. */
#include "net/internal.h"
#include "net/rtnl.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hull_rtnl_addr(struct hull_nl *nl, bool add, int index, const struct hull_ip *ip, int plen, bool nodad,
                    bool tolerate) {
    char a[HULL_IP_STRLEN];
    hull_ip_fmt(ip, a, sizeof a);
    struct nlmsghdr *nlh = hull_nl_msg(nl, add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
                                       tolerate ? (add ? EEXIST : EADDRNOTAVAIL) : 0, "%s address %s/%d",
                                       add ? "add" : "delete", a, plen);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = (unsigned char)ip->family;
    ifa->ifa_prefixlen = (unsigned char)plen;
    ifa->ifa_index = (unsigned)index;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    size_t len = hull_ip_len(ip);
    mnl_attr_put(nlh, IFA_LOCAL, len, ip->a);
    mnl_attr_put(nlh, IFA_ADDRESS, len, ip->a);
    if (ip->family == AF_INET && add && plen < 31) {
        /* the directed broadcast, as `ip addr add ... brd +` would set it */
        uint8_t brd[4];
        for (int i = 0; i < 4; i++) {
            int bits = plen - i * 8;
            uint8_t host = bits >= 8 ? 0 : bits <= 0 ? 0xff : (uint8_t)(0xff >> bits);
            brd[i] = ip->a[i] | host;
        }
        mnl_attr_put(nlh, IFA_BROADCAST, 4, brd);
    }
    if (add && nodad) mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
}

void hull_rtnl_route(struct hull_nl *nl, bool add, const struct hull_cidr *dst, const struct hull_ip *gw, int oif,
                     bool tolerate) {
    char d[HULL_CIDR_STRLEN];
    hull_cidr_fmt(dst, d, sizeof d);
    struct nlmsghdr *nlh = hull_nl_msg(nl, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
                                       tolerate ? (add ? EEXIST : ESRCH) : 0, "%s route %s",
                                       add ? "add" : "delete", dst->plen ? d : "default");
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof *rt);
    rt->rtm_family = (unsigned char)dst->ip.family;
    rt->rtm_dst_len = (unsigned char)dst->plen;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_type = RTN_UNICAST;
    rt->rtm_scope = gw && gw->family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    if (!add) rt->rtm_scope = RT_SCOPE_NOWHERE;
    if (dst->plen) mnl_attr_put(nlh, RTA_DST, hull_ip_len(&dst->ip), dst->ip.a);
    if (gw && gw->family) mnl_attr_put(nlh, RTA_GATEWAY, hull_ip_len(gw), gw->a);
    if (oif > 0) mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
}

/* ---- read back --------------------------------------------------------------- */

static int addr_attr(const struct nlattr *a, void *data) {
    struct hull_addr *x = data;
    size_t want = hull_ip_len(&x->ip);
    switch (mnl_attr_get_type(a)) {
    case IFA_LOCAL:
        /* IPv4: the local address (IFA_ADDRESS is the peer on point-to-point links) */
        if (mnl_attr_get_payload_len(a) == want) memcpy(x->ip.a, mnl_attr_get_payload(a), want);
        break;
    case IFA_ADDRESS:
        if (x->ip.family == AF_INET6 && mnl_attr_get_payload_len(a) == want)
            memcpy(x->ip.a, mnl_attr_get_payload(a), want);
        break;
    case IFA_FLAGS:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) x->flags = mnl_attr_get_u32(a);
        break;
    }
    return MNL_CB_OK;
}

static int addrs_cb(const struct nlmsghdr *nlh, void *data) {
    if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg)) return 0;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return 0;
    struct hull_addr x = {.index = (int)ifa->ifa_index, .plen = ifa->ifa_prefixlen, .flags = ifa->ifa_flags};
    x.ip.family = ifa->ifa_family;
    if (mnl_attr_parse(nlh, sizeof *ifa, addr_attr, &x) < 0) return -1;
    struct hull_addr *slot = hull_vec_push(data);
    if (slot) *slot = x;
    return 0;
}

int hull_rtnl_addrs(struct hull_nl *nl, int family, struct hull_addr **v, size_t *n, struct hull_err *err) {
    char req[HULL_NL_MSG_ROOM];
    struct nlmsghdr *nlh = hull_nl_req_start(nl, req, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = (unsigned char)family;
    struct hull_vec x = {.elem = sizeof **v};
    int r = hull_nl_request(nl, nlh, addrs_cb, &x, "list addresses", err);
    if (r == 0 && x.oom) r = hull_err_set(err, ENOMEM, "list addresses: out of memory");
    if (r < 0) { free(x.v); x.v = NULL; x.n = 0; }
    *v = x.v;
    *n = x.n;
    return r;
}

static int route_attr(const struct nlattr *a, void *data) {
    struct hull_route *x = data;
    size_t want = hull_ip_len(&x->dst.ip);
    switch (mnl_attr_get_type(a)) {
    case RTA_DST:
        if (mnl_attr_get_payload_len(a) == want) memcpy(x->dst.ip.a, mnl_attr_get_payload(a), want);
        break;
    case RTA_GATEWAY:
        if (mnl_attr_get_payload_len(a) == want) {
            x->gw.family = x->dst.ip.family;
            memcpy(x->gw.a, mnl_attr_get_payload(a), want);
        }
        break;
    case RTA_OIF:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) x->oif = (int)mnl_attr_get_u32(a);
        break;
    case RTA_TABLE:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) x->table = mnl_attr_get_u32(a);
        break;
    }
    return MNL_CB_OK;
}

static int routes_cb(const struct nlmsghdr *nlh, void *data) {
    if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg)) return 0;
    const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
    if ((rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6) || (rt->rtm_flags & RTM_F_CLONED)) return 0;
    struct hull_route x = {.table = rt->rtm_table, .type = rt->rtm_type, .scope = rt->rtm_scope};
    x.dst.ip.family = rt->rtm_family;
    x.dst.plen = rt->rtm_dst_len;
    if (x.dst.plen > (rt->rtm_family == AF_INET ? 32 : 128)) return -1;
    if (mnl_attr_parse(nlh, sizeof *rt, route_attr, &x) < 0) return -1;
    struct hull_route *slot = hull_vec_push(data);
    if (slot) *slot = x;
    return 0;
}

int hull_rtnl_routes(struct hull_nl *nl, int family, struct hull_route **v, size_t *n, struct hull_err *err) {
    char req[HULL_NL_MSG_ROOM];
    struct nlmsghdr *nlh = hull_nl_req_start(nl, req, RTM_GETROUTE, NLM_F_DUMP);
    struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof *rt);
    rt->rtm_family = (unsigned char)family;
    struct hull_vec x = {.elem = sizeof **v};
    int r = hull_nl_request(nl, nlh, routes_cb, &x, "list routes", err);
    if (r == 0 && x.oom) r = hull_err_set(err, ENOMEM, "list routes: out of memory");
    if (r < 0) { free(x.v); x.v = NULL; x.n = 0; }
    *v = x.v;
    *n = x.n;
    return r;
}
