/* The default security profile of `hull run IMAGE` (docker's and podman's).
 *
 * Capabilities: the 14 docker grants (CHOWN, DAC_OVERRIDE, FSETID, FOWNER,
 * MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
 * SYS_CHROOT, KILL, AUDIT_WRITE): enough for package managers, su and ping,
 * nothing that reaches the host kernel's global state.
 *
 * Seccomp policy (an allow-list, written from the x86_64/i386 syscall tables):
 *  - defaultAction SCMP_ACT_ERRNO with EPERM: anything not listed fails with
 *    EPERM, which programs already handle (a kill would turn a probe into a
 *    crash); architectures x86_64 plus its compat ABIs x86 and x32, so 32-bit
 *    binaries get the same list instead of a hole.
 *  - allowed: everything an ordinary process uses (files, sockets, memory,
 *    signals, time reading, SysV/POSIX IPC, threads, epoll, inotify, landlock,
 *    pidfds, ...). Names the kernel or libseccomp does not know are skipped by
 *    the loader, so newer calls can be listed ahead of time.
 *  - never allowed (kernel state that is not namespaced or a known attack
 *    surface): kexec_load/kexec_file_load, open_by_handle_at (the "shocker"
 *    breakout) unless CAP_DAC_READ_SEARCH, keyctl/add_key/request_key (the
 *    keyring is not namespaced), userfaultfd (stalls the kernel for exploits),
 *    io_uring_* (blocked by docker since 25.0 for its CVE record), uselib,
 *    nfsservctl, vm86, lookup_dcookie, sysfs, _sysctl, ustat, quotactl,
 *    create_module, get_kernel_syms, query_module.
 *  - allowed only with the capability that makes them useful, as docker's
 *    "includes: caps" rules: mount/umount2/the new mount API/pivot_root/
 *    setns/sethostname/unshare-or-clone of namespaces (CAP_SYS_ADMIN),
 *    reboot (SYS_BOOT), init/finit/delete_module (SYS_MODULE), acct
 *    (SYS_PACCT), iopl/ioperm (SYS_RAWIO), settimeofday/clock_settime/
 *    clock_adjtime (SYS_TIME), vhangup (SYS_TTY_CONFIG), mbind and the
 *    mempolicy calls (SYS_NICE), syslog (SYSLOG), bpf (BPF or SYS_ADMIN),
 *    perf_event_open (PERFMON or SYS_ADMIN), kcmp/pidfd_getfd/process_madvise
 *    (SYS_PTRACE), chroot (SYS_CHROOT, which is a default cap).
 *  - with argument rules: clone only when (flags & CLONE_NEW*) == 0 and
 *    unshare likewise (a user namespace would hand out a full capability set
 *    against a large kernel surface); clone3 fails with ENOSYS (its flags live
 *    in memory the filter cannot read) so glibc falls back to clone;
 *    personality only with the harmless personas (PER_LINUX, PER_LINUX32,
 *    UNAME26 and combinations, 0xffffffff = query).
 *  - ptrace, process_vm_readv/writev: allowed on kernels >= 4.8 (before that
 *    ptrace could rewrite a syscall after seccomp had checked it).
 *
 * A user's profile file (seccomp=FILE) is taken as an OCI linux.seccomp
 * object or in docker's format, whose conditional rules are evaluated here
 * for the container's capabilities (hull_seccomp_profile_parse/_gen).
 */
#include "lifecycle/default_profile.h"

#include <ctype.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "linux/process.h"
#include "base/json_gen.h"
#include "base/spec.h"

#define CAPBIT(c) (UINT64_C(1) << (c))

uint64_t hull_default_caps(void) {
    return CAPBIT(CAP_CHOWN) | CAPBIT(CAP_DAC_OVERRIDE) | CAPBIT(CAP_FSETID) | CAPBIT(CAP_FOWNER) |
           CAPBIT(CAP_MKNOD) | CAPBIT(CAP_NET_RAW) | CAPBIT(CAP_SETGID) | CAPBIT(CAP_SETUID) |
           CAPBIT(CAP_SETFCAP) | CAPBIT(CAP_SETPCAP) | CAPBIT(CAP_NET_BIND_SERVICE) |
           CAPBIT(CAP_SYS_CHROOT) | CAPBIT(CAP_KILL) | CAPBIT(CAP_AUDIT_WRITE);
}

