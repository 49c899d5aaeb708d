/* Building and tearing down a microVM: RAM, the KVM VM, legacy devices,
 * virtio devices on PCI, the kernel hand-off and the vCPUs. The run itself
 * is loop.c. */
#include "vm/vmm/vmm.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vm/boot/boot.h"
#include "vm/devices/virtio/blk.h"
#include "vm/devices/virtio/console.h"
#include "vm/devices/virtio/rng.h"
#include "vm/vmm/internal.h"

int vmm_fate_exit_code(enum vm_fate f) {
    /* 0 only for a clean power-off; the others are distinct and above the
     * range shells use for "command not found" and friends. */
    switch (f) {
    case VM_FATE_POWEROFF: return 0;
    case VM_FATE_RESET:    return 81;
    case VM_FATE_SHUTDOWN: return 82;
    case VM_FATE_CRASH:    return 83;
    case VM_FATE_PANIC:    return 84;
    case VM_FATE_TIMEOUT:  return 85;
    case VM_FATE_KILLED:   return 86;
    default:               return 1;
    }
}

static int check_config(const struct vmm_config *c, struct hull_err *err) {
    if (c->vcpus < 1 || c->vcpus > KVM_MAX_VCPUS)
        return hull_err_set(err, EINVAL, "vm: %u vCPUs (1..%d)", c->vcpus, KVM_MAX_VCPUS);
    if (c->mem_bytes < (16ull << 20) || c->mem_bytes > (1ull << 40) || c->mem_bytes % (2ull << 20))
        return hull_err_set(err, EINVAL, "vm: memory must be a multiple of 2 MiB between 16 MiB and 1 TiB");
    if (!c->kernel)
        return hull_err_set(err, EINVAL, "vm: no kernel given");
    if (c->ndisks > VMM_MAX_DISKS || c->nports > VMM_MAX_PORTS)
        return hull_err_set(err, EINVAL, "vm: at most %d disks and %d console ports", VMM_MAX_DISKS, VMM_MAX_PORTS);
    for (unsigned i = 0; i < c->nports; i++)
        if (!c->port[i].name || !c->port[i].name[0])
            return hull_err_set(err, EINVAL, "vm: console port %u has no name", i);
    return 0;
}

/* RAM below the PCI hole, the rest above 4 GiB. */
static int map_ram(struct vmm *v, struct hull_err *err) {
    unsigned flags = v->cfg->hugepages ? VM_MEM_HUGE : 0;
    uint64_t low = v->cfg->mem_bytes < BOOT_LOW_RAM_MAX ? v->cfg->mem_bytes : BOOT_LOW_RAM_MAX;
    int rc = vm_mem_add(&v->mem, 0, low, flags, err);
    if (rc == 0 && v->cfg->mem_bytes > low)
        rc = vm_mem_add(&v->mem, BOOT_HIGH_RAM_BASE, v->cfg->mem_bytes - low, flags, err);
    return rc < 0 ? hull_err_prefix(err, "vm: guest RAM: ") : 0;
}

static int add_legacy(struct vmm *v, struct hull_err *err) {
    struct kvm_vm *vm = &v->vm;
    v->kbd.sink = (struct vm_fate_sink){ kvm_vm_request_fate, vm };
    v->pm.sink = v->kbd.sink;
    int rc;
    if ((rc = vm_bus_add(&vm->pio, UART_COM1_BASE, 8, uart8250_io, &v->uart, err)) < 0 ||
        (rc = vm_bus_add(&vm->pio, I8042_DATA_PORT, 1, i8042_data_io, &v->kbd, err)) < 0 ||
        (rc = vm_bus_add(&vm->pio, I8042_CMD_PORT, 1, i8042_cmd_io, &v->kbd, err)) < 0 ||
        (rc = vm_bus_add(&vm->pio, VM_PVPANIC_PORT, 1, vm_pm_pvpanic_io, &v->pm, err)) < 0 ||
        (rc = vm_bus_add(&vm->pio, VM_PM_CNT_PORT, 2, vm_pm_cnt_io, &v->pm, err)) < 0 ||
        (rc = vm_bus_add(&vm->pio, PCI_CONF1_ADDR_PORT, 8, pci_conf1_io, &v->pci, err)) < 0 ||
        (rc = vm_bus_add(&vm->mmio, BOOT_PCI_MMIO_BASE, BOOT_PCI_MMIO_SIZE, pci_mmio_io, &v->pci, err)) < 0)
        return hull_err_prefix(err, "vm: devices: ");
    return 0;
}

