/* The signals a microVM container's host-side stand-ins (hull-vmm --link,
 * the exec proxy) catch and pass on to the process in the guest: every
 * classic signal a process can be sent and survive long enough to forward —
 * not the uncatchable ones, not faults of our own, not job-control noise. */
#ifndef HULL_VM_PROTO_SIGNALS_H
#define HULL_VM_PROTO_SIGNALS_H

#include <signal.h>

static inline void vm_forwardable_signals(sigset_t *s) {
    sigemptyset(s);
    for (int sig = 1; sig < 32; sig++) {
        switch (sig) {
        case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP:
        case SIGSYS: case SIGCHLD: case SIGPIPE: case SIGURG: case SIGWINCH:
            continue;
        default:
            sigaddset(s, sig);
        }
    }
}

#endif
