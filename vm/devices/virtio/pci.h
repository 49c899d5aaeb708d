/* virtio-pci transport, modern only (virtio 1.x 4.1): vendor 0x1AF4, device
 * 0x1040 + virtio id, vendor capabilities pointing into BAR0 for the common,
 * notify, ISR and device configuration structures, and MSI-X (one vector per
 * queue plus one for configuration changes) with INTx + ISR as fallback. */
#ifndef HULL_VM_DEVICES_VIRTIO_PCI_H
#define HULL_VM_DEVICES_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/devices/pci.h"
#include "vm/devices/virtio/dev.h"

/* BAR0 layout */
#define VPCI_COMMON_OFF 0x0000
#define VPCI_ISR_OFF    0x1000
#define VPCI_DEVCFG_OFF 0x2000
#define VPCI_NOTIFY_OFF 0x3000
#define VPCI_NOTIFY_MULT 4
#define VPCI_MSIX_TABLE_OFF 0x4000
#define VPCI_MSIX_PBA_OFF   0x6000
#define VPCI_BAR_SIZE   0x8000
#define VPCI_MAX_VECTORS (VIRTIO_MAX_QUEUES + 1)
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Where interrupts go: an MSI message, or a level on a legacy GSI. */
struct vm_irq_sink {
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);
    void (*intx)(void *opaque, unsigned gsi, int level);
    void *opaque;
};

struct vpci_queue {
    uint16_t size, msix_vector;
    uint64_t desc, driver, device;
};

struct virtio_pci {
    struct pci_func func;
    struct virtio_dev *dev;         /* not owned */
    struct vm_irq_sink sink;
    unsigned gsi;                   /* INTx route (PCI_INT_LINE) */
    pthread_mutex_t reg_lock;       /* register state below; taken before dev->lock */
    uint32_t dfselect, gfselect;
    uint16_t queue_select, msix_config;
    struct vpci_queue q[VIRTIO_MAX_QUEUES];
    pthread_mutex_t irq_lock;       /* ISR, MSI-X table/PBA, INTx level; a leaf lock */
    uint8_t isr;
    int intx_level;
    unsigned nvec;
    uint32_t msix_table[VPCI_MAX_VECTORS][4];   /* addr lo, addr hi, data, control */
    uint64_t msix_pba[(VPCI_MAX_VECTORS + 63) / 64];
    unsigned msix_cap;              /* config-space offset of the MSI-X capability */
    /* Optional: called when the notify addresses may have changed (device
     * status written, PCI config written: BAR moved, decoding toggled), so a
     * VMM can (re)bind ioeventfds. Runs on a vCPU thread, maybe with
     * reg_lock held: it must not call back into this transport. */
    void (*layout_changed)(void *opaque);
    void *layout_opaque;
};

/* Wraps dev (which must outlive the transport) and fills its irq hooks.
 * gsi is the legacy interrupt line used when MSI-X is off. */
void virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *dev, const struct vm_irq_sink *sink, unsigned gsi);
void virtio_pci_destroy(struct virtio_pci *vp);
/* Guest-physical address of queue q's notify register, when the function
 * decodes memory and q exists; false otherwise. */
bool virtio_pci_notify_addr(struct virtio_pci *vp, unsigned q, uint64_t *gpa);

#endif
