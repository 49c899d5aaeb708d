/* virtio device core: status machine, feature negotiation, broken state. */
#include "vm/devices/virtio/dev.h"

#include <stdlib.h>
#include <string.h>

int virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, void *priv,
                    const struct vm_mem *mem, uint64_t device_features, unsigned num_queues,
                    uint16_t queue_max_size, uint32_t config_size, struct hull_err *err) {
    if (num_queues == 0 || num_queues > VIRTIO_MAX_QUEUES)
        return hull_err_set(err, EINVAL, "virtio-%s: %u queues (1..%d)", ops->name, num_queues, VIRTIO_MAX_QUEUES);
    if (queue_max_size == 0 || (queue_max_size & (queue_max_size - 1)) || queue_max_size > VIRTQ_MAX_SIZE)
        return hull_err_set(err, EINVAL, "virtio-%s: queue size %u is not a power of two <= %u",
                            ops->name, queue_max_size, VIRTQ_MAX_SIZE);
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->priv = priv;
    d->mem = mem;
    d->host_features = device_features | (1ull << VIRTIO_F_VERSION_1) |
                       (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX);
    d->num_queues = num_queues;
    d->config_size = config_size;
    for (unsigned i = 0; i < num_queues; i++)
        virtq_init(&d->vq[i], mem, queue_max_size);
    pthread_mutex_init(&d->lock, NULL);
    return 0;
}

static void reset_locked(struct virtio_dev *d) {
    for (unsigned i = 0; i < d->num_queues; i++)
        virtq_reset(&d->vq[i]);
    d->status = 0;
    d->driver_features = 0;
    d->features = 0;
    d->broken = false;
    hull_err_clear(&d->broken_err);
    if (d->ops->reset)
        d->ops->reset(d);
}

void virtio_dev_destroy(struct virtio_dev *d) {
    if (!d->ops)
        return;
    for (unsigned i = 0; i < d->num_queues; i++)
        virtq_reset(&d->vq[i]);
    if (d->ops->destroy)
        d->ops->destroy(d);
    pthread_mutex_destroy(&d->lock);
    d->ops = NULL;
}

void virtio_dev_free(struct virtio_dev *d) {
    if (!d)
        return;
    virtio_dev_destroy(d);
    free(d);
}

bool virtio_dev_running(const struct virtio_dev *d) {
    return (d->status & VIRTIO_STATUS_DRIVER_OK) && !d->broken;
}

void virtio_dev_fail(struct virtio_dev *d, const struct hull_err *why) {
    if (!d->broken && why)
        d->broken_err = *why;
    d->broken = true;
    /* 2.1.2: the device sets NEEDS_RESET and, if DRIVER_OK, sends a
     * configuration change notification. */
    d->status |= VIRTIO_STATUS_NEEDS_RESET;
    if ((d->status & VIRTIO_STATUS_DRIVER_OK) && d->irq.config)
        d->irq.config(d->irq.opaque);
}

void virtio_dev_set_status(struct virtio_dev *d, uint8_t status) {
    pthread_mutex_lock(&d->lock);
    if (status == 0) {
        reset_locked(d);
        goto out;
    }
    /* The driver may only add bits (3.1.1); NEEDS_RESET is ours to set. */
    uint8_t added = status & ~d->status & ~VIRTIO_STATUS_NEEDS_RESET;
    if ((added & VIRTIO_STATUS_FEATURES_OK)) {
        /* Accept only a subset of what we offered, and only modern drivers:
         * legacy (pre-1.0) ring layouts are not implemented. Refusing is
         * done by leaving FEATURES_OK clear, which the driver re-reads. */
        if ((d->driver_features & ~d->host_features) || !(d->driver_features & (1ull << VIRTIO_F_VERSION_1)))
            added &= ~VIRTIO_STATUS_FEATURES_OK;
        else
            d->features = d->driver_features;
    }
    if ((added & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_FEATURES_OK) &&
        !(added & VIRTIO_STATUS_FEATURES_OK)) {
        struct hull_err e;
        hull_err_set(&e, EPROTO, "virtio-%s: DRIVER_OK before FEATURES_OK", d->ops->name);
        d->status |= added & ~VIRTIO_STATUS_DRIVER_OK;
        virtio_dev_fail(d, &e);
        goto out;
    }
    d->status |= added;
    if ((added & VIRTIO_STATUS_DRIVER_OK) && !d->broken && d->ops->driver_ok)
        d->ops->driver_ok(d);
out:
    pthread_mutex_unlock(&d->lock);
}

uint8_t virtio_dev_get_status(struct virtio_dev *d) {
    pthread_mutex_lock(&d->lock);
    uint8_t s = d->status;
    pthread_mutex_unlock(&d->lock);
    return s;
}

void virtio_dev_queue_enable(struct virtio_dev *d, unsigned q, uint16_t size, uint64_t desc,
                             uint64_t avail, uint64_t used) {
    pthread_mutex_lock(&d->lock);
    struct hull_err e;
    if (q >= d->num_queues) {
        hull_err_set(&e, EINVAL, "virtio-%s: enable of queue %u (has %u)", d->ops->name, q, d->num_queues);
        virtio_dev_fail(d, &e);
    } else if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
        hull_err_set(&e, EPROTO, "virtio-%s: queue %u enabled before FEATURES_OK", d->ops->name, q);
        virtio_dev_fail(d, &e);
    } else if (virtq_configure(&d->vq[q], size, desc, avail, used, d->features, &e) < 0) {
        hull_err_prefix(&e, "virtio-%s: queue %u: ", d->ops->name, q);
        virtio_dev_fail(d, &e);
    }
    pthread_mutex_unlock(&d->lock);
}

void virtio_dev_notify(struct virtio_dev *d, unsigned q) {
    pthread_mutex_lock(&d->lock);
    if (virtio_dev_running(d) && q < d->num_queues && d->vq[q].ready) {
        struct hull_err e;
        hull_err_clear(&e);
        if (d->ops->queue_notify(d, q, &e) < 0) {
            hull_err_prefix(&e, "virtio-%s: queue %u: ", d->ops->name, q);
            virtio_dev_fail(d, &e);
        }
    }
    pthread_mutex_unlock(&d->lock);
}

void virtio_dev_config_read(struct virtio_dev *d, uint32_t off, void *buf, uint32_t len) {
    memset(buf, 0, len);
    pthread_mutex_lock(&d->lock);
    if (off < d->config_size && len <= d->config_size - off && d->ops->config_read)
        d->ops->config_read(d, off, buf, len);
    pthread_mutex_unlock(&d->lock);
}

void virtio_dev_config_write(struct virtio_dev *d, uint32_t off, const void *buf, uint32_t len) {
    pthread_mutex_lock(&d->lock);
    if (off < d->config_size && len <= d->config_size - off && d->ops->config_write)
        d->ops->config_write(d, off, buf, len);
    pthread_mutex_unlock(&d->lock);
}

int virtio_dev_complete(struct virtio_dev *d, unsigned q, const struct virtq_chain *c, uint32_t written) {
    struct hull_err e;
    struct virtq *vq = &d->vq[q];
    if (virtq_push(vq, c, written, &e) < 0) {
        int rc = hull_err_prefix(&e, "virtio-%s: queue %u: ", d->ops->name, q);
        virtio_dev_fail(d, &e);
        return rc;
    }
    if (virtq_need_interrupt(vq) && d->irq.queue)
        d->irq.queue(d->irq.opaque, q);
    return 0;
}

