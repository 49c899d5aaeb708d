/* Applying process.* to the calling process, in the init child (after the
 * rootfs is final) and in `exec`. The order matters and is fixed here:
 *
 *   hull_process_apply_early()  rlimits, oom_score_adj, scheduler, ioPriority,
 *                               personality, umask
 *   hull_process_apply_identity() bounding set drop, setgroups/setresgid/setresuid
 *                               with PR_SET_KEEPCAPS, then effective/permitted/
 *                               inheritable via capset, then ambient
 *   hull_process_apply_final()  no_new_privs, seccomp (loaded last so the
 *                               filter does not have to allow the set-up calls;
 *                               when noNewPrivileges is false the filter is loaded
 *                               before the identity switch, as runc does, since it
 *                               then needs CAP_SYS_ADMIN) — the caller then
 *                               chdirs, closes fds and execs.
 */
#ifndef HULL_LINUX_PROCESS_H
#define HULL_LINUX_PROCESS_H

#include <stdbool.h>
#include "base/spec.h"

int hull_process_apply_early(const struct hull_spec *spec, const struct hull_process *p,
                             struct hull_err *err);
int hull_process_apply_identity(const struct hull_process *p, struct hull_err *err);
/* *notify_fd gets the seccomp user-notification fd when the filter uses
 * SCMP_ACT_NOTIFY, else -1. */
int hull_process_apply_final(const struct hull_spec *spec, const struct hull_process *p,
                             int *notify_fd, struct hull_err *err);

/* Seccomp pieces, also used by the validator and by tests. */
int hull_seccomp_validate(const struct hull_seccomp *s, struct hull_err *err);
/* Builds and loads the filter into the calling thread/process (the program
 * hull_seccomp_precompile() made for s, if any; else through libseccomp). */
int hull_seccomp_load(const struct hull_seccomp *s, int *notify_fd, struct hull_err *err);
/* Compiles s to its BPF program in the calling process, to be inherited by the
 * process forked next (the container's init, or an exec'd process) and loaded
 * there by hull_seccomp_load() without compiling again. The program is reused
 * from cache_dir (made 0700 if missing; NULL: no cache) when a container had
 * the same profile, else stored there. Returns 1 when it came from the cache,
 * 0 when compiled (or when s needs no precompiling: absent, or SCMP_ACT_NOTIFY
 * rules), <0 when the filter is invalid or does not compile. Cache trouble is
 * not an error. */
int hull_seccomp_precompile(const struct hull_seccomp *s, const char *cache_dir, struct hull_err *err);
/* Sends the notify fd to listenerPath with the container process state
 * (runtime spec "seccomp state" JSON) via SCM_RIGHTS. */
int hull_seccomp_send_listener(const char *listener_path, int notify_fd, const char *state_json,
                               struct hull_err *err);


/* chdir to process.cwd and verify (via fstat of "." vs the resolved path) that
 * the cwd is inside the container root, not a leaked host directory. */
int hull_process_chdir(const struct hull_process *p, struct hull_err *err);

/* execvpe with PATH taken from p->env (as runc): returns only on failure. */
int hull_process_exec(const struct hull_process *p, struct hull_err *err);

#endif
