#include "lifecycle/container.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "base/device_rules.h"
#include "base/fsutil.h"
#include "base/hooks.h"
#include "linux/process.h"

int hull_write_pid_file(const char *path, pid_t pid, struct hull_err *err) {
    char abs[PATH_MAX], buf[32];
    if (snprintf(abs, sizeof abs, "%s", path) >= (int)sizeof abs) return hull_err_set(err, ENAMETOOLONG, "pid file path too long");
    char *slash = strrchr(abs, '/');
    const char *dir = ".", *name = abs;
    if (slash) { *slash = '\0'; dir = slash == abs ? "/" : abs; name = slash + 1; }
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return hull_err_sys(err, "pid file %s", path);
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    if (hull_write_file_atomic(dfd, name, buf, (size_t)n, 0644) < 0) return hull_err_sys(err, "write pid file %s", path);
    return 0;
}

static const struct hull_executor_ops *find_executor(const char *name, struct hull_err *err) {
    const struct hull_executor_ops *ex = hull_executor_find(name);
    if (!ex) hull_err_set(err, ENOTSUP, "executor %s: not built into this program", name);
    return ex;
}

/* "vm" for --vm (or the hull-vm name) and the annotation run.oci.handler=vm
 * (crun's handler annotation), else the shared-kernel "linux" one. */
static const struct hull_executor_ops *pick_executor(const struct hull_spec *spec, bool force_vm, struct hull_err *err) {
    const char *handler = hull_spec_annotation(spec, "run.oci.handler");
    return find_executor(force_vm || (handler && strcmp(handler, "vm") == 0) ? "vm" : "linux", err);
}

/* The executor that made an existing container (state.json "executor"). */
static const struct hull_executor_ops *executor_of(const struct hull_state *st, struct hull_err *err) {
    return find_executor(st->executor, err);
}

/* The config.json copied into the state dir at create: hooks and exec must see
 * the config the container was created with, even if the bundle changed. */
static int load_spec_at(int dir_fd, struct hull_spec **spec, struct hull_err *err) {
    size_t len;
    _cleanup_free_ char *text = hull_read_file_at(dir_fd, "config.json", 16 << 20, &len);
    if (!text) return hull_err_sys(err, "read saved config.json");
    int r = hull_spec_parse(text, len, spec, err);
    if (r < 0) return hull_err_prefix(err, "saved config.json: ");
    return 0;
}

struct create_run {
    const struct hull_create_opts *o;
    struct hull_state *st;
    const struct hull_spec *spec;
    int dir_fd;
};

static int on_created_runtime(void *opaque, pid_t pid, struct hull_err *err) {
    struct create_run *cr = opaque;
    cr->st->pid = pid;
    hull_proc_starttime(pid, &cr->st->pid_start);
    /* Recorded for the hooks' sake (they may call `hull state`). Without hooks
     * the write is skipped: if hull dies now, the init dies with it
     * (PDEATHSIG) and `delete --force` finds everything through the cgroup
     * already recorded. */
    const struct hull_hooks *h = &cr->spec->hooks;
    if (!h->n[HULL_HOOK_PRESTART] && !h->n[HULL_HOOK_CREATE_RUNTIME]) return 0;
    int r = hull_state_write(cr->dir_fd, cr->st, err);
    if (r < 0) return r;
    _cleanup_free_ char *json = hull_state_json(cr->st, HULL_CREATING, false, false);
    r = hull_hooks_run(HULL_HOOK_PRESTART, h->list[HULL_HOOK_PRESTART], h->n[HULL_HOOK_PRESTART], json, err);
    if (r < 0) return r;
    return hull_hooks_run(HULL_HOOK_CREATE_RUNTIME, h->list[HULL_HOOK_CREATE_RUNTIME], h->n[HULL_HOOK_CREATE_RUNTIME],
                          json, err);
}

