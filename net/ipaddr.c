/* Addresses, prefixes and names (see ipaddr.h). */
#include "net/ipaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hull_ip_parse(const char *s, struct hull_ip *out, struct hull_err *err) {
    memset(out, 0, sizeof *out);
    if (!s || !*s) return hull_err_set(err, EINVAL, "empty IP address");
    if (strlen(s) >= HULL_IP_STRLEN) return hull_err_set(err, EINVAL, "\"%.60s...\" is not an IP address", s);
    if (inet_pton(AF_INET, s, out->a) == 1) { out->family = AF_INET; return 0; }
    if (inet_pton(AF_INET6, s, out->a) == 1) { out->family = AF_INET6; return 0; }
    return hull_err_set(err, EINVAL, "\"%s\" is not an IPv4 or IPv6 address", s);
}

const char *hull_ip_fmt(const struct hull_ip *ip, char *buf, size_t len) {
    if (!ip->family || !inet_ntop(ip->family, ip->a, buf, (socklen_t)len)) snprintf(buf, len, "-");
    return buf;
}

bool hull_ip_eq(const struct hull_ip *a, const struct hull_ip *b) {
    return a->family == b->family && memcmp(a->a, b->a, hull_ip_len(a)) == 0;
}

bool hull_ip_is_loopback(const struct hull_ip *ip) {
    static const uint8_t v6lo[16] = {[15] = 1};
    if (ip->family == AF_INET) return ip->a[0] == 127;
    /* ::1, and ::ffff:127.x (a v4-mapped loopback) */
    if (memcmp(ip->a, v6lo, 16) == 0) return true;
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(ip->a, mapped, 12) == 0 && ip->a[12] == 127;
}

static int max_plen(int family) { return family == AF_INET ? 32 : 128; }

void hull_cidr_from(const struct hull_ip *ip, int plen, struct hull_cidr *out) {
    memset(out, 0, sizeof *out);
    out->ip.family = ip->family;
    out->plen = plen;
    size_t len = hull_ip_len(ip);
    for (size_t i = 0; i < len; i++) {
        int bits = plen - (int)(i * 8);
        uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        out->ip.a[i] = ip->a[i] & mask;
    }
}

int hull_cidr_parse(const char *s, struct hull_cidr *out, struct hull_err *err) {
    memset(out, 0, sizeof *out);
    if (!s || !*s) return hull_err_set(err, EINVAL, "empty subnet (expected ADDRESS/PREFIX, e.g. 10.89.0.0/16)");
    const char *slash = strchr(s, '/');
    if (!slash)
        return hull_err_set(err, EINVAL, "subnet \"%.100s\": expected ADDRESS/PREFIX, e.g. 10.89.0.0/16", s);
    char addr[HULL_IP_STRLEN];
    size_t alen = (size_t)(slash - s);
    if (alen == 0 || alen >= sizeof addr) return hull_err_set(err, EINVAL, "subnet \"%.100s\": bad address", s);
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    struct hull_ip ip;
    if (hull_ip_parse(addr, &ip, err) < 0) return hull_err_prefix(err, "subnet \"%.100s\": ", s);
    const char *p = slash + 1;
    if (!*p || strlen(p) > 3) return hull_err_set(err, EINVAL, "subnet \"%.100s\": bad prefix length", s);
    int plen = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p)) return hull_err_set(err, EINVAL, "subnet \"%.100s\": bad prefix length", s);
        plen = plen * 10 + (*p - '0');
    }
    if (plen > max_plen(ip.family))
        return hull_err_set(err, EINVAL, "subnet \"%.100s\": prefix length %d is out of range (0-%d)", s, plen,
                            max_plen(ip.family));
    hull_cidr_from(&ip, plen, out);
    if (!hull_ip_eq(&out->ip, &ip)) {
        char b[HULL_CIDR_STRLEN];
        return hull_err_set(err, EINVAL, "subnet \"%.100s\": host bits are set (the network is %s)", s,
                            hull_cidr_fmt(out, b, sizeof b));
    }
    return 0;
}

const char *hull_cidr_fmt(const struct hull_cidr *c, char *buf, size_t len) {
    char a[HULL_IP_STRLEN];
    snprintf(buf, len, "%s/%d", hull_ip_fmt(&c->ip, a, sizeof a), c->plen);
    return buf;
}

bool hull_cidr_contains(const struct hull_cidr *c, const struct hull_ip *ip) {
    if (ip->family != c->ip.family) return false;
    struct hull_cidr x;
    hull_cidr_from(ip, c->plen, &x);
    return hull_ip_eq(&x.ip, &c->ip);
}

bool hull_cidr_overlap(const struct hull_cidr *a, const struct hull_cidr *b) {
    if (a->ip.family != b->ip.family) return false;
    /* Two prefixes overlap iff the shorter one contains the longer's network. */
    return a->plen <= b->plen ? hull_cidr_contains(a, &b->ip) : hull_cidr_contains(b, &a->ip);
}

int hull_cidr_host_bits(const struct hull_cidr *c) { return max_plen(c->ip.family) - c->plen; }

bool hull_cidr_nth(const struct hull_cidr *c, uint64_t n, struct hull_ip *out) {
    int hb = hull_cidr_host_bits(c);
    if (hb < 64 && n >> hb) return false;
    *out = c->ip;
    size_t len = hull_ip_len(&c->ip);
    /* add n to the low 64 bits, big-endian, with carry */
    unsigned carry = 0;
    for (size_t i = 0; i < len; i++) {
        size_t k = len - 1 - i;
        unsigned v = out->a[k] + (unsigned)(i < 8 ? (n >> (8 * i)) & 0xff : 0) + carry;
        out->a[k] = (uint8_t)v;
        carry = v >> 8;
    }
    return true;
}

