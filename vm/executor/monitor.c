/* The monitor of a microVM container: a long-lived process per container,
 * forked by create, that owns the guest agent's control port. It
 *
 *  - waits for the agent's HELLO within the boot timeout, then tells create;
 *  - sends START when `start` asks, reports STARTED / the start error;
 *  - relays the main process's stdio ports to and from create's stdio
 *    (threads, so a slow reader never stalls the loop) and counts the bytes,
 *    so that after EXIT it waits for exactly the output the agent wrote;
 *  - hands the exit status to the VMM (which then exits with it: the
 *    container's pid reports the container's status) and powers the guest off;
 *  - serves kill / exec / ps / delete on <state>/vm.sock;
 *  - treats a malformed frame from the guest as the end of this VM, never of
 *    anything else.
 * It exits when the VMM does. */
#include "vm/executor/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/executor.h"
#include "base/fsutil.h"

/* ---- the main process's stdio ------------------------------------------- */

struct relay {
    struct mon *m;
    int from, to;
    _Atomic uint64_t *count;
    bool is_stdin;
};
static struct relay relays[3];

static void poke(struct mon *m) {
    uint64_t one = 1;
    if (write(m->notify_fd, &one, sizeof one) < 0) { /* the counter saturates only after 2^64 pokes */ }
}

static void *relay_main(void *arg) {
    struct relay *r = arg;
    static __thread char buf[64 << 10];
    bool sink = true;
    for (;;) {
        ssize_t n = read(r->from, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        /* a reader that went away: keep draining, or the guest would stall */
        if (sink && hull_write_all(r->to, buf, (size_t)n) < 0) {
            sink = false;
            if (r->is_stdin) break;
        }
        atomic_fetch_add(r->count, (uint64_t)n);
        poke(r->m);
    }
    if (r->is_stdin) {
        close(r->to);   /* the VMM's stdin port feed sees EOF too */
        atomic_store(&r->m->in_done, true);
        poke(r->m);
    }
    return NULL;
}

static bool start_relay(struct mon *m, int i, int from, int to, _Atomic uint64_t *count, pthread_t *th) {
    relays[i] = (struct relay){.m = m, .from = from, .to = to, .count = count, .is_stdin = i == 0};
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 << 10);
    bool ok = pthread_create(th, &a, relay_main, &relays[i]) == 0;
    pthread_attr_destroy(&a);
    return ok;
}

/* process.terminal: the host pty's size (set on its master by whoever holds
 * it) for the guest's pty. */
