/* The three files a container's name resolution rests on, written by hull
 * in the container's directory and bind-mounted over the image's:
 *   resolv.conf   the host's, minus loopback resolvers (127.0.0.53 and the
 *                 like are unreachable from another namespace): those are
 *                 replaced by systemd-resolved's upstreams when known, else by
 *                 public resolvers (docker's 8.8.8.8, 8.8.4.4)
 *   hosts         localhost, the container's own name and address, and every
 *                 other container on its network (rewritten as they come and go)
 *   hostname      the container's hostname */
#ifndef HULL_NET_ETCFILES_H
#define HULL_NET_ETCFILES_H

#include <stdbool.h>
#include <stddef.h>
#include "net/ipaddr.h"
#include "net/network.h"

/* resolv.conf text (malloc'd) from the host's file text: loopback resolvers
 * dropped, IPv6 ones too unless keep_v6; fallback (may be NULL) supplies
 * servers when none is left, else the public pair. */
char *hull_resolv_filter(const char *host_text, bool keep_v6, const char *fallback_text);
/* Reads the host's files and writes dir/resolv.conf (host_mode: unfiltered). */
int hull_write_resolv(int dir_fd, bool host_mode, bool keep_v6, struct hull_err *err);

struct hull_hosts_self {
    const char *name, *hostname;        /* either may be NULL or not hosts-safe (then left out) */
    const struct hull_ip *ip, *ip6;     /* NULL / family 0: none */
};
/* hosts text (malloc'd): the standard localhost lines, self, then others
 * (every lease but the one of self_id). */
char *hull_hosts_text(const struct hull_hosts_self *self, const char *self_id, const struct hull_network *net,
                      const struct hull_lease *others, size_t n);
int hull_write_hostname(int dir_fd, const char *hostname, struct hull_err *err);

#endif
