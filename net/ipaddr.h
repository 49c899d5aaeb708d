/* IP addresses, prefixes (CIDR) and the names hull's networking accepts
 * (interface names, network names, port mappings). Pure functions: no
 * sockets, no files, so every parser here is unit-tested on hostile input. */
#ifndef HULL_NET_IPADDR_H
#define HULL_NET_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "base/error.h"

struct hull_ip {
    int family;                 /* AF_INET or AF_INET6; 0 = unset */
    uint8_t a[16];              /* network byte order; IPv4 uses a[0..3] */
};

struct hull_cidr {
    struct hull_ip ip;          /* the network address (host bits zero) */
    int plen;                   /* 0..32 or 0..128 */
};

#define HULL_IP_STRLEN 46       /* INET6_ADDRSTRLEN */
#define HULL_CIDR_STRLEN 50

static inline size_t hull_ip_len(const struct hull_ip *ip) { return ip->family == AF_INET ? 4 : 16; }

/* "10.1.2.3" or "fd00::1" (inet_pton's strict forms). */
int hull_ip_parse(const char *s, struct hull_ip *out, struct hull_err *err);
const char *hull_ip_fmt(const struct hull_ip *ip, char *buf, size_t len);
bool hull_ip_eq(const struct hull_ip *a, const struct hull_ip *b);
bool hull_ip_is_loopback(const struct hull_ip *ip);

/* "10.88.0.0/16": the address must be the network address (no host bits),
 * the prefix a plain decimal within the family's range. */
int hull_cidr_parse(const char *s, struct hull_cidr *out, struct hull_err *err);
const char *hull_cidr_fmt(const struct hull_cidr *c, char *buf, size_t len);
/* Clears the host bits of ip for plen (the prefix of an address). */
void hull_cidr_from(const struct hull_ip *ip, int plen, struct hull_cidr *out);
bool hull_cidr_contains(const struct hull_cidr *c, const struct hull_ip *ip);
bool hull_cidr_overlap(const struct hull_cidr *a, const struct hull_cidr *b);
/* log2 of the number of addresses in the prefix (32 - plen or 128 - plen). */
int hull_cidr_host_bits(const struct hull_cidr *c);
/* The address at offset n inside the prefix (n = 1: the first host). Fails
 * (false) when n does not fit in the prefix. */
bool hull_cidr_nth(const struct hull_cidr *c, uint64_t n, struct hull_ip *out);
/* Offset of ip inside c (ip must be inside c; offsets beyond 2^63 saturate). */
uint64_t hull_cidr_offset(const struct hull_cidr *c, const struct hull_ip *ip);

/* A Linux interface name: 1..15 bytes, printable ASCII, none of '/', ':',
 * whitespace, not "." or "..". */
int hull_ifname_validate(const char *name, struct hull_err *err);
/* A hull network name: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}, not a mode keyword. */
int hull_netname_validate(const char *name, struct hull_err *err);
/* A name that may appear in /etc/hosts: [A-Za-z0-9_.-], 1..253 bytes, not
 * starting with '-' or '.'. */
bool hull_hostsname_ok(const char *name);

enum hull_proto { HULL_TCP = 6, HULL_UDP = 17 };

struct hull_port {              /* -p [HOSTIP:]HOSTPORT:CPORT[/tcp|udp] */
    enum hull_proto proto;
    struct hull_ip host_ip;     /* family 0: every local address */
    uint16_t host_port, ctr_port;
};

int hull_port_parse(const char *s, struct hull_port *out, struct hull_err *err);
/* "0.0.0.0:8080:80/tcp": the -p form, kept in records and rule comments and
 * parsed back by hull_port_parse (0.0.0.0 means every local address). */
const char *hull_port_fmt(const struct hull_port *p, char *buf, size_t len);
/* Same host side (protocol, port, and overlapping host address)? */
bool hull_port_clash(const struct hull_port *a, const struct hull_port *b);

#endif
