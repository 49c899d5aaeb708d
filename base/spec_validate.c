/* Semantic checks of a parsed spec: everything `create` must refuse before it
 * touches the system. Types and ranges were checked by the parser; seccomp
 * syscall and architecture names are checked by hull_seccomp_validate. */
#include "base/spec_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P "config.json: "

/* "1.x.y" with an optional "-pre"/"+build" suffix; 1.0.0 <= v < 2. */
static bool version_ok(const char *v) {
    unsigned long part[3];
    const char *s = v;
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9') return false;
        char *end;
        part[i] = strtoul(s, &end, 10);
        if (end - s > 9) return false;
        s = end;
        if (i < 2) {
            if (*s != '.') return false;
            s++;
        }
    }
    if (*s && *s != '-' && *s != '+') return false;
    if (part[0] != 1) return false;
    /* 1.0.0-rc* predates 1.0.0 */
    if (*s == '-' && part[1] == 0 && part[2] == 0) return false;
    return true;
}

/* Absolute, with no ".." component: paths we create inside the rootfs. */
static bool clean_abs(const char *p) {
    if (!p || p[0] != '/') return false;
    for (const char *s = p; *s;) {
        while (*s == '/') s++;
        const char *e = strchrnul(s, '/');
        if (e - s == 2 && s[0] == '.' && s[1] == '.') return false;
        s = e;
    }
    return true;
}

int sj_validate_process(const struct hull_process *p, const char *prefix, const char *path,
                        struct hull_err *err) {
    if (p->n_args == 0 || !p->args)
        return hull_err_set(err, EINVAL, "%s%sargs: must be a non-empty array", prefix, path);
    if (p->args[0][0] == '\0')
        return hull_err_set(err, EINVAL, "%s%sargs[0]: must not be empty", prefix, path);
    if (!p->cwd)
        return hull_err_set(err, EINVAL, "%s%scwd: required field missing", prefix, path);
    if (p->cwd[0] != '/')
        return hull_err_set(err, EINVAL, "%s%scwd: must be an absolute path, got \"%.200s\"", prefix,
                            path, p->cwd);
    for (size_t i = 0; i < p->n_env; i++) {
        const char *eq = strchr(p->env[i], '=');
        if (!eq || eq == p->env[i])
            return hull_err_set(err, EINVAL, "%s%senv[%zu]: expected KEY=value, got \"%.200s\"", prefix,
                                path, i, p->env[i]);
    }
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct hull_rlimit *rl = &p->rlimits[i];
        if (rl->resource < 0)
            return hull_err_set(err, EINVAL, "%s%srlimits[%zu].type: unknown rlimit \"%.64s\"", prefix,
                                path, i, rl->type);
        if (rl->soft > rl->hard)
            return hull_err_set(err, EINVAL, "%s%srlimits[%zu]: soft limit %llu exceeds hard limit %llu",
                                prefix, path, i, (unsigned long long)rl->soft,
                                (unsigned long long)rl->hard);
        for (size_t k = 0; k < i; k++)
            if (p->rlimits[k].resource == rl->resource)
                return hull_err_set(err, EINVAL, "%s%srlimits[%zu].type: duplicate rlimit \"%s\"", prefix,
                                    path, i, rl->type);
    }
    if (p->oom_score_adj.set && (p->oom_score_adj.v < -1000 || p->oom_score_adj.v > 1000))
        return hull_err_set(err, EINVAL, "%s%soomScoreAdj: must be between -1000 and 1000, got %lld",
                            prefix, path, (long long)p->oom_score_adj.v);
    if (p->scheduler.present && (p->scheduler.nice < -20 || p->scheduler.nice > 19))
        return hull_err_set(err, EINVAL, "%s%sscheduler.nice: must be between -20 and 19, got %d", prefix,
                            path, p->scheduler.nice);
    if (p->user.umask.set && p->user.umask.v > 07777)
        return hull_err_set(err, EINVAL, "%s%suser.umask: must be at most 07777, got %llu", prefix, path,
                            (unsigned long long)p->user.umask.v);
    return 0;
}

static int check_idmaps(const struct hull_idmap *m, size_t n, const char *what, struct hull_err *err) {
    for (size_t i = 0; i < n; i++) {
        if (m[i].size == 0)
            return hull_err_set(err, EINVAL, P "%s[%zu].size: must be at least 1", what, i);
        if ((uint64_t)m[i].container_id + m[i].size - 1 > UINT32_MAX ||
            (uint64_t)m[i].host_id + m[i].size - 1 > UINT32_MAX)
            return hull_err_set(err, EINVAL, P "%s[%zu]: range overflows 32-bit ids", what, i);
    }
    return 0;
}

