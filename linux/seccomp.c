/* linux.seccomp with libseccomp: validation (no side effects) and the filter
 * built from it (seccomp_load.c loads it, seccomp_cache.c compiles it ahead).
 *
 * Choices, each matching what runc does so the same profiles behave the same:
 *  - unknown syscall names are skipped (profiles list syscalls of newer kernels);
 *  - rules whose action equals the default action are skipped (libseccomp
 *    refuses them, and they are no-ops anyway);
 *  - args with distinct indexes form one rule (all must match); if an index
 *    repeats, each arg becomes its own rule (any may match), since a single
 *    libseccomp rule cannot test the same argument twice;
 *  - SCMP_CMP_MASKED_EQ is (arg & value) == valueTwo;
 *  - errnoRet defaults to EPERM for SCMP_ACT_ERRNO and SCMP_ACT_TRACE;
 *  - no_new_privs is NOT set by the load (libseccomp would by default): that
 *    is process.noNewPrivileges' job alone. */
#include "linux/process.h"
#include "linux/seccomp_internal.h"

#include <ctype.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#define HULL_SCMP_HAVE_WAITKILL (SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6))

#define MAX_ERRNO_RET 4095

static const char *action_name(enum hull_seccomp_action a) {
    static const char *names[] = {
        [HULL_SCMP_KILL] = "SCMP_ACT_KILL", [HULL_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [HULL_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [HULL_SCMP_TRAP] = "SCMP_ACT_TRAP",
        [HULL_SCMP_ERRNO] = "SCMP_ACT_ERRNO", [HULL_SCMP_TRACE] = "SCMP_ACT_TRACE",
        [HULL_SCMP_ALLOW] = "SCMP_ACT_ALLOW", [HULL_SCMP_LOG] = "SCMP_ACT_LOG",
        [HULL_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
    };
    return (unsigned)a < sizeof names / sizeof names[0] && names[a] ? names[a] : "unknown action";
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" -> SCMP_ARCH_X86_64 token; 0 if unknown. */
static uint32_t arch_token(const char *spec_name) {
    char buf[64];
    const char *s = spec_name;
    if (strncmp(s, "SCMP_ARCH_", 10) == 0) s += 10;
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf) return 0;
    for (size_t i = 0; i <= n; i++) buf[i] = (char)tolower((unsigned char)s[i]);
    return seccomp_arch_resolve_name(buf);
}

enum flag_kind { FLAG_TSYNC, FLAG_LOG, FLAG_SPEC_ALLOW, FLAG_WAIT_KILLABLE_RECV, FLAG_UNKNOWN };

static enum flag_kind flag_kind(const char *f) {
    if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0) return FLAG_TSYNC;
    if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0) return FLAG_LOG;
    if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) return FLAG_SPEC_ALLOW;
    if (strcmp(f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) return FLAG_WAIT_KILLABLE_RECV;
    return FLAG_UNKNOWN;
}

static int check_action(enum hull_seccomp_action a, hull_opt_u64 errno_ret, const char *where,
                        struct hull_err *err) {
    if ((unsigned)a > HULL_SCMP_NOTIFY)
        return hull_err_set(err, EINVAL, "%s: unknown action %d", where, (int)a);
    if (errno_ret.set && errno_ret.v > MAX_ERRNO_RET)
        return hull_err_set(err, EINVAL, "%s: errnoRet %llu out of range (0..%d)", where,
                            (unsigned long long)errno_ret.v, MAX_ERRNO_RET);
    return 0;
}

int hull_seccomp_validate(const struct hull_seccomp *s, struct hull_err *err) {
    if (!s || !s->present) return 0;
    int rc;
    if ((rc = check_action(s->default_action, s->default_errno_ret, "seccomp.defaultAction", err)) < 0)
        return rc;
    if (s->default_action == HULL_SCMP_NOTIFY)
        return hull_err_set(err, EINVAL, "seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
                                         "default action");
    for (size_t i = 0; i < s->n_architectures; i++)
        if (arch_token(s->architectures[i]) == 0)
            return hull_err_set(err, EINVAL, "seccomp.architectures[%zu]: unknown architecture \"%s\"",
                                i, s->architectures[i]);
    for (size_t i = 0; i < s->n_flags; i++) {
        enum flag_kind k = flag_kind(s->flags[i]);
        if (k == FLAG_UNKNOWN)
            return hull_err_set(err, EINVAL, "seccomp.flags[%zu]: unknown flag \"%s\"", i, s->flags[i]);
        if (k == FLAG_WAIT_KILLABLE_RECV && !HULL_SCMP_HAVE_WAITKILL)
            return hull_err_set(err, ENOTSUP, "seccomp.flags[%zu]: %s needs libseccomp >= 2.6 "
                                              "(built with %d.%d)", i, s->flags[i],
                                SCMP_VER_MAJOR, SCMP_VER_MINOR);
    }
    bool uses_notify = false;
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct hull_seccomp_rule *r = &s->syscalls[i];
        char where[64];
        snprintf(where, sizeof where, "seccomp.syscalls[%zu]", i);
        if ((rc = check_action(r->action, r->errno_ret, where, err)) < 0) return rc;
        if (r->n_names == 0)
            return hull_err_set(err, EINVAL, "%s.names: must be a non-empty array", where);
        if (r->action == HULL_SCMP_NOTIFY) uses_notify = true;
        for (size_t a = 0; a < r->n_args; a++) {
            if (r->args[a].index >= 6)
                return hull_err_set(err, EINVAL, "%s.args[%zu].index: %u out of range (0..5)", where,
                                    a, r->args[a].index);
            if ((unsigned)r->args[a].op > HULL_SCMP_CMP_MASKED_EQ)
                return hull_err_set(err, EINVAL, "%s.args[%zu].op: unknown operator %d", where, a,
                                    (int)r->args[a].op);
        }
    }
    if (uses_notify && (!s->listener_path || !s->listener_path[0]))
        return hull_err_set(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set");
    return 0;
}

static uint32_t to_scmp_action(enum hull_seccomp_action a, hull_opt_u64 errno_ret) {
    uint16_t e = errno_ret.set ? (uint16_t)errno_ret.v : EPERM;
    switch (a) {
    case HULL_SCMP_KILL:         return SCMP_ACT_KILL;
    case HULL_SCMP_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
    case HULL_SCMP_KILL_THREAD:  return SCMP_ACT_KILL_THREAD;
    case HULL_SCMP_TRAP:         return SCMP_ACT_TRAP;
    case HULL_SCMP_ERRNO:        return SCMP_ACT_ERRNO(e);
    case HULL_SCMP_TRACE:        return SCMP_ACT_TRACE(e);
    case HULL_SCMP_ALLOW:        return SCMP_ACT_ALLOW;
    case HULL_SCMP_LOG:          return SCMP_ACT_LOG;
    case HULL_SCMP_NOTIFY:       return SCMP_ACT_NOTIFY;
    }
    return SCMP_ACT_KILL_PROCESS;
}

static enum scmp_compare to_scmp_op(enum hull_seccomp_op op) {
    switch (op) {
    case HULL_SCMP_CMP_NE: return SCMP_CMP_NE;
    case HULL_SCMP_CMP_LT: return SCMP_CMP_LT;
    case HULL_SCMP_CMP_LE: return SCMP_CMP_LE;
    case HULL_SCMP_CMP_EQ: return SCMP_CMP_EQ;
    case HULL_SCMP_CMP_GE: return SCMP_CMP_GE;
    case HULL_SCMP_CMP_GT: return SCMP_CMP_GT;
    case HULL_SCMP_CMP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
    }
    return _SCMP_CMP_MIN;
}

static struct scmp_arg_cmp to_cmp(const struct hull_seccomp_arg *a) {
    struct scmp_arg_cmp c = {
        .arg = a->index, .op = to_scmp_op(a->op), .datum_a = a->value, .datum_b = a->value_two,
    };
    return c;
}

static bool repeated_index(const struct hull_seccomp_rule *r) {
    unsigned seen = 0;
    for (size_t i = 0; i < r->n_args; i++) {
        if (seen & (1u << r->args[i].index)) return true;
        seen |= 1u << r->args[i].index;
    }
    return false;
}

static int add_rule(scmp_filter_ctx ctx, const struct hull_seccomp_rule *r, size_t idx,
                    uint32_t action, const char *name, int nr, struct hull_err *err) {
    int rc;
    if (r->n_args == 0) {
        rc = seccomp_rule_add_array(ctx, action, nr, 0, NULL);
    } else if (!repeated_index(r)) {
        struct scmp_arg_cmp cmp[6];
        for (size_t i = 0; i < r->n_args; i++) cmp[i] = to_cmp(&r->args[i]);
        rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, cmp);
    } else {
        rc = 0;
        for (size_t i = 0; i < r->n_args && rc == 0; i++) {
            struct scmp_arg_cmp cmp = to_cmp(&r->args[i]);
            rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
        }
    }
    if (rc < 0)
        return hull_err_set(err, -rc, "syscalls[%zu]: add rule for \"%s\": %s", idx, name, strerror(-rc));
    return 0;
}

