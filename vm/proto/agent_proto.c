/* Host <-> agent frame decoder (see agent_proto.h for the wire format; the
 * encoders are in agent_proto_enc.c). Plain C with libc only: it is linked
 * into libhull and into the static guest agent, and fuzzed on its own. No
 * length is trusted before it is checked against the limit and the bytes
 * actually present. */
#include "vm/proto/agent_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    [HULL_AGENT_HELLO] = "HELLO",         [HULL_AGENT_START] = "START",
    [HULL_AGENT_EXEC] = "EXEC",           [HULL_AGENT_SIGNAL] = "SIGNAL",
    [HULL_AGENT_RESIZE] = "RESIZE",       [HULL_AGENT_STDIN] = "STDIN",
    [HULL_AGENT_STDIN_CLOSE] = "STDIN_CLOSE", [HULL_AGENT_STDIN_ACK] = "STDIN_ACK",
    [HULL_AGENT_STDOUT] = "STDOUT",       [HULL_AGENT_STDERR] = "STDERR",
    [HULL_AGENT_STARTED] = "STARTED",     [HULL_AGENT_EXIT] = "EXIT",
    [HULL_AGENT_PS_REQUEST] = "PS_REQUEST", [HULL_AGENT_PS_REPLY] = "PS_REPLY",
    [HULL_AGENT_ERROR] = "ERROR",         [HULL_AGENT_POWEROFF] = "POWEROFF",
};

/* Who may send each type: 'g' guest, 'h' host, 'b' both. */
static const char type_dir[] = {
    [HULL_AGENT_HELLO] = 'g',      [HULL_AGENT_START] = 'h',       [HULL_AGENT_EXEC] = 'h',
    [HULL_AGENT_SIGNAL] = 'h',     [HULL_AGENT_RESIZE] = 'h',      [HULL_AGENT_STDIN] = 'h',
    [HULL_AGENT_STDIN_CLOSE] = 'h', [HULL_AGENT_STDIN_ACK] = 'g',  [HULL_AGENT_STDOUT] = 'g',
    [HULL_AGENT_STDERR] = 'g',     [HULL_AGENT_STARTED] = 'g',     [HULL_AGENT_EXIT] = 'g',
    [HULL_AGENT_PS_REQUEST] = 'h', [HULL_AGENT_PS_REPLY] = 'g',    [HULL_AGENT_ERROR] = 'b',
    [HULL_AGENT_POWEROFF] = 'h',
};

const char *hull_agent_type_name(unsigned type) {
    return type >= 1 && type <= HULL_AGENT_TYPE__MAX ? type_names[type] : "?";
}

bool hull_agent_type_valid(unsigned type, enum hull_agent_dir dir) {
    if (type < 1 || type > HULL_AGENT_TYPE__MAX) return false;
    char d = type_dir[type];
    return d == 'b' || d == (dir == HULL_AGENT_FROM_GUEST ? 'g' : 'h');
}

/* ---- little-endian reads ------------------------------------------------- */

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

/* ---- payload reader: every read is bounds-checked, errors name the field -- */

struct rd {
    const uint8_t *p;
    uint32_t len, off;
    const char *type;
    struct hull_err *err;
    int rc;
};

