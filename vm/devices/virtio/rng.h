/* virtio-rng (virtio 1.x 5.4): fills the guest's buffers from getrandom(2). */
#ifndef HULL_VM_DEVICES_VIRTIO_RNG_H
#define HULL_VM_DEVICES_VIRTIO_RNG_H

#include "vm/devices/virtio/dev.h"

int virtio_rng_create(struct virtio_dev **out, const struct vm_mem *mem, struct hull_err *err);

#endif
