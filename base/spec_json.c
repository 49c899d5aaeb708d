/* Typed getters over yajl's tree with field paths in every error (see
 * spec_json.h), plus the pre-scan that keeps hostile input away from yajl. */
#include "base/spec_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sj_oom(struct sj *c) {
    return hull_err_set(c->err, ENOMEM, "%sout of memory", c->prefix);
}

int sj_fail(struct sj *c, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int r;
    if (c->plen) r = hull_err_set(c->err, EINVAL, "%s%s: %s", c->prefix, c->path, msg);
    else r = hull_err_set(c->err, EINVAL, "%s%s", c->prefix, msg);
    /* Keys and values quoted in the message come from the file: keep
     * control characters (newlines, escapes) out of the one-line message. */
    if (c->err)
        for (char *p = c->err->msg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return r;
}

static size_t sj_push_fmt(struct sj *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t sj_push_fmt(struct sj *c, const char *fmt, ...) {
    size_t mark = c->plen, room = sizeof c->path - c->plen;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->path + c->plen, room, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    /* A path too long for the buffer is cut, never overrun. */
    c->plen += (size_t)n < room ? (size_t)n : room - 1;
    return mark;
}

size_t sj_push_key(struct sj *c, const char *key) {
    /* Keep error messages readable even for absurd map keys. */
    return sj_push_fmt(c, c->plen ? ".%.80s" : "%.80s", key);
}

size_t sj_push_index(struct sj *c, size_t i) { return sj_push_fmt(c, "[%zu]", i); }

/* ---- pre-scan ----------------------------------------------------------- */

#define PUA_FIRST 0xE000u
#define PUA_LAST  0xF8FFu
#define PUA_N     (PUA_LAST - PUA_FIRST + 1)

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = tolower(ch);
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

/* Value of the 4 hex digits at s (s has >= 4 bytes), or -1. */
static long hex4(const char *s) {
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)s[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* yajl_tree is recursive (and keeps no depth limit), and it hands strings
 * back NUL-terminated, so "\u0000" inside a string would silently truncate
 * it. One pass over the raw text fixes both: refuse nesting deeper than
 * SJ_MAX_DEPTH and raw NUL bytes, and rewrite each \u0000 escape into an
 * escape of a private-use code point that appears nowhere else in the input;
 * the string getters then refuse any string holding that code point, with
 * the field's path. The copy is NUL-terminated, as yajl_tree_parse needs. */
yajl_val sj_parse_text(struct sj *c, const char *json, size_t len) {
    if (len > SJ_MAX_INPUT) {
        sj_fail(c, "file too large (%zu bytes, limit %u)", len, SJ_MAX_INPUT);
        return NULL;
    }
    unsigned char *used = calloc(PUA_N, 1);   /* PUA code points seen, raw or escaped */
    char *copy = malloc(len + 1);
    if (!used || !copy) {
        free(used);
        free(copy);
        hull_err_set(c->err, ENOMEM, "%sout of memory", c->prefix);
        return NULL;
    }
    memcpy(copy, json, len);
    copy[len] = '\0';

    size_t depth = 0, n_nul = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)copy[i];
        if (ch == 0) {
            sj_fail(c, "invalid JSON: NUL byte at offset %zu", i);
            goto fail;
        }
        if (ch == 0xEE || ch == 0xEF) {          /* 3-byte UTF-8 that may be a PUA char */
            if (i + 2 < len) {
                unsigned cp = ((ch & 0x0Fu) << 12) | (((unsigned char)copy[i + 1] & 0x3Fu) << 6) |
                              ((unsigned char)copy[i + 2] & 0x3Fu);
                if (cp >= PUA_FIRST && cp <= PUA_LAST) used[cp - PUA_FIRST] = 1;
            }
            continue;
        }
        if (in_str) {
            if (ch == '"') in_str = false;
            else if (ch == '\\' && i + 1 < len) {
                if (copy[i + 1] == 'u' && i + 5 < len) {
                    long cp = hex4(copy + i + 2);
                    if (cp == 0) n_nul++;
                    else if (cp >= (long)PUA_FIRST && cp <= (long)PUA_LAST) used[cp - PUA_FIRST] = 1;
                }
                i++;                             /* skip the escaped character */
            }
            continue;
        }
        if (ch == '"') in_str = true;
        else if (ch == '[' || ch == '{') {
            if (++depth > SJ_MAX_DEPTH) {
                sj_fail(c, "invalid JSON: nested deeper than %d levels", SJ_MAX_DEPTH);
                goto fail;
            }
        } else if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
    }

    c->nul_mark[0] = '\0';
    if (n_nul) {
        unsigned cp = 0;
        for (unsigned k = 0; k < PUA_N && !cp; k++)
            if (!used[k]) cp = PUA_FIRST + k;
        if (!cp) {
            sj_fail(c, "invalid JSON: strings must not contain NUL (\\u0000)");
            goto fail;
        }
        c->nul_mark[0] = (char)(0xE0 | (cp >> 12));
        c->nul_mark[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        c->nul_mark[2] = (char)(0x80 | (cp & 0x3F));
        c->nul_mark[3] = '\0';
        char rep[5];
        snprintf(rep, sizeof rep, "%04X", cp);
        in_str = false;
        for (size_t i = 0; i < len; i++) {
            if (!in_str) { if (copy[i] == '"') in_str = true; continue; }
            if (copy[i] == '"') { in_str = false; continue; }
            if (copy[i] != '\\' || i + 1 >= len) continue;
            if (copy[i + 1] == 'u' && i + 5 < len && hex4(copy + i + 2) == 0)
                memcpy(copy + i + 2, rep, 4);
            i++;
        }
    }
    free(used);
    used = NULL;

    char ebuf[512];
    ebuf[0] = '\0';
    yajl_val root = yajl_tree_parse(copy, ebuf, sizeof ebuf);
    free(copy);
    if (!root) {
        /* yajl's message is "what\n  snippet\n  (right here) ---^\n": keep
         * the first line and the snippet, on one line. */
        char *nl = strchr(ebuf, '\n');
        char *snip = NULL;
        if (nl) {
            *nl = '\0';
            snip = nl + 1;
            while (*snip == ' ' || *snip == '\t') snip++;
            char *end = strchr(snip, '\n');
            if (end) *end = '\0';
            size_t sl = strlen(snip);
            while (sl && isspace((unsigned char)snip[sl - 1])) snip[--sl] = '\0';
            for (char *p = snip; *p; p++)
                if ((unsigned char)*p < 0x20) *p = ' ';
        }
        size_t el = strlen(ebuf);
        if (el && ebuf[el - 1] == '.') ebuf[el - 1] = '\0';
        if (!ebuf[0]) snprintf(ebuf, sizeof ebuf, "parse error");
        if (snip && *snip) sj_fail(c, "invalid JSON: %s near '%s'", ebuf, snip);
        else sj_fail(c, "invalid JSON: %s", ebuf);
        return NULL;
    }
    return root;

fail:
    free(used);
    free(copy);
    return NULL;
}

/* ---- values ------------------------------------------------------------- */

yajl_val sj_field(yajl_val obj, const char *key) {
    if (!obj || !YAJL_IS_OBJECT(obj)) return NULL;
    yajl_val found = NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) found = obj->u.object.values[i];
    if (found && YAJL_IS_NULL(found)) return NULL;
    return found;
}

static const char *type_name(yajl_val v) {
    if (YAJL_IS_STRING(v)) return "a string";
    if (YAJL_IS_NUMBER(v)) return "a number";
    if (YAJL_IS_OBJECT(v)) return "an object";
    if (YAJL_IS_ARRAY(v)) return "an array";
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) return "a boolean";
    return "null";
}

