/* The microVM executor's create (see container.h for the processes): it
 * checks the host, builds the disk images, starts the VMM (the container's
 * pid) in the container's cgroup and the monitor, and returns once the guest
 * agent said HELLO — the VM then waits for `start` like a runc init waits on
 * its exec fifo. Anything that fails on the way is undone: no process, image,
 * socket or marker is left (the state dir and cgroup are lifecycle/'s). */
#include "vm/executor/container.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "base/fds.h"
#include "base/executor.h"
#include "base/fsutil.h"
#include "vm/proto/agent_proto.h"
#include "vm/guest/rootfs_image.h"
#include "vm/executor/config.h"
#include "vm/executor/ctl.h"

unsigned vm_host_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* ---- images -------------------------------------------------------------- */

/* <data>/vm/run/ctr-XXXXXX: on disk, not in the tmpfs state dir, because the
 * upper image grows with what the container writes. Its path goes into the
 * state dir first thing, so delete finds it whatever happens after. */
static int make_image_dir(const struct vm_opts *o, int state_dir_fd, char *dir, size_t n, struct hull_err *err) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s/vm/run", o->data_root);
    if (hull_mkdir_p(parent, 0700) < 0) return hull_err_sys(err, "create %s", parent);
    if ((size_t)snprintf(dir, n, "%s/ctr-XXXXXX", parent) >= n) return hull_err_set(err, ENAMETOOLONG, "%s: too long", parent);
    if (!mkdtemp(dir)) return hull_err_sys(err, "create an image directory in %s", parent);
    if (hull_write_file_atomic(state_dir_fd, VM_IMAGES_FILE, dir, strlen(dir), 0600) < 0) {
        int r = hull_err_sys(err, "record the image directory");
        rmdir(dir);
        return r;
    }
    return 0;
}

/* Only a directory hull made (…/vm/run/ctr-XXXXXX) is ever removed. */
void vm_remove_images(int state_dir_fd) {
    size_t len;
    char *dir = hull_read_file_at(state_dir_fd, VM_IMAGES_FILE, PATH_MAX, &len);
    if (!dir) return;
    const char *base = strrchr(dir, '/');
    if (dir[0] == '/' && base && strncmp(base, "/ctr-", 5) == 0 && strlen(base) == 11 && strstr(dir, "/vm/run/ctr-") &&
        !strstr(dir, "/../"))
        hull_rm_rf(dir);
    unlinkat(state_dir_fd, VM_IMAGES_FILE, 0);
    free(dir);
}

/* ---- starting the VMM ---------------------------------------------------- */

struct vm_launch {
    struct vm_opts o;
    struct hull_vm_size size;
    char image_dir[PATH_MAX];
    char root_img[PATH_MAX + 32], upper_img[PATH_MAX + 32];
    enum hull_rootfs_fs root_fs;
    char *config;                 /* the guest's config.json */
    size_t config_len;
    /* fds: [0] ours/monitor's, [1] the VMM's */
    int ctl[2], link[2], pin[2], pout[2], perr[2], ready[2];
    int listen_fd, state_fd;
    int term_master, term_slave;  /* process.terminal: the host pty */
    pid_t vmm, monitor;
};

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void launch_close(struct vm_launch *l) {
    int *fds[] = {&l->ctl[0], &l->ctl[1], &l->link[0], &l->link[1], &l->pin[0], &l->pin[1], &l->pout[0],
                  &l->pout[1], &l->perr[0], &l->perr[1], &l->ready[0], &l->ready[1], &l->listen_fd, &l->state_fd,
                  &l->term_master, &l->term_slave};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++) close_fd(fds[i]);
    free(l->config);
    l->config = NULL;
}

static int make_listen(int state_dir_fd, struct hull_err *err) {
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return hull_err_sys(err, "vm.sock: socket");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" VMC_SOCK, state_dir_fd);
    unlinkat(state_dir_fd, VMC_SOCK, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        int r = hull_err_sys(err, "bind %s", VMC_SOCK);
        close(fd);
        return r;
    }
    return fd;
}

