/* The Intel MultiProcessor Specification 1.4 table: how Linux, with no ACPI
 * tables to read, learns the CPUs (local APIC ids 0..n-1), the IOAPIC at
 * 0xfec00000 and which IOAPIC input each ISA IRQ and PCI INTx line drives.
 * Linux scans the last KiB of base memory for the floating pointer, so both
 * structures go at 0x9fc00, which e820 reports as reserved. */
#include "vm/boot/internal.h"

#include <cpuid.h>
#include <string.h>

enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3, MP_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
#define MP_SPEC_REV       4          /* 1.4 */
#define MP_CPU_ENABLED    0x01
#define MP_CPU_BSP        0x02
#define MP_IOAPIC_ENABLED 0x01
#define LAPIC_VERSION     0x14       /* what KVM's in-kernel LAPIC reports */
#define IOAPIC_VERSION    0x11       /* KVM's IOAPIC: 24 pins */
#define BUS_PCI           0
#define BUS_ISA           1
#define PCI_IRQ_LEVEL_LOW 0x0f       /* polarity active low (3) | trigger level (3 << 2) */

struct mpf {                         /* floating pointer, 16 bytes */
    char sig[4];
    uint32_t table;
    uint8_t length, rev, checksum, feature[5];
} __attribute__((packed));

struct mpc {                         /* configuration table header, 44 bytes */
    char sig[4];
    uint16_t length;
    uint8_t rev, checksum;
    char oem[8], product[12];
    uint32_t oem_table;
    uint16_t oem_size, count;
    uint32_t lapic;
    uint16_t ext_length;
    uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct mpc_cpu {
    uint8_t type, apic_id, apic_ver, flags;
    uint32_t signature, features, reserved[2];
} __attribute__((packed));

struct mpc_bus {
    uint8_t type, id;
    char name[6];
} __attribute__((packed));

struct mpc_ioapic {
    uint8_t type, id, ver, flags;
    uint32_t addr;
} __attribute__((packed));

struct mpc_irq {                     /* both I/O and local interrupt entries */
    uint8_t type, kind;
    uint16_t flags;
    uint8_t src_bus, src_irq, dst_apic, dst_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf) == 16 && sizeof(struct mpc) == 44 && sizeof(struct mpc_cpu) == 20 &&
               sizeof(struct mpc_bus) == 8 && sizeof(struct mpc_ioapic) == 8 && sizeof(struct mpc_irq) == 8,
               "MP table layout");

/* Room for the worst case: 32 CPUs, 2 buses, 1 IOAPIC, 16 ISA + 32 PCI
 * interrupts, 2 local interrupts: 44 + 640 + 16 + 8 + 384 + 16 = 1108 bytes.
 * From 0x9fc10 that may run past 640 KiB into the VGA hole: still guest RAM
 * here, and reserved in e820 like the rest of [0x9fc00, 1 MiB). */
#define MP_MAX_BYTES 1280

static uint8_t checksum(const uint8_t *p, size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)-s;
}

int mptable_write(const struct vm_mem *mem, unsigned nvcpus, const struct boot_pci_intx *intx, unsigned nintx,
                  struct hull_err *err) {
    if (nvcpus < 1 || nvcpus > KVM_MAX_VCPUS || nintx > 32)
        return hull_err_set(err, EINVAL, "MP table: %u CPUs, %u PCI lines", nvcpus, nintx);
    uint8_t buf[MP_MAX_BYTES];
    memset(buf, 0, sizeof(buf));
    struct mpc *h = (struct mpc *)buf;
    size_t off = sizeof(*h);
    unsigned count = 0;
#define ADD(entry) do { memcpy(buf + off, &(entry), sizeof(entry)); off += sizeof(entry); count++; } while (0)

    /* The CPU signature and feature flags are informational for Linux; the
     * host's are as good as any. */
    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid(1, &a, &b, &c, &d);
    for (unsigned i = 0; i < nvcpus; i++) {
        struct mpc_cpu cpu = { MP_PROCESSOR, (uint8_t)i, LAPIC_VERSION,
                               (uint8_t)(MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0)), a, d, {0, 0} };
        ADD(cpu);
    }
    struct mpc_bus pci = { MP_BUS, BUS_PCI, "PCI   " }, isa = { MP_BUS, BUS_ISA, "ISA   " };
    ADD(pci);
    ADD(isa);
    uint8_t ioapic_id = (uint8_t)nvcpus;     /* the first id no CPU has */
    struct mpc_ioapic io = { MP_IOAPIC, ioapic_id, IOAPIC_VERSION, MP_IOAPIC_ENABLED, (uint32_t)BOOT_IOAPIC_ADDR };
    ADD(io);
    /* ISA IRQ n drives IOAPIC input n: that is KVM's default GSI routing
     * (the PIT raises GSI 0), so no override is needed. Flags 0: "conforms to
     * the bus" (edge, active high for ISA). */
    for (uint8_t irq = 0; irq < 16; irq++) {
        struct mpc_irq e = { MP_INTSRC, MP_INT, 0, BUS_ISA, irq, ioapic_id, irq };
        ADD(e);
    }
    /* PCI: source irq is (device << 2) | (INTx pin - 1). */
    for (unsigned i = 0; i < nintx; i++) {
        if (intx[i].dev > 31 || intx[i].pin < 1 || intx[i].pin > 4 || intx[i].gsi < 16 || intx[i].gsi > 23)
            return hull_err_set(err, EINVAL, "MP table: PCI line %u (device %u, pin %u, GSI %u) is invalid", i,
                                intx[i].dev, intx[i].pin, intx[i].gsi);
        struct mpc_irq e = { MP_INTSRC, MP_INT, PCI_IRQ_LEVEL_LOW, BUS_PCI,
                             (uint8_t)(intx[i].dev << 2 | (intx[i].pin - 1)), ioapic_id, intx[i].gsi };
        ADD(e);
    }
    /* Every LAPIC's LINT0 is wired to the 8259's output, LINT1 to NMI
     * (the MP spec's virtual-wire configuration; 0xff = all LAPICs). */
    struct mpc_irq lint0 = { MP_LINTSRC, MP_EXTINT, 0, BUS_ISA, 0, 0xff, 0 };
    struct mpc_irq lint1 = { MP_LINTSRC, MP_NMI, 0, BUS_ISA, 0, 0xff, 1 };
    ADD(lint0);
    ADD(lint1);
#undef ADD

    memcpy(h->sig, "PCMP", 4);
    h->length = (uint16_t)off;
    h->rev = MP_SPEC_REV;
    memcpy(h->oem, "HULL    ", 8);
    memcpy(h->product, "MICROVM     ", 12);
    h->count = (uint16_t)count;
    h->lapic = (uint32_t)BOOT_LAPIC_ADDR;
    h->checksum = checksum(buf, off);

    struct mpf f = { .sig = "_MP_", .table = (uint32_t)(BOOT_MPTABLE_ADDR + sizeof(struct mpf)), .length = 1,
                     .rev = MP_SPEC_REV };
    f.checksum = checksum((const uint8_t *)&f, sizeof(f));
    if (vm_mem_write(mem, BOOT_MPTABLE_ADDR, &f, sizeof(f)) < 0 ||
        vm_mem_write(mem, BOOT_MPTABLE_ADDR + sizeof(f), buf, off) < 0)
        return hull_err_set(err, EFAULT, "MP table: guest RAM does not cover 0x%llx",
                            (unsigned long long)BOOT_MPTABLE_ADDR);
    return 0;
}
