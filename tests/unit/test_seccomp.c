/* linux/seccomp.c + seccomp_notify.c: filters loaded in forked children,
 * checked by what the syscalls then return (or the signal that kills). */
#include "linux/process.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "tap.h"
#include "proc_child.h"

static char *names_mkdir[] = { "mkdir", "mkdirat", "no_such_syscall_xyz" };
static char tmpdir[] = "/tmp/hull-seccomp-XXXXXX";

static int try_mkdir(const char *leaf) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, leaf);
    int rc = mkdir(path, 0700);
    int e = rc < 0 ? errno : 0;
    rmdir(path);
    return e;
}

/* mkdir/mkdirat -> EPERM, loaded through the public process API. */
static int c_mkdir_eperm(void *arg, int rfd, char *out, size_t len) {
    bool nnp = arg != NULL;
    struct hull_seccomp_rule rule = { .names = names_mkdir, .n_names = 3, .action = HULL_SCMP_ERRNO };
    struct hull_seccomp_rule same = { .names = names_mkdir, .n_names = 1, .action = HULL_SCMP_ALLOW };
    struct hull_seccomp_rule rules[] = { rule, same };
    char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
    struct hull_spec spec = { .linux = { .seccomp = {
        .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 2,
        .architectures = archs, .n_architectures = 3,
    } } };
    struct hull_process p = { .no_new_privileges = nnp };
    struct hull_err err = {0};
    int nfd = -2;
    if (hull_process_apply_early(&spec, &p, &err) < 0 ||
        hull_process_apply_final(&spec, &p, &nfd, &err) < 0) {
        snprintf(out, len, "ERR %s", err.msg);
        return 1;
    }
    char st[4096], f1[32], f2[32], f3[32];
    slurp("/proc/self/status", st, sizeof st);
    snprintf(out, len, "mkdir=%d getpid=%d notify=%d seccomp=%s filters=%s nnp=%s", try_mkdir("a"),
             getpid() > 0, nfd, status_field(st, "Seccomp", f1, sizeof f1),
             status_field(st, "Seccomp_filters", f2, sizeof f2), status_field(st, "NoNewPrivs", f3, sizeof f3));
    return 0;
}

/* The real order without noNewPrivileges: early (loads the filter while root),
 * identity (uid 1000, only CAP_KILL: no CAP_SYS_ADMIN left), final. */
static int c_full_flow(void *arg, int rfd, char *out, size_t len) {
    struct hull_seccomp_rule rule = { .names = names_mkdir, .n_names = 2, .action = HULL_SCMP_ERRNO };
    struct hull_spec spec = { .linux = { .seccomp = {
        .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &rule, .n_syscalls = 1 } } };
    uint64_t kill = 1ULL << 5; /* CAP_KILL */
    struct hull_process p = { .user = { .uid = 1000, .gid = 1000 },
                              .caps = { .present = true, .bounding = kill, .effective = kill, .permitted = kill } };
    struct hull_err err = {0};
    int nfd = -2;
    if (hull_process_apply_early(&spec, &p, &err) < 0 || hull_process_apply_identity(&p, &err) < 0 ||
        hull_process_apply_final(&spec, &p, &nfd, &err) < 0) {
        snprintf(out, len, "ERR %s", err.msg);
        return 1;
    }
    char st[4096], f1[32], f2[32];
    slurp("/proc/self/status", st, sizeof st);
    snprintf(out, len, "mkdir=%d uid=%d filters=%s nnp=%s", try_mkdir("f"), (int)getuid(),
             status_field(st, "Seccomp_filters", f1, sizeof f1), status_field(st, "NoNewPrivs", f2, sizeof f2));
    return 0;
}

/* Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses the filter. */
static int c_no_admin(void *arg, int rfd, char *out, size_t len) {
    cap_t c = cap_get_proc();
    cap_value_t v = CAP_SYS_ADMIN;
    cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
    cap_set_proc(c);
    cap_free(c);
    struct hull_seccomp_rule rule = { .names = names_mkdir, .n_names = 2, .action = HULL_SCMP_ERRNO };
    struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &rule, .n_syscalls = 1 };
    struct hull_err err = {0};
    int nfd;
    int rc = hull_seccomp_load(&s, &nfd, &err);
    snprintf(out, len, "%s", err.msg);
    return rc < 0 ? 0 : 1;
}

static int load_only(struct hull_seccomp *s, char *out, size_t len) {
    struct hull_err err = {0};
    int nfd;
    if (hull_seccomp_load(s, &nfd, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return -1; }
    return 0;
}

/* personality(0xffffffff) -> ENOSYS only for that argument value; and a
 * masked_eq rule: (arg0 & 0xff) == PER_LINUX32 -> EPERM. */
static int c_args(void *arg, int rfd, char *out, size_t len) {
    char *names[] = { "personality" };
    struct hull_seccomp_arg eq = { .index = 0, .value = 0xffffffff, .op = HULL_SCMP_CMP_EQ };
    struct hull_seccomp_arg masked = { .index = 0, .value = 0xff, .value_two = PER_LINUX32,
                                       .op = HULL_SCMP_CMP_MASKED_EQ };
    struct hull_seccomp_rule rules[] = {
        { .names = names, .n_names = 1, .action = HULL_SCMP_ERRNO, .errno_ret = { true, ENOSYS },
          .args = &eq, .n_args = 1 },
        { .names = names, .n_names = 1, .action = HULL_SCMP_ERRNO, .args = &masked, .n_args = 1 },
    };
    struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = rules,
                              .n_syscalls = 2 };
    if (load_only(&s, out, len) < 0) return 1;
    errno = 0;
    int q = personality(0xffffffff), qe = errno;
    errno = 0;
    int l = personality(PER_LINUX), le = errno;
    errno = 0;
    int l32 = personality(PER_LINUX32 | ADDR_NO_RANDOMIZE), l32e = errno;
    snprintf(out, len, "query=%d/%d linux=%d/%d linux32=%d/%d", q, qe, l >= 0, le, l32, l32e);
    return 0;
}

/* defaultAction ERRNO with defaultErrnoRet; only what the report needs is allowed. */
static int c_default_errno(void *arg, int rfd, char *out, size_t len) {
    /* mmap/munmap/sigaltstack/rt_sigprocmask: only so sanitizer runtimes can exit cleanly. */
    char *allow[] = { "write", "exit_group", "exit", "rt_sigreturn", "close", "mmap", "munmap",
                      "sigaltstack", "rt_sigprocmask" };
    struct hull_seccomp_rule rule = { .names = allow, .n_names = 9, .action = HULL_SCMP_ALLOW };
    struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ERRNO,
                              .default_errno_ret = { true, ENOMSG }, .syscalls = &rule, .n_syscalls = 1 };
    if (load_only(&s, out, len) < 0) return 1;
    long r = syscall(SYS_getppid);
    int e = errno;
    snprintf(out, len, "getppid=%ld errno=%d", r, e);
    return 0;
}

static int c_kill(void *arg, int rfd, char *out, size_t len) {
    struct hull_seccomp_rule rule = { .names = names_mkdir, .n_names = 2,
                                      .action = (enum hull_seccomp_action)(intptr_t)arg };
    struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &rule,
                              .n_syscalls = 1 };
    if (load_only(&s, out, len) < 0) return 1;
    try_mkdir("k");
    snprintf(out, len, "survived mkdir");
    return 0;
}

/* NOTIFY: the child loads a getppid notify filter, hands the fd to the listener
 * socket with a state JSON, then calls getppid; the parent answers 4242. */
static char listener_path[100];

