/* virtio-pci modern transport (see pci.h). Lock order: reg_lock →
 * dev->lock → irq_lock; the device core raises interrupts with its lock
 * held, so the interrupt path takes only irq_lock. */
#include "vm/devices/virtio/pci.h"

#include <stddef.h>
#include <string.h>

#define CAP_VNDR 0x09
#define CAP_MSIX 0x11
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR    3
#define CFG_DEVICE 4
#define MSIX_ENABLE 0x80   /* in the high byte of message control */
#define MSIX_MASKALL 0x40
#define ISR_QUEUE  0x1
#define ISR_CONFIG 0x2

struct common_cfg {         /* 4.1.4.3, virtio 1.1 layout */
    uint32_t dfselect, df, gfselect, gf;
    uint16_t msix_config, num_queues;
    uint8_t status, generation;
    uint16_t queue_select, queue_size, queue_msix_vector, queue_enable, queue_notify_off;
    uint64_t queue_desc, queue_driver, queue_device;
} __attribute__((packed));

static uint32_t class_code(uint16_t id) {
    switch (id) {
    case VIRTIO_ID_BLOCK:   return 0x018000;   /* mass storage, other */
    case VIRTIO_ID_CONSOLE: return 0x078000;   /* communication, other */
    case VIRTIO_ID_NET:     return 0x020000;   /* ethernet */
    default:                return 0xff0000;   /* unassigned class */
    }
}

/* ---- interrupts ---- */

static bool msix_on(const struct virtio_pci *vp) {
    return vp->func.cfg[vp->msix_cap + 3] & MSIX_ENABLE;
}

static bool vector_masked(const struct virtio_pci *vp, unsigned v) {
    return (vp->func.cfg[vp->msix_cap + 3] & MSIX_MASKALL) || (vp->msix_table[v][3] & 1);
}

static void msix_send(struct virtio_pci *vp, unsigned v) {
    if (vp->sink.msi)
        vp->sink.msi(vp->sink.opaque, ((uint64_t)vp->msix_table[v][1] << 32) | vp->msix_table[v][0],
                     vp->msix_table[v][2]);
}

/* irq_lock held: deliver pending vectors that are no longer masked. */
static void msix_flush_pending(struct virtio_pci *vp) {
    if (!msix_on(vp))
        return;
    for (unsigned v = 0; v < vp->nvec; v++)
        if ((vp->msix_pba[v / 64] >> (v % 64) & 1) && !vector_masked(vp, v)) {
            vp->msix_pba[v / 64] &= ~(1ull << (v % 64));
            msix_send(vp, v);
        }
}

static void raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit) {
    pthread_mutex_lock(&vp->irq_lock);
    if (msix_on(vp)) {
        if (vector < vp->nvec) {   /* NO_VECTOR: the driver asked for no interrupt */
            if (vector_masked(vp, vector))
                vp->msix_pba[vector / 64] |= 1ull << (vector % 64);
            else
                msix_send(vp, vector);
        }
    } else {
        vp->isr |= isr_bit;
        bool intx_disabled = vp->func.cfg[PCI_COMMAND + 1] & 0x04;
        if (!vp->intx_level && !intx_disabled && vp->sink.intx) {
            vp->intx_level = 1;
            vp->sink.intx(vp->sink.opaque, vp->gsi, 1);
        }
    }
    pthread_mutex_unlock(&vp->irq_lock);
}

static void irq_queue(void *opaque, unsigned q) {
    struct virtio_pci *vp = opaque;
    raise(vp, __atomic_load_n(&vp->q[q].msix_vector, __ATOMIC_RELAXED), ISR_QUEUE);
}

static void irq_config(void *opaque) {
    struct virtio_pci *vp = opaque;
    raise(vp, __atomic_load_n(&vp->msix_config, __ATOMIC_RELAXED), ISR_CONFIG);
}

static uint8_t isr_read(struct virtio_pci *vp) {
    pthread_mutex_lock(&vp->irq_lock);
    uint8_t v = vp->isr;   /* reading acknowledges (4.1.4.5) */
    vp->isr = 0;
    if (vp->intx_level && vp->sink.intx) {
        vp->intx_level = 0;
        vp->sink.intx(vp->sink.opaque, vp->gsi, 0);
    }
    pthread_mutex_unlock(&vp->irq_lock);
    return v;
}

