/* Split virtqueue, device side (see virtq.h for the trust model). */
#include "vm/devices/virtio/virtq.h"

#include <stdlib.h>
#include <string.h>

/* Offsets inside the guest's ring areas (virtio 1.x 2.7.6 / 2.7.8). */
#define AVAIL_FLAGS(q)      ((q)->avail)
#define AVAIL_IDX(q)        ((q)->avail + 2)
#define AVAIL_RING(q, i)    ((q)->avail + 4 + 2 * (uint64_t)(i))
#define AVAIL_USED_EVENT(q) AVAIL_RING(q, (q)->size)
#define USED_IDX(q)         ((q)->used + 2)
#define USED_RING(q, i)     ((q)->used + 4 + 8 * (uint64_t)(i))
#define USED_AVAIL_EVENT(q) USED_RING(q, (q)->size)

void virtq_init(struct virtq *q, const struct vm_mem *mem, uint16_t max_size) {
    memset(q, 0, sizeof(*q));
    q->mem = mem;
    q->max_size = max_size;
}

void virtq_reset(struct virtq *q) {
    free(q->scratch);
    virtq_init(q, q->mem, q->max_size);
}

static int area_ok(const struct virtq *q, uint64_t gpa, uint64_t len, uint64_t align) {
    return gpa % align == 0 && vm_mem_ptr(q->mem, gpa, len) != NULL;
}

int virtq_configure(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
                    uint64_t features, struct hull_err *err) {
    if (size == 0 || (size & (size - 1)) || size > q->max_size)
        return hull_err_set(err, EINVAL, "virtqueue: size %u is not a power of two <= %u", size, q->max_size);
    /* Sizes include the event words (used_event / avail_event): they exist in
     * the layout whether or not EVENT_IDX is negotiated. */
    if (!area_ok(q, desc, 16ull * size, 16))
        return hull_err_set(err, EFAULT, "virtqueue: descriptor table 0x%llx (%u entries) misaligned or outside guest memory",
                            (unsigned long long)desc, size);
    if (!area_ok(q, avail, 6ull + 2ull * size, 2))
        return hull_err_set(err, EFAULT, "virtqueue: available ring 0x%llx misaligned or outside guest memory",
                            (unsigned long long)avail);
    if (!area_ok(q, used, 6ull + 8ull * size, 4))
        return hull_err_set(err, EFAULT, "virtqueue: used ring 0x%llx misaligned or outside guest memory",
                            (unsigned long long)used);
    struct iovec *scratch = calloc(size, sizeof(*scratch));
    if (!scratch)
        return hull_err_set(err, ENOMEM, "virtqueue: scratch for %u entries", size);
    free(q->scratch);
    q->scratch = scratch;
    q->size = size;
    q->desc = desc;
    q->avail = avail;
    q->used = used;
    q->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
    q->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
    q->last_avail = 0;
    q->used_idx = 0;
    q->signalled_valid = false;
    q->ready = true;
    return 0;
}

/* Reads the driver's avail->idx; checks it did not run more than a ring ahead. */
static int avail_pending(struct virtq *q, uint16_t *pending, struct hull_err *err) {
    uint16_t idx;
    if (vm_mem_load16(q->mem, AVAIL_IDX(q), &idx) < 0)
        return hull_err_set(err, EFAULT, "virtqueue: available ring unreachable");
    uint16_t n = (uint16_t)(idx - q->last_avail);   /* 16-bit wrap-around is the protocol */
    if (n > q->size)
        return hull_err_set(err, EINVAL, "virtqueue: available index %u is %u entries ahead of %u (size %u)",
                            idx, n, q->last_avail, q->size);
    *pending = n;
    return 0;
}

static int chain_fail(struct hull_err *err, uint16_t head, unsigned n, const char *why, uint64_t a, uint64_t b) {
    return hull_err_set(err, EINVAL, "virtqueue: chain at head %u, descriptor #%u: %s (0x%llx, 0x%llx)",
                        head, n, why, (unsigned long long)a, (unsigned long long)b);
}

