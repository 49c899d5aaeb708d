/* See virtq_testlib.h. */
#include "tests/lib/virtq_testlib.h"

#include "vm/core/mem.h"

#define AVAIL_IDX(q) ((q)->avail + 2)      /* avail->idx, after the 16-bit flags */

bool virtq_empty(struct virtq *q) {
    uint16_t idx;
    if (!q->ready || vm_mem_load16(q->mem, AVAIL_IDX(q), &idx) < 0)
        return true;
    return idx == q->last_avail;
}
