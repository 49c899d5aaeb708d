/* virtio-blk: request parsing with bounds checks, synchronous raw-file I/O.
 *
 * A request is [header 16 bytes, readable][data][status 1 byte, writable]
 * (5.2.6). The header is copied out of guest RAM once; the data moves
 * directly between the file and the (already validated) guest buffers. */
#include "vm/devices/virtio/blk.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct blk {
    struct virtio_dev dev;
    int fd;
    bool ro;
    uint64_t capacity;        /* in 512-byte sectors */
    char id[VIRTIO_BLK_ID_BYTES];
};

struct blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct blk_config {          /* 5.2.4, the prefix we fill in */
    uint64_t capacity;
    uint32_t size_max;
    uint32_t seg_max;
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
    uint32_t blk_size;
} __attribute__((packed));

static void blk_config_read(struct virtio_dev *d, uint32_t off, void *buf, uint32_t len) {
    struct blk *b = d->priv;
    uint8_t cfg[64] = {0};
    struct blk_config c = {
        .capacity = b->capacity,
        .seg_max = d->vq[0].max_size - 2,   /* room for header and status */
        .blk_size = VIRTIO_BLK_SECTOR,
    };
    memcpy(cfg, &c, sizeof(c));
    memcpy(buf, cfg + off, len);   /* off+len <= config_size == sizeof cfg */
}

/* Moves `len` data bytes between the file at `pos` and the chain's data part
 * (readable part after the header for writes, writable part before the status
 * byte for reads). Returns 0 or -EIO. */
static int blk_io(struct blk *b, const struct virtq_chain *c, bool to_guest, uint64_t pos, uint64_t len) {
    unsigned first = to_guest ? c->n_out : 0, n = to_guest ? c->n_in : c->n_out;
    uint64_t skip = to_guest ? 0 : sizeof(struct blk_req_hdr);
    for (unsigned i = first; i < first + n && len; i++) {
        const struct iovec *v = &c->iov[i];
        if (skip >= v->iov_len) {
            skip -= v->iov_len;
            continue;
        }
        char *p = (char *)v->iov_base + skip;
        uint64_t seg = v->iov_len - skip;
        skip = 0;
        if (seg > len)
            seg = len;
        while (seg) {
            ssize_t r = to_guest ? pread(b->fd, p, seg, (off_t)pos) : pwrite(b->fd, p, seg, (off_t)pos);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -EIO;
            p += r;
            pos += (uint64_t)r;
            seg -= (uint64_t)r;
            len -= (uint64_t)r;
        }
    }
    return len ? -EIO : 0;
}

/* Is [sector, sector + bytes/512) inside the disk? bytes must be whole sectors. */
static bool blk_in_range(const struct blk *b, uint64_t sector, uint64_t bytes) {
    if (bytes % VIRTIO_BLK_SECTOR)
        return false;
    uint64_t n = bytes / VIRTIO_BLK_SECTOR;
    return sector <= b->capacity && n <= b->capacity - sector;
}

/* Executes one request; returns the number of bytes written into the
 * chain's writable part (data + status), or <0 for a protocol violation. */
static int blk_request(struct blk *b, const struct virtq_chain *c, uint32_t *written, struct hull_err *err) {
    if (c->in_len == 0)
        return hull_err_set(err, EINVAL, "request at head %u has no status byte", c->head);
    uint64_t status_off = c->in_len - 1;
    uint8_t status = VIRTIO_BLK_S_OK;
    uint64_t data_written = 0;
    struct blk_req_hdr h;

    if (virtq_chain_read(c, 0, &h, sizeof(h)) != sizeof(h)) {
        status = VIRTIO_BLK_S_IOERR;   /* short header: answer, the driver is buggy, not us */
        goto done;
    }
    switch (h.type) {
    case VIRTIO_BLK_T_IN: {
        uint64_t len = status_off;
        if (!blk_in_range(b, h.sector, len) || len > UINT32_MAX) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (blk_io(b, c, true, h.sector * VIRTIO_BLK_SECTOR, len) < 0)
            status = VIRTIO_BLK_S_IOERR;
        else
            data_written = len;
        break;
    }
    case VIRTIO_BLK_T_OUT: {
        uint64_t len = c->out_len - sizeof(h);
        if (b->ro || !blk_in_range(b, h.sector, len)) {
            status = VIRTIO_BLK_S_IOERR;
            break;
        }
        if (blk_io(b, c, false, h.sector * VIRTIO_BLK_SECTOR, len) < 0)
            status = VIRTIO_BLK_S_IOERR;
        break;
    }
    case VIRTIO_BLK_T_FLUSH:
        if (!b->ro && fdatasync(b->fd) < 0)
            status = VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        /* The id is not NUL-terminated when it is exactly 20 bytes (5.2.6). */
        uint64_t len = status_off < VIRTIO_BLK_ID_BYTES ? status_off : VIRTIO_BLK_ID_BYTES;
        data_written = virtq_chain_write(c, 0, b->id, len);
        break;
    }
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
done:
    virtq_chain_write(c, status_off, &status, 1);
    *written = (uint32_t)data_written + 1;
    return 0;
}

static int blk_notify(struct virtio_dev *d, unsigned q, struct hull_err *err) {
    struct blk *b = d->priv;
    struct virtq_chain c;
    int rc;
    while ((rc = virtq_pop(&d->vq[q], &c, err)) > 0) {
        uint32_t written = 0;
        if ((rc = blk_request(b, &c, &written, err)) < 0)
            return rc;
        if ((rc = virtio_dev_complete(d, q, &c, written)) < 0)
            return 0;   /* already marked broken with its own reason */
    }
    return rc;
}

static void blk_destroy(struct virtio_dev *d) {
    struct blk *b = d->priv;
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
}

static const struct virtio_dev_ops blk_ops = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .config_read = blk_config_read,
    .queue_notify = blk_notify,
    .destroy = blk_destroy,
};

int virtio_blk_create(struct virtio_dev **out, const struct vm_mem *mem, const struct virtio_blk_opts *o,
                      struct hull_err *err) {
    struct stat st;
    if (fstat(o->fd, &st) < 0)
        return hull_err_sys(err, "virtio-blk: stat image");
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return hull_err_set(err, EINVAL, "virtio-blk: image is not a regular file or block device");
    uint64_t size = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(o->fd, 0, SEEK_END);
        if (end < 0)
            return hull_err_sys(err, "virtio-blk: size of block device");
        size = (uint64_t)end;
    }
    struct blk *b = calloc(1, sizeof(*b));
    if (!b)
        return hull_err_set(err, ENOMEM, "virtio-blk: allocate device");
    b->fd = o->fd;
    b->ro = o->read_only;
    b->capacity = size / VIRTIO_BLK_SECTOR;
    const char *id = o->serial ? o->serial : "hull";
    memcpy(b->id, id, strnlen(id, sizeof(b->id)));   /* zero padded, not necessarily terminated */
    uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
    if (b->ro)
        features |= 1ull << VIRTIO_BLK_F_RO;
    int rc = virtio_dev_init(&b->dev, &blk_ops, b, mem, features, 1, o->queue_size ? o->queue_size : 256, 64, err);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *out = &b->dev;
    return 0;
}
