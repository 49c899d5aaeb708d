/* config.json "linux.resources": every cgroup knob of the spec, type- and
 * range-checked. Whether a knob can be applied on this host is the cgroup
 * drivers' business. */
#include "base/spec_json.h"

#include <string.h>

#define ALLOC_N(ptr, n) \
    do { if (!((ptr) = hull_arena_alloc(c->arena, ((n) ? (n) : 1) * sizeof *(ptr)))) return sj_oom(c); } while (0)

static int parse_device_rules(struct sj *c, yajl_val res, struct hull_resources *r) {
    yajl_val a;
    SJ_TRY(sj_arr(c, res, "devices", false, &a));
    if (!a) return 0;
    r->n_devices = a->u.array.len;
    ALLOC_N(r->devices, r->n_devices);
    size_t mark = sj_push_key(c, "devices");
    for (size_t i = 0; i < r->n_devices; i++) {
        size_t m2 = sj_push_index(c, i);
        yajl_val e = a->u.array.values[i];
        struct hull_device_rule *d = &r->devices[i];
        SJ_TRY(sj_v_obj(c, e));
        if (!sj_field(e, "allow")) {
            sj_push_key(c, "allow");
            return sj_fail(c, "required field missing");
        }
        SJ_TRY(sj_bool(c, e, "allow", &d->allow));
        char *type = NULL;
        SJ_TRY(sj_str(c, e, "type", false, &type));
        d->type = 'a';
        if (type) {
            if (strlen(type) != 1) {
                sj_push_key(c, "type");
                return sj_fail(c, "expected one of a, c, b, got \"%.32s\"", type);
            }
            d->type = type[0];
        }
        d->major = d->minor = -1;
        SJ_TRY(sj_i64(c, e, "major", false, -1, INT64_MAX, &d->major));
        SJ_TRY(sj_i64(c, e, "minor", false, -1, INT64_MAX, &d->minor));
        SJ_TRY(sj_str(c, e, "access", false, &d->access));
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_memory(struct sj *c, yajl_val v, struct hull_resources *r) {
    r->memory.present = true;
    SJ_TRY(sj_opt_i64(c, v, "limit", INT64_MIN, INT64_MAX, &r->memory.limit));
    SJ_TRY(sj_opt_i64(c, v, "reservation", INT64_MIN, INT64_MAX, &r->memory.reservation));
    SJ_TRY(sj_opt_i64(c, v, "swap", INT64_MIN, INT64_MAX, &r->memory.swap));
    SJ_TRY(sj_opt_i64(c, v, "kernel", INT64_MIN, INT64_MAX, &r->memory.kernel));
    SJ_TRY(sj_opt_i64(c, v, "kernelTCP", INT64_MIN, INT64_MAX, &r->memory.kernel_tcp));
    SJ_TRY(sj_opt_u64(c, v, "swappiness", UINT64_MAX, &r->memory.swappiness));
    SJ_TRY(sj_opt_bool(c, v, "disableOOMKiller", &r->memory.disable_oom_killer));
    SJ_TRY(sj_opt_bool(c, v, "useHierarchy", &r->memory.use_hierarchy));
    SJ_TRY(sj_opt_bool(c, v, "checkBeforeUpdate", &r->memory.check_before_update));
    return 0;
}

static int parse_cpu(struct sj *c, yajl_val v, struct hull_resources *r) {
    r->cpu.present = true;
    SJ_TRY(sj_opt_u64(c, v, "shares", UINT64_MAX, &r->cpu.shares));
    SJ_TRY(sj_opt_i64(c, v, "quota", INT64_MIN, INT64_MAX, &r->cpu.quota));
    SJ_TRY(sj_opt_u64(c, v, "burst", UINT64_MAX, &r->cpu.burst));
    SJ_TRY(sj_opt_u64(c, v, "period", UINT64_MAX, &r->cpu.period));
    SJ_TRY(sj_opt_i64(c, v, "realtimeRuntime", INT64_MIN, INT64_MAX, &r->cpu.realtime_runtime));
    SJ_TRY(sj_opt_u64(c, v, "realtimePeriod", UINT64_MAX, &r->cpu.realtime_period));
    SJ_TRY(sj_str(c, v, "cpus", false, &r->cpu.cpus));
    SJ_TRY(sj_str(c, v, "mems", false, &r->cpu.mems));
    SJ_TRY(sj_opt_i64(c, v, "idle", INT64_MIN, INT64_MAX, &r->cpu.idle));
    return 0;
}

static int parse_pids(struct sj *c, yajl_val v, struct hull_resources *r) {
    r->pids.present = true;
    SJ_TRY(sj_opt_i64(c, v, "limit", INT64_MIN, INT64_MAX, &r->pids.limit));
    return 0;
}

static int parse_throttle(struct sj *c, yajl_val blk, const char *key,
                          struct hull_blkio_throttle_dev **out, size_t *n) {
    yajl_val a;
    SJ_TRY(sj_arr(c, blk, key, false, &a));
    if (!a) return 0;
    *n = a->u.array.len;
    ALLOC_N(*out, *n);
    size_t mark = sj_push_key(c, key);
    for (size_t i = 0; i < *n; i++) {
        size_t m2 = sj_push_index(c, i);
        yajl_val e = a->u.array.values[i];
        struct hull_blkio_throttle_dev *d = &(*out)[i];
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_i64(c, e, "major", true, 0, INT64_MAX, &d->major));
        SJ_TRY(sj_i64(c, e, "minor", true, 0, INT64_MAX, &d->minor));
        hull_opt_u64 rate = { 0 };
        SJ_TRY(sj_opt_u64(c, e, "rate", UINT64_MAX, &rate));
        d->rate = rate.v;
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_block_io(struct sj *c, yajl_val v, struct hull_resources *r) {
    r->block_io.present = true;
    SJ_TRY(sj_opt_u64(c, v, "weight", UINT16_MAX, &r->block_io.weight));
    SJ_TRY(sj_opt_u64(c, v, "leafWeight", UINT16_MAX, &r->block_io.leaf_weight));
    yajl_val a;
    SJ_TRY(sj_arr(c, v, "weightDevice", false, &a));
    if (a) {
        r->block_io.n_weight_device = a->u.array.len;
        ALLOC_N(r->block_io.weight_device, a->u.array.len);
        size_t mark = sj_push_key(c, "weightDevice");
        for (size_t i = 0; i < a->u.array.len; i++) {
            size_t m2 = sj_push_index(c, i);
            yajl_val e = a->u.array.values[i];
            struct hull_blkio_weight_dev *d = &r->block_io.weight_device[i];
            SJ_TRY(sj_v_obj(c, e));
            SJ_TRY(sj_i64(c, e, "major", true, 0, INT64_MAX, &d->major));
            SJ_TRY(sj_i64(c, e, "minor", true, 0, INT64_MAX, &d->minor));
            SJ_TRY(sj_opt_u64(c, e, "weight", UINT16_MAX, &d->weight));
            SJ_TRY(sj_opt_u64(c, e, "leafWeight", UINT16_MAX, &d->leaf_weight));
            sj_pop(c, m2);
        }
        sj_pop(c, mark);
    }
    SJ_TRY(parse_throttle(c, v, "throttleReadBpsDevice", &r->block_io.throttle_read_bps,
                          &r->block_io.n_throttle_read_bps));
    SJ_TRY(parse_throttle(c, v, "throttleWriteBpsDevice", &r->block_io.throttle_write_bps,
                          &r->block_io.n_throttle_write_bps));
    SJ_TRY(parse_throttle(c, v, "throttleReadIOPSDevice", &r->block_io.throttle_read_iops,
                          &r->block_io.n_throttle_read_iops));
    SJ_TRY(parse_throttle(c, v, "throttleWriteIOPSDevice", &r->block_io.throttle_write_iops,
                          &r->block_io.n_throttle_write_iops));
    return 0;
}

static int parse_hugepages(struct sj *c, yajl_val res, struct hull_resources *r) {
    yajl_val a;
    SJ_TRY(sj_arr(c, res, "hugepageLimits", false, &a));
    if (!a) return 0;
    r->n_hugepage_limits = a->u.array.len;
    ALLOC_N(r->hugepage_limits, r->n_hugepage_limits);
    size_t mark = sj_push_key(c, "hugepageLimits");
    for (size_t i = 0; i < r->n_hugepage_limits; i++) {
        size_t m2 = sj_push_index(c, i);
        yajl_val e = a->u.array.values[i];
        struct hull_hugepage_limit *h = &r->hugepage_limits[i];
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_str(c, e, "pageSize", true, &h->page_size));
        hull_opt_u64 lim = { 0 };
        SJ_TRY(sj_opt_u64(c, e, "limit", UINT64_MAX, &lim));
        if (!lim.set) {
            sj_push_key(c, "limit");
            return sj_fail(c, "required field missing");
        }
        h->limit = lim.v;
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_network(struct sj *c, yajl_val v, struct hull_resources *r) {
    r->network.present = true;
    SJ_TRY(sj_opt_u64(c, v, "classID", UINT32_MAX, &r->network.class_id));
    yajl_val a;
    SJ_TRY(sj_arr(c, v, "priorities", false, &a));
    if (!a) return 0;
    r->network.n_priorities = a->u.array.len;
    ALLOC_N(r->network.priorities, a->u.array.len);
    size_t mark = sj_push_key(c, "priorities");
    for (size_t i = 0; i < a->u.array.len; i++) {
        size_t m2 = sj_push_index(c, i);
        yajl_val e = a->u.array.values[i];
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_str(c, e, "name", true, &r->network.priorities[i].name));
        SJ_TRY(sj_u32(c, e, "priority", true, &r->network.priorities[i].priority));
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_rdma(struct sj *c, yajl_val res, struct hull_resources *r) {
    yajl_val o;
    SJ_TRY(sj_obj(c, res, "rdma", false, &o));
    if (!o) return 0;
    r->n_rdma = o->u.object.len;
    ALLOC_N(r->rdma, r->n_rdma);
    size_t mark = sj_push_key(c, "rdma");
    for (size_t i = 0; i < r->n_rdma; i++) {
        size_t m2 = sj_push_key(c, o->u.object.keys[i]);
        yajl_val e = o->u.object.values[i];
        struct hull_rdma_limit *l = &r->rdma[i];
        SJ_TRY(sj_v_obj(c, e));
        if (!(l->device = hull_arena_strdup(c->arena, o->u.object.keys[i]))) return sj_oom(c);
        if (c->nul_mark[0] && strstr(l->device, c->nul_mark)) return sj_fail(c, "key contains a NUL character");
        SJ_TRY(sj_opt_u64(c, e, "hcaHandles", UINT32_MAX, &l->hca_handles));
        SJ_TRY(sj_opt_u64(c, e, "hcaObjects", UINT32_MAX, &l->hca_objects));
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

int sj_parse_resources(struct sj *c, yajl_val v, struct hull_resources *r) {
    r->present = true;
    SJ_TRY(parse_device_rules(c, v, r));
    SJ_SUBOBJ(c, v, "memory", parse_memory, r);
    SJ_SUBOBJ(c, v, "cpu", parse_cpu, r);
    SJ_SUBOBJ(c, v, "pids", parse_pids, r);
    SJ_SUBOBJ(c, v, "blockIO", parse_block_io, r);
    SJ_TRY(parse_hugepages(c, v, r));
    SJ_SUBOBJ(c, v, "network", parse_network, r);
    SJ_TRY(parse_rdma(c, v, r));
    SJ_TRY(sj_map(c, v, "unified", &r->unified, &r->n_unified));
    return 0;
}
