/* The host <-> agent frame codec: round trips of every message, streams fed
 * byte by byte, and every malformed shape the decoder must refuse. */
#include "tap.h"
#include "vm/proto/agent_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct hull_err err;

/* Decodes exactly one frame from the whole buffer (fed at once). */
static int decode_one(enum hull_agent_dir dir, const uint8_t *p, size_t n, struct hull_agent_msg *m,
                      struct hull_agent_decoder *d) {
    hull_agent_decoder_init(d, dir, 0);
    size_t used = 0;
    hull_err_clear(&err);
    int rc = hull_agent_decode(d, p, n, &used, m, &err);
    if (rc == 1 && used != n) return -1000;   /* leftover bytes: not one frame */
    return rc;
}

static void le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* A raw frame with an arbitrary header and payload. */
static size_t raw(uint8_t *out, uint32_t magic, uint8_t ver, uint8_t type, uint16_t flags, uint32_t len,
                  uint32_t id, const void *payload, size_t plen) {
    le32(out, magic);
    out[4] = ver;
    out[5] = type;
    out[6] = (uint8_t)flags;
    out[7] = (uint8_t)(flags >> 8);
    le32(out + 8, len);
    le32(out + 12, id);
    if (plen) memcpy(out + 16, payload, plen);
    return 16 + plen;
}

/* Expect a failure whose message contains `needle`. */
static void expect_bad(enum hull_agent_dir dir, const uint8_t *p, size_t n, const char *needle, const char *what) {
    struct hull_agent_decoder d;
    struct hull_agent_msg m;
    int rc = decode_one(dir, p, n, &m, &d);
    ok(rc < 0 && rc != -1000, "refused: %s (rc %d)", what, rc);
    like(err.msg, needle, "  message for %s: %s", what, err.msg);
    /* sticky: the same decoder refuses anything afterwards */
    uint8_t good[64];
    size_t gn = raw(good, HULL_AGENT_MAGIC, HULL_AGENT_VERSION, HULL_AGENT_POWEROFF, 0, 0, 0, NULL, 0);
    size_t used;
    if (rc < 0) ok(hull_agent_decode(&d, good, gn, &used, &m, &err) < 0, "  decoder stays failed after: %s", what);
    hull_agent_decoder_free(&d);
}

