/* One interface over cgroup v1, v2 and hybrid hosts. The driver is picked at run
 * time from /proc/self/mountinfo; callers never see which one. A struct
 * hull_cgroup names one container's cgroup (in every v1 hierarchy, or one v2
 * directory) and remembers which directories hull created, so destroy removes
 * exactly those (and the empty parents hull made), nothing else. */
#ifndef HULL_CGROUPS_CGROUP_H
#define HULL_CGROUPS_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/spec.h"

enum hull_cgroup_mode { HULL_CG_V1, HULL_CG_V2, HULL_CG_HYBRID };

struct hull_cgroup;   /* opaque */


/* Resolves cgroupsPath as runc does: absolute ("/a/b") is taken from each
 * hierarchy's root, relative is relative to the caller's own cgroup, NULL or
 * empty means "/hull/<id>". Rejects "..", and paths that leave the tree.
 * Does not touch the filesystem. */
int hull_cgroup_open(const char *cgroups_path, const char *id, struct hull_cgroup **out,
                     struct hull_err *err);
/* Records, before anything is made, the directories create will make (those
 * missing now), so that state written before create lets a later destroy
 * clean up after a crash in the middle of create. Optional. */
int hull_cgroup_plan(struct hull_cgroup *cg, struct hull_err *err);
/* Creates the directories (recording which ones are new) and applies resources. */
int hull_cgroup_create(struct hull_cgroup *cg, const struct hull_resources *r, struct hull_err *err);
/* Moves pid into the cgroup (every hierarchy). */
int hull_cgroup_enter(struct hull_cgroup *cg, pid_t pid, struct hull_err *err);
/* Moves the calling (single-threaded) process into the cgroup without the
 * global lock a pid move takes on v1; skip_v2 when it was cloned into the v2
 * dir already. Fails with EACCES/EPERM where the caller may not write the
 * host's cgroup files (e.g. inside a new user namespace): use _enter then. */
int hull_cgroup_enter_self(struct hull_cgroup *cg, bool skip_v2, struct hull_err *err);
/* O_DIRECTORY fd of the v2 dir for clone3(CLONE_INTO_CGROUP); -1 if none. */
int hull_cgroup_open_v2_dir(const struct hull_cgroup *cg);
int hull_cgroup_update(struct hull_cgroup *cg, const struct hull_resources *r, struct hull_err *err);
int hull_cgroup_freeze(struct hull_cgroup *cg, bool frozen, struct hull_err *err);
/* SIGKILL (or sig) to every process in the cgroup; with SIGKILL also waits
 * until it is empty (cgroup.kill on v2, freeze + kill + thaw on v1). */
int hull_cgroup_kill_all(struct hull_cgroup *cg, int sig, struct hull_err *err);
/* Lists pids (cgroup.procs), malloc'd array. */
int hull_cgroup_pids(struct hull_cgroup *cg, pid_t **pids, size_t *n, struct hull_err *err);
/* Removes the directories hull created (deepest first), retrying briefly on
 * EBUSY while the last processes exit. Safe to call on a half-created cgroup. */
int hull_cgroup_destroy(struct hull_cgroup *cg, struct hull_err *err);
void hull_cgroup_free(struct hull_cgroup *cg);

/* The v2 directory / v1 per-controller paths, for state and for mounting
 * /sys/fs/cgroup inside the container. Serialisable: hull_cgroup_to_json()
 * writes what hull_cgroup_from_json() needs to find the same cgroup later
 * (state file), including which directories hull created. */
char *hull_cgroup_to_json(const struct hull_cgroup *cg);
int hull_cgroup_from_json(const char *json, struct hull_cgroup **out, struct hull_err *err);


/* ---- stats (events --stats, OOM events); added by the cgroups work ----
 * Fields a hierarchy does not offer stay 0; limits read as UINT64_MAX when
 * unlimited. Times are nanoseconds. */
struct hull_cgroup_stats {
    struct {
        uint64_t usage_ns, user_ns, system_ns;
        uint64_t nr_periods, nr_throttled, throttled_ns;
    } cpu;
    struct {
        uint64_t usage, limit, max_usage, failcnt;
        uint64_t swap_usage, swap_limit;   /* swap only (v1: memsw minus memory) */
        uint64_t cache;
        uint64_t oom_kill;                 /* v1 memory.oom_control / v2 memory.events */
    } memory;
    struct {
        uint64_t current, limit;
    } pids;
};
int hull_cgroup_stats(struct hull_cgroup *cg, struct hull_cgroup_stats *st, struct hull_err *err);


#endif
