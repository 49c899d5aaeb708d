/* libFuzzer harness: virtqueue processing over a guest memory image taken
 * from the input. Layout of an input:
 *   byte 0: mode (0 raw queue, 1 virtio-blk, 2 virtio-console, 3 virtio-rng)
 *   byte 1: log2 of the queue size (masked to 1..6)
 *   byte 2: feature bits (bit 0 INDIRECT_DESC, bit 1 EVENT_IDX)
 *   bytes 3..: guest RAM contents from 0 (64 KiB, zero padded); the rings
 *   live at 0 (descriptor table), 0x400 (avail), 0x500 (used).
 * Whatever the bytes, processing must end with used elements or a device
 * error; ASan/UBSan report any access outside guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm/devices/virtio/blk.h"
#include "vm/devices/virtio/console.h"
#include "vm/devices/virtio/rng.h"

#define RAM 0x10000u

static uint8_t *ram;
static int disk_fd = -1;

static void setup(void) {
    ram = aligned_alloc(4096, RAM);
    disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
    if (!ram || disk_fd < 0 || ftruncate(disk_fd, 8 * 512) < 0)
        abort();
}

static void raw_queue(struct vm_mem *mem, uint16_t size, uint64_t features) {
    struct virtq q;
    struct hull_err err;
    virtq_init(&q, mem, 64);
    if (virtq_configure(&q, size, 0, 0x400, 0x500, features, &err) == 0) {
        struct virtq_chain c;
        uint8_t buf[512];
        for (int i = 0; i < 2 * size && virtq_pop(&q, &c, &err) > 0; i++) {
            size_t n = virtq_chain_read(&c, 0, buf, sizeof(buf));
            virtq_chain_write(&c, 1, buf, n);
            if (virtq_push(&q, &c, (uint32_t)n, &err) < 0)
                break;
            (void)virtq_need_interrupt(&q);
        }
    }
    virtq_reset(&q);
}

static void device(struct vm_mem *mem, struct virtio_dev *d, uint16_t size, uint64_t features) {
    d->driver_features = (features | (1ull << VIRTIO_F_VERSION_1) | (1ull << 1)) & d->host_features;
    virtio_dev_set_status(d, 0x0b);
    /* Every queue shares the same rings: the input decides what each sees. */
    for (unsigned q = 0; q < d->num_queues; q++)
        virtio_dev_queue_enable(d, q, size, 0, 0x400, 0x500);
    virtio_dev_set_status(d, 0x0f);
    for (unsigned q = 0; q < d->num_queues; q++)
        virtio_dev_notify(d, q);
    virtio_dev_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    if (!ram)
        setup();
    if (len < 3)
        return 0;
    memset(ram, 0, RAM);
    memcpy(ram, data + 3, len - 3 < RAM ? len - 3 : RAM);
    struct vm_mem mem;
    struct hull_err err;
    vm_mem_init(&mem);
    if (vm_mem_add_host(&mem, 0, RAM, ram, &err) < 0)
        abort();
    uint16_t size = (uint16_t)(1u << (1 + data[1] % 6));
    uint64_t features = ((data[2] & 1) ? 1ull << VIRTIO_RING_F_INDIRECT_DESC : 0) |
                        ((data[2] & 2) ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0) | (1ull << VIRTIO_F_VERSION_1);
    struct virtio_dev *d = NULL;
    switch (data[0] % 4) {
    case 0:
        raw_queue(&mem, size, features);
        break;
    case 1: {
        struct virtio_blk_opts o = { .fd = dup(disk_fd), .read_only = data[2] & 4 };
        if (virtio_blk_create(&d, &mem, &o, &err) == 0)
            device(&mem, d, size, features);
        else
            close(o.fd);
        break;
    }
    case 2: {
        struct virtio_console_opts o = { .nports = 2 };
        o.port[0] = (struct virtio_console_port_cfg){ .console = true, .out_fd = -1 };
        o.port[1] = (struct virtio_console_port_cfg){ .name = "p1", .out_fd = -1 };
        if (virtio_console_create(&d, &mem, &o, &err) == 0) {
            virtio_console_send(d, 1, "input", 5);
            device(&mem, d, size, features);
        }
        break;
    }
    default:
        if (virtio_rng_create(&d, &mem, &err) == 0)
            device(&mem, d, size, features);
        break;
    }
    vm_mem_free(&mem);
    return 0;
}
