/* Guest physical memory: a few regions, each a host mapping of guest RAM.
 * This is the ONLY way the VMM reaches guest RAM: every device goes through
 * vm_mem_ptr()/vm_mem_read()/vm_mem_write()/vm_mem_load16()..., which accept
 * a (gpa, len) only when the whole range lies inside one region. A hostile
 * guest can hand us any 64-bit address/length; the arithmetic below never
 * overflows and never yields a pointer outside a mapping. */
#ifndef HULL_VM_CORE_MEM_H
#define HULL_VM_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define VM_MEM_MAX_REGIONS 8

/* vm_mem_add flags */
#define VM_MEM_MEMFD   0x1u   /* back with a memfd (shareable, e.g. with a vhost-user backend later) */
#define VM_MEM_HUGE    0x2u   /* ask for 2 MiB pages (MAP_HUGETLB / MFD_HUGETLB); fails if none are free */

struct vm_mem_region {
    uint64_t gpa;     /* guest physical base */
    uint64_t size;    /* bytes, > 0 */
    uint8_t *host;    /* host mapping of [gpa, gpa+size) */
    int fd;           /* memfd or -1 */
    bool owned;       /* we mmap'ed it: munmap on free */
};

struct vm_mem {
    struct vm_mem_region r[VM_MEM_MAX_REGIONS];
    unsigned n;
};

void vm_mem_init(struct vm_mem *m);
/* Maps `size` bytes of fresh zeroed RAM at guest address `gpa`. size must be a
 * multiple of the page size; the range must not overflow or overlap another. */
int vm_mem_add(struct vm_mem *m, uint64_t gpa, uint64_t size, unsigned flags, struct hull_err *err);
/* Registers caller-owned host memory (tests, fuzzers); never unmapped by us. */
int vm_mem_add_host(struct vm_mem *m, uint64_t gpa, uint64_t size, void *host, struct hull_err *err);
/* Unmaps owned regions, closes memfds; leaves m empty (safe to call twice). */
void vm_mem_free(struct vm_mem *m);

/* Host pointer for [gpa, gpa+len) if len > 0 and the whole range is inside
 * one region; NULL otherwise. */
void *vm_mem_ptr(const struct vm_mem *m, uint64_t gpa, uint64_t len);
/* Copy out of / into guest RAM; 0 or -EFAULT (nothing copied). */
int vm_mem_read(const struct vm_mem *m, uint64_t gpa, void *dst, size_t len);
int vm_mem_write(const struct vm_mem *m, uint64_t gpa, const void *src, size_t len);

/* Ring index/flag accesses: naturally aligned, single-copy atomic with the
 * ordering the virtio ring protocol needs (acquire on loads of what the driver
 * published, release on stores that publish to the driver). -EFAULT when out
 * of range or misaligned. */
int vm_mem_load16(const struct vm_mem *m, uint64_t gpa, uint16_t *v);
int vm_mem_store16(const struct vm_mem *m, uint64_t gpa, uint16_t v);

#endif