/* ---- common configuration ---- */

static uint16_t vector_or_none(const struct virtio_pci *vp, uint16_t v) {
    return v < vp->nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static void transport_reset(struct virtio_pci *vp) {
    struct virtio_dev *d = vp->dev;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        vp->q[i] = (struct vpci_queue){ .size = i < d->num_queues ? d->vq[i].max_size : 0,
                                        .msix_vector = VIRTIO_MSI_NO_VECTOR };
    vp->msix_config = VIRTIO_MSI_NO_VECTOR;
    vp->dfselect = vp->gfselect = 0;
    vp->queue_select = 0;
    pthread_mutex_lock(&vp->irq_lock);
    vp->isr = 0;
    if (vp->intx_level && vp->sink.intx)
        vp->sink.intx(vp->sink.opaque, vp->gsi, 0);
    vp->intx_level = 0;
    pthread_mutex_unlock(&vp->irq_lock);
}

/* reg_lock held */
static void common_image(struct virtio_pci *vp, struct common_cfg *c) {
    struct virtio_dev *d = vp->dev;
    unsigned qs = vp->queue_select;
    bool qok = qs < d->num_queues;
    memset(c, 0, sizeof(*c));
    c->dfselect = vp->dfselect;
    c->df = vp->dfselect < 2 ? (uint32_t)(d->host_features >> (32 * vp->dfselect)) : 0;
    c->gfselect = vp->gfselect;
    c->gf = vp->gfselect < 2 ? (uint32_t)(d->driver_features >> (32 * vp->gfselect)) : 0;
    c->msix_config = vp->msix_config;
    c->num_queues = (uint16_t)d->num_queues;
    c->status = virtio_dev_get_status(d);
    c->generation = d->config_generation;
    c->queue_select = vp->queue_select;
    if (qok) {
        c->queue_size = vp->q[qs].size;
        c->queue_msix_vector = vp->q[qs].msix_vector;
        c->queue_enable = d->vq[qs].ready;
        c->queue_notify_off = (uint16_t)qs;
        c->queue_desc = vp->q[qs].desc;
        c->queue_driver = vp->q[qs].driver;
        c->queue_device = vp->q[qs].device;
    }
}

#define TOUCHED(field) (off < offsetof(struct common_cfg, field) + sizeof(((struct common_cfg *)0)->field) && \
                        offsetof(struct common_cfg, field) < off + len)

static void common_write(struct virtio_pci *vp, unsigned off, const uint8_t *data, unsigned len) {
    struct virtio_dev *d = vp->dev;
    struct common_cfg c;
    common_image(vp, &c);
    memcpy((uint8_t *)&c + off, data, len);   /* off+len <= sizeof(c), checked by caller */
    unsigned qs = vp->queue_select;
    bool qok = qs < d->num_queues;
    bool qlive = qok && d->vq[qs].ready;     /* an enabled queue's registers are frozen */

    if (TOUCHED(dfselect))
        vp->dfselect = c.dfselect;
    if (TOUCHED(gfselect))
        vp->gfselect = c.gfselect;
    if (TOUCHED(gf) && vp->gfselect < 2) {
        pthread_mutex_lock(&d->lock);
        if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
            unsigned sh = 32 * vp->gfselect;
            d->driver_features = (d->driver_features & ~(0xffffffffull << sh)) | ((uint64_t)c.gf << sh);
        }
        pthread_mutex_unlock(&d->lock);
    }
    if (TOUCHED(msix_config))
        __atomic_store_n(&vp->msix_config, vector_or_none(vp, c.msix_config), __ATOMIC_RELAXED);
    if (TOUCHED(queue_select))
        vp->queue_select = c.queue_select;
    if (qok && !qlive) {
        if (TOUCHED(queue_size))
            vp->q[qs].size = c.queue_size;   /* validated when enabled */
        if (TOUCHED(queue_desc))
            vp->q[qs].desc = c.queue_desc;
        if (TOUCHED(queue_driver))
            vp->q[qs].driver = c.queue_driver;
        if (TOUCHED(queue_device))
            vp->q[qs].device = c.queue_device;
    }
    if (qok && TOUCHED(queue_msix_vector))
        __atomic_store_n(&vp->q[qs].msix_vector, vector_or_none(vp, c.queue_msix_vector), __ATOMIC_RELAXED);
    if (qok && !qlive && TOUCHED(queue_enable) && c.queue_enable == 1)
        virtio_dev_queue_enable(d, qs, vp->q[qs].size, vp->q[qs].desc, vp->q[qs].driver, vp->q[qs].device);
    if (TOUCHED(status)) {
        virtio_dev_set_status(d, c.status);
        if (c.status == 0)
            transport_reset(vp);
        if (vp->layout_changed)
            vp->layout_changed(vp->layout_opaque);
    }
}