static int resolve_paths(const struct hull_create_opts *o, const struct hull_spec *spec, char *bundle, char *rootfs,
                         struct hull_err *err) {
    if (!realpath(o->bundle && *o->bundle ? o->bundle : ".", bundle)) return hull_err_sys(err, "bundle %s", o->bundle);
    char tmp[PATH_MAX * 2];
    if (spec->root_path[0] == '/') snprintf(tmp, sizeof tmp, "%s", spec->root_path);
    else snprintf(tmp, sizeof tmp, "%s/%s", bundle, spec->root_path);
    if (!realpath(tmp, rootfs)) return hull_err_sys(err, "config.json: root.path: %s", tmp);
    struct stat sb;
    if (stat(rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return hull_err_set(err, ENOTDIR, "config.json: root.path: %s is not a directory", rootfs);
    return 0;
}

/* Whether the config asks for a limit that only a cgroup can enforce (device
 * rules do not count: see may_run_without_cgroup). */
static bool asks_for_limits(const struct hull_resources *r) {
    if (r->memory.limit.set || r->memory.reservation.set || r->memory.swap.set || r->memory.kernel.set ||
        r->memory.kernel_tcp.set || r->memory.swappiness.set || r->memory.disable_oom_killer.set)
        return true;
    if (r->cpu.shares.set || r->cpu.period.set || r->cpu.quota.set || r->cpu.realtime_period.set ||
        r->cpu.realtime_runtime.set || r->cpu.burst.set || r->cpu.idle.set || (r->cpu.cpus && *r->cpu.cpus) ||
        (r->cpu.mems && *r->cpu.mems))
        return true;
    if (r->pids.limit.set && r->pids.limit.v > 0) return true;
    if (r->block_io.weight.set || r->block_io.leaf_weight.set || r->block_io.n_weight_device ||
        r->block_io.n_throttle_read_bps || r->block_io.n_throttle_write_bps || r->block_io.n_throttle_read_iops ||
        r->block_io.n_throttle_write_iops)
        return true;
    return r->n_hugepage_limits || r->network.class_id.set || r->network.n_priorities || r->n_rdma || r->n_unified;
}

/* A rootless caller (rootless podman runs the runtime as uid 0 of its own user
 * namespace) may not make cgroups on a cgroup v1 host. As runc and crun do, the
 * container then runs in the caller's cgroup, provided it asks for no limit a
 * cgroup would enforce. Device rules are not such a limit here: in a user
 * namespace no device node can be made, only bound from the host with the
 * host's permissions. Any other failure, or a requested limit, stays an error. */
static bool may_run_without_cgroup(int r, const struct hull_spec *spec, struct hull_err *err) {
    if (r != -EACCES && r != -EPERM && r != -EROFS) return false;
    if (geteuid() == 0 && !hull_in_user_namespace()) return false;   /* real root: a real failure */
    if (!asks_for_limits(&spec->linux.resources)) return true;
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n,
             " (rootless: the config asks for resource limits, which need a cgroup this user may not create)");
    return false;
}

static int precompile_seccomp(const char *root, const struct hull_spec *spec, struct hull_err *err) {
    if (!spec->linux.seccomp.present) return 0;
    char dir[PATH_MAX];
    bool cache = snprintf(dir, sizeof dir, "%s/.seccomp-cache", root) < (int)sizeof dir;
    int r = hull_seccomp_precompile(&spec->linux.seccomp, cache ? dir : NULL, err);
    return r < 0 ? hull_err_prefix(err, "seccomp: ") : 0;
}

int hull_container_create(const struct hull_create_opts *o, struct hull_created *out, struct hull_err *err) {
    out->pid = -1;
    out->console_master = -1;
    int r = hull_id_validate(o->id, err);
    if (r < 0) return r;
    char bundle[PATH_MAX], rootfs[PATH_MAX];
    if (!realpath(o->bundle && *o->bundle ? o->bundle : ".", bundle))
        return hull_err_sys(err, "bundle %s", o->bundle ? o->bundle : ".");
    _cleanup_close_ int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0) return hull_err_sys(err, "bundle %s", bundle);
    size_t len;
    _cleanup_free_ char *text = hull_read_file_at(bfd, "config.json", 16 << 20, &len);
    if (!text) return hull_err_sys(err, "config.json: read %s/config.json", bundle);
    struct hull_spec *spec = NULL;
    if ((r = hull_spec_parse(text, len, &spec, err)) < 0) return r;
    if ((r = hull_spec_validate(spec, err)) < 0) goto out_spec;
    if (spec->linux.seccomp.present && (r = hull_seccomp_validate(&spec->linux.seccomp, err)) < 0) {
        hull_err_prefix(err, "config.json: linux.seccomp: ");
        goto out_spec;
    }
    if ((r = resolve_paths(o, spec, bundle, rootfs, err)) < 0) goto out_spec;
    const struct hull_executor_ops *ex = pick_executor(spec, o->force_vm, err);
    if (!ex) { r = -err->code; goto out_spec; }

    struct hull_cgroup *cg = NULL;
    if ((r = hull_cgroup_open(spec->linux.cgroups_path, o->id, &cg, err)) < 0) goto out_spec;

    int dir_fd = -1;
    if ((r = hull_state_create_dir(o->root, o->id, &dir_fd, err)) < 0) goto out_cg;
    struct hull_state st = {0};
    snprintf(st.id, sizeof st.id, "%s", o->id);
    snprintf(st.bundle, sizeof st.bundle, "%s", bundle);
    snprintf(st.rootfs, sizeof st.rootfs, "%s", rootfs);
    snprintf(st.executor, sizeof st.executor, "%s", ex->name);
    hull_now_rfc3339(st.created, sizeof st.created);
    st.stored = HULL_CREATING;
    hull_state_set_annotations(&st, spec);
    if ((r = hull_cgroup_plan(cg, err)) < 0) goto fail;
    st.cgroup_json = hull_cgroup_to_json(cg);
    /* Written before anything else exists, so a kill -9 from here on leaves a
     * record that `delete --force` can clean up. */
    if (hull_write_file_atomic(dir_fd, "config.json", text, len, 0600) < 0) {
        r = hull_err_sys(err, "save config.json");
        goto fail;
    }
    if ((r = hull_state_write(dir_fd, &st, err)) < 0) goto fail;
    /* The filter is compiled here, once, not in the init after the clone: see
     * linux/seccomp_cache.c. */
    if ((r = precompile_seccomp(o->root, spec, err)) < 0) goto fail;
    struct hull_resources res;
    if ((r = hull_effective_resources(spec, &res, err)) < 0) goto fail;
    if (ex->adjust_resources && (r = ex->adjust_resources(spec, &res, err)) < 0) goto fail;
    if ((r = hull_cgroup_create(cg, &res, err)) < 0) {
        if (!may_run_without_cgroup(r, spec, err)) goto fail;
        struct hull_err ignored;
        hull_cgroup_destroy(cg, &ignored);   /* whatever part of it was made */
        hull_cgroup_free(cg);
        cg = NULL;
    }
    free(st.cgroup_json);
    st.cgroup_json = cg ? hull_cgroup_to_json(cg) : NULL;   /* now records which directories hull made */
    if ((r = hull_state_write(dir_fd, &st, err)) < 0) goto fail;

    struct create_run cr = {.o = o, .st = &st, .spec = spec, .dir_fd = dir_fd};
    struct hull_create_req req = {
        .id = o->id, .bundle = bundle, .rootfs = rootfs, .spec = spec, .state_dir_fd = dir_fd, .cgroup = cg,
        .console_socket = o->console_socket, .want_console_master = o->want_console_master,
        .no_pivot = o->no_pivot, .no_new_keyring = o->no_new_keyring, .preserve_fds = o->preserve_fds,
        .vm_root_image = o->vm_root_image, .on_created_runtime = on_created_runtime, .opaque = &cr,
    };
    if ((r = ex->create(&req, err)) < 0) goto fail;
    st.pid = req.pid;
    hull_proc_starttime(req.pid, &st.pid_start);
    st.stored = HULL_CREATED;
    if ((r = hull_state_write(dir_fd, &st, err)) < 0) goto fail_kill;
    if (o->pid_file && (r = hull_write_pid_file(o->pid_file, req.pid, err)) < 0) goto fail_kill;
    out->pid = req.pid;
    out->console_master = req.console_master;
    hull_state_release(&st);
    close(dir_fd);
    hull_cgroup_free(cg);
    hull_spec_free(spec);
    return 0;

fail_kill:
    kill(req.pid, SIGKILL);
    if (req.console_master >= 0) close(req.console_master);
    if (ex->cleanup) ex->cleanup(dir_fd);
fail:;
    struct hull_err ignored;
    if (cg) {
        hull_cgroup_kill_all(cg, SIGKILL, &ignored);
        hull_cgroup_destroy(cg, &ignored);
    }
    hull_state_remove(o->root, o->id, &ignored);
    hull_state_release(&st);
    close(dir_fd);
out_cg:
    hull_cgroup_free(cg);
out_spec:
    hull_spec_free(spec);
    return r;
}