static void send_term_size(struct mon *m) {
    struct winsize ws;
    struct hull_err err = {0};
    if (m->c->term_fd < 0 || m->phase != MON_RUNNING || ioctl(m->c->term_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row ||
        !ws.ws_col)
        return;
    mon_must(m, hull_agent_put_resize(&m->q, 1, ws.ws_row, ws.ws_col, &err), &err);
}

/* ---- frames from the guest ---------------------------------------------- */

static void on_started(struct mon *m, const struct hull_agent_msg *f) {
    if (f->id == 1) {
        if (m->phase != MON_STARTING) return;
        m->phase = MON_RUNNING;
        unlinkat(m->c->state_dir_fd, HULL_EXEC_SOCK, 0);
        struct mon_client *c = mon_client_find(m, MC_START, 0);
        if (c) {
            mon_client_send(m, c, VMC_OK, (int32_t)f->u.started_pid, 0, NULL, 0);
            c->closing = true;
        }
        send_term_size(m);
        /* stdin flows only once there is a process to read it */
        int in = m->c->term_fd >= 0 ? m->c->term_fd : 0;
        m->stdin_started = start_relay(m, 0, in, m->c->port_in_fd, &m->in_bytes, &m->th_in);
        if (m->stdin_started) pthread_detach(m->th_in);
        else atomic_store(&m->in_done, true);
        return;
    }
    struct mon_client *c = mon_client_find(m, MC_EXEC, f->id);
    if (c && !c->running) {
        c->running = true;
        mon_client_send(m, c, VMC_OK, (int32_t)f->u.started_pid, 0, NULL, 0);
    }
}

static void on_exit_frame(struct mon *m, const struct hull_agent_msg *f) {
    if (f->id == 1) {
        if (m->phase != MON_RUNNING) return;
        m->main_status = f->u.exit.status;
        m->want_out = f->u.exit.stdout_bytes;
        m->want_err = f->u.exit.stderr_bytes;
        m->phase = MON_DRAINING;
        m->drain_deadline = mon_now_ms() + MON_DRAIN_MS;
        return;
    }
    struct mon_client *c = mon_client_find(m, MC_EXEC, f->id);
    if (!c) return;
    c->exited = true;
    c->status = f->u.exit.status;
    c->want_out = f->u.exit.stdout_bytes;
    c->want_err = f->u.exit.stderr_bytes;
    c->exit_deadline = mon_now_ms() + MON_DRAIN_MS;
    mon_exec_maybe_finish(m, c, false);
}

static void on_error_frame(struct mon *m, const struct hull_agent_msg *f) {
    const struct hull_agent_error *e = &f->u.error;
    if ((f->flags & HULL_AGENT_F_FATAL) || m->phase == MON_BOOTING)
        mon_fail(m, "the guest agent failed: %s", e->message);
    if (e->req_type == HULL_AGENT_START && f->id == 1) {
        struct mon_client *c = mon_client_find(m, MC_START, 0);
        if (c) {
            mon_client_error(m, c, e->code ? (int)e->code : EIO, "%s", e->message);
            c->closing = true;
        }
        mon_end(m, hull_agent_status_exited(127));
        return;
    }
    if (e->req_type == HULL_AGENT_EXEC) {
        struct mon_client *c = mon_client_find(m, MC_EXEC, f->id);
        if (c && !c->running) {
            mon_client_error(m, c, e->code ? (int)e->code : EIO, "%s", e->message);
            c->closing = true;
        }
    }
    /* SIGNAL/RESIZE to a process that just exited: a race, nothing to do */
}

static void on_frame(struct mon *m, const struct hull_agent_msg *f) {
    switch (f->type) {
    case HULL_AGENT_HELLO:
        if (m->phase == MON_BOOTING) {
            m->phase = MON_CREATED;
            if (!mon_report(m, "OK")) mon_fail(m, "create was interrupted");
        }
        break;
    case HULL_AGENT_STARTED: on_started(m, f); break;
    case HULL_AGENT_EXIT: on_exit_frame(m, f); break;
    case HULL_AGENT_ERROR: on_error_frame(m, f); break;
    case HULL_AGENT_STDOUT:
    case HULL_AGENT_STDERR: {
        struct mon_client *c = mon_client_find(m, MC_EXEC, f->id);
        if (!c) break;   /* its client went away: dropped */
        bool out = f->type == HULL_AGENT_STDOUT;
        mon_client_send(m, c, out ? VMC_STDOUT : VMC_STDERR, 0, 0, f->u.data.bytes, f->u.data.len);
        if (out) c->got_out += f->u.data.len;
        else c->got_err += f->u.data.len;
        if (c->exited) mon_exec_maybe_finish(m, c, false);
        break;
    }
    case HULL_AGENT_STDIN_ACK: {
        struct mon_client *c = mon_client_find(m, MC_EXEC, f->id);
        if (c) c->window = f->u.stdin_ack > c->window ? 0 : c->window - f->u.stdin_ack;
        break;
    }
    case HULL_AGENT_PS_REPLY: {
        struct mon_client *c = mon_client_find(m, MC_PS, f->id);
        if (!c) break;
        uint32_t n = f->u.ps.count > VMC_MAX_PAYLOAD / 4 ? VMC_MAX_PAYLOAD / 4 : f->u.ps.count;
        uint32_t *v = malloc((n ? n : 1) * sizeof *v);
        if (!v) break;
        for (uint32_t i = 0; i < n; i++) v[i] = hull_agent_ps_pid(f, i);
        mon_client_send(m, c, VMC_PIDS, 0, 0, v, n * sizeof *v);
        free(v);
        c->closing = true;
        break;
    }
    default:
        break;
    }
}

static void read_ctl(struct mon *m) {
    static uint8_t buf[128 << 10];
    ssize_t n = read(m->c->ctl_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
        /* the VMM closed the port: it is going away; its exit ends us */
        struct hull_err err;
        if (n == 0 && hull_agent_decoder_finish(&m->dec, &err) < 0 && m->phase != MON_ENDING)
            mon_fail(m, "the guest agent's control stream ended mid-frame");
        return;
    }
    for (size_t off = 0; off < (size_t)n;) {
        struct hull_agent_msg f;
        struct hull_err err = {0};
        size_t used;
        int r = hull_agent_decode(&m->dec, buf + off, (size_t)n - off, &used, &f, &err);
        if (r < 0) mon_fail(m, "malformed frame from the guest agent, VM stopped: %s", err.msg);
        off += used;
        if (r == 0) break;
        on_frame(m, &f);
    }
}

static void write_ctl(struct mon *m) {
    while (hull_agent_buf_pending(&m->q)) {
        ssize_t w = write(m->c->ctl_fd, m->q.data + m->q.off, hull_agent_buf_pending(&m->q));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;   /* EAGAIN: POLLOUT later; an error: the VMM's exit ends us */
        hull_agent_buf_consume(&m->q, (size_t)w);
    }
}

/* ---- the container's life ----------------------------------------------- */

static void read_link(struct mon *m) {
    uint8_t sig[16];
    ssize_t n = recv(m->c->link_fd, sig, sizeof sig, MSG_DONTWAIT);
    if (n == 1 && sig[0] >= 1 && sig[0] <= 64) {
        struct hull_err err;
        mon_signal(m, sig[0], false, &err);   /* a signal to the VMM is one for the container */
    }
}

static void on_stdin_done(struct mon *m) {
    struct hull_err err = {0};
    if (m->stdin_close_sent || !atomic_load(&m->in_done) || m->phase != MON_RUNNING) return;
    m->stdin_close_sent = true;
    mon_must(m, hull_agent_put_stdin_close(&m->q, 1, atomic_load(&m->in_bytes), &err), &err);
}

static void check_timers(struct mon *m, long long now) {
    if (m->phase == MON_BOOTING && now >= m->boot_deadline)
        mon_fail(m, "the guest did not start its agent within %u s (HULL_VM_BOOT_TIMEOUT)", m->c->boot_timeout_ms / 1000);
    if (m->phase == MON_ENDING && now >= m->end_deadline) {
        mon_kill_vmm(m);   /* a guest that does not go down when told: its status is known already */
        m->end_deadline = now + 60000;
    }
    if (m->phase == MON_DRAINING &&
        ((atomic_load(&m->out_bytes) >= m->want_out && atomic_load(&m->err_bytes) >= m->want_err) ||
         now >= m->drain_deadline))
        mon_end(m, m->main_status);
    for (int i = 0; i < MON_MAX_CLIENTS; i++) {
        struct mon_client *c = &m->cl[i];
        if (c->fd >= 0 && c->kind == MC_EXEC && c->exited) mon_exec_maybe_finish(m, c, now >= c->exit_deadline);
    }
}

static int next_timeout(const struct mon *m, long long now) {
    long long t = -1;
    if (m->phase == MON_BOOTING) t = m->boot_deadline - now;
    if (m->phase == MON_DRAINING) t = m->drain_deadline - now;
    if (m->phase == MON_ENDING) t = m->end_deadline - now;
    for (int i = 0; i < MON_MAX_CLIENTS; i++)
        if (m->cl[i].fd >= 0 && m->cl[i].kind == MC_EXEC && m->cl[i].exited) {
            long long d = m->cl[i].exit_deadline - now;
            if (t < 0 || d < t) t = d;
        }
    if (t < 0 && m->phase != MON_BOOTING && m->phase != MON_DRAINING && m->phase != MON_ENDING) return -1;
    return t < 0 ? 0 : (int)(t > 60000 ? 60000 : t);
}

void vm_monitor_main(const struct vm_monitor_cfg *cfg) {
    static struct mon mon;
    struct mon *m = &mon;
    m->c = cfg;
    m->phase = MON_BOOTING;
    m->next_exec_id = 2;
    m->next_tag = 1;
    for (int i = 0; i < MON_MAX_CLIENTS; i++) m->cl[i].fd = -1;
    m->clients_last_words = mon_clients_last_words;
    prctl(PR_SET_NAME, "hull-vm-monitor");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);   /* a terminal's ^C is for the container; `hull run` forwards it */
    if (chdir("/") < 0) { /* nothing depends on the cwd */ }
    pid_t self = getpid();
    hull_write_all(cfg->ready_fd, &self, sizeof self);

    m->vmm_pidfd = (int)syscall(SYS_pidfd_open, cfg->vmm_pid, 0);
    m->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m->vmm_pidfd < 0 || m->notify_fd < 0) mon_fail(m, "VM monitor: pidfd/eventfd: %s", strerror(errno));
    int fl = fcntl(cfg->ctl_fd, F_GETFL);
    fcntl(cfg->ctl_fd, F_SETFL, fl | O_NONBLOCK);
    hull_agent_decoder_init(&m->dec, HULL_AGENT_FROM_GUEST, HULL_AGENT_GUEST_MAX_PAYLOAD);
    int wfd = -1;
    if (cfg->term_fd >= 0) {
        /* the pty is our controlling terminal: resizes of its master arrive as SIGWINCH */
        setsid();
        ioctl(cfg->term_fd, TIOCSCTTY, 0);
        sigset_t w;
        sigemptyset(&w);
        sigaddset(&w, SIGWINCH);
        sigprocmask(SIG_BLOCK, &w, NULL);   /* before the relay threads exist: they inherit it */
        wfd = signalfd(-1, &w, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    int out = cfg->term_fd >= 0 ? cfg->term_fd : 1;
    m->th_out_ok = start_relay(m, 1, cfg->port_out_fd, out, &m->out_bytes, &m->th_out);
    m->th_err_ok = start_relay(m, 2, cfg->port_err_fd, 2, &m->err_bytes, &m->th_err);
    if (!m->th_out_ok || !m->th_err_ok) mon_fail(m, "VM monitor: cannot start the stdio relays");
    m->boot_deadline = mon_now_ms() + cfg->boot_timeout_ms;

    enum { P_CTL, P_VMM, P_LISTEN, P_NOTIFY, P_LINK, P_WINCH, P_FIXED };
    for (;;) {
        long long now = mon_now_ms();
        check_timers(m, now);
        on_stdin_done(m);
        write_ctl(m);
        struct pollfd p[P_FIXED + MON_MAX_CLIENTS];
        struct mon_client *who[P_FIXED + MON_MAX_CLIENTS];
        short ctl_ev = (short)(m->queued_total < MON_QUEUE_MAX ? POLLIN : 0);
        if (hull_agent_buf_pending(&m->q)) ctl_ev |= POLLOUT;
        p[P_CTL] = (struct pollfd){.fd = cfg->ctl_fd, .events = ctl_ev};
        p[P_VMM] = (struct pollfd){.fd = m->vmm_pidfd, .events = POLLIN};
        p[P_LISTEN] = (struct pollfd){.fd = cfg->listen_fd, .events = POLLIN};
        p[P_NOTIFY] = (struct pollfd){.fd = m->notify_fd, .events = POLLIN};
        p[P_LINK] = (struct pollfd){.fd = cfg->link_fd, .events = POLLIN};
        p[P_WINCH] = (struct pollfd){.fd = wfd, .events = POLLIN};
        nfds_t n = P_FIXED;
        for (int i = 0; i < MON_MAX_CLIENTS; i++) {
            struct mon_client *c = &m->cl[i];
            if (c->fd < 0) continue;
            if (c->closing && !c->head) {
                mon_client_close(m, c);
                continue;
            }
            short ev = c->head ? POLLOUT : 0;
            if (!c->closing && (c->kind != MC_EXEC || c->window < HULL_AGENT_STDIN_WINDOW)) ev |= POLLIN;
            who[n] = c;
            p[n++] = (struct pollfd){.fd = c->fd, .events = ev};
        }
        int r = poll(p, n, next_timeout(m, now));
        if (r < 0 && errno != EINTR) mon_fail(m, "VM monitor: poll: %s", strerror(errno));
        if (r <= 0) continue;
        if (p[P_NOTIFY].revents & POLLIN) {
            uint64_t v;
            if (read(m->notify_fd, &v, sizeof v) < 0) { /* EAGAIN: already drained */ }
        }
        if (p[P_CTL].revents & POLLOUT) write_ctl(m);
        if (p[P_CTL].revents & (POLLIN | POLLHUP | POLLERR)) read_ctl(m);
        if (p[P_LINK].revents & POLLIN) read_link(m);
        if (p[P_WINCH].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(wfd, &si, sizeof si) == (ssize_t)sizeof si) {}
            send_term_size(m);
        }
        for (nfds_t i = P_FIXED; i < n; i++) {
            if (who[i]->fd < 0) continue;
            if (p[i].revents & POLLOUT) mon_client_flush(m, who[i]);
            if (who[i]->fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) mon_client_read(m, who[i]);
        }
        if (p[P_LISTEN].revents & POLLIN) mon_accept(m);
        if (p[P_VMM].revents & POLLIN) {
            m->vmm_gone = true;
            /* anything the guest sent last is still in the socket */
            read_ctl(m);
            if (m->phase == MON_BOOTING) mon_fail(m, "the VM ended before its guest agent started");
            mon_finish(m, 0, m->phase == MON_ENDING ? "the container has exited" : "the VM ended");
        }
    }
}
