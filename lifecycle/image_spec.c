/* Image config + `hull run` flags -> config.json (see image_spec.h for what
 * comes from where). Docker's semantics are the reference because that is what
 * users' images and scripts were written against; each deviation says why. */
#include "lifecycle/image_spec.h"

#include <ctype.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "linux/process.h"
#include "lifecycle/default_profile.h"
#include "base/fsutil.h"
#include "base/json_gen.h"
#include "lifecycle/image_user.h"
#include "base/spec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CPU_PERIOD 100000
#define NOFILE_MAX 1048576ULL            /* docker's default nofile; more only costs kernel memory */
#define CAPBIT(c) (UINT64_C(1) << (c))

/* ---- small growable string vector ------------------------------------------ */

struct strv { char **v; size_t n, cap; };

static void strv_free(struct strv *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* Takes ownership of p (which may be NULL only on a failed allocation). */
static int strv_take(struct strv *s, char *p, struct hull_err *err) {
    if (!p) return hull_err_set(err, ENOMEM, "out of memory");
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v) { free(p); return hull_err_set(err, ENOMEM, "out of memory"); }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = p;
    return 0;
}

static int strv_add(struct strv *s, const char *p, struct hull_err *err) { return strv_take(s, strdup(p), err); }

/* Sets K=V, replacing an existing K in place (docker keeps the first position). */
static int env_put(struct strv *env, char *kv, struct hull_err *err) {
    size_t klen = strcspn(kv, "=");
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], kv, klen) == 0 && env->v[i][klen] == '=') {
            free(env->v[i]);
            env->v[i] = kv;
            return 0;
        }
    return strv_take(env, kv, err);
}

static bool env_has(const struct strv *env, const char *key) {
    size_t klen = strlen(key);
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], key, klen) == 0 && env->v[i][klen] == '=') return true;
    return false;
}

/* A user-given entry: "K=V" as is, "K" alone from hull's own environment
 * (dropped when unset, as docker does). what/line name the source in errors. */
static int env_user(struct strv *env, const char *e, const char *what, size_t line, struct hull_err *err) {
    size_t klen = strcspn(e, "=");
    if (klen == 0) return hull_err_set(err, EINVAL, "%s:%zu: \"%.100s\": empty variable name", what, line, e);
    for (size_t i = 0; i < klen; i++)
        if (isspace((unsigned char)e[i]))
            return hull_err_set(err, EINVAL, "%s:%zu: variable name \"%.*s\" contains whitespace", what,
                                line, (int)(klen > 100 ? 100 : klen), e);
    if (e[klen] == '=') return env_put(env, strdup(e), err);
    const char *v = getenv(e);
    if (!v) return 0;
    char *kv;
    if (asprintf(&kv, "%s=%s", e, v) < 0) return hull_err_set(err, ENOMEM, "out of memory");
    return env_put(env, kv, err);
}

/* ---- capabilities ----------------------------------------------------------- */

/* docker's order: add ALL = everything but the drops; drop ALL = only the
 * adds; otherwise default - drops + adds. */
static int compute_caps(const struct hull_run_opts *o, uint64_t *out, struct hull_err *err) {
    uint64_t all = hull_cap_last() >= 63 ? UINT64_MAX : CAPBIT(hull_cap_last() + 1) - 1;
    uint64_t add = 0, drop = 0;
    bool add_all = false, drop_all = false;
    for (size_t k = 0; k < 2; k++) {
        char **v = k ? o->cap_drop : o->cap_add;
        size_t n = k ? o->n_cap_drop : o->n_cap_add;
        for (size_t i = 0; i < n; i++) {
            int c = hull_cap_parse_loose(v[i]);
            if (c < -1)
                return hull_err_set(err, EINVAL, "--cap-%s: unknown capability \"%.64s\"", k ? "drop" : "add",
                                    v[i]);
            if (c == -1) *(k ? &drop_all : &add_all) = true;
            else *(k ? &drop : &add) |= CAPBIT(c);
        }
    }
    if (add_all) *out = all & ~drop;
    else if (drop_all) *out = add;
    else *out = ((hull_default_caps() & ~drop) | add) & all;
    return 0;
}