static int check_namespaces(const struct hull_spec *s, struct hull_err *err) {
    const struct hull_linux *l = &s->linux;
    for (size_t i = 0; i < l->n_namespaces; i++) {
        const struct hull_namespace *ns = &l->namespaces[i];
        for (size_t k = 0; k < i; k++)
            if (l->namespaces[k].type == ns->type)
                return hull_err_set(err, EINVAL, P "linux.namespaces[%zu]: duplicate namespace type \"%s\"",
                                    i, hull_ns_type_name(ns->type));
        if (ns->path && ns->path[0] != '/')
            return hull_err_set(err, EINVAL, P "linux.namespaces[%zu].path: must be an absolute path", i);
    }
    const struct hull_namespace *user = hull_spec_namespace(s, HULL_NS_USER);
    bool maps = l->n_uid_mappings || l->n_gid_mappings;
    if (maps && !user)
        return hull_err_set(err, EINVAL, P "linux.%s: id mappings need a user namespace in linux.namespaces",
                            l->n_uid_mappings ? "uidMappings" : "gidMappings");
    if (user && !user->path && (!l->n_uid_mappings || !l->n_gid_mappings))
        return hull_err_set(err, EINVAL, P "linux.%s: a new user namespace needs uid and gid mappings",
                            l->n_uid_mappings ? "gidMappings" : "uidMappings");
    SJ_TRY(check_idmaps(l->uid_mappings, l->n_uid_mappings, "linux.uidMappings", err));
    SJ_TRY(check_idmaps(l->gid_mappings, l->n_gid_mappings, "linux.gidMappings", err));

    if (l->time_boottime.present || l->time_monotonic.present) {
        const struct hull_namespace *t = hull_spec_namespace(s, HULL_NS_TIME);
        if (!t || t->path)
            return hull_err_set(err, EINVAL, P "linux.timeOffsets: needs a new time namespace in linux.namespaces");
        if (l->time_boottime.nanosecs >= 1000000000u || l->time_monotonic.nanosecs >= 1000000000u)
            return hull_err_set(err, EINVAL, P "linux.timeOffsets: nanosecs must be below 1000000000");
    }
    const struct hull_namespace *uts = hull_spec_namespace(s, HULL_NS_UTS);
    if (s->hostname && s->hostname[0] && !uts)
        return hull_err_set(err, EINVAL, P "hostname: setting the hostname needs a UTS namespace in linux.namespaces");
    if (s->domainname && s->domainname[0] && !uts)
        return hull_err_set(err, EINVAL, P "domainname: setting the domain name needs a UTS namespace in linux.namespaces");
    return 0;
}

static int check_sysctl(const struct hull_linux *l, struct hull_err *err) {
    for (size_t i = 0; i < l->n_sysctl; i++) {
        const char *k = l->sysctl[i].key;
        /* Every component between '.' or '/' must be non-empty and not ".."
         * so a name can never climb out of /proc/sys. */
        bool bad = k[0] == '\0';
        for (const char *s = k; *s && !bad;) {
            size_t n = strcspn(s, "./");
            if (n == 0 || (n == 2 && s[0] == '.' && s[1] == '.')) bad = true;
            s += n;
            if (*s) {
                s++;
                if (!*s) bad = true;     /* trailing separator */
            }
        }
        if (bad) return hull_err_set(err, EINVAL, P "linux.sysctl: invalid sysctl name \"%.200s\"", k);
    }
    return 0;
}

