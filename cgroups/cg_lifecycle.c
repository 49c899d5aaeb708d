/* create / enter / pids / destroy, for every directory of a container's
 * cgroup (each v1 hierarchy, and the v2 dir). Differences between the
 * drivers are small here: v1 cpuset needs cpus/mems copied into new dirs,
 * v2 needs controllers enabled in every ancestor's cgroup.subtree_control. */
#include "cgroups/cg_internal.h"

#include <fcntl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Copies the parent's cpuset.cpus / cpuset.mems into dir when dir's are
 * empty: a v1 cpuset cgroup starts empty and refuses tasks until filled. */
int cg_v1_cpuset_inherit(const char *dir, struct hull_err *err) {
    static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
    _cleanup_free_ char *parent = strdup(dir);
    if (!parent) return hull_err_set(err, ENOMEM, "out of memory");
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent) return 0;
    *slash = '\0';
    for (size_t i = 0; i < 2; i++) {
        _cleanup_free_ char *own = NULL, *pv = NULL;
        int r = cg_read(dir, files[i], &own, err);
        if (r < 0) return r;
        if (own[strspn(own, " \n")] != '\0') continue;
        if ((r = cg_read(parent, files[i], &pv, err)) < 0) return r;
        pv[strcspn(pv, "\n")] = '\0';
        if (!pv[0]) continue;   /* parent empty too: nothing to copy (kernel will say) */
        if ((r = cg_write(dir, files[i], pv, err)) < 0) return r;
    }
    return 0;
}

/* Enables, in each ancestor of the v2 dir (mount root included), every
 * controller that ancestor offers, so the leaf gets them all. A controller
 * the kernel refuses (e.g. cpu while realtime tasks sit in the subtree) is
 * left off: writing one of its files later reports the failure by name. */
static int v2_enable_controllers(const struct cg_dir *d, struct hull_err *err) {
    size_t ml = strlen(d->mountpoint);
    _cleanup_free_ char *p = strdup(d->path);
    if (!p) return hull_err_set(err, ENOMEM, "out of memory");
    for (char *cut = p + ml; cut; cut = strchr(cut + 1, '/')) {
        *cut = '\0';                /* p is now an ancestor; the leaf is never reached */
        _cleanup_free_ char *avail = NULL, *on = NULL;
        int r;
        if ((r = cg_read(p, "cgroup.controllers", &avail, err)) < 0 ||
            (r = cg_read(p, "cgroup.subtree_control", &on, err)) < 0)
            return r;
        char *save = NULL;
        for (char *t = strtok_r(avail, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
            char tok[80];
            snprintf(tok, sizeof tok, " %s ", t);
            char onsp[1024];
            snprintf(onsp, sizeof onsp, " %s ", on);
            size_t k = strcspn(onsp, "\n");   /* an empty file reads as "", not "\n" */
            if (onsp[k]) onsp[k] = ' ';
            if (strstr(onsp, tok)) continue;
            struct hull_err ignored;
            cg_writef(p, "cgroup.subtree_control", &ignored, "+%s", t);
        }
        *cut = '/';
    }
    return 0;
}

int hull_cgroup_plan(struct hull_cgroup *cg, struct hull_err *err) {
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg_plan_tracked(&cg->dirs[i]) < 0) return hull_err_set(err, ENOMEM, "cgroup: out of memory");
    return 0;
}

int hull_cgroup_create(struct hull_cgroup *cg, const struct hull_resources *r, struct hull_err *err) {
    int rc = 0;
    if (r && r->present && (rc = cg_res_check(cg, r, err)) < 0) return rc;
    for (size_t i = 0; i < cg->n_dirs && rc == 0; i++) {
        struct cg_dir *d = &cg->dirs[i];
        if ((rc = cg_mkdir_tracked(d, err)) < 0) break;
        if (d->kind == CG_V1 && cg_list_has(d->controllers, "cpuset")) {
            /* Every level, top down, not only the ones we made: a parent that
             * a concurrent create has just made may not have its cpus/mems
             * yet, and a leaf below an empty cpuset cannot take tasks. */
            size_t ml = strlen(d->mountpoint);
            _cleanup_free_ char *p = strdup(d->path);
            if (!p) { rc = hull_err_set(err, ENOMEM, "out of memory"); break; }
            for (char *cut = strchr(p + ml + 1, '/');; cut = strchr(cut + 1, '/')) {
                if (cut) *cut = '\0';
                if ((rc = cg_v1_cpuset_inherit(p, err)) < 0) break;
                if (!cut) break;
                *cut = '/';
            }
        } else if (d->kind == CG_V2) {
            rc = v2_enable_controllers(d, err);
        }
    }
    /* On v2 a controller is usable in the new leaf only if every ancestor
     * enabled it (the no-internal-process rule can refuse that): check again
     * against the leaf itself before writing anything. */
    if (rc == 0 && r && r->present && cg_v2_dir(cg)) rc = cg_res_check(cg, r, err);
    if (rc == 0 && r && r->present) rc = cg_res_apply(cg, r, false, err);
    if (rc < 0) {
        /* A failed create leaves nothing: undo the dirs made above. */
        struct hull_err ignored;
        hull_cgroup_destroy(cg, &ignored);
    }
    return rc;
}

