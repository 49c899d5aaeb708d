/* x86-64 Linux boot: the guest physical layout (decided here, in one place),
 * loading a kernel the two ways Debian's kernel can be entered, and the vCPU
 * state a firmware would leave behind.
 *
 *   - bzImage, 64-bit boot protocol (Documentation/arch/x86/boot.rst): the
 *     compressed kernel at pref_address, a zero page (struct boot_params)
 *     with the setup header copied from the image, e820, cmdline and initrd;
 *     entered in long mode at load address + 0x200 with RSI = zero page.
 *   - ELF vmlinux, PVH (Xen's x86/HVM direct boot ABI): PT_LOAD segments at
 *     their physical addresses, an hvm_start_info with cmdline, module list
 *     (the initrd) and memory map; entered in 32-bit protected mode, paging
 *     off, at the XEN_ELFNOTE_PHYS32_ENTRY address with EBX = start_info.
 *
 * Both also get an Intel MP table (CPUs, IOAPIC, ISA/PCI interrupt routing),
 * so Linux finds every vCPU and the IOAPIC without ACPI.
 *
 * Kernel, initrd and cmdline are hostile input: every size and offset is
 * checked against the file and against guest RAM, and nothing is written
 * outside RAM (all writes go through vm_mem). */
#ifndef HULL_VM_BOOT_BOOT_H
#define HULL_VM_BOOT_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "vm/core/kvm.h"
#include "vm/core/mem.h"

/* ---- guest physical layout ------------------------------------------------
 * RAM: [0, min(size, 3 GiB)) and the rest at [4 GiB, ...). The 3–4 GiB hole
 * holds the PCI MMIO window, then the IOAPIC and LAPIC pages (and the KVM TSS
 * pages kvm_vm.c places at 0xfffbd000). */
#define BOOT_LOW_RAM_MAX     0xC0000000ull
#define BOOT_HIGH_RAM_BASE   0x100000000ull
#define BOOT_PCI_MMIO_BASE   0xC0000000ull
#define BOOT_PCI_MMIO_SIZE   0x3E000000ull   /* up to 0xFE000000 */
#define BOOT_IOAPIC_ADDR     0xFEC00000ull
#define BOOT_LAPIC_ADDR      0xFEE00000ull

/* Low memory the loader uses. [0, 0x9fc00) is RAM in e820 (Linux reserves its
 * first MiB anyway); [0x9fc00, 1 MiB) is reserved and holds the MP table. */
#define BOOT_GDT_ADDR        0x1000ull       /* 6 descriptors, see cpu.c */
#define BOOT_INFO_ADDR       0x7000ull       /* zero page, or hvm_start_info + modlist + memmap */
#define BOOT_STACK_TOP       0x8ff0ull       /* a harmless RSP; neither entry needs a stack */
#define BOOT_PML4_ADDR       0x9000ull
#define BOOT_PDPT_ADDR       0xA000ull
#define BOOT_PD_ADDR         0xB000ull       /* 4 pages: 0..4 GiB identity in 2 MiB pages */
#define BOOT_CMDLINE_ADDR    0x20000ull
#define BOOT_CMDLINE_MAX     0x10000ull      /* bytes, with the NUL */
#define BOOT_EBDA_ADDR       0x9FC00ull      /* last KiB of base memory */
#define BOOT_MPTABLE_ADDR    BOOT_EBDA_ADDR
#define BOOT_KERNEL_MIN      0x100000ull     /* nothing is loaded below 1 MiB */

/* Selectors of the boot GDT (boot.rst: __BOOT_CS 0x10, __BOOT_DS 0x18). */
#define BOOT_SEL_CODE32      0x08
#define BOOT_SEL_CS          0x10
#define BOOT_SEL_DS          0x18
#define BOOT_SEL_TSS         0x20

enum boot_format {
    BOOT_FMT_AUTO = 0,     /* by magic: "HdrS" bzImage or ELF */
    BOOT_FMT_BZIMAGE,
    BOOT_FMT_PVH,
};

/* A legacy PCI interrupt line for the MP table (MSI-X needs none; this is
 * the INTx fallback): device `dev` on bus 0, pin 1..4 = INTA..INTD, wired to
 * IOAPIC input `gsi`. */
struct boot_pci_intx {
    uint8_t dev, pin, gsi;
};

struct boot_config {
    const char *kernel;        /* bzImage or ELF vmlinux */
    const char *initrd;        /* NULL or "": none */
    const char *cmdline;       /* NULL: empty */
    unsigned nvcpus;           /* MP table CPUs, 1..KVM_MAX_VCPUS (0 counts as 1) */
    enum boot_format format;
    const struct boot_pci_intx *pci_intx;
    unsigned npci_intx;        /* at most 32 */
};

enum boot_kind {
    BOOT_KIND_LINUX64 = 1,     /* long mode, RSI = zero page */
    BOOT_KIND_PVH32,           /* 32-bit protected mode, EBX = hvm_start_info */
};

struct boot_entry {
    enum boot_kind kind;
    uint64_t entry;            /* RIP */
    uint64_t info;             /* zero page or hvm_start_info address */
    uint64_t kernel_start, kernel_end;   /* guest-physical range the kernel may use */
    uint64_t initrd_addr, initrd_size;   /* 0, 0 without an initrd */
    uint64_t cmdline_addr;
};

/* Loads kernel (+ initrd, cmdline) into guest RAM, which must already be
 * mapped in `mem` following the layout above (RAM from 0, none in the
 * 3–4 GiB hole); writes the zero page or start_info, the e820 map, the MP
 * table, the GDT and the identity page tables. The e820 map is exactly the
 * RAM regions of `mem` (with the 640 KiB–1 MiB hole reserved). */
int boot_load(const struct vm_mem *mem, const struct boot_config *cfg, struct boot_entry *out,
              struct hull_err *err);

/* The boot vCPU: registers, segments, control registers, EFER, MSRs, FPU and
 * LAPIC LINT0/LINT1 for the entry described by e. */
int boot_setup_bsp(struct kvm_vcpu *c, const struct boot_entry *e, struct hull_err *err);
/* Another vCPU: MSRs, FPU, LAPIC LINTs only; it waits for INIT/SIPI from
 * the guest (the in-kernel LAPIC handles both). */
int boot_setup_ap(struct kvm_vcpu *c, struct hull_err *err);

/* ---- kernel_cache.c --------------------------------------------------------
 * Extracts the ELF vmlinux from a bzImage (payload_offset/payload_length of
 * the setup header; xz, gzip, zstd... through libarchive's raw reader) into
 * cache_dir/vmlinux-<sha256 of the bzImage>, atomically (temp file, fsync,
 * rename), once; later calls return the cached path. out gets the path. */
int kernel_cache_vmlinux(const char *bzimage, const char *cache_dir, char *out, size_t n,
                         struct hull_err *err);
/* The default guest kernel: the newest /boot/vmlinuz-* by version order. */
int kernel_default_path(char *out, size_t n, struct hull_err *err);
/* Same in another directory (tests). */
int kernel_find_newest(const char *dir, char *out, size_t n, struct hull_err *err);

#endif