static int set_attrs(scmp_filter_ctx ctx, const struct hull_seccomp *s, struct hull_err *err) {
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) return hull_err_set(err, -rc, "disable implicit no_new_privs: %s", strerror(-rc));
    /* Report the kernel's errno from seccomp_load instead of libseccomp's
     * generic ECANCELED, so the message can say why. */
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
        return hull_err_set(err, -rc, "set SCMP_FLTATR_API_SYSRAWRC: %s", strerror(-rc));
    for (size_t i = 0; i < s->n_flags; i++) {
        enum scmp_filter_attr attr;
        switch (flag_kind(s->flags[i])) {
        case FLAG_TSYNC:      attr = SCMP_FLTATR_CTL_TSYNC; break;
        case FLAG_LOG:        attr = SCMP_FLTATR_CTL_LOG; break;
        case FLAG_SPEC_ALLOW: attr = SCMP_FLTATR_CTL_SSB; break;
#if HULL_SCMP_HAVE_WAITKILL
        case FLAG_WAIT_KILLABLE_RECV: attr = SCMP_FLTATR_CTL_WAITKILL; break;
#endif
        default:
            return hull_err_set(err, ENOTSUP, "flag \"%s\" is not supported", s->flags[i]);
        }
        if ((rc = seccomp_attr_set(ctx, attr, 1)) < 0)
            return hull_err_set(err, -rc, "set flag %s: %s", s->flags[i], strerror(-rc));
    }
    return 0;
}

