/* Internal to the spec parser: typed getters over a yajl tree that keep track
 * of where they are ("linux.namespaces[2].type"), so every error message names
 * the offending field. Not for use outside base/spec_parse*.c. */
#ifndef HULL_BASE_SPEC_JSON_H
#define HULL_BASE_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "base/spec.h"

#define SJ_MAX_DEPTH 64            /* deeper documents are refused before yajl sees them */
#define SJ_MAX_INPUT (64u << 20)   /* config.json larger than this is refused */

struct sj {
    struct hull_arena *arena;
    struct hull_err *err;
    const char *prefix;         /* "config.json: " */
    char nul_mark[4];           /* UTF-8 stand-in for \u0000 (see sj_parse_text), "" if none */
    char path[384];
    size_t plen;
};

/* Parses text into a tree after the depth/NUL pre-scan; NULL + error on failure. */
yajl_val sj_parse_text(struct sj *c, const char *json, size_t len);

/* Error "<prefix><path>: <message>"; returns -EINVAL. */
int sj_fail(struct sj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Error "<prefix>out of memory"; returns -ENOMEM. For a NULL from the arena. */
int sj_oom(struct sj *c);

/* Path stack: push returns the length to restore with sj_pop. */
size_t sj_push_key(struct sj *c, const char *key);
size_t sj_push_index(struct sj *c, size_t i);
static inline void sj_pop(struct sj *c, size_t mark) { c->plen = mark; c->path[mark] = '\0'; }

/* Field lookup (last duplicate wins, like Go's encoding/json); JSON null reads
 * as absent. */
yajl_val sj_field(yajl_val obj, const char *key);

/* Value-level checks: the path must already name v. */
int sj_v_str(struct sj *c, yajl_val v, char **out);
int sj_v_bool(struct sj *c, yajl_val v, bool *out);
int sj_v_u64(struct sj *c, yajl_val v, uint64_t max, uint64_t *out);
int sj_v_i64(struct sj *c, yajl_val v, int64_t min, int64_t max, int64_t *out);
int sj_v_obj(struct sj *c, yajl_val v);
int sj_v_arr(struct sj *c, yajl_val v);

/* Field-level getters. Absent fields leave *out untouched unless `required`,
 * in which case they fail with "required field missing". */
int sj_str(struct sj *c, yajl_val obj, const char *key, bool required, char **out);
int sj_bool(struct sj *c, yajl_val obj, const char *key, bool *out);
int sj_opt_bool(struct sj *c, yajl_val obj, const char *key, hull_opt_bool *out);
int sj_opt_u64(struct sj *c, yajl_val obj, const char *key, uint64_t max, hull_opt_u64 *out);
int sj_opt_i64(struct sj *c, yajl_val obj, const char *key, int64_t min, int64_t max,
               hull_opt_i64 *out);
int sj_u32(struct sj *c, yajl_val obj, const char *key, bool required, uint32_t *out);
int sj_i64(struct sj *c, yajl_val obj, const char *key, bool required, int64_t min,
           int64_t max, int64_t *out);
/* Object / array: *out = NULL when absent; type-checked otherwise. */
int sj_obj(struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out);
int sj_arr(struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out);
/* Array of strings -> arena copy, NULL-terminated, with count. */
int sj_strv(struct sj *c, yajl_val obj, const char *key, char ***out, size_t *n);
/* Object of string values -> kv list (duplicate keys: last wins, sorted by key). */
int sj_map(struct sj *c, yajl_val obj, const char *key, struct hull_kv **out, size_t *n);
/* Array of uint32 (additionalGids). */
int sj_u32v(struct sj *c, yajl_val obj, const char *key, uint32_t **out, size_t *n);
/* Array of {containerID, hostID, size}. */
int sj_idmaps(struct sj *c, yajl_val obj, const char *key, struct hull_idmap **out, size_t *n);

#define SJ_TRY(expr) do { int _r = (expr); if (_r < 0) return _r; } while (0)

/* An optional sub-object of v: type-check it, push its key, run
 * fn(c, sub-object, target), pop; absent: nothing. Returns from the caller on error. */
#define SJ_SUBOBJ(c, v, key, fn, target)                          \
    do {                                                          \
        yajl_val _o;                                              \
        SJ_TRY(sj_obj(c, v, key, false, &_o));                    \
        if (_o) {                                                 \
            size_t _m = sj_push_key(c, key);                      \
            SJ_TRY(fn(c, _o, target));                            \
            sj_pop(c, _m);                                        \
        }                                                         \
    } while (0)

/* Parsers for the sections (spec_parse_*.c). */
int sj_parse_process(struct sj *c, yajl_val v, struct hull_process *p);
int sj_parse_linux(struct sj *c, yajl_val v, struct hull_linux *l);
int sj_parse_resources(struct sj *c, yajl_val v, struct hull_resources *r);

/* Process checks shared by hull_spec_validate and hull_process_parse; messages
 * read "<prefix><path>args: ..." (path is "process." or ""). */
int sj_validate_process(const struct hull_process *p, const char *prefix, const char *path,
                        struct hull_err *err);

#endif
