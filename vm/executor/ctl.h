/* The control socket of a microVM container's monitor (<state dir>/vm.sock):
 * how hull's verbs (start, kill, exec, ps, delete) reach the long-lived
 * monitor process that owns the guest agent's control port (monitor.c).
 *
 * SOCK_SEQPACKET, one message per packet, so there is no framing to get
 * wrong: a 16-byte header (host byte order: both ends are the same hull on
 * the same host) and at most VMC_MAX_PAYLOAD bytes of payload.
 *
 *   u32 type   enum vmc_type
 *   i32 a      type-specific (signal number, pid, errno, wait status)
 *   u32 b      type-specific (flags)
 *   u32 len    payload bytes (== packet size - 16)
 *
 * Client -> monitor                   Monitor -> client
 *   START                               OK a=guest pid | ERROR
 *   SIGNAL a=signo b=VMC_SIG_ALL?       OK | ERROR
 *   PS                                  PIDS payload=u32[] | ERROR
 *   EXEC payload=process JSON           OK a=guest pid | ERROR, then the stream:
 *     STDIN payload / STDIN_CLOSE /       STDOUT/STDERR payload, and last
 *     SIGNAL a=signo / RESIZE a=rows b=cols EXIT a=wait status
 *   STOP                                the monitor stops the VM and exits (EOF)
 *
 * Only the monitor's own user (root) may connect (SO_PEERCRED). */
#ifndef HULL_VM_EXECUTOR_CTL_H
#define HULL_VM_EXECUTOR_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define VMC_SOCK        "vm.sock"
#define VMC_HDR_SIZE    16
#define VMC_MAX_PAYLOAD (64u << 10)
#define VMC_MAX_PACKET  (VMC_HDR_SIZE + VMC_MAX_PAYLOAD)
#define VMC_SIG_ALL     0x1u

enum vmc_type {
    VMC_START = 1,
    VMC_SIGNAL,
    VMC_PS,
    VMC_EXEC,
    VMC_STDIN,
    VMC_STDIN_CLOSE,
    VMC_STOP,
    VMC_RESIZE,
    VMC__CLIENT_MAX = VMC_RESIZE,

    VMC_OK = 64,
    VMC_ERROR,
    VMC_PIDS,
    VMC_STDOUT,
    VMC_STDERR,
    VMC_EXIT,
    VMC__MONITOR_MAX = VMC_EXIT,
};

struct vmc_msg {
    uint32_t type;
    int32_t a;
    uint32_t b;
    uint32_t len;
    const uint8_t *data;   /* points into the packet buffer */
};

/* Encodes one packet into buf (cap >= VMC_HDR_SIZE + len); returns its size,
 * or 0 when len > VMC_MAX_PAYLOAD or buf is too small. */
size_t vmc_encode(void *buf, size_t cap, uint32_t type, int32_t a, uint32_t b, const void *data, size_t len);
/* Validates a received packet: header present, len matches, known type. */
int vmc_decode(const void *pkt, size_t n, struct vmc_msg *m, struct hull_err *err);

/* Blocking send of one packet (EINTR retried). */
int vmc_send(int fd, uint32_t type, int32_t a, uint32_t b, const void *data, size_t len, struct hull_err *err);
/* Receive into buf (cap >= VMC_MAX_PACKET): 1 with *m, 0 on EOF, <0; gives
 * up after timeout_ms (-1: never) with -ETIMEDOUT. */
int vmc_recv_timeout(int fd, void *buf, size_t cap, struct vmc_msg *m, int timeout_ms, struct hull_err *err);

/* Connects to <state dir>/vm.sock (through /proc/self/fd: no sun_path limit).
 * -ENOTCONN when nobody listens there (the monitor is gone). */
int vmc_connect(int state_dir_fd, int *fd, struct hull_err *err);
/* One request, one reply: sends, then waits for OK / PIDS / ERROR (an ERROR
 * becomes <0 with its message). Returns 0 with *reply filled (its data points
 * into buf). */
int vmc_call(int state_dir_fd, uint32_t type, int32_t a, uint32_t b, const void *data, size_t len, void *buf,
             size_t cap, struct vmc_msg *reply, int timeout_ms, struct hull_err *err);

#endif