static bool has_nul(const struct sj *c, const char *s) {
    return c->nul_mark[0] && strstr(s, c->nul_mark);
}

int sj_v_str(struct sj *c, yajl_val v, char **out) {
    if (!v || !YAJL_IS_STRING(v)) return sj_fail(c, "expected a string, got %s", v ? type_name(v) : "null");
    if (has_nul(c, v->u.string)) return sj_fail(c, "string contains a NUL character");
    if (!(*out = hull_arena_strdup(c->arena, v->u.string))) return sj_oom(c);
    return 0;
}

int sj_v_bool(struct sj *c, yajl_val v, bool *out) {
    if (!v || !(YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)))
        return sj_fail(c, "expected a boolean, got %s", v ? type_name(v) : "null");
    *out = YAJL_IS_TRUE(v);
    return 0;
}

int sj_v_obj(struct sj *c, yajl_val v) {
    if (!v || !YAJL_IS_OBJECT(v)) return sj_fail(c, "expected an object, got %s", v ? type_name(v) : "null");
    return 0;
}

int sj_v_arr(struct sj *c, yajl_val v) {
    if (!v || !YAJL_IS_ARRAY(v)) return sj_fail(c, "expected an array, got %s", v ? type_name(v) : "null");
    return 0;
}

/* Integer from yajl's raw number text (which yajl has already checked is a
 * JSON number): our own parse, because yajl's int64 cannot hold the upper half
 * of uint64 that seccomp values and some limits use. */
