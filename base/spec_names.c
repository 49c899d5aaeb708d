/* Name tables of the spec: capabilities (from libcap), rlimits, namespaces,
 * and the small lookups over a parsed spec. */
#include "base/spec.h"

#include <ctype.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* ---- capabilities --------------------------------------------------------- */

#define CAP_SLOTS 64                 /* the spec's caps are kept as 64-bit masks */

/* Upper-case names built once from libcap's table: libcap hands out malloc'd
 * lower-case strings, and callers want static "CAP_SYS_ADMIN". */
static char cap_names[CAP_SLOTS][40];
static pthread_once_t cap_names_once = PTHREAD_ONCE_INIT;

static void cap_names_init(void) {
    for (int i = 0; i < CAP_SLOTS; i++) {
        char *n = cap_to_name((cap_value_t)i);
        /* libcap prints unknown numbers as digits: leave those slots empty. */
        if (n && strncasecmp(n, "cap_", 4) == 0) {
            size_t k = 0;
            for (; n[k] && k < sizeof cap_names[i] - 1; k++)
                cap_names[i][k] = (char)toupper((unsigned char)n[k]);
            cap_names[i][k] = '\0';
        }
        cap_free(n);
    }
}

int hull_cap_from_name(const char *name) {
    if (!name || strncmp(name, "CAP_", 4) != 0) return -EINVAL;
    cap_value_t v;
    if (cap_from_name(name, &v) != 0 || v < 0 || v >= CAP_SLOTS) return -EINVAL;
    /* libcap compares case-insensitively; the spec's names are upper case,
     * so "CAP_sys_admin" is as unknown to us as it is to runc. */
    pthread_once(&cap_names_once, cap_names_init);
    if (strcmp(cap_names[v], name) != 0) return -EINVAL;
    return (int)v;
}

const char *hull_cap_name(int cap) {
    if (cap < 0 || cap >= CAP_SLOTS) return NULL;
    pthread_once(&cap_names_once, cap_names_init);
    return cap_names[cap][0] ? cap_names[cap] : NULL;
}

int hull_cap_last(void) {
    int bits = (int)cap_max_bits();
    if (bits <= 0) bits = CAP_LAST_CAP + 1;
    if (bits > CAP_SLOTS) bits = CAP_SLOTS;
    return bits - 1;
}

/* ---- rlimits ---------------------------------------------------------------- */

static const struct { const char *name; int res; } rlimits[] = {
    { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
    { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
    { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
    { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
    { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
    { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
    { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
    { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int hull_rlimit_from_name(const char *name) {
    if (!name) return -EINVAL;
    for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++)
        if (strcmp(rlimits[i].name, name) == 0) return rlimits[i].res;
    return -EINVAL;
}

/* ---- namespaces ----------------------------------------------------------- */

static const struct { const char *spec, *proc; int flag; } ns_names[HULL_NS__COUNT] = {
    [HULL_NS_PID]     = { "pid", "pid", CLONE_NEWPID },
    [HULL_NS_NETWORK] = { "network", "net", CLONE_NEWNET },
    [HULL_NS_MOUNT]   = { "mount", "mnt", CLONE_NEWNS },
    [HULL_NS_IPC]     = { "ipc", "ipc", CLONE_NEWIPC },
    [HULL_NS_UTS]     = { "uts", "uts", CLONE_NEWUTS },
    [HULL_NS_USER]    = { "user", "user", CLONE_NEWUSER },
    [HULL_NS_CGROUP]  = { "cgroup", "cgroup", CLONE_NEWCGROUP },
    [HULL_NS_TIME]    = { "time", "time", CLONE_NEWTIME },
};

const char *hull_ns_type_name(enum hull_ns_type t) {
    return (unsigned)t < HULL_NS__COUNT ? ns_names[t].spec : NULL;
}

const char *hull_ns_proc_name(enum hull_ns_type t) {
    return (unsigned)t < HULL_NS__COUNT ? ns_names[t].proc : NULL;
}

int hull_ns_clone_flag(enum hull_ns_type t) {
    return (unsigned)t < HULL_NS__COUNT ? ns_names[t].flag : 0;
}

/* ---- lookups over a spec ------------------------------------------------- */

const char *hull_spec_annotation(const struct hull_spec *spec, const char *key) {
    if (!spec || !key) return NULL;
    for (size_t i = 0; i < spec->n_annotations; i++)
        if (strcmp(spec->annotations[i].key, key) == 0) return spec->annotations[i].value;
    return NULL;
}

const struct hull_namespace *hull_spec_namespace(const struct hull_spec *spec, enum hull_ns_type t) {
    if (!spec) return NULL;
    for (size_t i = 0; i < spec->linux.n_namespaces; i++)
        if (spec->linux.namespaces[i].type == t) return &spec->linux.namespaces[i];
    return NULL;
}
