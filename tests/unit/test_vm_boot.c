/* The x86 boot loader against Debian's real kernel (tier 1, no KVM): the
 * bzImage through the 64-bit boot protocol (zero page, setup header, e820,
 * cmdline, initrd), the extracted vmlinux through PVH (start_info, module
 * list, memory map, segments), and what both leave in low memory (identity
 * page tables, GDT, MP table). Skips when /boot has no kernel. */
#include <asm/bootparam.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot_fixtures.h"
#include "tap.h"
#include "vm_test_util.h"
#include "vm/boot/boot.h"

static char tmp[] = "/tmp/hull-vmboot1-XXXXXX";

static uint64_t rd64(const struct vm_mem *m, uint64_t gpa) {
    uint64_t v = ~0ull;
    vm_mem_read(m, gpa, &v, 8);
    return v;
}

/* Walks the guest's page tables for a 4-level, 2 MiB-page translation. */
static uint64_t translate(const struct vm_mem *m, uint64_t va) {
    uint64_t pml4e = rd64(m, BOOT_PML4_ADDR + ((va >> 39) & 511) * 8);
    if (!(pml4e & 1))
        return ~0ull;
    uint64_t pdpte = rd64(m, (pml4e & ~0xfffull) + ((va >> 30) & 511) * 8);
    if (!(pdpte & 1) || (pdpte & 0x80))
        return ~0ull;
    uint64_t pde = rd64(m, (pdpte & ~0xfffull) + ((va >> 21) & 511) * 8);
    if ((pde & 0x83) != 0x83)
        return ~0ull;
    return (pde & ~0x1fffffull) + (va & 0x1fffff);
}

static void check_low_memory(const struct vm_mem *m, unsigned ncpu, unsigned npci, const char *what) {
    static const uint64_t va[] = { 0x7000, 0x20000, 0x1000200, 0x7ffff000, 0xbfffffff, 0xfee00000 };
    bool ident = true;
    for (unsigned i = 0; i < sizeof(va) / sizeof(va[0]); i++)
        ident &= translate(m, va[i]) == va[i];
    ok(ident && translate(m, 0x100000000ull) == ~0ull, "%s: page tables map 0..4 GiB 1:1 (2 MiB pages), no more", what);
    uint64_t cs = rd64(m, BOOT_GDT_ADDR + BOOT_SEL_CS), ds = rd64(m, BOOT_GDT_ADDR + BOOT_SEL_DS);
    ok((cs >> 53 & 1) && !(cs >> 54 & 1) && (cs >> 40 & 0x9a) == 0x9a && (ds >> 40 & 0x92) == 0x92 && (ds >> 55 & 1),
       "%s: GDT: __BOOT_CS 64-bit code, __BOOT_DS flat data", what);

    uint8_t mp[2048];
    vm_mem_read(m, 639 * 1024, mp, 16);
    uint8_t sum = 0;
    for (unsigned i = 0; i < 16; i++)
        sum = (uint8_t)(sum + mp[i]);
    uint32_t table;
    memcpy(&table, mp + 4, 4);
    ok(!memcmp(mp, "_MP_", 4) && sum == 0 && mp[8] == 1 && mp[9] == 4, "%s: MP floating pointer at 639 KiB, checksum 0",
       what);
    uint16_t len = 0, count = 0;
    if (vm_mem_read(m, table, mp, 44) == 0) {
        memcpy(&len, mp + 4, 2);
        memcpy(&count, mp + 34, 2);
    }
    sum = 0;
    if (len >= 44 && len <= sizeof(mp) && vm_mem_read(m, table, mp, len) == 0)
        for (unsigned i = 0; i < len; i++)
            sum = (uint8_t)(sum + mp[i]);
    ok(len >= 44 && !memcmp(mp, "PCMP", 4) && sum == 0, "%s: MP config table, %u bytes, checksum 0", what, len);
    unsigned cpus = 0, bsp = 0, isa = 0, pci = 0, lint = 0, ioapic_ok = 0, off = 44;
    bool ids = true;
    for (unsigned i = 0; i < count && off < len; i++) {
        uint8_t *e = mp + off;
        switch (e[0]) {
        case 0:
            ids &= e[1] == cpus && (e[3] & 1);
            bsp += (e[3] & 2) ? 1 + cpus * 100 : 0;   /* only CPU 0 may be the BSP */
            cpus++;
            off += 20;
            continue;
        case 2: {
            uint32_t addr;
            memcpy(&addr, e + 4, 4);
            ioapic_ok = addr == BOOT_IOAPIC_ADDR && e[1] == ncpu && (e[3] & 1);
            break;
        }
        case 3:
            isa += e[4] == 1 && e[5] == e[7];   /* ISA bus, IRQ n -> pin n */
            pci += e[4] == 0;
            break;
        case 4:
            lint++;
            break;
        }
        off += 8;
    }
    is_int(cpus, ncpu, "%s: MP table lists %u processors", what, ncpu);
    ok(ids && bsp == 1, "%s: APIC ids 0..n-1, all enabled, CPU 0 the only BSP", what);
    ok(ioapic_ok && isa == 16 && lint == 2, "%s: IOAPIC at 0xfec00000 (id %u), ISA IRQs 0-15 identity, LINT0/LINT1",
       what, ncpu);
    is_int(pci, npci, "%s: %u PCI INTx entries", what, npci);
}

