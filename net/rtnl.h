/* rtnetlink on top of nl.h: links (bridge, veth), addresses and routes.
 * The "add/set/del" calls append a request to the socket's batch and never
 * fail on their own: hull_nl_commit sends the batch and reports the first
 * error with the kernel's extended-ack text. The read-back calls are
 * immediate requests. Implemented in nl_link.c and nl_addr.c. */
#ifndef HULL_NET_RTNL_H
#define HULL_NET_RTNL_H

#include <stdbool.h>
#include <stdint.h>
#include "net/ipaddr.h"
#include "net/nl.h"

#define HULL_IFNAMSIZ 16

struct hull_link {
    int index;
    char name[HULL_IFNAMSIZ];
    char kind[16];                  /* IFLA_INFO_KIND: "bridge", "veth", "" for lo/physical */
    unsigned flags;                 /* IFF_* */
    unsigned mtu;
    int master;                     /* ifindex of the bridge it is a port of, 0 if none */
    char alias[128];                /* IFLA_IFALIAS */
    uint8_t mac[6];
};

/* New bridge; ok_exists: an existing link of that name is not an error. */
void hull_rtnl_add_bridge(struct hull_nl *nl, const char *name, bool ok_exists);

struct hull_veth {
    const char *name;               /* this end, created in the socket's namespace */
    const char *peer;               /* the other end's name */
    int peer_netns_fd;              /* -1: the peer stays here; else it is born in that namespace */
    const uint8_t *peer_mac;        /* NULL: random */
    int master;                     /* ifindex of a bridge for this end, 0: none */
    unsigned mtu;                   /* 0: default */
    bool up;                        /* this end up (the peer must be set up separately) */
    const char *alias;              /* IFLA_IFALIAS of this end (who owns it), NULL: none */
};
void hull_rtnl_add_veth(struct hull_nl *nl, const struct hull_veth *v);

void hull_rtnl_del_link(struct hull_nl *nl, const char *name, bool ok_missing);

struct hull_link_change {
    int index;                      /* > 0 names the link; else name does */
    const char *name;
    int up;                         /* 1 up, 0 down, -1 unchanged */
    unsigned mtu;                   /* 0: unchanged */
    const char *new_name;           /* rename (needs index) */
    int netns_fd;                   /* >= 0: move into that namespace */
    int master;                     /* >= 0: set (0 = detach from its bridge); -1 unchanged */
    const char *alias;              /* NULL unchanged */
};
#define HULL_LINK_CHANGE_INIT { .up = -1, .netns_fd = -1, .master = -1 }
void hull_rtnl_set_link(struct hull_nl *nl, const struct hull_link_change *c);

/* Address add/delete; nodad: usable at once (IPv6 duplicate detection off). */
void hull_rtnl_addr(struct hull_nl *nl, bool add, int index, const struct hull_ip *ip, int plen, bool nodad,
                    bool tolerate);
/* Route add/delete in the main table: dst (plen 0 = default), via gw (family
 * 0: none, a link route), out of oif (0: let the kernel find it from gw). */
void hull_rtnl_route(struct hull_nl *nl, bool add, const struct hull_cidr *dst, const struct hull_ip *gw, int oif,
                     bool tolerate);

/* Read back. get_link: -ENODEV (with err) when there is no such link. */
int hull_rtnl_get_link(struct hull_nl *nl, const char *name, struct hull_link *out, struct hull_err *err);
int hull_rtnl_links(struct hull_nl *nl, struct hull_link **v, size_t *n, struct hull_err *err);

struct hull_addr {
    int index;
    struct hull_ip ip;
    int plen;
    unsigned flags;                 /* IFA_F_* */
};
/* family AF_INET, AF_INET6 or AF_UNSPEC (both). */
int hull_rtnl_addrs(struct hull_nl *nl, int family, struct hull_addr **v, size_t *n, struct hull_err *err);

struct hull_route {
    struct hull_cidr dst;
    struct hull_ip gw;              /* family 0: no gateway */
    int oif;
    unsigned table, type, scope;
};
/* Every route of the family in every table (local, main, ...). */
int hull_rtnl_routes(struct hull_nl *nl, int family, struct hull_route **v, size_t *n, struct hull_err *err);

#endif
