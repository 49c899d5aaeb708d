/* virtio-console, multiport: data queues per port plus the control queues
 * that announce ports to the driver. */
#include "vm/devices/virtio/console.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTRL_RXQ 2   /* device → driver control messages */
#define CTRL_TXQ 3   /* driver → device control messages */
#define CTRL_PENDING_MAX 64
#define NAME_MAX_BYTES 64

struct ctrl_msg {            /* wire format, 5.3.6.2 */
    uint32_t id;
    uint16_t event;
    uint16_t value;
};

struct pending_ctrl {
    struct ctrl_msg m;
    bool with_name;          /* PORT_NAME: the name follows the header in the same buffer */
};

struct port {
    struct virtio_console_port_cfg cfg;
    char name[NAME_MAX_BYTES];
    bool guest_open;
    char *buf;               /* host → guest bytes, lazily allocated */
    size_t len;
};

struct con {
    struct virtio_dev dev;
    void (*rx_space)(void *opaque, unsigned port);
    void *rx_space_opaque;
    unsigned nports;
    struct port port[VIRTIO_CONSOLE_MAX_PORTS];
    struct pending_ctrl ctrl[CTRL_PENDING_MAX];
    unsigned nctrl;
};

static bool multiport(const struct virtio_dev *d) {
    return d->features & (1ull << VIRTIO_CONSOLE_F_MULTIPORT);
}

static unsigned rxq(unsigned p) { return p == 0 ? 0 : 2 + 2 * p; }
static unsigned txq(unsigned p) { return p == 0 ? 1 : 3 + 2 * p; }

static void con_config_read(struct virtio_dev *d, uint32_t off, void *buf, uint32_t len) {
    struct con *c = d->priv;
    /* cols, rows (u16), max_nr_ports, emerg_wr (u32) */
    uint8_t cfg[12] = {0};
    uint32_t n = c->nports;
    memcpy(cfg + 4, &n, 4);
    memcpy(buf, cfg + off, len);
}

/* Drains queued control messages into the driver's control receive buffers. */
static int ctrl_flush(struct con *c, struct hull_err *err) {
    struct virtio_dev *d = &c->dev;
    struct virtq *q = &d->vq[CTRL_RXQ];
    while (c->nctrl && q->ready && !d->broken) {
        struct virtq_chain ch;
        int rc = virtq_pop(q, &ch, err);
        if (rc <= 0)
            return rc;
        struct pending_ctrl *p = &c->ctrl[0];
        uint32_t n = (uint32_t)virtq_chain_write(&ch, 0, &p->m, sizeof(p->m));
        if (p->with_name) {
            const char *name = c->port[p->m.id].name;
            n += (uint32_t)virtq_chain_write(&ch, sizeof(p->m), name, strlen(name) + 1);
        }
        memmove(&c->ctrl[0], &c->ctrl[1], (--c->nctrl) * sizeof(c->ctrl[0]));
        if (virtio_dev_complete(d, CTRL_RXQ, &ch, n) < 0)
            return 0;
    }
    return 0;
}

static void ctrl_queue(struct con *c, uint32_t id, uint16_t event, uint16_t value, bool with_name) {
    if (c->nctrl == CTRL_PENDING_MAX)
        return;   /* a driver that never reads control messages loses them, not our memory */
    c->ctrl[c->nctrl++] = (struct pending_ctrl){ { id, event, value }, with_name };
}

/* Moves buffered host bytes for port p into the guest's receive buffers. */
static int port_deliver(struct con *c, unsigned p, struct hull_err *err) {
    struct virtio_dev *d = &c->dev;
    struct port *pt = &c->port[p];
    struct virtq *q = &d->vq[rxq(p)];
    while (pt->len && pt->guest_open && q->ready && virtio_dev_running(d)) {
        struct virtq_chain ch;
        int rc = virtq_pop(q, &ch, err);
        if (rc <= 0)
            return rc;
        size_t n = virtq_chain_write(&ch, 0, pt->buf, pt->len);
        memmove(pt->buf, pt->buf + n, pt->len - n);
        bool was_full = pt->len == VIRTIO_CONSOLE_PORT_BUF;
        pt->len -= n;
        if (was_full && n && c->rx_space)
            c->rx_space(c->rx_space_opaque, p);
        if (virtio_dev_complete(d, rxq(p), &ch, (uint32_t)n) < 0)
            return 0;
    }
    return 0;
}

static int port_transmit(struct con *c, unsigned p, struct hull_err *err) {
    struct virtio_dev *d = &c->dev;
    struct virtq_chain ch;
    int rc;
    while ((rc = virtq_pop(&d->vq[txq(p)], &ch, err)) > 0) {
        int fd = c->port[p].cfg.out_fd;
        for (unsigned i = 0; i < ch.n_out && fd >= 0; i++) {
            const char *b = ch.iov[i].iov_base;
            size_t left = ch.iov[i].iov_len;
            while (left) {
                ssize_t w = write(fd, b, left);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0) {      /* reader gone: keep the guest running, drop output */
                    fd = -1;
                    break;
                }
                b += w;
                left -= (size_t)w;
            }
        }
        if (virtio_dev_complete(d, txq(p), &ch, 0) < 0)
            return 0;
    }
    return rc;
}