static int open_state(const char *root, const char *id, int *dir_fd, struct hull_state *st, struct hull_err *err) {
    int r = hull_state_open(root, id, dir_fd, err);
    if (r < 0) return r;
    r = hull_state_read(*dir_fd, st, err);
    if (r < 0) {
        close(*dir_fd);
        return r;
    }
    if (!st->id[0]) snprintf(st->id, sizeof st->id, "%s", id);
    return 0;
}

int hull_container_state(const char *root, const char *id, struct hull_state *st, enum hull_status *status,
                         struct hull_err *err) {
    int dir_fd;
    int r = open_state(root, id, &dir_fd, st, err);
    if (r < 0) return r;
    *status = hull_state_status(dir_fd, st);
    close(dir_fd);
    return 0;
}

/* Whether a failing poststart hook fails `start`, by the runtime-spec version
 * the container's config.json names. Up to 1.2: "If any `poststart` hook
 * fails, the runtime MUST log a warning, but the remaining hooks and lifecycle
 * continue as if the hook had succeeded." From 1.3 (#1262): "the runtime MUST
 * generate an error, stop the container, and continue the lifecycle at step
 * 12" (delete). So a config written for 1.2 keeps the warning it was written
 * against, one written for 1.3 or later gets the error. An ociVersion that
 * does not read as MAJOR.MINOR counts as the version hull writes (1.2.0). */
