/* A microVM container's view of its OCI config (see config.h). */
#include "vm/executor/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define MIB (1ull << 20)

unsigned hull_vm_cpuset_count(const char *list) {
    if (!list || !*list) return 0;
    unsigned count = 0;
    const char *p = list;
    while (*p) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b;
        if (end == p || a > 65535) return 0;
        b = a;
        if (*end == '-') {
            const char *q = end + 1;
            b = strtoul(q, &end, 10);
            if (end == q || b < a || b > 65535) return 0;
        }
        count += (unsigned)(b - a + 1);
        if (*end == ',') end++;
        else if (*end) return 0;
        p = end;
    }
    return count;
}

void hull_vm_size_from_resources(const struct hull_resources *r, unsigned host_cpus, struct hull_vm_size *out) {
    uint64_t mem = HULL_VM_DEFAULT_MEM;
    if (r->memory.limit.set && r->memory.limit.v > 0) {
        mem = (uint64_t)r->memory.limit.v;
        /* A guest smaller than this does not boot: the container gets more
         * than it asked for rather than nothing. */
        if (mem < HULL_VM_MIN_MEM) mem = HULL_VM_MIN_MEM;
        if (mem > (1ull << 40)) mem = 1ull << 40;
    }
    mem = (mem + 2 * MIB - 1) & ~(2 * MIB - 1);
    out->mem_bytes = mem;

    unsigned v = 0;
    if (r->cpu.quota.set && r->cpu.quota.v > 0) {
        uint64_t period = r->cpu.period.set && r->cpu.period.v ? r->cpu.period.v : 100000;
        uint64_t n = ((uint64_t)r->cpu.quota.v + period - 1) / period;
        v = n > HULL_VM_MAX_VCPUS ? HULL_VM_MAX_VCPUS : (unsigned)n;
    } else if (r->cpu.cpus && *r->cpu.cpus) {
        v = hull_vm_cpuset_count(r->cpu.cpus);
    }
    if (v == 0) v = 1;
    if (host_cpus && v > host_cpus) v = host_cpus;
    if (v > HULL_VM_MAX_VCPUS) v = HULL_VM_MAX_VCPUS;
    out->vcpus = v;

    /* Guest RAM is anonymous memory of the VMM, touched as the guest uses it.
     * On top: the VMM itself (~2 MiB), KVM's page tables for the guest
     * (accounted to the cgroup) and the page cache of the disk images. */
    out->cgroup_limit = mem + 64 * MIB + mem / 64;
}

int hull_vm_host_resources(struct hull_arena *arena, const struct hull_vm_size *sz, struct hull_resources *res,
                           struct hull_err *err) {
    if (res->memory.limit.set && res->memory.limit.v > 0) {
        int64_t grow = (int64_t)sz->cgroup_limit - res->memory.limit.v;
        res->memory.limit.v = (int64_t)sz->cgroup_limit;
        /* swap is memory+swap (v1 memsw; v2 takes it as such from the spec):
         * it must stay >= the memory limit */
        if (res->memory.swap.set && res->memory.swap.v > 0 && grow > 0) res->memory.swap.v += grow;
        if (res->memory.reservation.set && res->memory.reservation.v > res->memory.limit.v)
            res->memory.reservation.v = res->memory.limit.v;
    }
    res->pids.limit.set = false;
    res->pids.present = false;
    struct hull_device_rule *rules = hull_arena_alloc(arena, (res->n_devices + 1) * sizeof *rules);
    if (!rules) return hull_err_set(err, ENOMEM, "VM host resources: out of memory");
    if (res->n_devices) memcpy(rules, res->devices, res->n_devices * sizeof *rules);
    /* last: it wins over any deny the config had for it */
    rules[res->n_devices] = (struct hull_device_rule){.allow = true, .type = 'c', .major = 10, .minor = 232,
                                                      .access = "rw"};
    res->devices = rules;
    res->n_devices++;
    res->present = true;
    return 0;
}

