/* The monitor's clients on <state>/vm.sock: hull's verbs (start, kill, ps,
 * delete) and exec proxies. Replies are queued per client and written
 * without blocking, so a client that stops reading holds up only itself
 * (and, past MON_QUEUE_MAX of queued output, the guest's control stream). */
#include "vm/executor/monitor.h"

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct mon_client *mon_client_find(struct mon *m, enum mon_client_kind kind, uint32_t id) {
    for (int i = 0; i < MON_MAX_CLIENTS; i++)
        if (m->cl[i].fd >= 0 && m->cl[i].kind == kind && m->cl[i].id == id) return &m->cl[i];
    return NULL;
}

void mon_client_close(struct mon *m, struct mon_client *c) {
    struct hull_err err = {0};
    if (c->kind == MC_EXEC && c->running && !c->exited && !c->stdin_closed && m->phase == MON_RUNNING)
        mon_must(m, hull_agent_put_stdin_close(&m->q, c->id, 0, &err), &err);   /* its stdin is gone */
    for (struct mon_pkt *p = c->head, *nx; p; p = nx) {
        nx = p->next;
        free(p);
    }
    m->queued_total -= c->queued;
    close(c->fd);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

void mon_client_flush(struct mon *m, struct mon_client *c) {
    while (c->head) {
        struct mon_pkt *p = c->head;
        ssize_t w = send(c->fd, p->data, p->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (w < 0) {   /* the client is gone */
            mon_client_close(m, c);
            return;
        }
        c->head = p->next;
        if (!c->head) c->tail = NULL;
        c->queued -= p->len;
        m->queued_total -= p->len;
        free(p);
    }
}

int mon_client_send(struct mon *m, struct mon_client *c, uint32_t type, int32_t a, uint32_t b, const void *data,
                    size_t len) {
    struct mon_pkt *p = malloc(sizeof *p + VMC_HDR_SIZE + len);
    if (!p) return -ENOMEM;
    p->len = vmc_encode(p->data, VMC_HDR_SIZE + len, type, a, b, data, len);
    if (!p->len) {
        free(p);
        return -EMSGSIZE;
    }
    p->next = NULL;
    if (c->tail) c->tail->next = p;
    else c->head = p;
    c->tail = p;
    c->queued += p->len;
    m->queued_total += p->len;
    mon_client_flush(m, c);
    return 0;
}

void mon_client_error(struct mon *m, struct mon_client *c, int code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
    mon_client_send(m, c, VMC_ERROR, code, 0, msg, (size_t)n);
}

void mon_exec_maybe_finish(struct mon *m, struct mon_client *c, bool force) {
    if (!c->exited || c->closing) return;
    if (!force && (c->got_out < c->want_out || c->got_err < c->want_err)) return;
    mon_client_send(m, c, VMC_EXIT, (int32_t)c->status, 0, NULL, 0);
    c->closing = true;
}

void mon_accept(struct mon *m) {
    for (;;) {
        int fd = accept4(m->c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        /* the state dir is root's alone, and so are these verbs */
        struct ucred cr;
        socklen_t l = sizeof cr;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0 || (cr.uid != 0 && cr.uid != geteuid())) {
            close(fd);
            continue;
        }
        struct mon_client *c = NULL;
        for (int i = 0; i < MON_MAX_CLIENTS && !c; i++)
            if (m->cl[i].fd < 0) c = &m->cl[i];
        if (!c) {   /* full: refuse with a reason rather than a hang */
            uint8_t pkt[128];
            static const char busy[] = "the VM monitor has too many clients";
            size_t n = vmc_encode(pkt, sizeof pkt, VMC_ERROR, EBUSY, 0, busy, sizeof busy - 1);
            send(fd, pkt, n, MSG_DONTWAIT | MSG_NOSIGNAL);
            close(fd);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->kind = MC_NEW;
    }
}

/* Signals that end a process by default: they end a created container too
 * (its "init" is the idle VM). */
static bool ends_created(int sig) {
    return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGUSR1 ||
           sig == SIGUSR2 || sig == SIGALRM || sig == SIGABRT;
}

int mon_signal(struct mon *m, int sig, bool all, struct hull_err *err) {
    if (sig < 1 || sig > 64) return hull_err_set(err, EINVAL, "signal %d out of range", sig);
    switch (m->phase) {
    case MON_CREATED:
        if (ends_created(sig)) mon_end(m, hull_agent_status_signaled(sig));
        return 0;
    case MON_STARTING:
    case MON_RUNNING:
        return hull_agent_put_signal(&m->q, 1, sig, all ? HULL_AGENT_SIG_ALL : 0, err);
    default:
        if (all) return 0;
        return hull_err_set(err, ESRCH, "the container is not running");
    }
}

static void on_request(struct mon *m, struct mon_client *c, const struct vmc_msg *r) {
    struct hull_err err = {0};
    if (c->kind == MC_EXEC) {   /* the exec stream */
        switch (r->type) {
        case VMC_STDIN:
            if (c->stdin_closed || c->exited) return;
            if (c->window + r->len > HULL_AGENT_STDIN_WINDOW) {
                mon_client_close(m, c);   /* the proxy broke the window: a broken client */
                return;
            }
            mon_must(m, hull_agent_put_data(&m->q, HULL_AGENT_STDIN, c->id, r->data, r->len, &err), &err);
            c->window += r->len;
            return;
        case VMC_STDIN_CLOSE:
            if (!c->stdin_closed && !c->exited)
                mon_must(m, hull_agent_put_stdin_close(&m->q, c->id, 0, &err), &err);
            c->stdin_closed = true;
            return;
        case VMC_SIGNAL:
            if (c->running && !c->exited && r->a >= 1 && r->a <= 64)
                mon_must(m, hull_agent_put_signal(&m->q, c->id, r->a, 0, &err), &err);
            return;
        case VMC_RESIZE:
            if (c->running && !c->exited && r->a > 0 && r->a <= 0xffff && r->b > 0 && r->b <= 0xffff)
                mon_must(m, hull_agent_put_resize(&m->q, c->id, (uint16_t)r->a, (uint16_t)r->b, &err), &err);
            return;
        default:
            mon_client_close(m, c);
            return;
        }
    }
    if (c->kind != MC_NEW) {   /* one request per connection otherwise */
        mon_client_close(m, c);
        return;
    }
    switch (r->type) {
    case VMC_START:
        if (m->phase != MON_CREATED) {
            mon_client_error(m, c, EINVAL, "the container is %s", m->phase == MON_STARTING ? "being started" : "not created");
            c->closing = true;
            return;
        }
        c->kind = MC_START;
        struct hull_agent_start s = {
            .root_kind = m->c->root_dir ? HULL_AGENT_ROOT_DIR : HULL_AGENT_ROOT_BLOCK,
            .root_fs = m->c->root_dir ? HULL_AGENT_FS_NONE : m->c->root_fs,
            .upper_kind = m->c->root_dir ? HULL_AGENT_UPPER_NONE : HULL_AGENT_UPPER_BLOCK,
            .upper_fs = m->c->root_dir ? HULL_AGENT_FS_NONE : HULL_AGENT_FS_EXT4,
            .stdio = HULL_AGENT_STDIO_PORTS,
            .config = m->c->config, .config_len = (uint32_t)m->c->config_len,
        };
        snprintf(s.root_source, sizeof s.root_source, "%s", m->c->root_source);
        if (!m->c->root_dir) snprintf(s.upper_source, sizeof s.upper_source, "/dev/vdb");
        mon_must(m, hull_agent_put_start(&m->q, 1, &s, &err), &err);
        m->phase = MON_STARTING;
        return;
    case VMC_SIGNAL:
        if (mon_signal(m, r->a, r->b & VMC_SIG_ALL, &err) < 0) mon_client_error(m, c, err.code, "%s", err.msg);
        else mon_client_send(m, c, VMC_OK, 0, 0, NULL, 0);
        c->closing = true;
        return;
    case VMC_PS:
        if (m->phase != MON_RUNNING) {   /* no process in the guest (yet, or any more) */
            mon_client_send(m, c, VMC_PIDS, 0, 0, NULL, 0);
            c->closing = true;
            return;
        }
        c->kind = MC_PS;
        c->id = m->next_tag++;
        mon_must(m, hull_agent_put_ps_request(&m->q, c->id, &err), &err);
        return;
    case VMC_EXEC:
        if (m->phase != MON_RUNNING) {
            mon_client_error(m, c, ESRCH, "the container is not running");
            c->closing = true;
            return;
        }
        c->kind = MC_EXEC;
        c->id = m->next_exec_id++;
        mon_must(m, hull_agent_put_exec(&m->q, c->id, (const char *)r->data, r->len, &err), &err);
        return;
    case VMC_STOP:
        c->kind = MC_STOP;   /* answered by our exit, once the VMM is gone */
        mon_kill_vmm(m);
        return;
    default:
        mon_client_close(m, c);
        return;
    }
}

void mon_client_read(struct mon *m, struct mon_client *c) {
    static uint8_t buf[VMC_MAX_PACKET];
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0 || (size_t)n > sizeof buf) {
        mon_client_close(m, c);
        return;
    }
    struct vmc_msg r;
    struct hull_err err;
    if (vmc_decode(buf, (size_t)n, &r, &err) < 0) {
        mon_client_close(m, c);
        return;
    }
    on_request(m, c, &r);
}

/* Best effort: what is queued for clients goes out within a second. */
static void flush_clients(struct mon *m) {
    long long end = mon_now_ms() + 1000;
    for (;;) {
        struct pollfd p[MON_MAX_CLIENTS];
        struct mon_client *w[MON_MAX_CLIENTS];
        nfds_t n = 0;
        for (int i = 0; i < MON_MAX_CLIENTS; i++)
            if (m->cl[i].fd >= 0 && m->cl[i].head) {
                w[n] = &m->cl[i];
                p[n++] = (struct pollfd){.fd = m->cl[i].fd, .events = POLLOUT};
            }
        long long left = end - mon_now_ms();
        if (!n || left <= 0 || poll(p, n, (int)left) <= 0) return;
        for (nfds_t i = 0; i < n; i++)
            if (p[i].revents) mon_client_flush(m, w[i]);
    }
}

void mon_clients_last_words(struct mon *m, const char *why) {
    for (int i = 0; i < MON_MAX_CLIENTS; i++) {
        struct mon_client *c = &m->cl[i];
        if (c->fd < 0) continue;
        if (c->kind == MC_EXEC && c->exited) mon_exec_maybe_finish(m, c, true);
        else if (c->kind != MC_STOP && why) mon_client_error(m, c, EIO, "%s", why);
    }
    flush_clients(m);
}
