/* Split virtqueues against a simulated guest: chains, indirect tables, ring
 * wrap-around, hostile addresses and lengths, and the device core's broken
 * state. Every malformed input must be an error, never a crash (ASan). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vm/devices/virtio/dev.h"
#include "tests/lib/virtq_sim.h"
#include "tests/lib/virtq_testlib.h"

#define RAM   0x100000ull
#define RING  0x1000ull
#define DATA  0x40000ull
#define ITAB  0x80000ull
#define QS    8

static struct vm_mem mem;
static uint8_t *ram;
static const uint64_t ALL = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                            (1ull << VIRTIO_RING_F_EVENT_IDX);

static void fresh(struct virtq *q, struct virtq_sim *s, uint64_t features) {
    memset(ram, 0, RAM);
    virtq_sim_init(s, &mem, QS, RING);
    free(q->scratch);   /* callers zero-initialise q */
    virtq_init(q, &mem, 256);
    struct hull_err err;
    if (virtq_configure(q, QS, s->desc, s->avail, s->used, features, &err) < 0)
        diag("configure: %s", err.msg);
}

/* Publishes head and pops; returns virtq_pop's result with err filled. */
static int pub_pop(struct virtq *q, struct virtq_sim *s, uint16_t head, struct virtq_chain *c, struct hull_err *err) {
    virtq_sim_publish(s, head);
    hull_err_clear(err);
    return virtq_pop(q, c, err);
}

static void test_configure(void) {
    struct virtq q = {0};
    struct virtq_sim s;
    struct hull_err err;
    fresh(&q, &s, ALL);
    ok(q.ready, "configure a valid queue");
    virtq_reset(&q);
    ok(virtq_configure(&q, 6, s.desc, s.avail, s.used, ALL, &err) < 0, "size 6 (not a power of two) refused");
    ok(virtq_configure(&q, 512, s.desc, s.avail, s.used, ALL, &err) < 0, "size above the device maximum refused");
    ok(virtq_configure(&q, 0, s.desc, s.avail, s.used, ALL, &err) < 0, "size 0 refused");
    ok(virtq_configure(&q, QS, s.desc + 8, s.avail, s.used, ALL, &err) < 0, "misaligned descriptor table refused");
    ok(virtq_configure(&q, QS, s.desc, s.avail, s.used + 2, ALL, &err) < 0, "misaligned used ring refused");
    ok(virtq_configure(&q, QS, RAM - 64, s.avail, s.used, ALL, &err) < 0, "table running past RAM refused");
    ok(virtq_configure(&q, QS, s.desc, UINT64_MAX - 1, s.used, ALL, &err) < 0, "avail ring at 2^64-2 refused");
    ok(!q.ready, "queue stays disabled");
    virtq_reset(&q);
}