static bool rd_need(struct rd *r, uint32_t n, const char *field) {
    if (r->rc) return false;
    if (r->len - r->off < n) {
        r->rc = hull_err_set(r->err, EPROTO, "agent protocol: %s: payload truncated at %s (%u of %u bytes)",
                             r->type, field, r->len - r->off, n);
        return false;
    }
    return true;
}
static uint8_t rd8(struct rd *r, const char *f) { return rd_need(r, 1, f) ? r->p[r->off++] : 0; }
static uint16_t rd16(struct rd *r, const char *f) {
    if (!rd_need(r, 2, f)) return 0;
    uint16_t v = get16(r->p + r->off);
    r->off += 2;
    return v;
}
static uint32_t rd32(struct rd *r, const char *f) {
    if (!rd_need(r, 4, f)) return 0;
    uint32_t v = get32(r->p + r->off);
    r->off += 4;
    return v;
}
static uint64_t rd64(struct rd *r, const char *f) {
    if (!rd_need(r, 8, f)) return 0;
    uint64_t v = get64(r->p + r->off);
    r->off += 8;
    return v;
}
/* str: u16 length (<= HULL_AGENT_STR_MAX), bytes without NUL, copied into out. */
static void rd_str(struct rd *r, char out[HULL_AGENT_STR_MAX + 1], const char *f) {
    out[0] = '\0';
    uint16_t n = rd16(r, f);
    if (r->rc) return;
    if (n > HULL_AGENT_STR_MAX) {
        r->rc = hull_err_set(r->err, EPROTO, "agent protocol: %s: %s: length %u above %u", r->type, f, n,
                             HULL_AGENT_STR_MAX);
        return;
    }
    if (!rd_need(r, n, f)) return;
    if (memchr(r->p + r->off, '\0', n)) {
        r->rc = hull_err_set(r->err, EPROTO, "agent protocol: %s: %s: contains a NUL byte", r->type, f);
        return;
    }
    memcpy(out, r->p + r->off, n);
    out[n] = '\0';
    r->off += n;
}
/* blob: u32 length + bytes, returned in place. */
static const uint8_t *rd_blob(struct rd *r, uint32_t *len, const char *f) {
    *len = rd32(r, f);
    if (!rd_need(r, *len, f)) {
        *len = 0;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += *len;
    return p;
}
static void rd_zero(struct rd *r, uint32_t n, const char *f) {
    if (!rd_need(r, n, f)) return;
    for (uint32_t i = 0; i < n; i++)
        if (r->p[r->off + i]) {
            r->rc = hull_err_set(r->err, EPROTO, "agent protocol: %s: %s: must be zero", r->type, f);
            return;
        }
    r->off += n;
}
static void rd_enum(struct rd *r, uint8_t v, uint8_t max, const char *f) {
    if (!r->rc && v > max)
        r->rc = hull_err_set(r->err, EPROTO, "agent protocol: %s: %s: unknown value %u", r->type, f, v);
}

static int parse_payload(struct hull_agent_msg *m, const uint8_t *p, uint32_t len, struct hull_err *err) {
    struct rd r = {.p = p, .len = len, .type = hull_agent_type_name(m->type), .err = err};
    switch (m->type) {
    case HULL_AGENT_HELLO:
        m->u.hello.features = rd32(&r, "features");
        rd_str(&r, m->u.hello.agent_version, "agent_version");
        rd_str(&r, m->u.hello.kernel_release, "kernel_release");
        break;
    case HULL_AGENT_START: {
        struct hull_agent_start *s = &m->u.start;
        s->root_kind = rd8(&r, "root_kind");
        s->root_fs = rd8(&r, "root_fs");
        s->upper_kind = rd8(&r, "upper_kind");
        s->upper_fs = rd8(&r, "upper_fs");
        s->stdio = rd8(&r, "stdio");
        s->flags = rd8(&r, "flags");
        rd_zero(&r, 2, "reserved");
        if (!r.rc && s->root_kind != HULL_AGENT_ROOT_DIR && s->root_kind != HULL_AGENT_ROOT_BLOCK)
            r.rc = hull_err_set(err, EPROTO, "agent protocol: START: root_kind: unknown value %u", s->root_kind);
        rd_enum(&r, s->root_fs, HULL_AGENT_FS_EROFS, "root_fs");
        rd_enum(&r, s->upper_kind, HULL_AGENT_UPPER_BLOCK, "upper_kind");
        rd_enum(&r, s->upper_fs, HULL_AGENT_FS_EROFS, "upper_fs");
        rd_enum(&r, s->stdio, HULL_AGENT_STDIO_PORTS, "stdio");
        if (!r.rc && (s->flags & ~HULL_AGENT_START_ROOT_RW))
            r.rc = hull_err_set(err, EPROTO, "agent protocol: START: flags: unknown bits 0x%x", s->flags);
        rd_str(&r, s->root_source, "root_source");
        rd_str(&r, s->upper_source, "upper_source");
        s->config = (const char *)rd_blob(&r, &s->config_len, "config");
        if (!r.rc && s->root_source[0] == '\0')
            r.rc = hull_err_set(err, EPROTO, "agent protocol: START: root_source: empty");
        if (!r.rc && s->root_kind == HULL_AGENT_ROOT_BLOCK && s->root_fs == HULL_AGENT_FS_NONE)
            r.rc = hull_err_set(err, EPROTO, "agent protocol: START: root_fs: a block root needs a filesystem");
        if (!r.rc && s->upper_kind == HULL_AGENT_UPPER_BLOCK &&
            (s->upper_source[0] == '\0' || s->upper_fs == HULL_AGENT_FS_NONE))
            r.rc = hull_err_set(err, EPROTO, "agent protocol: START: upper: a block upper needs a source and a filesystem");
        break;
    }
    case HULL_AGENT_EXEC:
        m->u.exec.json = (const char *)rd_blob(&r, &m->u.exec.len, "process");
        break;
    case HULL_AGENT_SIGNAL:
        m->u.signal.signo = rd32(&r, "signo");
        m->u.signal.flags = rd32(&r, "flags");
        if (!r.rc && (m->u.signal.signo < 1 || m->u.signal.signo > 64))
            r.rc = hull_err_set(err, EPROTO, "agent protocol: SIGNAL: signo %u out of range 1..64", m->u.signal.signo);
        if (!r.rc && (m->u.signal.flags & ~HULL_AGENT_SIG_ALL))
            r.rc = hull_err_set(err, EPROTO, "agent protocol: SIGNAL: flags: unknown bits 0x%x", m->u.signal.flags);
        break;
    case HULL_AGENT_RESIZE:
        m->u.resize.rows = rd16(&r, "rows");
        m->u.resize.cols = rd16(&r, "cols");
        break;
    case HULL_AGENT_STDIN:
    case HULL_AGENT_STDOUT:
    case HULL_AGENT_STDERR:
        m->u.data.bytes = p;
        m->u.data.len = len;
        r.off = len;
        break;
    case HULL_AGENT_STDIN_CLOSE:
        m->u.stdin_close_port_bytes = rd64(&r, "port_bytes");
        break;
    case HULL_AGENT_STDIN_ACK:
        m->u.stdin_ack = rd32(&r, "bytes");
        break;
    case HULL_AGENT_STARTED:
        m->u.started_pid = rd32(&r, "pid");
        if (!r.rc && (m->u.started_pid == 0 || m->u.started_pid > 0x3fffffff))
            r.rc = hull_err_set(err, EPROTO, "agent protocol: STARTED: pid %u out of range", m->u.started_pid);
        break;
    case HULL_AGENT_EXIT:
        m->u.exit.status = rd32(&r, "status");
        m->u.exit.stdout_bytes = rd64(&r, "stdout_bytes");
        m->u.exit.stderr_bytes = rd64(&r, "stderr_bytes");
        /* Only the two shapes a reaped process can have: exited, or killed by a signal. */
        if (!r.rc) {
            uint32_t st = m->u.exit.status, sig = st & 0x7f;
            bool exited = sig == 0 && st <= 0xff00 && (st & 0xff) == 0;
            bool signaled = sig != 0 && sig != 0x7f && (st & ~0xffu) == 0;
            if (!exited && !signaled)
                r.rc = hull_err_set(err, EPROTO, "agent protocol: EXIT: status 0x%x is not an exit or a signal", st);
        }
        break;
    case HULL_AGENT_PS_REPLY: {
        uint32_t n = rd32(&r, "count");
        if (!r.rc && n > (len - r.off) / 4)
            r.rc = hull_err_set(err, EPROTO, "agent protocol: PS_REPLY: count %u needs %llu bytes, %u left", n,
                                (unsigned long long)n * 4, len - r.off);
        if (!r.rc) {
            m->u.ps.count = n;
            m->u.ps.raw = p + r.off;
            r.off += n * 4;
        }
        break;
    }
    case HULL_AGENT_ERROR:
        m->u.error.code = rd32(&r, "code");
        m->u.error.req_type = rd8(&r, "req_type");
        rd_zero(&r, 3, "reserved");
        rd_str(&r, m->u.error.message, "message");
        if (!r.rc && m->u.error.req_type > HULL_AGENT_TYPE__MAX)
            r.rc = hull_err_set(err, EPROTO, "agent protocol: ERROR: req_type %u unknown", m->u.error.req_type);
        break;
    case HULL_AGENT_PS_REQUEST:
    case HULL_AGENT_POWEROFF:
        break;
    default:
        return hull_err_set(err, EPROTO, "agent protocol: unknown frame type %u", m->type);
    }
    if (r.rc) return r.rc;
    if (r.off != len)
        return hull_err_set(err, EPROTO, "agent protocol: %s: %u trailing payload bytes", r.type, len - r.off);
    if ((m->type == HULL_AGENT_HELLO || m->type == HULL_AGENT_POWEROFF) && m->id != 0)
        return hull_err_set(err, EPROTO, "agent protocol: %s: id must be 0, got %u", r.type, m->id);
    if ((m->flags & HULL_AGENT_F_FATAL) && m->type != HULL_AGENT_ERROR)
        return hull_err_set(err, EPROTO, "agent protocol: %s: the FATAL flag is only valid on ERROR", r.type);
    return 0;
}

uint32_t hull_agent_ps_pid(const struct hull_agent_msg *msg, uint32_t i) {
    return i < msg->u.ps.count ? get32(msg->u.ps.raw + 4 * (size_t)i) : 0;
}

/* ---- decoder ------------------------------------------------------------ */

void hull_agent_decoder_init(struct hull_agent_decoder *d, enum hull_agent_dir dir, uint32_t max_payload) {
    memset(d, 0, sizeof *d);
    d->dir = dir;
    d->max_payload = max_payload && max_payload < HULL_AGENT_MAX_PAYLOAD ? max_payload : HULL_AGENT_MAX_PAYLOAD;
}

void hull_agent_decoder_free(struct hull_agent_decoder *d) {
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
}

/* Errors are sticky: after a bad frame the byte stream has no reliable boundary. */
static int fail(struct hull_agent_decoder *d, int rc, struct hull_err *err) {
    d->failed = true;
    if (err) {
        size_t n = strlen(err->msg);
        if (n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, " (frame %llu)", (unsigned long long)d->frames + 1);
    }
    return rc;
}

/* The header is complete: check it and size the payload buffer. */
static int check_header(struct hull_agent_decoder *d, struct hull_err *err) {
    const uint8_t *h = d->hdr;
    uint32_t magic = get32(h), len = get32(h + 8);
    uint8_t version = h[4], type = h[5];
    uint16_t flags = get16(h + 6);
    if (magic != HULL_AGENT_MAGIC)
        return hull_err_set(err, EPROTO, "agent protocol: bad magic 0x%08x (want 0x%08x)", magic, HULL_AGENT_MAGIC);
    if (version != HULL_AGENT_VERSION)
        return hull_err_set(err, EPROTO, "agent protocol: version %u, this side speaks %u", version,
                            HULL_AGENT_VERSION);
    if (type < 1 || type > HULL_AGENT_TYPE__MAX)
        return hull_err_set(err, EPROTO, "agent protocol: unknown frame type %u", type);
    if (!hull_agent_type_valid(type, d->dir))
        return hull_err_set(err, EPROTO, "agent protocol: %s is not valid from the %s", hull_agent_type_name(type),
                            d->dir == HULL_AGENT_FROM_GUEST ? "guest" : "host");
    if (flags & ~HULL_AGENT_F_FATAL)
        return hull_err_set(err, EPROTO, "agent protocol: %s: unknown flags 0x%x", hull_agent_type_name(type), flags);
    if (len > d->max_payload)
        return hull_err_set(err, EMSGSIZE, "agent protocol: %s: payload of %u bytes exceeds the limit of %u",
                            hull_agent_type_name(type), len, d->max_payload);
    if (len > d->cap) {
        /* Grow geometrically but never beyond what this frame needs. */
        size_t ncap = d->cap ? d->cap : 4096;
        while (ncap < len) ncap *= 2;
        if (ncap > d->max_payload) ncap = d->max_payload;
        uint8_t *nb = realloc(d->buf, ncap);
        if (!nb) return hull_err_set(err, ENOMEM, "agent protocol: out of memory for a %u-byte frame", len);
        d->buf = nb;
        d->cap = ncap;
    }
    d->need = len;
    d->have = 0;
    d->in_payload = true;
    return 0;
}

int hull_agent_decode(struct hull_agent_decoder *d, const void *buf, size_t len, size_t *consumed,
                      struct hull_agent_msg *msg, struct hull_err *err) {
    const uint8_t *in = buf;
    size_t used = 0;
    *consumed = 0;
    if (d->failed) return hull_err_set(err, EPROTO, "agent protocol: stream already failed");
    if (!d->in_payload) {
        size_t take = HULL_AGENT_HDR_SIZE - d->hdr_have;
        if (take > len) take = len;
        if (take) memcpy(d->hdr + d->hdr_have, in, take);
        d->hdr_have += take;
        used = take;
        *consumed = used;
        if (d->hdr_have < HULL_AGENT_HDR_SIZE) return 0;
        int rc = check_header(d, err);
        if (rc < 0) return fail(d, rc, err);
    }
    size_t take = d->need - d->have;
    if (take > len - used) take = len - used;
    if (take) memcpy(d->buf + d->have, in + used, take);
    d->have += (uint32_t)take;
    used += take;
    *consumed = used;
    if (d->have < d->need) return 0;

    memset(msg, 0, sizeof *msg);
    msg->type = d->hdr[5];
    msg->flags = get16(d->hdr + 6);
    msg->id = get32(d->hdr + 12);
    d->in_payload = false;
    d->hdr_have = 0;
    int rc = parse_payload(msg, d->need ? d->buf : (const uint8_t *)"", d->need, err);
    if (rc < 0) return fail(d, rc, err);
    d->frames++;
    return 1;
}

int hull_agent_decoder_finish(const struct hull_agent_decoder *d, struct hull_err *err) {
    if (d->failed) return hull_err_set(err, EPROTO, "agent protocol: stream failed");
    if (d->in_payload)
        return hull_err_set(err, EPROTO, "agent protocol: stream ended inside a %s frame (%u of %u payload bytes)",
                            hull_agent_type_name(d->hdr[5]), d->have, d->need);
    if (d->hdr_have)
        return hull_err_set(err, EPROTO, "agent protocol: stream ended inside a frame header (%zu of %d bytes)",
                            d->hdr_have, HULL_AGENT_HDR_SIZE);
    return 0;
}

int hull_agent_status_code(uint32_t status) {
    if ((status & 0x7f) == 0) return (int)((status >> 8) & 0xff);
    return 128 + (int)(status & 0x7f);
}
