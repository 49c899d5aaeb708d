/* linux.resources: validation of every value before anything is written or
 * created, then dispatch of each group to the hierarchy that owns its
 * controller. Owning is decided per controller, which is what makes hybrid
 * hosts work: memory may live in a v1 hierarchy while hugetlb is only on the
 * cgroup2 mount, and each is written with that driver's file names. */
#include "cgroups/cg_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool mem_requested(const struct hull_resources *r) {
    const typeof(r->memory) *m = &r->memory;
    return m->limit.set || m->reservation.set || m->swap.set || m->kernel.set || m->kernel_tcp.set ||
           m->swappiness.set || m->disable_oom_killer.set || m->use_hierarchy.set;
}
static bool cpu_requested(const struct hull_resources *r) {
    const typeof(r->cpu) *c = &r->cpu;
    return c->shares.set || c->period.set || c->quota.set || c->burst.set || c->realtime_period.set ||
           c->realtime_runtime.set || c->idle.set;
}
static bool cpuset_requested(const struct hull_resources *r) {
    return (r->cpu.cpus && r->cpu.cpus[0]) || (r->cpu.mems && r->cpu.mems[0]);
}
static bool blkio_requested(const struct hull_resources *r) {
    const typeof(r->block_io) *b = &r->block_io;
    return b->weight.set || b->leaf_weight.set || b->n_weight_device || b->n_throttle_read_bps ||
           b->n_throttle_write_bps || b->n_throttle_read_iops || b->n_throttle_write_iops;
}

/* The dir for a controller; v1 name first, then the v2 name. */
static struct cg_dir *owner2(const struct hull_cgroup *cg, const char *v1, const char *v2) {
    struct cg_dir *d = cg_owner(cg, v1);
    if (d && d->kind == CG_V1) return d;
    return v2 ? cg_owner(cg, v2) : NULL;
}

static int need(const struct hull_cgroup *cg, const char *v1, const char *v2, const char *what,
                struct hull_err *err) {
    if (owner2(cg, v1, v2)) return 0;
    struct cg_dir *d2 = cg_v2_dir(cg);
    if (d2 && v2)
        return hull_err_set(err, ENOTSUP, "cgroup %s: %s requested but the %s controller is not available there "
                            "(not on this host, or not enabled in a parent's cgroup.subtree_control)",
                            d2->path, what, v2);
    return hull_err_set(err, ENOTSUP, "cgroup: %s requested but the %s controller is not available on this host",
                        what, v2 ? v2 : v1);
}

static int check_i64(hull_opt_i64 v, const char *name, struct hull_err *err) {
    if (v.set && v.v < -1)
        return hull_err_set(err, EINVAL, "linux.resources.%s: %lld is invalid (use -1 for unlimited)",
                            name, (long long)v.v);
    return 0;
}

static int check_list(const char *s, const char *name, struct hull_err *err) {
    for (const char *p = s; p && *p; p++)
        if (!isdigit((unsigned char)*p) && *p != ',' && *p != '-')
            return hull_err_set(err, EINVAL, "linux.resources.cpu.%s: \"%s\" is not a list like \"0-2,4\"", name, s);
    return 0;
}

static int check_weight(hull_opt_u64 w, const char *name, struct hull_err *err) {
    if (w.set && w.v != 0 && (w.v < 10 || w.v > 1000))
        return hull_err_set(err, EINVAL, "linux.resources.blockIO.%s: %llu is outside 10..1000",
                            name, (unsigned long long)w.v);
    return 0;
}

static int check_devices(const struct hull_resources *r, struct hull_err *err) {
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct hull_device_rule *d = &r->devices[i];
        if (d->type != 'a' && d->type != 'c' && d->type != 'b')
            return hull_err_set(err, EINVAL, "linux.resources.devices[%zu]: unknown device type '%c'", i,
                                isprint((unsigned char)d->type) ? d->type : '?');
        if (d->major < -1 || d->minor < -1 || d->major > UINT32_MAX || d->minor > UINT32_MAX)
            return hull_err_set(err, EINVAL, "linux.resources.devices[%zu]: bad major/minor", i);
        const char *a = d->access ? d->access : "rwm";
        if (!a[0] || a[strspn(a, "rwm")])
            return hull_err_set(err, EINVAL, "linux.resources.devices[%zu]: access \"%s\" is not a subset of \"rwm\"", i, a);
    }
    return 0;
}

/* Keys name files in the cgroup2 dir: one plain file name, nothing that
 * reaches elsewhere, and not the files hull itself drives. */
