/* Freeze/thaw and kill-all. v1 uses the freezer hierarchy (freezer.state,
 * which passes through FREEZING before FROZEN); v2 uses cgroup.freeze and
 * waits for "frozen 1" in cgroup.events. kill_all prefers v2 cgroup.kill
 * (atomic, no fork race); otherwise it freezes so nothing forks between the
 * listing and the signals, signals every pid, thaws (frozen v1 tasks cannot
 * die), and waits until the cgroup is empty. */
#include "cgroups/cg_internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FREEZE_WAIT_MS 5000
#define EMPTY_WAIT_MS  5000

static struct cg_dir *v1_freezer(const struct hull_cgroup *cg) {
    for (size_t i = 0; i < cg->n_dirs; i++)
        if (cg->dirs[i].kind == CG_V1 && cg_list_has(cg->dirs[i].controllers, "freezer"))
            return &cg->dirs[i];
    return NULL;
}

static int freeze_v1(const char *dir, bool frozen, struct hull_err *err) {
    const char *want = frozen ? "FROZEN" : "THAWED";
    for (int waited = 0;; waited += 2) {
        /* Re-writing FROZEN nudges tasks that were busy in the kernel when
         * the first request came; the state file only reports progress. */
        int r = cg_write(dir, "freezer.state", want, err);
        if (r < 0) return r;
        _cleanup_free_ char *s = NULL;
        if ((r = cg_read(dir, "freezer.state", &s, err)) < 0) return r;
        if (strncmp(s, want, strlen(want)) == 0) return 0;
        if (waited >= FREEZE_WAIT_MS) break;
        cg_sleep_ms(2);
    }
    if (frozen) {
        struct hull_err ignored;
        cg_write(dir, "freezer.state", "THAWED", &ignored);
    }
    return hull_err_set(err, ETIMEDOUT, "cgroup %s: freezer.state did not reach %s within %d ms",
                        dir, want, FREEZE_WAIT_MS);
}

static int freeze_v2(const char *dir, bool frozen, struct hull_err *err) {
    int r = cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
    if (r < 0) return r;
    for (int waited = 0;; waited += 2) {
        _cleanup_free_ char *ev = NULL;
        uint64_t v = 0;
        if ((r = cg_read(dir, "cgroup.events", &ev, err)) < 0) return r;
        if (cg_keyed(ev, "frozen", &v) && v == (frozen ? 1u : 0u)) return 0;
        if (waited >= FREEZE_WAIT_MS) break;
        cg_sleep_ms(2);
    }
    if (frozen) {
        struct hull_err ignored;
        cg_write(dir, "cgroup.freeze", "0", &ignored);
    }
    return hull_err_set(err, ETIMEDOUT, "cgroup %s: cgroup.events did not report frozen %d within %d ms",
                        dir, frozen, FREEZE_WAIT_MS);
}

int hull_cgroup_freeze(struct hull_cgroup *cg, bool frozen, struct hull_err *err) {
    struct cg_dir *d = v1_freezer(cg);
    if (d) return freeze_v1(d->path, frozen, err);
    d = cg_v2_dir(cg);
    if (d) return freeze_v2(d->path, frozen, err);
    return hull_err_set(err, ENOTSUP, "cgroup: no freezer (v1 freezer not mounted, no cgroup2)");
}

static int signal_all(const char *dir, int sig, struct hull_err *err) {
    pid_t *pids = NULL;
    size_t n = 0;
    int r = cg_read_pids(dir, &pids, &n, err);
    if (r < 0) return r;
    for (size_t i = 0; i < n && r == 0; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            r = hull_err_sys(err, "cgroup %s: kill(%d, %d)", dir, (int)pids[i], sig);
    free(pids);
    return r;
}

static int wait_empty(const char *dir, struct hull_err *err) {
    for (int waited = 0;; waited += 1) {
        pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_read_pids(dir, &pids, &n, err);
        free(pids);
        if (r == -ENOENT) return 0;
        if (r < 0) return r;
        if (n == 0) return 0;
        if (waited >= EMPTY_WAIT_MS)
            return hull_err_set(err, ETIMEDOUT, "cgroup %s: %zu process(es) still there %d ms after SIGKILL",
                                dir, n, EMPTY_WAIT_MS);
        cg_sleep_ms(1);
    }
}

int hull_cgroup_kill_all(struct hull_cgroup *cg, int sig, struct hull_err *err) {
    struct cg_dir *prim = cg_primary_dir(cg), *v2 = cg_v2_dir(cg), *fz = v1_freezer(cg);
    if (!prim) return hull_err_set(err, ENOENT, "cgroup: no hierarchy");
    int r;
    if (sig != SIGKILL) return signal_all(prim->path, sig, err);

    /* The common case at delete: the init has exited and took its pid
     * namespace with it. An empty cgroup needs no freeze/kill/thaw round. */
    {
        pid_t *pids = NULL;
        size_t n = 0;
        r = cg_read_pids(prim->path, &pids, &n, err);
        free(pids);
        if (r == -ENOENT || (r == 0 && n == 0 && (!v2 || v2 == prim))) return 0;
    }
    bool v2_killed = false;
    if (v2 && cg_file_exists(v2->path, "cgroup.kill")) {
        if ((r = cg_write(v2->path, "cgroup.kill", "1", err)) < 0) return r;
        v2_killed = true;
    }
    /* On v1 (and hybrid, where a task could have left the v2 dir) signal
     * what the primary hierarchy lists, frozen so nothing escapes by forking. */
    if (prim != v2 || !v2_killed) {
        bool frozen = false;
        if (fz) frozen = freeze_v1(fz->path, true, err) == 0;
        else if (v2 && !v2_killed) frozen = freeze_v2(v2->path, true, err) == 0;
        r = signal_all(prim->path, SIGKILL, err);
        struct hull_err ignored;
        if (frozen && fz) freeze_v1(fz->path, false, &ignored);
        else if (frozen) freeze_v2(v2->path, false, &ignored);
        if (r < 0) return r;
    }
    if ((r = wait_empty(prim->path, err)) < 0) return r;
    if (v2 && v2 != prim) return wait_empty(v2->path, err);
    return 0;
}
