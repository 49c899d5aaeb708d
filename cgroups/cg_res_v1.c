/* Writers for cgroup v1 controller files (values already validated by
 * cg_res_check). Also the helpers whose file names v1 and v2 share or
 * nearly share: pids.max, cpuset, hugetlb, rdma.max. */
#include "cgroups/cg_internal.h"

#include <stdio.h>
#include <string.h>

/* memory.limit_in_bytes must never exceed memory.memsw.limit_in_bytes, so
 * the order of the two writes depends on the direction: try the limit
 * first (right when shrinking); when the kernel refuses it because it
 * would pass the current memsw, write memsw first (growing). */
int cg_res_v1_memory(const char *dir, const struct hull_resources *r, bool update, struct hull_err *err) {
    const typeof(r->memory) *m = &r->memory;
    int rc;
    if (update && m->check_before_update.set && m->check_before_update.v && m->limit.set && m->limit.v > 0) {
        uint64_t usage;
        if ((rc = cg_read_u64(dir, "memory.usage_in_bytes", &usage, err)) < 0) return rc;
        if ((uint64_t)m->limit.v < usage)
            return hull_err_set(err, EBUSY, "cgroup %s: memory limit %lld is below current usage %llu",
                                dir, (long long)m->limit.v, (unsigned long long)usage);
    }
    /* Without swap accounting (memsw files absent) a swap value cannot be
     * enforced; like runc, it is then ignored rather than failing create. */
    bool swap = m->swap.set && m->swap.v != 0 && cg_file_exists(dir, "memory.memsw.limit_in_bytes");
    bool limit = m->limit.set && m->limit.v != 0;
    if (limit) {
        struct hull_err first;
        rc = cg_writef(dir, "memory.limit_in_bytes", &first, "%lld", (long long)m->limit.v);
        if (rc < 0 && !(swap && first.code == EINVAL)) { if (err) *err = first; return rc; }
        if (rc < 0) {
            if ((rc = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%lld", (long long)m->swap.v)) < 0) return rc;
            if ((rc = cg_writef(dir, "memory.limit_in_bytes", err, "%lld", (long long)m->limit.v)) < 0) return rc;
            swap = false;
        }
    }
    if (swap && (rc = cg_writef(dir, "memory.memsw.limit_in_bytes", err, "%lld", (long long)m->swap.v)) < 0)
        return rc;
    if (m->reservation.set && m->reservation.v != 0 &&
        (rc = cg_writef(dir, "memory.soft_limit_in_bytes", err, "%lld", (long long)m->reservation.v)) < 0)
        return rc;
    /* memory.kmem.limit_in_bytes is deprecated and refused by current
     * kernels; runc ignores linux.resources.memory.kernel too. */
    if (m->kernel_tcp.set && m->kernel_tcp.v != 0 &&
        (rc = cg_writef(dir, "memory.kmem.tcp.limit_in_bytes", err, "%lld", (long long)m->kernel_tcp.v)) < 0)
        return rc;
    if (m->swappiness.set &&
        (rc = cg_writef(dir, "memory.swappiness", err, "%llu", (unsigned long long)m->swappiness.v)) < 0)
        return rc;
    if (m->disable_oom_killer.set && (m->disable_oom_killer.v || update) &&
        (rc = cg_write(dir, "memory.oom_control", m->disable_oom_killer.v ? "1" : "0", err)) < 0)
        return rc;
    /* Kernels >= 5.x always use hierarchy; only "1" is accepted. */
    if (m->use_hierarchy.set && m->use_hierarchy.v &&
        (rc = cg_write(dir, "memory.use_hierarchy", "1", err)) < 0)
        return rc;
    return 0;
}

int cg_res_v1_cpuset(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    int rc;
    /* mems first: a v1 cpuset with cpus but no mems still refuses tasks,
     * and the order does not matter on v2. */
    if (r->cpu.mems && r->cpu.mems[0] && (rc = cg_write(dir, "cpuset.mems", r->cpu.mems, err)) < 0) return rc;
    if (r->cpu.cpus && r->cpu.cpus[0] && (rc = cg_write(dir, "cpuset.cpus", r->cpu.cpus, err)) < 0) return rc;
    return 0;
}

int cg_res_v1_cpu(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    const typeof(r->cpu) *c = &r->cpu;
    int rc;
    if (c->shares.set && c->shares.v &&
        (rc = cg_writef(dir, "cpu.shares", err, "%llu", (unsigned long long)c->shares.v)) < 0)
        return rc;
    /* The period is checked against the current quota; if it is refused,
     * set the quota first and retry. */
    bool period = c->period.set && c->period.v, quota = c->quota.set && c->quota.v;
    if (period) {
        struct hull_err first;
        rc = cg_writef(dir, "cpu.cfs_period_us", &first, "%llu", (unsigned long long)c->period.v);
        if (rc < 0 && !quota) { if (err) *err = first; return rc; }
        if (rc < 0) {
            if ((rc = cg_writef(dir, "cpu.cfs_quota_us", err, "%lld", (long long)c->quota.v)) < 0) return rc;
            if ((rc = cg_writef(dir, "cpu.cfs_period_us", err, "%llu", (unsigned long long)c->period.v)) < 0) return rc;
            quota = false;
        }
    }
    if (quota && (rc = cg_writef(dir, "cpu.cfs_quota_us", err, "%lld", (long long)c->quota.v)) < 0) return rc;
    if (c->burst.set &&
        (rc = cg_writef(dir, "cpu.cfs_burst_us", err, "%llu", (unsigned long long)c->burst.v)) < 0)
        return rc;
    if (c->realtime_period.set && c->realtime_period.v &&
        (rc = cg_writef(dir, "cpu.rt_period_us", err, "%llu", (unsigned long long)c->realtime_period.v)) < 0)
        return rc;
    if (c->realtime_runtime.set && c->realtime_runtime.v &&
        (rc = cg_writef(dir, "cpu.rt_runtime_us", err, "%lld", (long long)c->realtime_runtime.v)) < 0)
        return rc;
    if (c->idle.set && (rc = cg_writef(dir, "cpu.idle", err, "%lld", (long long)c->idle.v)) < 0) return rc;
    return 0;
}

static int write_devs(const char *dir, const char *file, const struct hull_blkio_throttle_dev *d, size_t n,
                      struct hull_err *err) {
    for (size_t i = 0; i < n; i++) {
        int rc = cg_writef(dir, file, err, "%lld:%lld %llu", (long long)d[i].major, (long long)d[i].minor,
                           (unsigned long long)d[i].rate);
        if (rc < 0) return rc;
    }
    return 0;
}

int cg_res_v1_blkio(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    const typeof(r->block_io) *b = &r->block_io;
    /* CFQ kernels have blkio.weight; BFQ-only kernels blkio.bfq.weight. */
    bool bfq = !cg_file_exists(dir, "blkio.weight") && cg_file_exists(dir, "blkio.bfq.weight");
    const char *wf = bfq ? "blkio.bfq.weight" : "blkio.weight";
    const char *wdf = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
    int rc;
    if (b->weight.set && b->weight.v &&
        (rc = cg_writef(dir, wf, err, "%llu", (unsigned long long)b->weight.v)) < 0)
        return rc;
    if (b->leaf_weight.set && b->leaf_weight.v &&
        (rc = cg_writef(dir, "blkio.leaf_weight", err, "%llu", (unsigned long long)b->leaf_weight.v)) < 0)
        return rc;
    for (size_t i = 0; i < b->n_weight_device; i++) {
        const struct hull_blkio_weight_dev *w = &b->weight_device[i];
        if (w->weight.set && (rc = cg_writef(dir, wdf, err, "%lld:%lld %llu", (long long)w->major,
                                             (long long)w->minor, (unsigned long long)w->weight.v)) < 0)
            return rc;
        if (w->leaf_weight.set && (rc = cg_writef(dir, "blkio.leaf_weight_device", err, "%lld:%lld %llu",
                                                  (long long)w->major, (long long)w->minor,
                                                  (unsigned long long)w->leaf_weight.v)) < 0)
            return rc;
    }
    if ((rc = write_devs(dir, "blkio.throttle.read_bps_device", b->throttle_read_bps, b->n_throttle_read_bps, err)) < 0 ||
        (rc = write_devs(dir, "blkio.throttle.write_bps_device", b->throttle_write_bps, b->n_throttle_write_bps, err)) < 0 ||
        (rc = write_devs(dir, "blkio.throttle.read_iops_device", b->throttle_read_iops, b->n_throttle_read_iops, err)) < 0 ||
        (rc = write_devs(dir, "blkio.throttle.write_iops_device", b->throttle_write_iops, b->n_throttle_write_iops, err)) < 0)
        return rc;
    return 0;
}

static void dev_num(char *buf, size_t n, int64_t v) {
    if (v < 0) snprintf(buf, n, "*");
    else snprintf(buf, n, "%lld", (long long)v);
}

/* Start from "deny everything", then the spec's rules in order, so the
 * result does not depend on what the cgroup allowed before (update). */
int cg_res_v1_devices(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    int rc = cg_write(dir, "devices.deny", "a", err);
    if (rc < 0) return rc;
    for (size_t i = 0; i < r->n_devices; i++) {
        const struct hull_device_rule *d = &r->devices[i];
        const char *access = d->access ? d->access : "rwm";
        char line[96], ma[24], mi[24];
        if (d->type == 'a' || d->type == 0) {
            snprintf(line, sizeof line, "a *:* %s", access);
        } else {
            dev_num(ma, sizeof ma, d->major);
            dev_num(mi, sizeof mi, d->minor);
            snprintf(line, sizeof line, "%c %s:%s %s", d->type, ma, mi, access);
        }
        if ((rc = cg_write(dir, d->allow ? "devices.allow" : "devices.deny", line, err)) < 0) return rc;
    }
    return 0;
}

int cg_res_v1_net(const char *cls_dir, const char *prio_dir, const struct hull_resources *r, struct hull_err *err) {
    int rc;
    if (r->network.class_id.set && cls_dir &&
        (rc = cg_writef(cls_dir, "net_cls.classid", err, "%llu", (unsigned long long)r->network.class_id.v)) < 0)
        return rc;
    for (size_t i = 0; prio_dir && i < r->network.n_priorities; i++)
        if ((rc = cg_writef(prio_dir, "net_prio.ifpriomap", err, "%s %u", r->network.priorities[i].name,
                            r->network.priorities[i].priority)) < 0)
            return rc;
    return 0;
}

int cg_res_pids(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    if (r->pids.limit.v > 0) return cg_writef(dir, "pids.max", err, "%lld", (long long)r->pids.limit.v);
    return cg_write(dir, "pids.max", "max", err);
}

int cg_res_hugetlb(const char *dir, enum cg_kind kind, const struct hull_resources *r, struct hull_err *err) {
    for (size_t i = 0; i < r->n_hugepage_limits; i++) {
        const struct hull_hugepage_limit *h = &r->hugepage_limits[i];
        char file[96];
        snprintf(file, sizeof file, "hugetlb.%s.%s", h->page_size, kind == CG_V1 ? "limit_in_bytes" : "max");
        if (!cg_file_exists(dir, file))
            return hull_err_set(err, EINVAL, "cgroup %s: hugepage size %s is not supported by this kernel (no %s)",
                                dir, h->page_size, file);
        int rc = cg_writef(dir, file, err, "%llu", (unsigned long long)h->limit);
        if (rc < 0) return rc;
    }
    return 0;
}

int cg_res_rdma(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    for (size_t i = 0; i < r->n_rdma; i++) {
        const struct hull_rdma_limit *l = &r->rdma[i];
        /* only the keys given: the kernel keeps the other one as it was */
        char line[256];
        int n = snprintf(line, sizeof line, "%s", l->device);
        if (l->hca_handles.set) n += snprintf(line + n, sizeof line - n, " hca_handle=%llu", (unsigned long long)l->hca_handles.v);
        if (l->hca_objects.set && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - n, " hca_object=%llu", (unsigned long long)l->hca_objects.v);
        if (!l->hca_handles.set && !l->hca_objects.set) continue;
        int rc = cg_write(dir, "rdma.max", line, err);
        if (rc < 0) return rc;
    }
    return 0;
}
