/* PCI conf1 + BAR routing (see pci.h). */
#include "vm/devices/pci.h"

#include <string.h>

void pci_cfg_set16(struct pci_func *f, unsigned off, uint16_t v) {
    memcpy(&f->cfg[off], &v, 2);
}

void pci_cfg_set32(struct pci_func *f, unsigned off, uint32_t v) {
    memcpy(&f->cfg[off], &v, 4);
}

void pci_bus_init(struct pci_bus *b, uint64_t mmio_base, uint64_t mmio_size) {
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    b->mmio_base = b->mmio_next = mmio_base;
    b->mmio_size = mmio_size;
    /* Linux's conf1 probe (pci_sanity_check) wants a host bridge or a known
     * vendor on bus 0: an Intel 440FX-style host bridge, class 06/00. */
    struct pci_func *h = &b->host_bridge;
    pci_cfg_set16(h, PCI_VENDOR_ID, 0x8086);
    pci_cfg_set16(h, PCI_DEVICE_ID, 0x1237);
    pci_cfg_set32(h, PCI_REVISION, 0x06000000);
    b->slot[0] = h;
}

void pci_bus_destroy(struct pci_bus *b) {
    pthread_mutex_destroy(&b->lock);
}

int pci_bus_add(struct pci_bus *b, struct pci_func *f, struct hull_err *err) {
    unsigned s = 1;
    while (s < PCI_MAX_SLOTS && b->slot[s])
        s++;
    if (s == PCI_MAX_SLOTS)
        return hull_err_set(err, ENOSPC, "pci: all %d slots in use", PCI_MAX_SLOTS);
    if (f->bar_size) {
        if (f->bar_size & (f->bar_size - 1) || f->bar_size < 16)
            return hull_err_set(err, EINVAL, "pci: BAR size 0x%llx is not a power of two", (unsigned long long)f->bar_size);
        uint64_t addr = (b->mmio_next + f->bar_size - 1) & ~(f->bar_size - 1);   /* natural alignment */
        if (addr - b->mmio_base > b->mmio_size || f->bar_size > b->mmio_size - (addr - b->mmio_base))
            return hull_err_set(err, ENOSPC, "pci: MMIO window full");
        b->mmio_next = addr + f->bar_size;
        /* 64-bit memory BAR: type 10b in bits 2:1; address bits writable
         * above the size, which is how the guest sizes it. */
        pci_cfg_set32(f, PCI_BAR0, (uint32_t)addr | 0x4);
        pci_cfg_set32(f, PCI_BAR0 + 4, (uint32_t)(addr >> 32));
        uint32_t m = (uint32_t)~(f->bar_size - 1) & ~0xfu;
        memcpy(&f->wmask[PCI_BAR0], &m, 4);
        memset(&f->wmask[PCI_BAR0 + 4], 0xff, 4);
    }
    f->wmask[PCI_COMMAND] |= 0x07;       /* I/O, memory, bus master */
    f->wmask[PCI_COMMAND + 1] |= 0x04;   /* INTx disable */
    f->wmask[PCI_INT_LINE] = 0xff;
    b->slot[s] = f;
    return (int)s;
}

/* The function selected by the conf1 latch, or NULL (other bus/function,
 * enable bit clear, empty slot). */
static struct pci_func *selected(struct pci_bus *b) {
    uint32_t a = b->conf1_addr;
    if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0 || ((a >> 8) & 7) != 0)
        return NULL;
    return b->slot[(a >> 11) & 0x1f];
}

static void cfg_write(struct pci_func *f, unsigned off, const uint8_t *data, unsigned len) {
    for (unsigned i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
        f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~f->wmask[off + i]) | (data[i] & f->wmask[off + i]));
}

void pci_conf1_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct pci_bus *b = opaque;
    struct pci_func *f = NULL;
    unsigned reg = 0;
    pthread_mutex_lock(&b->lock);
    if (off < 4) {
        /* The address latch: only whole-dword accesses touch it; Linux's
         * probe also pokes a byte at 0xCFB, which must not change it. */
        if (off == 0 && len == 4) {
            if (is_write)
                memcpy(&b->conf1_addr, data, 4);
            else
                memcpy(data, &b->conf1_addr, 4);
        } else if (!is_write) {
            memset(data, 0xff, len);
        }
        pthread_mutex_unlock(&b->lock);
        return;
    }
    f = selected(b);
    reg = (b->conf1_addr & 0xfc) + (unsigned)(off - 4);
    if (!f || reg + len > PCI_CFG_SIZE) {
        if (!is_write)
            memset(data, 0xff, len);
        pthread_mutex_unlock(&b->lock);
        return;
    }
    if (!is_write) {
        memcpy(data, &f->cfg[reg], len);
        pthread_mutex_unlock(&b->lock);
        return;
    }
    cfg_write(f, reg, data, len);
    pthread_mutex_unlock(&b->lock);
    /* Outside the bus lock: the hook takes the device's own locks. */
    if (f->cfg_written)
        f->cfg_written(f->opaque, reg, len);
}

void pci_mmio_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool is_write) {
    struct pci_bus *b = opaque;
    uint64_t addr = b->mmio_base + off;
    struct pci_func *hit = NULL;
    uint64_t bar_off = 0;
    pthread_mutex_lock(&b->lock);
    for (unsigned s = 1; s < PCI_MAX_SLOTS && !hit; s++) {
        struct pci_func *f = b->slot[s];
        if (!f || !f->bar_size || !(f->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY))
            continue;
        uint32_t lo, hi;
        memcpy(&lo, &f->cfg[PCI_BAR0], 4);
        memcpy(&hi, &f->cfg[PCI_BAR0 + 4], 4);
        uint64_t base = ((uint64_t)hi << 32) | (lo & ~0xfu);
        if (addr >= base && addr - base < f->bar_size && len <= f->bar_size - (addr - base)) {
            hit = f;
            bar_off = addr - base;
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (hit)
        hit->bar_io(hit->opaque, bar_off, data, len, is_write);
    else if (!is_write)
        memset(data, 0xff, len);
}
