/* A PCI bus 0 with configuration mechanism #1 (ports 0xCF8/0xCFC), a host
 * bridge at 00:00.0 and up to 31 single-function endpoint devices, each with
 * one 64-bit memory BAR (BAR0/1) placed by us in an MMIO window. The guest may
 * size and move BARs; MMIO accesses are routed by the BAR's current address
 * while memory decoding is enabled. */
#ifndef HULL_VM_DEVICES_PCI_H
#define HULL_VM_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define PCI_CONF1_ADDR_PORT 0xcf8   /* 8 ports: address (4) + data (4) */
#define PCI_MAX_SLOTS 32
#define PCI_CFG_SIZE 256

#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_CAP_PTR        0x34
#define PCI_INT_LINE       0x3c
#define PCI_INT_PIN        0x3d
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_STATUS_CAP_LIST 0x0010

struct pci_func {
    uint8_t cfg[PCI_CFG_SIZE];
    uint8_t wmask[PCI_CFG_SIZE];   /* bits the guest may change */
    uint64_t bar_size;             /* BAR0 (64-bit) size, power of two; 0 = none */
    /* Access to BAR0 at offset off (inside bar_size). */
    void (*bar_io)(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);
    /* Called after the guest wrote config bytes [off, off+len) (e.g. MSI-X enable). */
    void (*cfg_written)(void *opaque, unsigned off, unsigned len);
    void *opaque;
};

struct pci_bus {
    pthread_mutex_t lock;          /* config space and the address latch */
    uint32_t conf1_addr;
    struct pci_func host_bridge;
    struct pci_func *slot[PCI_MAX_SLOTS];
    uint64_t mmio_base, mmio_size, mmio_next;
};

/* [mmio_base, +mmio_size) is where BARs are placed (and what the VMM routes
 * to pci_mmio_io). */
void pci_bus_init(struct pci_bus *b, uint64_t mmio_base, uint64_t mmio_size);
void pci_bus_destroy(struct pci_bus *b);
/* Plugs f into the next free slot and assigns its BAR; returns the slot. */
int pci_bus_add(struct pci_bus *b, struct pci_func *f, struct hull_err *err);

/* little-endian helpers for building config space */
void pci_cfg_set16(struct pci_func *f, unsigned off, uint16_t v);
void pci_cfg_set32(struct pci_func *f, unsigned off, uint32_t v);

/* vm_io_fn for the 8 ports at 0xCF8 */
void pci_conf1_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);
/* vm_io_fn for the MMIO window (off relative to mmio_base) */
void pci_mmio_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write);

#endif
