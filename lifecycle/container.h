/* The OCI lifecycle (create -> created -> start -> running -> stopped ->
 * delete) over the state store and an executor. Everything here is shared by
 * the shared-kernel and microVM executors; the CLI calls only this. */
#ifndef HULL_LIFECYCLE_CONTAINER_H
#define HULL_LIFECYCLE_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>
#include "base/executor.h"
#include "base/state.h"

struct hull_create_opts {
    const char *root;            /* state root (--root) */
    const char *id;
    const char *bundle;          /* may be relative; default "." */
    const char *pid_file;
    const char *console_socket;
    bool want_console_master;    /* run -t with no socket */
    bool no_pivot, no_new_keyring;
    int preserve_fds;
    bool force_vm;               /* --vm / hull-vm */
    /* `hull run IMAGE --vm`: the image's cached rootfs image (<data>/vm/images/), used as
     * the guest's read-only root instead of one built from the bundle's rootfs. Set only by
     * hull's own image path, never from config.json: a bundle cannot name a cache entry. */
    const char *vm_root_image;
};

struct hull_created {
    pid_t pid;
    int console_master;          /* -1 unless want_console_master */
};

int hull_container_create(const struct hull_create_opts *o, struct hull_created *out, struct hull_err *err);
/* Releases a created container; runs the poststart hooks: a failure warns, or,
 * for a config.json of runtime-spec >= 1.3, fails start and stops the container. */
int hull_container_start(const char *root, const char *id, struct hull_err *err);
/* Signals the init (or, with all, every process in the cgroup). A stopped
 * container is an error, as in runc. */
int hull_container_kill(const char *root, const char *id, int sig, bool all, struct hull_err *err);
/* Removes a stopped container (force: kill it first): cgroup, state, then the
 * poststop hooks (failures warn). */
int hull_container_delete(const char *root, const char *id, bool force, struct hull_err *err);

/* state: fills *st (caller releases) and *status. */
int hull_container_state(const char *root, const char *id, struct hull_state *st, enum hull_status *status,
                         struct hull_err *err);

struct hull_exec_opts {
    const char *root, *id;
    struct hull_spec *process_owner;     /* holds the process (from --process or built by the CLI) */
    const struct hull_process *process;
    const char *console_socket;
    bool want_console_master;
    const char *pid_file;
    int preserve_fds;
};
int hull_container_exec(const struct hull_exec_opts *o, pid_t *pid, int *console_master, struct hull_err *err);

/* Writes the pid to path atomically (pid-file semantics of runc). */
int hull_write_pid_file(const char *path, pid_t pid, struct hull_err *err);


/* pause (freeze the cgroup, wait until frozen) / resume; runc's rules: a
 * running or created container pauses, only a paused one resumes. */
int hull_container_pause(const char *root, const char *id, bool pause, struct hull_err *err);
/* Applies the fields set in res to the running container's cgroup. */
int hull_container_update(const char *root, const char *id, const struct hull_resources *res, struct hull_err *err);
/* The container's processes (malloc'd): host pids from its cgroup, or, where
 * the executor knows them itself (*guest: a microVM's agent), its own. */
int hull_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, bool *guest, struct hull_err *err);
struct hull_cgroup_stats;
int hull_container_stats(const char *root, const char *id, struct hull_cgroup_stats *stats, enum hull_status *status,
                         struct hull_err *err);

/* The config a container was created with (saved at create). */
int hull_container_config(const char *root, const char *id, struct hull_spec **spec, struct hull_err *err);

#endif
