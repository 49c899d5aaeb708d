/* The VMM's private state, shared by vmm.c (building and tearing down the
 * machine) and loop.c (vCPU threads, the I/O thread, ioeventfds). */
#ifndef HULL_VM_VMM_INTERNAL_H
#define HULL_VM_VMM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/boot/boot.h"
#include "vm/devices/legacy/i8042.h"
#include "vm/core/kvm.h"
#include "vm/devices/pci.h"
#include "vm/devices/pvpanic_pci.h"
#include "vm/devices/legacy/uart8250.h"
#include "vm/devices/virtio/pci.h"
#include "vm/devices/legacy/pm.h"
#include "vm/vmm/vmm.h"

#define VMM_MAX_DEVS (VMM_MAX_DISKS + 2)   /* disks, the console, rng */

struct vmm;

/* One virtio device on the PCI bus, with the ioeventfds bound to its queue
 * notify registers (so a notify costs the vCPU no trip to user space). */
struct vmm_dev {
    struct vmm *vmm;
    struct virtio_dev *dev;
    struct virtio_pci vp;
    pthread_mutex_t ioev_lock;
    int ioev_fd[VIRTIO_MAX_QUEUES];        /* eventfds, created with the device */
    uint64_t ioev_gpa[VIRTIO_MAX_QUEUES];  /* where each is bound; 0 = not bound */
};

/* A host fd feeding a console port. */
struct vmm_feed {
    int fd;
    unsigned port;                         /* console port index */
    bool eof, blocked;                     /* blocked: the port's buffer is full */
    bool file;                             /* a regular file: not pollable, pumped on space events */
    char buf[4096];
    size_t off, len;                       /* bytes read but not yet taken by the port */
};

struct vmm {
    const struct vmm_config *cfg;
    struct vm_mem mem;
    struct kvm_vm vm;
    bool vm_made, mem_made;
    struct uart8250 uart;
    struct i8042 kbd;
    struct vm_pm pm;
    struct pci_bus pci;
    struct pvpanic_pci pvpanic;
    struct vmm_dev dev[VMM_MAX_DEVS];
    struct boot_pci_intx intx[VMM_MAX_DEVS];   /* INTx routing for the MP table */
    unsigned ndevs;
    struct virtio_dev *console;            /* also in dev[] */
    struct vmm_feed feed[VMM_MAX_PORTS];
    unsigned nfeeds;
    int space_efd;                         /* console buffer got room */
    int fate_efd;                          /* a vCPU thread ended */
    pthread_t thread[KVM_MAX_VCPUS];
    bool thread_made[KVM_MAX_VCPUS];
    struct hull_err vcpu_err;              /* first vCPU failure */
    pthread_mutex_t err_lock;
    bool ioeventfd;                        /* KVM_CAP_IOEVENTFD */
};

/* loop.c */
int vmm_dev_ioev_init(struct vmm_dev *d, struct hull_err *err);
void vmm_dev_ioev_fini(struct vmm_dev *d);
void vmm_layout_changed(void *opaque);   /* virtio_pci hook: rebind ioeventfds */
void vmm_rx_space(void *opaque, unsigned port);
/* Starts the vCPU threads, serves I/O until the fate is decided, stops and
 * joins every thread. Returns the fate, or <0 (err) when a thread could not
 * be started. */
int vmm_loop(struct vmm *v, struct hull_err *err);

#endif