static void test_chains(void) {
    struct virtq q = {0};
    struct virtq_sim s;
    struct virtq_chain c;
    struct hull_err err;
    uint32_t id, len;

    fresh(&q, &s, ALL);
    is_int(virtq_pop(&q, &c, &err), 0, "empty ring pops nothing");
    memcpy(ram + DATA, "hello", 5);
    virtq_sim_desc(&s, s.desc, 0, DATA, 5, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, s.desc, 1, DATA + 0x100, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);  /* zero-length */
    virtq_sim_desc(&s, s.desc, 2, DATA + 0x200, 64, VIRTQ_DESC_F_WRITE, 0);
    is_int(pub_pop(&q, &s, 0, &c, &err), 1, "3-descriptor chain popped");
    is_int(c.n_out, 1, "one readable buffer");
    is_int(c.n_in, 1, "one writable buffer (zero-length skipped)");
    is_int(c.out_len, 5, "readable bytes");
    is_int(c.in_len, 64, "writable bytes");
    char b[8] = {0};
    is_int(virtq_chain_read(&c, 0, b, sizeof(b)), 5, "read the readable part");
    is_str(b, "hello", "contents");
    is_int(virtq_chain_write(&c, 60, "abcdefgh", 8), 4, "write clamps at the end of the writable part");
    is_int(virtq_push(&q, &c, 1000, &err), 0, "push");
    ok(virtq_sim_used(&s, &id, &len) && id == 0 && len == 64, "used element: head 0, length clamped to 64");
    is_int(virtq_pop(&q, &c, &err), 0, "ring empty again");

    /* Hostile chains. */
    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, s.desc, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "looping chain (0 -> 1 -> 0) is an error");
    like(err.msg, "longer than the queue", "loop reported as overlong chain");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 3, DATA, 16, VIRTQ_DESC_F_NEXT, 3);
    ok(pub_pop(&q, &s, 3, &c, &err) < 0, "self-loop is an error");

    fresh(&q, &s, ALL);
    for (uint16_t i = 0; i < QS; i++)
        virtq_sim_desc(&s, s.desc, i, DATA + 16 * i, 16, i + 1 < QS ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    is_int(pub_pop(&q, &s, 0, &c, &err), 1, "chain of exactly queue size is fine");
    is_int(c.n_out, QS, "all descriptors seen");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, DATA, 16, VIRTQ_DESC_F_NEXT, QS);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "next index beyond the table");

    fresh(&q, &s, ALL);
    ok(pub_pop(&q, &s, QS + 3, &c, &err) < 0, "head index beyond the table");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, RAM - 8, 16, 0, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "buffer straddling the end of RAM");
    like(err.msg, "outside guest memory", "message names the problem");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, UINT64_MAX - 4, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "gpa+len overflowing 64 bits");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, DATA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, s.desc, 1, DATA, 16, 0, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "readable after writable is an error");

    /* Overlapping buffers (each other and the ring itself) are legal; the
     * device copes (memmove), nothing outside RAM is touched. */
    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, s.desc, 64, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, s.desc, 1, s.desc + 8, 64, VIRTQ_DESC_F_WRITE, 0);
    is_int(pub_pop(&q, &s, 0, &c, &err), 1, "buffers overlapping each other and the table");
    char big[64];
    uint8_t before[256];
    memcpy(before, ram + s.desc, sizeof before);
    is_int(virtq_chain_read(&c, 0, big, 64), 64, "read 64 bytes of the readable part (over the table)");
    ok(!memcmp(big, before, 64), "  the bytes read are the table's");
    is_int(virtq_chain_write(&c, 0, big, 64), 64, "write them to the overlapping writable part");
    ok(!memcmp(ram + s.desc + 8, before, 64), "  they land 8 bytes further on");
    ok(!memcmp(ram + s.desc, before, 8) && !memcmp(ram + s.desc + 72, before + 72, sizeof before - 72),
       "  nothing outside the writable part changed");

    fresh(&q, &s, ALL);
    vm_mem_store16(&mem, s.avail + 2, QS + 1);
    ok(virtq_pop(&q, &c, &err) < 0, "avail index more than a ring ahead");
    like(err.msg, "ahead", "reported");
    virtq_reset(&q);
}

static void test_indirect(void) {
    struct virtq q = {0};
    struct virtq_sim s;
    struct virtq_chain c;
    struct hull_err err;

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, ITAB, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, ITAB, 1, DATA + 16, 32, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    virtq_sim_desc(&s, ITAB, 2, DATA + 64, 1, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_desc(&s, s.desc, 5, ITAB, 48, VIRTQ_DESC_F_INDIRECT, 0);
    is_int(pub_pop(&q, &s, 5, &c, &err), 1, "indirect table of 3");
    ok(c.head == 5 && c.n_out == 1 && c.n_in == 2 && c.in_len == 33, "parts from the indirect table");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, ITAB, 0, ITAB + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 16, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "nested indirect is an error");
    like(err.msg, "nested", "reported as nested");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 24, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "indirect length not a multiple of 16");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 0, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "zero-length indirect table");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, RAM - 32, 64, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "indirect table past the end of RAM");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 16 * (QS + 1), VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "indirect table longer than the queue");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "indirect with NEXT is an error");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, ITAB, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, ITAB, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "loop inside an indirect table");

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, ITAB, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 2);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "indirect next beyond its table");

    fresh(&q, &s, 1ull << VIRTIO_F_VERSION_1);
    virtq_sim_desc(&s, ITAB, 0, DATA, 16, 0, 0);
    virtq_sim_desc(&s, s.desc, 0, ITAB, 16, VIRTQ_DESC_F_INDIRECT, 0);
    ok(pub_pop(&q, &s, 0, &c, &err) < 0, "indirect without the feature negotiated");
    virtq_reset(&q);
}

