/* agent-drive: plays the host side of the agent protocol against a hull-agent
 * started in test mode (--test-fds) over socketpairs — a tiny `hull run --vm`
 * without the VM, for tests/integration/23-vm-agent.t.
 *
 *   agent-drive [options] AGENT ROOTFS CONFIG [STEP...]
 *     --ports          stdio on three extra "port" socketpairs (PORTS mode)
 *     --events FILE    one line per event: STARTED id pid | EXIT id code out err |
 *                      ERROR id req code fatal msg | PS tag n pid... | HELLO version release
 *     --raw FILE       after HELLO send FILE's bytes as they are (no START)
 *     --raw-after FILE after STARTED send FILE's bytes
 *     --connect CTL[,IN,OUT,ERR]  talk to an agent in a VM through unix sockets (e.g. qemu
 *                      virtserialport chardevs) instead of starting AGENT (give "-")
 *     --exec-out FILE  EXEC processes' stdout/stderr go here instead of stdout/stderr
 *     --block DEV      START with an erofs block-device root (in the guest), plus
 *     --upper DEV|tmpfs  its writable layer: an ext4 block device or tmpfs
 *   Steps, run in order once the main process has started:
 *     exec:FILE   EXEC the process JSON in FILE (next exec id), wait for its EXIT or ERROR;
 *                 its output goes to stdout/stderr like the main process's
 *     ps          PS_REQUEST, wait for the reply
 *     signal:N    SIGNAL the main process;  signal-all:N  every process
 *     resize:R,C  RESIZE the main process's terminal
 *     sleep:MS
 *     wait-out:N  until N bytes of the main process's stdout arrived
 *
 * The driver's stdin is the container's stdin (flow-controlled in MUX mode).
 * Exit status: the main process's (code, or 128+signal); 125 if it never ran or
 * the agent failed; 124 on the 120 s timeout. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vm/proto/agent_proto.h"

static FILE *events;
static struct hull_agent_buf q, port_in_q;
static struct hull_err err;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what) {
    fprintf(stderr, "agent-drive: %s: %s\n", what, err.msg[0] ? err.msg : strerror(errno));
    exit(125);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 > cap) buf = realloc(buf, cap = cap * 2 + 65536);
        size_t n = fread(buf + *len, 1, cap - *len, f);
        if (!n) break;
        *len += n;
    }
    fclose(f);
    return buf;
}

static void write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv) {
    bool ports = false;
    int exec_out = -1;
    const char *raw = NULL, *raw_after = NULL, *connect_to = NULL, *block = NULL, *upper = NULL;
    int ai = 1;
    for (; ai < argc && argv[ai][0] == '-' && argv[ai][1] == '-'; ai++) {
        if (!strcmp(argv[ai], "--ports")) ports = true;
        else if (!strcmp(argv[ai], "--events") && ai + 1 < argc) events = fopen(argv[++ai], "w");
        else if (!strcmp(argv[ai], "--raw") && ai + 1 < argc) raw = argv[++ai];
        else if (!strcmp(argv[ai], "--raw-after") && ai + 1 < argc) raw_after = argv[++ai];
        else if (!strcmp(argv[ai], "--connect") && ai + 1 < argc) connect_to = argv[++ai];
        else if (!strcmp(argv[ai], "--block") && ai + 1 < argc) block = argv[++ai];
        else if (!strcmp(argv[ai], "--exec-out") && ai + 1 < argc) {
            exec_out = open(argv[++ai], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (exec_out < 0) die(argv[ai]);
        }
        else if (!strcmp(argv[ai], "--upper") && ai + 1 < argc) upper = argv[++ai];
        else break;
    }
    if (argc - ai < 3) {
        fprintf(stderr, "usage: agent-drive [--ports] [--events F] [--raw F] [--raw-after F] AGENT ROOTFS CONFIG [STEP...]\n");
        return 2;
    }
    const char *agent = argv[ai], *rootfs = argv[ai + 1], *config = argv[ai + 2];
    char **steps = argv + ai + 3;
    int nsteps = argc - ai - 3, step = 0;
    if (!events) events = fopen("/dev/null", "w");
    setvbuf(events, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    int ctl[2], pt[3][2];
    int cfd, pfd[3] = {-1, -1, -1};
    pid_t apid = -1;
    if (connect_to) {
        char list[4096];
        snprintf(list, sizeof list, "%s", connect_to);
        int k = 0;
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t && k < 4; t = strtok_r(NULL, ",", &save), k++) {
            struct sockaddr_un sa = {.sun_family = AF_UNIX};
            snprintf(sa.sun_path, sizeof sa.sun_path, "%s", t);
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die(t);
            if (k == 0) cfd = fd;
            else pfd[k - 1] = fd;
        }
        if (k != 1 && k != 4) die("--connect wants 1 or 4 sockets");
        ports = k == 4;
        goto connected;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) die("socketpair");
    for (int i = 0; i < 3; i++)
        if (ports && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pt[i]) < 0) die("socketpair");
    apid = fork();
    if (apid == 0) {
        char fds[64];
        int keep[4] = {ctl[1], ports ? pt[0][1] : -1, ports ? pt[1][1] : -1, ports ? pt[2][1] : -1};
        for (int i = 0; i < 4; i++)
            if (keep[i] >= 0) fcntl(keep[i], F_SETFD, 0);
        if (ports) snprintf(fds, sizeof fds, "%d,%d,%d,%d", keep[0], keep[1], keep[2], keep[3]);
        else snprintf(fds, sizeof fds, "%d", keep[0]);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);   /* the container's stdin comes through the protocol only */
        execl(agent, agent, "--test-fds", fds, (char *)NULL);
        _exit(127);
    }
    close(ctl[1]);
    cfd = ctl[0];
    for (int i = 0; i < 3 && ports; i++) {
        close(pt[i][1]);
        pfd[i] = pt[i][0];
    }