/* ---- BAR0 ---- */

static void bar_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct virtio_pci *vp = opaque;
    struct virtio_dev *d = vp->dev;
    if (!is_write)
        memset(data, 0, len);
    if (off < VPCI_COMMON_OFF + sizeof(struct common_cfg)) {
        if (off + len > sizeof(struct common_cfg))
            return;
        pthread_mutex_lock(&vp->reg_lock);
        if (is_write) {
            common_write(vp, (unsigned)off, data, len);
        } else {
            struct common_cfg c;
            common_image(vp, &c);
            memcpy(data, (uint8_t *)&c + off, len);
        }
        pthread_mutex_unlock(&vp->reg_lock);
    } else if (off == VPCI_ISR_OFF) {
        if (!is_write)
            data[0] = isr_read(vp);
    } else if (off >= VPCI_DEVCFG_OFF && off < VPCI_NOTIFY_OFF) {
        uint32_t o = (uint32_t)(off - VPCI_DEVCFG_OFF);
        if (is_write)
            virtio_dev_config_write(d, o, data, len);
        else
            virtio_dev_config_read(d, o, data, len);
    } else if (off >= VPCI_NOTIFY_OFF && off < VPCI_MSIX_TABLE_OFF) {
        uint64_t q = (off - VPCI_NOTIFY_OFF) / VPCI_NOTIFY_MULT;
        if (is_write && q < d->num_queues)
            virtio_dev_notify(d, (unsigned)q);
    } else if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_MSIX_TABLE_OFF + 16ull * vp->nvec) {
        uint64_t t = off - VPCI_MSIX_TABLE_OFF;
        if (t % 4 || (len != 4 && len != 8))
            return;   /* the spec allows only dword/qword accesses to the table */
        pthread_mutex_lock(&vp->irq_lock);
        uint32_t *w = &vp->msix_table[t / 16][(t % 16) / 4];
        unsigned words = (len / 4 <= 4 - (t % 16) / 4) ? len / 4 : 1;
        if (is_write) {
            memcpy(w, data, 4 * words);
            msix_flush_pending(vp);   /* an unmask releases a pending message */
        } else {
            memcpy(data, w, 4 * words);
        }
        pthread_mutex_unlock(&vp->irq_lock);
    } else if (off >= VPCI_MSIX_PBA_OFF && off + len <= VPCI_MSIX_PBA_OFF + sizeof(vp->msix_pba)) {
        if (!is_write) {
            pthread_mutex_lock(&vp->irq_lock);
            memcpy(data, (uint8_t *)vp->msix_pba + (off - VPCI_MSIX_PBA_OFF), len);
            pthread_mutex_unlock(&vp->irq_lock);
        }
    }
}

static void cfg_written(void *opaque, unsigned off, unsigned len) {
    struct virtio_pci *vp = opaque;
    /* MSI-X enable / function mask may have changed. */
    if (off <= vp->msix_cap + 3u && vp->msix_cap + 3u < off + len) {
        pthread_mutex_lock(&vp->irq_lock);
        msix_flush_pending(vp);
        pthread_mutex_unlock(&vp->irq_lock);
    }
    if (vp->layout_changed && (off < PCI_BAR0 + 8 && PCI_COMMAND < off + len))
        vp->layout_changed(vp->layout_opaque);   /* BAR0/1 or COMMAND touched */
}

/* ---- set-up ---- */

static unsigned add_vcap(struct pci_func *f, unsigned at, uint8_t type, uint32_t off, uint32_t len, unsigned caplen) {
    f->cfg[at] = CAP_VNDR;
    f->cfg[at + 2] = (uint8_t)caplen;
    f->cfg[at + 3] = type;
    f->cfg[at + 4] = 0;   /* BAR0 */
    pci_cfg_set32(f, at + 8, off);
    pci_cfg_set32(f, at + 12, len);
    return at + caplen;
}

