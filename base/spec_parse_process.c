/* config.json "process" (also the whole document of `exec --process`). Names
 * that become numbers (capabilities, scheduler policy/flags, I/O class) are
 * resolved here, because the typed model has no room for an unknown name;
 * rlimit types are kept as written and resolved to -1 when unknown so the
 * validator can report them. */
#include "base/spec_json.h"

#include <linux/sched.h>
#include <sched.h>
#include <string.h>

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

static int parse_user(struct sj *c, yajl_val v, struct hull_user *u) {
    SJ_TRY(sj_v_obj(c, v));
    SJ_TRY(sj_u32(c, v, "uid", false, &u->uid));
    SJ_TRY(sj_u32(c, v, "gid", false, &u->gid));
    SJ_TRY(sj_opt_u64(c, v, "umask", UINT32_MAX, &u->umask));
    SJ_TRY(sj_u32v(c, v, "additionalGids", &u->additional_gids, &u->n_additional_gids));
    SJ_TRY(sj_str(c, v, "username", false, &u->username));
    return 0;
}

static int parse_cap_set(struct sj *c, yajl_val caps, const char *key, uint64_t *mask) {
    yajl_val a;
    SJ_TRY(sj_arr(c, caps, key, false, &a));
    if (!a) return 0;
    size_t mark = sj_push_key(c, key);
    for (size_t i = 0; i < a->u.array.len; i++) {
        size_t m2 = sj_push_index(c, i);
        char *name;
        SJ_TRY(sj_v_str(c, a->u.array.values[i], &name));
        int cap = hull_cap_from_name(name);
        if (cap < 0) return sj_fail(c, "unknown capability \"%.64s\"", name);
        *mask |= UINT64_C(1) << cap;
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_caps(struct sj *c, yajl_val v, struct hull_caps *caps) {
    SJ_TRY(sj_v_obj(c, v));
    caps->present = true;
    SJ_TRY(parse_cap_set(c, v, "bounding", &caps->bounding));
    SJ_TRY(parse_cap_set(c, v, "effective", &caps->effective));
    SJ_TRY(parse_cap_set(c, v, "inheritable", &caps->inheritable));
    SJ_TRY(parse_cap_set(c, v, "permitted", &caps->permitted));
    SJ_TRY(parse_cap_set(c, v, "ambient", &caps->ambient));
    return 0;
}

static int parse_rlimits(struct sj *c, yajl_val proc, struct hull_process *p) {
    yajl_val a;
    SJ_TRY(sj_arr(c, proc, "rlimits", false, &a));
    if (!a) return 0;
    p->n_rlimits = a->u.array.len;
    p->rlimits = hull_arena_alloc(c->arena, (p->n_rlimits ? p->n_rlimits : 1) * sizeof *p->rlimits);
    if (!p->rlimits) return sj_oom(c);
    size_t mark = sj_push_key(c, "rlimits");
    for (size_t i = 0; i < p->n_rlimits; i++) {
        size_t m2 = sj_push_index(c, i);
        yajl_val e = a->u.array.values[i];
        struct hull_rlimit *rl = &p->rlimits[i];
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_str(c, e, "type", true, &rl->type));
        hull_opt_u64 soft = { 0 }, hard = { 0 };
        SJ_TRY(sj_opt_u64(c, e, "soft", UINT64_MAX, &soft));
        SJ_TRY(sj_opt_u64(c, e, "hard", UINT64_MAX, &hard));
        if (!soft.set || !hard.set) {
            sj_push_key(c, soft.set ? "hard" : "soft");
            return sj_fail(c, "required field missing");
        }
        rl->soft = soft.v;
        rl->hard = hard.v;
        int res = hull_rlimit_from_name(rl->type);
        rl->resource = res < 0 ? -1 : res;
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static const struct { const char *name; int v; } sched_policies[] = {
    { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
    { "SCHED_BATCH", SCHED_BATCH }, { "SCHED_ISO", 4 },           { "SCHED_IDLE", SCHED_IDLE },
    { "SCHED_DEADLINE", SCHED_DEADLINE },
};

static const struct { const char *name; uint64_t bit; } sched_flags[] = {
    { "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },
    { "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
    { "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },
    { "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
    { "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },
    { "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
    { "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX },
};

static int parse_scheduler(struct sj *c, yajl_val v, struct hull_scheduler *s) {
    SJ_TRY(sj_v_obj(c, v));
    s->present = true;
    char *policy;
    SJ_TRY(sj_str(c, v, "policy", true, &policy));
    s->policy = HULL_SCHED_UNSET;
    for (size_t i = 0; i < sizeof sched_policies / sizeof sched_policies[0]; i++)
        if (strcmp(sched_policies[i].name, policy) == 0) s->policy = sched_policies[i].v;
    if (s->policy == HULL_SCHED_UNSET) {
        size_t m = sj_push_key(c, "policy");
        int r = sj_fail(c, "unknown scheduler policy \"%.64s\"", policy);
        sj_pop(c, m);
        return r;
    }
    int64_t x = 0;
    SJ_TRY(sj_i64(c, v, "nice", false, INT32_MIN, INT32_MAX, &x));
    s->nice = (int32_t)x;
    x = 0;
    SJ_TRY(sj_i64(c, v, "priority", false, INT32_MIN, INT32_MAX, &x));
    s->priority = (int32_t)x;
    char **flags = NULL;
    size_t n_flags = 0;
    SJ_TRY(sj_strv(c, v, "flags", &flags, &n_flags));
    for (size_t i = 0; i < n_flags; i++) {
        uint64_t bit = 0;
        for (size_t k = 0; k < sizeof sched_flags / sizeof sched_flags[0]; k++)
            if (strcmp(sched_flags[k].name, flags[i]) == 0) bit = sched_flags[k].bit;
        if (!bit) {
            size_t m = sj_push_key(c, "flags");
            sj_push_index(c, i);
            int r = sj_fail(c, "unknown scheduler flag \"%.64s\"", flags[i]);
            sj_pop(c, m);
            return r;
        }
        s->flags |= bit;
    }
    hull_opt_u64 t = { 0 };
    SJ_TRY(sj_opt_u64(c, v, "runtime", UINT64_MAX, &t));
    s->runtime = t.v;
    t.v = 0;
    SJ_TRY(sj_opt_u64(c, v, "deadline", UINT64_MAX, &t));
    s->deadline = t.v;
    t.v = 0;
    SJ_TRY(sj_opt_u64(c, v, "period", UINT64_MAX, &t));
    s->period = t.v;
    return 0;
}

static int parse_io_priority(struct sj *c, yajl_val v, struct hull_io_priority *io) {
    SJ_TRY(sj_v_obj(c, v));
    io->present = true;
    char *klass;
    SJ_TRY(sj_str(c, v, "class", true, &klass));
    /* IOPRIO_CLASS_RT/BE/IDLE are 1/2/3 in linux/ioprio.h. */
    if (strcmp(klass, "IOPRIO_CLASS_RT") == 0) io->klass = 1;
    else if (strcmp(klass, "IOPRIO_CLASS_BE") == 0) io->klass = 2;
    else if (strcmp(klass, "IOPRIO_CLASS_IDLE") == 0) io->klass = 3;
    else {
        size_t m = sj_push_key(c, "class");
        int r = sj_fail(c, "unknown I/O priority class \"%.64s\"", klass);
        sj_pop(c, m);
        return r;
    }
    int64_t prio = 0;
    SJ_TRY(sj_i64(c, v, "priority", false, 0, 7, &prio));
    io->priority = (int)prio;
    return 0;
}

static int parse_console_size(struct sj *c, yajl_val v, struct hull_process *p) {
    SJ_TRY(sj_u32(c, v, "height", true, &p->console_height));
    SJ_TRY(sj_u32(c, v, "width", true, &p->console_width));
    p->has_console_size = true;
    return 0;
}

static int parse_affinity(struct sj *c, yajl_val v, struct hull_process *p) {
    SJ_TRY(sj_str(c, v, "initial", false, &p->exec_cpu_affinity_initial));
    SJ_TRY(sj_str(c, v, "final", false, &p->exec_cpu_affinity_final));
    return 0;
}

int sj_parse_process(struct sj *c, yajl_val v, struct hull_process *p) {
    SJ_TRY(sj_bool(c, v, "terminal", &p->terminal));
    SJ_SUBOBJ(c, v, "consoleSize", parse_console_size, p);
    SJ_SUBOBJ(c, v, "user", parse_user, &p->user);
    SJ_TRY(sj_strv(c, v, "args", &p->args, &p->n_args));
    SJ_TRY(sj_str(c, v, "commandLine", false, &p->command_line));
    SJ_TRY(sj_strv(c, v, "env", &p->env, &p->n_env));
    SJ_TRY(sj_str(c, v, "cwd", false, &p->cwd));
    SJ_SUBOBJ(c, v, "capabilities", parse_caps, &p->caps);
    SJ_TRY(parse_rlimits(c, v, p));
    SJ_TRY(sj_bool(c, v, "noNewPrivileges", &p->no_new_privileges));
    SJ_TRY(sj_str(c, v, "apparmorProfile", false, &p->apparmor_profile));
    SJ_TRY(sj_opt_i64(c, v, "oomScoreAdj", INT32_MIN, INT32_MAX, &p->oom_score_adj));
    SJ_TRY(sj_str(c, v, "selinuxLabel", false, &p->selinux_label));
    p->scheduler.policy = HULL_SCHED_UNSET;
    SJ_SUBOBJ(c, v, "scheduler", parse_scheduler, &p->scheduler);
    SJ_SUBOBJ(c, v, "ioPriority", parse_io_priority, &p->io_priority);
    SJ_SUBOBJ(c, v, "execCPUAffinity", parse_affinity, p);
    return 0;
}
