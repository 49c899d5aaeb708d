/* Writers for cgroup v2 controller files, following the kernel's
 * Documentation/admin-guide/cgroup-v2.rst. OCI's fields were written for
 * v1, so several need converting: swap is memory+swap in OCI but swap alone
 * in memory.swap.max; cpu shares (2..262144) become cpu.weight (1..10000);
 * blkio weights (10..1000) become io.weight (1..10000). */
#include "cgroups/cg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Linear maps between the ranges, the same formulas runc and crun use, so
 * a container gets the same weight whichever runtime starts it. */
uint64_t cg_shares_to_weight(uint64_t shares) {
    if (shares == 0) return 0;
    if (shares < 2) shares = 2;
    if (shares > 262144) shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_blkio_to_io_weight(uint64_t w) {
    if (w == 0) return 0;
    if (w < 10) w = 10;
    if (w > 1000) w = 1000;
    return 1 + (w - 10) * 9999 / 990;
}

static void limit_str(char *buf, size_t n, int64_t v) {
    if (v < 0) snprintf(buf, n, "max");
    else snprintf(buf, n, "%lld", (long long)v);
}

int cg_res_v2_memory(const char *dir, const struct hull_resources *r, bool update, struct hull_err *err) {
    const typeof(r->memory) *m = &r->memory;
    char buf[32];
    int rc;
    if (update && m->check_before_update.set && m->check_before_update.v && m->limit.set && m->limit.v > 0) {
        uint64_t cur;
        if ((rc = cg_read_u64(dir, "memory.current", &cur, err)) < 0) return rc;
        if ((uint64_t)m->limit.v < cur)
            return hull_err_set(err, EBUSY, "cgroup %s: memory limit %lld is below current usage %llu",
                                dir, (long long)m->limit.v, (unsigned long long)cur);
    }
    /* swap: OCI gives memory+swap; v2 wants the swap part only. Unlimited
     * memory with no swap value means unlimited swap too (v1 behaviour). */
    bool swap_set = false;
    int64_t swap = 0;
    if (m->swap.set && m->swap.v == -1) { swap_set = true; swap = -1; }
    else if (m->swap.set && m->swap.v > 0) { swap_set = true; swap = m->swap.v - m->limit.v; }
    else if (m->limit.set && m->limit.v == -1 && !m->swap.set) { swap_set = true; swap = -1; }
    if (swap_set && !cg_file_exists(dir, "memory.swap.max")) swap_set = false;  /* no swap accounting */
    if (swap_set) {
        limit_str(buf, sizeof buf, swap);
        if ((rc = cg_write(dir, "memory.swap.max", buf, err)) < 0) return rc;
    }
    if (m->limit.set && m->limit.v != 0) {
        limit_str(buf, sizeof buf, m->limit.v);
        if ((rc = cg_write(dir, "memory.max", buf, err)) < 0) return rc;
    }
    if (m->reservation.set && m->reservation.v != 0) {
        limit_str(buf, sizeof buf, m->reservation.v);
        if ((rc = cg_write(dir, "memory.low", buf, err)) < 0) return rc;
    }
    /* swappiness, kernel, kernelTCP and useHierarchy have no v2 file; like
     * runc and crun they are ignored (disableOOMKiller=true is refused by
     * cg_res_check). */
    return 0;
}

int cg_res_v2_cpu(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    const typeof(r->cpu) *c = &r->cpu;
    int rc;
    if (c->shares.set && c->shares.v &&
        (rc = cg_writef(dir, "cpu.weight", err, "%llu", (unsigned long long)cg_shares_to_weight(c->shares.v))) < 0)
        return rc;
    bool quota = c->quota.set && c->quota.v != 0, period = c->period.set && c->period.v != 0;
    if (quota || period) {
        char q[32];
        if (quota) {
            limit_str(q, sizeof q, c->quota.v);
        } else {
            /* period alone: keep the current quota ("max" or a number) */
            _cleanup_free_ char *cur = NULL;
            if ((rc = cg_read(dir, "cpu.max", &cur, err)) < 0) return rc;
            snprintf(q, sizeof q, "%.*s", (int)strcspn(cur, " \n"), cur);
        }
        if (period) rc = cg_writef(dir, "cpu.max", err, "%s %llu", q, (unsigned long long)c->period.v);
        else rc = cg_write(dir, "cpu.max", q, err);
        if (rc < 0) return rc;
    }
    if (c->burst.set && (rc = cg_writef(dir, "cpu.max.burst", err, "%llu", (unsigned long long)c->burst.v)) < 0)
        return rc;
    if (c->idle.set && (rc = cg_writef(dir, "cpu.idle", err, "%lld", (long long)c->idle.v)) < 0) return rc;
    return 0;
}

static int io_max(const char *dir, const char *key, const struct hull_blkio_throttle_dev *d, size_t n,
                  struct hull_err *err) {
    for (size_t i = 0; i < n; i++) {
        char v[32];
        /* 0 means "no limit" in OCI; io.max spells that "max" */
        if (d[i].rate) snprintf(v, sizeof v, "%llu", (unsigned long long)d[i].rate);
        else snprintf(v, sizeof v, "max");
        int rc = cg_writef(dir, "io.max", err, "%lld:%lld %s=%s", (long long)d[i].major, (long long)d[i].minor, key, v);
        if (rc < 0) return rc;
    }
    return 0;
}

int cg_res_v2_io(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    const typeof(r->block_io) *b = &r->block_io;
    /* With BFQ, io.bfq.weight takes blkio's own 1..1000 range unconverted. */
    bool bfq = cg_file_exists(dir, "io.bfq.weight");
    int rc;
    if (b->weight.set && b->weight.v) {
        if (bfq) rc = cg_writef(dir, "io.bfq.weight", err, "%llu", (unsigned long long)b->weight.v);
        else rc = cg_writef(dir, "io.weight", err, "default %llu", (unsigned long long)cg_blkio_to_io_weight(b->weight.v));
        if (rc < 0) return rc;
    }
    for (size_t i = 0; i < b->n_weight_device; i++) {
        const struct hull_blkio_weight_dev *w = &b->weight_device[i];
        if (!w->weight.set) continue;
        if (bfq) rc = cg_writef(dir, "io.bfq.weight", err, "%lld:%lld %llu", (long long)w->major, (long long)w->minor,
                                (unsigned long long)w->weight.v);
        else rc = cg_writef(dir, "io.weight", err, "%lld:%lld %llu", (long long)w->major, (long long)w->minor,
                            (unsigned long long)cg_blkio_to_io_weight(w->weight.v));
        if (rc < 0) return rc;
    }
    if ((rc = io_max(dir, "rbps", b->throttle_read_bps, b->n_throttle_read_bps, err)) < 0 ||
        (rc = io_max(dir, "wbps", b->throttle_write_bps, b->n_throttle_write_bps, err)) < 0 ||
        (rc = io_max(dir, "riops", b->throttle_read_iops, b->n_throttle_read_iops, err)) < 0 ||
        (rc = io_max(dir, "wiops", b->throttle_write_iops, b->n_throttle_write_iops, err)) < 0)
        return rc;
    return 0;
}

/* Keys were checked for shape by cg_res_check; here each must name an
 * existing regular file of this cgroup (a controller that is not enabled
 * has no files, which gives a clear "not available" instead of ENOENT). */
int cg_res_v2_unified(const char *dir, const struct hull_resources *r, struct hull_err *err) {
    for (size_t i = 0; i < r->n_unified; i++) {
        const char *k = r->unified[i].key;
        if (!cg_file_exists(dir, k)) {
            char ctl[64];
            snprintf(ctl, sizeof ctl, "%.*s", (int)strcspn(k, "."), k);
            return hull_err_set(err, ENOENT, "linux.resources.unified: \"%s\": no such file in %s "
                                "(is the %s controller enabled?)", k, dir, ctl);
        }
        int rc = cg_write(dir, k, r->unified[i].value, err);
        if (rc < 0) return rc;
    }
    return 0;
}