static int build(scmp_filter_ctx ctx, const struct hull_seccomp *s, uint32_t def, struct hull_err *err) {
    int rc;
    if ((rc = set_attrs(ctx, s, err)) < 0) return rc;
    for (size_t i = 0; i < s->n_architectures; i++) {
        uint32_t arch = arch_token(s->architectures[i]);
        if (arch == 0) return hull_err_set(err, EINVAL, "unknown architecture \"%s\"", s->architectures[i]);
        rc = seccomp_arch_add(ctx, arch);
        if (rc < 0 && rc != -EEXIST)
            return hull_err_set(err, -rc, "add architecture %s: %s", s->architectures[i], strerror(-rc));
    }
    for (size_t i = 0; i < s->n_syscalls; i++) {
        const struct hull_seccomp_rule *r = &s->syscalls[i];
        uint32_t action = to_scmp_action(r->action, r->errno_ret);
        if (action == def) continue;
        for (size_t n = 0; n < r->n_names; n++) {
            int nr = seccomp_syscall_resolve_name(r->names[n]);
            if (nr == __NR_SCMP_ERROR) continue;    /* unknown to libseccomp: skipped */
            if ((rc = add_rule(ctx, r, i, action, r->names[n], nr, err)) < 0) return rc;
        }
    }
    return 0;
}

int hull_seccomp_build_ctx(const struct hull_seccomp *s, scmp_filter_ctx *out, struct hull_err *err) {
    *out = NULL;
    uint32_t def = to_scmp_action(s->default_action, s->default_errno_ret);
    scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx) return hull_err_set(err, EINVAL, "seccomp_init(%s) failed", action_name(s->default_action));
    int rc = build(ctx, s, def, err);
    if (rc < 0) {
        seccomp_release(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

bool hull_seccomp_uses_notify(const struct hull_seccomp *s) {
    for (size_t i = 0; i < s->n_syscalls; i++)
        if (s->syscalls[i].action == HULL_SCMP_NOTIFY) return true;
    return false;
}

unsigned int hull_seccomp_kernel_flags(const struct hull_seccomp *s) {
    unsigned int f = 0;
    for (size_t i = 0; i < s->n_flags; i++) {
        switch (flag_kind(s->flags[i])) {
        case FLAG_TSYNC: f |= SECCOMP_FILTER_FLAG_TSYNC; break;
        case FLAG_LOG: f |= SECCOMP_FILTER_FLAG_LOG; break;
        case FLAG_SPEC_ALLOW: f |= SECCOMP_FILTER_FLAG_SPEC_ALLOW; break;
        default: break;   /* WAIT_KILLABLE_RECV: notify filters only, never precompiled */
        }
    }
    return f;
}
