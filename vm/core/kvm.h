/* KVM plumbing: the VM, its memory slots, vCPUs and the run loop that turns
 * exits into bus accesses and, in the end, the guest's fate. */
#ifndef HULL_VM_CORE_KVM_H
#define HULL_VM_CORE_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "vm/core/bus.h"
#include "vm/core/fate.h"
#include "vm/core/mem.h"

#define KVM_MAX_VCPUS 32

/* Host check ("honest refusal"): a /dev/kvm without hardware virtualisation
 * (no vmx/svm in cpuinfo, or the software kvm_pvm backend) cannot run an
 * unmodified kernel at a usable speed. Returns 0 when fine or when
 * allow_slow is set; otherwise -ENOTSUP with the reason. The paths are
 * parameters so tests can feed fixtures; NULL means the real file. */
struct kvm_host_paths {
    const char *cpuinfo;      /* /proc/cpuinfo */
    const char *modules;      /* /proc/modules */
    const char *sys_module;   /* /sys/module */
};
int kvm_check_host(const struct kvm_host_paths *paths, bool allow_slow, struct hull_err *err);

struct kvm_vcpu {
    struct kvm_vm *vm;
    int fd;
    unsigned id;
    struct kvm_run *run;      /* shared with the kernel, run_size bytes */
};

struct kvm_vm {
    int kvm_fd, vm_fd;
    int run_size;
    bool irqchip;             /* in-kernel PIC/IOAPIC/LAPIC (+PIT) created */
    const struct vm_mem *mem;
    struct vm_bus pio, mmio;  /* device registration happens before running */
    struct kvm_vcpu vcpu[KVM_MAX_VCPUS];
    unsigned nvcpus;
    int fate;                 /* enum vm_fate, set once (atomically) */
};

/* Opens /dev/kvm, checks the API, creates the VM and (when the host offers
 * it) the in-kernel irqchip and PIT. Does not run kvm_check_host. */
int kvm_vm_create(struct kvm_vm *vm, struct hull_err *err);
/* Registers every region of mem as a memory slot (mem must outlive vm). */
int kvm_vm_set_memory(struct kvm_vm *vm, const struct vm_mem *mem, struct hull_err *err);
/* Creates vCPU `id` (ids 0..n-1 in order) with KVM's supported CPUID plus
 * the hypervisor bit and this vCPU's APIC id. */
int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu **out, struct hull_err *err);
/* Runs the vCPU until the guest's fate is decided; returns it (>0) or <0 on
 * a KVM failure (err set; the fate is then CRASH). */
int kvm_vcpu_run(struct kvm_vcpu *c, struct hull_err *err);
/* Closes vCPUs and the VM; safe on a partly created VM. */
void kvm_vm_destroy(struct kvm_vm *vm);

/* The fate sink devices use: first request wins; running vCPUs notice at
 * their next exit. */
void kvm_vm_request_fate(void *vm, enum vm_fate f);
enum vm_fate kvm_vm_fate(struct kvm_vm *vm);
/* KVM_CAP_IOEVENTFD: notify writes can signal an eventfd in the kernel. */
bool kvm_vm_has_ioeventfd(struct kvm_vm *vm);
/* Binds (or with assign=false unbinds) eventfd efd to `len`-byte MMIO
 * writes at gpa. */
int kvm_vm_ioeventfd(struct kvm_vm *vm, uint64_t gpa, unsigned len, int efd, bool assign, struct hull_err *err);
/* Makes a vCPU's current or next KVM_RUN return at once (immediate_exit);
 * the caller then signals the thread to interrupt a running guest. */
void kvm_vcpu_request_exit(struct kvm_vcpu *c);

/* Interrupt helpers for devices (no-ops without an irqchip). */
void kvm_vm_irq_line(void *vm, unsigned gsi, int level);
void kvm_vm_msi(void *vm, uint64_t addr, uint32_t data);


#endif
