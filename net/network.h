/* hull's bridge networks and their address leases (IPAM), under
 * <data_root>/networks/:
 *   .lock           flock'd (exclusive) around every change below, and around
 *                   the host-side set-up that depends on it (rules, bridges)
 *   NAME.json       the network: bridge device, IPv4 subnet + gateway,
 *                   optional IPv6 subnet + gateway
 *   NAME.leases     one line per container: "IP ID NAME HOSTNAME|-"; written
 *                   whole (temp + rename), so a crash leaves the old or the
 *                   new file, never a torn one
 * A container's IPv6 address (when the network has one) is the IPv6 subnet
 * plus the same offset as its IPv4 address: one lease covers both.
 * The default network is "bridge" (device hull0), made on first use. */
#ifndef HULL_NET_NETWORK_H
#define HULL_NET_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include "net/ipaddr.h"
#include "net/rtnl.h"

#define HULL_DEFAULT_NETWORK "bridge"
#define HULL_DEFAULT_BRIDGE "hull0"

struct hull_network {
    char name[65];
    char bridge[HULL_IFNAMSIZ];
    struct hull_cidr subnet;            /* IPv4 */
    struct hull_ip gateway;             /* the bridge's address */
    struct hull_cidr subnet6;           /* family 0: no IPv6 */
    struct hull_ip gateway6;
    char created[40];
};

struct hull_lease {
    struct hull_ip ip;
    char id[65];
    char name[128];
    char host[65];                      /* hostname, or "" */
};

/* Takes the networks lock (creating the directory); returns the fd to close
 * for unlocking, or -errno. */
int hull_netstore_lock(const char *data_root, struct hull_err *err);
/* <data_root>/networks/<rel> */
void hull_netstore_path(const char *data_root, const char *rel, char *out, size_t len);

int hull_network_load(const char *data_root, const char *name, struct hull_network *n, struct hull_err *err);
int hull_network_save(const char *data_root, const struct hull_network *n, struct hull_err *err);
int hull_network_list(const char *data_root, struct hull_network **v, size_t *n, struct hull_err *err);
/* Removes the network's files (config and leases). */
int hull_network_forget(const char *data_root, const char *name, struct hull_err *err);
/* Checks a network about to be saved: subnets sizes, gateway inside, IPv6 large enough. */
int hull_network_validate(const struct hull_network *n, struct hull_err *err);

/* Leases of one network (a missing file is an empty list). */
int hull_leases_read(const char *data_root, const struct hull_network *net, struct hull_lease **v, size_t *n,
                     struct hull_err *err);
int hull_leases_write(const char *data_root, const struct hull_network *net, const struct hull_lease *v, size_t n,
                      struct hull_err *err);
/* The lowest free IPv4 address of the network (not the network address, the
 * broadcast or the gateway); ENOSPC with a clear message when full. */
int hull_ipam_pick(const struct hull_network *net, const struct hull_lease *v, size_t n, struct hull_ip *out,
                   struct hull_err *err);
/* The IPv6 twin of an IPv4 lease (family 0 when the network has no IPv6). */
void hull_ipam_ip6(const struct hull_network *net, const struct hull_ip *ip4, struct hull_ip *out);
/* How many addresses containers can get (excluding network, broadcast, gateway). */
unsigned long long hull_ipam_capacity(const struct hull_network *net);

/* Subnet selection (netpick.c): a private IPv4 /16 among fixed candidates
 * that overlaps neither a route nor an address of this namespace nor another
 * hull network. The default network adopts hull0's address when that bridge
 * already exists. */
int hull_network_pick_subnet(struct hull_nl *nl, const char *data_root, struct hull_cidr *out, struct hull_err *err);
/* Checks a user-given subnet against routes, addresses and other networks. */
int hull_network_check_subnet(struct hull_nl *nl, const char *data_root, const struct hull_cidr *c,
                              const char *self_bridge, struct hull_err *err);
/* The first free bridge name hull1, hull2, ... (no network uses it, no link has it). */
int hull_network_pick_bridge(struct hull_nl *nl, const char *data_root, char out[HULL_IFNAMSIZ], struct hull_err *err);
/* The default network, created (config only) on first use. Caller holds the lock. */
int hull_network_default(struct hull_nl *nl, const char *data_root, struct hull_network *out, struct hull_err *err);

#endif