static void bzimage(const char *kernel, const char *initrd) {
    struct vm_mem mem;
    struct hull_err err = {0};
    vm_mem_init(&mem);
    /* 3 GiB below the hole and 1 GiB above 4 GiB; only touched pages cost. */
    if (vm_mem_add(&mem, 0, BOOT_LOW_RAM_MAX, 0, &err) < 0 ||
        vm_mem_add(&mem, BOOT_HIGH_RAM_BASE, 1ull << 30, 0, &err) < 0) {
        skip("cannot map 4 GiB of guest RAM");
        return;
    }
    size_t klen, rlen;
    uint8_t *img = slurp(kernel, &klen), *rd = slurp(initrd, &rlen);
    const char *cmdline = "console=ttyS0 reboot=k panic=-1 hull.test=bzimage";
    struct boot_pci_intx intx[2] = { { 1, 1, 20 }, { 2, 1, 21 } };
    struct boot_config bc = { .kernel = kernel, .initrd = initrd, .cmdline = cmdline, .nvcpus = 4,
                              .pci_intx = intx, .npci_intx = 2 };
    struct boot_entry e;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = boot_load(&mem, &bc, &e, &err);
    ok(rc == 0 && img && rd, "bzImage %s loads (%.1f ms with a %zu-byte initrd)%s%s", kernel, ms_since(&t0), rlen,
       rc ? ": " : "", rc ? err.msg : "");
    if (rc < 0 || !img || !rd)
        goto out;
    struct boot_params bp;
    vm_mem_read(&mem, e.info, &bp, sizeof(bp));
    const struct setup_header *h = &bp.hdr;
    uint64_t setup = ((img[0x1f1] ? img[0x1f1] : 4) + 1u) * 512;
    ok(e.kind == BOOT_KIND_LINUX64 && e.kernel_start == 0x1000000 && e.entry == 0x1000200,
       "entry: 64-bit at pref_address 16 MiB + 0x200");
    ok(h->boot_flag == 0xAA55 && h->header == 0x53726448 && h->version == (img[0x206] | img[0x207] << 8),
       "zero page: boot flag, \"HdrS\", protocol %x", h->version);
    size_t hdr_end = 0x202u + img[0x201];
    uint8_t *zp = (uint8_t *)&bp;
    ok(!memcmp(zp + 0x1f1, img + 0x1f1, 0x210 - 0x1f1) && !memcmp(zp + 0x22c, img + 0x22c, hdr_end - 0x22c),
       "zero page: setup header copied from the image (0x1f1..0x%zx, loader fields aside)", hdr_end);
    ok(h->type_of_loader == 0xff && (h->loadflags & (LOADED_HIGH | CAN_USE_HEAP)) == (LOADED_HIGH | CAN_USE_HEAP),
       "zero page: type_of_loader 0xff, LOADED_HIGH | CAN_USE_HEAP");
    char cl[256] = "";
    vm_mem_read(&mem, h->cmd_line_ptr, cl, sizeof(cl) - 1);
    ok(h->cmd_line_ptr == BOOT_CMDLINE_ADDR && bp.ext_cmd_line_ptr == 0 && !strcmp(cl, cmdline),
       "zero page: cmd_line_ptr 0x%x -> \"%s\"", h->cmd_line_ptr, cl);
    const struct boot_e820_entry *t = bp.e820_table;
    ok(bp.e820_entries == 4 && t[0].addr == 0 && t[0].size == 0x9fc00 && t[0].type == 1 && t[1].addr == 0x9fc00 &&
       t[1].size == 0x100000 - 0x9fc00 && t[1].type == 2 && t[2].addr == 0x100000 &&
       t[2].size == BOOT_LOW_RAM_MAX - 0x100000 && t[2].type == 1 && t[3].addr == BOOT_HIGH_RAM_BASE &&
       t[3].size == 1ull << 30 && t[3].type == 1, "zero page: e820 = RAM 0-639K, reserved to 1M, RAM to 3G, RAM 4G-5G");
    uint64_t rd_addr = h->ramdisk_image | (uint64_t)bp.ext_ramdisk_image << 32;
    uint64_t limit = (uint64_t)h->initrd_addr_max + 1 < BOOT_LOW_RAM_MAX ? (uint64_t)h->initrd_addr_max + 1 : BOOT_LOW_RAM_MAX;
    ok(rd_addr == e.initrd_addr && h->ramdisk_size == rlen && !(rd_addr & 0xfff) && rd_addr + rlen <= limit &&
       limit - (rd_addr + rlen) < 0x1000 && rd_addr >= e.kernel_end,
       "zero page: initrd at 0x%llx, page-aligned, as high as possible below 0x%llx, above the kernel's 0x%llx",
       (unsigned long long)rd_addr, (unsigned long long)limit, (unsigned long long)e.kernel_end);
    ok(!memcmp(vm_mem_ptr(&mem, rd_addr, rlen), rd, rlen), "initrd bytes intact in guest RAM");
    ok(!memcmp(vm_mem_ptr(&mem, e.kernel_start, klen - setup), img + setup, klen - setup),
       "protected-mode kernel (%llu bytes) at 16 MiB", (unsigned long long)(klen - setup));
    check_low_memory(&mem, 4, 2, "bzImage");
out:
    free(img);
    free(rd);
    vm_mem_free(&mem);
}

