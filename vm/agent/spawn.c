/* Starting a container process inside the guest, with hull's own shared-kernel
 * code for everything between fork and exec (linux/rootfs.c for the
 * mounts, /dev and pivot; linux/process_*.c for rlimits, identity,
 * capabilities, seccomp, no_new_privs; console.c for the pty): the guest applies
 * config.json exactly as `hull run` would on a host, as defence in depth.
 *
 * START: clone3 into new namespaces (mount always; pid, ipc, uts, network,
 * cgroup as the spec lists them — a namespace *path* names a host namespace,
 * which does not exist in the guest, so a new one is made instead; user and
 * time namespaces are not made), then the rootfs sequence.
 * EXEC: join the main process's namespaces through a pidfd (pid around the
 * fork, like `hull exec`), take its root.
 *
 * The child reports over a SOCK_SEQPACKET pair: 'C' + the pty master fd, or
 * 'E' + errno + message on failure; the socket closing at exec means success. */
#include "vm/agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/console.h"
#include "linux/process.h"
#include "base/fds.h"
#include "linux/rootfs.h"

struct child {
    struct agent *a;
    struct agent_proc *p;
    const struct hull_spec *spec;
    const struct hull_process *proc;
    int sync;              /* child end */
    int in[2], out[2], err[2];
    int clone_flags;       /* START: namespaces made at clone */
    int join_flags;        /* EXEC: namespaces to join through pidfd */
    int pidfd, root_fd;    /* EXEC */
};

static void __attribute__((noreturn)) child_fail(struct child *c, struct hull_err *err) {
    char msg[sizeof(int32_t) + 1 + HULL_ERR_MSG_MAX];
    int32_t code = err->code ? err->code : EIO;
    msg[0] = 'E';
    memcpy(msg + 1, &code, sizeof code);
    size_t l = strnlen(err->msg, HULL_ERR_MSG_MAX - 1);
    memcpy(msg + 1 + sizeof code, err->msg, l);
    ssize_t w = send(c->sync, msg, 1 + sizeof code + l, MSG_NOSIGNAL);
    (void)w;
    _exit(127);
}

#define CHECK(expr) do { if ((expr) < 0) child_fail(c, &err); } while (0)

static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int setup_terminal(struct child *c, struct hull_err *err) {
    const struct hull_process *pr = c->proc;
    int master;
    char slave[256];
    int rc = hull_console_open(pr->has_console_size ? pr->console_height : 0,
                               pr->has_console_size ? pr->console_width : 0, &master, slave, sizeof slave, err);
    if (rc < 0) return rc;
    if (c->p->main) {
        /* /dev/console is the container's terminal, as in shared-kernel mode */
        int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) close(fd);
        if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0) {
            close(master);
            return hull_err_sys(err, "bind %s on /dev/console", slave);
        }
    }
    rc = hull_send_fd(c->sync, master, "C", err);
    close(master);
    if (rc < 0) return rc;
    return hull_console_setup_slave(slave, err);
}

