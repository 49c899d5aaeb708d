/* The verbs that act on a running container's processes and cgroup: ps,
 * pause, resume, update, and the numbers behind `events`. */
#include "lifecycle/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "base/device_rules.h"
#include "base/fsutil.h"

struct opened {
    int dir_fd;
    struct hull_state st;
    enum hull_status status;
    struct hull_cgroup *cg;
};

static int open_container(const char *root, const char *id, struct opened *o, struct hull_err *err) {
    memset(o, 0, sizeof *o);
    int r = hull_state_open(root, id, &o->dir_fd, err);
    if (r < 0) return r;
    if ((r = hull_state_read(o->dir_fd, &o->st, err)) < 0) goto fail;
    o->status = hull_state_status(o->dir_fd, &o->st);
    if (!o->st.cgroup_json) {
        r = hull_err_set(err, ENOENT, "container \"%s\" has no cgroup", id);
        goto fail;
    }
    if ((r = hull_cgroup_from_json(o->st.cgroup_json, &o->cg, err)) < 0) goto fail;
    return 0;
fail:
    hull_state_release(&o->st);
    close(o->dir_fd);
    return r;
}

static void close_container(struct opened *o) {
    hull_cgroup_free(o->cg);
    hull_state_release(&o->st);
    close(o->dir_fd);
}

int hull_container_pause(const char *root, const char *id, bool pause, struct hull_err *err) {
    struct opened o;
    int r = open_container(root, id, &o, err);
    if (r < 0) return r;
    /* runc's rules: running or created containers pause, paused ones resume. */
    bool allowed = pause ? (o.status == HULL_RUNNING || o.status == HULL_CREATED) : o.status == HULL_PAUSED;
    if (!allowed) {
        r = hull_err_set(err, EINVAL, "cannot %s container \"%s\": it is %s", pause ? "pause" : "resume", id,
                         hull_status_name(o.status));
        goto out;
    }
    if ((r = hull_cgroup_freeze(o.cg, pause, err)) < 0) goto out;
    o.st.stored = pause ? HULL_PAUSED : HULL_RUNNING;
    r = hull_state_write(o.dir_fd, &o.st, err);
out:
    close_container(&o);
    return r;
}

static int load_saved_spec(int dir_fd, struct hull_spec **spec, struct hull_err *err) {
    size_t len;
    _cleanup_free_ char *text = hull_read_file_at(dir_fd, "config.json", 16 << 20, &len);
    if (!text) return hull_err_sys(err, "read saved config.json");
    return hull_spec_parse(text, len, spec, err);
}

int hull_container_update(const char *root, const char *id, const struct hull_resources *res, struct hull_err *err) {
    struct opened o;
    int r = open_container(root, id, &o, err);
    if (r < 0) return r;
    struct hull_spec *spec = NULL;
    if (o.status == HULL_STOPPED) {
        r = hull_err_set(err, EINVAL, "cannot update container \"%s\": it is stopped", id);
        goto out;
    }
    struct hull_resources eff = *res;
    if (res->n_devices) {
        /* New device rules replace the old ones, but the devices every
         * container needs and the spec's linux.devices stay usable. */
        if ((r = load_saved_spec(o.dir_fd, &spec, err)) < 0) goto out;
        spec->linux.resources.devices = res->devices;
        spec->linux.resources.n_devices = res->n_devices;
        struct hull_resources with_defaults;
        if ((r = hull_effective_resources(spec, &with_defaults, err)) < 0) goto out;
        eff.devices = with_defaults.devices;
        eff.n_devices = with_defaults.n_devices;
    }
    if ((r = hull_cgroup_update(o.cg, &eff, err)) < 0) goto out;
    /* The cgroup record may have changed (the v2 device program's id). */
    free(o.st.cgroup_json);
    o.st.cgroup_json = hull_cgroup_to_json(o.cg);
    r = hull_state_write(o.dir_fd, &o.st, err);
out:
    hull_spec_free(spec);
    close_container(&o);
    return r;
}

int hull_container_stats(const char *root, const char *id, struct hull_cgroup_stats *stats, enum hull_status *status,
                         struct hull_err *err) {
    struct opened o;
    int r = open_container(root, id, &o, err);
    if (r < 0) return r;
    *status = o.status;
    memset(stats, 0, sizeof *stats);
    /* A stopped container's cgroup stays until delete: its last numbers
     * (an OOM kill that ended it, say) are still worth reading. */
    r = hull_cgroup_stats(o.cg, stats, err);
    close_container(&o);
    return r;
}

int hull_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, bool *guest, struct hull_err *err) {
    struct hull_state st;
    enum hull_status status;
    int r = hull_container_state(root, id, &st, &status, err);
    if (r < 0) return r;
    *pids = NULL;
    *n = 0;
    const struct hull_executor_ops *ex = hull_executor_find(st.executor);
    *guest = ex && ex->pids;
    if (*guest) {   /* the executor knows them (a microVM: guest pids, from its agent) */
        int fd;
        if (status == HULL_STOPPED) r = 0;
        else if ((r = hull_state_open(root, id, &fd, err)) == 0) {
            r = ex->pids(fd, pids, n, err);
            close(fd);
        }
    } else if (st.cgroup_json) {
        struct hull_cgroup *cg = NULL;
        if ((r = hull_cgroup_from_json(st.cgroup_json, &cg, err)) == 0) {
            r = hull_cgroup_pids(cg, pids, n, err);
            hull_cgroup_free(cg);
        }
    } else if (status != HULL_STOPPED) {
        if (!(*pids = malloc(sizeof **pids))) r = hull_err_set(err, ENOMEM, "ps: out of memory");
        else { (*pids)[0] = st.pid; *n = 1; }
    }
    hull_state_release(&st);
    return r;
}