int virtq_pop(struct virtq *q, struct virtq_chain *c, struct hull_err *err) {
    if (!q->ready)
        return hull_err_set(err, EINVAL, "virtqueue: not ready");
    uint16_t pending;
    int rc = avail_pending(q, &pending, err);
    if (rc < 0)
        return rc;
    if (pending == 0 && q->event_idx) {
        /* Ask to be notified at the next entry, then look again: the fence
         * orders our avail_event store before the re-read, so a buffer the
         * driver added meanwhile is either seen now or notified. */
        if (vm_mem_store16(q->mem, USED_AVAIL_EVENT(q), q->last_avail) < 0)
            return hull_err_set(err, EFAULT, "virtqueue: used ring unreachable");
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if ((rc = avail_pending(q, &pending, err)) < 0)
            return rc;
    }
    if (pending == 0)
        return 0;

    uint16_t head;
    if (vm_mem_load16(q->mem, AVAIL_RING(q, q->last_avail % q->size), &head) < 0)
        return hull_err_set(err, EFAULT, "virtqueue: available ring unreachable");
    if (head >= q->size)
        return hull_err_set(err, EINVAL, "virtqueue: available ring names descriptor %u, queue size %u", head, q->size);

    memset(c, 0, sizeof(*c));
    c->head = head;
    c->iov = q->scratch;
    uint64_t table = q->desc;
    uint32_t table_n = q->size;
    bool in_indirect = false;
    uint32_t idx = head;
    unsigned count = 0;   /* buffers seen: a chain longer than the queue is a loop or a lie */
    for (;;) {
        struct virtq_desc d;
        /* table + idx*16 lies inside a table validated to be in guest RAM. */
        if (vm_mem_read(q->mem, table + 16ull * idx, &d, sizeof(d)) < 0)
            return chain_fail(err, head, count, "descriptor unreachable", table, idx);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!q->indirect)
                return chain_fail(err, head, count, "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC", d.addr, d.len);
            if (in_indirect)
                return chain_fail(err, head, count, "nested indirect table", d.addr, d.len);
            if (d.flags & VIRTQ_DESC_F_NEXT)
                return chain_fail(err, head, count, "indirect descriptor with NEXT", d.addr, d.len);
            if (d.len == 0 || d.len % 16)
                return chain_fail(err, head, count, "indirect table length not a non-zero multiple of 16", d.addr, d.len);
            if (d.len / 16 > q->size)
                return chain_fail(err, head, count, "indirect table longer than the queue", d.addr, d.len);
            if (!vm_mem_ptr(q->mem, d.addr, d.len))
                return chain_fail(err, head, count, "indirect table outside guest memory", d.addr, d.len);
            table = d.addr;
            table_n = d.len / 16;
            in_indirect = true;
            idx = 0;
            continue;
        }
        if (++count > q->size)
            return chain_fail(err, head, count, "chain longer than the queue (loop?)", table, idx);
        if (d.len) {
            void *p = vm_mem_ptr(q->mem, d.addr, d.len);
            if (!p)
                return chain_fail(err, head, count, "buffer outside guest memory", d.addr, d.len);
            struct iovec *v = &c->iov[c->n_out + c->n_in];   /* < count <= size entries */
            v->iov_base = p;
            v->iov_len = d.len;
            if (d.flags & VIRTQ_DESC_F_WRITE) {
                c->n_in++;
                c->in_len += d.len;
            } else {
                if (c->n_in)
                    return chain_fail(err, head, count, "device-readable buffer after a writable one", d.addr, d.len);
                c->n_out++;
                c->out_len += d.len;
            }
        } else if (!(d.flags & VIRTQ_DESC_F_WRITE) && c->n_in) {
            return chain_fail(err, head, count, "device-readable buffer after a writable one", d.addr, d.len);
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= table_n)
            return chain_fail(err, head, count, "next index out of table", d.next, table_n);
        idx = d.next;
    }
    q->last_avail++;
    return 1;
}

int virtq_push(struct virtq *q, const struct virtq_chain *c, uint32_t written, struct hull_err *err) {
    if (!q->ready)
        return hull_err_set(err, EINVAL, "virtqueue: not ready");
    if (written > c->in_len)
        written = (uint32_t)c->in_len;
    uint32_t elem[2] = { c->head, written };
    if (vm_mem_write(q->mem, USED_RING(q, q->used_idx % q->size), elem, sizeof(elem)) < 0)
        return hull_err_set(err, EFAULT, "virtqueue: used ring unreachable");
    q->used_idx++;
    /* Release: the element (and the data written into the buffers) is
     * visible before the index that publishes it. */
    if (vm_mem_store16(q->mem, USED_IDX(q), q->used_idx) < 0)
        return hull_err_set(err, EFAULT, "virtqueue: used ring unreachable");
    return 0;
}

bool virtq_need_interrupt(struct virtq *q) {
    if (!q->ready)
        return false;
    /* Our used->idx store must be visible before we read the driver's wishes. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx) {
        uint16_t flags;
        if (vm_mem_load16(q->mem, AVAIL_FLAGS(q), &flags) < 0)
            return true;
        return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    uint16_t old = q->signalled_used, new = q->used_idx, event;
    bool valid = q->signalled_valid;
    q->signalled_used = new;
    q->signalled_valid = true;
    if (!valid)
        return true;
    if (vm_mem_load16(q->mem, AVAIL_USED_EVENT(q), &event) < 0)
        return true;
    /* virtio 1.x 2.7.10: interrupt when used_event lies in (old, new]. */
    return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/* Copies between buf and the bytes [off, off + len) of n buffers, into them
 * (into_iov) or out of them; returns how many bytes it copied. */
static size_t iov_copy(const struct iovec *iov, unsigned n, uint64_t off, void *buf, size_t len, bool into_iov) {
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        const struct iovec *v = &iov[i];
        if (off >= v->iov_len) {
            off -= v->iov_len;
            continue;
        }
        size_t k = v->iov_len - off;
        if (k > len - done)
            k = len - done;
        /* memmove: a guest may make buffers overlap each other. */
        if (into_iov)
            memmove((char *)v->iov_base + off, (char *)buf + done, k);
        else
            memmove((char *)buf + done, (char *)v->iov_base + off, k);
        done += k;
        off = 0;
    }
    return done;
}

size_t virtq_chain_read(const struct virtq_chain *c, uint64_t off, void *buf, size_t len) {
    return iov_copy(c->iov, c->n_out, off, buf, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *c, uint64_t off, const void *buf, size_t len) {
    return iov_copy(c->iov + c->n_out, c->n_in, off, (void *)buf, len, true);
}