static void __attribute__((noreturn)) child_main(struct child *c) {
    struct hull_err err = {0};
    reset_signals();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!c->proc->terminal) {
        close(c->in[1]);
        close(c->out[0]);
        close(c->err[0]);
    }
    if (c->p->main) {
        if (setsid() < 0) CHECK(hull_err_sys(&err, "setsid"));
        struct hull_rootfs_opts ro = {.rootfs = c->a->rootfs, .bundle = "/", .no_pivot = c->a->no_pivot};
        CHECK(hull_rootfs_prepare(c->spec, &ro, &err));
        CHECK(hull_rootfs_pivot(c->spec, &ro, &err));
        CHECK(hull_rootfs_finalize(c->spec, &ro, &err));
        if (c->clone_flags & CLONE_NEWUTS) CHECK(hull_set_hostname(c->spec, &err));
    } else {
        if (c->join_flags && setns(c->pidfd, c->join_flags) < 0)
            CHECK(hull_err_sys(&err, "exec: join the container's namespaces"));
        if (fchdir(c->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
            CHECK(hull_err_sys(&err, "exec: enter the container's root"));
        if (setsid() < 0) CHECK(hull_err_sys(&err, "exec: setsid"));
    }
    if (c->proc->terminal) {
        CHECK(setup_terminal(c, &err));
    } else if (dup2(c->in[0], 0) < 0 || dup2(c->out[1], 1) < 0 || dup2(c->err[1], 2) < 0) {
        CHECK(hull_err_sys(&err, "stdio"));
    }
    int notify = -1;
    CHECK(hull_process_apply_early(c->spec, c->proc, &err));
    CHECK(hull_process_apply_identity(c->proc, &err));
    CHECK(hull_process_chdir(c->proc, &err));
    CHECK(hull_process_apply_final(c->spec, c->proc, &notify, &err));
    if (notify >= 0) close(notify);   /* no listener across the VM boundary */
    CHECK(hull_close_fds_from(3, &c->sync, 1, &err));
    hull_process_exec(c->proc, &err);
    child_fail(c, &err);
}

/* Namespaces of `pid` that differ from ours (joining our own is EINVAL for some). */
static int differing(pid_t pid, struct hull_err *err) {
    int flags = 0;
    for (int t = 0; t < HULL_NS__COUNT; t++) {
        if (t == HULL_NS_USER || t == HULL_NS_TIME) continue;   /* never made by the agent */
        char pa[64], pb[64];
        struct stat sa, sb;
        snprintf(pa, sizeof pa, "/proc/%d/ns/%s", (int)pid, hull_ns_proc_name((enum hull_ns_type)t));
        snprintf(pb, sizeof pb, "/proc/self/ns/%s", hull_ns_proc_name((enum hull_ns_type)t));
        if (stat(pa, &sa) < 0) return hull_err_sys(err, "exec: inspect %s", pa);
        if (stat(pb, &sb) < 0) continue;
        if (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev) flags |= hull_ns_clone_flag((enum hull_ns_type)t);
    }
    return flags;
}

static int set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Waits for the child's verdict; returns 0 (exec'd) or <0 with err set. */
static int await_child(int sock, pid_t pid, int *master, struct hull_err *err) {
    long long end = agent_now_ms() + AGENT_START_TIMEOUT_MS;
    for (;;) {
        long long left = end - agent_now_ms();
        struct pollfd pf = {.fd = sock, .events = POLLIN};
        int r = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            kill(pid, SIGKILL);
            return hull_err_set(err, ETIMEDOUT, "process set-up did not finish within %d s",
                                AGENT_START_TIMEOUT_MS / 1000);
        }
        char buf[sizeof(int32_t) + 1 + HULL_ERR_MSG_MAX];
        union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        int fd = -1;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
                memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        if (n <= 0) {
            if (fd >= 0) close(fd);
            return n == 0 ? 0 : hull_err_sys(err, "process set-up: receive");   /* EOF: exec happened */
        }
        if (buf[0] == 'C' && fd >= 0 && *master < 0) {
            *master = fd;
            continue;
        }
        if (fd >= 0) close(fd);
        if (buf[0] == 'E' && (size_t)n > sizeof(int32_t)) {
            int32_t code;
            memcpy(&code, buf + 1, sizeof code);
            return hull_err_set(err, code > 0 ? code : EIO, "%.*s", (int)((size_t)n - 1 - sizeof code),
                                buf + 1 + sizeof code);
        }
        return hull_err_set(err, EPROTO, "process set-up: unexpected message");
    }
}

