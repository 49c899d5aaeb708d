/* Shared between the parent half (linux_executor.c) and the init child
 * (init_child.c) of the shared-kernel executor. */
#ifndef HULL_LINUX_EXECUTOR_INTERNAL_H
#define HULL_LINUX_EXECUTOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/executor.h"

struct hull_init_args {
    const struct hull_create_req *req;
    int sync_fd;                 /* child's end of the socketpair */
    int listen_fd;               /* exec.sock, accept() == start */
    int join_fds[HULL_NS__COUNT];/* namespaces joined by path, -1 otherwise (pid/time: done by parent) */
    bool new_userns;
    uint64_t unshare_flags;      /* new namespaces the child makes itself (cgroup; all when joining a userns) */
    pid_t parent_pid;
    int n_preserve;              /* preserve_fds + LISTEN_FDS */
    bool in_cgroup;              /* moved itself, or HULL_SYNC_CGROUP received */
    bool cgns_done;
    bool cloned_into_v2;         /* clone3(CLONE_INTO_CGROUP) placed it in the v2 dir */
    bool new_cgroupns;           /* unshare(CLONE_NEWCGROUP) once in the cgroup */
    int n_listen;                /* socket-activation fds passed on (LISTEN_FDS) */
};

/* The init child; never returns. */
void hull_init_child(struct hull_init_args *a) __attribute__((noreturn));

/* Unblocks every signal and restores default dispositions: whatever the
 * caller of hull ignored or blocked must not leak into the container. */
void hull_reset_signals(void);

/* Child side of joining the cgroup: moves itself (cheap, see
 * hull_cgroup_enter_self) or, where it may not, asks the parent to and waits. */
int hull_child_enter_cgroup(int sync_fd, struct hull_cgroup *cg, bool skip_v2, bool *in_cgroup,
                            struct hull_err *err);

/* Opens ns path and checks it is a namespace of the expected kind. */
int hull_ns_open(const char *path, enum hull_ns_type type, struct hull_err *err);
/* Writes /proc/PID/{uid_map,gid_map} (and setgroups when unprivileged). */
int hull_ns_write_idmaps(pid_t pid, const struct hull_linux *lx, struct hull_err *err);
/* Fails (like runc, at create time) when args[0] is not executable. */
int hull_process_check_exec(const struct hull_process *p, struct hull_err *err);
/* Writes process state for hooks run in the child (status "creating"). */
char *hull_init_state_json(const struct hull_create_req *req, pid_t host_pid, const char *status);

/* exec into a running container (linux_exec.c): the executor's ->exec. */
int hull_linux_exec(struct hull_exec_req *req, struct hull_err *err);

#endif
