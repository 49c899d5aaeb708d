/* bzImage through the 64-bit boot protocol (Documentation/arch/x86/boot.rst):
 * the setup header is copied from the image into a zero page, the
 * protected-mode part (the compressed kernel and its decompressor) goes to
 * pref_address, and the vCPU enters it at +0x200 in long mode with RSI
 * pointing at the zero page. The real-mode setup code is never run. */
#include "vm/boot/internal.h"

#include <asm/bootparam.h>
#include <stddef.h>
#include <string.h>

#define HDR_OFF      0x1f1u     /* struct setup_header inside the zero page and the image */
#define HDR_AREA_END 0x290u     /* where boot_params' copy of the header must stop */
#define MIN_VERSION  0x020c     /* 2.12: xloadflags, XLF_KERNEL_64 */
_Static_assert(offsetof(struct boot_params, hdr) == HDR_OFF, "setup header offset");

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

bool boot_is_bzimage(const uint8_t *head, size_t len) {
    return len >= 0x206 && le16(head + 0x1fe) == 0xAA55 && memcmp(head + 0x202, "HdrS", 4) == 0;
}

/* Where the kernel ends up once decompressed: at its load address aligned
 * up to kernel_alignment, but never below LOAD_PHYSICAL_ADDR (which the
 * header calls pref_address); init_size bytes from there. 0 when absurd. */
static uint64_t kernel_end(const struct setup_header *h, uint64_t load, uint64_t need, uint64_t limit) {
    uint64_t base = load;
    uint32_t align = h->kernel_alignment;
    if (h->relocatable_kernel && align && !(align & (align - 1)))
        base = (base + align - 1) & ~(uint64_t)(align - 1);
    if (h->pref_address > base)
        base = h->pref_address;
    if (base > limit || need > limit - base)
        return 0;
    return base + need;
}

