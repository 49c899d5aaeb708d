/* Split virtqueues (virtio 1.x, section 2.7): the device side.
 *
 * The driver (guest) owns three areas in guest RAM: the descriptor table, the
 * available ring and the used ring. Everything read from them is untrusted:
 * virtq_pop() copies each descriptor out of guest RAM once (no double fetch),
 * validates it and resolves its buffer through vm_mem_ptr(), so a device only
 * ever sees host pointers that lie inside guest RAM. Any malformed ring makes
 * virtq_pop() fail with a message; the device core then marks the device
 * DEVICE_NEEDS_RESET and stops touching the queue. */
#ifndef HULL_VM_DEVICES_VIRTIO_VIRTQ_H
#define HULL_VM_DEVICES_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/error.h"
#include "vm/core/mem.h"

#define VIRTQ_MAX_SIZE 32768u

#define VIRTQ_DESC_F_NEXT      1u
#define VIRTQ_DESC_F_WRITE     2u
#define VIRTQ_DESC_F_INDIRECT  4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY     1u

/* Feature bits that concern the ring itself. */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

struct virtq_desc {          /* guest layout, little-endian (x86 host) */
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* One popped chain: iov[0..n_out) are device-readable buffers, then
 * iov[n_out..n_out+n_in) device-writable ones (the spec requires readable
 * descriptors first; we enforce it). Zero-length descriptors are counted
 * against the chain bound but produce no iovec. iov points into the queue's
 * scratch array: valid until the next virtq_pop() on the same queue. */
struct virtq_chain {
    uint16_t head;
    unsigned n_out, n_in;
    uint64_t out_len, in_len;  /* total bytes of each part */
    struct iovec *iov;
};

struct virtq {
    const struct vm_mem *mem;
    uint16_t max_size;       /* device limit, power of two */
    uint16_t size;           /* driver's choice, set by virtq_configure */
    bool ready;
    bool indirect;           /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool event_idx;          /* VIRTIO_RING_F_EVENT_IDX negotiated */
    uint64_t desc, avail, used;   /* guest physical addresses */
    uint16_t last_avail;     /* next available-ring slot to consume */
    uint16_t used_idx;       /* our copy of used->idx */
    uint16_t signalled_used; /* used_idx when we last interrupted the driver */
    bool signalled_valid;
    struct iovec *scratch;   /* size entries */
};

void virtq_init(struct virtq *q, const struct vm_mem *mem, uint16_t max_size);
/* Validates and activates the queue the driver described: size a power of two
 * <= max_size, areas aligned (16/2/4) and inside guest RAM. features are the
 * negotiated feature bits. */
int virtq_configure(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
                    uint64_t features, struct hull_err *err);
/* Back to the post-init state (device reset); frees the scratch array. */
void virtq_reset(struct virtq *q);

/* 1: a chain was popped into *c; 0: ring empty; <0: malformed ring (err set). */
int virtq_pop(struct virtq *q, struct virtq_chain *c, struct hull_err *err);
/* Returns the chain to the driver with `written` bytes in its writable part
 * (clamped to what the chain offers). 0 or <0 (used ring unreachable). */
int virtq_push(struct virtq *q, const struct virtq_chain *c, uint32_t written, struct hull_err *err);
/* After pushes: does the driver want an interrupt (EVENT_IDX or NO_INTERRUPT)? */
bool virtq_need_interrupt(struct virtq *q);

/* Copy between a chain's parts and a host buffer, starting `off` bytes into
 * the part; return bytes copied (short when the part is shorter). */
size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len);
size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len);

#endif
