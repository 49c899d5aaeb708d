/* PVH boot of an ELF vmlinux (Xen's x86/HVM direct boot ABI, which Linux
 * implements with CONFIG_PVH): PT_LOAD segments at their physical
 * addresses, the 32-bit entry from the XEN_ELFNOTE_PHYS32_ENTRY note, and an
 * hvm_start_info (version 1: cmdline, the initrd as module 0, the memory map)
 * whose address the vCPU gets in EBX. Skips the bzImage's decompressor. */
#include "vm/boot/internal.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define XEN_HVM_START_MAGIC      0x336ec578u
#define MAX_PHDRS                64
#define MAX_NOTE_BYTES           65536

/* The ABI's structures (xen/include/public/arch-x86/hvm/start_info.h). */
struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;        /* version >= 1 */
    uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
    uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_table_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap entry layout");

/* Inside the BOOT_INFO_ADDR page. */
#define START_INFO_ADDR  BOOT_INFO_ADDR
#define MODLIST_ADDR     (BOOT_INFO_ADDR + 0x40)
#define MEMMAP_ADDR      (BOOT_INFO_ADDR + 0x80)

bool boot_is_elf(const uint8_t *head, size_t len) {
    return len >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0;
}

/* Walks an ELF note segment for ("Xen", PHYS32_ENTRY). 1 found, 0 not, <0 bad. */
static int find_pvh_entry(const uint8_t *p, uint64_t n, uint64_t *entry) {
    uint64_t off = 0;
    while (n - off >= 12) {
        uint32_t hdr[3];
        memcpy(hdr, p + off, sizeof(hdr));
        off += 12;
        uint64_t name_len = ((uint64_t)hdr[0] + 3) & ~3ull, desc_len = ((uint64_t)hdr[1] + 3) & ~3ull;
        if (name_len > n - off || desc_len > n - off - name_len)
            return -1;
        const uint8_t *name = p + off, *desc = p + off + name_len;
        off += name_len + desc_len;
        if (hdr[2] != XEN_ELFNOTE_PHYS32_ENTRY || hdr[0] != 4 || memcmp(name, "Xen", 4) != 0)
            continue;
        if (hdr[1] == 4) {
            uint32_t v;
            memcpy(&v, desc, 4);
            *entry = v;
        } else if (hdr[1] == 8) {
            memcpy(entry, desc, 8);
        } else {
            return -1;
        }
        return 1;
    }
    return 0;
}

static int check_ehdr(const Elf64_Ehdr *eh, const char *path, struct hull_err *err) {
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64)
        return hull_err_set(err, ENOTSUP, "kernel %s: not a 64-bit little-endian x86-64 ELF", path);
    if (eh->e_type != ET_EXEC)
        return hull_err_set(err, EINVAL, "kernel %s: ELF type %u, need an executable", path, eh->e_type);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > MAX_PHDRS)
        return hull_err_set(err, EINVAL, "kernel %s: bad program header table (%u entries of %u bytes)", path,
                            eh->e_phnum, eh->e_phentsize);
    return 0;
}

/* Every PT_LOAD: inside the file, inside one RAM region above 1 MiB, not
 * overlapping another. Fills the kernel's physical extent. */
static int check_loads(const struct vm_mem *mem, const struct boot_file *k, const Elf64_Phdr *ph, unsigned n,
                       uint64_t *start, uint64_t *end, struct hull_err *err) {
    *start = UINT64_MAX;
    *end = 0;
    for (unsigned i = 0; i < n; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if (p->p_filesz > p->p_memsz)
            return hull_err_set(err, EINVAL, "kernel %s: segment %u: file size above memory size", k->path, i);
        if (p->p_offset > k->size || p->p_filesz > k->size - p->p_offset)
            return hull_err_set(err, EINVAL, "kernel %s: segment %u: bytes 0x%llx+0x%llx lie past the end of the "
                                "file (%llu bytes)", k->path, i, (unsigned long long)p->p_offset,
                                (unsigned long long)p->p_filesz, (unsigned long long)k->size);
        if (p->p_paddr < BOOT_KERNEL_MIN)
            return hull_err_set(err, EINVAL, "kernel %s: segment %u at 0x%llx: below 1 MiB, where the loader's "
                                "tables live", k->path, i, (unsigned long long)p->p_paddr);
        if (!vm_mem_ptr(mem, p->p_paddr, p->p_memsz))
            return hull_err_set(err, ENOMEM, "kernel %s: segment %u at 0x%llx+0x%llx lies outside guest RAM",
                                k->path, i, (unsigned long long)p->p_paddr, (unsigned long long)p->p_memsz);
        for (unsigned j = 0; j < i; j++) {
            const Elf64_Phdr *q = &ph[j];
            if (q->p_type == PT_LOAD && q->p_memsz && p->p_paddr < q->p_paddr + q->p_memsz &&
                q->p_paddr < p->p_paddr + p->p_memsz)
                return hull_err_set(err, EINVAL, "kernel %s: segments %u and %u overlap", k->path, j, i);
        }
        if (p->p_paddr < *start)
            *start = p->p_paddr;
        if (p->p_paddr + p->p_memsz > *end)
            *end = p->p_paddr + p->p_memsz;
    }
    if (*end == 0)
        return hull_err_set(err, EINVAL, "kernel %s: no loadable segment", k->path);
    return 0;
}

