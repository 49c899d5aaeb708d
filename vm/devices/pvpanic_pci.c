/* pvpanic-pci: BAR0 holds one byte register. Reads report the events the
 * device understands; a write with PANICKED set is the guest's panic. */
#include "vm/devices/pvpanic_pci.h"

#include <string.h>

#define PVPANIC_PANICKED     0x01
#define PVPANIC_CRASH_LOADED 0x02
#define PVPANIC_BAR_SIZE     0x1000   /* one page: the smallest a guest maps cleanly */

static void bar_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct pvpanic_pci *p = opaque;
    if (!is_write) {
        memset(data, 0, len);
        if (off == 0)
            data[0] = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
        return;
    }
    /* CRASH_LOADED means a kdump kernel takes over: the guest lives on. */
    if (off == 0 && (data[0] & PVPANIC_PANICKED))
        p->sink.request(p->sink.opaque, VM_FATE_PANIC);
}

void pvpanic_pci_init(struct pvpanic_pci *p, const struct vm_fate_sink *sink) {
    memset(p, 0, sizeof(*p));
    p->sink = *sink;
    struct pci_func *f = &p->func;
    pci_cfg_set16(f, PCI_VENDOR_ID, PVPANIC_PCI_VENDOR);
    pci_cfg_set16(f, PCI_DEVICE_ID, PVPANIC_PCI_DEVICE);
    pci_cfg_set32(f, PCI_REVISION, 0x088000u << 8 | 0x01);   /* class 08 80 00: other system peripheral */
    pci_cfg_set16(f, PCI_SUBSYS_VENDOR, 0x1af4);
    pci_cfg_set16(f, PCI_SUBSYS_ID, 0x1100);
    f->bar_size = PVPANIC_BAR_SIZE;
    f->bar_io = bar_io;
    f->opaque = p;
}
