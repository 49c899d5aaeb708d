/* The OCI runtime spec (config.json, 1.0.0 … 1.3.0) as typed C structs.
 *
 * The parser (spec_parse*.c) fills these from yajl's tree, checks every type and
 * every required field, and the validator (spec_validate.c) checks the
 * semantics (known namespace types, capability names, seccomp actions, paths)
 * before anything is created. Everything hangs off one arena owned by
 * struct hull_spec, so hull_spec_free() releases it all at once.
 *
 * Optional scalars use hull_opt_* (set == false means "absent in the JSON"),
 * because 0 is a meaningful value for most limits. Arrays are (pointer, count).
 */
#ifndef HULL_BASE_SPEC_H
#define HULL_BASE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* gnu17 predefines `linux` as 1; the spec's "linux" object is a field name here. */
#undef linux

/* The runtime-spec version hull writes: "ociVersion" of state, `hull spec`, the
 * config.json of `hull run` and the documents it checks on its own. */
#define HULL_OCI_VERSION "1.2.0"

typedef struct { bool set; int64_t v; } hull_opt_i64;
typedef struct { bool set; uint64_t v; } hull_opt_u64;
typedef struct { bool set; bool v; } hull_opt_bool;

struct hull_kv {            /* annotations, sysctl, unified, env-like maps */
    char *key;
    char *value;
};

/* ---- process ---------------------------------------------------------- */

struct hull_rlimit {
    char *type;             /* "RLIMIT_NOFILE" as written */
    int resource;           /* RLIMIT_NOFILE, resolved by the validator */
    uint64_t soft, hard;
};

struct hull_user {
    uint32_t uid, gid;
    hull_opt_u64 umask;
    uint32_t *additional_gids;
    size_t n_additional_gids;
    char *username;         /* windows only; kept for completeness */
};

/* Capability sets as bitmasks over CAP_* numbers (all < 64). `present` says
 * whether the set appeared in the JSON at all (absent inheritable/ambient
 * mean "empty", never "inherit"). */
struct hull_caps {
    bool present;           /* "capabilities" object present */
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

enum hull_sched_policy {
    HULL_SCHED_UNSET = -1,  /* values otherwise match SCHED_* */
};

struct hull_scheduler {
    bool present;
    int policy;             /* SCHED_OTHER, SCHED_FIFO, ... */
    int32_t nice;
    int32_t priority;
    uint64_t flags;         /* SCHED_FLAG_* bits */
    uint64_t runtime, deadline, period;
};

struct hull_io_priority {
    bool present;
    int klass;              /* IOPRIO_CLASS_RT/BE/IDLE */
    int priority;
};

struct hull_process {
    bool terminal;
    bool has_console_size;
    uint32_t console_height, console_width;
    struct hull_user user;
    char **args;            /* NULL-terminated too (args[n_args] == NULL) */
    size_t n_args;
    char *command_line;     /* windows only */
    char **env;             /* NULL-terminated too */
    size_t n_env;
    char *cwd;
    struct hull_caps caps;
    struct hull_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privileges;
    char *apparmor_profile;
    hull_opt_i64 oom_score_adj;
    char *selinux_label;
    struct hull_scheduler scheduler;
    struct hull_io_priority io_priority;
    char *exec_cpu_affinity_initial;   /* cpu list strings, 1.2 */
    char *exec_cpu_affinity_final;
};

/* ---- root, mounts, hooks ---------------------------------------------- */

struct hull_idmap {
    uint32_t container_id, host_id, size;
};

struct hull_mount {
    char *destination;
    char *type;             /* may be NULL ("bind" implied by options) */
    char *source;
    char **options;
    size_t n_options;
    struct hull_idmap *uid_mappings, *gid_mappings;   /* idmapped mounts, 1.2 */
    size_t n_uid_mappings, n_gid_mappings;
};

struct hull_hook {
    char *path;
    char **args;            /* NULL-terminated too */
    size_t n_args;
    char **env;             /* NULL-terminated too */
    size_t n_env;
    hull_opt_i64 timeout;   /* seconds, > 0 when set */
};

enum hull_hook_kind {
    HULL_HOOK_PRESTART,
    HULL_HOOK_CREATE_RUNTIME,
    HULL_HOOK_CREATE_CONTAINER,
    HULL_HOOK_START_CONTAINER,
    HULL_HOOK_POSTSTART,
    HULL_HOOK_POSTSTOP,
    HULL_HOOK__COUNT
};

struct hull_hooks {
    struct hull_hook *list[HULL_HOOK__COUNT];
    size_t n[HULL_HOOK__COUNT];
};

/* ---- linux ------------------------------------------------------------ */

enum hull_ns_type {
    HULL_NS_PID, HULL_NS_NETWORK, HULL_NS_MOUNT, HULL_NS_IPC,
    HULL_NS_UTS, HULL_NS_USER, HULL_NS_CGROUP, HULL_NS_TIME,
    HULL_NS__COUNT
};

struct hull_namespace {
    enum hull_ns_type type;
    char *path;             /* NULL: create a new one; else join by path */
};

struct hull_device {        /* linux.devices */
    char *path;
    char type;              /* 'c', 'b', 'u', 'p' */
    int64_t major, minor;
    hull_opt_u64 file_mode; /* permission bits */
    hull_opt_u64 uid, gid;
};

struct hull_device_rule {   /* linux.resources.devices */
    bool allow;
    char type;              /* 'a', 'c', 'b' ('a' when absent) */
    int64_t major, minor;   /* -1: wildcard */
    char *access;           /* subset of "rwm"; NULL means "rwm" */
};

struct hull_blkio_weight_dev {
    int64_t major, minor;
    hull_opt_u64 weight, leaf_weight;
};

struct hull_blkio_throttle_dev {
    int64_t major, minor;
    uint64_t rate;
};

struct hull_hugepage_limit {
    char *page_size;        /* "2MB" */
    uint64_t limit;
};

struct hull_net_priority {
    char *name;
    uint32_t priority;
};

struct hull_rdma_limit {
    char *device;
    hull_opt_u64 hca_handles, hca_objects;
};

struct hull_resources {
    bool present;
    struct hull_device_rule *devices;
    size_t n_devices;