static int pvh_entry(const struct boot_file *k, const Elf64_Phdr *ph, unsigned n, uint64_t *entry,
                     struct hull_err *err) {
    for (unsigned i = 0; i < n; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_filesz == 0)
            continue;
        if (ph[i].p_filesz > MAX_NOTE_BYTES)
            return hull_err_set(err, EINVAL, "kernel %s: note segment %u too large", k->path, i);
        uint8_t *buf = malloc(ph[i].p_filesz);
        if (!buf)
            return hull_err_set(err, ENOMEM, "kernel %s: out of memory", k->path);
        int rc = boot_file_read(k, ph[i].p_offset, buf, ph[i].p_filesz, err);
        if (rc == 0 && (rc = find_pvh_entry(buf, ph[i].p_filesz, entry)) < 0)
            rc = hull_err_set(err, EINVAL, "kernel %s: malformed note segment %u", k->path, i);
        free(buf);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return hull_err_set(err, ENOTSUP, "kernel %s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): "
                        "a kernel built without CONFIG_PVH cannot be booted from its ELF", k->path);
}

int boot_pvh_load(const struct vm_mem *mem, const struct boot_config *cfg, const struct boot_file *k,
                  const uint8_t *head, size_t len, const struct boot_map *m, struct boot_entry *out,
                  struct hull_err *err) {
    Elf64_Ehdr eh;
    if (!boot_is_elf(head, len))
        return hull_err_set(err, EINVAL, "kernel %s: not an ELF file", k->path);
    if (len < sizeof(eh))
        return hull_err_set(err, EINVAL, "kernel %s: truncated ELF header", k->path);
    memcpy(&eh, head, sizeof(eh));
    int rc = check_ehdr(&eh, k->path, err);
    if (rc < 0)
        return rc;
    Elf64_Phdr ph[MAX_PHDRS];
    if ((rc = boot_file_read(k, eh.e_phoff, ph, eh.e_phnum * sizeof(Elf64_Phdr), err)) < 0)
        return hull_err_prefix(err, "program headers of ");
    uint64_t start, end, entry = 0;
    if ((rc = check_loads(mem, k, ph, eh.e_phnum, &start, &end, err)) < 0 ||
        (rc = pvh_entry(k, ph, eh.e_phnum, &entry, err)) < 0)
        return rc;
    bool inside = false;
    for (unsigned i = 0; i < eh.e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && entry >= ph[i].p_paddr && entry - ph[i].p_paddr < ph[i].p_filesz)
            inside = true;
    if (!inside || entry >= (1ull << 32))
        return hull_err_set(err, EINVAL, "kernel %s: PVH entry 0x%llx is not inside a loaded 32-bit segment",
                            k->path, (unsigned long long)entry);

    for (unsigned i = 0; i < eh.e_phnum; i++) {
        const Elf64_Phdr *p = &ph[i];
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if ((rc = boot_file_to_guest(mem, k, p->p_offset, p->p_filesz, p->p_paddr, err)) < 0)
            return rc;
        /* bss: RAM is fresh, but a loader must not rely on that. */
        if (p->p_memsz > p->p_filesz)
            memset((uint8_t *)vm_mem_ptr(mem, p->p_paddr, p->p_memsz) + p->p_filesz, 0, p->p_memsz - p->p_filesz);
    }
    if ((rc = boot_write_cmdline(mem, cfg->cmdline, BOOT_CMDLINE_MAX - 1, err)) < 0)
        return hull_err_prefix(err, "kernel %s: ", k->path);

    struct hvm_start_info si = {
        .magic = XEN_HVM_START_MAGIC,
        .version = 1,
        .cmdline_paddr = BOOT_CMDLINE_ADDR,
        .memmap_paddr = MEMMAP_ADDR,
        .memmap_entries = m->n,
    };
    struct hvm_modlist_entry mod = {0};
    if (cfg->initrd && cfg->initrd[0]) {
        if ((rc = boot_load_initrd(mem, m, cfg->initrd, end, BOOT_LOW_RAM_MAX, &mod.paddr, &mod.size, err)) < 0)
            return rc;
        si.nr_modules = 1;
        si.modlist_paddr = MODLIST_ADDR;
    }
    struct hvm_memmap_table_entry mm[BOOT_E820_MAX];
    for (unsigned i = 0; i < m->n; i++)
        mm[i] = (struct hvm_memmap_table_entry){ m->e[i].addr, m->e[i].size, m->e[i].type, 0 };
    if (vm_mem_write(mem, START_INFO_ADDR, &si, sizeof(si)) < 0 || vm_mem_write(mem, MODLIST_ADDR, &mod, sizeof(mod)) < 0 ||
        vm_mem_write(mem, MEMMAP_ADDR, mm, m->n * sizeof(mm[0])) < 0)
        return hull_err_set(err, EFAULT, "kernel %s: start_info outside guest RAM", k->path);
    *out = (struct boot_entry){
        .kind = BOOT_KIND_PVH32,
        .entry = entry,
        .info = START_INFO_ADDR,
        .kernel_start = start,
        .kernel_end = end,
        .initrd_addr = mod.paddr,
        .initrd_size = mod.size,
        .cmdline_addr = BOOT_CMDLINE_ADDR,
    };
    return 0;
}
