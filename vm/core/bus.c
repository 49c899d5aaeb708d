/* PIO/MMIO range dispatch. A linear scan: a VM has a dozen ranges and the
 * exit itself costs microseconds, so a tree would buy nothing. */
#include "vm/core/bus.h"

#include <string.h>

int vm_bus_add(struct vm_bus *b, uint64_t base, uint64_t len, vm_io_fn fn, void *opaque, struct hull_err *err) {
    if (len == 0 || base + len < base)
        return hull_err_set(err, EINVAL, "bus: bad range 0x%llx+0x%llx", (unsigned long long)base, (unsigned long long)len);
    if (b->n == VM_BUS_MAX_RANGES)
        return hull_err_set(err, ENOSPC, "bus: more than %d ranges", VM_BUS_MAX_RANGES);
    for (unsigned i = 0; i < b->n; i++)
        if (base < b->r[i].base + b->r[i].len && b->r[i].base < base + len)
            return hull_err_set(err, EEXIST, "bus: range 0x%llx+0x%llx overlaps 0x%llx+0x%llx",
                                (unsigned long long)base, (unsigned long long)len,
                                (unsigned long long)b->r[i].base, (unsigned long long)b->r[i].len);
    b->r[b->n++] = (struct vm_bus_range){ base, len, fn, opaque };
    return 0;
}

bool vm_bus_access(const struct vm_bus *b, uint64_t addr, uint8_t *data, unsigned len, bool is_write) {
    for (unsigned i = 0; i < b->n; i++) {
        const struct vm_bus_range *r = &b->r[i];
        if (addr < r->base)
            continue;
        uint64_t off = addr - r->base;
        if (off < r->len && len <= r->len - off) {
            r->fn(r->opaque, off, data, len, is_write);
            return true;
        }
    }
    if (!is_write)
        memset(data, 0xff, len);
    return false;
}