static bool poststart_failure_fails_start(const struct hull_spec *spec) {
    unsigned major, minor;
    const char *v = spec->oci_version;
    if (!v || sscanf(v, "%u.%u", &major, &minor) != 2) v = HULL_OCI_VERSION;
    if (sscanf(v, "%u.%u", &major, &minor) != 2) return false;
    return major > 1 || (major == 1 && minor >= 3);
}

/* The hooks that run after the container was made: poststart and poststop.
 * A failure is a warning and every remaining hook of the phase still runs
 * (runtime.md: "the remaining hooks and lifecycle continue as if the hook had
 * succeeded"), except a poststart failure under runtime-spec >= 1.3: then the
 * first failure is returned and the rest of the phase is not run (the
 * lifecycle continues at delete). */
static int run_late_hooks(int dir_fd, const struct hull_state *st, enum hull_hook_kind kind,
                          enum hull_status status, struct hull_err *err) {
    struct hull_spec *spec = NULL;
    struct hull_err lerr = {0};
    if (load_spec_at(dir_fd, &spec, &lerr) < 0) {
        if (lerr.code != ENOENT) hull_warn("%s hooks: %s", hull_hook_kind_name(kind), lerr.msg);
        return 0;
    }
    bool fatal = kind == HULL_HOOK_POSTSTART && poststart_failure_fails_start(spec);
    int r = 0;
    if (spec->hooks.n[kind]) {
        char *json = hull_state_json(st, status, false, false);
        for (size_t i = 0; i < spec->hooks.n[kind]; i++) {
            struct hull_err herr = {0};
            if (hull_hook_run(kind, i, &spec->hooks.list[kind][i], json ? json : "{}", &herr) == 0) continue;
            if (fatal) {
                r = hull_err_set(err, herr.code, "%s", herr.msg);
                break;
            }
            hull_warn("%s", herr.msg);
        }
        free(json);
    }
    hull_spec_free(spec);
    return r;
}

static void wait_dead(const struct hull_state *st, int ms);
static int signal_container(int dir_fd, const struct hull_state *st, enum hull_status s, int sig, bool all,
                            struct hull_err *err);

