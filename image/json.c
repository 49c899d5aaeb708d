/* Thin helpers over yajl's tree parser and generator. Every JSON document the
 * image code reads comes from an untrusted archive, so callers check types
 * and never assume a field exists. */
#include "image/internal.h"

#include <stdlib.h>
#include <string.h>

yajl_val ij_parse(const char *text, const char *what, struct hull_err *err) {
    char ebuf[256] = "";
    yajl_val v = yajl_tree_parse(text, ebuf, sizeof ebuf);
    if (!v) {
        char *nl = strchr(ebuf, '\n');
        if (nl) *nl = '\0';
        hull_err_set(err, EINVAL, "%s: invalid JSON: %s", what, ebuf[0] ? ebuf : "parse error");
        return NULL;
    }
    if (!YAJL_IS_OBJECT(v)) {
        yajl_tree_free(v);
        hull_err_set(err, EINVAL, "%s: not a JSON object", what);
        return NULL;
    }
    return v;
}

yajl_val ij_get(yajl_val obj, const char *key) {
    if (!obj || !YAJL_IS_OBJECT(obj)) return NULL;
    yajl_val found = NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)     /* last duplicate wins, like Go */
        if (strcmp(obj->u.object.keys[i], key) == 0) found = obj->u.object.values[i];
    return found && !YAJL_IS_NULL(found) ? found : NULL;
}

const char *ij_str(yajl_val obj, const char *key) {
    yajl_val v = ij_get(obj, key);
    return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

int ij_strv(yajl_val obj, const char *key, char ***out, size_t *n, const char *what,
            struct hull_err *err) {
    *out = NULL;
    *n = 0;
    yajl_val v = ij_get(obj, key);
    if (!v) return 0;
    if (!YAJL_IS_ARRAY(v)) return hull_err_set(err, EINVAL, "%s: %s: not an array", what, key);
    size_t len = v->u.array.len;
    char **r = calloc(len + 1, sizeof *r);
    if (!r) return hull_err_set(err, ENOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < len; i++) {
        yajl_val s = v->u.array.values[i];
        if (!YAJL_IS_STRING(s) || !(r[i] = strdup(s->u.string))) {
            for (size_t j = 0; j < i; j++) free(r[j]);
            free(r);
            return hull_err_set(err, EINVAL, "%s: %s[%zu]: not a string", what, key, i);
        }
    }
    *out = r;
    *n = len;
    return 0;
}

yajl_gen ij_gen_new(void) {
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g) yajl_gen_config(g, yajl_gen_validate_utf8, 0);
    return g;
}

