/* hull-vmm as a container's process (--link FD, set up by the microVM
 * executor, vm/executor/executor.c). The VMM's pid is the container's pid in
 * `state`, so it behaves like the container's process on the host:
 *
 *  - a signal sent to it is forwarded to the monitor (one byte, the signal
 *    number, on the link), which delivers it to the process in the guest;
 *  - it exits with the container process's status, which the monitor sends
 *    (a u32 wait status) before powering the guest off: exit code N, or
 *    128+N for a signal — what a runc shim reaping the pid expects;
 *  - the link's end (the monitor died) stops the VM.
 *
 * --test-agent AGENT (tests only): no VM at all; the guest agent runs on
 * this host in its test mode over the same port fds (tests/integration). */
#ifndef HULL_VM_VMM_LINK_H
#define HULL_VM_VMM_LINK_H

#include "vm/vmm/vmm.h"

/* Blocks the forwarded signals (call before any thread starts) and starts the
 * link thread; *stop_fd is the VM's stop fd (vmm_config.stop_fd). */
int vmm_link_start(int link_fd, int *stop_fd);
/* Joins the link thread; the exit status: the container's when the monitor
 * sent one, else fate_code. */
int vmm_link_finish(int fate_code);
/* Test mode: runs AGENT --test-fds over the config's ports until it exits or
 * stop_fd fires; returns a fate. */
int vmm_link_run_agent(const char *agent, const struct vmm_config *c);

#endif
