/* resolv.conf, hosts and hostname for containers (see etcfiles.h). */
#include "net/etcfiles.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"

#define RESOLV_MAX (64u << 10)
#define PUBLIC_RESOLVERS "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"

struct sbuf { char *p; size_t len, cap; bool oom; };

static void sb_add(struct sbuf *s, const char *text, size_t n) {
    if (s->oom) return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *np = realloc(s->p, cap);
        if (!np) { s->oom = true; return; }
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, text, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_str(struct sbuf *s, const char *text) { sb_add(s, text, strlen(text)); }

static char *sb_done(struct sbuf *s) {
    if (s->oom) { free(s->p); return NULL; }
    if (!s->p) sb_add(s, "", 0);
    return s->oom ? NULL : s->p;
}

/* The nameserver lines of text that survive the filter, appended to out;
 * returns how many. Other lines (search, options) are kept when keep_other. */
static int filter_lines(const char *text, bool keep_v6, bool keep_other, struct sbuf *out, bool *dropped) {
    int servers = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *p = line;
        while (p < line + len && isspace((unsigned char)*p)) p++;
        if (len - (size_t)(p - line) > 11 && strncmp(p, "nameserver", 10) == 0 && isspace((unsigned char)p[10])) {
            char addr[64];
            const char *a = p + 10;
            while (a < line + len && isspace((unsigned char)*a)) a++;
            size_t al = 0;
            while (a + al < line + len && !isspace((unsigned char)a[al])) al++;
            struct hull_ip ip;
            struct hull_err e;
            bool keep = false;
            if (al > 0 && al < sizeof addr) {
                memcpy(addr, a, al);
                addr[al] = '\0';
                char *pct = strchr(addr, '%');   /* fe80::1%eth0: a zone of the host's links */
                keep = !pct && hull_ip_parse(addr, &ip, &e) == 0 && !hull_ip_is_loopback(&ip) &&
                       (keep_v6 || ip.family == AF_INET);
            }
            if (keep) {
                sb_str(out, "nameserver ");
                sb_str(out, addr);
                sb_str(out, "\n");
                servers++;
            } else if (dropped) {
                *dropped = true;
            }
        } else if (keep_other && len) {
            sb_add(out, line, len);
            sb_str(out, "\n");
        }
        line = nl ? nl + 1 : NULL;
    }
    return servers;
}

char *hull_resolv_filter(const char *host_text, bool keep_v6, const char *fallback_text) {
    struct sbuf out = {0}, servers = {0};
    bool dropped = false;
    int n = filter_lines(host_text ? host_text : "", keep_v6, true, &out, &dropped);
    if (n == 0) {
        if (fallback_text && filter_lines(fallback_text, keep_v6, false, &servers, NULL) > 0) {
            sb_str(&out, "# hull: the host's resolvers are local to it; these are its upstreams\n");
            sb_str(&out, servers.p);
        } else {
            sb_str(&out, dropped ? "# hull: the host's resolvers are local to it; public ones instead\n"
                                 : "# hull: the host has no resolver; public ones instead\n");
            sb_str(&out, PUBLIC_RESOLVERS);
        }
    }
    free(servers.p);
    return sb_done(&out);
}

static char *read_opt(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    char *buf = malloc(RESOLV_MAX + 1);
    ssize_t n = buf ? hull_read_all(fd, buf, RESOLV_MAX) : -1;
    close(fd);
    if (n < 0) { free(buf); return NULL; }
    buf[n] = '\0';
    return buf;
}

static int write_at(int dir_fd, const char *name, const char *text, struct hull_err *err) {
    if (!text) return hull_err_set(err, ENOMEM, "out of memory");
    if (hull_write_file_atomic(dir_fd, name, text, strlen(text), 0644) < 0) return hull_err_sys(err, "write %s", name);
    return 0;
}

int hull_write_resolv(int dir_fd, bool host_mode, bool keep_v6, struct hull_err *err) {
    char *host = read_opt("/etc/resolv.conf");
    char *text;
    if (host_mode) {
        text = host ? host : strdup("");
        host = NULL;
    } else {
        char *fallback = read_opt("/run/systemd/resolve/resolv.conf");
        text = hull_resolv_filter(host, keep_v6, fallback);
        free(fallback);
    }
    free(host);
    int r = write_at(dir_fd, "resolv.conf", text, err);
    free(text);
    return r;
}

static void hosts_line(struct sbuf *s, const struct hull_ip *ip, const char *a, const char *b) {
    char buf[HULL_IP_STRLEN];
    if (!ip || !ip->family) return;
    bool ao = a && hull_hostsname_ok(a), bo = b && hull_hostsname_ok(b) && (!a || strcmp(a, b) != 0);
    if (!ao && !bo) return;
    sb_str(s, hull_ip_fmt(ip, buf, sizeof buf));
    if (ao) { sb_str(s, "\t"); sb_str(s, a); }
    if (bo) { sb_str(s, ao ? " " : "\t"); sb_str(s, b); }
    sb_str(s, "\n");
}

char *hull_hosts_text(const struct hull_hosts_self *self, const char *self_id, const struct hull_network *net,
                      const struct hull_lease *others, size_t n) {
    struct sbuf s = {0};
    sb_str(&s, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
               "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
    hosts_line(&s, self->ip, self->hostname, self->name);
    hosts_line(&s, self->ip6, self->hostname, self->name);
    for (size_t i = 0; i < n; i++) {
        if (self_id && !strcmp(others[i].id, self_id)) continue;
        hosts_line(&s, &others[i].ip, others[i].name, others[i].host[0] ? others[i].host : NULL);
        if (net) {
            struct hull_ip ip6;
            hull_ipam_ip6(net, &others[i].ip, &ip6);
            hosts_line(&s, &ip6, others[i].name, others[i].host[0] ? others[i].host : NULL);
        }
    }
    return sb_done(&s);
}

int hull_write_hostname(int dir_fd, const char *hostname, struct hull_err *err) {
    char buf[128];
    snprintf(buf, sizeof buf, "%.100s\n", hostname);
    return write_at(dir_fd, "hostname", buf, err);
}
