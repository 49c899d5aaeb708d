/* config.json -> struct hull_spec: the document's top level (ociVersion, root,
 * hostname, mounts, hooks, annotations) and the entry points. process and
 * linux live in spec_parse_process.c / spec_parse_linux.c. The parser checks
 * types, required fields and ranges; meaning is spec_validate.c's job. */
#include "base/hooks.h"
#include "base/spec_json.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_mount(struct sj *c, yajl_val v, struct hull_mount *m) {
    SJ_TRY(sj_v_obj(c, v));
    SJ_TRY(sj_str(c, v, "destination", true, &m->destination));
    SJ_TRY(sj_str(c, v, "type", false, &m->type));
    SJ_TRY(sj_str(c, v, "source", false, &m->source));
    SJ_TRY(sj_strv(c, v, "options", &m->options, &m->n_options));
    SJ_TRY(sj_idmaps(c, v, "uidMappings", &m->uid_mappings, &m->n_uid_mappings));
    SJ_TRY(sj_idmaps(c, v, "gidMappings", &m->gid_mappings, &m->n_gid_mappings));
    return 0;
}

static int parse_mounts(struct sj *c, yajl_val doc, struct hull_spec *s) {
    yajl_val a;
    SJ_TRY(sj_arr(c, doc, "mounts", false, &a));
    if (!a) return 0;
    s->n_mounts = a->u.array.len;
    s->mounts = hull_arena_alloc(c->arena, (s->n_mounts ? s->n_mounts : 1) * sizeof *s->mounts);
    if (!s->mounts) return sj_oom(c);
    size_t mark = sj_push_key(c, "mounts");
    for (size_t i = 0; i < s->n_mounts; i++) {
        size_t m2 = sj_push_index(c, i);
        SJ_TRY(parse_mount(c, a->u.array.values[i], &s->mounts[i]));
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_hook(struct sj *c, yajl_val v, struct hull_hook *h) {
    SJ_TRY(sj_v_obj(c, v));
    SJ_TRY(sj_str(c, v, "path", true, &h->path));
    SJ_TRY(sj_strv(c, v, "args", &h->args, &h->n_args));
    SJ_TRY(sj_strv(c, v, "env", &h->env, &h->n_env));
    SJ_TRY(sj_opt_i64(c, v, "timeout", INT64_MIN, INT64_MAX, &h->timeout));
    return 0;
}

static int parse_hooks(struct sj *c, yajl_val doc, struct hull_hooks *hooks) {
    yajl_val o;
    SJ_TRY(sj_obj(c, doc, "hooks", false, &o));
    if (!o) return 0;
    size_t mark = sj_push_key(c, "hooks");
    for (int k = 0; k < HULL_HOOK__COUNT; k++) {
        yajl_val a;
        SJ_TRY(sj_arr(c, o, hull_hook_kind_name(k), false, &a));
        if (!a) continue;
        size_t n = a->u.array.len;
        hooks->n[k] = n;
        hooks->list[k] = hull_arena_alloc(c->arena, (n ? n : 1) * sizeof *hooks->list[k]);
        if (!hooks->list[k]) return sj_oom(c);
        size_t m2 = sj_push_key(c, hull_hook_kind_name(k));
        for (size_t i = 0; i < n; i++) {
            size_t m3 = sj_push_index(c, i);
            SJ_TRY(parse_hook(c, a->u.array.values[i], &hooks->list[k][i]));
            sj_pop(c, m3);
        }
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    return 0;
}

static int parse_doc(struct sj *c, yajl_val doc, struct hull_spec *s) {
    if (!YAJL_IS_OBJECT(doc)) return sj_fail(c, "expected a JSON object at the top level");
    SJ_TRY(sj_str(c, doc, "ociVersion", false, &s->oci_version));

    yajl_val root;
    SJ_TRY(sj_obj(c, doc, "root", false, &root));
    if (root) {
        size_t mark = sj_push_key(c, "root");
        SJ_TRY(sj_str(c, root, "path", false, &s->root_path));
        SJ_TRY(sj_bool(c, root, "readonly", &s->root_readonly));
        sj_pop(c, mark);
    }

    yajl_val proc;
    SJ_TRY(sj_obj(c, doc, "process", false, &proc));
    if (proc) {
        size_t mark = sj_push_key(c, "process");
        SJ_TRY(sj_parse_process(c, proc, &s->process));
        sj_pop(c, mark);
        s->has_process = true;
    }

    SJ_TRY(sj_str(c, doc, "hostname", false, &s->hostname));
    SJ_TRY(sj_str(c, doc, "domainname", false, &s->domainname));
    SJ_TRY(parse_mounts(c, doc, s));
    SJ_TRY(parse_hooks(c, doc, &s->hooks));
    SJ_TRY(sj_map(c, doc, "annotations", &s->annotations, &s->n_annotations));

    yajl_val lnx;
    SJ_TRY(sj_obj(c, doc, "linux", false, &lnx));
    if (lnx) {
        size_t mark = sj_push_key(c, "linux");
        SJ_TRY(sj_parse_linux(c, lnx, &s->linux));
        sj_pop(c, mark);
        s->linux.present = true;
    }
    return 0;
}

static struct hull_spec *spec_new(void) {
    struct hull_arena *a = hull_arena_new();
    struct hull_spec *s = a ? hull_arena_alloc(a, sizeof *s) : NULL;
    if (!s) { hull_arena_free(a); return NULL; }
    s->arena = a;
    return s;
}

static void sj_init(struct sj *c, struct hull_spec *s, struct hull_err *err, const char *prefix) {
    memset(c, 0, sizeof *c);
    c->arena = s->arena;
    c->err = err;
    c->prefix = prefix;
}

int hull_spec_parse(const char *json, size_t len, struct hull_spec **out, struct hull_err *err) {
    *out = NULL;
    if (!json) return hull_err_set(err, EINVAL, "config.json: no input");
    struct hull_spec *s = spec_new();
    if (!s) return hull_err_set(err, ENOMEM, "config.json: out of memory");
    struct sj c;
    sj_init(&c, s, err, "config.json: ");
    yajl_val doc = sj_parse_text(&c, json, len);
    if (!doc) {
        hull_spec_free(s);
        return -EINVAL;
    }
    int r = parse_doc(&c, doc, s);
    yajl_tree_free(doc);
    if (r < 0) {
        hull_spec_free(s);
        return r;
    }
    *out = s;
    return 0;
}

/* A fragment of the spec in a file of its own (exec --process, update
 * --resources): parsed into a fresh owner so one hull_spec_free releases it. */
static int parse_fragment(const char *json, size_t len, const char *prefix, struct hull_spec **out_owner,
                          int (*parse)(struct sj *, yajl_val, struct hull_spec *), struct hull_err *err) {
    *out_owner = NULL;
    if (!json) return hull_err_set(err, EINVAL, "%sno input", prefix);
    struct hull_spec *s = spec_new();
    if (!s) return hull_err_set(err, ENOMEM, "%sout of memory", prefix);
    struct sj c;
    sj_init(&c, s, err, prefix);
    yajl_val doc = sj_parse_text(&c, json, len);
    if (!doc) {
        hull_spec_free(s);
        return -EINVAL;
    }
    int r = YAJL_IS_OBJECT(doc) ? parse(&c, doc, s) : sj_fail(&c, "expected a JSON object at the top level");
    yajl_tree_free(doc);
    if (r < 0) {
        hull_spec_free(s);
        return r;
    }
    *out_owner = s;
    return 0;
}

static int process_fragment(struct sj *c, yajl_val doc, struct hull_spec *s) {
    int r = sj_parse_process(c, doc, &s->process);
    if (r < 0) return r;
    s->has_process = true;
    return sj_validate_process(&s->process, c->prefix, "", c->err);
}

static int resources_fragment(struct sj *c, yajl_val doc, struct hull_spec *s) {
    int r = sj_parse_resources(c, doc, &s->linux.resources);
    s->linux.resources.present = r == 0;
    return r;
}

int hull_process_parse(const char *json, size_t len, struct hull_spec **out_owner, struct hull_err *err) {
    return parse_fragment(json, len, "process.json: ", out_owner, process_fragment, err);
}

int hull_resources_parse(const char *json, size_t len, struct hull_spec **out_owner, struct hull_err *err) {
    return parse_fragment(json, len, "resources: ", out_owner, resources_fragment, err);
}

void hull_spec_free(struct hull_spec *spec) {
    if (spec) hull_arena_free(spec->arena);   /* the spec itself lives in its arena */
}