/* ---- JSON output ------------------------------------------------------------- */

/* A struct jg_doc (base/json_gen.h): any failed call (invalid UTF-8 from an
 * image, generator misuse) marks the document bad; checked once at the end. */

static void k_caps(struct jg_doc *x, const char *k, uint64_t caps) {
    jd_str(x, k);
    jd_chk(x, yajl_gen_array_open(x->g));
    for (int c = 0; c <= hull_cap_last(); c++)
        if ((caps & CAPBIT(c)) && hull_cap_name(c)) jd_str(x, hull_cap_name(c));
    jd_chk(x, yajl_gen_array_close(x->g));
}

static int load_seccomp_file(const char *path, uint64_t caps, yajl_val *out, struct hull_err *err) {
    char *text = hull_read_small_file(path, "seccomp profile", NULL, err);
    if (!text) return -err->code;
    char what[300];
    snprintf(what, sizeof what, "seccomp profile %.250s", path);
    int rc = hull_seccomp_profile_parse(text, what, caps, out, err);
    free(text);
    return rc;
}

/* ---- the document ------------------------------------------------------------ */

static void gen_mount(struct jg_doc *x, const char *dest, const char *type, const char *src,
                      const char *const *opts) {
    jd_chk(x, yajl_gen_map_open(x->g));
    jd_kstr(x, "destination", dest);
    jd_kstr(x, "type", type);
    jd_kstr(x, "source", src);
    size_t n = 0;
    while (opts && opts[n]) n++;
    if (n) jd_kstrn(x, "options", (char *const *)opts, n);
    jd_close(x);
}

static bool volume_covers(const struct hull_run_opts *o, const char *dest) {
    for (size_t i = 0; i < o->n_volumes; i++)
        if (strcmp(o->volumes[i].ctr, dest) == 0) return true;
    return false;
}

