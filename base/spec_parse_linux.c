/* config.json "linux": everything except linux.resources (spec_parse_resources.c).
 * Namespace types and seccomp actions/operators become enums here, so an
 * unknown name is a parse error naming the field. */
#include "base/spec_json.h"

#include <string.h>

/* Runs the trailing statements for element i of array `a` (found under `key`),
 * with the path set; variadic because the statements may contain commas. */
#define FOR_EACH(key, a, i, ...)                                   \
    do {                                                           \
        size_t _mk = sj_push_key(c, key);                          \
        for (size_t i = 0; i < (a)->u.array.len; i++) {            \
            size_t _mi = sj_push_index(c, i);                      \
            __VA_ARGS__;                                           \
            sj_pop(c, _mi);                                        \
        }                                                          \
        sj_pop(c, _mk);                                            \
    } while (0)

#define ALLOC_N(ptr, n) \
    do { if (!((ptr) = hull_arena_alloc(c->arena, ((n) ? (n) : 1) * sizeof *(ptr)))) return sj_oom(c); } while (0)

/* Fails on field `key` of the current object with a message. */
static int fail_at(struct sj *c, const char *key, const char *what, const char *val) {
    size_t m = sj_push_key(c, key);
    int r = sj_fail(c, "%s \"%.64s\"", what, val);
    sj_pop(c, m);
    return r;
}

static int parse_namespaces(struct sj *c, yajl_val lnx, struct hull_linux *l) {
    yajl_val a;
    SJ_TRY(sj_arr(c, lnx, "namespaces", false, &a));
    if (!a) return 0;
    l->n_namespaces = a->u.array.len;
    ALLOC_N(l->namespaces, l->n_namespaces);
    FOR_EACH("namespaces", a, i, {
        yajl_val e = a->u.array.values[i];
        struct hull_namespace *ns = &l->namespaces[i];
        char *type;
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_str(c, e, "type", true, &type));
        int t = -1;
        for (int k = 0; k < HULL_NS__COUNT; k++)
            if (strcmp(hull_ns_type_name((enum hull_ns_type)k), type) == 0) t = k;
        if (t < 0) return fail_at(c, "type", "unknown namespace type", type);
        ns->type = (enum hull_ns_type)t;
        SJ_TRY(sj_str(c, e, "path", false, &ns->path));
    });
    return 0;
}

static int parse_devices(struct sj *c, yajl_val lnx, struct hull_linux *l) {
    yajl_val a;
    SJ_TRY(sj_arr(c, lnx, "devices", false, &a));
    if (!a) return 0;
    l->n_devices = a->u.array.len;
    ALLOC_N(l->devices, l->n_devices);
    FOR_EACH("devices", a, i, {
        yajl_val e = a->u.array.values[i];
        struct hull_device *d = &l->devices[i];
        char *type;
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_str(c, e, "path", true, &d->path));
        SJ_TRY(sj_str(c, e, "type", true, &type));
        if (strlen(type) != 1) return fail_at(c, "type", "expected one of c, b, u, p, got", type);
        d->type = type[0];
        SJ_TRY(sj_i64(c, e, "major", false, INT64_MIN, INT64_MAX, &d->major));
        SJ_TRY(sj_i64(c, e, "minor", false, INT64_MIN, INT64_MAX, &d->minor));
        SJ_TRY(sj_opt_u64(c, e, "fileMode", UINT32_MAX, &d->file_mode));
        SJ_TRY(sj_opt_u64(c, e, "uid", UINT32_MAX, &d->uid));
        SJ_TRY(sj_opt_u64(c, e, "gid", UINT32_MAX, &d->gid));
    });
    return 0;
}