static void pvh(const char *vmlinux, const char *initrd) {
    struct vm_mem mem;
    struct hull_err err = {0};
    vm_mem_init(&mem);
    if (vm_mem_add(&mem, 0, 512u << 20, 0, &err) < 0) {
        skip("cannot map guest RAM");
        return;
    }
    size_t klen, rlen;
    uint8_t *img = slurp(vmlinux, &klen), *rd = slurp(initrd, &rlen);
    const char *cmdline = "console=ttyS0 hull.test=pvh";
    struct boot_config bc = { .kernel = vmlinux, .initrd = initrd, .cmdline = cmdline, .nvcpus = 1 };
    struct boot_entry e;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = boot_load(&mem, &bc, &e, &err);
    ok(rc == 0 && img && rd, "vmlinux (PVH) loads (%.1f ms)%s%s", ms_since(&t0), rc ? ": " : "", rc ? err.msg : "");
    if (rc < 0 || !img || !rd)
        goto out;
    /* The entry, found independently: the raw note bytes in the file. */
    uint8_t pat[16];
    uint32_t h3[3] = { 4, 8, 18 };
    memcpy(pat, h3, 12);
    memcpy(pat + 12, "Xen", 4);
    uint8_t *n = memmem(img, klen, pat, sizeof(pat));
    uint64_t want = 0;
    if (n)
        memcpy(&want, n + 16, 8);
    ok(n && e.kind == BOOT_KIND_PVH32 && e.entry == want, "entry = XEN_ELFNOTE_PHYS32_ENTRY 0x%llx",
       (unsigned long long)want);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
    bool same = true;
    unsigned loads = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD) {
            loads++;
            same &= !memcmp(vm_mem_ptr(&mem, ph[i].p_paddr, ph[i].p_filesz), img + ph[i].p_offset, ph[i].p_filesz);
        }
    ok(same && loads >= 2, "%u PT_LOAD segments at their physical addresses", loads);
    uint32_t si[14];
    vm_mem_read(&mem, e.info, si, sizeof(si));
    uint64_t modlist = si[4] | (uint64_t)si[5] << 32, cmd = si[6] | (uint64_t)si[7] << 32;
    uint64_t rsdp = si[8] | (uint64_t)si[9] << 32, memmap = si[10] | (uint64_t)si[11] << 32;
    ok(si[0] == 0x336ec578 && si[1] == 1 && rsdp == 0, "start_info: magic 0x336ec578, version 1, no RSDP");
    char cl[256] = "";
    vm_mem_read(&mem, cmd, cl, sizeof(cl) - 1);
    is_str(cl, cmdline, "start_info: cmdline");
    uint64_t mod[4] = {0};
    vm_mem_read(&mem, modlist, mod, sizeof(mod));
    ok(si[3] == 1 && mod[1] == rlen && !(mod[0] & 0xfff) && mod[0] >= e.kernel_end && mod[0] + rlen <= (512u << 20) &&
       !memcmp(vm_mem_ptr(&mem, mod[0], rlen), rd, rlen), "start_info: module 0 = the initrd at 0x%llx, intact",
       (unsigned long long)mod[0]);
    struct { uint64_t addr, size; uint32_t type, r; } mm[3];
    vm_mem_read(&mem, memmap, mm, sizeof(mm));
    ok(si[12] == 3 && mm[0].addr == 0 && mm[0].size == 0x9fc00 && mm[0].type == 1 && mm[1].type == 2 &&
       mm[2].addr == 0x100000 && mm[2].size == (512u << 20) - 0x100000 && mm[2].type == 1,
       "start_info: memmap = RAM 0-639K, reserved, RAM 1M-512M");
    check_low_memory(&mem, 1, 0, "PVH");
