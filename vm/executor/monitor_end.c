/* How the monitor ends, and the primitives every part of it uses on the way:
 * the exit status to the VMM, POWEROFF to the agent, killing the VMM, the
 * last words to create and to the clients (through m->clients_last_words, so
 * this file needs nothing of monitor_clients.c), then _exit. */
#include "vm/executor/monitor.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"

long long mon_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* false when create is gone (killed mid-way): nobody will ever own this VM. */
bool mon_report(struct mon *m, const char *text) {
    if (m->ready_sent) return true;
    m->ready_sent = true;
    bool ok = hull_write_all(m->c->ready_fd, text, strlen(text)) == 0;
    close(m->c->ready_fd);
    return ok;
}

void mon_kill_vmm(struct mon *m) {
    if (!m->vmm_gone) syscall(SYS_pidfd_send_signal, m->vmm_pidfd, SIGKILL, NULL, 0);
}

void mon_finish(struct mon *m, int code, const char *why) {
    if (m->clients_last_words) m->clients_last_words(m, why);
    /* whatever the VMM wrote last is on its way to the caller's stdio */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    if (m->th_out_ok) pthread_timedjoin_np(m->th_out, NULL, &ts);
    if (m->th_err_ok) pthread_timedjoin_np(m->th_err, NULL, &ts);
    _exit(code);
}

void mon_fail(struct mon *m, const char *fmt, ...) {
    char msg[HULL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + 1, sizeof msg - 1, fmt, ap);
    va_end(ap);
    msg[0] = 'E';
    mon_report(m, msg);
    mon_kill_vmm(m);
    mon_finish(m, 1, msg + 1);
}

void mon_must(struct mon *m, int rc, const struct hull_err *err) {
    if (rc < 0) mon_fail(m, "VM monitor: %s", err->msg);
}

void mon_end(struct mon *m, uint32_t status) {
    struct hull_err err = {0};
    if (!m->status_sent) {
        m->status_sent = true;
        send(m->c->link_fd, &status, sizeof status, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (m->phase != MON_ENDING) mon_must(m, hull_agent_put_poweroff(&m->q, &err), &err);
    m->phase = MON_ENDING;
    m->end_deadline = mon_now_ms() + MON_POWEROFF_MS;
}