/* ---- the guest's config.json ------------------------------------------- */

#include "base/json_gen.h"

static bool is_bind_mount(yajl_val m) {
    if (!YAJL_IS_OBJECT(m)) return false;
    const char *tp[] = {"type", NULL}, *op[] = {"options", NULL};
    yajl_val t = yajl_tree_get(m, tp, yajl_t_string);
    const char *type = t ? YAJL_GET_STRING(t) : NULL;
    if (type && strcmp(type, "bind") == 0) return true;
    yajl_val o = yajl_tree_get(m, op, yajl_t_array);
    for (size_t i = 0; o && i < o->u.array.len; i++) {
        const char *s = YAJL_GET_STRING(o->u.array.values[i]);
        if (s && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0)) return true;
    }
    return false;
}

/* Re-emits v; at depth 1, the array under "mounts" loses its bind mounts. */
static int emit(yajl_gen g, yajl_val v, bool is_mounts, size_t *dropped) {
    switch (v->type) {
    case yajl_t_string: return jg_str(g, v->u.string);
    case yajl_t_number: return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    case yajl_t_true: return yajl_gen_bool(g, 1);
    case yajl_t_false: return yajl_gen_bool(g, 0);
    case yajl_t_null: return yajl_gen_null(g);
    case yajl_t_array:
        if (yajl_gen_array_open(g) != yajl_gen_status_ok) return -1;
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (is_mounts && is_bind_mount(v->u.array.values[i])) {
                (*dropped)++;
                continue;
            }
            if (emit(g, v->u.array.values[i], false, dropped) != yajl_gen_status_ok) return -1;
        }
        return yajl_gen_array_close(g);
    case yajl_t_object:
        if (yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (jg_str(g, v->u.object.keys[i]) != yajl_gen_status_ok) return -1;
            if (emit(g, v->u.object.values[i], false, dropped) != yajl_gen_status_ok) return -1;
        }
        return yajl_gen_map_close(g);
    default:
        return -1;
    }
}

