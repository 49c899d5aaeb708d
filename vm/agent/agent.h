/* hull-agent: the guest's PID 1 (see README.md). Internal header shared by
 * the agent's files; nothing outside vm/agent/ includes it. */
#ifndef HULL_VM_AGENT_AGENT_H
#define HULL_VM_AGENT_AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/spec.h"
#include "vm/proto/agent_proto.h"

#define AGENT_MAX_PROCS     64
#define AGENT_OUT_HIGH      (256u << 10)  /* stop reading a process's pipes above this much queued output */
#define AGENT_START_TIMEOUT_MS 30000      /* a child's set-up (mounts, exec) */
#define AGENT_POWEROFF_WAIT_MS 10000      /* after the last EXIT: wait this long for POWEROFF */

struct agent_proc {
    bool used;
    uint32_t id;                 /* exec id from START/EXEC */
    pid_t pid;
    bool main;                   /* the START process */
    bool terminal;
    bool ports;                  /* stdio on the dedicated console ports */
    int in_fd;                   /* its stdin (pipe write end or pty master dup); -1 once closed */
    int out_fd, err_fd;          /* its stdout/stderr read ends (pty: out_fd is the master); -1 when done */
    struct hull_agent_buf in_q;  /* stdin bytes not yet written to in_fd */
    bool in_close;               /* STDIN_CLOSE seen: close in_fd once in_q drains */
    uint64_t in_close_at;        /* PORTS: ... and once this many port bytes were forwarded */
    uint32_t unacked;            /* MUX stdin bytes written to the process, not yet acknowledged */
    uint64_t out_bytes, err_bytes;
    bool reaped;
    int status;                  /* wait status once reaped */
};

struct agent {
    bool pid1;                   /* the real guest init (else: test mode on a host) */
    bool no_pivot;               /* MS_MOVE + chroot (the initramfs root cannot be pivoted away) */
    int ctl_fd;
    int port_fd[3];              /* stdin, stdout, stderr ports; -1 when absent */
    bool ctl_eof;
    struct hull_agent_decoder dec;
    struct hull_agent_buf ctl_q;         /* frames to the host */
    struct hull_agent_buf port_q[3];     /* [1], [2]: raw output for the stdout/stderr ports */
    uint64_t port_in_bytes;              /* bytes read from the stdin port so far */
    int sig_fd;
    struct agent_proc procs[AGENT_MAX_PROCS];
    struct hull_spec *spec;              /* START's config.json */
    char rootfs[PATH_MAX];               /* the container rootfs in the agent's view */
    pid_t main_pid;
    bool started;                        /* START accepted (even if the process failed) */
    bool stopping;                       /* the container is over: drain, then power off */
    long long stop_deadline;             /* monotonic ms; 0 = not yet armed */
    bool poweroff;                       /* POWEROFF received (or the host is gone) */
    long long hard_deadline;             /* stopping: give up waiting at this point */
    bool fatal;                          /* a fatal error was reported: stop reading the host */
    int exit_code;                       /* test mode: the agent's own exit code */
};

/* loop.c */
int agent_run(struct agent *a);

/* report.c */
long long agent_now_ms(void);
/* To /dev/kmsg (the kernel console), else stderr. */
void guest_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int agent_send_error(struct agent *a, uint32_t id, uint8_t req, int code, bool fatal, const char *msg);
/* ERROR(fatal) + stop now (test mode: exit 1). */
void agent_fatal(struct agent *a, int code, const char *msg);
/* The container is over: kill what is left; now = do not wait for POWEROFF. */
void agent_stop(struct agent *a, bool now);
/* Queueing only fails for memory, which the agent cannot survive. */
void agent_must(struct agent *a, int rc, struct hull_err *err);

/* proc_table.c */
struct agent_proc *agent_proc_by_id(struct agent *a, uint32_t id);
struct agent_proc *agent_proc_new(struct agent *a, uint32_t id);
void agent_proc_release(struct agent_proc *p);
void agent_close_fd(int *fd);

/* requests.c */
void agent_handle_frame(struct agent *a, const struct hull_agent_msg *m);
/* MUX stdin credit back to the host (batched unless force). */
void agent_stdin_ack(struct agent *a, struct agent_proc *p, bool force);
/* Closes the process's stdin once STDIN_CLOSE came and everything before it was written. */
void agent_stdin_maybe_close(struct agent_proc *p, const struct agent *a);

/* spawn.c: starts the START (main) or an EXEC process; on success p->pid is
 * set and the stdio fds are open. The child's set-up errors come back in err. */
int agent_spawn(struct agent *a, struct agent_proc *p, const struct hull_spec *spec,
                const struct hull_process *proc, struct hull_err *err);

/* procs.c */
size_t agent_descendants(pid_t root, pid_t *out, size_t max);
void agent_kill_all(struct agent *a);
int agent_signal_all(struct agent *a, int sig);

/* guest.c (PID 1 only) */
int guest_early_init(struct hull_err *err);
int guest_load_modules(const char *list, const char *dir, struct hull_err *err);
int guest_find_ports(struct agent *a, int timeout_ms, struct hull_err *err);
int guest_mount_rootfs(struct agent *a, const struct hull_agent_start *s, struct hull_err *err);
void guest_poweroff(struct agent *a) __attribute__((noreturn));

#endif
