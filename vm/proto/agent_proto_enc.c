/* Host <-> agent frame encoders and the output queue (see agent_proto.h).
 * Every put appends whole frames or nothing, so a failed call never leaves a
 * half frame in a queue that is later written to the peer. */
#include "vm/proto/agent_proto.h"

#include <stdlib.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

void hull_agent_buf_free(struct hull_agent_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void hull_agent_buf_consume(struct hull_agent_buf *b, size_t n) {
    if (n > b->len - b->off) n = b->len - b->off;
    b->off += n;
    if (b->off == b->len) b->off = b->len = 0;
}

static int buf_reserve(struct hull_agent_buf *b, size_t n, struct hull_err *err) {
    if (b->off && b->len + n > b->cap) {   /* reuse the consumed head first */
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n <= b->cap) return 0;
    if (n > SIZE_MAX / 2 - b->len) return hull_err_set(err, ENOMEM, "agent protocol: output queue too large");
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + n) ncap *= 2;
    uint8_t *nd = realloc(b->data, ncap);
    if (!nd) return hull_err_set(err, ENOMEM, "agent protocol: out of memory for the output queue");
    b->data = nd;
    b->cap = ncap;
    return 0;
}

int hull_agent_buf_append(struct hull_agent_buf *b, const void *p, size_t n, struct hull_err *err) {
    if (!n) return 0;
    int rc = buf_reserve(b, n, err);
    if (rc < 0) return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int hull_agent_put_frame(struct hull_agent_buf *b, uint8_t type, uint16_t flags, uint32_t id,
                         const void *payload, size_t len, struct hull_err *err) {
    if (type < 1 || type > HULL_AGENT_TYPE__MAX)
        return hull_err_set(err, EINVAL, "agent protocol: cannot encode unknown type %u", type);
    if (len > HULL_AGENT_MAX_PAYLOAD)
        return hull_err_set(err, EMSGSIZE, "agent protocol: %s: payload of %zu bytes exceeds %u",
                            hull_agent_type_name(type), len, HULL_AGENT_MAX_PAYLOAD);
    int rc = buf_reserve(b, HULL_AGENT_HDR_SIZE + len, err);
    if (rc < 0) return rc;
    uint8_t *h = b->data + b->len;
    put32(h, HULL_AGENT_MAGIC);
    h[4] = HULL_AGENT_VERSION;
    h[5] = type;
    put16(h + 6, flags);
    put32(h + 8, (uint32_t)len);
    put32(h + 12, id);
    if (len) memcpy(h + HULL_AGENT_HDR_SIZE, payload, len);
    b->len += HULL_AGENT_HDR_SIZE + len;
    return 0;
}

/* Payload builder for the variable-length messages. */
struct wr {
    uint8_t *p;
    size_t len, cap;
    int rc;
    struct hull_err *err;
};

static uint8_t *wr_room(struct wr *w, size_t n) {
    if (w->rc) return NULL;
    if (w->len + n > w->cap) {
        size_t ncap = w->cap ? w->cap : 256;
        while (ncap < w->len + n) ncap *= 2;
        uint8_t *np = realloc(w->p, ncap);
        if (!np) {
            w->rc = hull_err_set(w->err, ENOMEM, "agent protocol: out of memory");
            return NULL;
        }
        w->p = np;
        w->cap = ncap;
    }
    uint8_t *at = w->p + w->len;
    w->len += n;
    return at;
}
static void wr8(struct wr *w, uint8_t v) { uint8_t *p = wr_room(w, 1); if (p) *p = v; }
static void wr16(struct wr *w, uint16_t v) { uint8_t *p = wr_room(w, 2); if (p) put16(p, v); }
static void wr32(struct wr *w, uint32_t v) { uint8_t *p = wr_room(w, 4); if (p) put32(p, v); }
static void wr_bytes(struct wr *w, const void *s, size_t n) { uint8_t *p = wr_room(w, n); if (p && n) memcpy(p, s, n); }
static void wr_str(struct wr *w, const char *s, bool cut, const char *field) {
    size_t n = s ? strlen(s) : 0;
    if (n > HULL_AGENT_STR_MAX) {
        if (!cut && !w->rc) {
            w->rc = hull_err_set(w->err, EINVAL, "agent protocol: %s: longer than %u bytes", field, HULL_AGENT_STR_MAX);
            return;
        }
        n = HULL_AGENT_STR_MAX;
    }
    wr16(w, (uint16_t)n);
    wr_bytes(w, s, n);
}
static void wr_blob(struct wr *w, const void *s, size_t n, const char *field) {
    if (n > HULL_AGENT_MAX_PAYLOAD) {
        if (!w->rc) w->rc = hull_err_set(w->err, EMSGSIZE, "agent protocol: %s: %zu bytes is too large", field, n);
        return;
    }
    wr32(w, (uint32_t)n);
    wr_bytes(w, s, n);
}
static int wr_emit(struct wr *w, struct hull_agent_buf *b, uint8_t type, uint16_t flags, uint32_t id) {
    int rc = w->rc ? w->rc : hull_agent_put_frame(b, type, flags, id, w->p, w->len, w->err);
    free(w->p);
    return rc;
}

int hull_agent_put_hello(struct hull_agent_buf *b, uint32_t features, const char *agent_version,
                         const char *kernel_release, struct hull_err *err) {
    struct wr w = {.err = err};
    wr32(&w, features);
    wr_str(&w, agent_version, true, "agent_version");
    wr_str(&w, kernel_release, true, "kernel_release");
    return wr_emit(&w, b, HULL_AGENT_HELLO, 0, 0);
}

int hull_agent_put_start(struct hull_agent_buf *b, uint32_t id, const struct hull_agent_start *s,
                         struct hull_err *err) {
    struct wr w = {.err = err};
    wr8(&w, s->root_kind);
    wr8(&w, s->root_fs);
    wr8(&w, s->upper_kind);
    wr8(&w, s->upper_fs);
    wr8(&w, s->stdio);
    wr8(&w, s->flags);
    wr16(&w, 0);
    wr_str(&w, s->root_source, false, "root_source");
    wr_str(&w, s->upper_source, false, "upper_source");
    wr_blob(&w, s->config, s->config_len, "config");
    return wr_emit(&w, b, HULL_AGENT_START, 0, id);
}

int hull_agent_put_exec(struct hull_agent_buf *b, uint32_t id, const char *process_json, size_t len,
                        struct hull_err *err) {
    struct wr w = {.err = err};
    wr_blob(&w, process_json, len, "process");
    return wr_emit(&w, b, HULL_AGENT_EXEC, 0, id);
}

int hull_agent_put_signal(struct hull_agent_buf *b, uint32_t id, int signo, uint32_t flags,
                          struct hull_err *err) {
    uint8_t p[8];
    put32(p, (uint32_t)signo);
    put32(p + 4, flags);
    return hull_agent_put_frame(b, HULL_AGENT_SIGNAL, 0, id, p, sizeof p, err);
}

int hull_agent_put_resize(struct hull_agent_buf *b, uint32_t id, uint16_t rows, uint16_t cols,
                          struct hull_err *err) {
    uint8_t p[4];
    put16(p, rows);
    put16(p + 2, cols);
    return hull_agent_put_frame(b, HULL_AGENT_RESIZE, 0, id, p, sizeof p, err);
}

int hull_agent_put_data(struct hull_agent_buf *b, uint8_t type, uint32_t id, const void *data, size_t len,
                        struct hull_err *err) {
    if (type != HULL_AGENT_STDIN && type != HULL_AGENT_STDOUT && type != HULL_AGENT_STDERR)
        return hull_err_set(err, EINVAL, "agent protocol: %s is not a data frame", hull_agent_type_name(type));
    const uint8_t *p = data;
    /* Reserve everything first so a failure appends nothing. */
    size_t frames = len ? (len + HULL_AGENT_DATA_CHUNK - 1) / HULL_AGENT_DATA_CHUNK : 1;
    int rc = buf_reserve(b, len + frames * HULL_AGENT_HDR_SIZE, err);
    if (rc < 0) return rc;
    size_t off = 0;
    do {
        size_t n = len - off > HULL_AGENT_DATA_CHUNK ? HULL_AGENT_DATA_CHUNK : len - off;
        rc = hull_agent_put_frame(b, type, 0, id, n ? p + off : NULL, n, err);
        if (rc < 0) return rc;
        off += n;
    } while (off < len);
    return 0;
}

int hull_agent_put_stdin_close(struct hull_agent_buf *b, uint32_t id, uint64_t port_bytes,
                               struct hull_err *err) {
    uint8_t p[8];
    put64(p, port_bytes);
    return hull_agent_put_frame(b, HULL_AGENT_STDIN_CLOSE, 0, id, p, sizeof p, err);
}

int hull_agent_put_stdin_ack(struct hull_agent_buf *b, uint32_t id, uint32_t bytes, struct hull_err *err) {
    uint8_t p[4];
    put32(p, bytes);
    return hull_agent_put_frame(b, HULL_AGENT_STDIN_ACK, 0, id, p, sizeof p, err);
}

int hull_agent_put_started(struct hull_agent_buf *b, uint32_t id, uint32_t pid, struct hull_err *err) {
    uint8_t p[4];
    put32(p, pid);
    return hull_agent_put_frame(b, HULL_AGENT_STARTED, 0, id, p, sizeof p, err);
}

int hull_agent_put_exit(struct hull_agent_buf *b, uint32_t id, const struct hull_agent_exit *x,
                        struct hull_err *err) {
    uint8_t p[20];
    put32(p, x->status);
    put64(p + 4, x->stdout_bytes);
    put64(p + 12, x->stderr_bytes);
    return hull_agent_put_frame(b, HULL_AGENT_EXIT, 0, id, p, sizeof p, err);
}

int hull_agent_put_ps_request(struct hull_agent_buf *b, uint32_t tag, struct hull_err *err) {
    return hull_agent_put_frame(b, HULL_AGENT_PS_REQUEST, 0, tag, NULL, 0, err);
}

int hull_agent_put_ps_reply(struct hull_agent_buf *b, uint32_t tag, const uint32_t *pids, size_t n,
                            struct hull_err *err) {
    if (n > (HULL_AGENT_MAX_PAYLOAD - 4) / 4)
        return hull_err_set(err, EMSGSIZE, "agent protocol: PS_REPLY: %zu pids is too many", n);
    struct wr w = {.err = err};
    wr32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) wr32(&w, pids[i]);
    return wr_emit(&w, b, HULL_AGENT_PS_REPLY, 0, tag);
}

int hull_agent_put_error(struct hull_agent_buf *b, uint32_t id, uint8_t req_type, int code, bool fatal,
                         const char *message, struct hull_err *err) {
    struct wr w = {.err = err};
    wr32(&w, (uint32_t)code);
    wr8(&w, req_type <= HULL_AGENT_TYPE__MAX ? req_type : 0);
    wr8(&w, 0);
    wr16(&w, 0);
    wr_str(&w, message, true, "message");
    return wr_emit(&w, b, HULL_AGENT_ERROR, fatal ? HULL_AGENT_F_FATAL : 0, id);
}

int hull_agent_put_poweroff(struct hull_agent_buf *b, struct hull_err *err) {
    return hull_agent_put_frame(b, HULL_AGENT_POWEROFF, 0, 0, NULL, 0, err);
}
