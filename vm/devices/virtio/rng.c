/* virtio-rng: one request queue of device-writable buffers. */
#include "vm/devices/virtio/rng.h"

#include <stdlib.h>
#include <sys/random.h>

/* Per request, so a guest asking for gigabytes cannot keep the vCPU thread
 * (and the device lock) busy: the driver simply asks again. */
#define RNG_MAX_PER_REQUEST 4096

struct rng {
    struct virtio_dev dev;
};

static int rng_notify(struct virtio_dev *d, unsigned q, struct hull_err *err) {
    struct virtq_chain c;
    int rc;
    while ((rc = virtq_pop(&d->vq[q], &c, err)) > 0) {
        uint32_t budget = RNG_MAX_PER_REQUEST, written = 0;
        for (unsigned i = c.n_out; i < c.n_out + c.n_in && budget; i++) {
            size_t n = c.iov[i].iov_len < budget ? c.iov[i].iov_len : budget;
            ssize_t r = getrandom(c.iov[i].iov_base, n, 0);
            if (r <= 0)
                break;
            written += (uint32_t)r;
            budget -= (uint32_t)r;
            if ((size_t)r < n)
                break;
        }
        if (virtio_dev_complete(d, q, &c, written) < 0)
            return 0;
    }
    return rc;
}

static const struct virtio_dev_ops rng_ops = {
    .name = "rng",
    .device_id = VIRTIO_ID_RNG,
    .queue_notify = rng_notify,
};

int virtio_rng_create(struct virtio_dev **out, const struct vm_mem *mem, struct hull_err *err) {
    struct rng *r = calloc(1, sizeof(*r));
    if (!r)
        return hull_err_set(err, ENOMEM, "virtio-rng: allocate device");
    int rc = virtio_dev_init(&r->dev, &rng_ops, r, mem, 0, 1, 64, 0, err);
    if (rc < 0) {
        free(r);
        return rc;
    }
    *out = &r->dev;
    return 0;
}