static int c_notify(void *arg, int rfd, char *out, size_t len) {
    char *names[] = { "getppid" };
    struct hull_seccomp_rule rule = { .names = names, .n_names = 1, .action = HULL_SCMP_NOTIFY };
    struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &rule,
                              .n_syscalls = 1, .listener_path = listener_path };
    struct hull_err err = {0};
    int nfd = -1;
    if (hull_seccomp_load(&s, &nfd, &err) < 0) { snprintf(out, len, "ERR %s", err.msg); return 1; }
    if (nfd < 0) { snprintf(out, len, "ERR no notify fd"); return 1; }
    if (hull_seccomp_send_listener(listener_path, nfd,
                                   "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":1}", &err) < 0) {
        snprintf(out, len, "ERR %s", err.msg);
        return 1;
    }
    close(nfd);
    long r = syscall(SYS_getppid);
    snprintf(out, len, "getppid=%ld", r);
    return 0;
}

struct notify_result {
    char payload[256];
    int got_fd;
    int nr_ok;
    int responded;
};

static void serve_notify(int lsock, struct notify_result *nr) {
    memset(nr, 0, sizeof *nr);
    int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) return;
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } u;
    struct iovec iov = { nr->payload, sizeof nr->payload - 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
    close(c);
    if (n <= 0) return;
    nr->payload[n] = '\0';
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS) return;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    nr->got_fd = 1;
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    if (seccomp_notify_alloc(&req, &resp) == 0) {
        if (seccomp_notify_receive(fd, req) == 0) {
            nr->nr_ok = req->data.nr == SYS_getppid;
            resp->id = req->id;
            resp->val = 4242;
            resp->error = 0;
            resp->flags = 0;
            nr->responded = seccomp_notify_respond(fd, resp) == 0;
        }
        seccomp_notify_free(req, resp);
    }
    close(fd);
}

static void test_notify(void) {
    snprintf(listener_path, sizeof listener_path, "%s/listener.sock", tmpdir);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, listener_path, sizeof listener_path);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0) {
        bail_out("fixture: the listener socket %s: %s", listener_path, strerror(errno));
    }
    /* Child runs the filter; the parent serves the listener meanwhile. */
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) bail_out("fixture: pipe2: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        static char out[CHILD_OUT_MAX];
        int code = c_notify(NULL, pfd[1], out, sizeof out);
        ssize_t w = write(pfd[1], out, strlen(out));
        (void)w;
        _exit(code);
    }
    close(pfd[1]);
    struct notify_result nr;
    serve_notify(l, &nr);
    static char out[CHILD_OUT_MAX];
    ssize_t n = read(pfd[0], out, sizeof out - 1);
    if (n > 0) out[n] = '\0';
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    close(l);
    unlink(listener_path);
    ok(nr.got_fd, "listener received the notify fd with SCM_RIGHTS");
    like(nr.payload, "\"fds\":[\"seccompFd\"]", "... and the state JSON as the message body");
    ok(nr.nr_ok, "the notification is for getppid");
    ok(nr.responded, "the listener answered it");
    is_str(out, "getppid=4242", "the child's getppid returned the listener's value");
}

static void validate_case(struct hull_seccomp *s, const char *needle, const char *what) {
    struct hull_err err = {0};
    int rc = hull_seccomp_validate(s, &err);
    ok(rc == -EINVAL, "validate rejects %s", what);
    like(err.msg, needle, "... message: %s", needle);
}