uint64_t hull_cidr_offset(const struct hull_cidr *c, const struct hull_ip *ip) {
    size_t len = hull_ip_len(ip);
    uint64_t v = 0;
    for (size_t i = len > 8 ? len - 8 : 0; i < len; i++) v = (v << 8) | ip->a[i];
    uint64_t base = 0;
    for (size_t i = len > 8 ? len - 8 : 0; i < len; i++) base = (base << 8) | c->ip.a[i];
    /* in IPv6 prefixes wider than /64 the high half may differ: saturate */
    for (size_t i = 0; len > 8 && i < len - 8; i++)
        if (ip->a[i] != c->ip.a[i]) return UINT64_MAX;
    return v - base;
}

int hull_ifname_validate(const char *name, struct hull_err *err) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 15)
        return hull_err_set(err, EINVAL, "\"%.40s\" is not a valid interface name (1 to 15 characters)", name ? name : "");
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return hull_err_set(err, EINVAL, "\"%s\" is not a valid interface name", name);
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == ':' || !isgraph((unsigned char)*p))
            return hull_err_set(err, EINVAL, "\"%s\" is not a valid interface name (no '/', ':', spaces or "
                                "control characters)", name);
    return 0;
}

int hull_netname_validate(const char *name, struct hull_err *err) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64) return hull_err_set(err, EINVAL, "network name must be 1 to 64 characters");
    if (!isalnum((unsigned char)name[0]))
        return hull_err_set(err, EINVAL, "network name \"%s\" must start with a letter or digit", name);
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return hull_err_set(err, EINVAL, "network name \"%s\": only [A-Za-z0-9_.-] allowed", name);
    static const char *const reserved[] = {"none", "host", "default", "container", "ns"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(name, reserved[i]))
            return hull_err_set(err, EINVAL, "\"%s\" is a network mode, not a network name", name);
    return 0;
}

bool hull_hostsname_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 253 || name[0] == '-' || name[0] == '.') return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_') return false;
    return true;
}

/* "1".."65535", decimal only. */
static bool parse_port(const char *s, size_t len, uint16_t *out) {
    if (len == 0 || len > 5) return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535) return false;
    *out = (uint16_t)v;
    return true;
}

int hull_port_parse(const char *s, struct hull_port *out, struct hull_err *err) {
    memset(out, 0, sizeof *out);
    out->proto = HULL_TCP;
    if (!s || !*s) return hull_err_set(err, EINVAL, "-p: empty port mapping");
    if (strlen(s) > 80) return hull_err_set(err, EINVAL, "-p \"%.40s...\": too long", s);
    char buf[96];
    snprintf(buf, sizeof buf, "%s", s);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        if (!strcmp(slash + 1, "udp")) out->proto = HULL_UDP;
        else if (strcmp(slash + 1, "tcp") != 0)
            return hull_err_set(err, EINVAL, "-p %s: unknown protocol \"%s\" (tcp or udp)", s, slash + 1);
    }
    if (buf[0] == '[') return hull_err_set(err, EINVAL, "-p %s: IPv6 host addresses are not supported", s);
    /* the last two ':'-separated fields are ports; what comes before is the host address */
    char *c2 = strrchr(buf, ':');
    if (!c2) return hull_err_set(err, EINVAL, "-p %s: expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]", s);
    *c2 = '\0';
    char *c1 = strrchr(buf, ':');
    const char *hp = c1 ? c1 + 1 : buf;
    if (c1) {
        *c1 = '\0';
        if (hull_ip_parse(buf, &out->host_ip, err) < 0) return hull_err_prefix(err, "-p %s: host address: ", s);
        if (out->host_ip.family != AF_INET)
            return hull_err_set(err, EINVAL, "-p %s: IPv6 host addresses are not supported", s);
        static const uint8_t any[4];
        if (memcmp(out->host_ip.a, any, 4) == 0) out->host_ip.family = 0;
    }
    if (!parse_port(hp, strlen(hp), &out->host_port))
        return hull_err_set(err, EINVAL, "-p %s: host port \"%s\" is not a port number (1-65535)", s, hp);
    if (!parse_port(c2 + 1, strlen(c2 + 1), &out->ctr_port))
        return hull_err_set(err, EINVAL, "-p %s: container port \"%s\" is not a port number (1-65535)", s, c2 + 1);
    return 0;
}

const char *hull_port_fmt(const struct hull_port *p, char *buf, size_t len) {
    char a[HULL_IP_STRLEN];
    snprintf(buf, len, "%s:%u:%u/%s", p->host_ip.family ? hull_ip_fmt(&p->host_ip, a, sizeof a) : "0.0.0.0",
             p->host_port, p->ctr_port, p->proto == HULL_UDP ? "udp" : "tcp");
    return buf;
}

bool hull_port_clash(const struct hull_port *a, const struct hull_port *b) {
    if (a->proto != b->proto || a->host_port != b->host_port) return false;
    /* "every address" overlaps any specific one */
    return !a->host_ip.family || !b->host_ip.family || hull_ip_eq(&a->host_ip, &b->host_ip);
}
