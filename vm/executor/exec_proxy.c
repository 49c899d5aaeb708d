/* The host-side stand-in of a process exec'd in a microVM container. `exec`
 * returns the pid of a process that callers wait for (the foreground CLI,
 * containerd's shim after `exec --detach --pid-file`): here it is this small
 * proxy, forked by `hull exec`. It relays its stdin/stdout/stderr to the
 * guest process through the monitor, forwards the signals it receives, and
 * exits with the guest process's status (128+N for a signal), so the
 * caller cannot tell it from a local process. With a terminal, its stdio is
 * the slave of a host pty whose master the caller holds, and size changes
 * (SIGWINCH) become RESIZE. */
#include "vm/proto/signals.h"
#include "vm/executor/container.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "base/console.h"
#include "base/fds.h"
#include "base/fsutil.h"
#include "vm/proto/agent_proto.h"
#include "vm/executor/ctl.h"


int vm_host_pty(unsigned rows, unsigned cols, const char *console_socket, bool want_master, int *master,
                int *slave, struct hull_err *err) {
    *master = *slave = -1;
    if (!console_socket && !want_master)
        return hull_err_set(err, EINVAL, "process.terminal is true but no --console-socket was given (use "
                                         "--console-socket or set terminal to false)");
    char path[64];
    _cleanup_close_ int m = -1;
    int r = hull_console_open(rows, cols, &m, path, sizeof path, err);
    if (r < 0) return r;
    _cleanup_close_ int s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios t;
    if (s < 0 || tcgetattr(s, &t) < 0) return hull_err_sys(err, "host pty %s", path);
    cfmakeraw(&t);
    if (tcsetattr(s, TCSANOW, &t) < 0) return hull_err_sys(err, "host pty %s: raw mode", path);
    if (console_socket) {
        if ((r = hull_console_send(console_socket, m, err)) < 0) return r;
        hull_closep(&m);   /* sent: the caller's console socket holds it now */
    }
    *master = TAKE_FD(m);
    *slave = TAKE_FD(s);
    return 0;
}

/* The terminal's size to the guest process (VMC_RESIZE). */
static void send_size(int conn, int tty) {
    struct winsize ws;
    struct hull_err err;
    if (tty >= 0 && ioctl(tty, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        vmc_send(conn, VMC_RESIZE, ws.ws_row, ws.ws_col, NULL, 0, &err);
}

static void __attribute__((noreturn)) proxy_main(int conn, int tty) {
    prctl(PR_SET_NAME, "hull-vm-exec");
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    vm_forwardable_signals(&set);
    for (int sig = 1; sig < 32; sig++)   /* an inherited SIG_IGN would hide it from the signalfd */
        if (sigismember(&set, sig)) signal(sig, SIG_DFL);
    if (tty >= 0) {
        /* the pty is our terminal: its size changes arrive as SIGWINCH */
        setsid();
        ioctl(tty, TIOCSCTTY, 0);
        for (int fd = 0; fd < 3; fd++) dup2(tty, fd);
        signal(SIGWINCH, SIG_DFL);
        sigaddset(&set, SIGWINCH);
        send_size(conn, tty);
    }
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    static uint8_t rbuf[VMC_MAX_PACKET], pend[VMC_MAX_PACKET];
    size_t pend_len = 0;
    bool stdin_open = true;
    for (;;) {
        struct pollfd p[3] = {
            {.fd = conn, .events = (short)(POLLIN | (pend_len ? POLLOUT : 0))},
            {.fd = stdin_open && !pend_len ? 0 : -1, .events = POLLIN},
            {.fd = sfd, .events = POLLIN},
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR) continue;
            _exit(255);
        }
        if (pend_len && (p[0].revents & POLLOUT)) {
            ssize_t w = send(conn, pend, pend_len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w == (ssize_t)pend_len) pend_len = 0;
            else if (w < 0 && errno != EAGAIN && errno != EINTR) stdin_open = false, pend_len = 0;
        }
        if (p[2].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                struct hull_err err;
                if (si.ssi_signo == SIGWINCH) send_size(conn, tty);
                else vmc_send(conn, VMC_SIGNAL, (int32_t)si.ssi_signo, 0, NULL, 0, &err);
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t data[32 << 10];
            ssize_t n = read(0, data, sizeof data);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) n = -2;
            if (n > 0) {
                pend_len = vmc_encode(pend, sizeof pend, VMC_STDIN, 0, 0, data, (size_t)n);
            } else if (n != -2) {
                stdin_open = false;
                pend_len = vmc_encode(pend, sizeof pend, VMC_STDIN_CLOSE, 0, 0, NULL, 0);
            }
            if (pend_len) {
                ssize_t w = send(conn, pend, pend_len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (w == (ssize_t)pend_len) pend_len = 0;
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            struct vmc_msg m;
            struct hull_err err;
            int r = vmc_recv_timeout(conn, rbuf, sizeof rbuf, &m, 0, &err);
            if (r == -ETIMEDOUT) continue;
            if (r <= 0) {
                /* the VM is gone, and every process in it */
                dprintf(2, "hull: exec: the microVM ended before the process reported its exit\n");
                _exit(137);
            }
            switch (m.type) {
            case VMC_STDOUT: hull_write_all(1, m.data, m.len); break;
            case VMC_STDERR: hull_write_all(2, m.data, m.len); break;
            case VMC_EXIT: _exit(hull_agent_status_code((uint32_t)m.a));
            case VMC_ERROR:
                dprintf(2, "hull: exec: %.*s\n", (int)m.len, (const char *)m.data);
                _exit(255);
            default: break;
            }
        }
    }
}

int vm_exec_proxy_start(int conn, int term_fd, pid_t *pid, struct hull_err *err) {
    pid_t p = fork();
    if (p < 0) {
        int r = hull_err_sys(err, "exec: fork the process relay");
        close(conn);
        return r;
    }
    if (p == 0) {
        int keep[] = {0, 1, 2, conn, term_fd};
        struct hull_err e2;
        hull_close_fds_from(0, keep, term_fd >= 0 ? 5 : 4, &e2);
        proxy_main(conn, term_fd);
    }
    close(conn);
    *pid = p;
    return 0;
}