static int check_devices(const struct hull_linux *l, struct hull_err *err) {
    for (size_t i = 0; i < l->n_devices; i++) {
        const struct hull_device *d = &l->devices[i];
        if (!strchr("cbup", d->type) || d->type == '\0')
            return hull_err_set(err, EINVAL, P "linux.devices[%zu].type: must be one of c, b, u, p, got \"%c\"",
                                i, d->type);
        if (!clean_abs(d->path))
            return hull_err_set(err, EINVAL, P "linux.devices[%zu].path: must be absolute without \"..\", got \"%.200s\"",
                                i, d->path);
        if (d->file_mode.set && d->file_mode.v > 07777)
            return hull_err_set(err, EINVAL, P "linux.devices[%zu].fileMode: only permission bits allowed", i);
    }
    const struct hull_resources *r = &l->resources;
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct hull_device_rule *d = &r->devices[i];
        if (!strchr("acb", d->type) || d->type == '\0')
            return hull_err_set(err, EINVAL, P "linux.resources.devices[%zu].type: must be one of a, c, b", i);
        if (d->access && (d->access[0] == '\0' || d->access[strspn(d->access, "rwm")] != '\0'))
            return hull_err_set(err, EINVAL, P "linux.resources.devices[%zu].access: must be a subset of \"rwm\", got \"%.32s\"",
                                i, d->access);
    }
    return 0;
}

static int check_paths(char *const *v, size_t n, const char *what, struct hull_err *err) {
    for (size_t i = 0; i < n; i++)
        if (v[i][0] != '/')
            return hull_err_set(err, EINVAL, P "%s[%zu]: must be an absolute path, got \"%.200s\"", what, i, v[i]);
    return 0;
}

static int check_linux(const struct hull_spec *s, struct hull_err *err) {
    const struct hull_linux *l = &s->linux;
    SJ_TRY(check_namespaces(s, err));
    SJ_TRY(check_sysctl(l, err));
    SJ_TRY(check_devices(l, err));
    SJ_TRY(check_paths(l->masked_paths, l->n_masked_paths, "linux.maskedPaths", err));
    SJ_TRY(check_paths(l->readonly_paths, l->n_readonly_paths, "linux.readonlyPaths", err));
    static const char *const props[] = { "", "private", "rprivate", "slave", "rslave", "shared",
                                         "rshared", "unbindable", "runbindable" };
    if (l->rootfs_propagation) {
        bool found = false;
        for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
            if (strcmp(props[i], l->rootfs_propagation) == 0) found = true;
        if (!found)
            return hull_err_set(err, EINVAL, P "linux.rootfsPropagation: unknown propagation \"%.64s\"",
                                l->rootfs_propagation);
    }
    if (l->personality.present && strcmp(l->personality.domain, "LINUX") != 0 &&
        strcmp(l->personality.domain, "LINUX32") != 0)
        return hull_err_set(err, EINVAL, P "linux.personality.domain: must be LINUX or LINUX32, got \"%.64s\"",
                            l->personality.domain);
    return 0;
}

static const char *const hook_names[HULL_HOOK__COUNT] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

int hull_spec_validate(const struct hull_spec *s, struct hull_err *err) {
    if (!s) return hull_err_set(err, EINVAL, P "no spec");
    if (!s->oci_version || !s->oci_version[0])
        return hull_err_set(err, EINVAL, P "ociVersion: required field missing");
    if (!version_ok(s->oci_version))
        return hull_err_set(err, EINVAL, P "ociVersion: unsupported version \"%.64s\" (need 1.x.y)",
                            s->oci_version);
    if (!s->root_path || !s->root_path[0])
        return hull_err_set(err, EINVAL, P "root.path: required field missing or empty");
    if (!s->has_process) return hull_err_set(err, EINVAL, P "process: required field missing");
    SJ_TRY(sj_validate_process(&s->process, P, "process.", err));
    if (s->hostname && strlen(s->hostname) > 64)
        return hull_err_set(err, EINVAL, P "hostname: longer than 64 characters");
    if (s->domainname && strlen(s->domainname) > 64)
        return hull_err_set(err, EINVAL, P "domainname: longer than 64 characters");
    for (size_t i = 0; i < s->n_mounts; i++)
        if (!s->mounts[i].destination[0])
            return hull_err_set(err, EINVAL, P "mounts[%zu].destination: must not be empty", i);
    for (int k = 0; k < HULL_HOOK__COUNT; k++)
        for (size_t i = 0; i < s->hooks.n[k]; i++) {
            const struct hull_hook *h = &s->hooks.list[k][i];
            if (h->path[0] != '/')
                return hull_err_set(err, EINVAL, P "hooks.%s[%zu].path: must be an absolute path, got \"%.200s\"",
                                    hook_names[k], i, h->path);
            if (h->timeout.set && h->timeout.v <= 0)
                return hull_err_set(err, EINVAL, P "hooks.%s[%zu].timeout: must be positive, got %lld",
                                    hook_names[k], i, (long long)h->timeout.v);
        }
    return check_linux(s, err);
}
