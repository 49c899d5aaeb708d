/* Internal to cgroups/: the shape of struct hull_cgroup, the host layout, and
 * the small helpers the drivers share. Not included outside cgroups/ (tests
 * may include it to reach the pieces directly). */
#ifndef HULL_CGROUPS_CG_INTERNAL_H
#define HULL_CGROUPS_CG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroups/cgroup.h"
#include "base/error.h"

enum cg_kind { CG_V1, CG_V2 };

/* One mounted hierarchy, as found in /proc/self/mountinfo. */
struct cg_mount {
    enum cg_kind kind;
    char *controllers;   /* v1: "cpu,cpuacct", "name=systemd"; v2: "" */
    char *mountpoint;    /* "/sys/fs/cgroup/memory" */
    char *root;          /* hierarchy path the mount shows at its top ("/" normally) */
};

struct cg_host {
    enum hull_cgroup_mode mode;
    struct cg_mount *mounts; /* v1 hierarchies first, then at most one v2 */
    size_t n_mounts;
};

/* One directory of a container's cgroup: one per v1 hierarchy, one for v2. */
struct cg_dir {
    enum cg_kind kind;
    char *controllers;   /* copied from the mount */
    char *mountpoint;
    char *path;          /* absolute: mountpoint + path inside the hierarchy */
    char **created;      /* absolute dirs hull made, shallowest first */
    size_t n_created;
};

struct hull_cgroup {
    enum hull_cgroup_mode mode;
    struct cg_dir *dirs;
    size_t n_dirs;
    uint32_t bpf_prog_id;   /* v2 device program hull attached; 0 = none */
};

/* ---- detect (cg_detect.c) ---- */
const struct cg_host *cg_host_get(struct hull_err *err);
/* The calling process's cgroup in the hierarchy of m, relative to m's root
 * ("/" when at the top). malloc'd. */
int cg_self_path(const struct cg_mount *m, char **out, struct hull_err *err);
/* Does the comma-separated list contain the exact token? */
bool cg_list_has(const char *list, const char *token);

/* ---- lookups (cg_path.c) ---- */
/* The directory that owns a controller: the v1 hierarchy that mounts it,
 * else the v2 dir when its cgroup.controllers lists it. NULL otherwise. */
struct cg_dir *cg_owner(const struct hull_cgroup *cg, const char *controller);
struct cg_dir *cg_v2_dir(const struct hull_cgroup *cg);
/* The dir whose cgroup.procs best lists the container's processes. */
struct cg_dir *cg_primary_dir(const struct hull_cgroup *cg);
void cg_dir_clear(struct cg_dir *d);

/* ---- file helpers (cg_util.c) ---- */
/* Writes value to dir/file (no O_CREAT, no symlink following). Error text:
 * "cgroup <dir>: <file> = <value>: <strerror>". */
int cg_write(const char *dir, const char *file, const char *value, struct hull_err *err);
int cg_writef(const char *dir, const char *file, struct hull_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reads the whole file (NUL-terminated, malloc'd). */
int cg_read(const char *dir, const char *file, char **out, struct hull_err *err);
int cg_read_u64(const char *dir, const char *file, uint64_t *out, struct hull_err *err);
bool cg_file_exists(const char *dir, const char *file);
/* "key value" line lookup in a flat-keyed file (cpu.stat, memory.events...). */
bool cg_keyed(const char *text, const char *key, uint64_t *out);
/* mkdir every missing component of path below mountpoint without following
 * symlinks; appends the new ones to d->created. */
int cg_mkdir_tracked(struct cg_dir *d, struct hull_err *err);
/* Lists, without creating anything, the components of d->path that do not
 * exist yet, as if hull had made them (see hull_cgroup_plan). */
int cg_plan_tracked(struct cg_dir *d);
/* rmdir, retrying EBUSY for up to wait_ms; ENOENT counts as success. */
int cg_rmdir_retry(const char *path, int wait_ms, struct hull_err *err);
int cg_read_pids(const char *dir, pid_t **pids, size_t *n, struct hull_err *err);
void cg_sleep_ms(int ms);

/* ---- resources (cg_res*.c) ---- */
int cg_res_check(const struct hull_cgroup *cg, const struct hull_resources *r, struct hull_err *err);
int cg_res_apply(struct hull_cgroup *cg, const struct hull_resources *r, bool update,
                 struct hull_err *err);
int cg_res_v1_memory(const char *dir, const struct hull_resources *r, bool update, struct hull_err *err);
int cg_res_v1_cpu(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_v1_cpuset(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_v1_blkio(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_v1_devices(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_v1_net(const char *cls_dir, const char *prio_dir, const struct hull_resources *r,
                  struct hull_err *err);
int cg_res_v2_memory(const char *dir, const struct hull_resources *r, bool update, struct hull_err *err);
int cg_res_v2_cpu(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_v2_io(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_v2_unified(const char *dir, const struct hull_resources *r, struct hull_err *err);
/* Shared between v1 and v2: pids.max, hugetlb, rdma differ only in names. */
int cg_res_pids(const char *dir, const struct hull_resources *r, struct hull_err *err);
int cg_res_hugetlb(const char *dir, enum cg_kind kind, const struct hull_resources *r,
                   struct hull_err *err);
int cg_res_rdma(const char *dir, const struct hull_resources *r, struct hull_err *err);
/* v1 cpuset: a new cpuset cgroup starts with empty cpus/mems; copy the
 * parent's so tasks can join. */
int cg_v1_cpuset_inherit(const char *dir, struct hull_err *err);

/* ---- conversions shared by the v2 driver and tests ---- */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_to_io_weight(uint64_t w);

/* ---- BPF device filter (cg_bpf_devices.c) ---- */
/* Loads a BPF_PROG_TYPE_CGROUP_DEVICE program from the rules (last matching
 * rule wins, default deny) and attaches it to the cgroup2 dir with
 * BPF_F_ALLOW_MULTI; then detaches the program *prev_id (if any) so filters
 * are replaced, not stacked. On success *prev_id is the new program's id. */
int cg_bpf_devices_apply(const char *dir, const struct hull_device_rule *rules, size_t n,
                         uint32_t *prev_id, struct hull_err *err);
/* Number of instructions the generator emits (for tests); <0 on bad rules. */
int cg_bpf_devices_build(const struct hull_device_rule *rules, size_t n, void **insns,
                         size_t *n_insns, struct hull_err *err);

#endif