    struct {
        bool present;
        hull_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
        hull_opt_u64 swappiness;
        hull_opt_bool disable_oom_killer, use_hierarchy, check_before_update;
    } memory;

    struct {
        bool present;
        hull_opt_u64 shares, period, realtime_period, burst;
        hull_opt_i64 quota, realtime_runtime, idle;
        char *cpus, *mems;
    } cpu;

    struct {
        bool present;
        hull_opt_i64 limit;  /* <= 0: unlimited, as runc */
    } pids;

    struct {
        bool present;
        hull_opt_u64 weight, leaf_weight;
        struct hull_blkio_weight_dev *weight_device;
        size_t n_weight_device;
        struct hull_blkio_throttle_dev *throttle_read_bps, *throttle_write_bps,
                                       *throttle_read_iops, *throttle_write_iops;
        size_t n_throttle_read_bps, n_throttle_write_bps,
               n_throttle_read_iops, n_throttle_write_iops;
    } block_io;

    struct hull_hugepage_limit *hugepage_limits;
    size_t n_hugepage_limits;

    struct {
        bool present;
        hull_opt_u64 class_id;
        struct hull_net_priority *priorities;
        size_t n_priorities;
    } network;

    struct hull_rdma_limit *rdma;
    size_t n_rdma;

    struct hull_kv *unified;
    size_t n_unified;
};

enum hull_seccomp_action {
    HULL_SCMP_KILL, HULL_SCMP_KILL_PROCESS, HULL_SCMP_KILL_THREAD, HULL_SCMP_TRAP,
    HULL_SCMP_ERRNO, HULL_SCMP_TRACE, HULL_SCMP_ALLOW, HULL_SCMP_LOG, HULL_SCMP_NOTIFY,
};

enum hull_seccomp_op {
    HULL_SCMP_CMP_NE, HULL_SCMP_CMP_LT, HULL_SCMP_CMP_LE, HULL_SCMP_CMP_EQ,
    HULL_SCMP_CMP_GE, HULL_SCMP_CMP_GT, HULL_SCMP_CMP_MASKED_EQ,
};

struct hull_seccomp_arg {
    uint32_t index;
    uint64_t value, value_two;
    enum hull_seccomp_op op;
};

struct hull_seccomp_rule {
    char **names;
    size_t n_names;
    enum hull_seccomp_action action;
    hull_opt_u64 errno_ret;
    struct hull_seccomp_arg *args;
    size_t n_args;
};

struct hull_seccomp {
    bool present;
    enum hull_seccomp_action default_action;
    hull_opt_u64 default_errno_ret;
    char **architectures;   /* "SCMP_ARCH_X86_64", as written */
    size_t n_architectures;
    char **flags;           /* "SECCOMP_FILTER_FLAG_LOG", ... */
    size_t n_flags;
    char *listener_path;
    char *listener_metadata;
    struct hull_seccomp_rule *syscalls;
    size_t n_syscalls;
};

struct hull_time_offset {
    bool present;
    int64_t secs;
    uint32_t nanosecs;
};

struct hull_personality {
    bool present;
    char *domain;           /* "LINUX" | "LINUX32" */
    char **flags;
    size_t n_flags;
};

struct hull_linux {
    bool present;
    struct hull_idmap *uid_mappings, *gid_mappings;
    size_t n_uid_mappings, n_gid_mappings;
    struct hull_kv *sysctl;
    size_t n_sysctl;
    struct hull_resources resources;
    char *cgroups_path;
    struct hull_namespace *namespaces;
    size_t n_namespaces;
    struct hull_device *devices;
    size_t n_devices;
    struct hull_seccomp seccomp;
    char *rootfs_propagation;   /* "private", "rslave", ... */
    char **masked_paths;
    size_t n_masked_paths;
    char **readonly_paths;
    size_t n_readonly_paths;
    char *mount_label;
    struct hull_time_offset time_boottime, time_monotonic;
    struct hull_personality personality;
    /* intelRdt and netDevices are accepted but not applied; the features JSON says so */
    bool has_intel_rdt;
    bool has_net_devices;
};

/* ---- the whole document ----------------------------------------------- */

struct hull_arena;

struct hull_spec {
    struct hull_arena *arena;
    char *oci_version;
    char *root_path;            /* as written ("rootfs", ".", "/abs") */
    bool root_readonly;
    bool has_process;
    struct hull_process process;
    char *hostname;
    char *domainname;
    struct hull_mount *mounts;
    size_t n_mounts;
    struct hull_hooks hooks;
    struct hull_kv *annotations;
    size_t n_annotations;
    struct hull_linux linux;
};

/* Parse config.json text. On failure returns <0 and err->msg reads like
 * "config.json: linux.namespaces[2].type: unknown namespace type \"foo\"". */
int hull_spec_parse(const char *json, size_t len, struct hull_spec **out, struct hull_err *err);
/* Semantic checks; everything create needs to refuse before touching the system. */
int hull_spec_validate(const struct hull_spec *spec, struct hull_err *err);
void hull_spec_free(struct hull_spec *spec);
static inline void hull_spec_freep(struct hull_spec **spec) { hull_spec_free(*spec); }
#define _cleanup_spec_ __attribute__((cleanup(hull_spec_freep)))

/* A standalone process object (`exec --process file.json`), allocated in the
 * spec's arena-style owner `*out_owner` (free with hull_spec_free). */
int hull_process_parse(const char *json, size_t len, struct hull_spec **out_owner,
                       struct hull_err *err);

/* A standalone linux.resources object (`update --resources FILE`), parsed into
 * (*out_owner)->linux.resources (free with hull_spec_free). */
int hull_resources_parse(const char *json, size_t len, struct hull_spec **out_owner, struct hull_err *err);

/* `hull spec [--rootless]`: the default config.json text (malloc'd, caller frees). */
char *hull_spec_default_json(bool rootless);

/* Lookups used everywhere. */
const char *hull_spec_annotation(const struct hull_spec *spec, const char *key);
const struct hull_namespace *hull_spec_namespace(const struct hull_spec *spec, enum hull_ns_type t);
const char *hull_ns_type_name(enum hull_ns_type t);   /* "pid", "network", ... */
const char *hull_ns_proc_name(enum hull_ns_type t);   /* "pid", "net", ... (/proc/PID/ns/) */
int hull_ns_clone_flag(enum hull_ns_type t);          /* CLONE_NEWPID, ... */

/* Capability names <-> numbers ("CAP_SYS_ADMIN"); <0 for unknown. Names are
 * resolved from libcap's table, so a cap newer than libcap is still unknown. */
int hull_cap_from_name(const char *name);
const char *hull_cap_name(int cap);          /* static storage */
int hull_cap_last(void);                     /* highest cap the running kernel knows */
/* rlimit names ("RLIMIT_NOFILE") -> RLIMIT_* ; <0 for unknown. */
int hull_rlimit_from_name(const char *name);

/* Arena used by the spec and by anyone building spec-like data. */
struct hull_arena *hull_arena_new(void);
/* NULL when out of memory (new, alloc; strdup/strndup of a non-NULL string). */
void *hull_arena_alloc(struct hull_arena *a, size_t size);   /* zeroed */
char *hull_arena_strdup(struct hull_arena *a, const char *s);
char *hull_arena_strndup(struct hull_arena *a, const char *s, size_t n);
void hull_arena_free(struct hull_arena *a);

#endif
