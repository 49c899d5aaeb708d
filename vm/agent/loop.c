/* The agent's event loop: one thread, poll(2) over the control port, the
 * stdio ports, every process's pipes and a signalfd. Frames from the host are
 * decoded and dispatched; output is queued (ctl_q / port_q) and written when
 * the fd is writable, and a process's pipes are read only while its queue is
 * below AGENT_OUT_HIGH, so a host that reads slowly slows the process, never
 * the agent: control frames (SIGNAL, POWEROFF) are always read.
 *
 * Shutdown. The container is over when its main process exits (or could not
 * start, or the host sends POWEROFF, goes away, or breaks the protocol): the
 * agent kills what is left, drains and reports every process, flushes, then
 * waits for POWEROFF (the host's "I have everything") at most
 * AGENT_POWEROFF_WAIT_MS, and a hard 30 s cap covers anything unkillable. */
#include "vm/agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- requests ----------------------------------------------------------- */

static void read_ctl(struct agent *a) {
    uint8_t buf[65536];
    ssize_t n = read(a->ctl_fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {   /* the host went away: nobody to report to */
        a->ctl_eof = true;
        agent_stop(a, true);
        return;
    }
    for (size_t off = 0; off < (size_t)n && !a->fatal;) {
        struct hull_agent_msg m;
        struct hull_err err = {0};
        size_t used = 0;
        int rc = hull_agent_decode(&a->dec, buf + off, (size_t)n - off, &used, &m, &err);
        if (rc < 0) {
            agent_fatal(a, rc, err.msg);
            return;
        }
        off += used;
        if (rc == 1) agent_handle_frame(a, &m);
    }
}

/* Writes a queue; false when the peer is gone. */
static bool flush(int fd, struct hull_agent_buf *q) {
    while (hull_agent_buf_pending(q)) {
        ssize_t n = write(fd, q->data + q->off, hull_agent_buf_pending(q));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        if (n <= 0) return false;
        hull_agent_buf_consume(q, (size_t)n);
    }
    return true;
}

static struct hull_agent_buf *sink(struct agent *a, struct agent_proc *p, int which) {
    return p->ports ? &a->port_q[which] : &a->ctl_q;
}

/* One read from a process's stdout (1) or stderr (2). Returns false when
 * there is nothing more right now (EAGAIN) or the fd closed. */
static bool read_output(struct agent *a, struct agent_proc *p, int which) {
    int *fd = which == 1 ? &p->out_fd : &p->err_fd;
    uint8_t buf[HULL_AGENT_DATA_CHUNK];
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n < 0 && errno == EAGAIN) return false;
    if (n <= 0) {   /* EOF, or EIO from a pty master whose slave is gone */
        agent_close_fd(fd);
        return false;
    }
    struct hull_err err = {0};
    if (p->ports && a->port_fd[which] < 0) { /* the host closed that port: the bytes have nowhere to go */ }
    else if (p->ports) agent_must(a, hull_agent_buf_append(&a->port_q[which], buf, (size_t)n, &err), &err);
    else agent_must(a, hull_agent_put_data(&a->ctl_q, which == 1 ? HULL_AGENT_STDOUT : HULL_AGENT_STDERR, p->id, buf,
                                     (size_t)n, &err), &err);
    if (which == 1) p->out_bytes += (uint64_t)n;
    else p->err_bytes += (uint64_t)n;
    return true;
}

static void write_stdin(struct agent *a, struct agent_proc *p) {
    while (p->in_fd >= 0 && hull_agent_buf_pending(&p->in_q)) {
        ssize_t n = write(p->in_fd, p->in_q.data + p->in_q.off, hull_agent_buf_pending(&p->in_q));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {   /* EPIPE: the process closed its stdin; what is queued is dropped (and acknowledged) */
            p->unacked += (uint32_t)hull_agent_buf_pending(&p->in_q);
            hull_agent_buf_consume(&p->in_q, hull_agent_buf_pending(&p->in_q));
            agent_close_fd(&p->in_fd);
            break;
        }
        hull_agent_buf_consume(&p->in_q, (size_t)n);
        p->unacked += (uint32_t)n;
        agent_stdin_ack(a, p, false);
    }
    if (!hull_agent_buf_pending(&p->in_q)) agent_stdin_ack(a, p, true);
    agent_stdin_maybe_close(p, a);
}

