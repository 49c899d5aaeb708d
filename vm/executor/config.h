/* What a microVM container derives from its OCI config, as pure functions
 * (unit-tested in tests/unit/test_vm_container.c):
 *
 *  - the VM's size: guest RAM from linux.resources.memory.limit, vCPUs from
 *    the cpu quota or the cpuset;
 *  - the host cgroup's resources: the cgroup holds the VMM process, so its
 *    memory limit is the guest RAM plus the VMM's overhead, and its device
 *    rules must let the VMM open /dev/kvm;
 *  - the config.json the guest agent gets: host bind mounts dropped (their
 *    sources do not exist in the guest);
 *  - an OCI "process" object as JSON, for EXEC. */
#ifndef HULL_VM_EXECUTOR_CONFIG_H
#define HULL_VM_EXECUTOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/spec.h"

#define HULL_VM_DEFAULT_MEM   (256ull << 20)   /* no memory limit in the config */
#define HULL_VM_MIN_MEM       (128ull << 20)   /* what Debian's kernel + the agent need to boot */
#define HULL_VM_MAX_VCPUS     32

struct hull_vm_size {
    uint64_t mem_bytes;      /* guest RAM, a multiple of 2 MiB */
    unsigned vcpus;
    uint64_t cgroup_limit;   /* memory limit of the host cgroup holding the VMM */
};

/* The VM for these resources on a host with host_cpus CPUs (0: unknown). */
void hull_vm_size_from_resources(const struct hull_resources *r, unsigned host_cpus, struct hull_vm_size *out);
/* Number of CPUs in a cpuset list ("0-3,8,10-11"); 0 when malformed or empty. */
unsigned hull_vm_cpuset_count(const char *list);

/* Rewrites res (the container's effective resources) for the cgroup that
 * holds the VMM: memory.limit = the VM's cgroup_limit (swap raised alike when
 * set), pids.limit lifted (the container's processes live in the guest; the
 * host cgroup holds only the VMM's threads), and /dev/kvm allowed. New arrays
 * come from arena. */
int hull_vm_host_resources(struct hull_arena *arena, const struct hull_vm_size *sz, struct hull_resources *res,
                           struct hull_err *err);

/* config.json for the guest: the same document with the bind mounts dropped
 * (type "bind", or a "bind"/"rbind" option): a host path means nothing in the
 * guest (virtio-fs is the planned way to share one). *out is malloc'd;
 * *dropped counts the mounts removed. With rows and cols both non-zero,
 * process.consoleSize = rows x cols when the config has none (the caller's
 * terminal, known before the process starts: no resize race). */
int hull_vm_guest_config_sized(const char *json, size_t len, unsigned rows, unsigned cols, char **out,
                               size_t *out_len, size_t *dropped, struct hull_err *err);

/* An OCI process object (args, env, cwd, user, terminal, capabilities,
 * rlimits, noNewPrivileges, oomScoreAdj, consoleSize) as JSON; malloc'd, NULL
 * on allocation failure. */
char *hull_vm_process_json(const struct hull_process *p, size_t *len);

#endif