/* The default filesystems (as runc's and docker's): /sys and cgroup read-only. */
static const struct { const char *dest, *type, *src; const char *const *opts; } default_mounts[] = {
    { "/proc", "proc", "proc", (const char *const[]){ "nosuid", "noexec", "nodev", NULL } },
    { "/dev", "tmpfs", "tmpfs", (const char *const[]){ "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
    { "/dev/pts", "devpts", "devpts",
      (const char *const[]){ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
    { "/dev/shm", "tmpfs", "shm", (const char *const[]){ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
    { "/dev/mqueue", "mqueue", "mqueue", (const char *const[]){ "nosuid", "noexec", "nodev", NULL } },
    { "/sys", "sysfs", "sysfs", (const char *const[]){ "nosuid", "noexec", "nodev", "ro", NULL } },
    { "/sys/fs/cgroup", "cgroup", "cgroup",
      (const char *const[]){ "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

static void gen_mounts(struct jg_doc *x, const struct hull_run_opts *o) {
    jd_str(x, "mounts");
    jd_chk(x, yajl_gen_array_open(x->g));
    /* A -v onto a default destination replaces that default, as in docker. */
    for (size_t i = 0; i < sizeof default_mounts / sizeof default_mounts[0]; i++) {
        const typeof(default_mounts[0]) *d = &default_mounts[i];
        if (!volume_covers(o, d->dest)) gen_mount(x, d->dest, d->type, d->src, d->opts);
    }
    /* name resolution files from net/ (writable, as in docker) */
    const struct { const char *src, *dest; } etc[] = {
        { o->etc_hosts, "/etc/hosts" }, { o->etc_resolv, "/etc/resolv.conf" }, { o->etc_hostname, "/etc/hostname" },
    };
    for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++) {
        const char *opts[] = { "rbind", "rprivate", NULL };
        if (etc[i].src && *etc[i].src && !volume_covers(o, etc[i].dest)) gen_mount(x, etc[i].dest, "bind", etc[i].src, opts);
    }
    for (size_t i = 0; i < o->n_volumes; i++) {
        /* rprivate: mounts made inside later do not propagate back to the host. */
        const char *rw[] = { "rbind", "rprivate", NULL }, *ro[] = { "rbind", "rprivate", "ro", NULL };
        gen_mount(x, o->volumes[i].ctr, "bind", o->volumes[i].host, o->volumes[i].ro ? ro : rw);
    }
    jd_chk(x, yajl_gen_array_close(x->g));
}

static int check_volumes(const struct hull_run_opts *o, struct hull_err *err) {
    for (size_t i = 0; i < o->n_volumes; i++) {
        const struct hull_run_volume *v = &o->volumes[i];
        struct stat st;
        if (!v->host || v->host[0] != '/')
            return hull_err_set(err, EINVAL, "volume \"%.200s\": host path must be absolute", v->host ? v->host : "");
        if (stat(v->host, &st) < 0) return hull_err_sys(err, "volume \"%.200s\": host path", v->host);
        if (!v->ctr || v->ctr[0] != '/' || v->ctr[strspn(v->ctr, "/")] == '\0')
            return hull_err_set(err, EINVAL, "volume \"%.200s\": container path \"%.200s\" must be absolute "
                                "and not \"/\"", v->host, v->ctr ? v->ctr : "");
    }
    return 0;
}

/* args: see image_spec.h. */
static int build_args(const struct hull_image_config *img, const struct hull_run_opts *o, struct strv *args,
                      struct hull_err *err) {
    int rc = 0;
    if (o->entrypoint) {
        if (*o->entrypoint) rc = strv_add(args, o->entrypoint, err);
    } else {
        for (size_t i = 0; i < img->n_entrypoint && rc == 0; i++) rc = strv_add(args, img->entrypoint[i], err);
    }
    if (o->n_cmd) {
        for (size_t i = 0; i < o->n_cmd && rc == 0; i++) rc = strv_add(args, o->cmd[i], err);
    } else if (!o->entrypoint) {
        for (size_t i = 0; i < img->n_cmd && rc == 0; i++) rc = strv_add(args, img->cmd[i], err);
    }
    if (rc == 0 && (args->n == 0 || args->v[0][0] == '\0'))
        rc = hull_err_set(err, EINVAL, "no command: the image has no Entrypoint or Cmd and none was given");
    return rc;
}

static int build_env(const struct hull_image_config *img, const struct hull_run_opts *o, const char *hostname,
                     struct strv *env, struct hull_err *err) {
    int rc = 0;
    /* The image's "K" without '=' is dropped: an image must not read hull's environment. */
    for (size_t i = 0; i < img->n_env && rc == 0; i++)
        if (strchr(img->env[i], '=') && img->env[i][0] != '=') rc = env_put(env, strdup(img->env[i]), err);
    if (rc == 0 && o->env_file) {
        char *text = hull_read_small_file(o->env_file, "--env-file", NULL, err);
        if (!text) return -err->code;
        size_t lineno = 0;
        for (char *line = text, *next; line && rc == 0; line = next) {
            next = strchr(line, '\n');
            if (next) *next++ = '\0';
            lineno++;
            size_t n = strlen(line);
            if (n && line[n - 1] == '\r') line[--n] = '\0';
            while (isspace((unsigned char)*line)) line++;
            if (*line == '\0' || *line == '#') continue;
            rc = env_user(env, line, o->env_file, lineno, err);
        }
        free(text);
    }
    for (size_t i = 0; i < o->n_env && rc == 0; i++) rc = env_user(env, o->env[i], "-e", i + 1, err);
    if (rc == 0 && !env_has(env, "PATH")) rc = strv_add(env, DEFAULT_PATH, err);
    if (rc == 0 && !env_has(env, "HOSTNAME")) {
        char *kv;
        rc = asprintf(&kv, "HOSTNAME=%s", hostname) < 0 ? hull_err_set(err, ENOMEM, "out of memory")
                                                          : strv_take(env, kv, err);
    }
    if (rc == 0 && o->tty && !env_has(env, "TERM")) rc = strv_add(env, "TERM=xterm", err);
    return rc;
}

static bool derived_key(const char *k) {
    return strncmp(k, "run.oci.", 8) == 0 || strncmp(k, "io.hull.", 8) == 0 ||
           strcmp(k, "org.opencontainers.image.stopSignal") == 0 ||
           strcmp(k, "org.opencontainers.image.exposedPorts") == 0;
}

static void gen_annotations(struct jg_doc *x, const struct hull_image_config *img, const struct hull_run_opts *o) {
    jd_kopen(x, "annotations");
    /* Labels under run.oci./io.hull. would let an image steer the runtime
     * (run.oci.handler picks the executor): those keys are ours alone. */
    for (size_t i = 0; i < img->n_labels; i++)
        if (img->labels[i].key && img->labels[i].value && !derived_key(img->labels[i].key))
            jd_kstr(x, img->labels[i].key, img->labels[i].value);
    if (img->stop_signal && *img->stop_signal) jd_kstr(x, "org.opencontainers.image.stopSignal", img->stop_signal);
    if (img->n_exposed_ports) {
        size_t len = 1;
        for (size_t i = 0; i < img->n_exposed_ports; i++) len += strlen(img->exposed_ports[i]) + 1;
        char *j = calloc(1, len);
        for (size_t i = 0; j && i < img->n_exposed_ports; i++) {
            if (i) strcat(j, ",");
            strcat(j, img->exposed_ports[i]);
        }
        if (j) jd_kstr(x, "org.opencontainers.image.exposedPorts", j);
        else x->bad = true;
        free(j);
    }
    if (img->ref.name[0]) {
        char ref[400];
        snprintf(ref, sizeof ref, "%s:%s", img->ref.name, img->ref.tag[0] ? img->ref.tag : "latest");
        jd_kstr(x, "io.hull.image.ref", ref);
    }
    if (img->ref.digest[0]) jd_kstr(x, "io.hull.image.digest", img->ref.digest);
    if (o->name && *o->name) jd_kstr(x, "io.hull.container.name", o->name);
    if (o->vm) jd_kstr(x, "run.oci.handler", "vm");
    jd_close(x);
}

/* RLIMIT_NOFILE: docker's 1048576, never above our own hard limit (without
 * CAP_SYS_RESOURCE setrlimit could not raise it and create would fail). */
static unsigned long long nofile_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return 1024;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > NOFILE_MAX) return NOFILE_MAX;
    return rl.rlim_max;
}

static void gen_process(struct jg_doc *x, const struct hull_run_opts *o, const struct strv *args,
                        const struct strv *env, const char *cwd, const struct hull_ids *ids, uint64_t caps) {
    jd_kopen(x, "process");
    jd_kbool(x, "terminal", o->tty);
    jd_kopen(x, "user");
    jd_kint(x, "uid", ids->uid);
    jd_kint(x, "gid", ids->gid);
    if (ids->n_sgids) {
        jd_str(x, "additionalGids");
        jd_chk(x, yajl_gen_array_open(x->g));
        for (size_t i = 0; i < ids->n_sgids; i++) jd_chk(x, yajl_gen_integer(x->g, ids->sgids[i]));
        jd_chk(x, yajl_gen_array_close(x->g));
    }
    jd_close(x);
    jd_kstrn(x, "args", args->v, args->n);
    jd_kstrn(x, "env", env->v, env->n);
    jd_kstr(x, "cwd", cwd);
    /* A non-root user keeps no effective caps after exec anyway; inheritable
     * and ambient stay empty so nothing leaks into setuid-less children. */
    jd_kopen(x, "capabilities");
    k_caps(x, "bounding", caps);
    k_caps(x, "effective", caps);
    k_caps(x, "permitted", caps);
    jd_close(x);
    jd_str(x, "rlimits");
    jd_chk(x, yajl_gen_array_open(x->g));
    jd_chk(x, yajl_gen_map_open(x->g));
    unsigned long long nofile = nofile_limit();
    jd_kstr(x, "type", "RLIMIT_NOFILE");
    jd_kint(x, "hard", (long long)nofile);
    jd_kint(x, "soft", (long long)nofile);
    jd_close(x);
    jd_chk(x, yajl_gen_array_close(x->g));
    /* docker's default: setuid binaries (su, sudo, ping without file caps)
     * keep working; the bounding set and seccomp still confine them. */
    jd_kbool(x, "noNewPrivileges", false);
    jd_close(x);
}

/* cpus * period, rounded (no libm: the library links without -lm). */
static long long cpu_quota(double cpus) { return (long long)(cpus * CPU_PERIOD + 0.5); }

static void gen_linux(struct jg_doc *x, const struct hull_run_opts *o, uint64_t caps, yajl_val seccomp_file) {
    static const char *const ns[] = { "pid", "ipc", "uts", "mount", "cgroup", "network" };
    jd_kopen(x, "linux");
    jd_kopen(x, "resources");
    jd_str(x, "devices");                     /* deny all; the runtime adds the standard nodes */
    jd_chk(x, yajl_gen_array_open(x->g));
    jd_chk(x, yajl_gen_map_open(x->g));
    jd_kbool(x, "allow", false);
    jd_kstr(x, "access", "rwm");
    jd_close(x);
    jd_chk(x, yajl_gen_array_close(x->g));
    if (o->memory > 0) { jd_kopen(x, "memory"); jd_kint(x, "limit", o->memory); jd_close(x); }
    if (o->cpus > 0) {
        jd_kopen(x, "cpu");
        jd_kint(x, "quota", cpu_quota(o->cpus));
        jd_kint(x, "period", CPU_PERIOD);
        jd_close(x);
    }
    if (o->pids_limit) { jd_kopen(x, "pids"); jd_kint(x, "limit", o->pids_limit > 0 ? o->pids_limit : -1); jd_close(x); }
    jd_close(x);
    jd_str(x, "namespaces");
    jd_chk(x, yajl_gen_array_open(x->g));
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        if (strcmp(ns[i], "network") == 0 && o->host_network) continue;
        jd_chk(x, yajl_gen_map_open(x->g));
        jd_kstr(x, "type", ns[i]);
        if (strcmp(ns[i], "network") == 0 && o->network_ns_path) jd_kstr(x, "path", o->network_ns_path);
        jd_close(x);
    }
    jd_chk(x, yajl_gen_array_close(x->g));
    size_t nm = 0, nr = 0;
    while (hull_default_masked_paths[nm]) nm++;
    while (hull_default_readonly_paths[nr]) nr++;
    jd_kstrn(x, "maskedPaths", (char *const *)hull_default_masked_paths, nm);
    jd_kstrn(x, "readonlyPaths", (char *const *)hull_default_readonly_paths, nr);
    if (seccomp_file) { jd_str(x, "seccomp"); x->bad |= !hull_seccomp_profile_gen(x->g, seccomp_file, caps); }
    else if (!o->seccomp) { jd_str(x, "seccomp"); hull_default_seccomp_gen(x->g, caps); }
    jd_close(x);
}

static int check_opts(const struct hull_run_opts *o, const char *hostname, struct hull_err *err) {
    if (o->workdir && o->workdir[0] != '/')
        return hull_err_set(err, EINVAL, "-w \"%.200s\": the working directory must be an absolute path", o->workdir);
    if (o->memory < 0) return hull_err_set(err, EINVAL, "--memory: must not be negative");
    if (o->cpus < 0 || isnan(o->cpus) || o->cpus > 1e6)
        return hull_err_set(err, EINVAL, "--cpus: %g is out of range", o->cpus);
    if (o->cpus > 0 && cpu_quota(o->cpus) < 1000)
        return hull_err_set(err, EINVAL, "--cpus: %g is below the minimum of 0.01", o->cpus);
    if (!*hostname || strlen(hostname) > 64)
        return hull_err_set(err, EINVAL, "--hostname \"%.100s\": must be 1 to 64 characters", hostname);
    if (o->network_ns_path && o->network_ns_path[0] != '/')
        return hull_err_set(err, EINVAL, "network namespace path \"%.200s\" must be absolute", o->network_ns_path);
    return check_volumes(o, err);
}

char *hull_image_spec_json(const struct hull_image_config *img, const struct hull_run_opts *o,
                           const char *rootfs_dir, struct hull_err *err) {
    struct strv args = { 0 }, env = { 0 };
    struct hull_ids ids = { 0 };
    yajl_val seccomp_file = NULL;
    struct jg_doc x = { 0 };
    struct hull_spec *spec = NULL;
    struct hull_err local_err;
    char *out = NULL, *cwd = NULL;
    int root_fd = -1, rc;
    uint64_t caps = 0;

    if (!err) err = &local_err;
    char host_buf[13] = "hull";
    if (o->id && *o->id) snprintf(host_buf, sizeof host_buf, "%s", o->id);
    const char *hostname = o->hostname ? o->hostname : host_buf;

    if ((rc = check_opts(o, hostname, err)) < 0 || (rc = build_args(img, o, &args, err)) < 0 ||
        (rc = build_env(img, o, hostname, &env, err)) < 0 || (rc = compute_caps(o, &caps, err)) < 0)
        goto out;
    const char *wd = o->workdir ? o->workdir : img->working_dir && *img->working_dir ? img->working_dir : "/";
    /* Image configs written by hand may hold a relative WorkingDir: docker anchors it at "/". */
    if (asprintf(&cwd, "%s%s", wd[0] == '/' ? "" : "/", wd) < 0) { cwd = NULL; goto oom; }
    if (rootfs_dir && (root_fd = open(rootfs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        rc = hull_err_sys(err, "rootfs %s", rootfs_dir);
        goto out;
    }
    if ((rc = hull_resolve_user(root_fd, o->user ? o->user : img->user, &ids, err)) < 0) goto out;
    if (o->seccomp && strcmp(o->seccomp, "unconfined") != 0 &&
        (rc = load_seccomp_file(o->seccomp, caps, &seccomp_file, err)) < 0)
        goto out;

    if (!(x.g = yajl_gen_alloc(NULL))) goto oom;
    yajl_gen_config(x.g, yajl_gen_beautify, 1);
    yajl_gen_config(x.g, yajl_gen_indent_string, "\t");
    yajl_gen_config(x.g, yajl_gen_validate_utf8, 1);
    jd_chk(&x, yajl_gen_map_open(x.g));
    jd_kstr(&x, "ociVersion", HULL_OCI_VERSION);
    gen_process(&x, o, &args, &env, cwd, &ids, caps);
    jd_kopen(&x, "root");
    jd_kstr(&x, "path", o->root_path ? o->root_path : rootfs_dir ? rootfs_dir : "rootfs");
    jd_kbool(&x, "readonly", o->read_only);
    jd_close(&x);
    jd_kstr(&x, "hostname", hostname);
    gen_mounts(&x, o);
    gen_annotations(&x, img, o);
    gen_linux(&x, o, caps, seccomp_file);
    jd_close(&x);
    if (!(out = jd_copy(&x, true, NULL))) {
        rc = hull_err_set(err, EINVAL, "config.json for the image: %s", x.bad ? "a string from the image config "
                          "or options is not valid UTF-8" : "out of memory");
        goto out;
    }
    /* Never hand out a document create would refuse. */
    if ((rc = hull_spec_parse(out, strlen(out), &spec, err)) == 0 && (rc = hull_spec_validate(spec, err)) == 0)
        rc = hull_seccomp_validate(&spec->linux.seccomp, err);
    hull_spec_free(spec);
    if (rc < 0) hull_err_prefix(err, "generated ");
    goto out;
oom:
    rc = hull_err_set(err, ENOMEM, "out of memory");
out:
    if (rc < 0) { free(out); out = NULL; }
    if (x.g) yajl_gen_free(x.g);
    if (seccomp_file) yajl_tree_free(seccomp_file);
    if (root_fd >= 0) close(root_fd);
    free(ids.sgids);
    free(cwd);
    strv_free(&args);
    strv_free(&env);
    return out;
}
