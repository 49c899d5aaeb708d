/* Usage numbers for `events --stats` and OOM detection, read from whichever
 * hierarchy owns each controller (v1 file names or v2 flat-keyed files).
 * A missing file leaves its field 0: stats are best effort by nature, only
 * an unreadable cgroup (gone) is an error. */
#include "cgroups/cg_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t u64_or0(const char *dir, const char *file) {
    uint64_t v = 0;
    return cg_read_u64(dir, file, &v, NULL) == 0 ? v : 0;
}

static uint64_t keyed_or0(const char *dir, const char *file, const char *key) {
    _cleanup_free_ char *s = NULL;
    uint64_t v = 0;
    if (cg_read(dir, file, &s, NULL) == 0) cg_keyed(s, key, &v);
    return v;
}

static void cpu_v1(const struct hull_cgroup *cg, struct hull_cgroup_stats *st) {
    struct cg_dir *acct = cg_owner(cg, "cpuacct"), *cpu = cg_owner(cg, "cpu");
    if (acct && acct->kind == CG_V1) {
        st->cpu.usage_ns = u64_or0(acct->path, "cpuacct.usage");
        /* cpuacct.stat counts USER_HZ ticks */
        long hz = sysconf(_SC_CLK_TCK);
        if (hz <= 0) hz = 100;
        st->cpu.user_ns = keyed_or0(acct->path, "cpuacct.stat", "user") * (1000000000ull / (uint64_t)hz);
        st->cpu.system_ns = keyed_or0(acct->path, "cpuacct.stat", "system") * (1000000000ull / (uint64_t)hz);
    }
    if (cpu) {
        _cleanup_free_ char *s = NULL;
        if (cg_read(cpu->path, "cpu.stat", &s, NULL) == 0) {
            cg_keyed(s, "nr_periods", &st->cpu.nr_periods);
            cg_keyed(s, "nr_throttled", &st->cpu.nr_throttled);
            cg_keyed(s, "throttled_time", &st->cpu.throttled_ns);
        }
    }
}

static void cpu_v2(const char *dir, struct hull_cgroup_stats *st) {
    _cleanup_free_ char *s = NULL;
    if (cg_read(dir, "cpu.stat", &s, NULL) < 0) return;
    uint64_t v;
    if (cg_keyed(s, "usage_usec", &v)) st->cpu.usage_ns = v * 1000;
    if (cg_keyed(s, "user_usec", &v)) st->cpu.user_ns = v * 1000;
    if (cg_keyed(s, "system_usec", &v)) st->cpu.system_ns = v * 1000;
    cg_keyed(s, "nr_periods", &st->cpu.nr_periods);
    cg_keyed(s, "nr_throttled", &st->cpu.nr_throttled);
    if (cg_keyed(s, "throttled_usec", &v)) st->cpu.throttled_ns = v * 1000;
}

static void mem_v1(const char *dir, struct hull_cgroup_stats *st) {
    st->memory.usage = u64_or0(dir, "memory.usage_in_bytes");
    st->memory.limit = u64_or0(dir, "memory.limit_in_bytes");
    st->memory.max_usage = u64_or0(dir, "memory.max_usage_in_bytes");
    st->memory.failcnt = u64_or0(dir, "memory.failcnt");
    uint64_t sw = u64_or0(dir, "memory.memsw.usage_in_bytes");
    st->memory.swap_usage = sw > st->memory.usage ? sw - st->memory.usage : 0;
    st->memory.swap_limit = u64_or0(dir, "memory.memsw.limit_in_bytes");
    st->memory.cache = keyed_or0(dir, "memory.stat", "total_cache");
    st->memory.oom_kill = keyed_or0(dir, "memory.oom_control", "oom_kill");
}

static void mem_v2(const char *dir, struct hull_cgroup_stats *st) {
    st->memory.usage = u64_or0(dir, "memory.current");
    st->memory.limit = u64_or0(dir, "memory.max");
    st->memory.max_usage = u64_or0(dir, "memory.peak");
    st->memory.failcnt = keyed_or0(dir, "memory.events", "max");
    st->memory.swap_usage = u64_or0(dir, "memory.swap.current");
    st->memory.swap_limit = u64_or0(dir, "memory.swap.max");
    st->memory.cache = keyed_or0(dir, "memory.stat", "file");
    st->memory.oom_kill = keyed_or0(dir, "memory.events", "oom_kill");
}

int hull_cgroup_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st, struct hull_err *err) {
    memset(st, 0, sizeof *st);
    struct cg_dir *prim = cg_primary_dir(cg);
    if (!prim || !cg_file_exists(prim->path, "cgroup.procs"))
        return hull_err_set(err, ENOENT, "cgroup %s: does not exist", prim ? prim->path : "?");
    struct cg_dir *d = cg_owner(cg, "cpu");
    if (d && d->kind == CG_V2) cpu_v2(d->path, st);
    else cpu_v1(cg, st);
    if ((d = cg_owner(cg, "memory"))) (d->kind == CG_V1 ? mem_v1 : mem_v2)(d->path, st);
    if ((d = cg_owner(cg, "pids"))) {
        st->pids.current = u64_or0(d->path, "pids.current");
        st->pids.limit = u64_or0(d->path, "pids.max");
    }
    return 0;
}