void virtio_pci_init(struct virtio_pci *vp, struct virtio_dev *dev, const struct vm_irq_sink *sink, unsigned gsi) {
    memset(vp, 0, sizeof(*vp));
    pthread_mutex_init(&vp->reg_lock, NULL);
    pthread_mutex_init(&vp->irq_lock, NULL);
    vp->dev = dev;
    vp->sink = *sink;
    vp->gsi = gsi;
    vp->nvec = dev->num_queues + 1;
    transport_reset(vp);

    struct pci_func *f = &vp->func;
    pci_cfg_set16(f, PCI_VENDOR_ID, 0x1af4);
    pci_cfg_set16(f, PCI_DEVICE_ID, (uint16_t)(0x1040 + dev->ops->device_id));
    pci_cfg_set32(f, PCI_REVISION, class_code(dev->ops->device_id) << 8 | 0x01);   /* rev 1: modern */
    pci_cfg_set16(f, PCI_STATUS, PCI_STATUS_CAP_LIST);
    pci_cfg_set16(f, PCI_SUBSYS_VENDOR, 0x1af4);
    pci_cfg_set16(f, PCI_SUBSYS_ID, 0x0040);
    f->cfg[PCI_INT_LINE] = (uint8_t)gsi;
    f->cfg[PCI_INT_PIN] = 1;   /* INTA# */

    /* Capability chain: common → notify → ISR → [device] → MSI-X. */
    unsigned at = 0x40, prev;
    f->cfg[PCI_CAP_PTR] = (uint8_t)at;
    prev = at;
    at = add_vcap(f, at, CFG_COMMON, VPCI_COMMON_OFF, sizeof(struct common_cfg), 16);
    f->cfg[prev + 1] = (uint8_t)at;
    prev = at;
    at = add_vcap(f, at, CFG_NOTIFY, VPCI_NOTIFY_OFF, VPCI_NOTIFY_MULT * dev->num_queues, 20);
    pci_cfg_set32(f, prev + 16, VPCI_NOTIFY_MULT);
    f->cfg[prev + 1] = (uint8_t)at;
    prev = at;
    at = add_vcap(f, at, CFG_ISR, VPCI_ISR_OFF, 1, 16);
    if (dev->config_size) {
        f->cfg[prev + 1] = (uint8_t)at;
        prev = at;
        at = add_vcap(f, at, CFG_DEVICE, VPCI_DEVCFG_OFF, dev->config_size, 16);
    }
    f->cfg[prev + 1] = (uint8_t)at;
    vp->msix_cap = at;
    f->cfg[at] = CAP_MSIX;
    f->cfg[at + 1] = 0;   /* end of chain */
    pci_cfg_set16(f, at + 2, (uint16_t)(vp->nvec - 1));
    pci_cfg_set32(f, at + 4, VPCI_MSIX_TABLE_OFF);
    pci_cfg_set32(f, at + 8, VPCI_MSIX_PBA_OFF);
    f->wmask[at + 3] = MSIX_ENABLE | MSIX_MASKALL;
    for (unsigned v = 0; v < vp->nvec; v++)
        vp->msix_table[v][3] = 1;   /* vectors start masked */

    f->bar_size = VPCI_BAR_SIZE;
    f->bar_io = bar_io;
    f->cfg_written = cfg_written;
    f->opaque = vp;

    dev->irq = (struct virtio_irq){ .queue = irq_queue, .config = irq_config, .opaque = vp };
}

bool virtio_pci_notify_addr(struct virtio_pci *vp, unsigned q, uint64_t *gpa) {
    const uint8_t *cfg = vp->func.cfg;
    if (q >= vp->dev->num_queues || !(cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
        return false;
    uint32_t lo, hi;
    memcpy(&lo, &cfg[PCI_BAR0], 4);
    memcpy(&hi, &cfg[PCI_BAR0 + 4], 4);
    *gpa = ((uint64_t)hi << 32 | (lo & ~0xfu)) + VPCI_NOTIFY_OFF + (uint64_t)q * VPCI_NOTIFY_MULT;
    return true;
}

void virtio_pci_destroy(struct virtio_pci *vp) {
    if (vp->dev)
        vp->dev->irq = (struct virtio_irq){ 0 };
    pthread_mutex_destroy(&vp->reg_lock);
    pthread_mutex_destroy(&vp->irq_lock);
}
