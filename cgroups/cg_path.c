/* cgroupsPath resolution (as runc): absolute paths start at each hierarchy's
 * root, relative ones at the caller's own cgroup in that hierarchy, and an
 * absent path means /hull/<id>. The path is normalised ("//" and "." dropped)
 * and refused when it has "..", control characters, or names the root or the
 * caller's own cgroup (destroy/kill_all there would hit the caller). */
#include "cgroups/cg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Normalises p into out ("/a/b", or "" for the top). */
static int clean_path(const char *p, char *out, size_t cap, struct hull_err *err) {
    size_t len = 0;
    out[0] = '\0';
    for (const char *s = p; *s;) {
        while (*s == '/') s++;
        if (!*s) break;
        const char *e = strchrnul(s, '/');
        size_t cl = (size_t)(e - s);
        if (cl == 1 && s[0] == '.') { s = e; continue; }
        if (cl == 2 && s[0] == '.' && s[1] == '.')
            return hull_err_set(err, EINVAL, "cgroupsPath \"%s\": \"..\" is not allowed", p);
        for (size_t i = 0; i < cl; i++)
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                return hull_err_set(err, EINVAL, "cgroupsPath \"%s\": control character", p);
        if (cl > 255)
            return hull_err_set(err, ENAMETOOLONG, "cgroupsPath \"%s\": component too long", p);
        if (len + cl + 2 > cap)
            return hull_err_set(err, ENAMETOOLONG, "cgroupsPath \"%s\": too long", p);
        out[len++] = '/';
        memcpy(out + len, s, cl);
        len += cl;
        out[len] = '\0';
        s = e;
    }
    return 0;
}

void cg_dir_clear(struct cg_dir *d) {
    free(d->controllers);
    free(d->mountpoint);
    free(d->path);
    for (size_t i = 0; i < d->n_created; i++) free(d->created[i]);
    free(d->created);
    memset(d, 0, sizeof *d);
}

void hull_cgroup_free(struct hull_cgroup *cg) {
    if (!cg) return;
    for (size_t i = 0; i < cg->n_dirs; i++) cg_dir_clear(&cg->dirs[i]);
    free(cg->dirs);
    free(cg);
}

int hull_cgroup_open(const char *cgroups_path, const char *id, struct hull_cgroup **out,
                     struct hull_err *err) {
    *out = NULL;
    const struct cg_host *h = cg_host_get(err);
    if (!h) return -ENOENT;
    char want[4096];
    bool relative = false;
    if (!cgroups_path || !cgroups_path[0]) {
        if (!id || !id[0] || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
            return hull_err_set(err, EINVAL, "cgroup: invalid container id \"%s\"", id ? id : "");
        snprintf(want, sizeof want, "/hull/%s", id);
        cgroups_path = want;
    }
    relative = cgroups_path[0] != '/';
    char clean[4096];
    int r = clean_path(cgroups_path, clean, sizeof clean, err);
    if (r < 0) return r;
    if (!clean[0])
        return hull_err_set(err, EINVAL, "cgroupsPath \"%s\": names the %s cgroup itself", cgroups_path,
                            relative ? "caller's" : "root");

    struct hull_cgroup *cg = calloc(1, sizeof *cg);
    if (!cg || !(cg->dirs = calloc(h->n_mounts, sizeof *cg->dirs))) {
        free(cg);
        return hull_err_set(err, ENOMEM, "out of memory");
    }
    cg->mode = h->mode;
    for (size_t i = 0; i < h->n_mounts; i++) {
        const struct cg_mount *m = &h->mounts[i];
        _cleanup_free_ char *base = NULL;
        if (relative) {
            if ((r = cg_self_path(m, &base, err)) < 0) goto fail;
        } else if (!(base = strdup("/"))) {
            r = hull_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
        struct cg_dir *d = &cg->dirs[cg->n_dirs++];
        d->kind = m->kind;
        d->controllers = strdup(m->controllers);
        d->mountpoint = strdup(m->mountpoint);
        const char *b = strcmp(base, "/") == 0 ? "" : base;
        if (asprintf(&d->path, "%s%s%s", m->mountpoint, b, clean) < 0) d->path = NULL;
        if (!d->controllers || !d->mountpoint || !d->path) {
            r = hull_err_set(err, ENOMEM, "out of memory");
            goto fail;
        }
    }
    *out = cg;
    return 0;
fail:
    hull_cgroup_free(cg);
    return r;
}

struct cg_dir *cg_v2_dir(const struct hull_cgroup *cg) {
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].kind == CG_V2) return &cg->dirs[i];
    return NULL;
}

struct cg_dir *cg_owner(const struct hull_cgroup *cg, const char *controller) {
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].kind == CG_V1 && cg_list_has(cg->dirs[i].controllers, controller))
            return &cg->dirs[i];
    struct cg_dir *v2 = cg_v2_dir(cg);
    if (!v2) return NULL;
    /* Before create the dir does not exist yet: ask the nearest existing
     * ancestor, whose controllers are what the subtree can enable. */
    char *p = strdup(v2->path);
    if (!p) return NULL;
    struct cg_dir *res = NULL;
    for (;;) {
        _cleanup_free_ char *ctl = NULL;
        if (cg_read(p, "cgroup.controllers", &ctl, NULL) == 0) {
            char *save = NULL;
            for (char *t = strtok_r(ctl, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
                if (strcmp(t, controller) == 0) res = v2;
            break;
        }
        char *slash = strrchr(p, '/');
        if (!slash || slash == p || strlen(p) <= strlen(v2->mountpoint)) break;
        *slash = '\0';
    }
    free(p);
    return res;
}

struct cg_dir *cg_primary_dir(const struct hull_cgroup *cg) {
    static const char *const order[] = { "freezer", "pids", "memory", "cpu" };
    for (size_t k = 0; k < sizeof order / sizeof *order; k++)
        for (size_t i = 0; i < cg->n_dirs; i++)
            if (cg->dirs[i].kind == CG_V1 && cg_list_has(cg->dirs[i].controllers, order[k]))
                return &cg->dirs[i];
    struct cg_dir *v2 = cg_v2_dir(cg);
    return v2 ? v2 : cg->n_dirs ? &cg->dirs[0] : NULL;
}

