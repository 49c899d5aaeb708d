/* hull's nftables table, "inet hull", built with libnftnl over an nl.h
 * NETLINK_NETFILTER socket; every change is one atomic nfnetlink batch.
 *   chain prerouting   nat, hook prerouting (dstnat): published ports, from outside
 *   chain output       nat, hook output (dstnat): published ports, from the host itself
 *   chain post-BRIDGE  nat, hook postrouting (srcnat), one per bridge: masquerade of
 *                      the network's traffic leaving by another interface
 * Ports are not published on 127.0.0.0/8 (see dnat_rule in nft.c).
 * Port rules carry a comment naming their container ("hull:<id> r=<tag>
 * p=<mapping>"), which is how they are found again, conflicts included. */
#ifndef HULL_NET_NFT_H
#define HULL_NET_NFT_H

#include <stdbool.h>
#include <stdint.h>
#include "net/ipaddr.h"
#include "net/nl.h"

#define HULL_NFT_TABLE "hull"

struct hull_nft_rule {
    uint64_t handle;
    char chain[64];
    char comment[256];              /* "" when the rule has none */
};

/* Table, the two port chains, and the bridge's postrouting chain with
 * exactly its masquerade rules (flushed and refilled: idempotent). */
int hull_nft_ensure_network(struct hull_nl *nl, const char *bridge, const struct hull_cidr *subnet,
                            const struct hull_cidr *subnet6, struct hull_err *err);
/* Whether the bridge's postrouting chain exists (set-up done before). */
int hull_nft_network_ready(struct hull_nl *nl, const char *bridge, struct hull_err *err);
/* Deletes the bridge's postrouting chain; a missing one is fine. */
int hull_nft_drop_network(struct hull_nl *nl, const char *bridge, struct hull_err *err);

/* DNAT rules (prerouting + output) for each mapping to ctr_ip, each with the
 * comment given for it (comments[i]). */
int hull_nft_add_ports(struct hull_nl *nl, const struct hull_ip *ctr_ip, const struct hull_port *ports,
                       char *const *comments, size_t n, struct hull_err *err);
/* Every rule of the table (none if there is no table). */
int hull_nft_rules(struct hull_nl *nl, struct hull_nft_rule **v, size_t *n, struct hull_err *err);
/* Deletes, in one batch, every rule for which match() is true; *deleted (may
 * be NULL) counts them. A rule someone else deleted meanwhile aborts an
 * nfnetlink batch, so the listing is taken again and retried. */
typedef bool (*hull_nft_match)(const struct hull_nft_rule *r, void *data);
int hull_nft_delete_matching(struct hull_nl *nl, hull_nft_match match, void *data, size_t *deleted,
                             struct hull_err *err);

#endif
