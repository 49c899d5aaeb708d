/* Internal to the monitor process (monitor.c: the loop, the guest's frames,
 * the container's life; monitor_clients.c: the vm.sock clients;
 * monitor_end.c: how it ends, used by both). */
#ifndef HULL_VM_EXECUTOR_MONITOR_H
#define HULL_VM_EXECUTOR_MONITOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/proto/agent_proto.h"
#include "vm/executor/container.h"
#include "vm/executor/ctl.h"

#define MON_MAX_CLIENTS 64
/* Output queued for slow exec clients beyond this: stop reading the guest
 * until they catch up (the agent has no per-process output window). */
#define MON_QUEUE_MAX (8u << 20)
#define MON_DRAIN_MS 10000          /* wait this long for counted output after an EXIT */
#define MON_POWEROFF_MS 20000       /* then this long for the guest to go down */

enum mon_phase {
    MON_BOOTING,    /* waiting for HELLO (create is waiting for us) */
    MON_CREATED,    /* HELLO came: waiting for `start` */
    MON_STARTING,   /* START sent */
    MON_RUNNING,    /* the main process runs */
    MON_DRAINING,   /* it exited: waiting for its counted output */
    MON_ENDING,     /* POWEROFF sent: waiting for the VMM to exit */
};

struct mon_pkt {
    struct mon_pkt *next;
    size_t len;
    uint8_t data[];
};

enum mon_client_kind { MC_NEW, MC_START, MC_PS, MC_EXEC, MC_STOP };

struct mon_client {
    int fd;                         /* -1: free slot */
    enum mon_client_kind kind;
    uint32_t id;                    /* exec id (MC_EXEC) or PS tag (MC_PS) */
    bool running, exited, stdin_closed, closing;
    uint32_t status;                /* EXIT's wait status */
    uint64_t want_out, want_err, got_out, got_err;
    long long exit_deadline;
    uint32_t window;                /* STDIN bytes the agent has not acknowledged */
    struct mon_pkt *head, *tail;
    size_t queued;
};

struct mon {
    const struct vm_monitor_cfg *c;
    enum mon_phase phase;
    int vmm_pidfd, notify_fd;
    bool vmm_gone;
    struct hull_agent_decoder dec;
    struct hull_agent_buf q;        /* frames to the agent, not yet written */
    struct mon_client cl[MON_MAX_CLIENTS];
    size_t queued_total;
    uint32_t next_exec_id, next_tag;
    long long boot_deadline, drain_deadline, end_deadline;
    uint32_t main_status;
    uint64_t want_out, want_err;
    bool ready_sent, status_sent, stdin_close_sent, stdin_started;
    /* the main process's stdio ports, relayed by threads (blocking writes to
     * the caller's stdio never stall the loop) */
    _Atomic uint64_t out_bytes, err_bytes, in_bytes;
    _Atomic bool in_done;
    pthread_t th_out, th_err, th_in;
    bool th_out_ok, th_err_ok;
    /* Set by monitor.c to mon_clients_last_words: what mon_finish tells the
     * clients before the monitor exits (why: NULL for a clean end). */
    void (*clients_last_words)(struct mon *m, const char *why);
};

/* monitor_end.c */

long long mon_now_ms(void);
/* Queues a frame for the agent; a queueing failure (memory) ends the VM. */
void mon_must(struct mon *m, int rc, const struct hull_err *err);
/* The container is over: its status to the VMM (which exits with it), then
 * POWEROFF to the agent. */
void mon_end(struct mon *m, uint32_t status);
void mon_kill_vmm(struct mon *m);
/* The one-time report to create ("OK" or "E<message>"); false when create is gone. */
bool mon_report(struct mon *m, const char *text);
/* The clients' last words, the stdio relays' last output, then _exit(code). */
void mon_finish(struct mon *m, int code, const char *why) __attribute__((noreturn));
/* Something is broken beyond repair: tell create / the clients, kill the VMM, exit. */
void mon_fail(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* monitor_clients.c */
void mon_accept(struct mon *m);
void mon_client_read(struct mon *m, struct mon_client *c);
void mon_client_flush(struct mon *m, struct mon_client *c);
void mon_client_close(struct mon *m, struct mon_client *c);
int mon_client_send(struct mon *m, struct mon_client *c, uint32_t type, int32_t a, uint32_t b, const void *data,
                    size_t len);
void mon_client_error(struct mon *m, struct mon_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct mon_client *mon_client_find(struct mon *m, enum mon_client_kind kind, uint32_t id);
/* An exec client whose EXIT came: sent once its counted output is through. */
void mon_exec_maybe_finish(struct mon *m, struct mon_client *c, bool force);
/* A signal for the container (from `kill` or forwarded by the VMM). */
int mon_signal(struct mon *m, int sig, bool all, struct hull_err *err);
/* Before the monitor exits: exec clients get their EXIT, the others the
 * error why (unless NULL); queued replies go out within a second. */
void mon_clients_last_words(struct mon *m, const char *why);

#endif
