/* The container state store: <root>/<id>/state.json (+ exec.sock while the
 * init waits for `start`). Every write is write-temp + rename under an flock
 * on the container directory, so concurrent hull invocations and a kill -9 at
 * any instant leave either the old or the new state, never a torn one. */
#ifndef HULL_BASE_STATE_H
#define HULL_BASE_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include "base/error.h"
#include "base/spec.h"

#define HULL_DEFAULT_ROOT "/run/hull"
#define HULL_ID_MAX 1024

/* What `state` reports; "creating" and "created" are also what is stored. */
enum hull_status { HULL_CREATING, HULL_CREATED, HULL_RUNNING, HULL_PAUSED, HULL_STOPPED };

struct hull_state {
    char id[HULL_ID_MAX];
    char bundle[PATH_MAX];
    char rootfs[PATH_MAX];
    char created[64];           /* RFC 3339, UTC, nanoseconds */
    char executor[16];          /* "linux" or "vm" */
    enum hull_status stored;    /* creating | created | running (after start) | stopped */
    pid_t pid;
    unsigned long long pid_start;   /* /proc/PID/stat starttime: guards against pid reuse */
    char *cgroup_json;          /* hull_cgroup_to_json() output, or NULL */
    struct hull_kv *annotations;
    size_t n_annotations;
};

const char *hull_status_name(enum hull_status s);

/* The state root when --root is not given: HULL_DEFAULT_ROOT, or
 * $XDG_RUNTIME_DIR/hull for a rootless caller (as runc and crun do, and as
 * rootless podman expects: it sets XDG_RUNTIME_DIR and passes no --root). A
 * caller is rootless when its euid is not 0, or when it is uid 0 of a user
 * namespace other than the initial one and $USER is not "root". Returns a
 * static buffer (or the constant). */
const char *hull_state_default_root(void);
/* True when the calling process is not in the initial user namespace. */
bool hull_in_user_namespace(void);

/* Validates an id (no "/", not "." or "..", printable, <= 1024 bytes). */
int hull_id_validate(const char *id, struct hull_err *err);

/* Creates <root> (0700) if needed and <root>/<id> exclusively; returns the
 * locked directory fd. EEXIST -> "container ID already exists". */
int hull_state_create_dir(const char *root, const char *id, int *dir_fd, struct hull_err *err);
/* Opens and locks <root>/<id>; ENOENT -> "container does not exist". */
int hull_state_open(const char *root, const char *id, int *dir_fd, struct hull_err *err);

int hull_state_write(int dir_fd, const struct hull_state *st, struct hull_err *err);
int hull_state_read(int dir_fd, struct hull_state *st, struct hull_err *err);
void hull_state_release(struct hull_state *st);

/* Copies annotations from the spec into st (malloc'd). */
void hull_state_set_annotations(struct hull_state *st, const struct hull_spec *spec);

/* The truthful status: a dead or reused pid is "stopped"; a live init still
 * waiting on exec.sock is "created"; paused if the cgroup is frozen. */
enum hull_status hull_state_status(int dir_fd, const struct hull_state *st);
/* Is st->pid still the process hull started? */
bool hull_state_pid_alive(const struct hull_state *st);
int hull_proc_starttime(pid_t pid, unsigned long long *start);

/* The runtime-spec state JSON ({ociVersion,id,status,pid,bundle,annotations}).
 * With `extra`, also "rootfs", "created", "owner" as `runc state` prints. */
char *hull_state_json(const struct hull_state *st, enum hull_status status, bool pretty, bool extra);

/* The runtime spec's "container process state" for a seccomp listener:
 * {ociVersion, fds: ["seccompFd"], pid, metadata, state: <state_json>}. */
char *hull_seccomp_process_state_json(const char *state_json, pid_t pid, const char *metadata);

/* Removes <root>/<id> and everything in it (dir_fd stays valid until closed). */
int hull_state_remove(const char *root, const char *id, struct hull_err *err);
/* malloc'd array of ids (sorted); *n set. */
int hull_state_list(const char *root, char ***ids, size_t *n, struct hull_err *err);

void hull_now_rfc3339(char *buf, size_t len);

#endif
