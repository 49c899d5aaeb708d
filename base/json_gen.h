/* Small helpers for writing JSON with yajl_gen, shared by every folder (base/
 * includes nothing else of the project, so any floor may include this).
 *
 * Two flavours:
 *  - jg_*: on a bare yajl_gen; each returns the first non-ok status of the
 *    calls it makes (callers that do not check may ignore it);
 *  - jd_*: on a struct jg_doc, a generator plus a sticky "something failed"
 *    flag (invalid UTF-8 from an image, generator misuse), checked once when
 *    the document is taken. */
#ifndef HULL_BASE_JSON_GEN_H
#define HULL_BASE_JSON_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>

static inline yajl_gen_status jg_str(yajl_gen g, const char *s) {
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}


static inline yajl_gen_status jg_first(yajl_gen_status a, yajl_gen_status b) {
    return a != yajl_gen_status_ok ? a : b;
}

/* "k": "v" */
static inline yajl_gen_status jg_kstr(yajl_gen g, const char *k, const char *v) {
    yajl_gen_status a = jg_str(g, k);
    return jg_first(a, jg_str(g, v));
}

/* "k": v */
static inline yajl_gen_status jg_kint(yajl_gen g, const char *k, long long v) {
    yajl_gen_status a = jg_str(g, k);
    return jg_first(a, yajl_gen_integer(g, v));
}

static inline yajl_gen_status jg_kbool(yajl_gen g, const char *k, bool v) {
    yajl_gen_status a = jg_str(g, k);
    return jg_first(a, yajl_gen_bool(g, v));
}

/* "k": [ "a", "b", ... ] from a NULL-terminated list */
yajl_gen_status jg_kstrv(yajl_gen g, const char *k, const char *const *v);

/* "k": [ v[0] .. v[n-1] ] */
yajl_gen_status jg_kstrn(yajl_gen g, const char *k, char *const *v, size_t n);

/* A malloc'd, NUL-terminated copy of what g has written (a '\n' appended when
 * newline: a text file ends with one; its length, without the NUL, in *len
 * when len is not NULL); NULL when out of memory. jg_take also frees g. */
char *jg_copy(yajl_gen g, bool newline, size_t *len);
char *jg_take(yajl_gen g, bool newline, size_t *len);
/* The document written to dir_fd/name atomically (base/fsutil.h), g freed;
 * 0, or -1 with errno kept for the caller's hull_err_sys. */
int jg_write_at(yajl_gen g, int dir_fd, const char *name, mode_t mode);

/* ---- a checked document ------------------------------------------------------ */

struct jg_doc {
    yajl_gen g;
    bool bad;
};

static inline void jd_chk(struct jg_doc *x, yajl_gen_status st) {
    if (st != yajl_gen_status_ok) x->bad = true;
}
static inline void jd_str(struct jg_doc *x, const char *s) { jd_chk(x, jg_str(x->g, s)); }
static inline void jd_kstr(struct jg_doc *x, const char *k, const char *v) { jd_chk(x, jg_kstr(x->g, k, v)); }
static inline void jd_kint(struct jg_doc *x, const char *k, long long v) { jd_chk(x, jg_kint(x->g, k, v)); }
static inline void jd_kbool(struct jg_doc *x, const char *k, bool v) { jd_chk(x, jg_kbool(x->g, k, v)); }
static inline void jd_kstrn(struct jg_doc *x, const char *k, char *const *v, size_t n) {
    jd_chk(x, jg_kstrn(x->g, k, v, n));
}
/* "k": { */
static inline void jd_kopen(struct jg_doc *x, const char *k) {
    jd_str(x, k);
    jd_chk(x, yajl_gen_map_open(x->g));
}
static inline void jd_close(struct jg_doc *x) { jd_chk(x, yajl_gen_map_close(x->g)); }

/* jg_copy of the document, or NULL when anything in it failed. */
static inline char *jd_copy(struct jg_doc *x, bool newline, size_t *len) {
    return x->bad ? NULL : jg_copy(x->g, newline, len);
}

#endif