/* docker's lists: files leaking host data (kcore, keys, timer lists) are
 * masked; kernel tunables under /proc stay readable but not writable. */
const char *const hull_default_masked_paths[] = {
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};
const char *const hull_default_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

bool hull_kernel_at_least(unsigned major, unsigned minor) {
    struct utsname u;
    unsigned ma, mi;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &ma, &mi) != 2) return false;
    return ma > major || (ma == major && mi >= minor);
}

/* The base allow-list, both ABIs' names (the i386-only ones such as chown32
 * or socketcall simply do not resolve on x86_64). */
static const char *const allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "cachestat",
    "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
    "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
    "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
    "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
    "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
    "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
    "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "getrusage",
    "getsid", "getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getuid32",
    "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
    "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup",
    "io_submit", "ioctl", "ioprio_get", "ioprio_set", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
    "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
    "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "modify_ldt", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
    "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll",
    "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
    "readahead", "readdir", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
    "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    "seccomp", "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
    "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "set_robust_list",
    "set_thread_area", "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
    "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority",
    "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
    "setreuid32", "setrlimit", "setsid", "setsockopt", "setuid", "setuid32", "setxattr", "shmat",
    "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigpending",
    "sigprocmask", "sigreturn", "sigsuspend", "socket", "socketcall", "socketpair", "splice",
    "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev", NULL,
};

