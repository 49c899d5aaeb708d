/* Finds the host's cgroup layout from /proc/self/mountinfo: every v1
 * hierarchy (with its controllers, co-mounted or named) and the cgroup2 mount.
 * v2 = only cgroup2 (or /sys/fs/cgroup itself is cgroup2), v1 = only v1
 * hierarchies, hybrid = both. The result is cached for the process. */
#include "cgroups/cg_internal.h"
#include "base/mountinfo.h"

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

struct scan {
    char *v2_mp, *v2_root;
    struct hull_err *err;
    bool failed;                    /* scan_mount stopped the walk (err is set) */
};

static int scan_mount(struct hull_mountinfo *m, void *arg) {
    struct scan *s = arg;
    bool v1 = strcmp(m->fstype, "cgroup") == 0, v2 = strcmp(m->fstype, "cgroup2") == 0;
    if (!v1 && !v2) return 0;
    if (v2) {
        /* Prefer /sys/fs/cgroup (pure v2), else the first cgroup2 mount. */
        if (!s->v2_mp || strcmp(m->mount_point, "/sys/fs/cgroup") == 0) {
            free(s->v2_mp); free(s->v2_root);
            s->v2_mp = strdup(m->mount_point);
            s->v2_root = strdup(m->root);
        }
        return 0;
    }
    _cleanup_free_ char *ctl = v1_controllers(m->super_options);
    if (ctl && !ctl[0]) return 0;
    if (!ctl || add_mount(CG_V1, ctl, m->mount_point, m->root) < 0) {
        s->failed = true;
        return hull_err_set(s->err, ENOMEM, "out of memory");
    }
    return 0;
}

static int parse_mountinfo(struct hull_err *err) {
    _cleanup_close_ int fd = hull_mountinfo_open();
    if (fd < 0) {
        errno = -fd;
        return hull_err_sys(err, "cgroups: /proc/self/mountinfo");
    }
    struct scan s = { .err = err };
    int r = hull_mountinfo_each(fd, scan_mount, &s);
    if (r < 0 && !s.failed) r = hull_err_set(err, -r, "cgroups: read /proc/self/mountinfo: %s", strerror(-r));
    char *v2_mp = s.v2_mp, *v2_root = s.v2_root;
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
