/* The container's init process between clone and exec. It runs with the
 * host's filesystem still visible until pivot_root, so every step that looks at
 * a path goes through the rootfs helpers that confine resolution. Errors go to
 * the parent over the sync socket; the child never prints. */
#include "linux/executor_internal.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>

#include "base/console.h"
#include "linux/process.h"
#include "base/fds.h"
#include "linux/rootfs.h"
#include "linux/sync.h"
#include "base/hooks.h"

/* Waits until the parent has moved us into our cgroup, then makes the cgroup
 * namespace (its root is the cgroup we are in at unshare time). */
static int wait_in_cgroup(void *opaque, struct hull_err *err) {
    struct hull_init_args *a = opaque;
    if (!a->in_cgroup) {
        struct hull_sync_msg m;
        int r = hull_sync_recv(a->sync_fd, &m, NULL, err);
        if (r < 0) _exit(1);   /* parent gone */
        if (m.type != HULL_SYNC_CGROUP)
            return hull_err_set(err, EPROTO, "init: expected the cgroup message, got %u", m.type);
        a->in_cgroup = true;
    }
    if (a->new_cgroupns && !a->cgns_done) {
        if (unshare(CLONE_NEWCGROUP) < 0) return hull_err_sys(err, "create cgroup namespace");
        a->cgns_done = true;
    }
    return 0;
}

static void expect_go(int sock, int32_t *value) {
    struct hull_err err = {0};
    struct hull_sync_msg m;
    if (hull_sync_recv(sock, &m, NULL, &err) < 0) _exit(1);   /* parent gone */
    if (m.type != HULL_SYNC_GO) _exit(1);
    if (value) *value = m.value;
}

#define CHECK(expr) do { if ((expr) < 0) hull_sync_fail(a->sync_fd, &err); } while (0)

static void join_namespaces(struct hull_init_args *a, struct hull_err *err) {
    /* user first: joining it gives the capabilities needed to join the rest */
    static const enum hull_ns_type order[] = {HULL_NS_USER, HULL_NS_IPC, HULL_NS_UTS, HULL_NS_NETWORK,
                                              HULL_NS_CGROUP, HULL_NS_MOUNT};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        int fd = a->join_fds[order[i]];
        if (fd < 0) continue;
        if (setns(fd, hull_ns_clone_flag(order[i])) < 0) {
            hull_err_sys(err, "join %s namespace", hull_ns_type_name(order[i]));
            hull_sync_fail(a->sync_fd, err);
        }
        close(fd);
    }
}

/* /dev/console: the pty slave bound over a file made inside the container. */
static int setup_console(struct hull_init_args *a, struct hull_err *err) {
    const struct hull_process *p = &a->req->spec->process;
    int master;
    char slave[256];
    int r = hull_console_open(p->has_console_size ? p->console_height : 0,
                              p->has_console_size ? p->console_width : 0, &master, slave, sizeof slave, err);
    if (r < 0) return r;
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) close(fd);
    if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0) {
        close(master);
        return hull_err_sys(err, "bind %s on /dev/console", slave);
    }
    r = hull_sync_send(a->sync_fd, HULL_SYNC_CONSOLE, 0, NULL, master, err);
    close(master);
    if (r < 0) return r;
    return hull_console_setup_slave(slave, err);
}

/* Blocks until `hull start` connects to exec.sock; returns that connection.
 * The init reports on it how start went (see report_start), and the
 * connection closes by itself at exec (close-on-exec), so `start` returns only
 * once the container's program runs, as poststart hooks require. */
static int wait_for_start(struct hull_init_args *a, struct hull_err *err) {
    for (;;) {
        int c = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR) continue;
            return hull_err_sys(err, "wait for start");
        }
        close(a->listen_fd);
        return c;
    }
}