static int make_fds(struct vm_launch *l, int state_dir_fd, struct hull_err *err) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->ctl) < 0 ||
        socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, l->link) < 0 || pipe2(l->pin, O_CLOEXEC) < 0 ||
        pipe2(l->pout, O_CLOEXEC) < 0 || pipe2(l->perr, O_CLOEXEC) < 0 || pipe2(l->ready, O_CLOEXEC) < 0)
        return hull_err_sys(err, "create the VM's channels");
    /* swap the stdin pipe so [0] is ours (write end), [1] the VMM's (read end) */
    int t = l->pin[0];
    l->pin[0] = l->pin[1];
    l->pin[1] = t;
    /* bursts of output are absorbed here instead of stalling the VMM's I/O thread */
    fcntl(l->pout[0], F_SETPIPE_SZ, 1 << 20);
    fcntl(l->perr[0], F_SETPIPE_SZ, 1 << 20);
    int sz = 4 << 20;
    setsockopt(l->ctl[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(l->ctl[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    if ((l->listen_fd = make_listen(state_dir_fd, err)) < 0) return l->listen_fd;
    /* The monitor must not inherit the flock of state_dir_fd: a new open of
     * the directory has its own (unlocked) file description. */
    l->state_fd = openat(state_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l->state_fd < 0) return hull_err_sys(err, "open the state directory");
    /* "created" in `state` is this marker's existence; the monitor removes it
     * once the process runs (as exec.sock disappears in the shared-kernel mode). */
    int m = openat(state_dir_fd, HULL_EXEC_SOCK, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (m < 0) return hull_err_sys(err, "create %s", HULL_EXEC_SOCK);
    close(m);
    return 0;
}

static void add_arg(char **argv, int *n, char *s) { argv[(*n)++] = s; }

/* The VMM child: setsid (no terminal signals of its own: hull forwards
 * them), joins the cgroup, takes its fds at 3..7 and execs hull-vmm.
 * errno goes back through errp if anything fails. */
static void __attribute__((noreturn)) vmm_child(struct vm_launch *l, struct hull_cgroup *cg, bool in_v2, char **argv,
                                                int errp) {
    struct hull_err err = {0};
    int e = 0;
    int hi_errp = fcntl(errp, F_DUPFD_CLOEXEC, 64);   /* out of the way of fds 3..7 */
    if (hi_errp >= 0) errp = hi_errp;
    setsid();
    if (cg && hull_cgroup_enter_self(cg, in_v2, &err) < 0 && hull_cgroup_enter(cg, getpid(), &err) < 0) {
        e = err.code ? err.code : EIO;
        goto fail;
    }
    int src[5] = {l->ctl[1], l->pin[1], l->pout[1], l->perr[1], l->link[1]}, hi[5];
    for (int i = 0; i < 5; i++)
        if ((hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64)) < 0) { e = errno; goto fail; }
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    int log = openat(l->state_fd, VM_LOG_FILE, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (nul < 0 || log < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(log, 2) < 0) { e = errno; goto fail; }
    for (int i = 0; i < 5; i++)
        if (dup2(hi[i], 3 + i) < 0) { e = errno; goto fail; }
    int keep[] = {errp};
    hull_close_fds_from(8, keep, 1, &err);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
    e = errno;
fail:
    if (write(errp, &e, sizeof e) < 0) _exit(126);
    _exit(127);
}

static pid_t clone_into(int cgroup_fd) {
    struct clone_args ca = {.flags = 0, .exit_signal = SIGCHLD};
    if (cgroup_fd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)cgroup_fd;
    }
    return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}

static int spawn_vmm(struct vm_launch *l, struct hull_cgroup *cg, struct hull_err *err) {
    char mem[32], cpus[16], disk_root[PATH_MAX + 48], disk_upper[PATH_MAX + 48], cmdline[2048];
    char *argv[40];
    int n = 0;
    add_arg(argv, &n, l->o.vmm);
    snprintf(mem, sizeof mem, "%lluM", (unsigned long long)(l->size.mem_bytes >> 20));
    snprintf(cpus, sizeof cpus, "%u", l->size.vcpus);
    add_arg(argv, &n, "--port");
    add_arg(argv, &n, HULL_AGENT_PORT_CTL ",in=fd:3,out=fd:3");
    add_arg(argv, &n, "--port");
    add_arg(argv, &n, HULL_AGENT_PORT_STDIN ",in=fd:4");
    add_arg(argv, &n, "--port");
    add_arg(argv, &n, HULL_AGENT_PORT_STDOUT ",out=fd:5");
    add_arg(argv, &n, "--port");
    add_arg(argv, &n, HULL_AGENT_PORT_STDERR ",out=fd:6");
    add_arg(argv, &n, "--link");
    add_arg(argv, &n, "7");
    if (l->o.test_agent) {
        add_arg(argv, &n, "--test-agent");
        add_arg(argv, &n, l->o.agent);
    } else {
        snprintf(cmdline, sizeof cmdline, "%s%s%s", VM_CMDLINE, l->o.cmdline_extra[0] ? " " : "", l->o.cmdline_extra);
        snprintf(disk_root, sizeof disk_root, "%s,ro", l->root_img);
        snprintf(disk_upper, sizeof disk_upper, "%s", l->upper_img);
        char *more[] = {"--kernel", l->o.kernel, "--initrd", l->o.initrd, "--cmdline", cmdline, "--mem", mem,
                        "--cpus", cpus, "--disk", disk_root, "--disk", disk_upper, "--rng"};
        for (size_t i = 0; i < sizeof more / sizeof *more; i++) add_arg(argv, &n, more[i]);
        if (l->o.console) add_arg(argv, &n, "--serial");
        if (l->o.allow_slow) add_arg(argv, &n, "--allow-slow-kvm");
    }
    argv[n] = NULL;

    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) return hull_err_sys(err, "pipe");
    int v2 = cg ? hull_cgroup_open_v2_dir(cg) : -1;
    bool in_v2 = v2 >= 0;
    pid_t pid = clone_into(v2);
    if (pid < 0 && v2 >= 0) {   /* a v2 dir that cannot take processes directly: join it from inside */
        in_v2 = false;
        pid = clone_into(-1);
    }
    if (pid == 0) {
        close(errp[0]);
        vmm_child(l, cg, in_v2, argv, errp[1]);
    }
    int ce = errno;
    if (v2 >= 0) close(v2);
    close(errp[1]);
    if (pid < 0) {
        close(errp[0]);
        errno = ce;
        return hull_err_sys(err, "start the VMM");
    }
    l->vmm = pid;
    int e = 0;
    ssize_t r = hull_read_all(errp[0], &e, sizeof e);
    close(errp[0]);
    if (r == (ssize_t)sizeof e) {
        waitpid(pid, NULL, 0);
        l->vmm = -1;
        errno = e;
        return hull_err_sys(err, "start the VMM %s", l->o.vmm);
    }
    return 0;
}

/* The monitor is a grandchild (double fork): it outlives create and is
 * never a zombie of whoever called create. */
static int spawn_monitor(struct vm_launch *l, struct hull_err *err) {
    pid_t a = fork();
    if (a < 0) return hull_err_sys(err, "fork the VM monitor");
    if (a == 0) {
        setsid();
        pid_t m = fork();
        if (m != 0) _exit(m < 0 ? 1 : 0);
        struct vm_monitor_cfg c = {
            .ctl_fd = l->ctl[0], .link_fd = l->link[0], .port_in_fd = l->pin[0], .port_out_fd = l->pout[0],
            .port_err_fd = l->perr[0], .listen_fd = l->listen_fd, .ready_fd = l->ready[1],
            .state_dir_fd = l->state_fd, .term_fd = l->term_slave, .vmm_pid = l->vmm,
            .boot_timeout_ms = l->o.boot_timeout_ms,
            .config = l->config, .config_len = l->config_len, .root_dir = l->o.test_agent,
            .root_fs = l->root_fs == HULL_ROOTFS_EROFS ? HULL_AGENT_FS_EROFS : HULL_AGENT_FS_EXT4,
        };
        snprintf(c.root_source, sizeof c.root_source, "%s", l->o.test_agent ? l->root_img : "/dev/vda");
        /* With a terminal the container's stdio is the pty; create's own 0/1/2 are the
         * caller's (containerd's shim reads create's output from a pipe until every writer
         * has closed it), so the monitor must not keep them. */
        if (c.term_fd >= 0)
            for (int fd = 0; fd < 3; fd++) dup2(c.term_fd, fd);
        int keep[] = {0, 1, 2, c.ctl_fd, c.link_fd, c.port_in_fd, c.port_out_fd, c.port_err_fd, c.listen_fd,
                      c.ready_fd, c.state_dir_fd, c.term_fd};
        struct hull_err e2;
        hull_close_fds_from(0, keep, sizeof keep / sizeof *keep - (c.term_fd < 0), &e2);
        vm_monitor_main(&c);
    }
    int st;
    while (waitpid(a, &st, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return hull_err_set(err, ECHILD, "fork the VM monitor failed");
    return 0;
}

/* What the VMM's exit status says about the VM's end (vm/vmm/cmd.c). */
static const char *vmm_status_text(int st) {
    if (WIFSIGNALED(st)) return WTERMSIG(st) == SIGKILL ? "killed" : "killed by a signal";
    switch (WEXITSTATUS(st)) {
    case 0: return "the guest powered off";
    case 1: return "the VMM failed to start the VM";
    case 2: return "the VMM was called wrongly";
    case 81: return "the guest reset itself";
    case 82: return "the guest triple-faulted";
    case 83: return "the VMM crashed";
    case 84: return "the guest kernel panicked";
    case 85: return "timeout";
    case 86: return "stopped";
    default: return "exited";
    }
}

/* The monitor's report: its pid, then "OK" or "E<message>". */
static int wait_ready(struct vm_launch *l, struct hull_err *err) {
    char buf[HULL_ERR_MSG_MAX + 8];
    size_t have = 0;
    long long budget = (long long)l->o.boot_timeout_ms + 15000;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = budget - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) return hull_err_set(err, ETIMEDOUT, "the VM monitor did not report in time");
        struct pollfd p = {.fd = l->ready[0], .events = POLLIN};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(l->ready[0], buf + have, sizeof buf - 1 - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
        if (have == sizeof buf - 1) break;
    }
    buf[have] = '\0';
    if (have >= sizeof(pid_t)) memcpy(&l->monitor, buf, sizeof(pid_t));
    const char *msg = have > sizeof(pid_t) ? buf + sizeof(pid_t) : "";
    if (strcmp(msg, "OK") == 0) return 0;
    if (msg[0] == 'E') return hull_err_set(err, EIO, "%s", msg + 1);
    return hull_err_set(err, EIO, "the VM monitor exited during create");
}

static void wait_pid_gone(pid_t pid, int ms) {
    if (pid <= 0) return;
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) return;
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    if (poll(&p, 1, ms) == 0) {
        syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        poll(&p, 1, 1000);
    }
    close(pfd);
}

/* The last lines the VMM wrote (its errors, and the kernel console with
 * HULL_VM_CONSOLE=1): the state dir goes away with a failed create. */
static void log_tail(int state_dir_fd, char *out, size_t n) {
    out[0] = '\0';
    size_t len;
    char *t = hull_read_file_at(state_dir_fd, VM_LOG_FILE, 1 << 20, &len);
    if (!t) return;
    while (len && (t[len - 1] == '\n' || t[len - 1] == '\r')) t[--len] = '\0';
    size_t start = len, lines = 0;
    while (start > 0 && lines < 3 && len - start < 400) {
        start--;
        if (t[start] == '\n') lines++;
    }
    if (t[start] == '\n') start++;
    size_t k = 0;
    for (size_t i = start; i < len && k + 4 < n; i++) {
        if (t[i] == '\n') { memcpy(out + k, " | ", 3); k += 3; }
        else if ((unsigned char)t[i] >= 0x20) out[k++] = t[i];
    }
    out[k] = '\0';
    free(t);
}

/* Undoes a create: the VMM (our child) and the monitor die, the files go. */
static void launch_abort(struct vm_launch *l, int state_dir_fd, struct hull_err *err) {
    if (l->vmm > 0) {
        kill(l->vmm, SIGKILL);
        int st;
        while (waitpid(l->vmm, &st, 0) < 0 && errno == EINTR) {}
        char tail[512];
        log_tail(state_dir_fd, tail, sizeof tail);
        bool killed_by_us = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        size_t n = strlen(err->msg);
        if (!killed_by_us)
            n += (size_t)snprintf(err->msg + n, sizeof err->msg - n, " (VMM: %s)", vmm_status_text(st));
        if (tail[0] && n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, " [vm.log: %s]", tail);
        l->vmm = -1;
    }
    launch_close(l);
    wait_pid_gone(l->monitor, 3000);
    unlinkat(state_dir_fd, VMC_SOCK, 0);
    unlinkat(state_dir_fd, HULL_EXEC_SOCK, 0);
    vm_remove_images(state_dir_fd);
}

/* The caller's terminal size, for a pty whose master the caller will proxy
 * (`run -t`, `exec -t`): known now, so the process starts with it. */
void vm_caller_size(bool want_master, unsigned *rows, unsigned *cols) {
    struct winsize ws;
    *rows = *cols = 0;
    if (want_master && ioctl(0, TIOCGWINSZ, &ws) == 0) {
        *rows = ws.ws_row;
        *cols = ws.ws_col;
    }
}

static int guest_config(struct vm_launch *l, const struct hull_create_req *req, struct hull_err *err) {
    size_t len, dropped;
    unsigned rows = 0, cols = 0;
    if (req->spec->process.terminal) vm_caller_size(req->want_console_master, &rows, &cols);
    char *text = hull_read_file_at(req->state_dir_fd, "config.json", 16 << 20, &len);
    if (!text) return hull_err_sys(err, "read the saved config.json");
    int r = hull_vm_guest_config_sized(text, len, rows, cols, &l->config, &l->config_len, &dropped, err);
    free(text);
    if (r == 0 && l->config_len > HULL_AGENT_MAX_PAYLOAD - 2 * HULL_AGENT_STR_MAX - 16)
        r = hull_err_set(err, EFBIG, "config.json is too large for the guest agent (%zu bytes)", l->config_len);
    if (r == 0 && dropped)
        hull_warn("microVM: %zu bind mount(s) of config.json dropped: a host path does not exist in the guest", dropped);
    return r;
}

int vm_create(struct hull_create_req *req, struct hull_err *err) {
    const struct hull_spec *spec = req->spec;
    struct vm_launch l = {.listen_fd = -1, .state_fd = -1, .term_master = -1, .term_slave = -1, .vmm = -1,
                          .monitor = -1};
    int *fds[] = {l.ctl, l.link, l.pin, l.pout, l.perr, l.ready};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++) fds[i][0] = fds[i][1] = -1;
    req->pid = -1;
    req->console_master = -1;
    int r = vm_opts_load(&l.o, err);
    if (r < 0) return r;
    hull_vm_size_from_resources(&spec->linux.resources, vm_host_cpus(), &l.size);
    if (l.o.test_agent) {
        if ((r = vm_locate("hull-agent", "HULL_AGENT", l.o.agent, sizeof l.o.agent, err)) < 0) return r;
    } else if ((r = vm_check_kvm(l.o.allow_slow, err)) < 0 || (r = vm_boot_assets(&l.o, err)) < 0) {
        return r;
    }
    if ((r = vm_locate("hull-vmm", "HULL_VMM", l.o.vmm, sizeof l.o.vmm, err)) < 0) return r;

    if ((r = guest_config(&l, req, err)) < 0) goto fail;
    if (l.o.test_agent) {
        snprintf(l.root_img, sizeof l.root_img, "%s", req->rootfs);   /* the agent runs on this host */
    } else {
        if ((r = make_image_dir(&l.o, req->state_dir_fd, l.image_dir, sizeof l.image_dir, err)) < 0) goto fail;
        snprintf(l.upper_img, sizeof l.upper_img, "%s/upper.ext4", l.image_dir);
        if (req->vm_root_image) {   /* an image's cached root (hull run IMAGE --vm): shared, attached read-only */
            size_t k = strlen(req->vm_root_image);
            l.root_fs = k > 6 && strcmp(req->vm_root_image + k - 6, ".erofs") == 0 ? HULL_ROOTFS_EROFS : HULL_ROOTFS_EXT4;
            snprintf(l.root_img, sizeof l.root_img, "%s", req->vm_root_image);
        } else {
            if ((r = hull_rootfs_fs_pick(HULL_ROOTFS_AUTO, &l.root_fs, err)) < 0) goto fail;
            snprintf(l.root_img, sizeof l.root_img, "%s/root.%s", l.image_dir, hull_rootfs_fs_name(l.root_fs));
            if ((r = hull_rootfs_image_build(req->rootfs, l.root_fs, l.root_img, err)) < 0) goto fail;
        }
        if ((r = hull_rootfs_upper_create(l.upper_img, l.o.upper_bytes, err)) < 0) goto fail;
    }
    if ((r = make_fds(&l, req->state_dir_fd, err)) < 0) goto fail;
    if (spec->process.terminal &&
        (r = vm_host_pty(spec->process.console_height, spec->process.console_width, req->console_socket,
                         req->want_console_master, &l.term_master, &l.term_slave, err)) < 0)
        goto fail;
    if ((r = spawn_vmm(&l, req->cgroup, err)) < 0) goto fail;
    if ((r = spawn_monitor(&l, err)) < 0) goto fail;
    /* the VMM's and the monitor's ends are theirs now */
    int *theirs[] = {&l.ctl[0], &l.ctl[1], &l.link[0], &l.link[1], &l.pin[0], &l.pin[1], &l.pout[0], &l.pout[1],
                     &l.perr[0], &l.perr[1], &l.ready[1], &l.listen_fd, &l.state_fd, &l.term_slave};
    for (size_t i = 0; i < sizeof theirs / sizeof *theirs; i++) close_fd(theirs[i]);
    if ((r = wait_ready(&l, err)) < 0) goto fail;
    if (req->on_created_runtime && (r = req->on_created_runtime(req->opaque, l.vmm, err)) < 0) goto fail;
    req->pid = l.vmm;
    req->console_master = l.term_master;   /* `run -t` without a console socket proxies it */
    l.term_master = -1;
    launch_close(&l);
    return 0;
fail:
    launch_abort(&l, req->state_dir_fd, err);
    return r;
}