static int parse_int(struct sj *c, yajl_val v, bool *neg, uint64_t *mag) {
    if (!v || !YAJL_IS_NUMBER(v)) return sj_fail(c, "expected an integer, got %s", v ? type_name(v) : "null");
    const char *s = v->u.number.r;
    if (!s) return sj_fail(c, "expected an integer");
    *neg = (*s == '-');
    if (*neg) s++;
    if (strpbrk(s, ".eE")) return sj_fail(c, "expected an integer, got %.40s", v->u.number.r);
    uint64_t m = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return sj_fail(c, "expected an integer, got %.40s", v->u.number.r);
        unsigned d = (unsigned)(*s - '0');
        if (m > (UINT64_MAX - d) / 10) return sj_fail(c, "number out of range: %.40s", v->u.number.r);
        m = m * 10 + d;
    }
    *mag = m;
    return 0;
}

int sj_v_u64(struct sj *c, yajl_val v, uint64_t max, uint64_t *out) {
    bool neg;
    uint64_t m;
    SJ_TRY(parse_int(c, v, &neg, &m));
    if (neg) return sj_fail(c, "must not be negative, got %.40s", v->u.number.r);
    if (m > max) return sj_fail(c, "out of range: %llu > %llu", (unsigned long long)m, (unsigned long long)max);
    *out = m;
    return 0;
}

int sj_v_i64(struct sj *c, yajl_val v, int64_t min, int64_t max, int64_t *out) {
    bool neg;
    uint64_t m;
    SJ_TRY(parse_int(c, v, &neg, &m));
    int64_t x;
    if (neg) {
        if (m > (uint64_t)INT64_MAX + 1) return sj_fail(c, "number out of range: %.40s", v->u.number.r);
        x = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX) return sj_fail(c, "number out of range: %.40s", v->u.number.r);
        x = (int64_t)m;
    }
    if (x < min) {
        if (min == 0) return sj_fail(c, "must not be negative, got %lld", (long long)x);
        return sj_fail(c, "out of range: %lld < %lld", (long long)x, (long long)min);
    }
    if (x > max) return sj_fail(c, "out of range: %lld > %lld", (long long)x, (long long)max);
    *out = x;
    return 0;
}

/* ---- fields ------------------------------------------------------------- */

/* Pushes key; returns 1 if present, 0 if absent (and not required), <0 on error.
 * The caller pops `*mark` when done. */
static int field(struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *v, size_t *mark) {
    *mark = sj_push_key(c, key);
    *v = sj_field(obj, key);
    if (*v) return 1;
    if (required) return sj_fail(c, "required field missing");
    return 0;
}

#define FIELD_BEGIN(req)                                              \
    yajl_val v;                                                       \
    size_t mark;                                                      \
    int r = field(c, obj, key, (req), &v, &mark);                     \
    if (r <= 0) { sj_pop(c, mark); return r; }

int sj_str(struct sj *c, yajl_val obj, const char *key, bool required, char **out) {
    FIELD_BEGIN(required);
    r = sj_v_str(c, v, out);
    sj_pop(c, mark);
    return r;
}

int sj_bool(struct sj *c, yajl_val obj, const char *key, bool *out) {
    FIELD_BEGIN(false);
    r = sj_v_bool(c, v, out);
    sj_pop(c, mark);
    return r;
}

int sj_opt_bool(struct sj *c, yajl_val obj, const char *key, hull_opt_bool *out) {
    FIELD_BEGIN(false);
    r = sj_v_bool(c, v, &out->v);
    if (r == 0) out->set = true;
    sj_pop(c, mark);
    return r;
}

int sj_opt_u64(struct sj *c, yajl_val obj, const char *key, uint64_t max, hull_opt_u64 *out) {
    FIELD_BEGIN(false);
    r = sj_v_u64(c, v, max, &out->v);
    if (r == 0) out->set = true;
    sj_pop(c, mark);
    return r;
}

int sj_opt_i64(struct sj *c, yajl_val obj, const char *key, int64_t min, int64_t max,
               hull_opt_i64 *out) {
    FIELD_BEGIN(false);
    r = sj_v_i64(c, v, min, max, &out->v);
    if (r == 0) out->set = true;
    sj_pop(c, mark);
    return r;
}

int sj_u32(struct sj *c, yajl_val obj, const char *key, bool required, uint32_t *out) {
    FIELD_BEGIN(required);
    uint64_t x = 0;
    r = sj_v_u64(c, v, UINT32_MAX, &x);
    if (r == 0) *out = (uint32_t)x;
    sj_pop(c, mark);
    return r;
}

int sj_i64(struct sj *c, yajl_val obj, const char *key, bool required, int64_t min,
           int64_t max, int64_t *out) {
    FIELD_BEGIN(required);
    r = sj_v_i64(c, v, min, max, out);
    sj_pop(c, mark);
    return r;
}

int sj_obj(struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out) {
    *out = NULL;
    FIELD_BEGIN(required);
    r = sj_v_obj(c, v);
    if (r == 0) *out = v;
    sj_pop(c, mark);
    return r;
}

