/* The driver side of a split virtqueue, written over a struct vm_mem: what
 * a guest's virtio driver does, for the unit tests, the fuzzer and host-side
 * checks of the tier-2 guests. Not used by the VMM itself. */
#ifndef HULL_TESTS_LIB_VIRTQ_SIM_H
#define HULL_TESTS_LIB_VIRTQ_SIM_H

#include <stdint.h>

#include "vm/devices/virtio/virtq.h"

struct virtq_sim {
    const struct vm_mem *mem;
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t avail_idx;   /* next available slot the "driver" fills */
    uint16_t used_seen;   /* used entries consumed by virtq_sim_used */
};

/* Lays the three areas out contiguously from `base` (16-byte aligned). */
void virtq_sim_init(struct virtq_sim *s, const struct vm_mem *mem, uint16_t size, uint64_t base);
/* Writes descriptor idx of the table at `table` (s->desc for the ring's own). */
int virtq_sim_desc(const struct virtq_sim *s, uint64_t table, uint16_t idx, uint64_t addr, uint32_t len,
                   uint16_t flags, uint16_t next);
/* Publishes head in the available ring. */
int virtq_sim_publish(struct virtq_sim *s, uint16_t head);
/* Starts both rings' indices at `idx` (wrap-around tests): call before the
 * device's virtq_configure, then set the device's last_avail/used_idx too. */
int virtq_sim_set_indices(struct virtq_sim *s, uint16_t idx);
/* 1 and the element when the device returned one since the last call, 0 if not. */
int virtq_sim_used(struct virtq_sim *s, uint32_t *id, uint32_t *len);
/* avail->flags / used_event (avail->ring[size]) */
int virtq_sim_avail_flags(const struct virtq_sim *s, uint16_t flags);
int virtq_sim_used_event(const struct virtq_sim *s, uint16_t ev);

#endif
