/* Address-range dispatch for guest port I/O and MMIO exits. A device
 * registers [base, base+len) with a handler that receives the offset inside
 * its range; accesses nobody claims read as all-ones and writes vanish,
 * which is what a real bus does with unassigned addresses. */
#ifndef HULL_VM_CORE_BUS_H
#define HULL_VM_CORE_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

/* len is 1, 2, 4 or 8; data is little-endian guest bytes. On reads the
 * handler fills data[0..len). */
typedef void (*vm_io_fn)(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);

struct vm_bus_range {
    uint64_t base, len;
    vm_io_fn fn;
    void *opaque;
};

#define VM_BUS_MAX_RANGES 32

struct vm_bus {
    struct vm_bus_range r[VM_BUS_MAX_RANGES];
    unsigned n;
};

/* Rejects empty, wrapping or overlapping ranges. */
int vm_bus_add(struct vm_bus *b, uint64_t base, uint64_t len, vm_io_fn fn, void *opaque, struct hull_err *err);
/* true when some device handled it (the whole access must fit in one range). */
bool vm_bus_access(const struct vm_bus *b, uint64_t addr, uint8_t *data, unsigned len, bool is_write);

#endif