static void test_validate(void) {
    char *good[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                     "SCMP_ARCH_ARM", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390X", "SCMP_ARCH_MIPSEL64N32",
                     "SCMP_ARCH_RISCV64" };
    char *flags[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW" };
    struct hull_err err = {0};
    struct hull_seccomp s = { .present = true, .default_action = HULL_SCMP_ERRNO, .architectures = good,
                              .n_architectures = 9, .flags = flags, .n_flags = 3 };
    if (!ok(hull_seccomp_validate(&s, &err) == 0, "validate accepts the spec's architectures and flags")) diag("%s", err.msg);

    char *bad_arch[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11" };
    struct hull_seccomp s1 = { .present = true, .architectures = bad_arch, .n_architectures = 2 };
    validate_case(&s1, "seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_PDP11\"", "an unknown arch");

    char *names[] = { "getppid" };
    struct hull_seccomp_rule nrule = { .names = names, .n_names = 1, .action = HULL_SCMP_NOTIFY };
    struct hull_seccomp s2 = { .present = true, .syscalls = &nrule, .n_syscalls = 1 };
    validate_case(&s2, "SCMP_ACT_NOTIFY is used but listenerPath is not set", "NOTIFY without listenerPath");

    struct hull_seccomp_arg a6 = { .index = 6, .op = HULL_SCMP_CMP_EQ };
    struct hull_seccomp_rule arule = { .names = names, .n_names = 1, .action = HULL_SCMP_ERRNO, .args = &a6, .n_args = 1 };
    struct hull_seccomp s3 = { .present = true, .default_action = HULL_SCMP_ALLOW, .syscalls = &arule, .n_syscalls = 1 };
    validate_case(&s3, "seccomp.syscalls[0].args[0].index: 6 out of range (0..5)", "arg index 6");

    char *bad_flag[] = { "SECCOMP_FILTER_FLAG_NOPE" };
    struct hull_seccomp s4 = { .present = true, .flags = bad_flag, .n_flags = 1 };
    validate_case(&s4, "unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"", "an unknown flag");

    struct hull_seccomp s5 = { .present = true, .default_action = HULL_SCMP_ERRNO, .default_errno_ret = { true, 70000 } };
    validate_case(&s5, "errnoRet 70000 out of range", "defaultErrnoRet 70000");
}

int main(void) {
    if (geteuid() != 0) plan_skip_all("needs root (loading a filter without no_new_privs)");
    if (!mkdtemp(tmpdir)) bail_out("mkdtemp %s: %s", tmpdir, strerror(errno));
    struct child_result r;
    char want[256];

    run_child(c_mkdir_eperm, (void *)1, &r);
    snprintf(want, sizeof want, "mkdir=%d getpid=1 notify=-1 seccomp=2 filters=1 nnp=1", EPERM);
    is_str(r.out, want, "noNewPrivileges: mkdir gets EPERM, the rest works, one filter, no_new_privs set");
    run_child(c_mkdir_eperm, NULL, &r);
    snprintf(want, sizeof want, "mkdir=%d getpid=1 notify=-1 seccomp=2 filters=1 nnp=0", EPERM);
    is_str(r.out, want, "without noNewPrivileges: loaded once (early), no_new_privs left unset");

    run_child(c_full_flow, NULL, &r);
    snprintf(want, sizeof want, "mkdir=%d uid=1000 filters=1 nnp=0", EPERM);
    is_str(r.out, want, "early+identity+final without noNewPrivileges: filter active after dropping to uid 1000");
    run_child(c_no_admin, NULL, &r);
    ok(child_exit_code(&r) == 0, "loading without no_new_privs and without CAP_SYS_ADMIN fails");
    like(r.out, "load filter: Permission denied (without noNewPrivileges loading a filter needs CAP_SYS_ADMIN)",
         "... with a message saying why");

    run_child(c_args, NULL, &r);
    snprintf(want, sizeof want, "query=-1/%d linux=1/0 linux32=-1/%d", ENOSYS, EPERM);
    is_str(r.out, want, "args rules: personality(0xffffffff) -> ENOSYS, masked_eq PER_LINUX32 -> EPERM, others pass");

    run_child(c_default_errno, NULL, &r);
    snprintf(want, sizeof want, "getppid=-1 errno=%d", ENOMSG);
    is_str(r.out, want, "defaultAction ERRNO returns defaultErrnoRet");

    run_child(c_kill, (void *)(intptr_t)HULL_SCMP_KILL_PROCESS, &r);
    if (!ok(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS, "SCMP_ACT_KILL_PROCESS kills with SIGSYS")) diag("%s", r.out);
    run_child(c_kill, (void *)(intptr_t)HULL_SCMP_KILL, &r);
    if (!ok(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS, "SCMP_ACT_KILL kills (the only thread) with SIGSYS")) diag("%s", r.out);

    test_notify();
    test_validate();
    rmdir(tmpdir);
    return done_testing();
}
