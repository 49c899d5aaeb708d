/* pvpanic as a PCI device (vendor 0x1b36, device 0x0011: the id Linux's
 * pvpanic-pci driver binds to). Without ACPI the ISA pvpanic port (0x505) is
 * invisible to Linux; on PCI the guest finds it like any other device, and
 * a kernel panic becomes the fate "panic" instead of an anonymous reset. */
#ifndef HULL_VM_DEVICES_PVPANIC_PCI_H
#define HULL_VM_DEVICES_PVPANIC_PCI_H

#include "vm/devices/pci.h"
#include "vm/core/fate.h"

#define PVPANIC_PCI_VENDOR 0x1b36
#define PVPANIC_PCI_DEVICE 0x0011

struct pvpanic_pci {
    struct pci_func func;
    struct vm_fate_sink sink;
};

void pvpanic_pci_init(struct pvpanic_pci *p, const struct vm_fate_sink *sink);

#endif