static void test_round_trips(void) {
    struct hull_agent_buf b = {0};
    struct hull_agent_decoder d;
    struct hull_agent_msg m;

    ok(hull_agent_put_hello(&b, HULL_AGENT_FEAT_PORTS | HULL_AGENT_FEAT_TERMINAL, "0.4.0", "6.1.0-56-amd64", &err) == 0,
       "encode HELLO");
    is_int(decode_one(HULL_AGENT_FROM_GUEST, b.data, b.len, &m, &d), 1, "decode HELLO");
    is_int(m.type, HULL_AGENT_HELLO, "HELLO type");
    is_int(m.u.hello.features, 3, "HELLO features");
    is_str(m.u.hello.agent_version, "0.4.0", "HELLO agent version");
    is_str(m.u.hello.kernel_release, "6.1.0-56-amd64", "HELLO kernel release");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    const char *cfg = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"}}";
    struct hull_agent_start s = {.root_kind = HULL_AGENT_ROOT_BLOCK, .root_fs = HULL_AGENT_FS_EROFS,
                                 .upper_kind = HULL_AGENT_UPPER_BLOCK, .upper_fs = HULL_AGENT_FS_EXT4,
                                 .stdio = HULL_AGENT_STDIO_PORTS, .config = cfg, .config_len = (uint32_t)strlen(cfg)};
    strcpy(s.root_source, "/dev/vda");
    strcpy(s.upper_source, "/dev/vdb");
    ok(hull_agent_put_start(&b, 7, &s, &err) == 0, "encode START");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode START");
    is_int(m.id, 7, "START exec id");
    is_int(m.u.start.root_kind, HULL_AGENT_ROOT_BLOCK, "START root kind");
    is_int(m.u.start.root_fs, HULL_AGENT_FS_EROFS, "START root fs");
    is_int(m.u.start.upper_kind, HULL_AGENT_UPPER_BLOCK, "START upper kind");
    is_int(m.u.start.upper_fs, HULL_AGENT_FS_EXT4, "START upper fs");
    is_int(m.u.start.stdio, HULL_AGENT_STDIO_PORTS, "START stdio mode");
    is_str(m.u.start.root_source, "/dev/vda", "START root source");
    is_str(m.u.start.upper_source, "/dev/vdb", "START upper source");
    ok(m.u.start.config_len == strlen(cfg) && !memcmp(m.u.start.config, cfg, strlen(cfg)), "START config bytes");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    const char *proc = "{\"args\":[\"id\"],\"cwd\":\"/\"}";
    ok(hull_agent_put_exec(&b, 9, proc, strlen(proc), &err) == 0, "encode EXEC");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode EXEC");
    ok(m.id == 9 && m.u.exec.len == strlen(proc) && !memcmp(m.u.exec.json, proc, m.u.exec.len), "EXEC id and JSON");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_signal(&b, 3, 15, HULL_AGENT_SIG_ALL, &err) == 0, "encode SIGNAL");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode SIGNAL");
    ok(m.id == 3 && m.u.signal.signo == 15 && m.u.signal.flags == HULL_AGENT_SIG_ALL, "SIGNAL fields");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_resize(&b, 3, 50, 132, &err) == 0, "encode RESIZE");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode RESIZE");
    ok(m.u.resize.rows == 50 && m.u.resize.cols == 132, "RESIZE rows/cols");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_data(&b, HULL_AGENT_STDIN, 4, "hello\n", 6, &err) == 0, "encode STDIN");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode STDIN");
    ok(m.type == HULL_AGENT_STDIN && m.u.data.len == 6 && !memcmp(m.u.data.bytes, "hello\n", 6), "STDIN bytes");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_data(&b, HULL_AGENT_STDERR, 4, NULL, 0, &err) == 0, "encode an empty STDERR");
    is_int(decode_one(HULL_AGENT_FROM_GUEST, b.data, b.len, &m, &d), 1, "decode an empty STDERR");
    is_int(m.u.data.len, 0, "empty data frame");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_stdin_close(&b, 4, 123456789012ull, &err) == 0, "encode STDIN_CLOSE");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode STDIN_CLOSE");
    ok(m.u.stdin_close_port_bytes == 123456789012ull, "STDIN_CLOSE 64-bit count");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_stdin_ack(&b, 4, 65536, &err) == 0 && hull_agent_put_started(&b, 4, 42, &err) == 0,
       "encode STDIN_ACK + STARTED into one buffer");
    hull_agent_decoder_init(&d, HULL_AGENT_FROM_GUEST, 0);
    size_t used = 0;
    is_int(hull_agent_decode(&d, b.data, b.len, &used, &m, &err), 1, "first of two frames");
    ok(m.type == HULL_AGENT_STDIN_ACK && m.u.stdin_ack == 65536 && used == 20, "STDIN_ACK, stops at its end");
    size_t used2 = 0;
    is_int(hull_agent_decode(&d, b.data + used, b.len - used, &used2, &m, &err), 1, "second frame");
    ok(m.type == HULL_AGENT_STARTED && m.u.started_pid == 42 && used + used2 == b.len, "STARTED pid");
    ok(hull_agent_decoder_finish(&d, &err) == 0, "stream ends on a frame boundary");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    struct hull_agent_exit x = {.status = hull_agent_status_signaled(9), .stdout_bytes = 10485760, .stderr_bytes = 1};
    ok(hull_agent_put_exit(&b, 1, &x, &err) == 0, "encode EXIT");
    is_int(decode_one(HULL_AGENT_FROM_GUEST, b.data, b.len, &m, &d), 1, "decode EXIT");
    ok(m.u.exit.status == 9 && m.u.exit.stdout_bytes == 10485760 && m.u.exit.stderr_bytes == 1, "EXIT fields");
    is_int(hull_agent_status_code(m.u.exit.status), 137, "SIGKILL is 137");
    is_int(hull_agent_status_code(hull_agent_status_exited(3)), 3, "exit 3 is 3");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    uint32_t pids[] = {1, 17, 4000000};
    ok(hull_agent_put_ps_request(&b, 77, &err) == 0 && hull_agent_put_ps_reply(&b, 77, pids, 3, &err) == 0,
       "encode PS_REQUEST and PS_REPLY");
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, 16, &m, &d), 1, "decode PS_REQUEST");
    is_int(m.id, 77, "PS_REQUEST tag");
    hull_agent_decoder_free(&d);
    is_int(decode_one(HULL_AGENT_FROM_GUEST, b.data + 16, b.len - 16, &m, &d), 1, "decode PS_REPLY");
    ok(m.id == 77 && m.u.ps.count == 3 && hull_agent_ps_pid(&m, 0) == 1 && hull_agent_ps_pid(&m, 2) == 4000000,
       "PS_REPLY pids");
    is_int(hull_agent_ps_pid(&m, 3), 0, "PS_REPLY entry past the count reads 0");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_error(&b, 5, HULL_AGENT_EXEC, 2, true, "exec \"nope\": no such file", &err) == 0, "encode ERROR");
    is_int(decode_one(HULL_AGENT_FROM_GUEST, b.data, b.len, &m, &d), 1, "ERROR decodes from the guest");
    ok(m.flags == HULL_AGENT_F_FATAL && m.u.error.code == 2 && m.u.error.req_type == HULL_AGENT_EXEC, "ERROR fields");
    is_str(m.u.error.message, "exec \"nope\": no such file", "ERROR message");
    hull_agent_decoder_free(&d);
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "ERROR decodes from the host too");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    char *big = malloc(HULL_AGENT_STR_MAX + 100);
    memset(big, 'x', HULL_AGENT_STR_MAX + 99);
    big[HULL_AGENT_STR_MAX + 99] = '\0';
    ok(hull_agent_put_error(&b, 0, 0, 5, false, big, &err) == 0, "an over-long ERROR message is cut, not refused");
    is_int(decode_one(HULL_AGENT_FROM_GUEST, b.data, b.len, &m, &d), 1, "decode the cut ERROR");
    is_int(strlen(m.u.error.message), HULL_AGENT_STR_MAX, "cut at HULL_AGENT_STR_MAX");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    /* START with an over-long path is refused and appends nothing. */
    struct hull_agent_start s2 = s;
    ok(hull_agent_put_poweroff(&b, &err) == 0, "encode POWEROFF");
    size_t before = b.len;
    struct hull_agent_start *ps2 = &s2;
    memset(ps2->root_source, 'a', HULL_AGENT_STR_MAX);
    ps2->root_source[HULL_AGENT_STR_MAX] = '\0';
    ok(hull_agent_put_start(&b, 1, ps2, &err) == 0, "a root_source of exactly STR_MAX bytes encodes");
    b.len = before;
    free(big);
    is_int(decode_one(HULL_AGENT_FROM_HOST, b.data, b.len, &m, &d), 1, "decode POWEROFF");
    is_int(m.type, HULL_AGENT_POWEROFF, "POWEROFF type");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(hull_agent_put_frame(&b, 0, 0, 0, NULL, 0, &err) < 0 && b.len == 0, "encoding type 0 is refused");
    ok(hull_agent_put_data(&b, HULL_AGENT_EXIT, 1, "x", 1, &err) < 0 && b.len == 0, "EXIT is not a data frame");
}

