/* Driver side of a split ring over vm_mem (see virtq_sim.h). */
#include "tests/lib/virtq_sim.h"

#include <string.h>

void virtq_sim_init(struct virtq_sim *s, const struct vm_mem *mem, uint16_t size, uint64_t base) {
    memset(s, 0, sizeof(*s));
    s->mem = mem;
    s->size = size;
    s->desc = base;
    s->avail = base + 16ull * size;
    s->used = (s->avail + 6 + 2ull * size + 3) & ~3ull;
}

int virtq_sim_desc(const struct virtq_sim *s, uint64_t table, uint16_t idx, uint64_t addr, uint32_t len,
                   uint16_t flags, uint16_t next) {
    struct virtq_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
    return vm_mem_write(s->mem, table + 16ull * idx, &d, sizeof(d));
}

int virtq_sim_publish(struct virtq_sim *s, uint16_t head) {
    int rc = vm_mem_store16(s->mem, s->avail + 4 + 2ull * (s->avail_idx % s->size), head);
    if (rc < 0)
        return rc;
    s->avail_idx++;
    return vm_mem_store16(s->mem, s->avail + 2, s->avail_idx);
}

int virtq_sim_set_indices(struct virtq_sim *s, uint16_t idx) {
    s->avail_idx = s->used_seen = idx;
    int rc = vm_mem_store16(s->mem, s->avail + 2, idx);
    return rc < 0 ? rc : vm_mem_store16(s->mem, s->used + 2, idx);
}

int virtq_sim_used(struct virtq_sim *s, uint32_t *id, uint32_t *len) {
    uint16_t idx;
    if (vm_mem_load16(s->mem, s->used + 2, &idx) < 0 || idx == s->used_seen)
        return 0;
    uint32_t e[2];
    if (vm_mem_read(s->mem, s->used + 4 + 8ull * (s->used_seen % s->size), e, sizeof(e)) < 0)
        return 0;
    s->used_seen++;
    *id = e[0];
    *len = e[1];
    return 1;
}

int virtq_sim_avail_flags(const struct virtq_sim *s, uint16_t flags) {
    return vm_mem_store16(s->mem, s->avail, flags);
}

int virtq_sim_used_event(const struct virtq_sim *s, uint16_t ev) {
    return vm_mem_store16(s->mem, s->avail + 4 + 2ull * s->size, ev);
}
