/* The transport-independent half of a virtio device (virtio 1.x, 2.1-3.1):
 * status, feature negotiation, queues, the "broken" state. A device model
 * (console, blk, rng) is a struct virtio_dev_ops; a transport (pci.c)
 * maps guest register accesses onto the functions below and delivers the
 * interrupts the core asks for through the irq callbacks.
 *
 * Locking: dev->lock serialises everything that touches the device's state:
 * the vCPU thread's register accesses and notifications, and host-side
 * threads feeding input (console stdin). Device ops run with it held. */
#ifndef HULL_VM_DEVICES_VIRTIO_DEV_H
#define HULL_VM_DEVICES_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "vm/devices/virtio/virtq.h"
#include "vm/core/mem.h"

/* device status bits (2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE  0x01
#define VIRTIO_STATUS_DRIVER       0x02
#define VIRTIO_STATUS_DRIVER_OK    0x04
#define VIRTIO_STATUS_FEATURES_OK  0x08
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

#define VIRTIO_ID_NET      1
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_ID_CONSOLE  3
#define VIRTIO_ID_RNG      4

#define VIRTIO_MAX_QUEUES  64

struct virtio_dev;

struct virtio_dev_ops {
    const char *name;
    uint16_t device_id;
    /* Reads/writes of the device-specific configuration space; off+len is
     * already checked against config_size. */
    void (*config_read)(struct virtio_dev *d, uint32_t off, void *buf, uint32_t len);
    void (*config_write)(struct virtio_dev *d, uint32_t off, const void *buf, uint32_t len);
    /* The driver notified queue q (or the host has input for it). Returns <0
     * with err set when the guest broke the protocol: the core then marks
     * the device DEVICE_NEEDS_RESET. */
    int (*queue_notify)(struct virtio_dev *d, unsigned q, struct hull_err *err);
    /* Called once DRIVER_OK is set (queues usable), e.g. to flush pending input. */
    void (*driver_ok)(struct virtio_dev *d);
    /* Device reset by the driver: forget per-session state. */
    void (*reset)(struct virtio_dev *d);
    /* Release the model's private state (fds are the model's to close). */
    void (*destroy)(struct virtio_dev *d);
};

/* How the core raises interrupts; filled in by the transport. */
struct virtio_irq {
    void (*queue)(void *opaque, unsigned q);
    void (*config)(void *opaque);
    void *opaque;
};

struct virtio_dev {
    const struct virtio_dev_ops *ops;
    void *priv;                     /* the model's state */
    const struct vm_mem *mem;
    pthread_mutex_t lock;
    uint64_t host_features;         /* offered (includes VERSION_1 and ring features) */
    uint64_t driver_features;       /* written by the driver */
    uint64_t features;              /* accepted at FEATURES_OK */
    uint8_t status;
    uint8_t config_generation;
    uint32_t config_size;
    unsigned num_queues;
    struct virtq vq[VIRTIO_MAX_QUEUES];
    bool broken;                    /* NEEDS_RESET: queues are no longer touched */
    struct hull_err broken_err;     /* why, for the VMM's log */
    struct virtio_irq irq;
};

/* Sets up the core; device_features are the model's own bits (the core adds
 * VERSION_1, INDIRECT_DESC and EVENT_IDX). */
int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
                    const struct vm_mem *mem, uint64_t device_features, unsigned num_queues,
                    uint16_t queue_max_size, uint32_t config_size, struct hull_err *err);
void virtio_dev_destroy(struct virtio_dev *d);
/* Destroys and frees a device made by a model's *_create(): every model
 * allocates its state with the struct virtio_dev as first member. */
void virtio_dev_free(struct virtio_dev *d);

/* Transport entry points (take the lock themselves). */
void virtio_dev_set_status(struct virtio_dev *d, uint8_t status);
uint8_t virtio_dev_get_status(struct virtio_dev *d);
/* Enables queue q with the driver's ring addresses; failure breaks the device. */
void virtio_dev_queue_enable(struct virtio_dev *d, unsigned q, uint16_t size, uint64_t desc,
                             uint64_t avail, uint64_t used);
void virtio_dev_notify(struct virtio_dev *d, unsigned q);
void virtio_dev_config_read(struct virtio_dev *d, uint32_t off, void *buf, uint32_t len);
void virtio_dev_config_write(struct virtio_dev *d, uint32_t off, const void *buf, uint32_t len);

/* For models (lock held): */
bool virtio_dev_running(const struct virtio_dev *d);   /* DRIVER_OK and not broken */
/* Marks the device DEVICE_NEEDS_RESET (keeps the first reason) and tells the driver. */
void virtio_dev_fail(struct virtio_dev *d, const struct hull_err *why);
/* Pushes a used element and interrupts if the driver wants it; failure breaks the device. */
int virtio_dev_complete(struct virtio_dev *d, unsigned q, const struct virtq_chain *c, uint32_t written);

#endif
