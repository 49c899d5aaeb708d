/* The host <-> guest-agent protocol: versioned, length-prefixed frames over a
 * byte stream (a virtio-console port in the VM, a socketpair in tests).
 *
 * Frame = 16-byte header + payload, every integer little-endian:
 *
 *   u32 magic   HULL_AGENT_MAGIC ("HLAG")
 *   u8  version HULL_AGENT_VERSION (a peer speaking another version is refused)
 *   u8  type    enum hull_agent_type
 *   u16 flags   HULL_AGENT_F_* (unknown bits are refused)
 *   u32 length  payload bytes, <= the decoder's limit (<= HULL_AGENT_MAX_PAYLOAD)
 *   u32 id      exec id (the process a frame is about; 0 = the VM/agent itself,
 *               and always 0 on HELLO and POWEROFF)
 *
 * Payloads (str = u16 length + bytes, no NUL inside; blob = u32 length + bytes;
 * a payload must be consumed exactly, trailing bytes are an error):
 *
 *   HELLO       g->h  u32 features, str agent_version, str kernel_release
 *   START       h->g  u8 root_kind, u8 root_fs, u8 upper_kind, u8 upper_fs, u8 stdio,
 *                     u8 flags, u16 0, str root_source, str upper_source, blob config.json
 *   EXEC        h->g  blob process JSON (the OCI "process" object); stdio multiplexed
 *   SIGNAL      h->g  u32 signo (1..64), u32 flags (HULL_AGENT_SIG_ALL: every container process)
 *   RESIZE      h->g  u16 rows, u16 cols (needs process.terminal)
 *   STDIN       h->g  data bytes (may be empty)
 *   STDIN_CLOSE h->g  u64 port_bytes: in PORTS mode, close the process's stdin after this many
 *                     bytes came through the stdin port; 0 in MUX mode
 *   STDIN_ACK   g->h  u32 bytes of STDIN data the process consumed (flow control, below)
 *   STDOUT/STDERR g->h data bytes (MUX mode)
 *   STARTED     g->h  u32 guest pid (the process was exec'd)
 *   EXIT        g->h  u32 wait status (Linux encoding), u64 stdout_bytes, u64 stderr_bytes
 *   PS_REQUEST  h->g  (empty); id is a request tag echoed in the reply
 *   PS_REPLY    g->h  u32 count, count x u32 guest pid
 *   ERROR       either u32 errno, u8 request type it answers (0: none), u8[3] 0, str message;
 *                     flag FATAL: the sender is going down (the agent then powers off)
 *   POWEROFF    h->g  (empty) the host has drained the output: shut the VM down now
 *
 * Ordering and flow control. Stdio is multiplexed on the control stream (MUX)
 * or, for the START process only, carried raw on its own console ports (PORTS:
 * HULL_AGENT_PORT_STDIN/STDOUT/STDERR). Across streams nothing is ordered, so
 * EXIT carries the number of output bytes the agent wrote for the process and
 * STDIN_CLOSE the number of stdin bytes the host wrote: each side waits for the
 * counts instead of trusting arrival order. In MUX mode the host keeps at most
 * HULL_AGENT_STDIN_WINDOW bytes of STDIN data unacknowledged per exec id; the
 * agent returns STDIN_ACK as the process reads. Output has no window: the host
 * must keep reading (the agent stops reading a process's pipes while its
 * queue is full, so a slow host slows the process, never the agent).
 *
 * The decoder is incremental (feed any split of the stream) and validates every
 * frame completely (header, type, direction, payload layout) before returning
 * it. A peer that sends one malformed frame is broken: the host ends that VM,
 * the agent sends ERROR(FATAL) and powers off. Nothing here does I/O.
 */
#ifndef HULL_VM_PROTO_AGENT_PROTO_H
#define HULL_VM_PROTO_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define HULL_AGENT_MAGIC        0x47414c48u        /* "HLAG" on the wire */
#define HULL_AGENT_VERSION      1
#define HULL_AGENT_HDR_SIZE     16
#define HULL_AGENT_MAX_PAYLOAD  (4u << 20)         /* hard limit: a config.json with a large seccomp profile */
#define HULL_AGENT_DATA_CHUNK   (64u << 10)        /* stdio data frames are split at this size */
/* What the host should pass as its decoder's limit: the agent never sends a
 * larger frame (data chunks, a PS_REPLY of up to 4096 pids, ERROR text). */
#define HULL_AGENT_GUEST_MAX_PAYLOAD (128u << 10)
#define HULL_AGENT_STDIN_WINDOW (256u << 10)       /* MUX stdin bytes in flight per exec id */
#define HULL_AGENT_STR_MAX      4095               /* longest str field */

/* Console port names (virtio-console MULTIPORT, /sys/class/virtio-ports/X/name). */
#define HULL_AGENT_PORT_CTL    "hull.ctl"
#define HULL_AGENT_PORT_STDIN  "hull.stdin"
#define HULL_AGENT_PORT_STDOUT "hull.stdout"
#define HULL_AGENT_PORT_STDERR "hull.stderr"

