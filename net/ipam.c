/* Address leases of a network (see network.h). The lease file is input like
 * any other: a line that does not parse is an error naming the line, never
 * silently dropped (dropping it would hand its address out twice). */
#include "net/network.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/internal.h"
#include "base/fsutil.h"

#define LEASES_MAX (64u << 20)

static void leases_file(const struct hull_network *net, char *out, size_t len) {
    snprintf(out, len, "%s.leases", net->name);
}

/* A token of [A-Za-z0-9_.+:@-] starting with a letter or digit, like
 * container ids and names (ids become paths: never "." or ".."). */
static bool token_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n >= max || !isalnum((unsigned char)s[0])) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.+:@-", *s)) return false;
    return true;
}

int hull_leases_read(const char *data_root, const struct hull_network *net, struct hull_lease **v, size_t *n,
                     struct hull_err *err) {
    *v = NULL;
    *n = 0;
    char dir[PATH_MAX], file[128];
    hull_netstore_path(data_root, NULL, dir, sizeof dir);
    leases_file(net, file, sizeof file);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : hull_err_sys(err, "open %s", dir);
    size_t len;
    char *text = hull_read_file_at(fd, file, LEASES_MAX, &len);
    int saved = errno;
    close(fd);
    if (!text) {
        if (saved == ENOENT) return 0;
        errno = saved;
        return hull_err_sys(err, "network %s: read %s/%s", net->name, dir, file);
    }
    struct hull_vec x = {.elem = sizeof **v};
    int r = 0;
    size_t lineno = 0;
    for (char *line = text, *next; line && *line && r == 0; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        lineno++;
        if (!*line) continue;
        char *f[5] = {0};
        size_t nf = 0;
        for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
            if (nf == 4) { nf = 5; break; }
            f[nf++] = tok;
        }
        struct hull_lease l = {0};
        struct hull_err e2;
        if (nf != 4 || hull_ip_parse(f[0], &l.ip, &e2) < 0 || !hull_cidr_contains(&net->subnet, &l.ip) ||
            !token_ok(f[1], sizeof l.id) || !token_ok(f[2], sizeof l.name) ||
            (strcmp(f[3], "-") && !hull_hostsname_ok(f[3])) || strlen(f[3]) >= sizeof l.host) {
            r = hull_err_set(err, EINVAL, "network %s: %s/%s:%zu is corrupt (expected \"IP ID NAME HOSTNAME\" "
                             "inside %s)", net->name, dir, file, lineno, "the subnet");
            break;
        }
        snprintf(l.id, sizeof l.id, "%s", f[1]);
        snprintf(l.name, sizeof l.name, "%s", f[2]);
        if (strcmp(f[3], "-")) snprintf(l.host, sizeof l.host, "%s", f[3]);
        struct hull_lease *slot = hull_vec_push(&x);
        if (slot) *slot = l;
    }
    free(text);
    if (r == 0 && x.oom) r = hull_err_set(err, ENOMEM, "out of memory");
    if (r < 0) { free(x.v); return r; }
    *v = x.v;
    *n = x.n;
    return 0;
}

int hull_leases_write(const char *data_root, const struct hull_network *net, const struct hull_lease *v, size_t n,
                      struct hull_err *err) {
    char dir[PATH_MAX], file[128];
    hull_netstore_path(data_root, NULL, dir, sizeof dir);
    leases_file(net, file, sizeof file);
    size_t cap = n * (HULL_IP_STRLEN + 65 + 128 + 65 + 4) + 1;
    char *buf = malloc(cap);
    if (!buf) return hull_err_set(err, ENOMEM, "out of memory");
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char a[HULL_IP_STRLEN];
        len += (size_t)snprintf(buf + len, cap - len, "%s %s %s %s\n", hull_ip_fmt(&v[i].ip, a, sizeof a), v[i].id,
                                v[i].name, v[i].host[0] ? v[i].host : "-");
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = fd < 0 ? -1 : hull_write_file_atomic(fd, file, buf, len, 0600);
    if (r < 0) r = hull_err_sys(err, "network %s: write %s/%s", net->name, dir, file);
    if (fd >= 0) close(fd);
    free(buf);
    return r;
}

unsigned long long hull_ipam_capacity(const struct hull_network *net) {
    int hb = hull_cidr_host_bits(&net->subnet);
    return (1ULL << hb) - 3;   /* network, broadcast, gateway */
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int hull_ipam_pick(const struct hull_network *net, const struct hull_lease *v, size_t n, struct hull_ip *out,
                   struct hull_err *err) {
    uint64_t size = 1ULL << hull_cidr_host_bits(&net->subnet);
    uint64_t *used = malloc((n + 1) * sizeof *used);
    if (!used) return hull_err_set(err, ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) used[k++] = hull_cidr_offset(&net->subnet, &v[i].ip);
    used[k++] = hull_cidr_offset(&net->subnet, &net->gateway);
    qsort(used, k, sizeof *used, cmp_u64);
    /* the lowest offset in [1, size - 2] not in the sorted list */
    uint64_t cand = 1;
    for (size_t i = 0; i < k; i++) {
        if (used[i] < cand) continue;
        if (used[i] > cand) break;
        cand++;
    }
    free(used);
    if (cand > size - 2) {
        char b[HULL_CIDR_STRLEN];
        return hull_err_set(err, ENOSPC, "network %s: no free address in %s (all %llu in use; remove containers, "
                            "or `hull network prune` to reclaim addresses of crashed ones)", net->name,
                            hull_cidr_fmt(&net->subnet, b, sizeof b), hull_ipam_capacity(net));
    }
    hull_cidr_nth(&net->subnet, cand, out);
    return 0;
}

void hull_ipam_ip6(const struct hull_network *net, const struct hull_ip *ip4, struct hull_ip *out) {
    memset(out, 0, sizeof *out);
    if (!net->subnet6.ip.family) return;
    hull_cidr_nth(&net->subnet6, hull_cidr_offset(&net->subnet, ip4), out);
}