/* Plugs a created device into the PCI bus; on failure the device is freed. */
static int plug(struct vmm *v, struct virtio_dev *d, struct hull_err *err) {
    struct vmm_dev *vd = &v->dev[v->ndevs];
    memset(vd, 0, sizeof(*vd));
    vd->vmm = v;
    vd->dev = d;
    struct vm_irq_sink sink = { kvm_vm_msi, kvm_vm_irq_line, &v->vm };
    /* INTx (the fallback; Linux uses MSI-X) on IOAPIC inputs 16-23, above
     * the ISA IRQs, as the MP table describes them. */
    virtio_pci_init(&vd->vp, d, &sink, 16 + v->ndevs % 8);
    int rc = vmm_dev_ioev_init(vd, err);
    if (rc == 0 && (rc = pci_bus_add(&v->pci, &vd->vp.func, err)) < 0)
        vmm_dev_ioev_fini(vd);
    if (rc >= 0)
        v->intx[v->ndevs] = (struct boot_pci_intx){ .dev = (uint8_t)rc, .pin = 1, .gsi = (uint8_t)vd->vp.gsi };
    if (rc < 0) {
        virtio_pci_destroy(&vd->vp);
        virtio_dev_free(d);
        return rc;
    }
    if (v->ioeventfd) {
        vd->vp.layout_changed = vmm_layout_changed;
        vd->vp.layout_opaque = vd;
    }
    v->ndevs++;
    return 0;
}

static int add_virtio(struct vmm *v, struct hull_err *err) {
    const struct vmm_config *c = v->cfg;
    struct virtio_dev *d;
    int rc;
    for (unsigned i = 0; i < c->ndisks; i++) {
        int fd = open(c->disk[i].path, (c->disk[i].read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0)
            return hull_err_sys(err, "vm: disk %s", c->disk[i].path);
        char serial[21];
        snprintf(serial, sizeof(serial), "hull-disk%u", i);
        struct virtio_blk_opts o = { .fd = fd, .read_only = c->disk[i].read_only, .serial = serial };
        if ((rc = virtio_blk_create(&d, &v->mem, &o, err)) < 0) {
            close(fd);
            return hull_err_prefix(err, "vm: disk %s: ", c->disk[i].path);
        }
        if ((rc = plug(v, d, err)) < 0)
            return rc;
    }
    /* Port 0 is an hvc console (the guest may use it as /dev/hvc0); the
     * named ports follow. */
    struct virtio_console_opts co = { .nports = 1 + c->nports, .rx_space = vmm_rx_space, .rx_space_opaque = v };
    co.port[0] = (struct virtio_console_port_cfg){ .name = NULL, .console = true, .out_fd = c->serial_fd };
    for (unsigned i = 0; i < c->nports; i++)
        co.port[1 + i] = (struct virtio_console_port_cfg){ .name = c->port[i].name, .out_fd = c->port[i].out_fd };
    if ((rc = virtio_console_create(&d, &v->mem, &co, err)) < 0 || (rc = plug(v, d, err)) < 0)
        return hull_err_prefix(err, "vm: ");
    v->console = d;
    for (unsigned i = 0; i < c->nports; i++)
        if (c->port[i].in_fd >= 0)
            v->feed[v->nfeeds++] = (struct vmm_feed){ .fd = c->port[i].in_fd, .port = 1 + i };
    if (c->rng && ((rc = virtio_rng_create(&d, &v->mem, err)) < 0 || (rc = plug(v, d, err)) < 0))
        return hull_err_prefix(err, "vm: ");
    struct vm_fate_sink sink = { kvm_vm_request_fate, &v->vm };
    pvpanic_pci_init(&v->pvpanic, &sink);
    if ((rc = pci_bus_add(&v->pci, &v->pvpanic.func, err)) < 0)
        return hull_err_prefix(err, "vm: pvpanic: ");
    return 0;
}

static int boot(struct vmm *v, struct hull_err *err) {
    const struct vmm_config *c = v->cfg;
    struct boot_config bc = { .kernel = c->kernel, .initrd = c->initrd, .cmdline = c->cmdline ? c->cmdline : "",
                              .nvcpus = c->vcpus, .pci_intx = v->intx, .npci_intx = v->ndevs };
    struct boot_entry entry;
    int rc = boot_load(&v->mem, &bc, &entry, err);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < c->vcpus; i++) {
        struct kvm_vcpu *cpu;
        if ((rc = kvm_vcpu_create(&v->vm, &cpu, err)) < 0)
            return hull_err_prefix(err, "vm: ");
        rc = i == 0 ? boot_setup_bsp(cpu, &entry, err) : boot_setup_ap(cpu, err);
        if (rc < 0)
            return hull_err_prefix(err, "vm: vcpu %u: ", i);
    }
    return 0;
}