int hull_container_start(const char *root, const char *id, struct hull_err *err) {
    int dir_fd;
    struct hull_state st;
    int r = open_state(root, id, &dir_fd, &st, err);
    if (r < 0) return r;
    enum hull_status s = hull_state_status(dir_fd, &st);
    if (s != HULL_CREATED) {
        r = hull_err_set(err, EINVAL, "cannot start container \"%s\": it is %s, not created", id, hull_status_name(s));
        goto out;
    }
    /* No state write: "running" is "created" with exec.sock gone. */
    const struct hull_executor_ops *ex = executor_of(&st, err);
    if (!ex) { r = -err->code; goto out; }
    if ((r = ex->start(dir_fd, st.pid, err)) < 0) goto out;
    if ((r = run_late_hooks(dir_fd, &st, HULL_HOOK_POSTSTART, HULL_RUNNING, err)) < 0) {
        /* runtime-spec >= 1.3: the error, and the container stopped (left for
         * delete, which runs the poststop hooks) */
        struct hull_err kerr;
        if (signal_container(dir_fd, &st, HULL_RUNNING, SIGKILL, true, &kerr) < 0 && hull_state_pid_alive(&st))
            hull_warn("stop container \"%s\" after its poststart hook failed: %s", id, kerr.msg);
        wait_dead(&st, 2000);
    }
out:
    hull_state_release(&st);
    close(dir_fd);
    return r;
}

/* pidfd_send_signal after checking the start time: never signal a recycled pid. */
static int signal_init(const struct hull_state *st, int sig, struct hull_err *err) {
    int pfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
    if (pfd < 0) {
        if (errno == ESRCH) return hull_err_set(err, ESRCH, "container \"%s\" is not running", st->id);
        return hull_err_sys(err, "open process %d", (int)st->pid);
    }
    int r = 0;
    if (!hull_state_pid_alive(st)) r = hull_err_set(err, ESRCH, "container \"%s\" is not running", st->id);
    else if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
        r = hull_err_sys(err, "signal %d to container \"%s\"", sig, st->id);
    close(pfd);
    return r;
}

static int open_cgroup(const struct hull_state *st, struct hull_cgroup **cg, struct hull_err *err) {
    *cg = NULL;
    if (!st->cgroup_json) return 0;
    return hull_cgroup_from_json(st->cgroup_json, cg, err);
}

/* kill's work on an open state (start uses it too: it holds the state open). */
static int signal_container(int dir_fd, const struct hull_state *st, enum hull_status s, int sig, bool all,
                            struct hull_err *err) {
    const struct hull_executor_ops *ex = executor_of(st, err);
    if (!ex) return -err->code;
    int r;
    if (ex->signal && s != HULL_STOPPED) {
        r = ex->signal(dir_fd, sig, all, err);
        if (r == -ENOTCONN) r = signal_init(st, sig, err);
    } else if (all) {
        struct hull_cgroup *cg;
        if ((r = open_cgroup(st, &cg, err)) < 0) return r;
        if (cg) {
            r = hull_cgroup_kill_all(cg, sig, err);
            hull_cgroup_free(cg);
        } else if (s != HULL_STOPPED) {
            r = signal_init(st, sig, err);
        }
    } else {
        r = signal_init(st, sig, err);
    }
    return r;
}

int hull_container_kill(const char *root, const char *id, int sig, bool all, struct hull_err *err) {
    int dir_fd;
    struct hull_state st;
    int r = open_state(root, id, &dir_fd, &st, err);
    if (r < 0) return r;
    enum hull_status s = hull_state_status(dir_fd, &st);
    if (s == HULL_STOPPED && !all) {
        r = hull_err_set(err, ESRCH, "container \"%s\" is not running", id);
        goto out;
    }
    r = signal_container(dir_fd, &st, s, sig, all, err);
out:
    hull_state_release(&st);
    close(dir_fd);
    return r;
}

