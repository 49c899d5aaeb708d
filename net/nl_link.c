/* rtnetlink links: bridge and veth creation, changes, deletion, read back. */
#include "net/rtnl.h"
#include "net/internal.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ifinfomsg *ifi_put(struct nlmsghdr *nlh) {
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    return ifi;
}

void hull_rtnl_add_bridge(struct hull_nl *nl, const char *name, bool ok_exists) {
    struct nlmsghdr *nlh = hull_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ok_exists ? EEXIST : 0,
                                       "create bridge %s", name);
    ifi_put(nlh);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(nlh, li);
}

void hull_rtnl_add_veth(struct hull_nl *nl, const struct hull_veth *v) {
    struct nlmsghdr *nlh = hull_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, "create veth pair %s/%s",
                                       v->name, v->peer);
    struct ifinfomsg *ifi = ifi_put(nlh);
    if (v->up) { ifi->ifi_flags = IFF_UP; ifi->ifi_change = IFF_UP; }
    mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
    if (v->mtu) mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
    if (v->master > 0) mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)v->master);
    struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    /* the peer is described by its own ifinfomsg + attributes */
    struct ifinfomsg *pifi = mnl_nlmsg_get_payload_tail(nlh);
    nlh->nlmsg_len += MNL_ALIGN(sizeof *pifi);
    memset(pifi, 0, sizeof *pifi);
    pifi->ifi_family = AF_UNSPEC;
    /* not IFF_UP here: the kernel opens the peer before the pair is linked
     * and refuses (ENOTCONN); the peer is brought up by a later request */
    mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer);
    if (v->peer_netns_fd >= 0) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
    if (v->peer_mac) mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->peer_mac);
    if (v->mtu) mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
    mnl_attr_nest_end(nlh, peer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, li);
    if (v->alias) {
        /* a new link ignores IFLA_IFALIAS: set it in a second request of the same batch */
        struct hull_link_change c = HULL_LINK_CHANGE_INIT;
        c.name = v->name;
        c.alias = v->alias;
        hull_rtnl_set_link(nl, &c);
    }
}

void hull_rtnl_del_link(struct hull_nl *nl, const char *name, bool ok_missing) {
    struct nlmsghdr *nlh = hull_nl_msg(nl, RTM_DELLINK, 0, ok_missing ? ENODEV : 0, "delete link %s", name);
    ifi_put(nlh);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
}

void hull_rtnl_set_link(struct hull_nl *nl, const struct hull_link_change *c) {
    char who[32];
    if (c->index > 0) snprintf(who, sizeof who, "%s (index %d)", c->name ? c->name : "link", c->index);
    else snprintf(who, sizeof who, "%s", c->name ? c->name : "?");
    struct nlmsghdr *nlh = hull_nl_msg(nl, RTM_NEWLINK, 0, 0, "change link %s", who);
    struct ifinfomsg *ifi = ifi_put(nlh);
    if (c->index > 0) {
        ifi->ifi_index = c->index;
        if (c->new_name) mnl_attr_put_strz(nlh, IFLA_IFNAME, c->new_name);
    } else if (c->name) {
        mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
    }
    if (c->up >= 0) { ifi->ifi_change = IFF_UP; ifi->ifi_flags = c->up ? IFF_UP : 0; }
    if (c->mtu) mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
    if (c->netns_fd >= 0) mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
    if (c->master >= 0) mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)c->master);
    if (c->alias) mnl_attr_put_strz(nlh, IFLA_IFALIAS, c->alias);
}

/* ---- read back --------------------------------------------------------------- */

static int linkinfo_attr(const struct nlattr *a, void *data) {
    struct hull_link *l = data;
    if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
        snprintf(l->kind, sizeof l->kind, "%.*s", (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
    return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data) {
    struct hull_link *l = data;
    switch (mnl_attr_get_type(a)) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
            snprintf(l->name, sizeof l->name, "%.*s", (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
        break;
    case IFLA_IFALIAS:
        if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
            snprintf(l->alias, sizeof l->alias, "%.*s", (int)mnl_attr_get_payload_len(a), mnl_attr_get_str(a));
        break;
    case IFLA_MTU:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) l->mtu = mnl_attr_get_u32(a);
        break;
    case IFLA_MASTER:
        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) l->master = (int)mnl_attr_get_u32(a);
        break;
    case IFLA_ADDRESS:
        if (mnl_attr_get_payload_len(a) == 6) memcpy(l->mac, mnl_attr_get_payload(a), 6);
        break;
    case IFLA_LINKINFO:
        if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0) mnl_attr_parse_nested(a, linkinfo_attr, l);
        break;
    }
    return MNL_CB_OK;
}

static int parse_link(const struct nlmsghdr *nlh, struct hull_link *l) {
    if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg)) return 1;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    memset(l, 0, sizeof *l);
    l->index = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    return mnl_attr_parse(nlh, sizeof *ifi, link_attr, l) < 0 ? -1 : 0;
}

static int one_link_cb(const struct nlmsghdr *nlh, void *data) {
    return parse_link(nlh, data) < 0 ? -1 : 0;
}

int hull_rtnl_get_link(struct hull_nl *nl, const char *name, struct hull_link *out, struct hull_err *err) {
    char req[HULL_NL_MSG_ROOM];
    struct nlmsghdr *nlh = hull_nl_req_start(nl, req, RTM_GETLINK, 0);
    ifi_put(nlh);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    memset(out, 0, sizeof *out);
    char what[64];
    snprintf(what, sizeof what, "link %s", name);
    int r = hull_nl_request(nl, nlh, one_link_cb, out, what, err);
    if (r == 0 && out->index <= 0) return hull_err_set(err, ENODEV, "link %s: no answer", name);
    return r;
}

static int links_cb(const struct nlmsghdr *nlh, void *data) {
    struct hull_link l;
    int r = parse_link(nlh, &l);
    if (r) return r < 0 ? -1 : 0;
    struct hull_link *slot = hull_vec_push(data);
    if (slot) *slot = l;
    return 0;
}

int hull_rtnl_links(struct hull_nl *nl, struct hull_link **v, size_t *n, struct hull_err *err) {
    char req[HULL_NL_MSG_ROOM];
    struct nlmsghdr *nlh = hull_nl_req_start(nl, req, RTM_GETLINK, NLM_F_DUMP);
    ifi_put(nlh);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    struct hull_vec x = {.elem = sizeof **v};
    int r = hull_nl_request(nl, nlh, links_cb, &x, "list links", err);
    if (r == 0 && x.oom) r = hull_err_set(err, ENOMEM, "list links: out of memory");
    if (r < 0) { free(x.v); x.v = NULL; x.n = 0; }
    *v = x.v;
    *n = x.n;
    return r;
}