out:
    free(img);
    free(rd);
    vm_mem_free(&mem);
}

/* RAM layouts the loader must refuse. */
static void layouts(const char *kernel) {
    struct vm_mem mem;
    struct hull_err err = {0};
    struct boot_entry e;
    struct boot_config bc = { .kernel = kernel };
    vm_mem_init(&mem);
    vm_mem_add(&mem, 0, 0xE0000000ull, 0, &err);
    ok(boot_load(&mem, &bc, &e, &err) < 0 && strstr(err.msg, "MMIO hole"), "RAM into the 3-4 GiB hole: %s", err.msg);
    vm_mem_free(&mem);
    vm_mem_add(&mem, 0x100000, 64u << 20, 0, &err);
    ok(boot_load(&mem, &bc, &e, &err) < 0 && strstr(err.msg, "start at address 0"), "RAM not at 0: %s", err.msg);
    vm_mem_free(&mem);
    vm_mem_add(&mem, 0, 64u << 20, 0, &err);
    struct boot_pci_intx bad = { 1, 5, 20 };
    bc.pci_intx = &bad;
    bc.npci_intx = 1;
    ok(boot_load(&mem, &bc, &e, &err) < 0 && strstr(err.msg, "PCI line"), "PCI INTx pin 5: %s", err.msg);
    bc.npci_intx = 0;
    bc.nvcpus = KVM_MAX_VCPUS + 1;
    ok(boot_load(&mem, &bc, &e, &err) < 0 && strstr(err.msg, "vCPUs"), "%d vCPUs: %s", KVM_MAX_VCPUS + 1, err.msg);
    vm_mem_free(&mem);
}

int main(void) {
    char kernel[512], vmlinux[512], initrd[600], cache[600];
    struct hull_err err;
    if (kernel_default_path(kernel, sizeof(kernel), &err) < 0)
        plan_skip_all(err.msg);
    if (!mkdtemp(tmp))
        bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    /* Debian's initrd for that kernel when present, else a made-up one. */
    const char *ver = strrchr(kernel, '/') + 1 + strlen("vmlinuz-");
    snprintf(initrd, sizeof(initrd), "/boot/initrd.img-%s", ver);
    if (access(initrd, R_OK) != 0) {
        snprintf(initrd, sizeof(initrd), "%s/initrd", tmp);
        uint8_t *b = calloc(1, 3u << 20);
        memcpy(b, "INRD", 4);
        fx_write(initrd, b, 3u << 20);
        free(b);
    }
    diag("kernel %s, initrd %s", kernel, initrd);
    layouts(kernel);
    bzimage(kernel, initrd);
    snprintf(cache, sizeof(cache), "%s/cache", tmp);
    if (kernel_cache_vmlinux(kernel, cache, vmlinux, sizeof(vmlinux), &err) == 0)
        pvh(vmlinux, initrd);
    else
        ok(0, "extract the vmlinux for PVH: %s", err.msg);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