int hull_cgroup_enter(struct hull_cgroup *cg, pid_t pid, struct hull_err *err) {
    for (size_t i = 0; i < cg->n_dirs; i++) {
        int r = cg_writef(cg->dirs[i].path, "cgroup.procs", err, "%d", (int)pid);
        if (r < 0) return r;
    }
    return 0;
}

/* v1: "0" into `tasks` moves the calling thread without the kernel's global
 * threadgroup lock (and so without the RCU grace period a cgroup.procs write
 * waits for); the caller is single-threaded, so that moves the process. v2
 * has no such path: its dir is joined at clone time (CLONE_INTO_CGROUP) or,
 * failing that, through cgroup.procs. */
int hull_cgroup_enter_self(struct hull_cgroup *cg, bool skip_v2, struct hull_err *err) {
    for (size_t i = 0; i < cg->n_dirs; i++) {
        const struct cg_dir *d = &cg->dirs[i];
        if (d->kind == CG_V2 && skip_v2) continue;
        int r = cg_write(d->path, d->kind == CG_V1 ? "tasks" : "cgroup.procs", "0", err);
        if (r < 0) return r;
    }
    return 0;
}

int hull_cgroup_open_v2_dir(const struct hull_cgroup *cg) {
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].kind == CG_V2)
            return open(cg->dirs[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    errno = ENOENT;
    return -1;
}

int hull_cgroup_pids(struct hull_cgroup *cg, pid_t **pids, size_t *n, struct hull_err *err) {
    *pids = NULL;
    *n = 0;
    struct cg_dir *d = cg_primary_dir(cg);
    if (!d) return hull_err_set(err, ENOENT, "cgroup: no hierarchy");
    return cg_read_pids(d->path, pids, n, err);
}

int hull_cgroup_destroy(struct hull_cgroup *cg, struct hull_err *err) {
    int first = 0;
    for (size_t i = 0; i < cg->n_dirs; i++) {
        struct cg_dir *d = &cg->dirs[i];
        while (d->n_created > 0) {
            char *p = d->created[d->n_created - 1];
            bool leaf = strcmp(p, d->path) == 0;
            struct hull_err e2;
            /* The leaf may stay busy for a moment while its last tasks exit;
             * a parent hull made may hold another container's cgroup now,
             * and then it stays (that container's delete removes it). */
            int r = cg_rmdir_retry(p, leaf ? 1000 : 0, &e2);
            if (r < 0 && !leaf && (e2.code == EBUSY || e2.code == ENOTEMPTY)) r = 0;
            if (r < 0) {
                if (!first) { first = r; if (err) *err = e2; }
                break;   /* the parents cannot go while this one stays */
            }
            free(p);
            d->n_created--;
        }
    }
    /* /hull is hull's own parent for default paths; whichever container
     * made it may be long gone, so the last one out removes it. */
    for (size_t i = 0; first == 0 && i < cg->n_dirs; i++) {
        struct cg_dir *d = &cg->dirs[i];
        char top[4096];
        snprintf(top, sizeof top, "%s/hull", d->mountpoint);
        const char *slash = strrchr(d->path, '/');
        if (slash && (size_t)(slash - d->path) == strlen(top) && strncmp(d->path, top, strlen(top)) == 0)
            rmdir(top);   /* EBUSY: other containers still there */
    }
    if (first == 0) cg->bpf_prog_id = 0;
    return first;
}