int boot_bzimage_load(const struct vm_mem *mem, const struct boot_config *cfg, const struct boot_file *k,
                      const uint8_t *head, size_t len, const struct boot_map *m, struct boot_entry *out,
                      struct hull_err *err) {
    const char *path = k->path;
    if (!boot_is_bzimage(head, len))
        return hull_err_set(err, EINVAL, "kernel %s: not a bzImage (no boot flag 0xAA55 and \"HdrS\" header)", path);
    uint16_t version = le16(head + 0x206);
    if (version < MIN_VERSION)
        return hull_err_set(err, ENOTSUP, "kernel %s: boot protocol %u.%02u, need 2.12 or later (64-bit entry)",
                            path, version >> 8, version & 0xff);
    /* The header's length is in the image: 0x202 + the jump's offset byte. */
    size_t hdr_end = 0x202u + head[0x201];
    if (hdr_end < offsetof(struct boot_params, hdr) + offsetof(struct setup_header, handover_offset))
        return hull_err_set(err, EINVAL, "kernel %s: setup header too short (%zu bytes) for protocol 2.12",
                            path, hdr_end - HDR_OFF);
    if (hdr_end > len)
        return hull_err_set(err, EINVAL, "kernel %s: truncated inside the setup header", path);
    if (hdr_end > HDR_AREA_END)
        hdr_end = HDR_AREA_END;

    struct boot_params bp;
    memset(&bp, 0, sizeof(bp));
    memcpy((uint8_t *)&bp + HDR_OFF, head + HDR_OFF, hdr_end - HDR_OFF);   /* may extend past today's struct */
    struct setup_header *h = &bp.hdr;
    if (!(h->xloadflags & XLF_KERNEL_64))
        return hull_err_set(err, ENOTSUP, "kernel %s: no 64-bit entry point (XLF_KERNEL_64 not set)", path);

    unsigned sects = h->setup_sects ? h->setup_sects : 4;   /* 0 means 4, for old kernels */
    uint64_t setup_size = (sects + 1ull) * 512;
    if (setup_size >= k->size)
        return hull_err_set(err, EINVAL, "kernel %s: setup_sects %u puts the kernel at offset %llu, past the end "
                            "of the file (%llu bytes)", path, h->setup_sects, (unsigned long long)setup_size,
                            (unsigned long long)k->size);
    uint64_t pm_size = k->size - setup_size;
    if ((uint64_t)h->syssize * 16 > pm_size)
        return hull_err_set(err, EINVAL, "kernel %s: truncated: the header announces %llu bytes of kernel, "
                            "the file has %llu", path, (unsigned long long)h->syssize * 16,
                            (unsigned long long)pm_size);

    /* pref_address when the kernel is relocatable and it fits (it is where
     * the kernel will run from anyway, so nothing moves); 1 MiB otherwise. */
    uint64_t need = h->init_size > pm_size ? h->init_size : pm_size;
    uint64_t load = BOOT_KERNEL_MIN, end = 0;
    if (h->relocatable_kernel && h->pref_address >= BOOT_KERNEL_MIN)
        end = kernel_end(h, h->pref_address, need, m->low_end);
    if (end)
        load = h->pref_address;
    else
        end = kernel_end(h, load, need, m->low_end);
    if (!end || pm_size > m->low_end - load)
        return hull_err_set(err, ENOMEM, "kernel %s: guest RAM too small: the kernel needs 0x%llx bytes at 0x%llx, "
                            "RAM below 4 GiB ends at 0x%llx", path, (unsigned long long)need,
                            (unsigned long long)(h->pref_address > load ? h->pref_address : load),
                            (unsigned long long)m->low_end);
    int rc = boot_file_to_guest(mem, k, setup_size, pm_size, load, err);
    if (rc < 0)
        return rc;
    if ((rc = boot_write_cmdline(mem, cfg->cmdline, h->cmdline_size, err)) < 0)
        return hull_err_prefix(err, "kernel %s: ", path);

    uint64_t rd_addr = 0, rd_size = 0;
    if (cfg->initrd && cfg->initrd[0]) {
        rc = boot_load_initrd(mem, m, cfg->initrd, end, (uint64_t)h->initrd_addr_max + 1, &rd_addr, &rd_size, err);
        if (rc < 0)
            return rc;
    }
    h->type_of_loader = 0xff;                  /* "undefined" boot loader */
    h->loadflags |= CAN_USE_HEAP;
    h->loadflags &= (uint8_t)~(QUIET_FLAG | KEEP_SEGMENTS);
    h->heap_end_ptr = 0xfe00;
    h->vid_mode = 0xffff;                      /* "normal" */
    h->code32_start = (uint32_t)load;
    h->cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
    bp.ext_cmd_line_ptr = (uint32_t)(BOOT_CMDLINE_ADDR >> 32);
    h->ramdisk_image = (uint32_t)rd_addr;
    bp.ext_ramdisk_image = (uint32_t)(rd_addr >> 32);
    h->ramdisk_size = (uint32_t)rd_size;
    bp.ext_ramdisk_size = (uint32_t)(rd_size >> 32);
    h->setup_data = 0;
    for (unsigned i = 0; i < m->n; i++) {
        bp.e820_table[i].addr = m->e[i].addr;
        bp.e820_table[i].size = m->e[i].size;
        bp.e820_table[i].type = m->e[i].type;
    }
    bp.e820_entries = (uint8_t)m->n;
    if (vm_mem_write(mem, BOOT_INFO_ADDR, &bp, sizeof(bp)) < 0)
        return hull_err_set(err, EFAULT, "kernel %s: zero page outside guest RAM", path);

    *out = (struct boot_entry){
        .kind = BOOT_KIND_LINUX64,
        .entry = load + 0x200,
        .info = BOOT_INFO_ADDR,
        .kernel_start = load,
        .kernel_end = end,
        .initrd_addr = rd_addr,
        .initrd_size = rd_size,
        .cmdline_addr = BOOT_CMDLINE_ADDR,
    };
    return 0;
}