int agent_spawn(struct agent *a, struct agent_proc *p, const struct hull_spec *spec,
                const struct hull_process *proc, struct hull_err *err) {
    struct child c = {.a = a, .p = p, .spec = spec, .proc = proc, .sync = -1, .pidfd = -1, .root_fd = -1,
                      .in = {-1, -1}, .out = {-1, -1}, .err = {-1, -1}};
    int sp[2] = {-1, -1}, self_pid_ns = -1, master = -1, rc = 0;
    pid_t pid = -1;
    if (!proc->terminal && (pipe2(c.in, O_CLOEXEC) < 0 || pipe2(c.out, O_CLOEXEC) < 0 || pipe2(c.err, O_CLOEXEC) < 0)) {
        rc = hull_err_sys(err, "stdio pipes");
        goto out;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        rc = hull_err_sys(err, "socketpair");
        goto out;
    }
    c.sync = sp[1];
    if (p->main) {
        c.clone_flags = CLONE_NEWNS;
        for (size_t i = 0; i < spec->linux.n_namespaces; i++) {
            enum hull_ns_type t = spec->linux.namespaces[i].type;
            if (t != HULL_NS_USER && t != HULL_NS_TIME) c.clone_flags |= hull_ns_clone_flag(t);
        }
        struct clone_args ca = {.flags = (uint64_t)c.clone_flags, .exit_signal = SIGCHLD};
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    } else {
        int d = differing(a->main_pid, err);
        if (d < 0) {
            rc = d;
            goto out;
        }
        c.pidfd = (int)syscall(SYS_pidfd_open, a->main_pid, 0);
        char root[64];
        snprintf(root, sizeof root, "/proc/%d/root", (int)a->main_pid);
        c.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c.pidfd < 0 || c.root_fd < 0) {
            rc = hull_err_sys(err, "exec: open the container's main process %d", (int)a->main_pid);
            goto out;
        }
        c.join_flags = d & ~CLONE_NEWPID;
        if (d & CLONE_NEWPID) {   /* takes effect for children: join around the fork */
            self_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
            if (self_pid_ns < 0 || setns(c.pidfd, CLONE_NEWPID) < 0) {
                rc = hull_err_sys(err, "exec: join the container's pid namespace");
                goto out;
            }
        }
        pid = fork();
        int saved = errno;
        /* The parent goes back (the child keeps the container's pid namespace for
         * its own children). If that fails, every later child of the agent would
         * land in the container: nothing safe is left to do. */
        if (pid != 0 && self_pid_ns >= 0 && setns(self_pid_ns, CLONE_NEWPID) < 0) _exit(71);
        errno = saved;
    }
    if (pid == 0) {
        close(sp[0]);
        child_main(&c);
    }
    if (pid < 0) {
        rc = hull_err_sys(err, "fork");
        goto out;
    }
    close(sp[1]);
    sp[1] = c.sync = -1;
    rc = await_child(sp[0], pid, &master, err);
    if (rc < 0) {
        waitpid(pid, NULL, 0);   /* it exits right after reporting (or was killed) */
        goto out;
    }
    p->pid = pid;
    p->terminal = proc->terminal;
    if (proc->terminal) {
        if (master < 0) {   /* cannot happen: the child sends it before exec */
            kill(pid, SIGKILL);
            rc = hull_err_set(err, EPROTO, "terminal requested but no pty came back");
            goto out;
        }
        p->out_fd = master;
        p->in_fd = dup(master);
        master = -1;
        if (p->in_fd < 0) rc = hull_err_sys(err, "dup pty master");
    } else {
        p->in_fd = c.in[1];
        p->out_fd = c.out[0];
        p->err_fd = c.err[0];
        c.in[1] = c.out[0] = c.err[0] = -1;
    }
    if (rc == 0) {
        if ((p->in_fd >= 0 && set_nonblock(p->in_fd) < 0) || set_nonblock(p->out_fd) < 0 ||
            (p->err_fd >= 0 && set_nonblock(p->err_fd) < 0))
            rc = hull_err_sys(err, "stdio: O_NONBLOCK");
    }
    if (rc < 0) {   /* the process runs but cannot be served: do not leave it behind */
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        p->pid = 0;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (c.in[i] >= 0) close(c.in[i]);
        if (c.out[i] >= 0) close(c.out[i]);
        if (c.err[i] >= 0) close(c.err[i]);
        if (sp[i] >= 0) close(sp[i]);
    }
    if (master >= 0) close(master);
    if (c.pidfd >= 0) close(c.pidfd);
    if (c.root_fd >= 0) close(c.root_fd);
    if (self_pid_ns >= 0) close(self_pid_ns);
    return rc;
}