static void teardown(struct vmm *v) {
    /* Devices first (they point into guest RAM and at the VM), then the VM,
     * then RAM. vCPU threads are gone by now (vmm_loop joins them). */
    for (unsigned i = 0; i < v->ndevs; i++) {
        vmm_dev_ioev_fini(&v->dev[i]);
        virtio_pci_destroy(&v->dev[i].vp);
        virtio_dev_free(v->dev[i].dev);
    }
    v->ndevs = 0;
    if (v->vm_made)
        kvm_vm_destroy(&v->vm);
    pci_bus_destroy(&v->pci);
    uart8250_destroy(&v->uart);
    vm_mem_free(&v->mem);
    if (v->space_efd >= 0)
        close(v->space_efd);
    if (v->fate_efd >= 0)
        close(v->fate_efd);
    pthread_mutex_destroy(&v->err_lock);
}

static void vmm_releasep(struct vmm **v) {
    if (!*v) return;
    teardown(*v);
    free(*v);
}

int vmm_run(const struct vmm_config *cfg, struct hull_err *err) {
    int rc = check_config(cfg, err);
    if (rc < 0)
        return rc;
    if ((rc = kvm_check_host(NULL, cfg->allow_slow_kvm, err)) < 0)
        return rc;
    __attribute__((cleanup(vmm_releasep))) struct vmm *v = calloc(1, sizeof(*v));
    if (!v)
        return hull_err_set(err, ENOMEM, "vm: out of memory");
    v->cfg = cfg;
    vm_mem_init(&v->mem);
    pthread_mutex_init(&v->err_lock, NULL);
    v->space_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    v->fate_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (v->space_efd < 0 || v->fate_efd < 0)
        return hull_err_sys(err, "vm: eventfd");
    /* The bus and the UART exist before anything else can fail, so
     * teardown() may always destroy them. */
    pci_bus_init(&v->pci, BOOT_PCI_MMIO_BASE, BOOT_PCI_MMIO_SIZE);
    uart8250_init(&v->uart, cfg->serial_fd, kvm_vm_irq_line, &v->vm, UART_COM1_IRQ);
    if ((rc = map_ram(v, err)) < 0 || (rc = kvm_vm_create(&v->vm, err)) < 0)
        return rc;
    v->vm_made = true;
    v->ioeventfd = kvm_vm_has_ioeventfd(&v->vm);
    if ((rc = kvm_vm_set_memory(&v->vm, &v->mem, err)) < 0)
        return rc;
    if ((rc = add_legacy(v, err)) < 0 || (rc = add_virtio(v, err)) < 0 || (rc = boot(v, err)) < 0)
        return rc;
    return vmm_loop(v, err);   /* then teardown, on scope exit */
}