static void test_wrap(void) {
    struct virtq q = {0};
    struct virtq_sim s;
    struct virtq_chain c;
    struct hull_err err;
    uint32_t id, len;

    fresh(&q, &s, ALL);
    virtq_sim_set_indices(&s, 65530);
    q.last_avail = q.used_idx = 65530;
    q.signalled_used = 65530;
    for (uint16_t i = 0; i < QS; i++)
        virtq_sim_desc(&s, s.desc, i, DATA + 64 * i, 64, VIRTQ_DESC_F_WRITE, 0);
    int popped = 0, used = 0, right = 1;
    for (int round = 0; round < 4; round++) {
        for (uint16_t i = 0; i < QS / 2; i++)
            virtq_sim_publish(&s, (uint16_t)((round * 4 + i) % QS));
        struct virtq_chain cs;
        while (virtq_pop(&q, &cs, &err) > 0) {
            popped++;
            virtq_push(&q, &cs, 7, &err);
        }
        while (virtq_sim_used(&s, &id, &len)) {
            right &= id == (uint32_t)(used % QS) && len == 7;
            used++;
        }
    }
    is_int(popped, 16, "16 chains across the 65535 -> 0 wrap");
    is_int(used, 16, "16 used elements back");
    ok(right, "in order, with lengths");
    is_int(q.last_avail, (uint16_t)(65530 + 16), "avail index wrapped");
    is_int(q.used_idx, (uint16_t)(65530 + 16), "used index wrapped");

    /* avail index exactly a ring ahead is fine; one more is not. */
    fresh(&q, &s, ALL);
    virtq_sim_set_indices(&s, 65535);
    q.last_avail = q.used_idx = 65535;
    vm_mem_store16(&mem, s.avail + 2, (uint16_t)(65535 + QS));
    ok(!virtq_empty(&q), "a full ring across the wrap is not empty");
    virtq_sim_desc(&s, s.desc, 0, DATA, 16, 0, 0);
    is_int(virtq_pop(&q, &c, &err), 1, "full ring across the wrap pops");
    virtq_reset(&q);
}

