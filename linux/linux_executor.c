/* The shared-kernel executor, parent half: clone the init into its new
 * namespaces, place it in its cgroup, write its id maps, drive it through the
 * create barriers (runtime hooks, console, seccomp listener) and leave it
 * waiting on exec.sock for `start`. */
#include "linux/executor_internal.h"
#include "linux/executor.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "base/console.h"
#include "linux/process.h"
#include "linux/sync.h"
#include "base/fsutil.h"
#include "base/state.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* fork()-like clone3: the child continues on a copy of our stack. With
 * cgroup_fd >= 0 the child is born in that cgroup v2 directory. */
static pid_t clone_into(uint64_t flags, int cgroup_fd) {
    struct clone_args ca = {.flags = flags, .exit_signal = SIGCHLD};
    if (cgroup_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)cgroup_fd;
    }
    long r = syscall(SYS_clone3, &ca, sizeof ca);
    if (r < 0 && errno == ENOSYS && cgroup_fd < 0) r = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    return (pid_t)r;
}

/* exec.sock is addressed through /proc/self/fd/N so that a long --root or id
 * never hits the 108-byte sun_path limit. */
static void exec_sock_addr(int dir_fd, struct sockaddr_un *sa) {
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/" HULL_EXEC_SOCK, dir_fd);
}

static int make_exec_sock(int dir_fd, struct hull_err *err) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return hull_err_sys(err, "create exec.sock");
    struct sockaddr_un sa;
    exec_sock_addr(dir_fd, &sa);
    unlinkat(dir_fd, HULL_EXEC_SOCK, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
        int rc = hull_err_sys(err, "bind exec.sock");
        close(fd);
        return rc;
    }
    return fd;
}

static int write_time_offsets(const struct hull_linux *lx, struct hull_err *err) {
    char buf[128];
    size_t len = 0;
    if (lx->time_monotonic.present)
        len += snprintf(buf + len, sizeof buf - len, "monotonic %lld %u\n", (long long)lx->time_monotonic.secs,
                        lx->time_monotonic.nanosecs);
    if (lx->time_boottime.present)
        len += snprintf(buf + len, sizeof buf - len, "boottime %lld %u\n", (long long)lx->time_boottime.secs,
                        lx->time_boottime.nanosecs);
    if (!len) return 0;
    int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open /proc/self/timens_offsets");
    /* one line per write: the kernel parses a single offset per write() */
    for (char *line = buf, *nl; *line && (nl = strchr(line, '\n')); line = nl + 1) {
        if (write(fd, line, (size_t)(nl - line + 1)) < 0) {
            int rc = hull_err_sys(err, "write time namespace offsets");
            close(fd);
            return rc;
        }
    }
    close(fd);
    return 0;
}

struct create_ctx {
    struct hull_init_args args;
    int restore_pid_fd, restore_time_fd;
    int sync_fd;
};

static void ctx_close(struct create_ctx *c) {
    for (int i = 0; i < HULL_NS__COUNT; i++)
        if (c->args.join_fds[i] >= 0) close(c->args.join_fds[i]);
    if (c->restore_pid_fd >= 0) close(c->restore_pid_fd);
    if (c->restore_time_fd >= 0) close(c->restore_time_fd);
    if (c->sync_fd >= 0) close(c->sync_fd);
    if (c->args.sync_fd >= 0) close(c->args.sync_fd);
    if (c->args.listen_fd >= 0) close(c->args.listen_fd);
}

/* Computes clone flags and opens what must be joined. Pid and time namespaces
 * apply to children of the caller, so they are entered here, around clone. */
static int plan_namespaces(struct create_ctx *c, const struct hull_spec *spec, uint64_t *flags,
                           struct hull_err *err) {
    *flags = 0;
    for (size_t i = 0; i < spec->linux.n_namespaces; i++) {
        const struct hull_namespace *ns = &spec->linux.namespaces[i];
        if (ns->path && ns->path[0]) {
            int fd = hull_ns_open(ns->path, ns->type, err);
            if (fd < 0) return fd;
            c->args.join_fds[ns->type] = fd;
        } else if (ns->type == HULL_NS_USER) {
            c->args.new_userns = true;
        }
    }
    for (size_t i = 0; i < spec->linux.n_namespaces; i++) {
        const struct hull_namespace *ns = &spec->linux.namespaces[i];
        if (ns->path && ns->path[0]) continue;
        switch (ns->type) {
        case HULL_NS_CGROUP:   /* unshared by the child once it sits in its cgroup */
        case HULL_NS_TIME:     /* unshared here, offsets written, then inherited */
            break;
        default:
            *flags |= (uint64_t)hull_ns_clone_flag(ns->type);
        }
    }
    int pid_fd = c->args.join_fds[HULL_NS_PID];
    if (pid_fd >= 0) {
        c->restore_pid_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (c->restore_pid_fd < 0) return hull_err_sys(err, "open /proc/self/ns/pid");
        if (setns(pid_fd, CLONE_NEWPID) < 0) return hull_err_sys(err, "join pid namespace");
        close(pid_fd);
        c->args.join_fds[HULL_NS_PID] = -1;
    }
    const struct hull_namespace *tns = hull_spec_namespace(spec, HULL_NS_TIME);
    if (tns) {
        c->restore_time_fd = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
        if (c->restore_time_fd < 0) return hull_err_sys(err, "open /proc/self/ns/time");
        if (c->args.join_fds[HULL_NS_TIME] >= 0) {
            if (setns(c->args.join_fds[HULL_NS_TIME], CLONE_NEWTIME) < 0)
                return hull_err_sys(err, "join time namespace");
            close(c->args.join_fds[HULL_NS_TIME]);
            c->args.join_fds[HULL_NS_TIME] = -1;
        } else {
            if (unshare(CLONE_NEWTIME) < 0) return hull_err_sys(err, "create time namespace");
            int r = write_time_offsets(&spec->linux, err);
            if (r < 0) return r;
        }
    }
    return 0;
}