static int check_unified(const struct hull_resources *r, struct hull_err *err) {
    static const char *const reserved[] = { "cgroup.procs", "cgroup.threads", "cgroup.kill",
                                            "cgroup.subtree_control", "cgroup.freeze" };
    for (size_t i = 0; i < r->n_unified; i++) {
        const char *k = r->unified[i].key, *v = r->unified[i].value;
        if (!k || !k[0] || strchr(k, '/') || strcmp(k, ".") == 0 || strcmp(k, "..") == 0 || strstr(k, ".."))
            return hull_err_set(err, EINVAL, "linux.resources.unified: key \"%s\" is not a cgroup file name", k ? k : "");
        for (const char *p = k; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
                return hull_err_set(err, EINVAL, "linux.resources.unified: key \"%s\" has invalid characters", k);
        for (size_t j = 0; j < sizeof reserved / sizeof *reserved; j++)
            if (strcmp(k, reserved[j]) == 0)
                return hull_err_set(err, EINVAL, "linux.resources.unified: \"%s\" is managed by hull", k);
        if (!v) return hull_err_set(err, EINVAL, "linux.resources.unified: \"%s\" has no value", k);
    }
    return 0;
}

int cg_res_check(const struct hull_cgroup *cg, const struct hull_resources *r, struct hull_err *err) {
    int rc;
    const typeof(r->memory) *m = &r->memory;
    if ((rc = check_i64(m->limit, "memory.limit", err)) < 0 || (rc = check_i64(m->reservation, "memory.reservation", err)) < 0 ||
        (rc = check_i64(m->swap, "memory.swap", err)) < 0 || (rc = check_i64(m->kernel, "memory.kernel", err)) < 0 ||
        (rc = check_i64(m->kernel_tcp, "memory.kernelTCP", err)) < 0)
        return rc;
    if (m->swap.set && m->swap.v > 0 && m->limit.set && m->limit.v > 0 && m->swap.v < m->limit.v)
        return hull_err_set(err, EINVAL, "linux.resources.memory.swap (%lld) must be >= memory.limit (%lld): it is memory+swap",
                            (long long)m->swap.v, (long long)m->limit.v);
    if (m->swappiness.set && m->swappiness.v > 100)
        return hull_err_set(err, EINVAL, "linux.resources.memory.swappiness: %llu is outside 0..100",
                            (unsigned long long)m->swappiness.v);
    const typeof(r->cpu) *c = &r->cpu;
    if ((rc = check_i64(c->quota, "cpu.quota", err)) < 0 || (rc = check_i64(c->realtime_runtime, "cpu.realtimeRuntime", err)) < 0)
        return rc;
    if (c->period.set && c->period.v != 0 && (c->period.v < 1000 || c->period.v > 1000000))
        return hull_err_set(err, EINVAL, "linux.resources.cpu.period: %llu is outside 1000..1000000 µs",
                            (unsigned long long)c->period.v);
    if (c->quota.set && c->quota.v > 0 && c->quota.v < 1000)
        return hull_err_set(err, EINVAL, "linux.resources.cpu.quota: %lld is below 1000 µs", (long long)c->quota.v);
    if (c->idle.set && c->idle.v != 0 && c->idle.v != 1)
        return hull_err_set(err, EINVAL, "linux.resources.cpu.idle: must be 0 or 1");
    if ((rc = check_list(c->cpus, "cpus", err)) < 0 || (rc = check_list(c->mems, "mems", err)) < 0) return rc;
    const typeof(r->block_io) *b = &r->block_io;
    if ((rc = check_weight(b->weight, "weight", err)) < 0 || (rc = check_weight(b->leaf_weight, "leafWeight", err)) < 0)
        return rc;
    for (size_t i = 0; i < b->n_weight_device; i++)
        if ((rc = check_weight(b->weight_device[i].weight, "weightDevice.weight", err)) < 0 ||
            (rc = check_weight(b->weight_device[i].leaf_weight, "weightDevice.leafWeight", err)) < 0)
            return rc;
    for (size_t i = 0; i < r->n_hugepage_limits; i++) {
        const char *ps = r->hugepage_limits[i].page_size;
        size_t dl = ps ? strspn(ps, "0123456789") : 0;
        if (!ps || dl == 0 || (strcmp(ps + dl, "KB") && strcmp(ps + dl, "MB") && strcmp(ps + dl, "GB")))
            return hull_err_set(err, EINVAL, "linux.resources.hugepageLimits[%zu].pageSize: \"%s\" is not like \"2MB\"",
                                i, ps ? ps : "");
    }
    for (size_t i = 0; i < r->n_rdma; i++)
        if (!r->rdma[i].device || !r->rdma[i].device[0] || strpbrk(r->rdma[i].device, " \t\n/") ||
            strlen(r->rdma[i].device) > 64)
            return hull_err_set(err, EINVAL, "linux.resources.rdma: bad device name");
    for (size_t i = 0; i < r->network.n_priorities; i++)
        if (!r->network.priorities[i].name || !r->network.priorities[i].name[0] ||
            strpbrk(r->network.priorities[i].name, " \t\n"))
            return hull_err_set(err, EINVAL, "linux.resources.network.priorities[%zu]: bad interface name", i);
    if ((rc = check_devices(r, err)) < 0 || (rc = check_unified(r, err)) < 0) return rc;

    /* Then: does this host have what is asked for, and in which shape. */
    if (mem_requested(r) && (rc = need(cg, "memory", "memory", "linux.resources.memory", err)) < 0) return rc;
    struct cg_dir *md = owner2(cg, "memory", "memory");
    if (md && md->kind == CG_V2 && m->disable_oom_killer.set && m->disable_oom_killer.v)
        return hull_err_set(err, ENOTSUP, "linux.resources.memory.disableOOMKiller: not supported by cgroup v2");
    if (md && md->kind == CG_V2 && m->swap.set && m->swap.v > 0 && !(m->limit.set && m->limit.v > 0))
        return hull_err_set(err, EINVAL, "linux.resources.memory.swap: cgroup v2 needs memory.limit to set swap");
    if (cpu_requested(r) && (rc = need(cg, "cpu", "cpu", "linux.resources.cpu", err)) < 0) return rc;
    struct cg_dir *cd = owner2(cg, "cpu", "cpu");
    if (cd && cd->kind == CG_V2 && ((c->realtime_runtime.set && c->realtime_runtime.v) ||
                                    (c->realtime_period.set && c->realtime_period.v)))
        return hull_err_set(err, ENOTSUP, "linux.resources.cpu.realtime*: not supported by cgroup v2");
    if (cpuset_requested(r) && (rc = need(cg, "cpuset", "cpuset", "linux.resources.cpu.cpus/mems", err)) < 0) return rc;
    if (r->pids.present && r->pids.limit.set && (rc = need(cg, "pids", "pids", "linux.resources.pids", err)) < 0) return rc;
    if (blkio_requested(r) && (rc = need(cg, "blkio", "io", "linux.resources.blockIO", err)) < 0) return rc;
    if (r->n_hugepage_limits && (rc = need(cg, "hugetlb", "hugetlb", "linux.resources.hugepageLimits", err)) < 0) return rc;
    if (r->n_rdma && (rc = need(cg, "rdma", "rdma", "linux.resources.rdma", err)) < 0) return rc;
    if (r->network.class_id.set && (rc = need(cg, "net_cls", NULL, "linux.resources.network.classID", err)) < 0) return rc;
    if (r->network.n_priorities && (rc = need(cg, "net_prio", NULL, "linux.resources.network.priorities", err)) < 0) return rc;
    if (r->n_unified && !cg_v2_dir(cg))
        return hull_err_set(err, ENOTSUP, "linux.resources.unified: needs cgroup v2, this host has only v1");
    if (r->n_devices && !owner2(cg, "devices", NULL) && !cg_v2_dir(cg))
        return hull_err_set(err, ENOTSUP, "linux.resources.devices: no devices controller and no cgroup2");
    return 0;
}

int cg_res_apply(struct hull_cgroup *cg, const struct hull_resources *r, bool update, struct hull_err *err) {
    int rc = 0;
    struct cg_dir *d;
    if (r->n_devices) {
        if ((d = owner2(cg, "devices", NULL))) rc = cg_res_v1_devices(d->path, r, err);
        else if ((d = cg_v2_dir(cg))) rc = cg_bpf_devices_apply(d->path, r->devices, r->n_devices, &cg->bpf_prog_id, err);
        if (rc < 0) return rc;
    }
    if (mem_requested(r) && (d = owner2(cg, "memory", "memory")) &&
        (rc = (d->kind == CG_V1 ? cg_res_v1_memory : cg_res_v2_memory)(d->path, r, update, err)) < 0)
        return rc;
    if (cpuset_requested(r) && (d = owner2(cg, "cpuset", "cpuset")) && (rc = cg_res_v1_cpuset(d->path, r, err)) < 0)
        return rc;
    if (cpu_requested(r) && (d = owner2(cg, "cpu", "cpu")) &&
        (rc = (d->kind == CG_V1 ? cg_res_v1_cpu : cg_res_v2_cpu)(d->path, r, err)) < 0)
        return rc;
    if (r->pids.present && r->pids.limit.set && (d = owner2(cg, "pids", "pids")) && (rc = cg_res_pids(d->path, r, err)) < 0)
        return rc;
    if (blkio_requested(r) && (d = owner2(cg, "blkio", "io")) &&
        (rc = (d->kind == CG_V1 ? cg_res_v1_blkio : cg_res_v2_io)(d->path, r, err)) < 0)
        return rc;
    if (r->n_hugepage_limits && (d = owner2(cg, "hugetlb", "hugetlb")) && (rc = cg_res_hugetlb(d->path, d->kind, r, err)) < 0)
        return rc;
    if (r->n_rdma && (d = owner2(cg, "rdma", "rdma")) && (rc = cg_res_rdma(d->path, r, err)) < 0) return rc;
    if (r->network.class_id.set || r->network.n_priorities) {
        struct cg_dir *cls = owner2(cg, "net_cls", NULL), *prio = owner2(cg, "net_prio", NULL);
        if ((rc = cg_res_v1_net(cls ? cls->path : NULL, prio ? prio->path : NULL, r, err)) < 0) return rc;
    }
    /* unified last: raw keys override what the typed fields wrote */
    if (r->n_unified && (d = cg_v2_dir(cg)) && (rc = cg_res_v2_unified(d->path, r, err)) < 0) return rc;
    return 0;
}

int hull_cgroup_update(struct hull_cgroup *cg, const struct hull_resources *r, struct hull_err *err) {
    if (!r) return 0;
    int rc = cg_res_check(cg, r, err);
    if (rc < 0) return rc;
    return cg_res_apply(cg, r, true, err);
}
