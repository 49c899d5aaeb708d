/* process.* applied to the calling process: the "early" step (resource limits,
 * OOM score, scheduling, personality, CPU affinity, umask) and the "final" step
 * (no_new_privs, seccomp). The identity switch lives in process_identity.c.
 *
 * Seccomp timing. Loading a filter without no_new_privs needs CAP_SYS_ADMIN,
 * which the process usually no longer has after hull_process_apply_identity().
 * So, as runc does:
 *   - noNewPrivileges == true:  the filter is loaded in hull_process_apply_final(),
 *     after PR_SET_NO_NEW_PRIVS, as the very last step before chdir/exec, so the
 *     filter never has to allow hull's own set-up calls;
 *   - noNewPrivileges == false: the filter is loaded at the END of
 *     hull_process_apply_early() (the last call that receives the spec before
 *     the identity switch). The filter must then allow setgroups/setres[ug]id/
 *     capset/prctl, like with runc. hull_process_apply_final() sees that it is
 *     already loaded and only hands back the notify fd.
 * The "already loaded" flag and the notify fd are per-process statics: these
 * functions run in the freshly forked container init (or exec) child, once. */
#include "linux/process.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool seccomp_loaded;
static int seccomp_notify = -1;

static const char *rlimit_label(const struct hull_rlimit *r, char *buf, size_t len) {
    if (r->type && r->type[0]) return r->type;
    snprintf(buf, len, "rlimit %d", r->resource);
    return buf;
}

/* A hard limit above the one we hold needs CAP_SYS_RESOURCE in the initial
 * user namespace, which a container init in a new user namespace never has and
 * which some hosts drop from root's bounding set. Clients ask for generous
 * defaults regardless (podman: nofile 1048576, nproc 4194304), so, as users
 * expect, such a limit is lowered to the hard limit we hold, with a warning,
 * instead of failing the container. Anything else that fails is an error. */
static int apply_rlimits(const struct hull_process *p, struct hull_err *err) {
    for (size_t i = 0; i < p->n_rlimits; i++) {
        const struct hull_rlimit *r = &p->rlimits[i];
        struct rlimit64 want = { .rlim_cur = r->soft, .rlim_max = r->hard };
        char lbl[32];
        if (r->soft > r->hard)
            return hull_err_set(err, EINVAL, "setrlimit %s %llu/%llu: soft limit above hard limit",
                                rlimit_label(r, lbl, sizeof lbl), (unsigned long long)r->soft,
                                (unsigned long long)r->hard);
        if (prlimit64(0, r->resource, &want, NULL) == 0) continue;
        int saved = errno;
        struct rlimit64 cur;
        if (saved == EPERM && prlimit64(0, r->resource, NULL, &cur) == 0 && r->hard > cur.rlim_max) {
            struct rlimit64 clamped = { .rlim_cur = r->soft < cur.rlim_max ? r->soft : cur.rlim_max,
                                        .rlim_max = cur.rlim_max };
            if (prlimit64(0, r->resource, &clamped, NULL) == 0) {
                hull_warn("setrlimit %s %llu/%llu: raising the hard limit above %llu needs CAP_SYS_RESOURCE; "
                          "set to %llu/%llu instead", rlimit_label(r, lbl, sizeof lbl),
                          (unsigned long long)r->soft, (unsigned long long)r->hard,
                          (unsigned long long)cur.rlim_max, (unsigned long long)clamped.rlim_cur,
                          (unsigned long long)clamped.rlim_max);
                continue;
            }
            saved = errno;
        }
        return hull_err_set(err, saved, "setrlimit %s %llu/%llu: %s", rlimit_label(r, lbl, sizeof lbl),
                            (unsigned long long)r->soft, (unsigned long long)r->hard, strerror(saved));
    }
    return 0;
}

static int apply_oom_score_adj(const struct hull_process *p, struct hull_err *err) {
    if (!p->oom_score_adj.set) return 0;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)p->oom_score_adj.v);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open /proc/self/oom_score_adj");
    ssize_t w = write(fd, buf, (size_t)n);
    int saved = errno;
    close(fd);
    if (w == n) return 0;
    if (w >= 0) saved = EIO;
    const char *hint = "";
    /* Going below the lowest value set before needs CAP_SYS_RESOURCE. */
    if (saved == EACCES || saved == EPERM)
        hint = " (lowering oom_score_adj needs CAP_SYS_RESOURCE)";
    return hull_err_set(err, saved, "write /proc/self/oom_score_adj %s: %s%s", buf,
                        strerror(saved), hint);
}

/* The sched_setattr(2) ABI (SCHED_ATTR_SIZE_VER1 layout); the uapi header
 * cannot be included next to glibc's <sched.h>. */
struct hull_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

static int apply_scheduler(const struct hull_process *p, struct hull_err *err) {
    const struct hull_scheduler *s = &p->scheduler;
    if (!s->present) return 0;
    /* glibc 2.36 has no sched_setattr wrapper; the kernel ABI is stable. */
    struct hull_sched_attr a = {
        .size = sizeof a,
        .sched_policy = (uint32_t)s->policy,
        .sched_flags = s->flags,
        .sched_nice = s->nice,
        .sched_priority = (uint32_t)s->priority,
        .sched_runtime = s->runtime,
        .sched_deadline = s->deadline,
        .sched_period = s->period,
    };
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
        return hull_err_sys(err, "sched_setattr policy %d nice %d priority %d", s->policy, s->nice,
                            s->priority);
    return 0;
}

