/* How a guest ended: what the VMM process reports (and exits with). */
#ifndef HULL_VM_CORE_FATE_H
#define HULL_VM_CORE_FATE_H

enum vm_fate {
    VM_FATE_RUNNING = 0,
    VM_FATE_POWEROFF,   /* clean power-off (ACPI-style PM port, KVM system event) */
    VM_FATE_RESET,      /* reboot request: i8042 0xFE, KVM system event reset */
    VM_FATE_SHUTDOWN,   /* triple fault (KVM_EXIT_SHUTDOWN): the guest crashed hard */
    VM_FATE_CRASH,      /* the VMM could not continue: emulation failure, entry failure, KVM error */
    VM_FATE_PANIC,      /* the guest kernel reported a panic (pvpanic port) */
    VM_FATE_TIMEOUT,    /* the host's deadline passed (e.g. the guest never booted) */
    VM_FATE_KILLED,     /* the host stopped the VM (signal, stop request) */
};

const char *vm_fate_name(enum vm_fate f);

/* A device asks the VM to stop with a fate; the first request wins. */
struct vm_fate_sink {
    void (*request)(void *opaque, enum vm_fate f);
    void *opaque;
};

#endif