/* Syscalls a capability makes meaningful; allowed only when it is held. */
struct cap_rule {
    int cap;
    const char *const *names;
};

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
static const struct cap_rule cap_rules[] = {
    { CAP_SYS_ADMIN, NAMES("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
                           "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount",
                           "name_to_handle_at", "open_tree", "perf_event_open", "pivot_root",
                           "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
                           "syslog", "umount", "umount2", "unshare") },
    { CAP_SYS_BOOT, NAMES("reboot") },
    { CAP_SYS_CHROOT, NAMES("chroot") },
    { CAP_SYS_MODULE, NAMES("delete_module", "finit_module", "init_module") },
    { CAP_SYS_PACCT, NAMES("acct") },
    { CAP_SYS_PTRACE, NAMES("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                            "process_vm_writev", "ptrace") },
    { CAP_SYS_RAWIO, NAMES("iopl", "ioperm") },
    { CAP_SYS_TIME, NAMES("clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
                          "settimeofday", "stime") },
    { CAP_SYS_TTY_CONFIG, NAMES("vhangup") },
    { CAP_SYS_NICE, NAMES("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node") },
    { CAP_SYSLOG, NAMES("syslog") },
    { CAP_DAC_READ_SEARCH, NAMES("name_to_handle_at", "open_by_handle_at") },
#ifdef CAP_BPF
    { CAP_BPF, NAMES("bpf") },
#endif
#ifdef CAP_PERFMON
    { CAP_PERFMON, NAMES("perf_event_open") },
#endif
};

/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (0x7e020000):
 * CLONE_NEWTIME (0x80) is left out because it collides with CSIGNAL bits in
 * clone(2)'s flags and is only reachable through unshare/clone3. */
#define CLONE_NS_MASK (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                       CLONE_NEWPID | CLONE_NEWNET)

static void names_open(yajl_gen g) {
    yajl_gen_map_open(g);
    jg_str(g, "names");
    yajl_gen_array_open(g);
}

/* Closes the names array and writes the action (+ errnoRet when > 0). */
static void names_close(yajl_gen g, const char *action, int errno_ret) {
    yajl_gen_array_close(g);
    jg_str(g, "action");
    jg_str(g, action);
    if (errno_ret > 0) {
        jg_kint(g, "errnoRet", errno_ret);
    }
}

/* One rule: names allowed when arg[index] op value (value_two for MASKED_EQ). */
static void arg_rule(yajl_gen g, const char *name, unsigned index, unsigned long long value,
                     unsigned long long value_two, const char *op) {
    names_open(g);
    jg_str(g, name);
    names_close(g, "SCMP_ACT_ALLOW", 0);
    jg_str(g, "args");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    jg_kint(g, "index", index);
    jg_kint(g, "value", (long long)value);
    jg_kint(g, "valueTwo", (long long)value_two);
    jg_str(g, "op");
    jg_str(g, op);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

void hull_default_seccomp_gen(yajl_gen g, uint64_t caps) {
    static const char *const arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
    bool sys_admin = caps & CAPBIT(CAP_SYS_ADMIN);

    yajl_gen_map_open(g);
    jg_str(g, "defaultAction");
    jg_str(g, "SCMP_ACT_ERRNO");
    jg_kint(g, "defaultErrnoRet", 1);                  /* EPERM */
    jg_str(g, "architectures");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) jg_str(g, arches[i]);
    yajl_gen_array_close(g);

    jg_str(g, "syscalls");
    yajl_gen_array_open(g);

    names_open(g);
    for (const char *const *n = allowed; *n; n++) jg_str(g, *n);
    /* ptrace can no longer bypass seccomp since 4.8 (docker's minKernel). */
    if (hull_kernel_at_least(4, 8)) {
        jg_str(g, "ptrace");
        jg_str(g, "process_vm_readv");
        jg_str(g, "process_vm_writev");
    }
    names_close(g, "SCMP_ACT_ALLOW", 0);
    yajl_gen_map_close(g);

    /* Capability-gated groups, one rule each, only for held capabilities. */
    for (size_t i = 0; i < sizeof cap_rules / sizeof cap_rules[0]; i++) {
        if (!(caps & CAPBIT(cap_rules[i].cap))) continue;
        names_open(g);
        for (const char *const *n = cap_rules[i].names; *n; n++) jg_str(g, *n);
        names_close(g, "SCMP_ACT_ALLOW", 0);
        yajl_gen_map_close(g);
    }

    if (!sys_admin) {
        /* flags are argument 0 of clone and unshare on x86_64, i386 and x32. */
        arg_rule(g, "clone", 0, CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ");
        arg_rule(g, "unshare", 0, CLONE_NS_MASK | CLONE_NEWTIME, 0, "SCMP_CMP_MASKED_EQ");
        /* ENOSYS, not EPERM: glibc then falls back to clone, which is filtered above. */
        names_open(g);
        jg_str(g, "clone3");
        names_close(g, "SCMP_ACT_ERRNO", 38);
        yajl_gen_map_close(g);
    }

    /* PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query value. */
    static const unsigned long long personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffffULL };
    for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++)
        arg_rule(g, "personality", 0, personas[i], 0, "SCMP_CMP_EQ");

    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

/* ---- user-given profiles (--security-opt seccomp=FILE) ---------------------- */

/* Capability names as users type them (docker accepts all three spellings). */
int hull_cap_parse_loose(const char *in) {
    char buf[64] = "CAP_";
    size_t off = strncasecmp(in, "CAP_", 4) == 0 ? 0 : 4;
    if (strlen(in) + off >= sizeof buf) return -2;
    for (size_t i = 0; in[i]; i++) buf[off + i] = (char)toupper((unsigned char)in[i]);
    buf[off + strlen(in)] = '\0';
    if (strcmp(buf, "CAP_ALL") == 0) return -1;
    int c = hull_cap_from_name(buf);
    return c < 0 || c > hull_cap_last() ? -2 : c;
}

/* Re-emits a parsed JSON value; numbers keep their text so uint64 masks survive. */
static void gen_tree(struct jg_doc *x, yajl_val v, int depth) {
    if (depth > 64) { x->bad = true; return; }
    if (YAJL_IS_STRING(v)) jd_str(x, v->u.string);
    else if (YAJL_IS_NUMBER(v)) jd_chk(x, yajl_gen_number(x->g, v->u.number.r, strlen(v->u.number.r)));
    else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) jd_chk(x, yajl_gen_bool(x->g, YAJL_IS_TRUE(v)));
    else if (YAJL_IS_ARRAY(v)) {
        jd_chk(x, yajl_gen_array_open(x->g));
        for (size_t i = 0; i < v->u.array.len; i++) gen_tree(x, v->u.array.values[i], depth + 1);
        jd_chk(x, yajl_gen_array_close(x->g));
    } else if (YAJL_IS_OBJECT(v)) {
        jd_chk(x, yajl_gen_map_open(x->g));
        for (size_t i = 0; i < v->u.object.len; i++) {
            jd_str(x, v->u.object.keys[i]);
            gen_tree(x, v->u.object.values[i], depth + 1);
        }
        jd_chk(x, yajl_gen_map_close(x->g));
    } else jd_chk(x, yajl_gen_null(x->g));
}

static yajl_val field(yajl_val obj, const char *key) {
    if (!YAJL_IS_OBJECT(obj)) return NULL;
    yajl_val r = NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) r = obj->u.object.values[i];
    return r;
}