/* Undo what plan_namespaces did to our own *_for_children namespaces. */
static void restore_namespaces(struct create_ctx *c) {
    if (c->restore_pid_fd >= 0) {
        setns(c->restore_pid_fd, CLONE_NEWPID);
        close(c->restore_pid_fd);
        c->restore_pid_fd = -1;
    }
    if (c->restore_time_fd >= 0) {
        setns(c->restore_time_fd, CLONE_NEWTIME);
        close(c->restore_time_fd);
        c->restore_time_fd = -1;
    }
}

static int count_listen_fds(void) {
    const char *s = getenv("LISTEN_FDS");
    if (!s || !*s) return 0;
    char *end;
    long n = strtol(s, &end, 10);
    return (*end || n < 0 || n > 1024) ? 0 : (int)n;
}

static int drive_child(struct create_ctx *c, struct hull_create_req *req, struct hull_err *err) {
    const struct hull_spec *spec = req->spec;
    pid_t pid = req->pid;
    int r;
    if (c->args.new_userns && (r = hull_ns_write_idmaps(pid, &spec->linux, err)) < 0) return r;
    if ((r = hull_sync_send(c->sync_fd, HULL_SYNC_GO, pid, NULL, -1, err)) < 0) return r;
    /* The child normally moves itself into its cgroup (hull_cgroup_enter_self:
     * no global lock, no RCU grace period); it asks us when it may not. */

    for (int readies = 0; readies < 2;) {
        struct hull_sync_msg m;
        int fd = -1;
        r = hull_sync_recv(c->sync_fd, &m, &fd, err);
        if (r < 0) return hull_err_set(err, ECHILD, "container init exited during create");
        switch (m.type) {
        case HULL_SYNC_PREPARED:
            if (req->on_created_runtime && (r = req->on_created_runtime(req->opaque, pid, err)) < 0) return r;
            if ((r = hull_sync_send(c->sync_fd, HULL_SYNC_GO, pid, NULL, -1, err)) < 0) return r;
            break;
        case HULL_SYNC_NEED_CGROUP:
            if (req->cgroup && (r = hull_cgroup_enter(req->cgroup, pid, err)) < 0) return r;
            if ((r = hull_sync_send(c->sync_fd, HULL_SYNC_CGROUP, 0, NULL, -1, err)) < 0) return r;
            break;
        case HULL_SYNC_CONSOLE:
            if (req->want_console_master) {
                req->console_master = fd;
                fd = -1;
            } else if (req->console_socket) {
                r = hull_console_send(req->console_socket, fd, err);
                if (r < 0) { close(fd); return r; }
            }
            break;
        case HULL_SYNC_SECCOMP: {
            char *state = hull_init_state_json(req, pid, "creating");
            char *pstate = state ? hull_seccomp_process_state_json(state, pid, spec->linux.seccomp.listener_metadata)
                                 : NULL;
            r = pstate ? hull_seccomp_send_listener(spec->linux.seccomp.listener_path, fd, pstate, err)
                       : hull_err_set(err, ENOMEM, "seccomp listener: out of memory");
            free(pstate);
            free(state);
            if (r < 0) { close(fd); return r; }
            break;
        }
        case HULL_SYNC_READY:
            readies++;
            if (readies == 1 && (r = hull_sync_send(c->sync_fd, HULL_SYNC_GO, pid, NULL, -1, err)) < 0) return r;
            break;
        case HULL_SYNC_WARN:
            hull_warn("%s", m.text);
            break;
        case HULL_SYNC_ERROR:
            if (fd >= 0) close(fd);
            return hull_err_set(err, m.value ? m.value : EIO, "%s", m.text);
        default:
            if (fd >= 0) close(fd);
            return hull_err_set(err, EPROTO, "unexpected message %u from container init", m.type);
        }
        if (fd >= 0) close(fd);
    }
    return 0;
}