static void ctrl_handle(struct con *c, const struct ctrl_msg *m) {
    switch (m->event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        if (m->value == 1)
            for (unsigned p = 0; p < c->nports; p++)
                ctrl_queue(c, p, VIRTIO_CONSOLE_DEVICE_ADD, 0, false);
        break;
    case VIRTIO_CONSOLE_PORT_READY:
        if (m->id >= c->nports || m->value != 1)
            break;
        if (c->port[m->id].cfg.console) {
            ctrl_queue(c, m->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, false);
            c->port[m->id].guest_open = true;   /* the guest's hvc side is always connected */
        }
        if (c->port[m->id].name[0])
            ctrl_queue(c, m->id, VIRTIO_CONSOLE_PORT_NAME, 1, true);
        ctrl_queue(c, m->id, VIRTIO_CONSOLE_PORT_OPEN, 1, false);   /* host end is connected */
        break;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (m->id < c->nports)
            c->port[m->id].guest_open = m->value != 0;
        break;
    default:
        break;   /* unknown or irrelevant events are ignored, as the spec allows */
    }
}

static int ctrl_receive(struct con *c, struct hull_err *err) {
    struct virtio_dev *d = &c->dev;
    struct virtq_chain ch;
    int rc;
    while ((rc = virtq_pop(&d->vq[CTRL_TXQ], &ch, err)) > 0) {
        struct ctrl_msg m;
        if (virtq_chain_read(&ch, 0, &m, sizeof(m)) == sizeof(m))
            ctrl_handle(c, &m);
        if (virtio_dev_complete(d, CTRL_TXQ, &ch, 0) < 0)
            return 0;
    }
    if (rc < 0)
        return rc;
    return ctrl_flush(c, err);
}

static int con_notify(struct virtio_dev *d, unsigned q, struct hull_err *err) {
    struct con *c = d->priv;
    if (multiport(d) && q == CTRL_RXQ)
        return ctrl_flush(c, err);
    if (multiport(d) && q == CTRL_TXQ) {
        int rc = ctrl_receive(c, err);
        for (unsigned p = 0; p < c->nports && rc == 0; p++)
            rc = port_deliver(c, p, err);   /* a PORT_OPEN may have unblocked input */
        return rc;
    }
    if (q >= 2 && (!multiport(d) || q < 4))
        return 0;
    unsigned p = q < 2 ? 0 : (q - 2) / 2;
    if (p >= c->nports)
        return 0;
    return (q % 2) ? port_transmit(c, p, err) : port_deliver(c, p, err);
}

static void con_driver_ok(struct virtio_dev *d) {
    struct con *c = d->priv;
    if (!multiport(d))
        c->port[0].guest_open = true;   /* single-port drivers have no PORT_OPEN */
}

static void con_reset(struct virtio_dev *d) {
    struct con *c = d->priv;
    for (unsigned p = 0; p < c->nports; p++)
        c->port[p].guest_open = false;
    c->nctrl = 0;
}

static void con_destroy(struct virtio_dev *d) {
    struct con *c = d->priv;
    for (unsigned p = 0; p < c->nports; p++)
        free(c->port[p].buf);
}

static const struct virtio_dev_ops con_ops = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .config_read = con_config_read,
    .queue_notify = con_notify,
    .driver_ok = con_driver_ok,
    .reset = con_reset,
    .destroy = con_destroy,
};

int virtio_console_create(struct virtio_dev **out, const struct vm_mem *mem,
                          const struct virtio_console_opts *o, struct hull_err *err) {
    if (o->nports == 0 || o->nports > VIRTIO_CONSOLE_MAX_PORTS)
        return hull_err_set(err, EINVAL, "virtio-console: %u ports (1..%d)", o->nports, VIRTIO_CONSOLE_MAX_PORTS);
    struct con *c = calloc(1, sizeof(*c));
    if (!c)
        return hull_err_set(err, ENOMEM, "virtio-console: allocate device");
    c->nports = o->nports;
    c->rx_space = o->rx_space;
    c->rx_space_opaque = o->rx_space_opaque;
    for (unsigned p = 0; p < o->nports; p++) {
        c->port[p].cfg = o->port[p];
        if (o->port[p].name) {
            if (strlen(o->port[p].name) >= NAME_MAX_BYTES) {
                free(c);
                return hull_err_set(err, EINVAL, "virtio-console: port name \"%s\" too long", o->port[p].name);
            }
            strcpy(c->port[p].name, o->port[p].name);
        }
    }
    uint64_t features = 1ull << VIRTIO_CONSOLE_F_MULTIPORT;
    int rc = virtio_dev_init(&c->dev, &con_ops, c, mem, features, 2 * (o->nports + 1),
                             o->queue_size ? o->queue_size : 128, 12, err);
    if (rc < 0) {
        free(c);
        return rc;
    }
    *out = &c->dev;
    return 0;
}

size_t virtio_console_send(struct virtio_dev *d, unsigned port, const void *buf, size_t len) {
    struct con *c = d->priv;
    size_t n = 0;
    pthread_mutex_lock(&d->lock);
    if (port < c->nports) {
        struct port *pt = &c->port[port];
        if (!pt->buf)
            pt->buf = malloc(VIRTIO_CONSOLE_PORT_BUF);
        if (pt->buf) {
            n = VIRTIO_CONSOLE_PORT_BUF - pt->len;
            if (n > len)
                n = len;
            memcpy(pt->buf + pt->len, buf, n);
            pt->len += n;
            struct hull_err e;
            if (port_deliver(c, port, &e) < 0) {
                hull_err_prefix(&e, "virtio-console: port %u: ", port);
                virtio_dev_fail(d, &e);
            }
        }
    }
    pthread_mutex_unlock(&d->lock);
    return n;
}

bool virtio_console_port_open(struct virtio_dev *d, unsigned port) {
    struct con *c = d->priv;
    pthread_mutex_lock(&d->lock);
    bool open = port < c->nports && c->port[port].guest_open;
    pthread_mutex_unlock(&d->lock);
    return open;
}
