/* hull-agent entry point.
 *
 *   hull-agent                          as /init (PID 1) in the guest
 *   hull-agent --test-fds CTL[,IN,OUT,ERR] [--no-pivot]
 *                                       on a host, for tests: the control channel and
 *                                       (optionally) the three stdio "ports" are inherited
 *                                       fds; no mounts, modules or power-off; START must
 *                                       name a rootfs directory. Exits 0, or 1 after a
 *                                       fatal error (an ERROR frame went out first).
 */
#include "vm/agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef HULL_VERSION
#define HULL_VERSION "0.0.0"
#endif

static int usage(void) {
    dprintf(2, "usage: hull-agent                      (PID 1 of a hull microVM)\n"
               "       hull-agent --test-fds CTL[,IN,OUT,ERR] [--no-pivot]\n");
    return 2;
}

static int parse_fds(const char *s, struct agent *a) {
    int v[4] = {-1, -1, -1, -1}, n = 0;
    for (const char *p = s; *p && n < 4; n++) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x > 65535 || (*end && *end != ',')) return -1;
        v[n] = (int)x;
        p = *end ? end + 1 : end;
    }
    if (n != 1 && n != 4) return -1;
    a->ctl_fd = v[0];
    for (int i = 0; i < 3; i++) a->port_fd[i] = v[i + 1];
    for (int i = 0; i < 4; i++) {
        int fd = i ? a->port_fd[i - 1] : a->ctl_fd;
        if (fd < 0) continue;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -1;
    }
    return 0;
}

static int setup_signals(struct agent *a) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -1;
    signal(SIGPIPE, SIG_IGN);   /* a host that went away is EPIPE, handled */
    a->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return a->sig_fd < 0 ? -1 : 0;
}

static int hello(struct agent *a) {
    struct utsname u;
    struct hull_err err = {0};
    if (uname(&u) < 0) snprintf(u.release, sizeof u.release, "unknown");
    return hull_agent_put_hello(&a->ctl_q, HULL_AGENT_FEAT_PORTS | HULL_AGENT_FEAT_TERMINAL, HULL_VERSION,
                                u.release, &err);
}

int main(int argc, char **argv) {
    static struct agent a;
    a.ctl_fd = a.sig_fd = -1;
    for (int i = 0; i < 3; i++) a.port_fd[i] = -1;
    const char *test_fds = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--test-fds") && i + 1 < argc) test_fds = argv[++i];
        else if (!strcmp(argv[i], "--no-pivot")) a.no_pivot = true;
        else if (getpid() != 1) return usage();   /* the kernel may pass unknown cmdline words to init */
    }
    if (test_fds) {
        if (parse_fds(test_fds, &a) < 0) {
            dprintf(2, "hull-agent: --test-fds: want CTL or CTL,IN,OUT,ERR open file descriptors\n");
            return 2;
        }
        /* Orphans of the container stay ours (PS, kill-all), never the host's init's. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (setup_signals(&a) < 0 || hello(&a) < 0) {
            dprintf(2, "hull-agent: set-up failed: %s\n", strerror(errno));
            return 1;
        }
        return agent_run(&a);
    }
    if (getpid() != 1) {
        dprintf(2, "hull-agent: not PID 1; on a host use --test-fds\n");
        return usage();
    }

    a.pid1 = true;
    a.no_pivot = true;   /* the initramfs root cannot be pivoted away: MS_MOVE + chroot */
    struct hull_err err = {0};
    int rc = guest_early_init(&err);
    if (rc == 0) rc = guest_load_modules(HULL_AGENT_MODULES_LIST, HULL_AGENT_MODULES_DIR, &err);
    if (rc == 0) rc = guest_find_ports(&a, 10000, &err);
    if (rc == 0 && setup_signals(&a) < 0) rc = hull_err_sys(&err, "signalfd");
    if (rc == 0) rc = hello(&a);
    if (rc < 0) {
        guest_log("%s", err.msg);
        if (a.ctl_fd >= 0) {   /* somebody to tell */
            agent_send_error(&a, 0, 0, rc, true, err.msg);
            int fl = fcntl(a.ctl_fd, F_GETFL);
            fcntl(a.ctl_fd, F_SETFL, fl & ~O_NONBLOCK);
            ssize_t w = write(a.ctl_fd, a.ctl_q.data, hull_agent_buf_pending(&a.ctl_q));
            (void)w;
        }
        guest_poweroff(&a);
    }
    agent_run(&a);
    guest_poweroff(&a);
}