static size_t arr_len(yajl_val v) { return YAJL_IS_ARRAY(v) ? v->u.array.len : 0; }

static bool str_in(yajl_val arr, const char *s) {
    if (!YAJL_IS_ARRAY(arr)) return false;
    for (size_t i = 0; i < arr->u.array.len; i++)
        if (YAJL_IS_STRING(arr->u.array.values[i]) && strcmp(arr->u.array.values[i]->u.string, s) == 0)
            return true;
    return false;
}

/* docker "includes"/"excludes": caps (all held / none held), arches (Go
 * names, "amd64" here), minKernel. */
static bool docker_cond(yajl_val cond, uint64_t caps, bool include) {
    if (!YAJL_IS_OBJECT(cond)) return true;
    yajl_val cv = field(cond, "caps");
    bool any = false, all = true;
    for (size_t i = 0; YAJL_IS_ARRAY(cv) && i < cv->u.array.len; i++) {
        yajl_val c = cv->u.array.values[i];
        int n = YAJL_IS_STRING(c) ? hull_cap_parse_loose(c->u.string) : -2;
        bool held = n >= 0 && (caps & CAPBIT(n));
        any |= held;
        all &= held;
    }
    if (arr_len(cv) && (include ? !all : any)) return false;
    yajl_val av = field(cond, "arches");
    if (arr_len(av) && str_in(av, "amd64") != include) return false;
    yajl_val kv = field(cond, "minKernel");
    unsigned ma, mi;
    if (include && YAJL_IS_STRING(kv) && sscanf(kv->u.string, "%u.%u", &ma, &mi) == 2 &&
        !hull_kernel_at_least(ma, mi))
        return false;
    return true;
}

/* A profile file as an OCI linux.seccomp object. OCI-format keys pass
 * through; docker's extras are evaluated for this container: archMap picks
 * the x86_64 entry, includes/excludes filter rules, "name" becomes "names". */