/* A long mixed stream, fed one byte at a time and in odd-sized pieces. */
static void test_split_feeds(void) {
    struct hull_agent_buf b = {0};
    size_t big_len = 3 * HULL_AGENT_DATA_CHUNK + 1234;
    uint8_t *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++) big[i] = (uint8_t)(i * 131 + 7);
    hull_agent_put_hello(&b, 1, "v", "k", &err);
    hull_agent_put_data(&b, HULL_AGENT_STDOUT, 1, big, big_len, &err);
    hull_agent_put_started(&b, 2, 99, &err);
    struct hull_agent_exit x = {.status = hull_agent_status_exited(3), .stdout_bytes = big_len};
    hull_agent_put_exit(&b, 1, &x, &err);
    size_t want_frames = 1 + 4 + 1 + 1;

    for (int pass = 0; pass < 2; pass++) {
        struct hull_agent_decoder d;
        hull_agent_decoder_init(&d, HULL_AGENT_FROM_GUEST, 0);
        uint8_t *got = malloc(big_len);
        size_t got_len = 0, frames = 0, off = 0, step = pass == 0 ? 1 : 0;
        int bad = 0, exit_status = -1;
        while (off < b.len) {
            size_t n = step ? step : 1 + (off * 7919) % 5000;   /* odd, varying sizes */
            if (n > b.len - off) n = b.len - off;
            size_t p = 0;
            while (p < n) {
                struct hull_agent_msg m;
                size_t used;
                int rc = hull_agent_decode(&d, b.data + off + p, n - p, &used, &m, &err);
                if (rc < 0) { bad++; diag("%s", err.msg); break; }
                p += used;
                if (rc == 1) {
                    frames++;
                    if (m.type == HULL_AGENT_STDOUT) {
                        memcpy(got + got_len, m.u.data.bytes, m.u.data.len);
                        got_len += m.u.data.len;
                    }
                    if (m.type == HULL_AGENT_EXIT) exit_status = hull_agent_status_code(m.u.exit.status);
                }
            }
            if (bad) break;
            off += n;
        }
        const char *how = pass == 0 ? "byte by byte" : "in odd pieces";
        ok(!bad, "no decode error %s", how);
        is_int(frames, want_frames, "all frames %s", how);
        ok(got_len == big_len && !memcmp(got, big, big_len), "STDOUT data intact across chunks %s", how);
        is_int(exit_status, 3, "EXIT last %s", how);
        ok(hull_agent_decoder_finish(&d, &err) == 0, "ends on a boundary %s", how);
        free(got);
        hull_agent_decoder_free(&d);
    }

    /* Truncation at every possible point of one frame is reported at the end. */
    int truncated_ok = 0, positions = 0;
    struct hull_agent_buf one = {0};
    hull_agent_put_exit(&one, 1, &x, &err);
    for (size_t cut = 1; cut < one.len; cut++) {
        struct hull_agent_decoder d;
        struct hull_agent_msg m;
        size_t used;
        hull_agent_decoder_init(&d, HULL_AGENT_FROM_GUEST, 0);
        int rc = hull_agent_decode(&d, one.data, cut, &used, &m, &err);
        positions++;
        if (rc == 0 && used == cut && hull_agent_decoder_finish(&d, &err) < 0 && strstr(err.msg, "stream ended inside"))
            truncated_ok++;
        hull_agent_decoder_free(&d);
    }
    is_int(truncated_ok, positions, "a stream cut at any of %d points inside a frame is reported as truncated", positions);
    hull_agent_buf_free(&one);

    /* Output queue: consume then append compacts instead of growing forever. */
    struct hull_agent_buf q = {0};
    for (int i = 0; i < 1000; i++) {
        hull_agent_put_started(&q, 1, 1, &err);
        hull_agent_buf_consume(&q, 10);
        hull_agent_buf_consume(&q, 10);
    }
    ok(hull_agent_buf_pending(&q) == 0 && q.cap <= 4096, "queue compacts (cap %zu)", q.cap);
    hull_agent_buf_free(&q);
    hull_agent_buf_free(&b);
    free(big);
}

