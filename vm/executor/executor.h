/* The microVM executor, for a program to register (base/executor.h): the
 * container's process runs in a KVM guest that hull-vmm drives, the guest
 * agent applies its process spec, the VMM process is the container's pid. */
#ifndef HULL_VM_EXECUTOR_EXECUTOR_H
#define HULL_VM_EXECUTOR_EXECUTOR_H

#include "base/executor.h"

extern const struct hull_executor_ops hull_vm_executor;   /* "vm" */

#endif