static void gen_profile(struct jg_doc *x, yajl_val p, uint64_t caps) {
    static const char *const pass[] = { "defaultAction", "defaultErrnoRet", "architectures", "flags",
                                        "listenerPath", "listenerMetadata" };
    jd_chk(x, yajl_gen_map_open(x->g));
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
        yajl_val v = field(p, pass[i]);
        if (v) { jd_str(x, pass[i]); gen_tree(x, v, 1); }
    }
    yajl_val am = field(p, "archMap");
    if (!field(p, "architectures") && YAJL_IS_ARRAY(am)) {
        for (size_t i = 0; i < am->u.array.len; i++) {
            yajl_val e = am->u.array.values[i], a = field(e, "architecture");
            if (!YAJL_IS_STRING(a) || strcmp(a->u.string, "SCMP_ARCH_X86_64") != 0) continue;
            jd_str(x, "architectures");
            jd_chk(x, yajl_gen_array_open(x->g));
            gen_tree(x, a, 1);
            yajl_val sub = field(e, "subArchitectures");
            for (size_t k = 0; YAJL_IS_ARRAY(sub) && k < sub->u.array.len; k++) gen_tree(x, sub->u.array.values[k], 1);
            jd_chk(x, yajl_gen_array_close(x->g));
            break;
        }
    }
    yajl_val sc = field(p, "syscalls");
    if (sc && !YAJL_IS_ARRAY(sc)) { jd_str(x, "syscalls"); gen_tree(x, sc, 1); }   /* parser reports the type */
    else if (sc) {
        jd_str(x, "syscalls");
        jd_chk(x, yajl_gen_array_open(x->g));
        for (size_t i = 0; i < sc->u.array.len; i++) {
            yajl_val r = sc->u.array.values[i];
            if (!YAJL_IS_OBJECT(r)) { gen_tree(x, r, 2); continue; }
            if (!docker_cond(field(r, "includes"), caps, true) || !docker_cond(field(r, "excludes"), caps, false))
                continue;
            jd_chk(x, yajl_gen_map_open(x->g));
            yajl_val names = field(r, "names"), name = field(r, "name");
            if (names) { jd_str(x, "names"); gen_tree(x, names, 3); }
            else if (name) {
                jd_str(x, "names");
                jd_chk(x, yajl_gen_array_open(x->g));
                gen_tree(x, name, 3);
                jd_chk(x, yajl_gen_array_close(x->g));
            }
            static const char *const rk[] = { "action", "errnoRet", "args" };
            for (size_t k = 0; k < 3; k++) {
                yajl_val v = field(r, rk[k]);
                if (v) { jd_str(x, rk[k]); gen_tree(x, v, 3); }
            }
            jd_chk(x, yajl_gen_map_close(x->g));
        }
        jd_chk(x, yajl_gen_array_close(x->g));
    }
    jd_chk(x, yajl_gen_map_close(x->g));
}

bool hull_seccomp_profile_gen(yajl_gen g, yajl_val profile, uint64_t caps) {
    struct jg_doc x = { .g = g };
    gen_profile(&x, profile, caps);
    return !x.bad;
}

int hull_seccomp_profile_parse(const char *text, const char *what, uint64_t caps, yajl_val *out,
                               struct hull_err *err) {
    char ebuf[256] = "";
    *out = NULL;
    yajl_val p = yajl_tree_parse(text, ebuf, sizeof ebuf);
    if (!p) return hull_err_set(err, EINVAL, "%s: invalid JSON: %.200s", what, ebuf);
    if (!YAJL_IS_OBJECT(p)) {
        yajl_tree_free(p);
        return hull_err_set(err, EINVAL, "%s: expected a JSON object", what);
    }
    /* Checked on its own, wrapped in a minimal document, so errors name the
     * profile rather than a field of the whole generated config.json. */
    struct jg_doc x = { .g = yajl_gen_alloc(NULL) };
    if (!x.g) { yajl_tree_free(p); return hull_err_set(err, ENOMEM, "out of memory"); }
    jd_chk(&x, yajl_gen_map_open(x.g));
    jd_str(&x, "ociVersion");
    jd_str(&x, HULL_OCI_VERSION);
    jd_str(&x, "linux");
    jd_chk(&x, yajl_gen_map_open(x.g));
    jd_str(&x, "seccomp");
    gen_profile(&x, p, caps);
    jd_chk(&x, yajl_gen_map_close(x.g));
    jd_chk(&x, yajl_gen_map_close(x.g));
    const unsigned char *buf;
    size_t len;
    struct hull_spec *spec = NULL;
    int rc = !x.bad && yajl_gen_get_buf(x.g, &buf, &len) == yajl_gen_status_ok
                 ? hull_spec_parse((const char *)buf, len, &spec, err)
                 : hull_err_set(err, EINVAL, "cannot be re-encoded as JSON");
    if (rc == 0) rc = hull_seccomp_validate(&spec->linux.seccomp, err);
    if (rc == 0 && !spec->linux.seccomp.present) rc = hull_err_set(err, EINVAL, "no seccomp object");
    hull_spec_free(spec);
    yajl_gen_free(x.g);
    if (rc < 0) {
        yajl_tree_free(p);
        return hull_err_prefix(err, "%s: ", what);
    }
    *out = p;
    return 0;
}