static int apply_io_priority(const struct hull_process *p, struct hull_err *err) {
    const struct hull_io_priority *io = &p->io_priority;
    if (!io->present) return 0;
    /* IOPRIO_PRIO_VALUE(class, data) = class << 13 | data; who = IOPRIO_WHO_PROCESS (1). */
    int value = (io->klass << 13) | (io->priority & 0x1fff);
    if (syscall(SYS_ioprio_set, 1, 0, value) < 0)
        return hull_err_sys(err, "ioprio_set class %d priority %d", io->klass, io->priority);
    return 0;
}

static const struct { const char *name; unsigned long flag; } persona_flags[] = {
    { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE }, { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
    { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },   { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
    { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },       { "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },
    { "SHORT_INODE", SHORT_INODE },             { "STICKY_TIMEOUTS", STICKY_TIMEOUTS },
    { "UNAME26", UNAME26 },                     { "WHOLE_SECONDS", WHOLE_SECONDS },
    { "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },
};

static int apply_personality(const struct hull_spec *spec, struct hull_err *err) {
    if (!spec || !spec->linux.personality.present) return 0;
    const struct hull_personality *ps = &spec->linux.personality;
    unsigned long persona;
    if (!ps->domain || strcmp(ps->domain, "LINUX") == 0)
        persona = PER_LINUX;
    else if (strcmp(ps->domain, "LINUX32") == 0)
        persona = PER_LINUX32;
    else
        return hull_err_set(err, EINVAL, "personality: unknown domain \"%s\"", ps->domain);
    for (size_t i = 0; i < ps->n_flags; i++) {
        size_t k = 0, n = sizeof persona_flags / sizeof persona_flags[0];
        while (k < n && strcmp(persona_flags[k].name, ps->flags[i]) != 0) k++;
        if (k == n) return hull_err_set(err, EINVAL, "personality: unknown flag \"%s\"", ps->flags[i]);
        persona |= persona_flags[k].flag;
    }
    if (personality(persona) < 0)
        return hull_err_sys(err, "personality(%s, 0x%lx)", ps->domain ? ps->domain : "LINUX", persona);
    return 0;
}

/* process.execCPUAffinity.final ("0-3,7"): the container process is already
 * in its cgroup here, so this is the affinity it execs with. (".initial" is for
 * the runtime's own process before it joins the cgroup: the executor's job.) */
static int apply_cpu_affinity(const struct hull_process *p, struct hull_err *err) {
    const char *list = p->exec_cpu_affinity_final;
    if (!list || !list[0]) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (const char *s = list; *s; ) {
        char *end;
        errno = 0;
        unsigned long lo = strtoul(s, &end, 10), hi = lo;
        if (end == s || errno) goto bad;
        if (*end == '-') {
            s = end + 1;
            hi = strtoul(s, &end, 10);
            if (end == s || errno || hi < lo) goto bad;
        }
        if (hi >= CPU_SETSIZE) goto bad;
        for (unsigned long c = lo; c <= hi; c++) CPU_SET(c, &set);
        if (*end == ',') end++;
        else if (*end) goto bad;
        s = end;
    }
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        return hull_err_sys(err, "sched_setaffinity execCPUAffinity.final \"%s\"", list);
    return 0;
bad:
    return hull_err_set(err, EINVAL, "execCPUAffinity.final \"%s\": not a cpu list like \"0-3,7\"", list);
}

static int load_seccomp_once(const struct hull_spec *spec, struct hull_err *err) {
    if (seccomp_loaded || !spec || !spec->linux.seccomp.present) return 0;
    int fd = -1;
    int rc = hull_seccomp_load(&spec->linux.seccomp, &fd, err);
    if (rc < 0) return rc;
    seccomp_loaded = true;
    seccomp_notify = fd;
    return 0;
}

int hull_process_apply_early(const struct hull_spec *spec, const struct hull_process *p,
                             struct hull_err *err) {
    int rc;
    if ((rc = apply_rlimits(p, err)) < 0) return rc;
    if ((rc = apply_oom_score_adj(p, err)) < 0) return rc;
    if ((rc = apply_scheduler(p, err)) < 0) return rc;
    if ((rc = apply_io_priority(p, err)) < 0) return rc;
    if ((rc = apply_personality(spec, err)) < 0) return rc;
    if ((rc = apply_cpu_affinity(p, err)) < 0) return rc;
    /* runc's default when user.umask is absent. */
    umask(p->user.umask.set ? (mode_t)(p->user.umask.v & 07777) : 0022);
    /* Without no_new_privs the filter needs CAP_SYS_ADMIN: load it now, while
     * the process still has it (see the comment at the top). */
    if (!p->no_new_privileges) {
        if ((rc = load_seccomp_once(spec, err)) < 0) return hull_err_prefix(err, "seccomp: ");
    }
    return 0;
}

int hull_process_apply_final(const struct hull_spec *spec, const struct hull_process *p,
                             int *notify_fd, struct hull_err *err) {
    if (notify_fd) *notify_fd = -1;
    if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return hull_err_sys(err, "prctl(PR_SET_NO_NEW_PRIVS)");
    int rc = load_seccomp_once(spec, err);
    if (rc < 0) return hull_err_prefix(err, "seccomp: ");
    /* Ownership of the notify fd passes to the caller. */
    if (notify_fd) *notify_fd = seccomp_notify;
    seccomp_notify = -1;
    return 0;
}