connected:;

    struct hull_agent_decoder dec;
    hull_agent_decoder_init(&dec, HULL_AGENT_FROM_GUEST, HULL_AGENT_GUEST_MAX_PAYLOAD);
    bool hello = false, started = false, main_exited = false, stdin_eof = false, agent_gone = false;
    bool step_busy = false, poweroff_sent = false;
    int code = 125;
    uint32_t window = 0, next_id = 2, waiting_id = 0;
    uint64_t port_in_bytes = 0, want_out = 0, want_err = 0, got_out = 0, got_err = 0;
    long long deadline = now_ms() + 120000, step_until = 0;
    uint64_t wait_out = 0;
    size_t cfg_len;
    char *cfg = slurp(config, &cfg_len);

    while (!agent_gone) {
        long long now = now_ms();
        if (now > deadline) {
            fprintf(stderr, "agent-drive: timeout\n");
            if (apid > 0) kill(apid, SIGKILL), waitpid(apid, NULL, 0);
            return 124;
        }
        /* Scripted steps, one at a time, once the container runs. */
        if (started && !main_exited && !step_busy && step < nsteps) {
            const char *s = steps[step++];
            if (!strncmp(s, "exec:", 5)) {
                size_t l;
                char *j = slurp(s + 5, &l);
                waiting_id = next_id++;
                if (hull_agent_put_exec(&q, waiting_id, j, l, &err) < 0) die("exec");
                free(j);
                step_busy = true;
            } else if (!strcmp(s, "ps")) {
                waiting_id = 900;
                if (hull_agent_put_ps_request(&q, waiting_id, &err) < 0) die("ps");
                step_busy = true;
            } else if (!strncmp(s, "signal:", 7) || !strncmp(s, "signal-all:", 11)) {
                bool all = s[6] == '-';
                if (hull_agent_put_signal(&q, 1, atoi(strchr(s, ':') + 1), all ? HULL_AGENT_SIG_ALL : 0, &err) < 0)
                    die("signal");
            } else if (!strncmp(s, "resize:", 7)) {
                unsigned rows = 0, cols = 0;
                sscanf(s + 7, "%u,%u", &rows, &cols);
                if (hull_agent_put_resize(&q, 1, (uint16_t)rows, (uint16_t)cols, &err) < 0) die("resize");
            } else if (!strncmp(s, "wait-out:", 9)) {
                wait_out = strtoull(s + 9, NULL, 10);
                step_busy = true;
            } else if (!strncmp(s, "sleep:", 6)) {
                step_until = now + atoi(s + 6);
                step_busy = true;
            }
        }
        if (step_until && now >= step_until) step_until = 0, step_busy = false;
        if (wait_out && got_out >= wait_out) wait_out = 0, step_busy = false;
        /* All output of the main process is in: tell the agent to power off. */
        if (main_exited && !poweroff_sent && got_out >= want_out && got_err >= want_err) {
            if (hull_agent_put_poweroff(&q, &err) < 0) die("poweroff");
            poweroff_sent = true;
        }

        struct pollfd pf[6];
        int n = 0;
        pf[n++] = (struct pollfd){.fd = cfd, .events = (short)(POLLIN | (hull_agent_buf_pending(&q) ? POLLOUT : 0))};
        int in_idx = -1;
        bool room = ports ? hull_agent_buf_pending(&port_in_q) < 65536 : window < HULL_AGENT_STDIN_WINDOW;
        if (started && !stdin_eof && room) {
            in_idx = n;
            pf[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
        }
        int port_idx = n;
        for (int i = 0; i < 3 && ports; i++)
            pf[n++] = (struct pollfd){.fd = pfd[i], .events = (short)(i == 0 ? (hull_agent_buf_pending(&port_in_q) ? POLLOUT : 0)
                                                                             : POLLIN)};
        int timeout = 100;
        if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR) die("poll");

        if (pf[0].revents & POLLOUT) {
            ssize_t w = write(cfd, q.data + q.off, hull_agent_buf_pending(&q));
            if (w > 0) hull_agent_buf_consume(&q, (size_t)w);
        }
        if (in_idx >= 0 && pf[in_idx].revents) {
            char buf[16384];
            size_t max = ports ? sizeof buf : HULL_AGENT_STDIN_WINDOW - window;
            if (max > sizeof buf) max = sizeof buf;
            ssize_t r = read(0, buf, max);
            if (r > 0 && ports) {
                hull_agent_buf_append(&port_in_q, buf, (size_t)r, &err);
                port_in_bytes += (uint64_t)r;
            } else if (r > 0) {
                hull_agent_put_data(&q, HULL_AGENT_STDIN, 1, buf, (size_t)r, &err);
                window += (uint32_t)r;
            } else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
                stdin_eof = true;
                hull_agent_put_stdin_close(&q, 1, ports ? port_in_bytes : 0, &err);
            }
        }
        for (int i = 0; i < 3 && ports; i++) {
            short re = pf[port_idx + i].revents;
            if (i == 0 && (re & POLLOUT)) {
                ssize_t w = write(pfd[0], port_in_q.data + port_in_q.off, hull_agent_buf_pending(&port_in_q));
                if (w > 0) hull_agent_buf_consume(&port_in_q, (size_t)w);
            } else if (i > 0 && (re & (POLLIN | POLLHUP))) {
                char buf[65536];
                ssize_t r = read(pfd[i], buf, sizeof buf);
                if (r > 0) {
                    write_all(i, buf, (size_t)r);
                    if (i == 1) got_out += (uint64_t)r;
                    else got_err += (uint64_t)r;
                }
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t buf[65536];
            ssize_t r = read(cfd, buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                if (hull_agent_decoder_finish(&dec, &err) < 0) fprintf(events, "TRUNCATED %s\n", err.msg);
                agent_gone = true;
                break;
            }
            for (size_t off = 0; off < (size_t)r;) {
                struct hull_agent_msg m;
                size_t used;
                int rc = hull_agent_decode(&dec, buf + off, (size_t)r - off, &used, &m, &err);
                if (rc < 0) {
                    fprintf(events, "BADFRAME %s\n", err.msg);
                    if (apid > 0) kill(apid, SIGKILL), waitpid(apid, NULL, 0);
                    return 125;
                }
                off += used;
                if (rc == 0) break;
                switch (m.type) {
                case HULL_AGENT_HELLO: {
                    fprintf(events, "HELLO %s %s\n", m.u.hello.agent_version, m.u.hello.kernel_release);
                    hello = true;
                    if (raw) {
                        size_t l;
                        char *b = slurp(raw, &l);
                        hull_agent_buf_append(&q, b, l, &err);
                        free(b);
                        break;
                    }
                    struct hull_agent_start s = {.root_kind = HULL_AGENT_ROOT_DIR, .config = cfg,
                                                 .config_len = (uint32_t)cfg_len,
                                                 .stdio = ports ? HULL_AGENT_STDIO_PORTS : HULL_AGENT_STDIO_MUX};
                    snprintf(s.root_source, sizeof s.root_source, "%s", block ? block : rootfs);
                    if (block) {
                        s.root_kind = HULL_AGENT_ROOT_BLOCK;
                        s.root_fs = HULL_AGENT_FS_EROFS;
                        s.upper_kind = !upper ? HULL_AGENT_UPPER_NONE
                                     : !strcmp(upper, "tmpfs") ? HULL_AGENT_UPPER_TMPFS : HULL_AGENT_UPPER_BLOCK;
                        if (s.upper_kind == HULL_AGENT_UPPER_BLOCK) {
                            s.upper_fs = HULL_AGENT_FS_EXT4;
                            snprintf(s.upper_source, sizeof s.upper_source, "%s", upper);
                        }
                    }
                    if (hull_agent_put_start(&q, 1, &s, &err) < 0) die("start");
                    break;
                }
                case HULL_AGENT_STARTED:
                    fprintf(events, "STARTED %u %u\n", m.id, m.u.started_pid);
                    if (m.id == 1) {
                        started = true;
                        if (raw_after) {
                            size_t l;
                            char *b = slurp(raw_after, &l);
                            hull_agent_buf_append(&q, b, l, &err);
                            free(b);
                        }
                    }
                    break;
                case HULL_AGENT_STDOUT:
                case HULL_AGENT_STDERR:
                    write_all(m.id != 1 && exec_out >= 0 ? exec_out : m.type == HULL_AGENT_STDOUT ? 1 : 2,
                              m.u.data.bytes, m.u.data.len);
                    if (m.id == 1 && m.type == HULL_AGENT_STDOUT) got_out += m.u.data.len;
                    if (m.id == 1 && m.type == HULL_AGENT_STDERR) got_err += m.u.data.len;
                    break;
                case HULL_AGENT_STDIN_ACK:
                    if (m.id == 1) window = m.u.stdin_ack > window ? 0 : window - m.u.stdin_ack;
                    break;
                case HULL_AGENT_EXIT:
                    fprintf(events, "EXIT %u %d %llu %llu\n", m.id, hull_agent_status_code(m.u.exit.status),
                            (unsigned long long)m.u.exit.stdout_bytes, (unsigned long long)m.u.exit.stderr_bytes);
                    if (m.id == 1) {
                        main_exited = true;
                        code = hull_agent_status_code(m.u.exit.status);
                        want_out = m.u.exit.stdout_bytes;
                        want_err = m.u.exit.stderr_bytes;
                    }
                    if (m.id == waiting_id) step_busy = false;
                    break;
                case HULL_AGENT_PS_REPLY:
                    fprintf(events, "PS %u %u", m.id, m.u.ps.count);
                    for (uint32_t i = 0; i < m.u.ps.count; i++) fprintf(events, " %u", hull_agent_ps_pid(&m, i));
                    fprintf(events, "\n");
                    if (m.id == waiting_id) step_busy = false;
                    break;
                case HULL_AGENT_ERROR:
                    fprintf(events, "ERROR %u %s %u %s %s\n", m.id, m.u.error.req_type ? hull_agent_type_name(m.u.error.req_type) : "-",
                            m.u.error.code, (m.flags & HULL_AGENT_F_FATAL) ? "fatal" : "-", m.u.error.message);
                    if (m.id == waiting_id) step_busy = false;
                    if (m.id == 1 && m.u.error.req_type == HULL_AGENT_START && !poweroff_sent) {
                        hull_agent_put_poweroff(&q, &err);
                        poweroff_sent = true;
                    }
                    break;
                default:
                    break;
                }
            }
        }
    }
    (void)hello;
    int st = 0;
    if (apid > 0) {
        waitpid(apid, &st, 0);
        fprintf(events, "AGENT %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    } else {
        fprintf(events, "AGENT gone\n");
    }
    hull_agent_decoder_free(&dec);
    free(cfg);
    return code;
}
