/* VM-level KVM plumbing: /dev/kvm, the VM fd, memory slots, irqchip + PIT,
 * interrupts and the fate latch. */
#include "vm/core/kvm.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Where KVM may put the real-mode TSS on Intel (three pages); just below
 * the 4 GiB boundary's BIOS area, outside any RAM we map. */
#define KVM_TSS_ADDR 0xfffbd000ull

int kvm_vm_create(struct kvm_vm *vm, struct hull_err *err) {
    memset(vm, 0, sizeof(*vm));
    vm->kvm_fd = vm->vm_fd = -1;
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0)
        return hull_err_sys(err, "open /dev/kvm");
    int v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION) {
        kvm_vm_destroy(vm);
        return hull_err_set(err, ENOTSUP, "/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
    }
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
        kvm_vm_destroy(vm);
        return hull_err_set(err, ENOTSUP, "/dev/kvm: no KVM_CAP_USER_MEMORY");
    }
    vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vm->run_size <= 0) {
        int rc = hull_err_sys(err, "/dev/kvm: KVM_GET_VCPU_MMAP_SIZE");
        kvm_vm_destroy(vm);
        return rc;
    }
    do
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    while (vm->vm_fd < 0 && errno == EINTR);
    if (vm->vm_fd < 0) {
        int rc = hull_err_sys(err, "/dev/kvm: KVM_CREATE_VM");
        kvm_vm_destroy(vm);
        return rc;
    }
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
        ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0) {
        int rc = hull_err_sys(err, "KVM_SET_TSS_ADDR");
        kvm_vm_destroy(vm);
        return rc;
    }
    /* In-kernel PIC/IOAPIC/LAPIC and PIT when offered: interrupt delivery
     * and timer ticks then cost no exit to us. A backend without them still
     * runs guests that do not need interrupts (the tier-2 test guests). */
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0 &&
        ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) == 0) {
        vm->irqchip = true;
        if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) > 0) {
            struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
            if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
                int rc = hull_err_sys(err, "KVM_CREATE_PIT2");
                kvm_vm_destroy(vm);
                return rc;
            }
        }
    }
    return 0;
}

int kvm_vm_set_memory(struct kvm_vm *vm, const struct vm_mem *mem, struct hull_err *err) {
    for (unsigned i = 0; i < mem->n; i++) {
        struct kvm_userspace_memory_region r = {
            .slot = i,
            .guest_phys_addr = mem->r[i].gpa,
            .memory_size = mem->r[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)mem->r[i].host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
            return hull_err_sys(err, "KVM_SET_USER_MEMORY_REGION slot %u (0x%llx+0x%llx)", i,
                                (unsigned long long)r.guest_phys_addr, (unsigned long long)r.memory_size);
    }
    vm->mem = mem;
    return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm) {
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct kvm_vcpu *c = &vm->vcpu[i];
        if (c->run)
            munmap(c->run, (size_t)vm->run_size);
        if (c->fd >= 0)
            close(c->fd);
    }
    vm->nvcpus = 0;
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    vm->vm_fd = vm->kvm_fd = -1;
}

void kvm_vm_request_fate(void *opaque, enum vm_fate f) {
    struct kvm_vm *vm = opaque;
    int expected = VM_FATE_RUNNING;
    __atomic_compare_exchange_n(&vm->fate, &expected, (int)f, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

enum vm_fate kvm_vm_fate(struct kvm_vm *vm) {
    return (enum vm_fate)__atomic_load_n(&vm->fate, __ATOMIC_SEQ_CST);
}

void kvm_vm_irq_line(void *opaque, unsigned gsi, int level) {
    struct kvm_vm *vm = opaque;
    if (!vm->irqchip)
        return;
    struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };
    (void)ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);   /* a lost edge is the guest's to time out on */
}

void kvm_vm_msi(void *opaque, uint64_t addr, uint32_t data) {
    struct kvm_vm *vm = opaque;
    if (!vm->irqchip)
        return;
    struct kvm_msi m = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data };
    (void)ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m);
}

bool kvm_vm_has_ioeventfd(struct kvm_vm *vm) {
    return ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
}

int kvm_vm_ioeventfd(struct kvm_vm *vm, uint64_t gpa, unsigned len, int efd, bool assign, struct hull_err *err) {
    struct kvm_ioeventfd io = { .addr = gpa, .len = len, .fd = efd, .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };
    if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
        return hull_err_sys(err, "KVM_IOEVENTFD %s 0x%llx", assign ? "bind" : "unbind", (unsigned long long)gpa);
    return 0;
}
