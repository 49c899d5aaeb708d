/* Synthetic kernels for the boot tests: small bzImages and ELF files built
 * in memory with exactly the header fields a test wants to break. */
#ifndef HULL_TESTS_UNIT_BOOT_FIXTURES_H
#define HULL_TESTS_UNIT_BOOT_FIXTURES_H

#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int fx_write(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(buf, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

struct fx_bz {
    uint8_t setup_sects;       /* as stored (0 means 4) */
    size_t setup_len;          /* bytes of setup really in the file; 0: what setup_sects says (>= 1024) */
    uint16_t version;
    uint16_t xloadflags;
    uint32_t syssize;          /* 0: computed from pm_len */
    uint32_t init_size;
    uint64_t pref_address;
    uint32_t cmdline_size;
    uint32_t initrd_addr_max;
    size_t pm_len;             /* protected-mode bytes actually in the file */
    const void *payload;       /* copied at payload_offset 0x10 of the pm part */
    size_t payload_len;
    uint32_t payload_len_field;   /* 0: payload_len */
};

static inline void fx_put(uint8_t *b, size_t off, uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

/* Returns a malloc'd image and its size. */
static inline uint8_t *fx_bzimage(const struct fx_bz *o, size_t *len) {
    size_t setup = o->setup_len ? o->setup_len : ((o->setup_sects ? o->setup_sects : 4) + 1u) * 512;
    size_t pm = o->pm_len;
    uint8_t *b = calloc(1, setup + pm);
    b[0x1f1] = o->setup_sects;
    fx_put(b, 0x1f4, o->syssize ? o->syssize : (uint32_t)(pm / 16), 4);
    fx_put(b, 0x1fe, 0xAA55, 2);
    b[0x200] = 0xeb;
    b[0x201] = 0x6a;                        /* header ends at 0x26c, like Linux 6.1 */
    memcpy(b + 0x202, "HdrS", 4);
    fx_put(b, 0x206, o->version, 2);
    b[0x211] = 0x01;                        /* LOADED_HIGH */
    fx_put(b, 0x214, 0x100000, 4);
    fx_put(b, 0x22c, o->initrd_addr_max ? o->initrd_addr_max : 0x7fffffff, 4);
    fx_put(b, 0x230, 0x200000, 4);          /* kernel_alignment */
    b[0x234] = 1;                           /* relocatable */
    fx_put(b, 0x236, o->xloadflags, 2);
    fx_put(b, 0x238, o->cmdline_size, 4);
    fx_put(b, 0x248, 0x10, 4);              /* payload_offset */
    fx_put(b, 0x24c, o->payload_len_field ? o->payload_len_field : o->payload_len, 4);
    fx_put(b, 0x258, o->pref_address, 8);
    fx_put(b, 0x260, o->init_size, 4);
    if (o->payload && 0x10 + o->payload_len <= pm)
        memcpy(b + setup + 0x10, o->payload, o->payload_len);
    for (size_t i = 0x200; !o->payload && i < pm && i < 0x210; i++)
        b[setup + i] = 0x90;                /* recognisable kernel bytes at the 64-bit entry */
    *len = setup + pm;
    return b;
}

/* A sane default: protocol 2.15, 64-bit, 8 KiB kernel at 1 MiB. */
static inline struct fx_bz fx_bz_default(void) {
    return (struct fx_bz){ .setup_sects = 1, .version = 0x20f, .xloadflags = 1, .init_size = 0x4000,
                           .pref_address = 0x100000, .cmdline_size = 255, .pm_len = 0x2000 };
}

/* ELF64 x86-64 with up to 8 program headers; `note` (if any) is placed in
 * the file at note_off and should be covered by a PT_NOTE header. Data for
 * PT_LOADs: file bytes are a pattern of their offset. */
struct fx_elf {
    Elf64_Phdr ph[8];
    unsigned nph;
    uint8_t cls;                /* 0: ELFCLASS64 */
    size_t file_len;
    const void *note;
    size_t note_len, note_off;
};

static inline uint8_t *fx_elf_build(const struct fx_elf *o, size_t *len) {
    /* Built in a buffer of at least 4 KiB; the file is cut to file_len. */
    size_t room = o->file_len > 0x1000 ? o->file_len : 0x1000;
    uint8_t *b = calloc(1, room);
    Elf64_Ehdr *e = (Elf64_Ehdr *)b;
    memcpy(e->e_ident, ELFMAG, SELFMAG);
    e->e_ident[EI_CLASS] = o->cls ? o->cls : ELFCLASS64;
    e->e_ident[EI_DATA] = ELFDATA2LSB;
    e->e_ident[EI_VERSION] = EV_CURRENT;
    e->e_type = ET_EXEC;
    e->e_machine = EM_X86_64;
    e->e_version = EV_CURRENT;
    e->e_phoff = sizeof(*e);
    e->e_ehsize = sizeof(*e);
    e->e_phentsize = sizeof(Elf64_Phdr);
    e->e_phnum = (uint16_t)o->nph;
    for (size_t i = sizeof(*e) + 8 * sizeof(Elf64_Phdr); i < room; i++)
        b[i] = (uint8_t)(i * 7);
    memcpy(b + sizeof(*e), o->ph, o->nph * sizeof(Elf64_Phdr));
    if (o->note)
        memcpy(b + o->note_off, o->note, o->note_len);
    *len = o->file_len;
    return b;
}

/* The PVH note: ("Xen", 18, 8-byte entry). */
static inline size_t fx_pvh_note(uint8_t *out, uint64_t entry, uint32_t type) {
    uint32_t h[3] = { 4, 8, type };
    memcpy(out, h, 12);
    memcpy(out + 12, "Xen", 4);
    memcpy(out + 16, &entry, 8);
    return 24;
}

/* A valid PVH ELF: one 16 KiB PT_LOAD at 2 MiB (file offset 0x1000), a
 * note at 0x800 with the entry at 2 MiB + 0x100. */
static inline struct fx_elf fx_elf_default(uint8_t *note_buf) {
    struct fx_elf o = { .nph = 2, .file_len = 0x5000 };
    o.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = 0x200000, .p_vaddr = 0x200000,
                            .p_filesz = 0x4000, .p_memsz = 0x6000 };
    o.note_len = fx_pvh_note(note_buf, 0x200100, 18);
    o.note = note_buf;
    o.note_off = 0x800;
    o.ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = o.note_len };
    return o;
}

#endif
