/* libFuzzer harness for the host <-> agent frame decoder. Input layout:
 *   byte 0: bit 0 direction (0 frames from the guest, 1 from the host),
 *           bits 1..7 a seed for the feed split (0: whole input at once)
 *   bytes 1..: the byte stream
 * Properties checked, beyond "no crash / no out-of-bounds" (ASan/UBSan):
 *   - every call consumes within its input and reports progress;
 *   - every decoded frame re-encodes with the put_* functions into bytes that
 *     decode to the same message (the codec agrees with itself);
 *   - once an error is returned, the decoder stays failed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/proto/agent_proto.h"

static void reencode(const struct hull_agent_msg *m, enum hull_agent_dir dir) {
    struct hull_agent_buf b = {0};
    struct hull_err err;
    int rc = -1;
    switch (m->type) {
    case HULL_AGENT_HELLO:
        rc = hull_agent_put_hello(&b, m->u.hello.features, m->u.hello.agent_version, m->u.hello.kernel_release, &err);
        break;
    case HULL_AGENT_START: rc = hull_agent_put_start(&b, m->id, &m->u.start, &err); break;
    case HULL_AGENT_EXEC: rc = hull_agent_put_exec(&b, m->id, m->u.exec.json, m->u.exec.len, &err); break;
    case HULL_AGENT_SIGNAL:
        rc = hull_agent_put_signal(&b, m->id, (int)m->u.signal.signo, m->u.signal.flags, &err);
        break;
    case HULL_AGENT_RESIZE: rc = hull_agent_put_resize(&b, m->id, m->u.resize.rows, m->u.resize.cols, &err); break;
    case HULL_AGENT_STDIN:
    case HULL_AGENT_STDOUT:
    case HULL_AGENT_STDERR:
        if (m->u.data.len > HULL_AGENT_DATA_CHUNK) return;   /* would be split: not one frame */
        rc = hull_agent_put_data(&b, m->type, m->id, m->u.data.bytes, m->u.data.len, &err);
        break;
    case HULL_AGENT_STDIN_CLOSE: rc = hull_agent_put_stdin_close(&b, m->id, m->u.stdin_close_port_bytes, &err); break;
    case HULL_AGENT_STDIN_ACK: rc = hull_agent_put_stdin_ack(&b, m->id, m->u.stdin_ack, &err); break;
    case HULL_AGENT_STARTED: rc = hull_agent_put_started(&b, m->id, m->u.started_pid, &err); break;
    case HULL_AGENT_EXIT: rc = hull_agent_put_exit(&b, m->id, &m->u.exit, &err); break;
    case HULL_AGENT_PS_REQUEST: rc = hull_agent_put_ps_request(&b, m->id, &err); break;
    case HULL_AGENT_PS_REPLY: {
        uint32_t *pids = malloc(((size_t)m->u.ps.count + 1) * sizeof *pids);
        if (!pids) abort();
        for (uint32_t i = 0; i < m->u.ps.count; i++) pids[i] = hull_agent_ps_pid(m, i);
        rc = hull_agent_put_ps_reply(&b, m->id, pids, m->u.ps.count, &err);
        free(pids);
        break;
    }
    case HULL_AGENT_ERROR:
        rc = hull_agent_put_error(&b, m->id, m->u.error.req_type, (int)m->u.error.code,
                                  m->flags & HULL_AGENT_F_FATAL, m->u.error.message, &err);
        break;
    case HULL_AGENT_POWEROFF: rc = hull_agent_put_poweroff(&b, &err); break;
    default: abort();   /* the decoder returned a type it does not know */
    }
    if (rc < 0) abort();   /* a decoded message must always be encodable */

    struct hull_agent_decoder d;
    struct hull_agent_msg m2;
    size_t used;
    hull_agent_decoder_init(&d, dir, 0);
    if (hull_agent_decode(&d, b.data, b.len, &used, &m2, &err) != 1 || used != b.len) abort();
    if (m2.type != m->type || m2.id != m->id || m2.flags != m->flags) abort();
    switch (m->type) {
    case HULL_AGENT_HELLO:
        if (strcmp(m2.u.hello.agent_version, m->u.hello.agent_version) ||
            strcmp(m2.u.hello.kernel_release, m->u.hello.kernel_release) || m2.u.hello.features != m->u.hello.features)
            abort();
        break;
    case HULL_AGENT_START:
        if (m2.u.start.config_len != m->u.start.config_len ||
            memcmp(m2.u.start.config, m->u.start.config, m->u.start.config_len) ||
            strcmp(m2.u.start.root_source, m->u.start.root_source) || m2.u.start.stdio != m->u.start.stdio)
            abort();
        break;
    case HULL_AGENT_STDIN:
    case HULL_AGENT_STDOUT:
    case HULL_AGENT_STDERR:
        if (m2.u.data.len != m->u.data.len || (m->u.data.len && memcmp(m2.u.data.bytes, m->u.data.bytes, m->u.data.len)))
            abort();
        break;
    case HULL_AGENT_EXIT:
        if (memcmp(&m2.u.exit, &m->u.exit, sizeof m->u.exit)) abort();
        break;
    case HULL_AGENT_ERROR:
        if (strcmp(m2.u.error.message, m->u.error.message) || m2.u.error.code != m->u.error.code) abort();
        break;
    default:
        break;
    }
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    enum hull_agent_dir dir = data[0] & 1 ? HULL_AGENT_FROM_HOST : HULL_AGENT_FROM_GUEST;
    unsigned split = data[0] >> 1;
    data++;
    size--;
    struct hull_agent_decoder d;
    struct hull_err err;
    /* A small limit keeps big declared lengths cheap while still exercising growth. */
    hull_agent_decoder_init(&d, dir, 1u << 16);
    size_t off = 0, step = 0;
    bool failed = false;
    while (off < size) {
        size_t n = split ? 1 + (step++ * split) % 97 : size - off;
        if (n > size - off) n = size - off;
        size_t p = 0;
        while (p < n) {
            struct hull_agent_msg m;
            size_t used = 0;
            int rc = hull_agent_decode(&d, data + off + p, n - p, &used, &m, &err);
            if (used > n - p) abort();
            if (rc < 0) {
                failed = true;
                break;
            }
            if (rc == 0 && used != n - p) abort();   /* "need more" must have taken everything */
            p += used;
            if (rc == 1) reencode(&m, dir);
        }
        if (failed) break;
        off += n;
    }
    if (failed) {
        struct hull_agent_msg m;
        size_t used;
        uint8_t b = 0;
        if (hull_agent_decode(&d, &b, 1, &used, &m, &err) >= 0) abort();   /* sticky */
    } else {
        (void)hull_agent_decoder_finish(&d, &err);
    }
    hull_agent_decoder_free(&d);
    return 0;
}
