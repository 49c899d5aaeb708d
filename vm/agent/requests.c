/* The host's requests (START, EXEC, SIGNAL, RESIZE, STDIN, STDIN_CLOSE,
 * PS_REQUEST, POWEROFF, ERROR), dispatched by the loop once a frame has been
 * decoded and validated. Replies are queued on ctl_q. */
#include "vm/agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define ACK_BATCH (32u << 10)   /* acknowledge stdin in batches, or when the queue empties */

static void handle_start(struct agent *a, const struct hull_agent_msg *m) {
    struct hull_err err = {0};
    const struct hull_agent_start *s = &m->u.start;
    if (a->started) {
        agent_send_error(a, m->id, HULL_AGENT_START, EBUSY, false, "START: the container was already started");
        return;
    }
    a->started = true;
    int rc = hull_spec_parse(s->config, s->config_len, &a->spec, &err);
    if (rc == 0) rc = hull_spec_validate(a->spec, &err);
    if (rc == 0 && !a->spec->has_process)
        rc = hull_err_set(&err, EINVAL, "config.json: process: required to start a container");
    if (rc == 0 && s->stdio == HULL_AGENT_STDIO_PORTS && (a->port_fd[0] < 0 || a->port_fd[1] < 0 || a->port_fd[2] < 0))
        rc = hull_err_set(&err, ENODEV, "START: stdio on ports, but the %s/%s/%s console ports are missing",
                          HULL_AGENT_PORT_STDIN, HULL_AGENT_PORT_STDOUT, HULL_AGENT_PORT_STDERR);
    if (rc == 0) {
        if (a->pid1) {
            rc = guest_mount_rootfs(a, s, &err);
        } else if (s->root_kind != HULL_AGENT_ROOT_DIR) {
            rc = hull_err_set(&err, EINVAL, "START: a block-device rootfs needs the guest (test mode takes a directory)");
        } else if (!realpath(s->root_source, a->rootfs)) {
            rc = hull_err_sys(&err, "START: rootfs %s", s->root_source);
        }
    }
    struct agent_proc *p = NULL;
    if (rc == 0 && !(p = agent_proc_new(a, m->id))) rc = hull_err_set(&err, EAGAIN, "START: process table full");
    if (rc == 0) {
        p->main = true;
        p->ports = s->stdio == HULL_AGENT_STDIO_PORTS;
        rc = agent_spawn(a, p, a->spec, &a->spec->process, &err);
        if (rc < 0) agent_proc_release(p);
    }
    if (rc < 0) {
        agent_send_error(a, m->id, HULL_AGENT_START, rc, false, err.msg);
        agent_stop(a, false);   /* nothing will ever run in this VM */
        return;
    }
    a->main_pid = p->pid;
    agent_must(a, hull_agent_put_started(&a->ctl_q, m->id, (uint32_t)p->pid, &err), &err);
}

static void handle_exec(struct agent *a, const struct hull_agent_msg *m) {
    struct hull_err err = {0};
    struct hull_spec *owner = NULL;
    struct agent_proc *p = NULL;
    int rc = 0;
    if (!a->started || !a->spec || a->main_pid <= 0 || a->stopping)
        rc = hull_err_set(&err, ESRCH, "EXEC: the container is not running");
    else if (m->id == 0 || agent_proc_by_id(a, m->id))
        rc = hull_err_set(&err, EEXIST, "EXEC: exec id %u is 0 or in use", m->id);
    if (rc == 0) rc = hull_process_parse(m->u.exec.json, m->u.exec.len, &owner, &err);
    if (rc == 0 && !(p = agent_proc_new(a, m->id))) rc = hull_err_set(&err, EAGAIN, "EXEC: process table full");
    if (rc == 0) {
        rc = agent_spawn(a, p, a->spec, &owner->process, &err);
        if (rc < 0) agent_proc_release(p);
    }
    hull_spec_free(owner);
    if (rc < 0) {
        agent_send_error(a, m->id, HULL_AGENT_EXEC, rc, false, err.msg);
        return;
    }
    agent_must(a, hull_agent_put_started(&a->ctl_q, m->id, (uint32_t)p->pid, &err), &err);
}