/* 'S' = started (hooks ran, exec is next); 'E' + text = failed. */
static void report_start(int conn, char what, const char *text) {
    char buf[HULL_ERR_MSG_MAX + 1];
    int n = snprintf(buf, sizeof buf, "%c%s", what, text ? text : "");
    if (n > (int)sizeof buf - 1) n = (int)sizeof buf - 1;
    ssize_t w = write(conn, buf, (size_t)n);
    (void)w;
}

/* Fail at create, not at start, when args[0] cannot be executed (as runc). */
int hull_process_check_exec(const struct hull_process *p, struct hull_err *err) {
    const char *cmd = p->args[0];
    if (strchr(cmd, '/')) {
        if (access(cmd, X_OK) < 0) return hull_err_sys(err, "exec \"%s\"", cmd);
        return 0;
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (size_t i = 0; i < p->n_env; i++)
        if (strncmp(p->env[i], "PATH=", 5) == 0) path = p->env[i] + 5;
    char buf[4096];
    for (const char *s = path; ; ) {
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? s : ".", cmd);
        if (access(buf, X_OK) == 0) return 0;
        if (!e) break;
        s = e + 1;
    }
    return hull_err_set(err, ENOENT, "exec \"%s\": executable file not found in $PATH", cmd);
}

void hull_init_child(struct hull_init_args *a) {
    struct hull_err err = {0};
    const struct hull_create_req *req = a->req;
    const struct hull_spec *spec = req->spec;
    const struct hull_process *p = &spec->process;

    /* Die with the `create` process until it hands us over. (A parent that
     * died before this line is noticed as EOF on the sync socket.) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    hull_reset_signals();
    /* Our stderr is the container's: warnings go to `create`, which prints them. */
    hull_sync_forward_warnings(a->sync_fd);
    /* Nothing of the caller's beyond the preserved fds reaches the container,
     * and the state directory's lock fd must not outlive `create`. */
    int keep[HULL_NS__COUNT + 2];
    size_t n_keep = 0;
    keep[n_keep++] = a->sync_fd;
    keep[n_keep++] = a->listen_fd;
    for (int i = 0; i < HULL_NS__COUNT; i++)
        if (a->join_fds[i] >= 0) keep[n_keep++] = a->join_fds[i];
    if (hull_close_fds_from(3 + a->n_preserve, keep, n_keep, &err) < 0) hull_sync_fail(a->sync_fd, &err);
    int32_t host_pid = 0;
    expect_go(a->sync_fd, &host_pid);
    CHECK(hull_child_enter_cgroup(a->sync_fd, req->cgroup, a->cloned_into_v2, &a->in_cgroup, &err));   /* cgroup joined, id maps written */

    join_namespaces(a, &err);
    if (a->unshare_flags && unshare((int)a->unshare_flags) < 0) {
        hull_err_sys(&err, "unshare namespaces");
        hull_sync_fail(a->sync_fd, &err);
    }
    if (a->new_userns) {
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            hull_err_sys(&err, "become root in the user namespace");
            hull_sync_fail(a->sync_fd, &err);
        }
    }
    if (setsid() < 0 && errno != EPERM) {
        hull_err_sys(&err, "setsid");
        hull_sync_fail(a->sync_fd, &err);
    }
    if (!req->no_new_keyring) {
        /* A fresh session keyring so the container cannot read the host's keys. */
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, req->id) < 0 && errno != ENOSYS && errno != EPERM) {
            hull_err_sys(&err, "create session keyring");
            hull_sync_fail(a->sync_fd, &err);
        }
    }

    struct hull_rootfs_opts ro = {
        .rootfs = req->rootfs, .bundle = req->bundle, .no_pivot = req->no_pivot,
        .in_userns = a->new_userns || a->join_fds[HULL_NS_USER] >= 0,
        .before_cgroup = wait_in_cgroup, .opaque = a,
    };
    CHECK(hull_rootfs_prepare(spec, &ro, &err));
    CHECK(wait_in_cgroup(a, &err));

    /* prestart/createRuntime hooks run in the parent now, then createContainer here. */
    CHECK(hull_sync_send(a->sync_fd, HULL_SYNC_PREPARED, 0, NULL, -1, &err));
    expect_go(a->sync_fd, NULL);
    if (spec->hooks.n[HULL_HOOK_CREATE_CONTAINER]) {
        char *state = hull_init_state_json(req, host_pid, "creating");
        int r = hull_hooks_run(HULL_HOOK_CREATE_CONTAINER, spec->hooks.list[HULL_HOOK_CREATE_CONTAINER],
                               spec->hooks.n[HULL_HOOK_CREATE_CONTAINER], state ? state : "{}", &err);
        free(state);
        CHECK(r);
    }

    CHECK(hull_rootfs_pivot(spec, &ro, &err));
    CHECK(hull_rootfs_finalize(spec, &ro, &err));
    CHECK(hull_set_hostname(spec, &err));
    if (p->terminal) CHECK(setup_console(a, &err));

    CHECK(hull_process_apply_early(spec, p, &err));
    CHECK(hull_process_apply_identity(p, &err));
    CHECK(hull_process_chdir(p, &err));
    int notify_fd = -1;
    CHECK(hull_process_apply_final(spec, p, &notify_fd, &err));
    if (notify_fd >= 0) {
        CHECK(hull_sync_send(a->sync_fd, HULL_SYNC_SECCOMP, 0, NULL, notify_fd, &err));
        close(notify_fd);
    }

    CHECK(hull_process_check_exec(p, &err));

    /* READY -> the parent records "created" -> GO -> we stop dying with it and
     * acknowledge, so `create` never exits while PDEATHSIG is still armed. */
    CHECK(hull_sync_send(a->sync_fd, HULL_SYNC_READY, 0, NULL, -1, &err));
    expect_go(a->sync_fd, NULL);
    prctl(PR_SET_PDEATHSIG, 0);
    CHECK(hull_sync_send(a->sync_fd, HULL_SYNC_READY, 1, NULL, -1, &err));
    hull_sync_forward_warnings(-1);
    close(a->sync_fd);
    int conn = wait_for_start(a, &err);
    if (conn < 0) _exit(1);

    if (spec->hooks.n[HULL_HOOK_START_CONTAINER]) {
        char *state = hull_init_state_json(req, host_pid, "created");
        int r = hull_hooks_run(HULL_HOOK_START_CONTAINER, spec->hooks.list[HULL_HOOK_START_CONTAINER],
                               spec->hooks.n[HULL_HOOK_START_CONTAINER], state ? state : "{}", &err);
        free(state);
        if (r < 0) {
            report_start(conn, 'E', err.msg);
            _exit(1);
        }
    }
    if (hull_close_fds_from(3 + a->n_preserve, &conn, 1, &err) < 0) {
        report_start(conn, 'E', err.msg);
        _exit(1);
    }
    struct hull_process with_listen;
    if (a->n_listen > 0) {
        /* Socket activation (sd_listen_fds): the fds follow 0-2 in the
         * container, and LISTEN_PID must name the process that gets them. */
        with_listen = *p;
        char **env = calloc(p->n_env + 3, sizeof *env);
        if (!env) _exit(1);
        size_t n = 0;
        for (size_t i = 0; i < p->n_env; i++)
            if (strncmp(p->env[i], "LISTEN_FDS=", 11) && strncmp(p->env[i], "LISTEN_PID=", 11)) env[n++] = p->env[i];
        if (asprintf(&env[n++], "LISTEN_FDS=%d", a->n_listen) < 0) _exit(1);
        if (asprintf(&env[n++], "LISTEN_PID=%d", (int)getpid()) < 0) _exit(1);
        with_listen.env = env;
        with_listen.n_env = n;
        p = &with_listen;
    }
    report_start(conn, 'S', NULL);
    hull_process_exec(p, &err);
    /* exec failed (after the check at create): `start` is still reading. */
    report_start(conn, 'E', err.msg);
    dprintf(2, "hull: %s\n", err.msg);
    _exit(127);
}
