/* The vCPU state a firmware/boot loader leaves for the kernel: the boot GDT
 * and identity page tables in guest memory, then segments, control
 * registers, EFER, MSRs, FPU and the LAPIC's LINT pins through the KVM API.
 * The in-memory GDT and the segment caches loaded into KVM are derived from
 * the same descriptors, so a kernel reloading a selector sees no change. */
#include "vm/boot/internal.h"

#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#define CR0_PE   (1ull << 0)
#define CR0_ET   (1ull << 4)
#define CR0_NE   (1ull << 5)
#define CR0_PG   (1ull << 31)
#define CR4_PAE  (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define MSR_IA32_MISC_ENABLE     0x1a0
#define MISC_ENABLE_FAST_STRING  (1ull << 0)
#define MSR_MTRR_DEF_TYPE        0x2ff
#define MTRR_DEF_ENABLE_WB       ((1ull << 11) | 6)   /* MTRRs on, default type write-back */

#define APIC_LVT0       0x350
#define APIC_LVT1       0x360
#define APIC_DM_NMI     0x400
#define APIC_DM_EXTINT  0x700
#define APIC_LVT_MASKED 0x10000

/* Flat 4 GiB descriptors (base 0, limit 0xfffff pages), and a TSS. */
#define DESC_CODE32 0x00CF9B000000FFFFull   /* P, S, exec/read accessed, D=1, G=1 */
#define DESC_CODE64 0x00AF9B000000FFFFull   /* same with L=1, D=0 */
#define DESC_DATA   0x00CF93000000FFFFull   /* P, S, read/write accessed, B=1, G=1 */
#define DESC_TSS    0x00008B0000000067ull   /* P, busy TSS, base 0, limit 0x67 */
#define GDT_ENTRIES 6                       /* the TSS takes two slots in long mode */

static const uint64_t gdt[GDT_ENTRIES] = {
    0, DESC_CODE32, DESC_CODE64, DESC_DATA, DESC_TSS, 0,
};
_Static_assert(BOOT_SEL_CODE32 == 1 * 8 && BOOT_SEL_CS == 2 * 8 && BOOT_SEL_DS == 3 * 8 && BOOT_SEL_TSS == 4 * 8,
               "selectors match the GDT");

int boot_write_cpu_tables(const struct vm_mem *mem, struct hull_err *err) {
    /* Identity map of 0..4 GiB in 2 MiB pages: the 64-bit protocol needs the
     * kernel, zero page and cmdline mapped; covering the whole 32-bit space
     * costs 6 pages and needs no per-image arithmetic. */
    uint64_t pml4[512] = { BOOT_PDPT_ADDR | 0x3 }, pdpt[512] = {0}, pd[512];
    int bad = 0;
    for (unsigned i = 0; i < 4; i++) {
        pdpt[i] = (BOOT_PD_ADDR + i * 0x1000ull) | 0x3;   /* present, writable */
        for (unsigned j = 0; j < 512; j++)
            pd[j] = ((uint64_t)(i * 512 + j) << 21) | 0x83;   /* present, writable, 2 MiB page */
        bad |= vm_mem_write(mem, BOOT_PD_ADDR + i * 0x1000ull, pd, sizeof(pd));
    }
    bad |= vm_mem_write(mem, BOOT_GDT_ADDR, gdt, sizeof(gdt));
    bad |= vm_mem_write(mem, BOOT_PML4_ADDR, pml4, sizeof(pml4));
    bad |= vm_mem_write(mem, BOOT_PDPT_ADDR, pdpt, sizeof(pdpt));
    if (bad)
        return hull_err_set(err, EFAULT, "boot: GDT/page tables outside guest RAM");
    return 0;
}

static struct kvm_segment seg(uint64_t d, uint16_t sel) {
    struct kvm_segment s = {
        .base = (d >> 16 & 0xffffff) | (d >> 56 & 0xff) << 24,
        .limit = (uint32_t)((d & 0xffff) | (d >> 48 & 0xf) << 16),
        .selector = sel,
        .type = d >> 40 & 0xf,
        .s = d >> 44 & 1,
        .dpl = d >> 45 & 3,
        .present = d >> 47 & 1,
        .avl = d >> 52 & 1,
        .l = d >> 53 & 1,
        .db = d >> 54 & 1,
        .g = d >> 55 & 1,
    };
    if (s.g)
        s.limit = s.limit << 12 | 0xfff;
    return s;
}