/* PORTS: raw stdin bytes for the main process. */
static void read_stdin_port(struct agent *a) {
    uint8_t buf[65536];
    ssize_t n = read(a->port_fd[0], buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {   /* the host end is not connected (any more) */
        agent_close_fd(&a->port_fd[0]);
        return;
    }
    a->port_in_bytes += (uint64_t)n;
    for (int i = 0; i < AGENT_MAX_PROCS; i++) {
        struct agent_proc *p = &a->procs[i];
        if (p->used && p->main && p->ports && p->in_fd >= 0 && !p->reaped) {
            struct hull_err err = {0};
            agent_must(a, hull_agent_buf_append(&p->in_q, buf, (size_t)n, &err), &err);
        }
    }
}

static void reap(struct agent *a) {
    struct signalfd_siginfo si;
    while (read(a->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP || si.ssi_signo == SIGQUIT) {
            char msg[64];
            snprintf(msg, sizeof msg, "agent stopped by signal %u", si.ssi_signo);
            agent_fatal(a, EINTR, msg);
        }
    }
    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        if (pid <= 0) break;
        for (int i = 0; i < AGENT_MAX_PROCS; i++) {
            struct agent_proc *p = &a->procs[i];
            if (!p->used || p->pid != pid || p->reaped) continue;
            p->reaped = true;
            p->status = st;
            if (p->main) agent_stop(a, false);   /* the container is over: the rest is killed */
        }
    }
}

/* Reaped processes: drain what their pipes still hold, then report EXIT. */
static void finish_procs(struct agent *a) {
    struct hull_err err = {0};
    for (int i = 0; i < AGENT_MAX_PROCS; i++) {
        struct agent_proc *p = &a->procs[i];
        if (!p->used || !p->reaped) continue;
        for (int w = 1; w <= 2; w++) {
            int *fd = w == 1 ? &p->out_fd : &p->err_fd;
            while (*fd >= 0 && hull_agent_buf_pending(sink(a, p, w)) < AGENT_OUT_HIGH)
                if (!read_output(a, p, w)) agent_close_fd(fd);   /* EAGAIN after exit: nothing more will come */
        }
        if (p->out_fd >= 0 || p->err_fd >= 0) continue;
        if (p->ports && (hull_agent_buf_pending(&a->port_q[1]) || hull_agent_buf_pending(&a->port_q[2]))) continue;
        struct hull_agent_exit x = {.stdout_bytes = p->out_bytes, .stderr_bytes = p->err_bytes};
        x.status = WIFSIGNALED(p->status) ? hull_agent_status_signaled(WTERMSIG(p->status))
                                          : hull_agent_status_exited(WEXITSTATUS(p->status));
        p->unacked += (uint32_t)hull_agent_buf_pending(&p->in_q);
        agent_stdin_ack(a, p, true);
        agent_must(a, hull_agent_put_exit(&a->ctl_q, p->id, &x, &err), &err);
        agent_proc_release(p);
    }
}

static bool all_reported(struct agent *a) {
    for (int i = 0; i < AGENT_MAX_PROCS; i++)
        if (a->procs[i].used) return false;
    return true;
}

