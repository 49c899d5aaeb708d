/* Shared by the files of vm/boot/; not for other callers. */
#ifndef HULL_VM_BOOT_INTERNAL_H
#define HULL_VM_BOOT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/boot/boot.h"

#define BOOT_E820_RAM       1
#define BOOT_E820_RESERVED  2
#define BOOT_E820_MAX       (VM_MEM_MAX_REGIONS + 2)

struct boot_e820 {
    uint64_t addr, size;
    uint32_t type;
};

/* Guest RAM as the kernel will be told about it. */
struct boot_map {
    struct boot_e820 e[BOOT_E820_MAX];
    unsigned n;
    uint64_t low_end;          /* end of the RAM region that starts at 0 */
};

/* An opened kernel or initrd: a regular file of known size. */
struct boot_file {
    int fd;
    uint64_t size;
    const char *path;
};

/* boot_file.c */
int boot_map_from_mem(const struct vm_mem *mem, struct boot_map *m, struct hull_err *err);
int boot_file_open(struct boot_file *f, const char *path, const char *what, struct hull_err *err);
void boot_file_close(struct boot_file *f);
/* Exactly len bytes at off, or an error naming the file ("truncated"). */
int boot_file_read(const struct boot_file *f, uint64_t off, void *dst, size_t len, struct hull_err *err);
/* File bytes [off, off+len) to guest [gpa, gpa+len): both ranges checked. */
int boot_file_to_guest(const struct vm_mem *mem, const struct boot_file *f, uint64_t off, uint64_t len,
                       uint64_t gpa, struct hull_err *err);
/* The cmdline at BOOT_CMDLINE_ADDR; max_len excludes the NUL. */
int boot_write_cmdline(const struct vm_mem *mem, const char *cmdline, uint64_t max_len, struct hull_err *err);
/* Places the initrd as high as possible, page-aligned, inside
 * [floor, ceiling) and inside the RAM region at 0. */
int boot_load_initrd(const struct vm_mem *mem, const struct boot_map *m, const char *path, uint64_t floor,
                     uint64_t ceiling, uint64_t *addr, uint64_t *size, struct hull_err *err);

/* bzimage.c / pvh.c, called by params.c's boot_load(): the kernel file is open; the header's first
 * bytes (len of them, at most 4096) are in head. */
int boot_bzimage_load(const struct vm_mem *mem, const struct boot_config *cfg, const struct boot_file *k,
                      const uint8_t *head, size_t len, const struct boot_map *m, struct boot_entry *out,
                      struct hull_err *err);
int boot_pvh_load(const struct vm_mem *mem, const struct boot_config *cfg, const struct boot_file *k,
                  const uint8_t *head, size_t len, const struct boot_map *m, struct boot_entry *out,
                  struct hull_err *err);
bool boot_is_bzimage(const uint8_t *head, size_t len);
bool boot_is_elf(const uint8_t *head, size_t len);

/* cpu.c: GDT and identity page tables in guest memory. */
int boot_write_cpu_tables(const struct vm_mem *mem, struct hull_err *err);

/* mptable.c */
int mptable_write(const struct vm_mem *mem, unsigned nvcpus, const struct boot_pci_intx *intx, unsigned nintx,
                  struct hull_err *err);

#endif