static void test_event_idx(void) {
    struct virtq q = {0};
    struct virtq_sim s;
    struct virtq_chain c;
    struct hull_err err;

    fresh(&q, &s, ALL);
    virtq_sim_desc(&s, s.desc, 0, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_used_event(&s, 0);
    pub_pop(&q, &s, 0, &c, &err);
    virtq_push(&q, &c, 1, &err);
    ok(virtq_need_interrupt(&q), "first completion interrupts (used_event 0)");
    pub_pop(&q, &s, 0, &c, &err);
    virtq_push(&q, &c, 1, &err);
    ok(!virtq_need_interrupt(&q), "used_event 0 already passed: no interrupt");
    virtq_sim_used_event(&s, 2);
    pub_pop(&q, &s, 0, &c, &err);
    virtq_push(&q, &c, 1, &err);
    ok(virtq_need_interrupt(&q), "used_event 2 reached: interrupt");
    is_int(virtq_pop(&q, &c, &err), 0, "empty");
    uint16_t ae;
    vm_mem_load16(&mem, s.used + 4 + 8 * QS, &ae);
    is_int(ae, 3, "avail_event published for the next entry");

    fresh(&q, &s, 1ull << VIRTIO_F_VERSION_1);
    virtq_sim_desc(&s, s.desc, 0, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_avail_flags(&s, VIRTQ_AVAIL_F_NO_INTERRUPT);
    pub_pop(&q, &s, 0, &c, &err);
    virtq_push(&q, &c, 1, &err);
    ok(!virtq_need_interrupt(&q), "NO_INTERRUPT honoured without EVENT_IDX");
    virtq_reset(&q);
}

/* ---- the device core: a model that consumes chains and fails on bad ones ---- */

static int config_irqs, queue_irqs;
static void on_queue(void *o, unsigned q) { queue_irqs++; }
static void on_config(void *o) { config_irqs++; }

static int echo_notify(struct virtio_dev *d, unsigned qi, struct hull_err *err) {
    struct virtq_chain c;
    int rc;
    while ((rc = virtq_pop(&d->vq[qi], &c, err)) > 0)
        virtio_dev_complete(d, qi, &c, 0);
    return rc;
}

static const struct virtio_dev_ops echo_ops = { .name = "echo", .device_id = 99, .queue_notify = echo_notify };

static void test_device_core(void) {
    struct virtio_dev d;
    struct virtq_sim s;
    struct hull_err err;
    memset(ram, 0, RAM);
    is_int(virtio_dev_init(&d, &echo_ops, NULL, &mem, 0, 1, 64, 0, &err), 0, "device init");
    d.irq = (struct virtio_irq){ on_queue, on_config, NULL };
    virtq_sim_init(&s, &mem, QS, RING);

    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    d.driver_features = 1ull << 40;   /* not offered */
    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ok(!(virtio_dev_get_status(&d) & VIRTIO_STATUS_FEATURES_OK), "unoffered feature: FEATURES_OK refused");
    d.driver_features = 1ull << VIRTIO_RING_F_EVENT_IDX;
    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ok(!(virtio_dev_get_status(&d) & VIRTIO_STATUS_FEATURES_OK), "legacy driver (no VERSION_1) refused");
    d.driver_features = 1ull << VIRTIO_F_VERSION_1;
    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    ok(virtio_dev_get_status(&d) & VIRTIO_STATUS_FEATURES_OK, "VERSION_1: FEATURES_OK accepted");
    virtio_dev_queue_enable(&d, 0, QS, s.desc, s.avail, s.used);
    virtio_dev_set_status(&d, 0x0f);
    ok(virtio_dev_running(&d), "DRIVER_OK");

    virtq_sim_desc(&s, s.desc, 0, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_publish(&s, 0);
    virtio_dev_notify(&d, 0);
    is_int(queue_irqs, 1, "completion interrupt");

    virtq_sim_desc(&s, s.desc, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 1);   /* self loop */
    virtq_sim_publish(&s, 1);
    virtio_dev_notify(&d, 0);
    ok(virtio_dev_get_status(&d) & VIRTIO_STATUS_NEEDS_RESET, "bad chain: DEVICE_NEEDS_RESET");
    is_int(config_irqs, 1, "config interrupt tells the driver");
    like(d.broken_err.msg, "virtio-echo: queue 0: virtqueue: chain at head 1", "reason kept for the log");
    virtq_sim_desc(&s, s.desc, 2, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_publish(&s, 2);
    virtio_dev_notify(&d, 0);
    is_int(queue_irqs, 1, "a broken device ignores further notifications");

    virtio_dev_set_status(&d, 0);
    ok(!d.broken && virtio_dev_get_status(&d) == 0 && !d.vq[0].ready, "reset clears the broken state and queues");

    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    virtio_dev_queue_enable(&d, 0, QS, s.desc, s.avail, s.used);
    ok(d.broken, "queue enabled before FEATURES_OK breaks the device");
    virtio_dev_set_status(&d, 0);
    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
    ok(d.broken, "DRIVER_OK without FEATURES_OK breaks the device");
    virtio_dev_set_status(&d, 0);
    d.driver_features = 1ull << VIRTIO_F_VERSION_1;
    virtio_dev_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    virtio_dev_queue_enable(&d, 0, QS, RAM - 16, s.avail, s.used);
    ok(d.broken, "queue with its table outside RAM breaks the device");
    virtio_dev_destroy(&d);
}

int main(void) {
    ram = aligned_alloc(4096, RAM);
    vm_mem_init(&mem);
    struct hull_err err;
    if (vm_mem_add_host(&mem, 0, RAM, ram, &err) < 0)
        bail_out("vm_mem_add_host (hull's own code) failed: %s", err.msg);
    test_configure();
    test_chains();
    test_indirect();
    test_wrap();
    test_event_idx();
    test_device_core();
    vm_mem_free(&mem);
    free(ram);
    return done_testing();
}
