/* Foreground `run` and `exec`: hull stays the parent of the container process,
 * forwards the signals it receives, proxies a terminal when it owns the pty
 * master, and turns the wait status into an exit code (128+N for signal N). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/console.h"
#include "base/fsutil.h"

static struct termios saved_tio;
static bool tio_saved;

/* Our terminal goes raw: its bytes are the container's terminal's input. What
 * it queued in canonical mode before (an EOF above all, which the switch
 * alone would turn into a NUL byte) goes to the master first. */
static void raw_stdin(int master) {
    if (!isatty(0) || tcgetattr(0, &saved_tio) < 0) return;
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST;   /* keep \n -> \r\n on our side of the proxy */
    struct hull_err err;
    if (hull_console_make_raw(0, &raw, master, &err) == 0) tio_saved = true;
}

static void restore_stdin(void) {
    if (tio_saved) tcsetattr(0, TCSANOW, &saved_tio);
    tio_saved = false;
}

static void copy_winsize(int master) {
    struct winsize ws;
    if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

/* Moves what is readable from `from` to `to`; false on EOF/error. */
static bool pump(int from, int to) {
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN);
    return hull_write_all(to, buf, (size_t)n) == 0;
}

int cli_wait_forward(pid_t pid, int master) {
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, SIGSEGV); sigdelset(&set, SIGBUS); sigdelset(&set, SIGFPE); sigdelset(&set, SIGILL);
    sigdelset(&set, SIGKILL); sigdelset(&set, SIGSTOP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    /* Orphans of the container (no pid namespace) come back to us to be reaped. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (master >= 0) {
        copy_winsize(master);
        raw_stdin(master);
    }
    bool stdin_open = master >= 0, master_open = master >= 0;
    int status = 0;
    bool exited = waitpid(pid, &status, WNOHANG) == pid;   /* it may have exited before signalfd */
    while (!exited || master_open) {
        struct pollfd p[3] = {{.fd = sfd, .events = POLLIN}, {.fd = stdin_open ? 0 : -1, .events = POLLIN},
                              {.fd = master_open ? master : -1, .events = POLLIN}};
        /* after the process exits, drain what the pty still holds, briefly */
        int n = poll(p, 3, exited ? 100 : -1);
        if (n < 0 && errno != EINTR) break;
        if (n == 0 && exited) break;
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGCHLD) {
                    pid_t w;
                    int st;
                    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                        if (w == pid) { status = st; exited = true; }
                } else if (si.ssi_signo == SIGWINCH && master >= 0) {
                    copy_winsize(master);
                } else if (!exited) {
                    kill(pid, (int)si.ssi_signo);
                }
                break;
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            if (!pump(0, master)) stdin_open = false;
        }
        if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!pump(master, 1)) master_open = false;
        }
    }
    if (!exited) waitpid(pid, &status, 0);
    restore_stdin();
    if (sfd >= 0) close(sfd);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}
