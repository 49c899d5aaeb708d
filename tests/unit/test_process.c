/* linux/process.h: rlimits, umask, oom_score_adj, identity and
 * capabilities, no_new_privs, chdir, exec and fd closing, each checked by what
 * the kernel shows (/proc/self/status, getrlimit, /proc/self/fd) in a child. */
#include "linux/process.h"
#include "base/fds.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tap.h"
#include "proc_child.h"

#define BIT(c) (1ULL << (c))

/* Drop one cap from our effective+permitted sets (the child then behaves like
 * root on a host without it, as this test machine's root does anyway). */
static void drop_cap(int cap) {
    cap_t c = cap_get_proc();
    cap_value_t v = cap;
    if (!c) return;
    cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
    cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_CLEAR);
    cap_set_proc(c);
    cap_free(c);
}

/* ---- early ------------------------------------------------------------ */

static int c_rlimits(void *arg, int rfd, char *out, size_t len) {
    struct hull_rlimit rl[2] = {
        { .type = "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE, .soft = 512, .hard = 1024 },
        { .type = "RLIMIT_CORE", .resource = RLIMIT_CORE, .soft = 0, .hard = 4096 },
    };
    struct hull_process p = { .rlimits = rl, .n_rlimits = 2 };
    struct hull_err err = {0};
    if (hull_process_apply_early(NULL, &p, &err) < 0) { snprintf(out, len, "%s", err.msg); return 1; }
    struct rlimit a, b;
    getrlimit(RLIMIT_NOFILE, &a);
    getrlimit(RLIMIT_CORE, &b);
    snprintf(out, len, "nofile=%llu/%llu core=%llu/%llu", (unsigned long long)a.rlim_cur,
             (unsigned long long)a.rlim_max, (unsigned long long)b.rlim_cur, (unsigned long long)b.rlim_max);
    return 0;
}

/* Warnings hull_warn() raised in the child, joined by " | ". */
static char warned[2048];
static void capture_warning(const char *msg) {
    size_t n = strlen(warned);
    snprintf(warned + n, sizeof warned - n, "%s%s", n ? " | " : "", msg);
}

/* A hard limit above ours, without CAP_SYS_RESOURCE (as in a new user
 * namespace, or for root on this machine): lowered to our hard limit, with a
 * warning, instead of failing the container (podman asks for nofile 1048576). */
static int c_rlimit_clamp(void *arg, int rfd, char *out, size_t len) {
    drop_cap(CAP_SYS_RESOURCE);
    struct rlimit low = { 1024, 1024 };
    setrlimit(RLIMIT_NOFILE, &low);
    struct rlimit lowq = { 4096, 8192 };
    setrlimit(RLIMIT_MSGQUEUE, &lowq);
    struct hull_rlimit rl[2] = {
        { .type = "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE, .soft = 4096, .hard = 4096 },
        { .type = "RLIMIT_MSGQUEUE", .resource = RLIMIT_MSGQUEUE, .soft = 100, .hard = 65536 },
    };
    struct hull_process p = { .rlimits = rl, .n_rlimits = 2 };
    struct hull_err err = {0};
    hull_set_warn_handler(capture_warning);
    if (hull_process_apply_early(NULL, &p, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    struct rlimit a, b;
    getrlimit(RLIMIT_NOFILE, &a);
    getrlimit(RLIMIT_MSGQUEUE, &b);
    snprintf(out, len, "nofile=%llu/%llu msgqueue=%llu/%llu\n%s", (unsigned long long)a.rlim_cur,
             (unsigned long long)a.rlim_max, (unsigned long long)b.rlim_cur, (unsigned long long)b.rlim_max, warned);
    return 0;
}

/* Lowering is never clamped, and a soft limit above the hard one is refused. */
static int c_rlimit_soft_above_hard(void *arg, int rfd, char *out, size_t len) {
    struct hull_rlimit rl = { .type = "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE, .soft = 2048, .hard = 1024 };
    struct hull_process p = { .rlimits = &rl, .n_rlimits = 1 };
    struct hull_err err = {0};
    int rc = hull_process_apply_early(NULL, &p, &err);
    snprintf(out, len, "%s", err.msg);
    return rc == -EINVAL ? 0 : 1;
}

static int c_umask(void *arg, int rfd, char *out, size_t len) {
    struct hull_process p = {0};
    if (arg) p.user.umask = (hull_opt_u64){ true, 077 };
    struct hull_err err = {0};
    umask(0);
    if (hull_process_apply_early(NULL, &p, &err) < 0) { snprintf(out, len, "%s", err.msg); return 1; }
    mode_t m = umask(0);
    snprintf(out, len, "%04o", (unsigned)m);
    return 0;
}

static int c_oom(void *arg, int rfd, char *out, size_t len) {
    struct hull_process p = { .oom_score_adj = { true, (int64_t)(intptr_t)arg } };
    struct hull_err err = {0};
    if ((intptr_t)arg < 0) drop_cap(CAP_SYS_RESOURCE);
    if (hull_process_apply_early(NULL, &p, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    char buf[32];
    slurp("/proc/self/oom_score_adj", buf, sizeof buf);
    snprintf(out, len, "%s", buf);
    return 0;
}

static int c_sched_io_persona(void *arg, int rfd, char *out, size_t len) {
    struct hull_process p = {
        .scheduler = { .present = true, .policy = SCHED_BATCH, .nice = 5 },
        .io_priority = { .present = true, .klass = 3 /* IOPRIO_CLASS_IDLE */, .priority = 0 },
    };
    p.exec_cpu_affinity_final = "0";
    struct hull_spec spec = { .linux = { .personality = { .present = true, .domain = "LINUX32" } } };
    struct hull_err err = {0};
    if (hull_process_apply_early(&spec, &p, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    long io = syscall(SYS_ioprio_get, 1, 0);
    cpu_set_t set;
    sched_getaffinity(0, sizeof set, &set);
    snprintf(out, len, "policy=%d nice=%d ioclass=%ld persona=0x%x cpus=%d cpu0=%d", sched_getscheduler(0), nice,
             io >> 13, (unsigned)personality(0xffffffff) & PER_MASK, CPU_COUNT(&set), CPU_ISSET(0, &set));
    return 0;
}

/* ---- identity ------------------------------------------------------------ */

struct ident_case {
    struct hull_process p;
    int nnp_final;
};

static int c_identity(void *arg, int rfd, char *out, size_t len) {
    struct ident_case *c = arg;
    struct hull_err err = {0};
    if (c->nnp_final == 2) drop_cap(CAP_SYS_RESOURCE);
    if (hull_process_apply_identity(&c->p, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    if (c->nnp_final == 1) {
        int nfd = -2;
        if (hull_process_apply_final(NULL, &c->p, &nfd, &err) < 0) {
            snprintf(out, len, "ERR %s", err.msg);
            return 1;
        }
        if (nfd != -1) { snprintf(out, len, "ERR notify fd %d without seccomp", nfd); return 1; }
    }
    slurp("/proc/self/status", out, len);
    return 0;
}

static uint64_t field_hex(const char *dump, const char *key) {
    char buf[64];
    return status_field(dump, key, buf, sizeof buf) ? strtoull(buf, NULL, 16) : ~0ULL;
}

static void test_identity(void) {
    struct child_result r;
    char buf[256];
    uint32_t gids[] = { 10, 20 };
    uint64_t two = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE);

    struct ident_case c = { .p = {
        .user = { .uid = 1000, .gid = 1001, .additional_gids = gids, .n_additional_gids = 2 },
        .caps = { .present = true, .bounding = two, .effective = two, .permitted = two },
    } };
    run_child(c_identity, &c, &r);
    if (!ok(child_exit_code(&r) == 0, "identity: uid 1000 with CAP_KILL+CAP_NET_BIND_SERVICE applies"))
        diag("%s", r.out);
    is_str(status_field(r.out, "Uid", buf, sizeof buf), "1000\t1000\t1000\t1000", "Uid is 1000 (real, effective, saved, fs)");
    is_str(status_field(r.out, "Gid", buf, sizeof buf), "1001\t1001\t1001\t1001", "Gid is 1001 everywhere");
    is_str(status_field(r.out, "Groups", buf, sizeof buf), "10 20", "Groups are the additionalGids");
    is_int(field_hex(r.out, "CapBnd"), two, "CapBnd is exactly KILL+NET_BIND_SERVICE");
    is_int(field_hex(r.out, "CapEff"), two, "CapEff is exactly KILL+NET_BIND_SERVICE (kept across setuid)");
    is_int(field_hex(r.out, "CapPrm"), two, "CapPrm is exactly KILL+NET_BIND_SERVICE");
    is_int(field_hex(r.out, "CapInh"), 0, "CapInh is empty (never set implicitly)");
    is_int(field_hex(r.out, "CapAmb"), 0, "CapAmb is empty");
    is_str(status_field(r.out, "NoNewPrivs", buf, sizeof buf), "0", "no_new_privs not set when not asked");

    uint64_t nb = BIT(CAP_NET_BIND_SERVICE);
    struct ident_case a = { .p = {
        .user = { .uid = 1000, .gid = 1000 },
        .caps = { .present = true, .bounding = nb, .effective = nb, .permitted = nb, .inheritable = nb,
                  .ambient = nb },
        .no_new_privileges = true,
    }, .nnp_final = 1 };
    run_child(c_identity, &a, &r);
    if (!ok(child_exit_code(&r) == 0, "identity: ambient CAP_NET_BIND_SERVICE for uid 1000")) diag("%s", r.out);
    is_int(field_hex(r.out, "CapAmb"), nb, "CapAmb holds CAP_NET_BIND_SERVICE");
    is_int(field_hex(r.out, "CapInh"), nb, "CapInh holds CAP_NET_BIND_SERVICE");
    is_str(status_field(r.out, "Groups", buf, sizeof buf), "", "no additionalGids: no supplementary groups");
    is_str(status_field(r.out, "NoNewPrivs", buf, sizeof buf), "1", "apply_final sets no_new_privs");

    struct ident_case none = { .p = { .user = { .uid = 0, .gid = 0 } } };
    run_child(c_identity, &none, &r);
    if (!ok(child_exit_code(&r) == 0, "identity: no capabilities object")) diag("%s", r.out);
    is_int(field_hex(r.out, "CapBnd"), 0, "absent capabilities: empty bounding set, even as uid 0");
    is_int(field_hex(r.out, "CapEff"), 0, "absent capabilities: empty effective set");
    is_int(field_hex(r.out, "CapPrm"), 0, "absent capabilities: empty permitted set");

    struct ident_case bad = { .p = {
        .user = { .uid = 1000, .gid = 1000 },
        .caps = { .present = true, .bounding = nb, .effective = nb, .permitted = nb, .ambient = nb },
    } };
    run_child(c_identity, &bad, &r);
    /* crun and runc `spec` list ambient caps without inheritable ones; the
     * kernel refuses them, and runtimes skip them rather than fail. */
    if (!ok(child_exit_code(&r) == 0, "ambient cap that is not inheritable is skipped, not fatal")) diag("%s", r.out);
    is_int(field_hex(r.out, "CapAmb"), 0, "... and the ambient set stays empty (inheritable never added implicitly)");

    /* CAP_SYS_RESOURCE is missing from this host's bounding set; elsewhere
     * the child drops it first, so hull cannot grant it either way. */
    uint64_t sr = BIT(CAP_SYS_RESOURCE) | BIT(CAP_KILL);
    struct ident_case more = { .p = {
        .caps = { .present = true, .bounding = sr, .effective = sr, .permitted = sr },
    }, .nnp_final = 2 };
    run_child(c_identity, &more, &r);
    ok(child_exit_code(&r) == 1, "asking for a cap hull does not hold fails");
    like(r.out, "(CAP_SYS_RESOURCE is not in hull's permitted set", "... naming CAP_SYS_RESOURCE");
    diag("%s", r.out);
}

/* ---- chdir ------------------------------------------------------------------ */

static int c_chdir(void *arg, int rfd, char *out, size_t len) {
    struct hull_process p = { .cwd = arg };
    struct hull_err err = {0};
    if (hull_process_chdir(&p, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    char buf[4096];
    snprintf(out, len, "%s", getcwd(buf, sizeof buf) ? buf : "?");
    return 0;
}

/* A host directory fd survives into a chroot; cwd "/proc/self/fd/N" then
 * leads out of the root (the CVE-2024-21626 shape). */
static int c_chdir_leak(void *arg, int rfd, char *out, size_t len) {
    const char *root = arg;
    char procdir[512];
    snprintf(procdir, sizeof procdir, "%s/proc", root);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("proc", procdir, "proc", 0, NULL) < 0) {
        snprintf(out, len, "SKIP cannot mount proc in a private mount namespace");
        return 2;
    }
    int host = open("/usr", O_RDONLY | O_DIRECTORY);
    if (host < 0 || chroot(root) < 0 || chdir("/") < 0) { snprintf(out, len, "setup failed"); return 3; }
    char cwd[64];
    snprintf(cwd, sizeof cwd, "/proc/self/fd/%d", host);
    struct hull_process p = { .cwd = cwd };
    struct hull_err err = {0};
    if (hull_process_chdir(&p, &err) == 0) { snprintf(out, len, "accepted %s", cwd); return 1; }
    snprintf(out, len, "%s", err.msg);
    return 0;
}

static void test_chdir(void) {
    struct child_result r;
    run_child(c_chdir, "/usr/bin", &r);
    ok(child_exit_code(&r) == 0 && strcmp(r.out, "/usr/bin") == 0, "chdir to /usr/bin");
    run_child(c_chdir, "/no/such/dir", &r);
    ok(child_exit_code(&r) == 1, "chdir to a missing directory fails");
    like(r.out, "chdir \"/no/such/dir\": No such file or directory", "... naming the path and the reason");

    char root[] = "/tmp/hull-chdir-XXXXXX";
    if (!mkdtemp(root)) bail_out("mkdtemp %s: %s", root, strerror(errno));
    char procdir[64];
    snprintf(procdir, sizeof procdir, "%s/proc", root);
    mkdir(procdir, 0755);
    run_child(c_chdir_leak, root, &r);
    if (child_exit_code(&r) == 2) {
        skip(r.out); skip(r.out);
    } else {
        ok(child_exit_code(&r) == 0, "cwd through a leaked host fd is refused");
        like(r.out, "outside the container root", "... with a message saying why");
        diag("%s", r.out);
    }
    rmdir(procdir);
    rmdir(root);
}

/* ---- exec ----------------------------------------------------------------- */

static int c_exec(void *arg, int rfd, char *out, size_t len) {
    struct hull_process *p = arg;
    struct hull_err err = {0};
    hull_process_exec(p, &err);
    snprintf(out, len, "%s", err.msg);
    return 100;
}

static void test_exec(void) {
    struct child_result r;
    char *args_true[] = { "true", NULL };
    char *env_path[] = { "PATH=/nonexistent:/bin", NULL };
    struct hull_process p = { .args = args_true, .n_args = 1, .env = env_path, .n_env = 1 };
    run_child(c_exec, &p, &r);
    is_int(child_exit_code(&r), 0, "exec \"true\" found through the container's PATH");

    char *env_none[] = { "FOO=bar", NULL };
    struct hull_process p2 = { .args = args_true, .n_args = 1, .env = env_none, .n_env = 1 };
    run_child(c_exec, &p2, &r);
    is_int(child_exit_code(&r), 0, "exec \"true\" with no PATH uses the default PATH");

    char *env_bad[] = { "PATH=/nonexistent", NULL };
    struct hull_process p3 = { .args = args_true, .n_args = 1, .env = env_bad, .n_env = 1 };
    run_child(c_exec, &p3, &r);
    is_int(child_exit_code(&r), 100, "exec \"true\" with a PATH lacking it fails (PATH is the container's, not ours)");
    like(r.out, "exec \"true\": No such file or directory", "... with exec \"true\": No such file or directory");

    char *args_sh[] = { "/bin/sh", "-c", "exit 7", NULL };
    struct hull_process p4 = { .args = args_sh, .n_args = 3, .env = env_none, .n_env = 1 };
    run_child(c_exec, &p4, &r);
    is_int(child_exit_code(&r), 7, "exec an absolute path with args");
}

/* ---- close fds --------------------------------------------------------------- */

static int c_close_fds(void *arg, int rfd, char *out, size_t len) {
    int fds[] = { 10, 11, 12, 20, 21, 300 };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) dup2(0, fds[i]);
    int keep[] = { 20, 11, rfd, 11 };
    struct hull_err err = {0};
    if (arg) {
        /* Force the /proc/self/fd fallback: close_range answers ENOSYS. */
        char *names[] = { "close_range" };
        struct hull_seccomp_rule rule = { .names = names, .n_names = 1, .action = HULL_SCMP_ERRNO,
                                          .errno_ret = { true, ENOSYS } };
        struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &rule,
                                  .n_syscalls = 1 };
        int nfd;
        if (hull_seccomp_load(&s, &nfd, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
        if (syscall(SYS_close_range, 5000, 5001, 0) == 0 || errno != ENOSYS) {
            snprintf(out, len, "ERR close_range not blocked");
            return 1;
        }
    }
    if (hull_close_fds_from(3, keep, 4, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    /* List what is left; the DIR's own fd is the highest after opendir. */
    DIR *d = opendir("/proc/self/fd");
    int self = dirfd(d), list[64], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && atoi(e->d_name) != self) list[n++] = atoi(e->d_name);
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (list[j] < list[i]) { int t = list[i]; list[i] = list[j]; list[j] = t; }
    size_t off = 0;
    for (int i = 0; i < n; i++) off += (size_t)snprintf(out + off, len - off, "%s%d", i ? "," : "", list[i] == rfd ? -1 : list[i]);
    return 0;
}

static void test_close_fds(void *fallback) {
    struct child_result r;
    run_child(c_close_fds, fallback, &r);
    /* The report pipe is shown as -1 (its number varies). */
    ok(child_exit_code(&r) == 0, "close_fds_from(3, keep 20,11,report,11) succeeds%s",
       fallback ? " (close_range refused: /proc/self/fd walk)" : "");
    int has_neg = strstr(r.out, "-1") != NULL;
    char expect[64];
    /* Expected: 0,1,2 then -1 somewhere (report fd is < 10), 11, 20. */
    snprintf(expect, sizeof expect, "0,1,2,-1,11,20");
    ok(has_neg && strstr(r.out, ",11,20") && strncmp(r.out, "0,1,2,", 6) == 0 &&
       strlen(r.out) == strlen(expect), "exactly stdio, the report pipe, 11 and 20 remain%s",
       fallback ? " (walk)" : "");
    diag("left: %s", r.out);
}

int main(void) {
    struct child_result r;
    if (geteuid() != 0) plan_skip_all("needs root (setresuid, capabilities)");

    run_child(c_rlimits, NULL, &r);
    is_str(r.out, "nofile=512/1024 core=0/4096", "rlimits NOFILE 512/1024 and CORE 0/4096 applied (getrlimit)");
    run_child(c_rlimit_clamp, NULL, &r);
    static const char want_clamp[] = "nofile=1024/1024 msgqueue=100/8192\n";
    ok(strncmp(r.out, want_clamp, sizeof want_clamp - 1) == 0,
       "a hard limit above ours without CAP_SYS_RESOURCE is lowered to ours (soft kept when it fits)");
    if (strncmp(r.out, "nofile=", 7) != 0) diag("child said: %s", r.out);
    like(r.out, "setrlimit RLIMIT_NOFILE 4096/4096: raising the hard limit above 1024 needs CAP_SYS_RESOURCE; "
                "set to 1024/1024 instead",
         "... with a warning that names the limit, the values asked and set, and the reason");
    like(r.out, "RLIMIT_MSGQUEUE 100/65536: raising the hard limit above 8192 needs CAP_SYS_RESOURCE; set to 100/8192",
         "... one warning per lowered limit");
    run_child(c_rlimit_soft_above_hard, NULL, &r);
    ok(child_exit_code(&r) == 0, "a soft limit above the hard one is still an error (EINVAL)");
    like(r.out, "soft limit above hard limit", "... saying so");

    run_child(c_umask, NULL, &r);
    is_str(r.out, "0022", "umask defaults to 0022 when user.umask is absent");
    run_child(c_umask, (void *)1, &r);
    is_str(r.out, "0077", "umask 077 applied");

    run_child(c_oom, (void *)(intptr_t)500, &r);
    is_str(r.out, "500\n", "oomScoreAdj 500 written to /proc/self/oom_score_adj");
    run_child(c_oom, (void *)(intptr_t)-500, &r);
    ok(child_exit_code(&r) == 1, "negative oomScoreAdj without CAP_SYS_RESOURCE fails");
    like(r.out, "write /proc/self/oom_score_adj -500: Permission denied (lowering oom_score_adj needs CAP_SYS_RESOURCE)",
         "... with a clear message");

    run_child(c_sched_io_persona, NULL, &r);
    char want[128];
    snprintf(want, sizeof want, "policy=%d nice=5 ioclass=3 persona=0x%x cpus=1 cpu0=1", SCHED_BATCH, PER_LINUX32);
    is_str(r.out, want, "scheduler SCHED_BATCH nice 5, ioPriority IDLE, personality LINUX32, execCPUAffinity.final 0 applied");

    struct hull_process badaff = { .exec_cpu_affinity_final = "1-x" };
    struct hull_err aerr = {0};
    ok(hull_process_apply_early(NULL, &badaff, &aerr) == -EINVAL, "a malformed execCPUAffinity is refused (before any change)");
    like(aerr.msg, "execCPUAffinity.final \"1-x\": not a cpu list", "... with a message");

    test_identity();
    test_chdir();
    test_exec();
    test_close_fds(NULL);
    test_close_fds((void *)1);
    return done_testing();
}
