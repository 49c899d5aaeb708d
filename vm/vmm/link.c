/* hull-vmm as a container's process: signal forwarding, the container's exit
 * status, and the test mode (see link.h). Part of the lean hull-vmm
 * binary: libc, pthreads and the vm/ folders below vm/vmm/ only. */
#include "vm/vmm/link.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/proto/signals.h"
#include "vm/proto/agent_proto.h"

static int g_link = -1, g_sigfd = -1, g_stop[2] = {-1, -1}, g_quit[2] = {-1, -1};
static atomic_bool g_have_status;
static atomic_uint g_status;
static pthread_t g_thread;
static bool g_started;


static void stop_vm(void) {
    char b = 1;
    if (write(g_stop[1], &b, 1) < 0) { /* the pipe is readable already */ }
}

/* false when the link is gone (EOF or error). */
static bool take_link(void) {
    uint8_t buf[16];
    ssize_t n = recv(g_link, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    if (n == 0) return false;
    if (n == 4) {
        uint32_t st;
        memcpy(&st, buf, 4);
        atomic_store(&g_status, st);
        atomic_store(&g_have_status, true);
    }
    return true;
}

static void *link_main(void *arg) {
    (void)arg;
    bool link_open = true;
    for (;;) {
        struct pollfd p[3] = {{.fd = g_sigfd, .events = POLLIN},
                              {.fd = link_open ? g_link : -1, .events = POLLIN},
                              {.fd = g_quit[0], .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return NULL;
        }
        if (p[2].revents) return NULL;
        if (p[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(g_sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                uint8_t sig = (uint8_t)si.ssi_signo;
                if (link_open && send(g_link, &sig, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) continue;
                /* no monitor to deliver it: the usual VMM meaning */
                if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) stop_vm();
            }
        }
        if (p[1].revents && !take_link()) {
            link_open = false;
            stop_vm();   /* the monitor is gone: nobody drives this guest any more */
        }
    }
}

int vmm_link_start(int link_fd, int *stop_fd) {
    g_link = link_fd;
    sigset_t set;
    vm_forwardable_signals(&set);
    if (pipe2(g_stop, O_CLOEXEC) < 0 || pipe2(g_quit, O_CLOEXEC) < 0) return -errno;
    /* An ignored signal never reaches a signalfd, and a caller's SIG_IGN (a
     * shell's background job ignores SIGINT) survives exec: undo it. */
    for (int sig = 1; sig < 32; sig++)
        if (sigismember(&set, sig)) signal(sig, SIG_DFL);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;   /* every thread from here on inherits it */
    g_sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (g_sigfd < 0) return -errno;
    int r = pthread_create(&g_thread, NULL, link_main, NULL);
    if (r) return -r;
    g_started = true;
    *stop_fd = g_stop[0];
    return 0;
}

int vmm_link_finish(int fate_code) {
    if (g_started) {
        char b = 1;
        if (write(g_quit[1], &b, 1) < 0) { /* the thread is gone already */ }
        pthread_join(g_thread, NULL);
        g_started = false;
    }
    /* sent before POWEROFF, so it is in the socket by now */
    if (g_link >= 0) take_link();
    if (atomic_load(&g_have_status)) return hull_agent_status_code(atomic_load(&g_status));
    return fate_code;
}

static int port_fd(const struct vmm_config *c, const char *name, bool in) {
    for (unsigned i = 0; i < c->nports; i++)
        if (strcmp(c->port[i].name, name) == 0) return in ? c->port[i].in_fd : c->port[i].out_fd;
    return -1;
}

int vmm_link_run_agent(const char *agent, const struct vmm_config *c) {
    int fds[4] = {port_fd(c, HULL_AGENT_PORT_CTL, true), port_fd(c, HULL_AGENT_PORT_STDIN, true),
                  port_fd(c, HULL_AGENT_PORT_STDOUT, false), port_fd(c, HULL_AGENT_PORT_STDERR, false)};
    for (int i = 0; i < 4; i++)
        if (fds[i] < 0) {
            fprintf(stderr, "hull: vmm: --test-agent needs the four hull.* ports\n");
            return VM_FATE_CRASH;
        }
    pid_t pid = fork();
    if (pid < 0) return VM_FATE_CRASH;
    if (pid == 0) {
        int hi[4];
        for (int i = 0; i < 4; i++) hi[i] = fcntl(fds[i], F_DUPFD, 20);
        for (int i = 0; i < 4; i++) dup2(hi[i], 3 + i);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        syscall(SYS_close_range, 7, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(agent, agent, "--test-fds", "3,4,5,6", (char *)NULL);
        _exit(127);
    }
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        struct pollfd p[2] = {{.fd = pfd, .events = POLLIN}, {.fd = c->stop_fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        if (p[1].revents) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(pfd);
            return VM_FATE_KILLED;
        }
        if (p[0].revents) break;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    close(pfd);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? VM_FATE_POWEROFF : VM_FATE_CRASH;
}
