/* virtio-blk (virtio 1.x 5.2) over a raw image fd. */
#ifndef HULL_VM_DEVICES_VIRTIO_BLK_H
#define HULL_VM_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>

#include "vm/devices/virtio/dev.h"

#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_ID_BYTES  20
#define VIRTIO_BLK_SECTOR    512

struct virtio_blk_opts {
    int fd;              /* raw image; the device takes ownership (closed on destroy) */
    bool read_only;
    const char *serial;  /* GET_ID answer, up to 20 bytes; NULL: "hull" */
    uint16_t queue_size; /* 0: 256 */
};

/* Creates the device (one request queue). The capacity is the image size
 * rounded down to whole sectors. On failure the fd is NOT consumed. */
int virtio_blk_create(struct virtio_dev **out, const struct vm_mem *mem, const struct virtio_blk_opts *o,
                      struct hull_err *err);

#endif
