/* Container networking for `hull run` (the OCI verbs keep runc's behaviour:
 * a namespace with whatever the caller configured).
 *
 * Modes (--network): bridge (default: the network "bridge" on hull0), NAME (a
 * network made with `hull network create`), none (loopback only), host (no
 * network namespace), ns:/path (join that namespace), container:ID (join
 * that container's namespace, share its hosts and resolv.conf).
 *
 * The order, and why:
 *   hull_net_prepare   before create: records what will be made
 *                      (<data_root>/containers/<id>/net.json) before making it,
 *                      leases an address, sets up the bridge, nftables (masquerade,
 *                      published ports) and writes hosts/resolv.conf/hostname
 *   (create)           the container's init exists in its new namespace, paused
 *   hull_net_attach    a veth pair whose container end is born in that namespace as
 *                      eth0 (so it dies with it), addresses, routes, loopback up
 *   (start)
 *   hull_net_release   at exit and at removal: lease, rules, hosts entries (and with
 *                      links, the host end of the veth if it outlived the namespace)
 *   hull_net_prune     what a crash left: leases, rules and veths of containers that
 *                      no longer run
 * Every step is idempotent and keyed by the container id, so a kill -9 at any
 * point is cleaned up by a later release (hull rm -f) or prune. */
#ifndef HULL_NET_NET_H
#define HULL_NET_NET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "net/ipaddr.h"
#include "net/network.h"

enum hull_net_mode { HULL_NET_BRIDGE, HULL_NET_NONE, HULL_NET_HOST, HULL_NET_NS, HULL_NET_CONTAINER };

struct hull_net_req {                   /* what `hull run` asked for */
    enum hull_net_mode mode;
    char network[65];                   /* bridge mode: the network name */
    char ns_path[PATH_MAX];             /* ns: the namespace file; container: set by the caller to /proc/PID/ns/net */
    char target[PATH_MAX];              /* container: the other container's id as given */
    char share_dir[PATH_MAX];           /* container: its directory (set by the caller) */
    struct hull_port *ports;            /* -p */
    size_t n_ports;
};

/* "bridge", "none", "host", "ns:/path", "container:ID" or a network name. */
int hull_net_parse_mode(const char *s, struct hull_net_req *r, struct hull_err *err);

struct hull_net_plan {                  /* made by prepare, used by attach */
    enum hull_net_mode mode;
    struct hull_network net;            /* bridge mode */
    int bridge_index;
    char veth[16];                      /* host end */
    char alias[128];
    struct hull_ip ip, ip6;
    uint8_t mac[6];
    char hosts[PATH_MAX], resolv[PATH_MAX], hostname[PATH_MAX];   /* to bind-mount; "" = none */
    char ns_path[PATH_MAX];             /* join this namespace; "" = a new one (unless host) */
    bool host;                          /* no network namespace at all */
    int setup_lock;                     /* held from prepare to attach (prune leaves it alone) */
};

/* id: the container id; name/hostname: for hosts files. On failure nothing
 * of the container's networking is left (release is run). */
int hull_net_prepare(const char *data_root, const char *id, const char *name, const char *hostname,
                     const struct hull_net_req *req, struct hull_net_plan *plan, struct hull_err *err);
/* pid: the created container's init (its network namespace). */
int hull_net_attach(struct hull_net_plan *plan, pid_t pid, struct hull_err *err);
/* Releases the setup lock (after attach, or when giving up). */
void hull_net_plan_done(struct hull_net_plan *plan);

int hull_net_release(const char *data_root, const char *id, bool links, struct hull_err *err);

struct hull_net_pruned { size_t leases, rules, links; };
/* live_ids: every container of this data root that still has processes. */
int hull_net_prune(const char *data_root, char *const *live_ids, size_t n_live, struct hull_net_pruned *out,
                   struct hull_err *err);

struct hull_net_info {                  /* for inspect / ps */
    enum hull_net_mode mode;
    char network[65];
    char veth[16];
    struct hull_ip ip, ip6;             /* family 0: none (yet, or released) */
    char ports[512];                    /* "0.0.0.0:8080:80/tcp,..." */
};
/* ENOENT when the container has no network record. */
int hull_net_info(const char *data_root, const char *id, struct hull_net_info *out, struct hull_err *err);

#endif