static void test_malformed(void) {
    uint8_t f[512], pl[256];
    size_t n;

    n = raw(f, 0x12345678, 1, HULL_AGENT_POWEROFF, 0, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "bad magic", "bad magic");
    n = raw(f, HULL_AGENT_MAGIC, 2, HULL_AGENT_POWEROFF, 0, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "version 2", "other version");
    n = raw(f, HULL_AGENT_MAGIC, 1, 0, 0, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "unknown frame type 0", "type 0");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_TYPE__MAX + 1, 0, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "unknown frame type", "type past the last");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_START, 0, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "START is not valid from the guest", "START from the guest");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_EXIT, 0, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "EXIT is not valid from the host", "EXIT from the host");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_POWEROFF, 0x8000, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "unknown flags", "unknown flag bits");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_POWEROFF, HULL_AGENT_F_FATAL, 0, 0, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "only valid on ERROR", "FATAL on POWEROFF");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_POWEROFF, 0, 0, 64, NULL, 0);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "id must be 0", "POWEROFF for an exec id");
    /* Oversize is refused from the header alone: no need to send (or buffer) the payload. */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_STDOUT, 0, HULL_AGENT_MAX_PAYLOAD + 1, 1, NULL, 0);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "exceeds the limit", "payload above the hard limit");
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_STDOUT, 0, 0xffffffffu, 1, NULL, 0);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "exceeds the limit", "payload length 4 GiB");
    {
        struct hull_agent_decoder d;
        struct hull_agent_msg m;
        size_t used;
        hull_agent_decoder_init(&d, HULL_AGENT_FROM_GUEST, 1024);
        n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_STDOUT, 0, 1025, 1, NULL, 0);
        ok(hull_agent_decode(&d, f, n, &used, &m, &err) == -EMSGSIZE, "a decoder's own smaller limit applies");
        hull_agent_decoder_free(&d);
    }

    /* Payloads too short for their type. */
    static const struct { uint8_t type; enum hull_agent_dir dir; uint32_t len; const char *name; } shorts[] = {
        {HULL_AGENT_SIGNAL, HULL_AGENT_FROM_HOST, 7, "SIGNAL"},
        {HULL_AGENT_RESIZE, HULL_AGENT_FROM_HOST, 3, "RESIZE"},
        {HULL_AGENT_STDIN_CLOSE, HULL_AGENT_FROM_HOST, 7, "STDIN_CLOSE"},
        {HULL_AGENT_STDIN_ACK, HULL_AGENT_FROM_GUEST, 2, "STDIN_ACK"},
        {HULL_AGENT_STARTED, HULL_AGENT_FROM_GUEST, 3, "STARTED"},
        {HULL_AGENT_EXIT, HULL_AGENT_FROM_GUEST, 19, "EXIT"},
        {HULL_AGENT_PS_REPLY, HULL_AGENT_FROM_GUEST, 3, "PS_REPLY"},
        {HULL_AGENT_ERROR, HULL_AGENT_FROM_GUEST, 9, "ERROR"},
        {HULL_AGENT_HELLO, HULL_AGENT_FROM_GUEST, 5, "HELLO"},
        {HULL_AGENT_START, HULL_AGENT_FROM_HOST, 8, "START"},
        {HULL_AGENT_EXEC, HULL_AGENT_FROM_HOST, 3, "EXEC"},
    };
    memset(pl, 0, sizeof pl);
    pl[0] = 1;   /* a valid START root_kind, harmless for the others */
    for (size_t i = 0; i < sizeof shorts / sizeof *shorts; i++) {
        n = raw(f, HULL_AGENT_MAGIC, 1, shorts[i].type, 0, shorts[i].len, 1, pl, shorts[i].len);
        char what[64];
        snprintf(what, sizeof what, "short %s payload", shorts[i].name);
        expect_bad(shorts[i].dir, f, n, "truncated", what);
    }

    /* Trailing bytes after a complete payload. */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_POWEROFF, 0, 1, 0, "x", 1);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "trailing", "POWEROFF with a payload");
    memset(pl, 0, 12);
    pl[0] = 9;
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_SIGNAL, 0, 12, 1, pl, 12);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "trailing", "SIGNAL with 4 extra bytes");

    /* Field values. */
    memset(pl, 0, 8);
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_SIGNAL, 0, 8, 1, pl, 8);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "out of range", "signal 0");
    pl[0] = 65;
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_SIGNAL, 0, 8, 1, pl, 8);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "out of range", "signal 65");
    pl[0] = 9;
    pl[4] = 2;
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_SIGNAL, 0, 8, 1, pl, 8);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "unknown bits", "SIGNAL flag bit 1");
    memset(pl, 0, 4);
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_STARTED, 0, 4, 1, pl, 4);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "out of range", "STARTED pid 0");
    memset(pl, 0, 20);
    le32(pl, 0x7f);   /* "stopped" shape */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_EXIT, 0, 20, 1, pl, 20);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "not an exit or a signal", "EXIT with a stopped status");
    le32(pl, 0x10000);
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_EXIT, 0, 20, 1, pl, 20);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "not an exit or a signal", "EXIT status above 0xff00");
    le32(pl, 1000000);   /* PS count far beyond the payload */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_PS_REPLY, 0, 8, 1, pl, 8);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "PS_REPLY: count", "PS count beyond the payload");

    /* Strings: NUL inside, longer than the limit, longer than the payload. */
    memset(pl, 0, sizeof pl);
    pl[4] = 3;                               /* agent_version length 3 */
    memcpy(pl + 6, "a\0b", 3);
    pl[9] = 0;                               /* kernel_release length 0 */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_HELLO, 0, 11, 0, pl, 11);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "NUL byte", "a string with a NUL");
    memset(pl, 0, sizeof pl);
    pl[4] = 0xff; pl[5] = 0xff;              /* length 65535 */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_HELLO, 0, 8, 0, pl, 8);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "above", "a string longer than STR_MAX");
    memset(pl, 0, sizeof pl);
    pl[4] = 100;                             /* length 100, 4 bytes present */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_HELLO, 0, 10, 0, pl, 10);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "truncated", "a string past the payload end");

    /* START: enums, reserved bytes, blob length, cross-field rules. */
    struct { uint8_t b[8]; const char *needle, *what; } starts[] = {
        {{3, 1, 0, 0, 0, 0, 0, 0}, "root_kind", "START root_kind 3"},
        {{1, 3, 0, 0, 0, 0, 0, 0}, "root_fs", "START root_fs 3"},
        {{1, 0, 3, 0, 0, 0, 0, 0}, "upper_kind", "START upper_kind 3"},
        {{1, 0, 0, 0, 2, 0, 0, 0}, "stdio", "START stdio 2"},
        {{1, 0, 0, 0, 0, 2, 0, 0}, "flags", "START flag bit 1"},
        {{1, 0, 0, 0, 0, 0, 1, 0}, "must be zero", "START reserved byte"},
        {{2, 0, 0, 0, 0, 0, 0, 0}, "needs a filesystem", "START block root without a fs"},
        {{1, 0, 2, 0, 0, 0, 0, 0}, "block upper", "START block upper without a source"},
    };
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++) {
        memset(pl, 0, sizeof pl);
        memcpy(pl, starts[i].b, 8);
        pl[8] = 4;
        memcpy(pl + 10, "/dev", 4);          /* root_source */
        /* upper_source: length 0 at 14..15; config blob length 2 at 16..19 + "{}" */
        pl[16] = 2;
        memcpy(pl + 20, "{}", 2);
        n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_START, 0, 22, 1, pl, 22);
        expect_bad(HULL_AGENT_FROM_HOST, f, n, starts[i].needle, starts[i].what);
    }
    memset(pl, 0, sizeof pl);
    pl[0] = 1;
    pl[8] = 4;
    memcpy(pl + 10, "/dev", 4);
    pl[16] = 200;                            /* config blob says 200, only 2 present */
    memcpy(pl + 20, "{}", 2);
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_START, 0, 22, 1, pl, 22);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "truncated at config", "START config blob past the end");
    memset(pl, 0, sizeof pl);
    pl[0] = 1;                               /* empty root_source */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_START, 0, 16, 1, pl, 16);
    expect_bad(HULL_AGENT_FROM_HOST, f, n, "root_source: empty", "START without a root");
    memset(pl, 0, sizeof pl);
    pl[4] = 0x20;                            /* ERROR req_type 32 */
    n = raw(f, HULL_AGENT_MAGIC, 1, HULL_AGENT_ERROR, 0, 10, 0, pl, 10);
    expect_bad(HULL_AGENT_FROM_GUEST, f, n, "req_type", "ERROR about an unknown request");

    /* A good frame, then garbage: the first decodes, the second fails. */
    struct hull_agent_buf b = {0};
    hull_agent_put_started(&b, 1, 5, &err);
    hull_agent_buf_append(&b, "garbage-garbage-garbage", 23, &err);
    struct hull_agent_decoder d;
    struct hull_agent_msg m;
    size_t used;
    hull_agent_decoder_init(&d, HULL_AGENT_FROM_GUEST, 0);
    is_int(hull_agent_decode(&d, b.data, b.len, &used, &m, &err), 1, "good frame before garbage");
    ok(hull_agent_decode(&d, b.data + used, b.len - used, &used, &m, &err) == -EPROTO, "garbage after it fails");
    like(err.msg, "(frame 2)", "the message names the frame number");
    hull_agent_decoder_free(&d);
    hull_agent_buf_free(&b);

    ok(!hull_agent_type_valid(HULL_AGENT_STDOUT, HULL_AGENT_FROM_HOST) &&
       hull_agent_type_valid(HULL_AGENT_STDOUT, HULL_AGENT_FROM_GUEST) &&
       hull_agent_type_valid(HULL_AGENT_ERROR, HULL_AGENT_FROM_HOST), "direction table");
    is_str(hull_agent_type_name(HULL_AGENT_PS_REPLY), "PS_REPLY", "type names");
    is_str(hull_agent_type_name(200), "?", "unknown type name");
}

int main(void) {
    test_round_trips();
    test_split_feeds();
    test_malformed();
    return done_testing();
}