static const char *const scmp_actions[] = {
    [HULL_SCMP_KILL] = "SCMP_ACT_KILL",       [HULL_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [HULL_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [HULL_SCMP_TRAP] = "SCMP_ACT_TRAP",
    [HULL_SCMP_ERRNO] = "SCMP_ACT_ERRNO",     [HULL_SCMP_TRACE] = "SCMP_ACT_TRACE",
    [HULL_SCMP_ALLOW] = "SCMP_ACT_ALLOW",     [HULL_SCMP_LOG] = "SCMP_ACT_LOG",
    [HULL_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const scmp_ops[] = {
    [HULL_SCMP_CMP_NE] = "SCMP_CMP_NE", [HULL_SCMP_CMP_LT] = "SCMP_CMP_LT",
    [HULL_SCMP_CMP_LE] = "SCMP_CMP_LE", [HULL_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
    [HULL_SCMP_CMP_GE] = "SCMP_CMP_GE", [HULL_SCMP_CMP_GT] = "SCMP_CMP_GT",
    [HULL_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int lookup(const char *const *tab, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (tab[i] && strcmp(tab[i], name) == 0) return (int)i;
    return -1;
}

static int parse_action(struct sj *c, yajl_val o, const char *key, enum hull_seccomp_action *out) {
    char *name;
    SJ_TRY(sj_str(c, o, key, true, &name));
    int a = lookup(scmp_actions, sizeof scmp_actions / sizeof scmp_actions[0], name);
    if (a < 0) return fail_at(c, key, "unknown seccomp action", name);
    *out = (enum hull_seccomp_action)a;
    return 0;
}

static int parse_seccomp_rule(struct sj *c, yajl_val e, struct hull_seccomp_rule *r) {
    SJ_TRY(sj_v_obj(c, e));
    if (!sj_field(e, "names")) {
        size_t m = sj_push_key(c, "names");
        int rc = sj_fail(c, "required field missing");
        sj_pop(c, m);
        return rc;
    }
    SJ_TRY(sj_strv(c, e, "names", &r->names, &r->n_names));
    SJ_TRY(parse_action(c, e, "action", &r->action));
    SJ_TRY(sj_opt_u64(c, e, "errnoRet", UINT32_MAX, &r->errno_ret));
    yajl_val a;
    SJ_TRY(sj_arr(c, e, "args", false, &a));
    if (!a) return 0;
    r->n_args = a->u.array.len;
    ALLOC_N(r->args, r->n_args);
    FOR_EACH("args", a, i, {
        yajl_val x = a->u.array.values[i];
        struct hull_seccomp_arg *arg = &r->args[i];
        SJ_TRY(sj_v_obj(c, x));
        SJ_TRY(sj_u32(c, x, "index", true, &arg->index));
        hull_opt_u64 val = { 0 }, two = { 0 };
        SJ_TRY(sj_opt_u64(c, x, "value", UINT64_MAX, &val));
        if (!val.set) {
            sj_push_key(c, "value");
            return sj_fail(c, "required field missing");
        }
        arg->value = val.v;
        SJ_TRY(sj_opt_u64(c, x, "valueTwo", UINT64_MAX, &two));
        arg->value_two = two.v;
        char *op;
        SJ_TRY(sj_str(c, x, "op", true, &op));
        int o = lookup(scmp_ops, sizeof scmp_ops / sizeof scmp_ops[0], op);
        if (o < 0) return fail_at(c, "op", "unknown seccomp operator", op);
        arg->op = (enum hull_seccomp_op)o;
    });
    return 0;
}

static int parse_seccomp(struct sj *c, yajl_val v, struct hull_seccomp *s) {
    s->present = true;
    SJ_TRY(parse_action(c, v, "defaultAction", &s->default_action));
    SJ_TRY(sj_opt_u64(c, v, "defaultErrnoRet", UINT32_MAX, &s->default_errno_ret));
    SJ_TRY(sj_strv(c, v, "architectures", &s->architectures, &s->n_architectures));
    SJ_TRY(sj_strv(c, v, "flags", &s->flags, &s->n_flags));
    SJ_TRY(sj_str(c, v, "listenerPath", false, &s->listener_path));
    SJ_TRY(sj_str(c, v, "listenerMetadata", false, &s->listener_metadata));
    yajl_val a;
    SJ_TRY(sj_arr(c, v, "syscalls", false, &a));
    if (!a) return 0;
    s->n_syscalls = a->u.array.len;
    ALLOC_N(s->syscalls, s->n_syscalls);
    FOR_EACH("syscalls", a, i, SJ_TRY(parse_seccomp_rule(c, a->u.array.values[i], &s->syscalls[i])));
    return 0;
}

static int parse_time_offset(struct sj *c, yajl_val offs, const char *key, struct hull_time_offset *t) {
    yajl_val o;
    SJ_TRY(sj_obj(c, offs, key, false, &o));
    if (!o) return 0;
    size_t m = sj_push_key(c, key);
    t->present = true;
    SJ_TRY(sj_i64(c, o, "secs", false, INT64_MIN, INT64_MAX, &t->secs));
    SJ_TRY(sj_u32(c, o, "nanosecs", false, &t->nanosecs));
    sj_pop(c, m);
    return 0;
}

static int parse_time_offsets(struct sj *c, yajl_val v, struct hull_linux *l) {
    SJ_TRY(parse_time_offset(c, v, "boottime", &l->time_boottime));
    SJ_TRY(parse_time_offset(c, v, "monotonic", &l->time_monotonic));
    return 0;
}

static int parse_personality(struct sj *c, yajl_val v, struct hull_personality *p) {
    p->present = true;
    SJ_TRY(sj_str(c, v, "domain", true, &p->domain));
    SJ_TRY(sj_strv(c, v, "flags", &p->flags, &p->n_flags));
    return 0;
}

int sj_parse_linux(struct sj *c, yajl_val v, struct hull_linux *l) {
    SJ_TRY(sj_idmaps(c, v, "uidMappings", &l->uid_mappings, &l->n_uid_mappings));
    SJ_TRY(sj_idmaps(c, v, "gidMappings", &l->gid_mappings, &l->n_gid_mappings));
    SJ_TRY(sj_map(c, v, "sysctl", &l->sysctl, &l->n_sysctl));
    SJ_SUBOBJ(c, v, "resources", sj_parse_resources, &l->resources);
    SJ_TRY(sj_str(c, v, "cgroupsPath", false, &l->cgroups_path));
    SJ_TRY(parse_namespaces(c, v, l));
    SJ_TRY(parse_devices(c, v, l));
    SJ_SUBOBJ(c, v, "seccomp", parse_seccomp, &l->seccomp);
    SJ_TRY(sj_str(c, v, "rootfsPropagation", false, &l->rootfs_propagation));
    SJ_TRY(sj_strv(c, v, "maskedPaths", &l->masked_paths, &l->n_masked_paths));
    SJ_TRY(sj_strv(c, v, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths));
    SJ_TRY(sj_str(c, v, "mountLabel", false, &l->mount_label));
    SJ_SUBOBJ(c, v, "timeOffsets", parse_time_offsets, l);
    SJ_SUBOBJ(c, v, "personality", parse_personality, &l->personality);
    yajl_val o;
    SJ_TRY(sj_obj(c, v, "intelRdt", false, &o));
    l->has_intel_rdt = o != NULL;
    SJ_TRY(sj_obj(c, v, "netDevices", false, &o));
    l->has_net_devices = o != NULL;
    return 0;
}