int sj_arr(struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out) {
    *out = NULL;
    FIELD_BEGIN(required);
    r = sj_v_arr(c, v);
    if (r == 0) *out = v;
    sj_pop(c, mark);
    return r;
}

int sj_strv(struct sj *c, yajl_val obj, const char *key, char ***out, size_t *n) {
    yajl_val a;
    SJ_TRY(sj_arr(c, obj, key, false, &a));
    if (!a) return 0;
    size_t len = a->u.array.len;
    char **v = hull_arena_alloc(c->arena, (len + 1) * sizeof *v);
    if (!v) return sj_oom(c);
    size_t mark = sj_push_key(c, key);
    for (size_t i = 0; i < len; i++) {
        size_t m2 = sj_push_index(c, i);
        SJ_TRY(sj_v_str(c, a->u.array.values[i], &v[i]));
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    *out = v;
    *n = len;
    return 0;
}

int sj_u32v(struct sj *c, yajl_val obj, const char *key, uint32_t **out, size_t *n) {
    yajl_val a;
    SJ_TRY(sj_arr(c, obj, key, false, &a));
    if (!a) return 0;
    size_t len = a->u.array.len;
    uint32_t *v = hull_arena_alloc(c->arena, (len ? len : 1) * sizeof *v);
    if (!v) return sj_oom(c);
    size_t mark = sj_push_key(c, key);
    for (size_t i = 0; i < len; i++) {
        size_t m2 = sj_push_index(c, i);
        uint64_t x;
        SJ_TRY(sj_v_u64(c, a->u.array.values[i], UINT32_MAX, &x));
        v[i] = (uint32_t)x;
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    *out = v;
    *n = len;
    return 0;
}

int sj_idmaps(struct sj *c, yajl_val obj, const char *key, struct hull_idmap **out, size_t *n) {
    yajl_val a;
    SJ_TRY(sj_arr(c, obj, key, false, &a));
    if (!a) return 0;
    size_t len = a->u.array.len;
    struct hull_idmap *v = hull_arena_alloc(c->arena, (len ? len : 1) * sizeof *v);
    if (!v) return sj_oom(c);
    size_t mark = sj_push_key(c, key);
    for (size_t i = 0; i < len; i++) {
        size_t m2 = sj_push_index(c, i);
        yajl_val e = a->u.array.values[i];
        SJ_TRY(sj_v_obj(c, e));
        SJ_TRY(sj_u32(c, e, "containerID", true, &v[i].container_id));
        SJ_TRY(sj_u32(c, e, "hostID", true, &v[i].host_id));
        SJ_TRY(sj_u32(c, e, "size", true, &v[i].size));
        sj_pop(c, m2);
    }
    sj_pop(c, mark);
    *out = v;
    *n = len;
    return 0;
}

struct kv_ix { const char *key; size_t ix; };

static int kv_ix_cmp(const void *a, const void *b) {
    const struct kv_ix *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    if (r) return r;
    return x->ix < y->ix ? -1 : x->ix > y->ix;
}

int sj_map(struct sj *c, yajl_val obj, const char *key, struct hull_kv **out, size_t *n) {
    yajl_val o;
    SJ_TRY(sj_obj(c, obj, key, false, &o));
    if (!o) return 0;
    size_t len = o->u.object.len;
    size_t mark = sj_push_key(c, key);
    /* Sort (key, position) so duplicates are adjacent and the last one wins,
     * in O(n log n) even for a hostile number of keys. */
    struct kv_ix *ix = hull_arena_alloc(c->arena, (len ? len : 1) * sizeof *ix);
    if (!ix) return sj_oom(c);
    for (size_t i = 0; i < len; i++) {
        const char *k = o->u.object.keys[i];
        size_t m2 = sj_push_key(c, k);
        if (has_nul(c, k)) return sj_fail(c, "key contains a NUL character");
        yajl_val val = o->u.object.values[i];
        if (!val || !YAJL_IS_STRING(val))
            return sj_fail(c, "expected a string, got %s", val ? type_name(val) : "null");
        sj_pop(c, m2);
        ix[i] = (struct kv_ix){ k, i };
    }
    if (len > 1) qsort(ix, len, sizeof *ix, kv_ix_cmp);
    struct hull_kv *kv = hull_arena_alloc(c->arena, (len ? len : 1) * sizeof *kv);
    if (!kv) return sj_oom(c);
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        if (i + 1 < len && strcmp(ix[i].key, ix[i + 1].key) == 0) continue;
        size_t m2 = sj_push_key(c, ix[i].key);
        if (!(kv[m].key = hull_arena_strdup(c->arena, ix[i].key))) return sj_oom(c);
        SJ_TRY(sj_v_str(c, o->u.object.values[ix[i].ix], &kv[m].value));
        sj_pop(c, m2);
        m++;
    }
    sj_pop(c, mark);
    *out = kv;
    *n = m;
    return 0;
}
