/* The executor seam: how a container's process actually runs. lifecycle/ owns
 * the lifecycle and the state; an executor only creates the init process (and
 * later exec'd processes) and releases it on start. Two implementations:
 * linux/ (shared kernel) and vm/executor/ (microVM). They register here at
 * program start (cli/main.c names the ones hull is built with) and lifecycle/
 * finds them by name, so nothing below the CLI names an executor. */
#ifndef HULL_BASE_EXECUTOR_H
#define HULL_BASE_EXECUTOR_H

#include <stdbool.h>
#include <sys/types.h>
#include "base/spec.h"

struct hull_cgroup;

struct hull_create_req {
    const char *id;
    const char *bundle;            /* absolute */
    const char *rootfs;            /* absolute */
    const struct hull_spec *spec;
    int state_dir_fd;              /* <root>/<id>: exec.sock is bound here */
    struct hull_cgroup *cgroup;    /* already created; the executor puts the init in it */
    const char *console_socket;    /* process.terminal: where the pty master goes */
    bool want_console_master;      /* `run -t` without a socket: return the master instead */
    bool no_pivot;
    bool no_new_keyring;
    int preserve_fds;              /* fds 3 .. 3+n-1 stay open in the container */
    const char *vm_root_image;     /* microVM: a prebuilt read-only root image (hull_create_opts) */

    /* Called once the init exists and its namespaces/mounts are ready, before
     * pivot_root: lifecycle/ records the pid and runs prestart + createRuntime
     * hooks. A failure aborts the create. */
    int (*on_created_runtime)(void *opaque, pid_t pid, struct hull_err *err);
    void *opaque;

    /* outputs */
    pid_t pid;
    int console_master;            /* -1 unless want_console_master */
};

struct hull_exec_req {
    pid_t init_pid;                /* the container's init, whose namespaces we join */
    int state_dir_fd;              /* <root>/<id>, unlocked (the microVM monitor's socket is there) */
    const struct hull_spec *spec;  /* the container's config (seccomp, apparmor, ...) */
    const struct hull_process *process;  /* what to run */
    struct hull_cgroup *cgroup;
    const char *console_socket;
    bool want_console_master;
    int preserve_fds;
    /* outputs */
    pid_t pid;
    int console_master;
};

struct hull_executor_ops {
    const char *name;                                   /* "linux", "vm" */
    int (*create)(struct hull_create_req *req, struct hull_err *err);
    /* Releases a created init; returns once it is past the start barrier. */
    int (*start)(int state_dir_fd, pid_t pid, struct hull_err *err);
    int (*exec)(struct hull_exec_req *req, struct hull_err *err);

    /* Optional; NULL means the shared-kernel behaviour. */
    /* The cgroup's resources before it is made (the microVM: the VMM's RAM
     * and /dev/kvm instead of the container's own view). */
    int (*adjust_resources)(const struct hull_spec *spec, struct hull_resources *res, struct hull_err *err);
    /* kill: -ENOTCONN lets lifecycle/ signal the pid itself. */
    int (*signal)(int state_dir_fd, int sig, bool all, struct hull_err *err);
    /* ps: the container's processes (microVM: guest pids, malloc'd). */
    int (*pids)(int state_dir_fd, pid_t **pids, size_t *n, struct hull_err *err);
    /* delete, or a create that failed after ->create: release what the
     * executor made outside the cgroup and the state dir. Best effort. */
    void (*cleanup)(int state_dir_fd);
};

/* The registry: a program registers each executor it links before it makes
 * or drives a container; an executor's name is what state.json records. */
#define HULL_EXECUTOR_MAX 4
int hull_executor_register(const struct hull_executor_ops *ops);
/* NULL when no executor of that name was registered. */
const struct hull_executor_ops *hull_executor_find(const char *name);

/* The `start` barrier in the state dir: the init waits in accept() on it. */
#define HULL_EXEC_SOCK "exec.sock"

#endif
