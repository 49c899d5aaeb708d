/* `exec`: a new process inside a running container. The parent joins only the
 * pid namespace "for children" (harmless to itself, undone after fork) so the
 * new process is its direct child and can be waited for; the child joins the
 * rest through a pidfd of the container's init, takes the init's root, and
 * applies the process spec exactly as the init did. */
#include "linux/executor_internal.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "base/console.h"
#include "linux/process.h"
#include "base/fds.h"
#include "linux/sync.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Namespaces of `pid` that differ from ours: joining our own userns is EINVAL. */
static int differing_namespaces(pid_t pid, int *flags, struct hull_err *err) {
    *flags = 0;
    for (int t = 0; t < HULL_NS__COUNT; t++) {
        char a[64], b[64];
        const char *name = hull_ns_proc_name((enum hull_ns_type)t);
        snprintf(a, sizeof a, "/proc/%d/ns/%s", (int)pid, name);
        snprintf(b, sizeof b, "/proc/self/ns/%s", name);
        struct stat sa, sb;
        if (stat(a, &sa) < 0) {
            if (errno == ENOENT && t == HULL_NS_TIME) continue;  /* kernel without time ns */
            return hull_err_sys(err, "exec: inspect %s", a);
        }
        if (stat(b, &sb) < 0) continue;
        if (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev) *flags |= hull_ns_clone_flag((enum hull_ns_type)t);
    }
    return 0;
}

struct exec_child {
    struct hull_exec_req *req;
    int sync_fd, pidfd, root_fd, ns_flags;
};

