/* The cgroup's part of the container state file:
 *   {"mode":"hybrid","bpfProgId":0,"dirs":[{"kind":"v1","controllers":"memory",
 *    "mountpoint":"/sys/fs/cgroup/memory","path":"/sys/fs/cgroup/memory/hull/c1",
 *    "created":["/sys/fs/cgroup/memory/hull/c1"]}, ...]}
 * from_json re-checks every path (absolute, no "..", below its mount point):
 * the state file decides what destroy removes, so it must not steer rmdir
 * anywhere else. */
#include "cgroups/cg_internal.h"
#include "base/json_gen.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static const char *mode_name(enum hull_cgroup_mode m) {
    return m == HULL_CG_V1 ? "v1" : m == HULL_CG_V2 ? "v2" : "hybrid";
}

char *hull_cgroup_to_json(const struct hull_cgroup *cg) {
    if (!cg) return NULL;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return NULL;
    yajl_gen_map_open(g);
    jg_str(g, "mode");
    jg_str(g, mode_name(cg->mode));
    jg_kint(g, "bpfProgId", cg->bpf_prog_id);
    jg_str(g, "dirs");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < cg->n_dirs; i++) {
        const struct cg_dir *d = &cg->dirs[i];
        yajl_gen_map_open(g);
        jg_str(g, "kind");
        jg_str(g, d->kind == CG_V1 ? "v1" : "v2");
        jg_str(g, "controllers");
        jg_str(g, d->controllers);
        jg_str(g, "mountpoint");
        jg_str(g, d->mountpoint);
        jg_str(g, "path");
        jg_str(g, d->path);
        jg_str(g, "created");
        yajl_gen_array_open(g);
        for (size_t k = 0; k < d->n_created; k++) jg_str(g, d->created[k]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return jg_take(g, false, NULL);
}

static bool below(const char *path, const char *mount) {
    size_t ml = strlen(mount);
    if (mount[0] != '/' || strncmp(path, mount, ml) != 0) return false;
    if (path[ml] != '/' && path[ml] != '\0') return false;
    for (const char *p = path; (p = strstr(p, "/..")); p += 3)
        if (p[3] == '/' || p[3] == '\0') return false;
    return true;
}

static const char *str_at(yajl_val obj, const char *key) {
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static int parse_dir(yajl_val o, struct cg_dir *d, struct hull_err *err) {
    const char *kind = str_at(o, "kind"), *ctl = str_at(o, "controllers");
    const char *mp = str_at(o, "mountpoint"), *path = str_at(o, "path");
    if (!kind || !ctl || !mp || !path || (strcmp(kind, "v1") && strcmp(kind, "v2")))
        return hull_err_set(err, EINVAL, "cgroup state: dir entry lacks kind/controllers/mountpoint/path");
    if (!below(path, mp))
        return hull_err_set(err, EINVAL, "cgroup state: path \"%s\" is not below \"%s\"", path, mp);
    d->kind = kind[1] == '1' ? CG_V1 : CG_V2;
    d->controllers = strdup(ctl);
    d->mountpoint = strdup(mp);
    d->path = strdup(path);
    if (!d->controllers || !d->mountpoint || !d->path) return hull_err_set(err, ENOMEM, "out of memory");
    const char *cp[] = { "created", NULL };
    yajl_val arr = yajl_tree_get(o, cp, yajl_t_array);
    size_t n = arr ? YAJL_GET_ARRAY(arr)->len : 0;
    if (n && !(d->created = calloc(n, sizeof *d->created))) return hull_err_set(err, ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        yajl_val s = YAJL_GET_ARRAY(arr)->values[k];
        const char *c = YAJL_IS_STRING(s) ? YAJL_GET_STRING(s) : NULL;
        /* created dirs are the path itself or its ancestors below the mount */
        size_t cl = c ? strlen(c) : 0;
        if (!c || !below(c, mp) || strcmp(c, mp) == 0 || strncmp(path, c, cl) != 0 ||
            (path[cl] != '/' && path[cl] != '\0'))
            return hull_err_set(err, EINVAL, "cgroup state: created dir \"%s\" is not part of \"%s\"",
                                c ? c : "?", path);
        if (!(d->created[k] = strdup(c))) return hull_err_set(err, ENOMEM, "out of memory");
        d->n_created++;
    }
    return 0;
}

int hull_cgroup_from_json(const char *json, struct hull_cgroup **out, struct hull_err *err) {
    *out = NULL;
    char ebuf[256];
    yajl_val root = yajl_tree_parse(json, ebuf, sizeof ebuf);
    if (!root) return hull_err_set(err, EINVAL, "cgroup state: %s", ebuf);
    int r = 0;
    struct hull_cgroup *cg = calloc(1, sizeof *cg);
    const char *mode = str_at(root, "mode");
    const char *dp[] = { "dirs", NULL }, *bp[] = { "bpfProgId", NULL };
    yajl_val dirs = yajl_tree_get(root, dp, yajl_t_array);
    yajl_val bpf = yajl_tree_get(root, bp, yajl_t_number);
    if (!cg) { r = hull_err_set(err, ENOMEM, "out of memory"); goto out; }
    if (!mode || !dirs) { r = hull_err_set(err, EINVAL, "cgroup state: missing \"mode\" or \"dirs\""); goto out; }
    if (!strcmp(mode, "v1")) cg->mode = HULL_CG_V1;
    else if (!strcmp(mode, "v2")) cg->mode = HULL_CG_V2;
    else if (!strcmp(mode, "hybrid")) cg->mode = HULL_CG_HYBRID;
    else { r = hull_err_set(err, EINVAL, "cgroup state: unknown mode \"%s\"", mode); goto out; }
    if (bpf && YAJL_IS_INTEGER(bpf) && YAJL_GET_INTEGER(bpf) > 0 && YAJL_GET_INTEGER(bpf) <= UINT32_MAX)
        cg->bpf_prog_id = (uint32_t)YAJL_GET_INTEGER(bpf);
    size_t n = YAJL_GET_ARRAY(dirs)->len;
    if (n && !(cg->dirs = calloc(n, sizeof *cg->dirs))) { r = hull_err_set(err, ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < n && r == 0; i++) {
        yajl_val o = YAJL_GET_ARRAY(dirs)->values[i];
        if (!YAJL_IS_OBJECT(o)) { r = hull_err_set(err, EINVAL, "cgroup state: dirs[%zu] is not an object", i); break; }
        cg->n_dirs++;
        r = parse_dir(o, &cg->dirs[i], err);
    }
out:
    yajl_tree_free(root);
    if (r < 0) hull_cgroup_free(cg);
    else *out = cg;
    return r;
}