int agent_run(struct agent *a) {
    hull_agent_decoder_init(&a->dec, HULL_AGENT_FROM_HOST, 0);
    for (;;) {
        finish_procs(a);
        long long now = agent_now_ms();
        bool flushed = a->ctl_eof || !hull_agent_buf_pending(&a->ctl_q);
        for (int w = 1; w <= 2; w++) flushed = flushed && (a->port_fd[w] < 0 || !hull_agent_buf_pending(&a->port_q[w]));
        if (a->stopping && all_reported(a) && flushed) {
            if (a->poweroff || a->ctl_eof) break;
            if (!a->stop_deadline) a->stop_deadline = now + AGENT_POWEROFF_WAIT_MS;
        }
        if ((a->stop_deadline && now >= a->stop_deadline) || (a->stopping && now >= a->hard_deadline)) break;

        struct pollfd pf[4 + 3 * AGENT_MAX_PROCS];
        struct agent_proc *owner[4 + 3 * AGENT_MAX_PROCS];
        int kind[4 + 3 * AGENT_MAX_PROCS];
        nfds_t n = 0;
#define ADD(f, ev, o, k) do { pf[n] = (struct pollfd){.fd = (f), .events = (ev)}; owner[n] = (o); kind[n] = (k); n++; } while (0)
        ADD(a->sig_fd, POLLIN, NULL, 0);
        if (!a->ctl_eof)
            ADD(a->ctl_fd, (short)((a->fatal ? 0 : POLLIN) | (hull_agent_buf_pending(&a->ctl_q) ? POLLOUT : 0)), NULL, 1);
        for (int w = 1; w <= 2; w++)
            if (a->port_fd[w] >= 0 && hull_agent_buf_pending(&a->port_q[w])) ADD(a->port_fd[w], POLLOUT, NULL, 10 + w);
        bool want_port_in = a->stopping;   /* after the end, host input is read and dropped */
        for (int i = 0; i < AGENT_MAX_PROCS; i++) {
            struct agent_proc *p = &a->procs[i];
            if (!p->used) continue;
            if (p->out_fd >= 0 && hull_agent_buf_pending(sink(a, p, 1)) < AGENT_OUT_HIGH) ADD(p->out_fd, POLLIN, p, 1);
            if (p->err_fd >= 0 && hull_agent_buf_pending(sink(a, p, 2)) < AGENT_OUT_HIGH) ADD(p->err_fd, POLLIN, p, 2);
            if (p->in_fd >= 0 && hull_agent_buf_pending(&p->in_q)) ADD(p->in_fd, POLLOUT, p, 0);
            if (p->main && p->ports && (p->in_fd < 0 || hull_agent_buf_pending(&p->in_q) < HULL_AGENT_STDIN_WINDOW))
                want_port_in = true;   /* a closed stdin drops what comes, like MUX */
        }
        /* Before START, host input stays in the port until there is a process to feed. */
        if (a->port_fd[0] >= 0 && want_port_in)
            ADD(a->port_fd[0], POLLIN, NULL, 10);
#undef ADD
        int timeout = -1;
        long long until = a->stop_deadline ? a->stop_deadline : (a->stopping ? a->hard_deadline : 0);
        if (until) timeout = until > now ? (int)(until - now) : 0;
        int r = poll(pf, n, timeout);
        if (r < 0 && errno != EINTR) {
            agent_fatal(a, errno, "agent: poll failed");
            break;
        }
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            short re = pf[i].revents;
            if (!re) continue;
            struct agent_proc *p = owner[i];
            if (!p) {
                if (kind[i] == 0) reap(a);
                else if (kind[i] == 1) {
                    if (re & POLLOUT && !flush(a->ctl_fd, &a->ctl_q)) {
                        a->ctl_eof = true;
                        agent_stop(a, true);
                    }
                    if (re & (POLLIN | POLLHUP | POLLERR) && !a->ctl_eof && !a->fatal) read_ctl(a);
                } else if (kind[i] == 10) {
                    read_stdin_port(a);
                } else if (!flush(a->port_fd[kind[i] - 10], &a->port_q[kind[i] - 10])) {
                    agent_close_fd(&a->port_fd[kind[i] - 10]);   /* host end gone: output is dropped */
                    hull_agent_buf_free(&a->port_q[kind[i] - 10]);
                }
                continue;
            }
            if (!p->used) continue;   /* released while handling an earlier fd */
            if (kind[i] == 0) write_stdin(a, p);
            else if (re & (POLLIN | POLLHUP | POLLERR)) read_output(a, p, kind[i]);
        }
        /* Queued frames go out as soon as possible, not only on the next POLLOUT. */
        if (!a->ctl_eof && hull_agent_buf_pending(&a->ctl_q) && !flush(a->ctl_fd, &a->ctl_q)) {
            a->ctl_eof = true;
            agent_stop(a, true);
        }
    }
    /* Last words (an ERROR) get a short chance to leave. */
    for (long long end = agent_now_ms() + 2000; !a->ctl_eof && hull_agent_buf_pending(&a->ctl_q);) {
        long long left = end - agent_now_ms();
        struct pollfd pw = {.fd = a->ctl_fd, .events = POLLOUT};
        if (left <= 0 || poll(&pw, 1, (int)left) <= 0 || !flush(a->ctl_fd, &a->ctl_q)) break;
    }
    agent_kill_all(a);
    hull_agent_decoder_free(&a->dec);
    return a->exit_code;
}