static void __attribute__((noreturn)) exec_child_main(struct exec_child *c) {
    struct hull_err err = {0};
    const struct hull_process *p = c->req->process;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    hull_reset_signals();
    hull_sync_forward_warnings(c->sync_fd);   /* our stderr is the process's own */
    struct hull_sync_msg m;
    if (hull_sync_recv(c->sync_fd, &m, NULL, &err) < 0 || m.type != HULL_SYNC_GO) _exit(1);
    bool in_cgroup;
    if (hull_child_enter_cgroup(c->sync_fd, c->req->cgroup, false, &in_cgroup, &err) < 0)
        hull_sync_fail(c->sync_fd, &err);
    if (!in_cgroup && (hull_sync_recv(c->sync_fd, &m, NULL, &err) < 0 || m.type != HULL_SYNC_CGROUP)) _exit(1);

    int flags = c->ns_flags & ~(CLONE_NEWPID | CLONE_NEWTIME);   /* those came from the parent */
    if (flags && setns(c->pidfd, flags) < 0) {
        hull_err_sys(&err, "exec: join the container's namespaces");
        hull_sync_fail(c->sync_fd, &err);
    }
    if (fchdir(c->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        hull_err_sys(&err, "exec: enter the container's root");
        hull_sync_fail(c->sync_fd, &err);
    }
    close(c->root_fd);
    close(c->pidfd);
    if (setsid() < 0) {
        hull_err_sys(&err, "exec: setsid");
        hull_sync_fail(c->sync_fd, &err);
    }
    if (p->terminal) {
        int master;
        char slave[256];
        if (hull_console_open(p->has_console_size ? p->console_height : 0,
                              p->has_console_size ? p->console_width : 0, &master, slave, sizeof slave, &err) < 0 ||
            hull_sync_send(c->sync_fd, HULL_SYNC_CONSOLE, 0, NULL, master, &err) < 0)
            hull_sync_fail(c->sync_fd, &err);
        close(master);
        if (hull_console_setup_slave(slave, &err) < 0) hull_sync_fail(c->sync_fd, &err);
    }
    const struct hull_spec *spec = c->req->spec;
    int notify_fd = -1;
    if (hull_process_apply_early(spec, p, &err) < 0 || hull_process_apply_identity(p, &err) < 0 ||
        hull_process_chdir(p, &err) < 0 || hull_process_check_exec(p, &err) < 0 ||
        hull_process_apply_final(spec, p, &notify_fd, &err) < 0)
        hull_sync_fail(c->sync_fd, &err);
    if (notify_fd >= 0) close(notify_fd);   /* the container's listener already serves its init */
    prctl(PR_SET_PDEATHSIG, 0);
    if (hull_sync_send(c->sync_fd, HULL_SYNC_READY, 0, NULL, -1, &err) < 0) _exit(1);
    hull_sync_forward_warnings(-1);
    close(c->sync_fd);
    if (hull_close_fds_from(3 + c->req->preserve_fds, NULL, 0, &err) < 0) _exit(1);
    hull_process_exec(p, &err);
    dprintf(2, "hull: %s\n", err.msg);
    _exit(127);
}

int hull_linux_exec(struct hull_exec_req *req, struct hull_err *err) {
    req->pid = -1;
    req->console_master = -1;
    if (req->process->terminal && !req->console_socket && !req->want_console_master)
        return hull_err_set(err, EINVAL, "exec: --tty needs --console-socket when detached");
    struct exec_child c = {.req = req, .sync_fd = -1, .pidfd = -1, .root_fd = -1};
    int r = differing_namespaces(req->init_pid, &c.ns_flags, err);
    if (r < 0) return r;
    c.pidfd = (int)syscall(SYS_pidfd_open, req->init_pid, 0);
    if (c.pidfd < 0) return hull_err_sys(err, "exec: open container init %d", (int)req->init_pid);
    char root[64];
    snprintf(root, sizeof root, "/proc/%d/root", (int)req->init_pid);
    c.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c.root_fd < 0) {
        r = hull_err_sys(err, "exec: open %s", root);
        close(c.pidfd);
        return r;
    }
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
        r = hull_err_sys(err, "exec: socketpair");
        close(c.pidfd);
        close(c.root_fd);
        return r;
    }
    c.sync_fd = sp[1];

    /* pid and time namespaces take effect for children: join them around fork. */
    int self_pid = -1, self_time = -1;
    int pt = c.ns_flags & (CLONE_NEWPID | CLONE_NEWTIME);
    if (pt) {
        self_pid = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        self_time = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
        if (setns(c.pidfd, pt) < 0) {
            r = hull_err_sys(err, "exec: join the container's pid namespace");
            goto out;
        }
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        exec_child_main(&c);
    }
    int fork_errno = errno;
    if (pt) {
        if (self_pid >= 0) setns(self_pid, CLONE_NEWPID);
        if (self_time >= 0) setns(self_time, CLONE_NEWTIME);
    }
    if (pid < 0) {
        errno = fork_errno;
        r = hull_err_sys(err, "exec: fork");
        goto out;
    }
    req->pid = pid;
    close(c.sync_fd);
    c.sync_fd = -1;
    if ((r = hull_sync_send(sp[0], HULL_SYNC_GO, pid, NULL, -1, err)) < 0) goto fail;
    for (;;) {
        struct hull_sync_msg m;
        int fd = -1;
        r = hull_sync_recv(sp[0], &m, &fd, err);
        if (r < 0) {
            r = hull_err_set(err, ECHILD, "exec: process exited during set-up");
            goto fail;
        }
        if (m.type == HULL_SYNC_READY) break;
        if (m.type == HULL_SYNC_WARN) {
            if (fd >= 0) close(fd);
            hull_warn("%s", m.text);
            continue;
        }
        if (m.type == HULL_SYNC_NEED_CGROUP) {
            if ((req->cgroup && (r = hull_cgroup_enter(req->cgroup, pid, err)) < 0) ||
                (r = hull_sync_send(sp[0], HULL_SYNC_CGROUP, 0, NULL, -1, err)) < 0)
                goto fail;
            continue;
        }
        if (m.type == HULL_SYNC_ERROR) {
            r = hull_err_set(err, m.value ? m.value : EIO, "%s", m.text);
            goto fail;
        }
        if (m.type == HULL_SYNC_CONSOLE && fd >= 0) {
            if (req->want_console_master) {
                req->console_master = fd;
                continue;
            }
            r = hull_console_send(req->console_socket, fd, err);
            close(fd);
            if (r < 0) goto fail;
        } else if (fd >= 0) {
            close(fd);
        }
    }
    r = 0;
    goto out;
fail:
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    req->pid = -1;
    if (req->console_master >= 0) close(req->console_master);
    req->console_master = -1;
out:
    if (self_pid >= 0) close(self_pid);
    if (self_time >= 0) close(self_time);
    close(sp[0]);
    if (c.sync_fd >= 0) close(c.sync_fd);
    close(c.pidfd);
    close(c.root_fd);
    return r;
}