static int linux_create(struct hull_create_req *req, struct hull_err *err) {
    const struct hull_spec *spec = req->spec;
    struct create_ctx c = {.restore_pid_fd = -1, .restore_time_fd = -1, .sync_fd = -1};
    c.args.req = req;
    c.args.sync_fd = c.args.listen_fd = -1;
    for (int i = 0; i < HULL_NS__COUNT; i++) c.args.join_fds[i] = -1;
    c.args.parent_pid = getpid();
    c.args.n_listen = count_listen_fds();
    c.args.n_preserve = req->preserve_fds + c.args.n_listen;
    req->pid = -1;
    req->console_master = -1;

    if (spec->process.terminal && !req->console_socket && !req->want_console_master) {
        return hull_err_set(err, EINVAL,
                            "process.terminal is true but no --console-socket was given (use --console-socket or "
                            "set terminal to false)");
    }
    if (!hull_spec_namespace(spec, HULL_NS_MOUNT))
        return hull_err_set(err, EINVAL, "config.json: linux.namespaces: a mount namespace is required");

    uint64_t flags;
    int r = plan_namespaces(&c, spec, &flags, err);
    int sp[2];
    if (r >= 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        r = hull_err_sys(err, "socketpair");
    if (r >= 0) {
        c.sync_fd = sp[0];
        c.args.sync_fd = sp[1];
        r = c.args.listen_fd = make_exec_sock(req->state_dir_fd, err);
    }
    if (r < 0) {
        restore_namespaces(&c);
        ctx_close(&c);
        return r;
    }

    /* A joined user namespace must own the new namespaces: the child unshares them. */
    bool join_user = c.args.join_fds[HULL_NS_USER] >= 0;
    if (join_user) c.args.unshare_flags = flags & ~(uint64_t)CLONE_NEWPID;
    const struct hull_namespace *cgns = hull_spec_namespace(spec, HULL_NS_CGROUP);
    c.args.new_cgroupns = cgns && !(cgns->path && cgns->path[0]);
    uint64_t cflags = join_user ? (flags & CLONE_NEWPID) : flags;
    int v2_fd = req->cgroup ? hull_cgroup_open_v2_dir(req->cgroup) : -1;
    c.args.cloned_into_v2 = v2_fd >= 0;
    pid_t pid = clone_into(cflags, v2_fd);
    if (pid < 0 && v2_fd >= 0) {   /* e.g. a v2 dir that cannot take processes: join it later */
        c.args.cloned_into_v2 = false;
        pid = clone_into(cflags, -1);
    }
    if (v2_fd >= 0 && pid != 0) close(v2_fd);
    if (pid == 0) {
        close(c.sync_fd);
        hull_init_child(&c.args);
    }
    int clone_errno = errno;
    restore_namespaces(&c);
    if (pid < 0) {
        errno = clone_errno;
        r = hull_err_sys(err, "clone container init");
        ctx_close(&c);
        unlinkat(req->state_dir_fd, HULL_EXEC_SOCK, 0);
        return r;
    }
    req->pid = pid;
    close(c.args.sync_fd);
    c.args.sync_fd = -1;
    close(c.args.listen_fd);
    c.args.listen_fd = -1;

    r = drive_child(&c, req, err);
    ctx_close(&c);
    if (r < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (req->console_master >= 0) close(req->console_master);
        req->console_master = -1;
        unlinkat(req->state_dir_fd, HULL_EXEC_SOCK, 0);
        return r;
    }
    return 0;
}

static int linux_start(int state_dir_fd, pid_t pid, struct hull_err *err) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return hull_err_sys(err, "start: socket");
    struct sockaddr_un sa;
    exec_sock_addr(state_dir_fd, &sa);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int r = hull_err_sys(err, "start: connect to the container init");
        close(fd);
        return r;
    }
    /* Read to EOF: the connection closes when the init execs (close-on-exec)
     * or dies, after startContainer hooks; what it wrote says which. */
    char buf[HULL_ERR_MSG_MAX + 2];
    ssize_t n = hull_read_all(fd, buf, sizeof buf - 1);
    close(fd);
    unlinkat(state_dir_fd, HULL_EXEC_SOCK, 0);
    if (n < 0) return hull_err_sys(err, "start: read from the container init");
    buf[n] = '\0';
    const char *e = buf[0] == 'E' ? buf : (buf[0] == 'S' && buf[1] == 'E') ? buf + 1 : NULL;
    if (e) return hull_err_set(err, EIO, "start: %s", e + 1);
    if (n != 1 || buf[0] != 'S') return hull_err_set(err, ECHILD, "start: the container init exited before its program ran");
    unlinkat(state_dir_fd, HULL_EXEC_SOCK, 0);
    return 0;
}

const struct hull_executor_ops hull_linux_executor = {
    .name = "linux",
    .create = linux_create,
    .start = linux_start,
    .exec = hull_linux_exec,
};