static void handle_signal(struct agent *a, const struct hull_agent_msg *m) {
    struct agent_proc *p = agent_proc_by_id(a, m->id);
    int sig = (int)m->u.signal.signo;
    if (m->u.signal.flags & HULL_AGENT_SIG_ALL) {
        if (!a->started || a->main_pid <= 0) {
            agent_send_error(a, m->id, HULL_AGENT_SIGNAL, ESRCH, false, "SIGNAL: the container is not running");
            return;
        }
        agent_signal_all(a, sig);
        return;
    }
    if (!p || p->reaped) {
        char msg[96];
        snprintf(msg, sizeof msg, "SIGNAL: no running process with exec id %u", m->id);
        agent_send_error(a, m->id, HULL_AGENT_SIGNAL, ESRCH, false, msg);
        return;
    }
    if (kill(p->pid, sig) < 0 && errno != ESRCH) {
        char msg[96];
        snprintf(msg, sizeof msg, "SIGNAL: kill %d: %s", (int)p->pid, strerror(errno));
        agent_send_error(a, m->id, HULL_AGENT_SIGNAL, errno, false, msg);
    }
}

static void handle_resize(struct agent *a, const struct hull_agent_msg *m) {
    struct agent_proc *p = agent_proc_by_id(a, m->id);
    if (!p || !p->terminal || p->out_fd < 0) {
        agent_send_error(a, m->id, HULL_AGENT_RESIZE, ENOTTY, false, "RESIZE: no terminal for this exec id");
        return;
    }
    struct winsize ws = {.ws_row = m->u.resize.rows, .ws_col = m->u.resize.cols};
    if (ioctl(p->out_fd, TIOCSWINSZ, &ws) < 0)
        agent_send_error(a, m->id, HULL_AGENT_RESIZE, errno, false, "RESIZE: TIOCSWINSZ failed");
}

void agent_stdin_ack(struct agent *a, struct agent_proc *p, bool force) {
    struct hull_err err = {0};
    if (p->ports || !p->unacked || (!force && p->unacked < ACK_BATCH)) return;
    agent_must(a, hull_agent_put_stdin_ack(&a->ctl_q, p->id, p->unacked, &err), &err);
    p->unacked = 0;
}

void agent_stdin_maybe_close(struct agent_proc *p, const struct agent *a) {
    if (p->in_fd < 0 || !p->in_close || hull_agent_buf_pending(&p->in_q)) return;
    if (p->ports && a->port_in_bytes < p->in_close_at) return;
    agent_close_fd(&p->in_fd);
}

static void handle_stdin(struct agent *a, const struct hull_agent_msg *m) {
    struct hull_err err = {0};
    struct agent_proc *p = agent_proc_by_id(a, m->id);
    if (!p || p->ports) return;   /* exited already (a race, not an error); ports mode has its own stream */
    if (p->in_fd < 0 || p->in_close) {
        /* the process closed its stdin: drop, but acknowledge so the host's window moves */
        p->unacked += m->u.data.len;
        agent_stdin_ack(a, p, true);
        return;
    }
    if (hull_agent_buf_pending(&p->in_q) + m->u.data.len > 2 * HULL_AGENT_STDIN_WINDOW) {
        agent_fatal(a, EPROTO, "agent protocol: STDIN beyond the flow-control window");
        return;
    }
    agent_must(a, hull_agent_buf_append(&p->in_q, m->u.data.bytes, m->u.data.len, &err), &err);
}

void agent_handle_frame(struct agent *a, const struct hull_agent_msg *m) {
    struct hull_err err = {0};
    switch (m->type) {
    case HULL_AGENT_START: handle_start(a, m); break;
    case HULL_AGENT_EXEC: handle_exec(a, m); break;
    case HULL_AGENT_SIGNAL: handle_signal(a, m); break;
    case HULL_AGENT_RESIZE: handle_resize(a, m); break;
    case HULL_AGENT_STDIN: handle_stdin(a, m); break;
    case HULL_AGENT_STDIN_CLOSE: {
        struct agent_proc *p = agent_proc_by_id(a, m->id);
        if (p) {
            p->in_close = true;
            p->in_close_at = m->u.stdin_close_port_bytes;
            agent_stdin_maybe_close(p, a);
        }
        break;
    }
    case HULL_AGENT_PS_REQUEST: {
        pid_t pids[4096];
        uint32_t out[4096];
        size_t n = agent_descendants(getpid(), pids, 4096);
        for (size_t i = 0; i < n; i++) out[i] = (uint32_t)pids[i];
        agent_must(a, hull_agent_put_ps_reply(&a->ctl_q, m->id, out, n, &err), &err);
        break;
    }
    case HULL_AGENT_POWEROFF:
        agent_stop(a, true);
        break;
    case HULL_AGENT_ERROR:
        if (a->pid1) guest_log("host error: %s", m->u.error.message);
        if (m->flags & HULL_AGENT_F_FATAL) agent_stop(a, true);
        break;
    default:   /* the decoder only returns host-to-guest types */
        break;
    }
}

/* ---- I/O ----------------------------------------------------------------- */