/* Files the initramfs carries for the agent (see initramfs.h). */
#define HULL_AGENT_MODULES_DIR  "/lib/modules/hull"
#define HULL_AGENT_MODULES_LIST "/lib/modules/hull/load.list"

enum hull_agent_type {
    HULL_AGENT_HELLO = 1,
    HULL_AGENT_START,
    HULL_AGENT_EXEC,
    HULL_AGENT_SIGNAL,
    HULL_AGENT_RESIZE,
    HULL_AGENT_STDIN,
    HULL_AGENT_STDIN_CLOSE,
    HULL_AGENT_STDIN_ACK,
    HULL_AGENT_STDOUT,
    HULL_AGENT_STDERR,
    HULL_AGENT_STARTED,
    HULL_AGENT_EXIT,
    HULL_AGENT_PS_REQUEST,
    HULL_AGENT_PS_REPLY,
    HULL_AGENT_ERROR,
    HULL_AGENT_POWEROFF,
    HULL_AGENT_TYPE__MAX = HULL_AGENT_POWEROFF,
};

#define HULL_AGENT_F_FATAL 0x0001u   /* ERROR only */

/* Which side a decoder reads: frames of the other direction are refused. */
enum hull_agent_dir { HULL_AGENT_FROM_GUEST, HULL_AGENT_FROM_HOST };

/* HELLO.features */
#define HULL_AGENT_FEAT_PORTS    0x1u   /* stdio on dedicated ports */
#define HULL_AGENT_FEAT_TERMINAL 0x2u   /* process.terminal (pty) + RESIZE */

/* START fields */
enum hull_agent_root_kind { HULL_AGENT_ROOT_DIR = 1, HULL_AGENT_ROOT_BLOCK = 2 };
enum hull_agent_fs { HULL_AGENT_FS_NONE = 0, HULL_AGENT_FS_EXT4 = 1, HULL_AGENT_FS_EROFS = 2 };
enum hull_agent_upper { HULL_AGENT_UPPER_NONE = 0, HULL_AGENT_UPPER_TMPFS = 1, HULL_AGENT_UPPER_BLOCK = 2 };
enum hull_agent_stdio { HULL_AGENT_STDIO_MUX = 0, HULL_AGENT_STDIO_PORTS = 1 };
#define HULL_AGENT_START_ROOT_RW 0x1u   /* UPPER_NONE + ext4: mount the root read-write */

#define HULL_AGENT_SIG_ALL 0x1u

struct hull_agent_hello {
    uint32_t features;
    char agent_version[HULL_AGENT_STR_MAX + 1];
    char kernel_release[HULL_AGENT_STR_MAX + 1];
};

struct hull_agent_start {
    uint8_t root_kind, root_fs, upper_kind, upper_fs, stdio, flags;
    char root_source[HULL_AGENT_STR_MAX + 1];    /* "/dev/vda", or a guest directory (ROOT_DIR) */
    char upper_source[HULL_AGENT_STR_MAX + 1];   /* "/dev/vdb" for UPPER_BLOCK, else "" */
    const char *config;                         /* config.json bytes (not NUL-terminated) */
    uint32_t config_len;
};

struct hull_agent_exit {
    uint32_t status;                             /* wait status: WIFEXITED/WIFSIGNALED apply */
    uint64_t stdout_bytes, stderr_bytes;
};

struct hull_agent_error {
    uint32_t code;                               /* errno value */
    uint8_t req_type;                            /* the request it answers, 0 if none */
    char message[HULL_AGENT_STR_MAX + 1];
};

/* A decoded, validated frame. Pointers (data, config, process, pids) point into
 * the decoder's buffer: valid until the next call on that decoder. */
struct hull_agent_msg {
    uint8_t type;
    uint16_t flags;
    uint32_t id;
    union {
        struct hull_agent_hello hello;
        struct hull_agent_start start;
        struct { const char *json; uint32_t len; } exec;
        struct { uint32_t signo, flags; } signal;
        struct { uint16_t rows, cols; } resize;
        struct { const uint8_t *bytes; uint32_t len; } data;   /* STDIN/STDOUT/STDERR */
        uint64_t stdin_close_port_bytes;
        uint32_t stdin_ack;
        uint32_t started_pid;
        struct hull_agent_exit exit;
        struct { uint32_t count; const uint8_t *raw; } ps;    /* hull_agent_ps_pid() reads entries */
        struct hull_agent_error error;
    } u;
};

/* ---- decoding ---------------------------------------------------------- */

struct hull_agent_decoder {
    enum hull_agent_dir dir;
    uint32_t max_payload;
    uint8_t hdr[HULL_AGENT_HDR_SIZE];
    size_t hdr_have;
    uint8_t *buf;             /* payload of the frame being assembled */
    size_t cap;
    uint32_t need, have;      /* payload length from the header, bytes received */
    bool in_payload;
    bool failed;              /* sticky: after an error every call fails */
    uint64_t frames;          /* frames decoded so far (for messages) */
};

