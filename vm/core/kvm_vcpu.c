/* vCPUs: creation with CPUID, and the run loop mapping exits to devices and
 * to the guest's fate. */
#include "vm/core/kvm.h"

#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int set_cpuid(struct kvm_vm *vm, struct kvm_vcpu *c, struct hull_err *err) {
    int nent = 128;
    struct kvm_cpuid2 *cpuid = NULL;
    for (;;) {
        free(cpuid);
        cpuid = calloc(1, sizeof(*cpuid) + (size_t)nent * sizeof(cpuid->entries[0]));
        if (!cpuid)
            return hull_err_set(err, ENOMEM, "vcpu %u: CPUID table", c->id);
        cpuid->nent = (uint32_t)nent;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
            break;
        if (errno != E2BIG || nent >= 4096) {
            int rc = hull_err_sys(err, "vcpu %u: KVM_GET_SUPPORTED_CPUID", c->id);
            free(cpuid);
            return rc;
        }
        nent *= 2;
    }
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        switch (e->function) {
        case 1:
            e->ecx |= 1u << 31;                                  /* running under a hypervisor */
            e->ebx = (e->ebx & 0x00ffffffu) | (c->id << 24);    /* initial APIC id */
            e->ebx = (e->ebx & 0xff00ffffu) | (vm->nvcpus + 1) << 16;   /* logical processors (upper bound) */
            break;
        case 0xb:
        case 0x1f:
            e->edx = c->id;                                      /* x2APIC id */
            break;
        default:
            break;
        }
    }
    int rc = 0;
    if (ioctl(c->fd, KVM_SET_CPUID2, cpuid) < 0)
        rc = hull_err_sys(err, "vcpu %u: KVM_SET_CPUID2", c->id);
    free(cpuid);
    return rc;
}

int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu **out, struct hull_err *err) {
    if (vm->nvcpus == KVM_MAX_VCPUS)
        return hull_err_set(err, ENOSPC, "vcpu: at most %d", KVM_MAX_VCPUS);
    struct kvm_vcpu *c = &vm->vcpu[vm->nvcpus];
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    c->id = vm->nvcpus;
    c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)c->id);
    if (c->fd < 0)
        return hull_err_sys(err, "vcpu %u: KVM_CREATE_VCPU", c->id);
    /* From here the slot is counted, so kvm_vm_destroy releases it. */
    vm->nvcpus++;
    c->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (c->run == MAP_FAILED) {
        c->run = NULL;
        return hull_err_sys(err, "vcpu %u: map kvm_run", c->id);
    }
    int rc = set_cpuid(vm, c, err);
    if (rc < 0)
        return rc;
    *out = c;
    return 0;
}

static void do_pio(struct kvm_vcpu *c) {
    struct kvm_run *r = c->run;
    uint8_t *data = (uint8_t *)r + r->io.data_offset;
    bool out = r->io.direction == KVM_EXIT_IO_OUT;
    /* rep ins/outs: count accesses packed back to back in the run page. */
    for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size)
        vm_bus_access(&c->vm->pio, r->io.port, data, r->io.size, out);
}

int kvm_vcpu_run(struct kvm_vcpu *c, struct hull_err *err) {
    struct kvm_vm *vm = c->vm;
    for (;;) {
        enum vm_fate f = kvm_vm_fate(vm);
        if (f != VM_FATE_RUNNING)
            return (int)f;
        if (ioctl(c->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;   /* a kick: re-check the fate */
            int rc = hull_err_sys(err, "vcpu %u: KVM_RUN", c->id);
            kvm_vm_request_fate(vm, VM_FATE_CRASH);
            return rc;
        }
        struct kvm_run *r = c->run;
        switch (r->exit_reason) {
        case KVM_EXIT_IO:
            do_pio(c);
            break;
        case KVM_EXIT_MMIO:
            vm_bus_access(&vm->mmio, r->mmio.phys_addr, r->mmio.data, r->mmio.len, r->mmio.is_write);
            break;
        case KVM_EXIT_INTR:
            break;
        case KVM_EXIT_HLT:
            /* Only reachable without an in-kernel irqchip: nothing can wake
             * the vCPU again, so the guest has stopped itself. */
            kvm_vm_request_fate(vm, VM_FATE_POWEROFF);
            break;
        case KVM_EXIT_SHUTDOWN:
            kvm_vm_request_fate(vm, VM_FATE_SHUTDOWN);
            break;
        case KVM_EXIT_SYSTEM_EVENT:
            switch (r->system_event.type) {
            case KVM_SYSTEM_EVENT_SHUTDOWN: kvm_vm_request_fate(vm, VM_FATE_POWEROFF); break;
            case KVM_SYSTEM_EVENT_RESET:    kvm_vm_request_fate(vm, VM_FATE_RESET); break;
            case KVM_SYSTEM_EVENT_CRASH:    kvm_vm_request_fate(vm, VM_FATE_PANIC); break;
            default:                        kvm_vm_request_fate(vm, VM_FATE_CRASH); break;
            }
            break;
        case KVM_EXIT_FAIL_ENTRY:
            kvm_vm_request_fate(vm, VM_FATE_CRASH);
            return hull_err_set(err, EIO, "vcpu %u: entry failed, hardware reason 0x%llx", c->id,
                                (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
        case KVM_EXIT_INTERNAL_ERROR:
            kvm_vm_request_fate(vm, VM_FATE_CRASH);
            return hull_err_set(err, EIO, "vcpu %u: KVM internal error, suberror %u (%s)", c->id,
                                r->internal.suberror,
                                r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? "emulation failure" : "other");
        default:
            kvm_vm_request_fate(vm, VM_FATE_CRASH);
            return hull_err_set(err, EIO, "vcpu %u: unhandled exit reason %u", c->id, r->exit_reason);
        }
    }
}

void kvm_vcpu_request_exit(struct kvm_vcpu *c) {
    if (c->run)
        __atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}
