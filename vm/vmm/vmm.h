/* The VMM: one call that builds a whole microVM from a description (RAM,
 * vCPUs, kernel, initrd, disks, console ports), runs it on one thread per
 * vCPU plus an I/O thread (the caller's), and returns the guest's fate.
 *
 * Everything is released on every path: vCPU threads are joined, fds closed,
 * guest RAM unmapped — so the caller (the VMM process, i.e. the container's
 * pid in microVM mode) can report the fate and exit, or a test can call it
 * repeatedly in one process and check for leaks. */
#ifndef HULL_VM_VMM_VMM_H
#define HULL_VM_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "vm/core/fate.h"

#define VMM_MAX_DISKS 4
#define VMM_MAX_PORTS 7      /* named virtio-console ports (port 0 is the hvc console) */

struct vmm_disk {
    const char *path;
    bool read_only;
};

/* A named virtio-console port. Host → guest bytes are read from in_fd
 * (EOF closes nothing in the guest: the port simply gets no more data);
 * guest → host bytes are written to out_fd. Either may be -1. The fds stay
 * the caller's. */
struct vmm_port {
    const char *name;
    int in_fd, out_fd;
};

struct vmm_config {
    uint64_t mem_bytes;          /* guest RAM */
    unsigned vcpus;              /* 1..KVM_MAX_VCPUS */
    bool hugepages;
    const char *kernel;          /* bzImage or ELF vmlinux (PVH) */
    const char *initrd;          /* may be NULL */
    const char *cmdline;         /* the VMM adds nothing of its own but "console=" when asked */
    int serial_fd;               /* COM1 output (kernel console); -1 keeps it silent */
    struct vmm_disk disk[VMM_MAX_DISKS];
    unsigned ndisks;
    struct vmm_port port[VMM_MAX_PORTS];
    unsigned nports;
    bool rng;                    /* add a virtio-rng device */
    bool allow_slow_kvm;         /* run even on a /dev/kvm that cannot run a kernel at speed */
    unsigned timeout_ms;         /* 0: none; otherwise the VM is stopped with VM_FATE_TIMEOUT */
    int stop_fd;                 /* readable (e.g. a pipe's read end hitting EOF, or an eventfd):
                                    stop the VM with VM_FATE_KILLED. -1: none */
};

/* Builds and runs the VM until its fate is decided. Returns the fate (>0)
 * or <0 with err set when the VM could not be built or KVM failed (a KVM
 * failure while running also reports VM_FATE_CRASH through *fate when
 * non-NULL). */
int vmm_run(const struct vmm_config *cfg, struct hull_err *err);

/* Process exit status for a fate (the `hull vmm` verb exits with it). */
int vmm_fate_exit_code(enum vm_fate f);

#endif