/* max_payload 0 or above HULL_AGENT_MAX_PAYLOAD means HULL_AGENT_MAX_PAYLOAD. */
void hull_agent_decoder_init(struct hull_agent_decoder *d, enum hull_agent_dir dir, uint32_t max_payload);
void hull_agent_decoder_free(struct hull_agent_decoder *d);

/* Consumes bytes from buf[0..len) and stops right after the first complete
 * frame. *consumed says how many bytes were used (call again with the rest).
 * Returns 1 with *msg filled, 0 when everything was consumed without completing
 * a frame, or <0 (-EPROTO, -EMSGSIZE, -ENOMEM) with err naming the problem;
 * errors are sticky (the stream cannot be resynchronised). */
int hull_agent_decode(struct hull_agent_decoder *d, const void *buf, size_t len, size_t *consumed,
                      struct hull_agent_msg *msg, struct hull_err *err);

/* At end of stream: 0 if it ended on a frame boundary, else -EPROTO ("truncated"). */
int hull_agent_decoder_finish(const struct hull_agent_decoder *d, struct hull_err *err);

/* Entry i (< msg->u.ps.count) of a PS_REPLY. */
uint32_t hull_agent_ps_pid(const struct hull_agent_msg *msg, uint32_t i);

const char *hull_agent_type_name(unsigned type);   /* "START", ...; "?" when unknown */
bool hull_agent_type_valid(unsigned type, enum hull_agent_dir dir);

/* ---- encoding ---------------------------------------------------------- */

/* A growable output queue of encoded frames: data[off..len) is not yet written. */
struct hull_agent_buf {
    uint8_t *data;
    size_t len, cap, off;
};

void hull_agent_buf_free(struct hull_agent_buf *b);
static inline size_t hull_agent_buf_pending(const struct hull_agent_buf *b) { return b->len - b->off; }
/* Marks n bytes as written; compacts when everything is gone. */
void hull_agent_buf_consume(struct hull_agent_buf *b, size_t n);
/* Appends raw bytes (the PORTS streams use the same queue without framing). */
int hull_agent_buf_append(struct hull_agent_buf *b, const void *p, size_t n, struct hull_err *err);

/* Every put appends complete frames or nothing (<0 + err, -ENOMEM/-EINVAL). */
int hull_agent_put_frame(struct hull_agent_buf *b, uint8_t type, uint16_t flags, uint32_t id,
                         const void *payload, size_t len, struct hull_err *err);
int hull_agent_put_hello(struct hull_agent_buf *b, uint32_t features, const char *agent_version,
                         const char *kernel_release, struct hull_err *err);
int hull_agent_put_start(struct hull_agent_buf *b, uint32_t id, const struct hull_agent_start *s,
                         struct hull_err *err);
int hull_agent_put_exec(struct hull_agent_buf *b, uint32_t id, const char *process_json, size_t len,
                        struct hull_err *err);
int hull_agent_put_signal(struct hull_agent_buf *b, uint32_t id, int signo, uint32_t flags,
                          struct hull_err *err);
int hull_agent_put_resize(struct hull_agent_buf *b, uint32_t id, uint16_t rows, uint16_t cols,
                          struct hull_err *err);
/* STDIN/STDOUT/STDERR: split into HULL_AGENT_DATA_CHUNK frames (len 0: one empty frame). */
int hull_agent_put_data(struct hull_agent_buf *b, uint8_t type, uint32_t id, const void *data, size_t len,
                        struct hull_err *err);
int hull_agent_put_stdin_close(struct hull_agent_buf *b, uint32_t id, uint64_t port_bytes,
                               struct hull_err *err);
int hull_agent_put_stdin_ack(struct hull_agent_buf *b, uint32_t id, uint32_t bytes, struct hull_err *err);
int hull_agent_put_started(struct hull_agent_buf *b, uint32_t id, uint32_t pid, struct hull_err *err);
int hull_agent_put_exit(struct hull_agent_buf *b, uint32_t id, const struct hull_agent_exit *x,
                        struct hull_err *err);
int hull_agent_put_ps_request(struct hull_agent_buf *b, uint32_t tag, struct hull_err *err);
int hull_agent_put_ps_reply(struct hull_agent_buf *b, uint32_t tag, const uint32_t *pids, size_t n,
                            struct hull_err *err);
/* The message is cut at HULL_AGENT_STR_MAX bytes. */
int hull_agent_put_error(struct hull_agent_buf *b, uint32_t id, uint8_t req_type, int code, bool fatal,
                         const char *message, struct hull_err *err);
int hull_agent_put_poweroff(struct hull_agent_buf *b, struct hull_err *err);

/* Wait status helpers (the EXIT encoding is Linux's). */
static inline uint32_t hull_agent_status_exited(int code) { return ((uint32_t)code & 0xff) << 8; }
static inline uint32_t hull_agent_status_signaled(int sig) { return (uint32_t)sig & 0x7f; }
/* Shell-style code: exit code, or 128 + signal number. */
int hull_agent_status_code(uint32_t status);

#endif
