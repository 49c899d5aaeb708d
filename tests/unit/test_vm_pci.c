/* virtio-pci transport driven the way Linux's virtio_pci_modern does: conf1
 * probe, capability walk, BAR sizing, feature negotiation and queue set-up
 * through BAR0, a virtio-rng round trip, MSI-X and INTx delivery. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vm/core/bus.h"
#include "vm/devices/virtio/pci.h"
#include "vm/devices/virtio/rng.h"
#include "tests/lib/virtq_sim.h"

#define RAM 0x100000ull
#define WIN 0xe0000000ull

static struct vm_bus pio, mmio;
static int msis, intx_level = -1;
static uint32_t last_msi_data;
static void on_msi(void *o, uint64_t a, uint32_t d) { msis++; last_msi_data = d; }
static void on_intx(void *o, unsigned gsi, int level) { intx_level = level; }

static uint32_t cfg_read(unsigned slot, unsigned reg, unsigned len) {
    uint32_t a = 0x80000000u | slot << 11 | (reg & 0xfc), v = 0;
    vm_bus_access(&pio, 0xcf8, (uint8_t *)&a, 4, true);
    vm_bus_access(&pio, 0xcfc + (reg & 3), (uint8_t *)&v, len, false);
    return v;
}
static void cfg_write(unsigned slot, unsigned reg, uint32_t v, unsigned len) {
    uint32_t a = 0x80000000u | slot << 11 | (reg & 0xfc);
    vm_bus_access(&pio, 0xcf8, (uint8_t *)&a, 4, true);
    vm_bus_access(&pio, 0xcfc + (reg & 3), (uint8_t *)&v, len, true);
}
static uint64_t bar;
static uint64_t rd(uint64_t off, unsigned len) {
    uint64_t v = 0;
    vm_bus_access(&mmio, bar + off, (uint8_t *)&v, len, false);
    return v;
}
static void wr(uint64_t off, uint64_t v, unsigned len) { vm_bus_access(&mmio, bar + off, (uint8_t *)&v, len, true); }

int main(void) {
    uint8_t *ram = aligned_alloc(4096, RAM);
    memset(ram, 0, RAM);
    struct vm_mem mem;
    struct hull_err err;
    vm_mem_init(&mem);
    vm_mem_add_host(&mem, 0, RAM, ram, &err);
    struct pci_bus pci;
    pci_bus_init(&pci, WIN, 0x100000);
    struct virtio_dev *rng;
    virtio_rng_create(&rng, &mem, &err);
    struct virtio_pci vp;
    struct vm_irq_sink sink = { on_msi, on_intx, NULL };
    virtio_pci_init(&vp, rng, &sink, 10);
    is_int(pci_bus_add(&pci, &vp.func, &err), 1, "virtio-rng in slot 1");
    vm_bus_add(&pio, PCI_CONF1_ADDR_PORT, 8, pci_conf1_io, &pci, &err);
    vm_bus_add(&mmio, WIN, 0x100000, pci_mmio_io, &pci, &err);

    /* Linux's pci_check_type1(): byte write to 0xCFB, then the latch round trip */
    uint8_t one = 1;
    vm_bus_access(&pio, 0xcfb, &one, 1, true);
    uint32_t a = 0x80000000u, back = 0;
    vm_bus_access(&pio, 0xcf8, (uint8_t *)&a, 4, true);
    vm_bus_access(&pio, 0xcf8, (uint8_t *)&back, 4, false);
    is_int(back, 0x80000000u, "conf1 address latch reads back");
    is_int(cfg_read(0, 0x0a, 2), 0x0600, "00:00.0 is a host bridge");
    is_int(cfg_read(1, 0, 4), 0x10441af4, "01:00.0 is 1af4:1044 (modern virtio-rng)");
    is_int(cfg_read(2, 0, 4), 0xffffffffu, "empty slot reads all ones");
    a = 0x80010000u;   /* bus 1 */
    vm_bus_access(&pio, 0xcf8, (uint8_t *)&a, 4, true);
    uint32_t v = 0;
    vm_bus_access(&pio, 0xcfc, (uint8_t *)&v, 4, false);
    is_int(v, 0xffffffffu, "other buses are empty");

    /* BAR sizing, as the kernel does it */
    uint32_t orig = cfg_read(1, 0x10, 4);
    cfg_write(1, 0x10, 0xffffffffu, 4);
    uint32_t mask = cfg_read(1, 0x10, 4);
    cfg_write(1, 0x10, orig, 4);
    is_int(~(mask & ~0xfu) + 1, VPCI_BAR_SIZE, "BAR0 sizes to 32 KiB");
    is_int(mask & 0x6, 0x4, "64-bit memory BAR");
    bar = orig & ~0xfu;
    ok(bar >= WIN && bar < WIN + 0x100000, "BAR0 inside the MMIO window");
    ok(rd(0x12, 2) == 0xffff, "memory decoding off: BAR not reachable");
    cfg_write(1, 0x04, 0x6, 2);

    /* capability walk */
    unsigned types = 0, msix = 0;
    for (unsigned p = cfg_read(1, 0x34, 1), n = 0; p && n < 16; p = cfg_read(1, p + 1, 1), n++) {
        unsigned id = cfg_read(1, p, 1);
        if (id == 0x09)
            types |= 1u << cfg_read(1, p + 3, 1);
        if (id == 0x11)
            msix = p;
    }
    is_int(types, 0x0e, "common, notify and ISR capabilities (rng has no device config)");
    ok(msix, "MSI-X capability");
    is_int((cfg_read(1, msix + 2, 2) & 0x7ff) + 1, 2, "two vectors: queue + config");

    /* negotiation through the common config */
    is_int(rd(0x12, 2), 1, "num_queues");
    wr(0x14, 0, 1);
    wr(0x14, 3, 1);   /* ACKNOWLEDGE | DRIVER */
    wr(0x00, 1, 4);
    is_int(rd(0x04, 4) & 1, 1, "device_feature high word has VERSION_1");
    wr(0x08, 1, 4);
    wr(0x0c, 1, 4);
    wr(0x14, 0x0b, 1);
    is_int(rd(0x14, 1), 0x0b, "FEATURES_OK sticks");

    struct virtq_sim s;
    virtq_sim_init(&s, &mem, 8, 0x1000);
    wr(0x16, 0, 2);
    is_int(rd(0x18, 2), 64, "queue_size defaults to the maximum");
    wr(0x18, 8, 2);
    wr(0x20, s.desc, 4);   /* 64-bit registers written as two halves, like Linux */
    wr(0x24, s.desc >> 32, 4);
    wr(0x28, s.avail, 8);
    wr(0x30, s.used, 8);
    wr(0x1a, 0, 2);        /* queue → vector 0 */
    is_int(rd(0x1a, 2), 0, "queue vector accepted");
    wr(0x10, 5, 2);
    is_int(rd(0x10, 2), 0xffff, "config vector 5 does not exist: NO_VECTOR");
    wr(0x10, 1, 2);
    wr(0x1c, 1, 2);
    is_int(rd(0x1c, 2), 1, "queue enabled");
    wr(0x14, 0x0f, 1);

    /* MSI-X on, vector 0 programmed but masked */
    cfg_write(1, msix + 2, 0x8000 | (cfg_read(1, msix + 2, 2)), 2);
    wr(VPCI_MSIX_TABLE_OFF + 0, 0xfee00000u, 4);
    wr(VPCI_MSIX_TABLE_OFF + 8, 0x41, 4);
    virtq_sim_desc(&s, s.desc, 0, 0x8000, 32, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_publish(&s, 0);
    wr(VPCI_NOTIFY_OFF + 0, 0, 2);
    uint32_t id, len;
    ok(virtq_sim_used(&s, &id, &len) && len == 32, "rng filled 32 bytes through the PCI notify");
    is_int(msis, 0, "masked vector: no message");
    is_int(rd(VPCI_MSIX_PBA_OFF, 8) & 1, 1, "pending bit set");
    wr(VPCI_MSIX_TABLE_OFF + 12, 0, 4);
    ok(msis == 1 && last_msi_data == 0x41, "unmask delivers the pending message");

    /* INTx: MSI-X off */
    cfg_write(1, msix + 2, cfg_read(1, msix + 2, 2) & ~0x8000u, 2);
    virtq_sim_publish(&s, 0);
    wr(VPCI_NOTIFY_OFF, 0, 2);
    is_int(intx_level, 1, "INTx asserted without MSI-X");
    is_int(rd(VPCI_ISR_OFF, 1), 1, "ISR says queue interrupt");
    is_int(intx_level, 0, "reading ISR deasserts");

    /* reset through status 0, and hostile register values */
    wr(0x14, 0, 1);
    is_int(rd(0x14, 1), 0, "reset reads back 0");
    wr(0x14, 0x0b, 1);   /* no features written: VERSION_1 missing */
    ok(!(rd(0x14, 1) & 0x08), "FEATURES_OK refused without VERSION_1");
    wr(0x16, 999, 2);
    is_int(rd(0x18, 2), 0, "nonexistent queue reads size 0");
    wr(0x1c, 1, 2);
    ok(!rng->broken, "enabling a nonexistent queue is ignored");
    uint64_t status = rd(0x14, 1), pba = rd(VPCI_MSIX_PBA_OFF, 8);
    int msis_before = msis, intx_before = intx_level;
    wr(0x7ff0, 1, 4);
    wr(0x5000, 0xdeadbeef, 4);
    is_int(rd(0x7ff0, 4), 0, "unused BAR offset 0x7ff0: a write is not stored, reads 0");
    is_int(rd(0x5000, 8), 0, "unused BAR offset 0x5000 reads 0");
    ok(rd(0x14, 1) == status && rd(VPCI_MSIX_PBA_OFF, 8) == pba, "unused offsets: device status and PBA unchanged");
    ok(msis == msis_before && intx_level == intx_before && !rng->broken, "unused offsets: no interrupt, device not broken");

    virtio_pci_destroy(&vp);
    virtio_dev_free(rng);
    pci_bus_destroy(&pci);
    vm_mem_free(&mem);
    free(ram);
    return done_testing();
}
