/* Finds the host's cgroup layout from /proc/self/mountinfo: every v1
 * hierarchy (with its controllers, co-mounted or named) and the cgroup2 mount.
 * v2 = only cgroup2 (or /sys/fs/cgroup itself is cgroup2), v1 = only v1
 * hierarchies, hybrid = both. The result is cached for the process. */
#include "cgroups/cg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static struct cg_host host;
static bool host_ready;

bool cg_list_has(const char *list, const char *token) {
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        const char *e = strchrnul(p, ',');
        if ((size_t)(e - p) == tl && strncmp(p, token, tl) == 0) return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* Subsystem names the kernel knows, to tell controllers from mount options
 * ("rw", "xattr", "clone_children"...) in a v1 mount's super options. */
static bool is_subsys(const char *name) {
    FILE *f = fopen("/proc/cgroups", "re");
    if (!f) return false;
    char line[256];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        if (tab) *tab = '\0';
        found = strcmp(line, name) == 0;
    }
    fclose(f);
    return found;
}

static char *v1_controllers(char *superopts) {
    char buf[512] = "";
    char *save = NULL;
    for (char *t = strtok_r(superopts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strncmp(t, "name=", 5) == 0 || is_subsys(t)) {
            if (buf[0]) strncat(buf, ",", sizeof buf - strlen(buf) - 1);
            strncat(buf, t, sizeof buf - strlen(buf) - 1);
        }
    }
    return strdup(buf);
}

static void host_reset(void) {
    for (size_t i = 0; i < host.n_mounts; i++) {
        free(host.mounts[i].controllers);
        free(host.mounts[i].mountpoint);
        free(host.mounts[i].root);
    }
    free(host.mounts);
    memset(&host, 0, sizeof host);
}

static int add_mount(enum cg_kind kind, const char *ctl, const char *mp, const char *root) {
    /* The same hierarchy may be mounted twice (bind mounts): keep the first. */
    for (size_t i = 0; i < host.n_mounts; i++)
        if (host.mounts[i].kind == kind && strcmp(host.mounts[i].controllers, ctl) == 0) return 0;
    struct cg_mount *nm = realloc(host.mounts, (host.n_mounts + 1) * sizeof *nm);
    if (!nm) return -ENOMEM;
    host.mounts = nm;
    struct cg_mount *m = &host.mounts[host.n_mounts];
    m->kind = kind;
    m->controllers = strdup(ctl);
    m->mountpoint = strdup(mp);
    m->root = strdup(root);
    if (!m->controllers || !m->mountpoint || !m->root) {
        free(m->controllers); free(m->mountpoint); free(m->root);
        return -ENOMEM;
    }
    host.n_mounts++;
    return 0;
}

static int parse_mountinfo(struct hull_err *err) {
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return hull_err_sys(err, "cgroups: /proc/self/mountinfo");
    char *line = NULL;
    size_t cap = 0;
    char *v2_mp = NULL, *v2_root = NULL;
    int r = 0;
    while (r == 0 && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char *sep = strstr(line, " - ");
        if (!sep) continue;
        *sep = '\0';
        char *rest = sep + 3, *save = NULL;
        char *fstype = strtok_r(rest, " ", &save);
        char *source = strtok_r(NULL, " ", &save);
        char *superopts = strtok_r(NULL, " ", &save);
        if (!fstype || !source || !superopts) continue;
        bool v1 = strcmp(fstype, "cgroup") == 0, v2 = strcmp(fstype, "cgroup2") == 0;
        if (!v1 && !v2) continue;
        char *s2 = NULL, *fields[5];
        int nf = 0;
        for (char *t = strtok_r(line, " ", &s2); t && nf < 5; t = strtok_r(NULL, " ", &s2))
            fields[nf++] = t;
        if (nf < 5) continue;
        unescape(fields[3]);
        unescape(fields[4]);
        if (v2) {
            /* Prefer /sys/fs/cgroup (pure v2), else the first cgroup2 mount. */
            if (!v2_mp || strcmp(fields[4], "/sys/fs/cgroup") == 0) {
                free(v2_mp); free(v2_root);
                v2_mp = strdup(fields[4]);
                v2_root = strdup(fields[3]);
            }
            continue;
        }
        _cleanup_free_ char *ctl = v1_controllers(superopts);
        if (!ctl) { r = hull_err_set(err, ENOMEM, "out of memory"); break; }
        if (!ctl[0]) continue;
        if (add_mount(CG_V1, ctl, fields[4], fields[3]) < 0) r = hull_err_set(err, ENOMEM, "out of memory");
    }
    free(line);
    fclose(f);
    size_t n_v1 = host.n_mounts;
    if (r == 0 && v2_mp && add_mount(CG_V2, "", v2_mp, v2_root ? v2_root : "/") < 0)
        r = hull_err_set(err, ENOMEM, "out of memory");
    bool have_v2 = v2_mp != NULL;
    free(v2_mp);
    free(v2_root);
    if (r < 0) return r;
    if (n_v1 == 0 && !have_v2)
        return hull_err_set(err, ENOENT, "cgroups: no cgroup or cgroup2 filesystem is mounted");
    host.mode = n_v1 == 0 ? HULL_CG_V2 : have_v2 ? HULL_CG_HYBRID : HULL_CG_V1;
    return 0;
}

const struct cg_host *cg_host_get(struct hull_err *err) {
    if (host_ready) return &host;
    struct hull_err e;
    int r = parse_mountinfo(&e);
    if (r < 0) {
        if (err) *err = e;
        host_reset();
        return NULL;
    }
    host_ready = true;
    return &host;
}

int hull_cgroup_detect(enum hull_cgroup_mode *mode, struct hull_err *err) {
    const struct cg_host *h = cg_host_get(err);
    if (!h) return -ENOENT;
    *mode = h->mode;
    return 0;
}

/* Same controller set, in any order ("cpu,cpuacct" vs "cpuacct,cpu"). */
static bool same_set(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    for (const char *p = a; *p;) {
        const char *e = strchrnul(p, ',');
        char tok[64];
        snprintf(tok, sizeof tok, "%.*s", (int)(e - p), p);
        if (!cg_list_has(b, tok)) return false;
        na++;
        p = *e ? e + 1 : e;
    }
    for (const char *p = b; *p; p++) if (*p == ',') nb++;
    return *b ? na == nb + 1 : na == 0;
}

int cg_self_path(const struct cg_mount *m, char **out, struct hull_err *err) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return hull_err_sys(err, "cgroups: /proc/self/cgroup");
    char *line = NULL;
    size_t cap = 0;
    char *found = NULL;
    while (!found && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        *c2 = '\0';
        const char *ctl = c1 + 1, *path = c2 + 1;
        bool match = m->kind == CG_V2 ? (strncmp(line, "0:", 2) == 0 && !*ctl)
                                      : (*ctl && same_set(ctl, m->controllers));
        if (match) found = strdup(path);
    }
    free(line);
    fclose(f);
    if (!found)
        return hull_err_set(err, ENOENT, "cgroups: /proc/self/cgroup has no entry for %s",
                            m->kind == CG_V2 ? "cgroup2" : m->controllers);
    /* A mount whose root is not "/" (inside a container) shows only the part
     * of the hierarchy below root: strip it. */
    size_t rl = strlen(m->root);
    if (strcmp(m->root, "/") != 0 && strncmp(found, m->root, rl) == 0 &&
        (found[rl] == '/' || found[rl] == '\0')) {
        memmove(found, found + rl, strlen(found + rl) + 1);
        if (!found[0]) strcpy(found, "/");
    }
    *out = found;
    return 0;
}