static void wait_dead(const struct hull_state *st, int ms) {
    for (int i = 0; i < ms && hull_state_pid_alive(st); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

int hull_container_delete(const char *root, const char *id, bool force, struct hull_err *err) {
    int dir_fd;
    struct hull_state st;
    int r = open_state(root, id, &dir_fd, &st, err);
    if (r < 0) return r;
    enum hull_status s = hull_state_status(dir_fd, &st);
    if (s != HULL_STOPPED && !force) {
        r = hull_err_set(err, EBUSY, "cannot delete container \"%s\" that is not stopped: %s", id,
                         hull_status_name(s));
        goto out;
    }
    struct hull_cgroup *cg = NULL;
    if ((r = open_cgroup(&st, &cg, err)) < 0) goto out;
    /* An executor this program lacks made nothing to release here (delete
     * must still remove the container). */
    struct hull_err xerr;
    const struct hull_executor_ops *ex = executor_of(&st, &xerr);
    if (ex && ex->cleanup) ex->cleanup(dir_fd);
    if (cg) {
        /* Every process, not just the init: exec'd processes and daemons too. */
        struct hull_err kerr;
        if (hull_cgroup_kill_all(cg, SIGKILL, &kerr) < 0 && s != HULL_STOPPED) signal_init(&st, SIGKILL, &kerr);
    } else if (s != HULL_STOPPED) {
        struct hull_err kerr;
        signal_init(&st, SIGKILL, &kerr);
    }
    wait_dead(&st, 2000);
    if (cg) {
        r = hull_cgroup_destroy(cg, err);
        hull_cgroup_free(cg);
        if (r < 0) goto out;
    }
    run_late_hooks(dir_fd, &st, HULL_HOOK_POSTSTOP, HULL_STOPPED, err);
    r = hull_state_remove(root, id, err);
out:
    hull_state_release(&st);
    close(dir_fd);
    return r;
}

int hull_container_exec(const struct hull_exec_opts *o, pid_t *pid, int *console_master, struct hull_err *err) {
    int dir_fd;
    struct hull_state st;
    int r = open_state(o->root, o->id, &dir_fd, &st, err);
    if (r < 0) return r;
    struct hull_spec *spec = NULL;
    struct hull_cgroup *cg = NULL;
    int unlocked_fd = -1;
    enum hull_status s = hull_state_status(dir_fd, &st);
    if (s != HULL_RUNNING && s != HULL_CREATED) {
        r = hull_err_set(err, EINVAL, "cannot exec in container \"%s\": it is %s", o->id, hull_status_name(s));
        goto out;
    }
    if ((r = load_spec_at(dir_fd, &spec, err)) < 0) goto out;
    if ((r = open_cgroup(&st, &cg, err)) < 0) goto out;
    if ((r = precompile_seccomp(o->root, spec, err)) < 0) goto out;
    /* Release the lock: the exec'd process may run for long and other verbs
     * (kill, state) must not wait for it. A new open of the directory carries
     * no lock (flock belongs to the open file description). */
    unlocked_fd = openat(dir_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    close(dir_fd);
    dir_fd = -1;
    if (unlocked_fd < 0) {
        r = hull_err_sys(err, "exec: open the state of \"%s\"", o->id);
        goto out;
    }
    struct hull_exec_req req = {
        .init_pid = st.pid, .state_dir_fd = unlocked_fd, .spec = spec, .process = o->process, .cgroup = cg,
        .console_socket = o->console_socket, .want_console_master = o->want_console_master,
        .preserve_fds = o->preserve_fds,
    };
    const struct hull_executor_ops *ex = executor_of(&st, err);
    if (!ex) { r = -err->code; goto out; }
    if ((r = ex->exec(&req, err)) < 0) goto out;
    *pid = req.pid;
    if (console_master) *console_master = req.console_master;
    else if (req.console_master >= 0) close(req.console_master);
    if (o->pid_file) r = hull_write_pid_file(o->pid_file, req.pid, err);
out:
    if (unlocked_fd >= 0) close(unlocked_fd);
    if (cg) hull_cgroup_free(cg);
    hull_spec_free(spec);
    hull_state_release(&st);
    if (dir_fd >= 0) close(dir_fd);
    return r;
}

int hull_container_config(const char *root, const char *id, struct hull_spec **spec, struct hull_err *err) {
    int dir_fd;
    int r = hull_state_open(root, id, &dir_fd, err);
    if (r < 0) return r;
    r = load_spec_at(dir_fd, spec, err);
    close(dir_fd);
    return r;
}
