/* virtio-console with VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.x 5.3): one
 * device, several ports (e.g. hvc0 for the kernel console, then named ports
 * for a container's stdin/stdout/stderr and the agent's control channel).
 *
 * Guest → host: what the guest writes on port p goes to that port's out_fd
 * (or is dropped when out_fd < 0). Host → guest: virtio_console_send() queues
 * bytes in a bounded per-port buffer that drains into the guest's receive
 * buffers once the guest has opened the port. */
#ifndef HULL_VM_DEVICES_VIRTIO_CONSOLE_H
#define HULL_VM_DEVICES_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "vm/devices/virtio/dev.h"

#define VIRTIO_CONSOLE_F_SIZE      0
#define VIRTIO_CONSOLE_F_MULTIPORT 1
#define VIRTIO_CONSOLE_MAX_PORTS   8
#define VIRTIO_CONSOLE_PORT_BUF    16384   /* host → guest bytes buffered per port */

/* control events (5.3.6.2) */
#define VIRTIO_CONSOLE_DEVICE_READY  0
#define VIRTIO_CONSOLE_DEVICE_ADD    1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY    3
#define VIRTIO_CONSOLE_CONSOLE_PORT  4
#define VIRTIO_CONSOLE_RESIZE        5
#define VIRTIO_CONSOLE_PORT_OPEN     6
#define VIRTIO_CONSOLE_PORT_NAME     7

struct virtio_console_port_cfg {
    const char *name;   /* shown in the guest as /dev/virtio-ports/NAME; NULL for none */
    bool console;       /* an hvc console port (at most one) */
    int out_fd;         /* guest → host bytes; -1 drops them. Not owned. */
};

struct virtio_console_opts {
    unsigned nports;    /* 1..VIRTIO_CONSOLE_MAX_PORTS */
    struct virtio_console_port_cfg port[VIRTIO_CONSOLE_MAX_PORTS];
    uint16_t queue_size;   /* 0: 128 */
    /* Optional: a port's host → guest buffer got room again (the guest took
     * bytes). Called with the device lock held: just wake someone up. */
    void (*rx_space)(void *opaque, unsigned port);
    void *rx_space_opaque;
};

int virtio_console_create(struct virtio_dev **out, const struct vm_mem *mem,
                          const struct virtio_console_opts *o, struct hull_err *err);
/* Queues host → guest bytes for a port; returns how many were accepted (less
 * than len when the port's buffer is full: retry after the guest reads). */
size_t virtio_console_send(struct virtio_dev *d, unsigned port, const void *buf, size_t len);
/* Has the guest opened the port (PORT_OPEN 1, or the console port)? */
bool virtio_console_port_open(struct virtio_dev *d, unsigned port);

#endif
