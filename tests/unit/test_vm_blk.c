/* virtio-blk requests against a temporary raw image: I/O, flush, GET_ID,
 * and every malformed request answered with a status (or a broken device),
 * never an access outside the disk or guest RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vm/devices/virtio/blk.h"
#include "tests/lib/virtq_sim.h"

#define RAM  0x100000ull
#define RING 0x1000ull
#define HDR  0x20000ull
#define BUF  0x30000ull
#define ST   0x3f000ull
#define QS   16
#define DISK_SECTORS 8

static struct vm_mem mem;
static uint8_t *ram;

static struct virtio_dev *make(int fd, bool ro, struct virtq_sim *s) {
    struct virtio_dev *d;
    struct hull_err err;
    struct virtio_blk_opts o = { .fd = fd, .read_only = ro, .serial = "hull-disk-0123456789abc" };
    if (virtio_blk_create(&d, &mem, &o, &err) < 0) {
        diag("%s", err.msg);
        return NULL;
    }
    memset(ram, 0, RAM);
    virtq_sim_init(s, &mem, QS, RING);
    d->driver_features = d->host_features;
    virtio_dev_set_status(d, 0x0b);
    virtio_dev_queue_enable(d, 0, QS, s->desc, s->avail, s->used);
    virtio_dev_set_status(d, 0x0f);
    return d;
}

/* header (readable) + data + status (writable): returns status, *len the used length */
static int req(struct virtio_dev *d, struct virtq_sim *s, uint32_t type, uint64_t sector, uint32_t dlen,
               bool data_writable, uint32_t *len) {
    uint32_t h[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
    vm_mem_write(&mem, HDR, h, 16);
    ram[ST] = 0xee;
    uint16_t n = 0;
    virtq_sim_desc(s, s->desc, n, HDR, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(n + 1)); n++;
    if (dlen) {
        virtq_sim_desc(s, s->desc, n, BUF, dlen, VIRTQ_DESC_F_NEXT | (data_writable ? VIRTQ_DESC_F_WRITE : 0),
                       (uint16_t)(n + 1));
        n++;
    }
    virtq_sim_desc(s, s->desc, n, ST, 1, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_publish(s, 0);
    virtio_dev_notify(d, 0);
    uint32_t id = 0;
    *len = 0;
    if (!virtq_sim_used(s, &id, len))
        return -1;
    return ram[ST];
}

int main(void) {
    ram = aligned_alloc(4096, RAM);
    vm_mem_init(&mem);
    struct hull_err err;
    vm_mem_add_host(&mem, 0, RAM, ram, &err);
    char path[] = "/tmp/hull-blk-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    uint8_t disk[DISK_SECTORS * 512];
    for (unsigned i = 0; i < sizeof(disk); i++)
        disk[i] = (uint8_t)(i / 512 + 1);
    if (fd < 0 || write(fd, disk, sizeof(disk)) != (ssize_t)sizeof(disk))
        bail_out("cannot make a temporary image %s: %s", path, strerror(errno));

    struct virtq_sim s;
    uint32_t len;
    struct virtio_dev *d = make(dup(fd), false, &s);
    ok(d != NULL, "device over a 4 KiB image");
    uint64_t cap = 0;
    virtio_dev_config_read(d, 0, &cap, 8);
    is_int(cap, DISK_SECTORS, "capacity in sectors");

    is_int(req(d, &s, VIRTIO_BLK_T_IN, 2, 1024, true, &len), VIRTIO_BLK_S_OK, "read sectors 2-3");
    is_int(len, 1025, "used length: data + status");
    ok(ram[BUF] == 3 && ram[BUF + 1023] == 4, "right data");
    memset(ram + BUF, 0xab, 512);
    is_int(req(d, &s, VIRTIO_BLK_T_OUT, 7, 512, false, &len), VIRTIO_BLK_S_OK, "write the last sector");
    is_int(len, 1, "used length: status only");
    uint8_t back[512];
    ok(pread(fd, back, 512, 7 * 512) == 512 && back[0] == 0xab && back[511] == 0xab, "landed in the image");
    is_int(req(d, &s, VIRTIO_BLK_T_FLUSH, 0, 0, false, &len), VIRTIO_BLK_S_OK, "flush");
    is_int(req(d, &s, VIRTIO_BLK_T_GET_ID, 0, 20, true, &len), VIRTIO_BLK_S_OK, "GET_ID");
    ok(!memcmp(ram + BUF, "hull-disk-0123456789", 20) && len == 21, "id truncated to 20 bytes");

    is_int(req(d, &s, VIRTIO_BLK_T_IN, 7, 1024, true, &len), VIRTIO_BLK_S_IOERR, "read past the end: IOERR");
    is_int(req(d, &s, VIRTIO_BLK_T_IN, 8, 512, true, &len), VIRTIO_BLK_S_IOERR, "read at capacity: IOERR");
    is_int(req(d, &s, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false, &len), VIRTIO_BLK_S_IOERR, "sector 2^64-1: IOERR");
    is_int(req(d, &s, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, false, &len), VIRTIO_BLK_S_IOERR,
           "sector whose byte offset overflows: IOERR");
    is_int(req(d, &s, VIRTIO_BLK_T_IN, 0, 100, true, &len), VIRTIO_BLK_S_IOERR, "partial sector: IOERR");
    is_int(req(d, &s, 77, 0, 0, false, &len), VIRTIO_BLK_S_UNSUPP, "unknown type: UNSUPP");
    ok(virtio_dev_running(d), "device still running after bad requests");

    /* short header: 8 readable bytes */
    virtq_sim_desc(&s, s.desc, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
    virtq_sim_desc(&s, s.desc, 1, ST, 1, VIRTQ_DESC_F_WRITE, 0);
    virtq_sim_publish(&s, 0);
    virtio_dev_notify(d, 0);
    uint32_t id;
    ok(virtq_sim_used(&s, &id, &len) && ram[ST] == VIRTIO_BLK_S_IOERR, "short header: IOERR");

    /* no writable byte for the status: cannot answer → device error */
    virtq_sim_desc(&s, s.desc, 0, HDR, 16, 0, 0);
    virtq_sim_publish(&s, 0);
    virtio_dev_notify(d, 0);
    ok(d->broken && (virtio_dev_get_status(d) & VIRTIO_STATUS_NEEDS_RESET), "no status byte: NEEDS_RESET");
    like(d->broken_err.msg, "no status byte", "reason recorded");
    virtio_dev_free(d);

    d = make(dup(fd), true, &s);
    uint32_t feats = (uint32_t)d->host_features;
    ok(feats & (1u << VIRTIO_BLK_F_RO), "read-only device offers VIRTIO_BLK_F_RO");
    memset(ram + BUF, 0xcd, 512);
    is_int(req(d, &s, VIRTIO_BLK_T_OUT, 0, 512, false, &len), VIRTIO_BLK_S_IOERR, "write to read-only: IOERR");
    ok(pread(fd, back, 512, 0) == 512 && back[0] == 1, "image untouched");
    is_int(req(d, &s, VIRTIO_BLK_T_IN, 0, 512, true, &len), VIRTIO_BLK_S_OK, "read from read-only works");
    virtio_dev_free(d);

    struct virtio_blk_opts bad = { .fd = -1 };
    ok(virtio_blk_create(&d, &mem, &bad, &err) < 0, "bad fd refused");
    close(fd);
    vm_mem_free(&mem);
    free(ram);
    return done_testing();
}