static int set_msrs(struct kvm_vcpu *c, struct hull_err *err) {
    /* What a PC firmware leaves: fast string operations on, and MTRRs
     * enabled with write-back as the default type (else Linux runs with
     * MTRRs "disabled by BIOS" and treats all memory as uncached). */
    static const struct { uint32_t index; uint64_t value; } want[] = {
        { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
        { MSR_MTRR_DEF_TYPE, MTRR_DEF_ENABLE_WB },
    };
    enum { N = sizeof(want) / sizeof(want[0]) };
    struct { struct kvm_msrs h; struct kvm_msr_entry e[N]; } m;
    memset(&m, 0, sizeof(m));
    m.h.nmsrs = N;
    for (unsigned i = 0; i < N; i++) {
        m.e[i].index = want[i].index;
        m.e[i].data = want[i].value;
    }
    int n = ioctl(c->fd, KVM_SET_MSRS, &m);
    if (n < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_MSRS", c->id);
    if (n < N)   /* KVM stops at the first MSR it refuses */
        return hull_err_set(err, ENOTSUP, "vcpu %u: KVM refused MSR 0x%x", c->id, want[n].index);
    return 0;
}

static int set_fpu(struct kvm_vcpu *c, struct hull_err *err) {
    struct kvm_fpu f;
    memset(&f, 0, sizeof(f));
    f.fcw = 0x37f;      /* FNINIT state: all exceptions masked, extended precision */
    /* All SSE exceptions masked, round to nearest. KVM_SET_FPU does not
     * actually load MXCSR, but a new vCPU's is already this reset value
     * (the tier-2 test reads it back through KVM_GET_XSAVE). */
    f.mxcsr = 0x1f80;
    if (ioctl(c->fd, KVM_SET_FPU, &f) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_FPU", c->id);
    return 0;
}

/* Virtual-wire mode as a PC BIOS sets it: the 8259's output reaches the boot
 * CPU through LINT0 (ExtINT), so timer interrupts work before Linux switches
 * to the IOAPIC; LINT1 is NMI everywhere. APs keep LINT0 masked. */
static int set_lints(struct kvm_vcpu *c, bool bsp, struct hull_err *err) {
    if (!c->vm->irqchip)
        return 0;   /* no in-kernel LAPIC: nothing to program */
    struct kvm_lapic_state l;
    if (ioctl(c->fd, KVM_GET_LAPIC, &l) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_GET_LAPIC", c->id);
    uint32_t lvt0 = APIC_DM_EXTINT | (bsp ? 0 : APIC_LVT_MASKED), lvt1 = APIC_DM_NMI;
    memcpy(&l.regs[APIC_LVT0], &lvt0, 4);
    memcpy(&l.regs[APIC_LVT1], &lvt1, 4);
    if (ioctl(c->fd, KVM_SET_LAPIC, &l) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_LAPIC", c->id);
    return 0;
}

int boot_setup_bsp(struct kvm_vcpu *c, const struct boot_entry *e, struct hull_err *err) {
    if (e->kind != BOOT_KIND_LINUX64 && e->kind != BOOT_KIND_PVH32)
        return hull_err_set(err, EINVAL, "vcpu %u: no kernel entry loaded", c->id);
    bool lm = e->kind == BOOT_KIND_LINUX64;
    struct kvm_sregs s;
    if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_GET_SREGS", c->id);
    s.cs = lm ? seg(DESC_CODE64, BOOT_SEL_CS) : seg(DESC_CODE32, BOOT_SEL_CODE32);
    s.ds = s.es = s.fs = s.gs = s.ss = seg(DESC_DATA, BOOT_SEL_DS);
    s.tr = seg(DESC_TSS, BOOT_SEL_TSS);
    s.gdt.base = BOOT_GDT_ADDR;
    s.gdt.limit = sizeof(gdt) - 1;
    s.idt.base = 0;
    s.idt.limit = 0;   /* no IDT: a fault this early is a triple fault, which ends the VM visibly */
    /* CR0: caching on (CD/NW cleared, unlike the reset value), native FPU
     * errors; PVH wants PE alone ("all other writable bits cleared"). */
    s.cr0 = lm ? CR0_PE | CR0_ET | CR0_NE | CR0_PG : CR0_PE | CR0_ET;
    s.cr3 = lm ? BOOT_PML4_ADDR : 0;
    s.cr4 = lm ? CR4_PAE : 0;
    s.efer = lm ? EFER_LME | EFER_LMA : 0;
    if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_SREGS (%s entry)", c->id, lm ? "64-bit" : "PVH");
    struct kvm_regs r;
    memset(&r, 0, sizeof(r));
    r.rflags = 0x2;   /* IF clear; bit 1 is reserved-one */
    r.rip = e->entry;
    r.rsp = BOOT_STACK_TOP;
    if (lm)
        r.rsi = e->info;
    else
        r.rbx = e->info;
    if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
        return hull_err_sys(err, "vcpu %u: KVM_SET_REGS", c->id);
    int rc;
    if ((rc = set_msrs(c, err)) < 0 || (rc = set_fpu(c, err)) < 0 || (rc = set_lints(c, true, err)) < 0)
        return rc;
    return 0;
}

int boot_setup_ap(struct kvm_vcpu *c, struct hull_err *err) {
    int rc;
    if ((rc = set_msrs(c, err)) < 0 || (rc = set_fpu(c, err)) < 0 || (rc = set_lints(c, false, err)) < 0)
        return rc;
    return 0;
}
