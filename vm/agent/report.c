/* What every part of the agent uses to tell and to give up: the monotonic
 * clock, the log (/dev/kmsg, else stderr), ERROR frames to the host, a fatal
 * error, and agent_stop() (the container is over). */
#include "vm/agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define HARD_STOP_MS 30000

void guest_log(const char *fmt, ...) {
    char buf[1200];
    int n = snprintf(buf, sizeof buf, "<3>hull-agent: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof buf - 1) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t w = write(fd, buf, (size_t)n);
        (void)w;
        close(fd);
    } else {
        ssize_t w = write(2, buf + 3, (size_t)n - 3);
        (void)w;
    }
}

long long agent_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queueing can only fail for memory; the agent then cannot go on. */
void agent_must(struct agent *a, int rc, struct hull_err *err) {
    if (rc < 0) {
        if (a->pid1) guest_log("fatal: %s", err->msg);
        else dprintf(2, "hull-agent: fatal: %s\n", err->msg);
        _exit(70);
    }
}

void agent_stop(struct agent *a, bool now) {
    if (!a->stopping) {
        a->stopping = true;
        a->hard_deadline = agent_now_ms() + HARD_STOP_MS;
    }
    if (now) a->poweroff = true;
    agent_kill_all(a);
}

int agent_send_error(struct agent *a, uint32_t id, uint8_t req, int code, bool fatal, const char *msg) {
    struct hull_err err = {0};
    if (code < 0) code = -code;
    agent_must(a, hull_agent_put_error(&a->ctl_q, id, req, code ? code : EIO, fatal, msg, &err), &err);
    return 0;
}

void agent_fatal(struct agent *a, int code, const char *msg) {
    agent_send_error(a, 0, 0, code, true, msg);
    a->fatal = true;
    a->exit_code = 1;
    agent_stop(a, true);
}
