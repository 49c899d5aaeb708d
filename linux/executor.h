/* The shared-kernel executor, for a program to register (base/executor.h):
 * the container's init cloned into its namespaces and cgroup, its rootfs and
 * mounts made by fd, its process security applied before exec. */
#ifndef HULL_LINUX_EXECUTOR_H
#define HULL_LINUX_EXECUTOR_H

#include "base/executor.h"

extern const struct hull_executor_ops hull_linux_executor;   /* "linux" */

#endif