/* The "process" object, with consoleSize added when it has none. */
static int emit_process(yajl_gen g, yajl_val v, unsigned rows, unsigned cols, size_t *dropped) {
    if (!YAJL_IS_OBJECT(v) || !rows || !cols) return emit(g, v, false, dropped);
    if (yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
    bool sized = false;
    for (size_t i = 0; i < v->u.object.len; i++) {
        if (strcmp(v->u.object.keys[i], "consoleSize") == 0) sized = true;
        if (jg_str(g, v->u.object.keys[i]) != yajl_gen_status_ok ||
            emit(g, v->u.object.values[i], false, dropped) != yajl_gen_status_ok)
            return -1;
    }
    if (!sized) {
        jg_str(g, "consoleSize");
        yajl_gen_map_open(g);
        jg_kint(g, "height", rows);
        jg_kint(g, "width", cols);
        yajl_gen_map_close(g);
    }
    return yajl_gen_map_close(g);
}

int hull_vm_guest_config_sized(const char *json, size_t len, unsigned rows, unsigned cols, char **out,
                               size_t *out_len, size_t *dropped, struct hull_err *err) {
    *out = NULL;
    *dropped = 0;
    char *text = malloc(len + 1);
    if (!text) return hull_err_set(err, ENOMEM, "guest config: out of memory");
    memcpy(text, json, len);
    text[len] = '\0';
    char ebuf[256] = "";
    yajl_val root = yajl_tree_parse(text, ebuf, sizeof ebuf);
    free(text);
    if (!root || !YAJL_IS_OBJECT(root)) {
        if (root) yajl_tree_free(root);
        ebuf[strcspn(ebuf, "\n")] = '\0';   /* yajl adds the text and a caret on more lines */
        return hull_err_set(err, EINVAL, "guest config: config.json is not a JSON object: %s", ebuf);
    }
    yajl_gen g = yajl_gen_alloc(NULL);
    int rc = g ? 0 : hull_err_set(err, ENOMEM, "guest config: out of memory");
    if (rc == 0 && yajl_gen_map_open(g) != yajl_gen_status_ok) rc = -1;
    for (size_t i = 0; rc == 0 && i < root->u.object.len; i++) {
        const char *k = root->u.object.keys[i];
        if (jg_str(g, k) != yajl_gen_status_ok) rc = -1;
        else if (strcmp(k, "process") == 0) {
            if (emit_process(g, root->u.object.values[i], rows, cols, dropped) != yajl_gen_status_ok) rc = -1;
        } else if (emit(g, root->u.object.values[i], strcmp(k, "mounts") == 0, dropped) != yajl_gen_status_ok) {
            rc = -1;
        }
    }
    if (rc == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok) rc = -1;
    if (rc == 0) {
        if (!(*out = jg_copy(g, false, out_len))) rc = hull_err_set(err, ENOMEM, "guest config: out of memory");
    } else if (g) {
        rc = hull_err_set(err, EINVAL, "guest config: cannot re-encode config.json");
    }
    if (g) yajl_gen_free(g);
    yajl_tree_free(root);
    return rc;
}

/* ---- a process as JSON -------------------------------------------------- */

static void caps_set(yajl_gen g, const char *key, uint64_t bits) {
    jg_str(g, key);
    yajl_gen_array_open(g);
    for (int c = 0; c < 64; c++) {
        if (!(bits & (1ull << c))) continue;
        const char *name = hull_cap_name(c);
        if (name) jg_str(g, name);
    }
    yajl_gen_array_close(g);
}

char *hull_vm_process_json(const struct hull_process *p, size_t *len) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    yajl_gen_map_open(g);
    jg_kbool(g, "terminal", p->terminal);
    if (p->has_console_size) {
        jg_str(g, "consoleSize");
        yajl_gen_map_open(g);
        jg_kint(g, "height", p->console_height);
        jg_kint(g, "width", p->console_width);
        yajl_gen_map_close(g);
    }
    jg_str(g, "user");
    yajl_gen_map_open(g);
    jg_kint(g, "uid", p->user.uid);
    jg_kint(g, "gid", p->user.gid);
    if (p->user.umask.set) {
        jg_kint(g, "umask", (long long)p->user.umask.v);
    }
    if (p->user.n_additional_gids) {
        jg_str(g, "additionalGids");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < p->user.n_additional_gids; i++) yajl_gen_integer(g, p->user.additional_gids[i]);
        yajl_gen_array_close(g);
    }
    yajl_gen_map_close(g);
    jg_kstrn(g, "args", p->args, p->n_args);
    jg_kstrn(g, "env", p->env, p->n_env);
    jg_str(g, "cwd");
    jg_str(g, p->cwd && *p->cwd ? p->cwd : "/");
    if (p->caps.present) {
        jg_str(g, "capabilities");
        yajl_gen_map_open(g);
        caps_set(g, "bounding", p->caps.bounding);
        caps_set(g, "effective", p->caps.effective);
        caps_set(g, "inheritable", p->caps.inheritable);
        caps_set(g, "permitted", p->caps.permitted);
        caps_set(g, "ambient", p->caps.ambient);
        yajl_gen_map_close(g);
    }
    if (p->n_rlimits) {
        jg_str(g, "rlimits");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < p->n_rlimits; i++) {
            yajl_gen_map_open(g);
            jg_str(g, "type");
            jg_str(g, p->rlimits[i].type);
            char num[32];
            jg_str(g, "hard");   /* uint64 in the spec: above LLONG_MAX too */
            yajl_gen_number(g, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)p->rlimits[i].hard));
            jg_str(g, "soft");
            yajl_gen_number(g, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)p->rlimits[i].soft));
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
    }
    jg_kbool(g, "noNewPrivileges", p->no_new_privileges);
    if (p->oom_score_adj.set) {
        jg_kint(g, "oomScoreAdj", p->oom_score_adj.v);
    }
    yajl_gen_map_close(g);
    return jg_take(g, false, len);
}
