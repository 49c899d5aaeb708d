/* What the config.json tests share (test_spec.c: accepted documents and
 * the default spec; test_spec_reject.c: everything that must be refused):
 * a minimal document to extend, and parse/validate checks with messages. */
#ifndef HULL_TESTS_UNIT_SPEC_HELPERS_H
#define HULL_TESTS_UNIT_SPEC_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/spec.h"
#include "tap.h"

#define DATA "tests/unit/data/spec"

/* A minimal valid document; cases append fields after it. */
#define HEAD "\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"}"
#define PROC "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}"
#define DOC(...) "{" HEAD "," PROC __VA_OPT__(",") __VA_ARGS__ "}"

static struct hull_err err __attribute__((unused));

static inline int parse(const char *json, struct hull_spec **s) {
    hull_err_clear(&err);
    return hull_spec_parse(json, strlen(json), s, &err);
}

/* Parse must fail with a message containing `needle`. */
static inline void parse_fails(const char *json, const char *needle, const char *what) {
    struct hull_spec *s = (void *)1;
    int r = parse(json, &s);
    ok(r < 0 && s == NULL, "parse rejects: %s", what);
    like(err.msg, needle, "  message names it: %s", needle);
    if (r == 0) hull_spec_free(s);
}

/* Parse succeeds; validation fails with `needle`. */
static inline void invalid(const char *json, const char *needle, const char *what) {
    struct hull_spec *s = NULL;
    int r = parse(json, &s);
    if (r < 0) {
        ok(0, "parse ok before validating: %s (%s)", what, err.msg);
        skip("not validated");
        return;
    }
    hull_err_clear(&err);
    r = hull_spec_validate(s, &err);
    ok(r < 0, "validate rejects: %s", what);
    like(err.msg, needle, "  message names it: %s", needle);
    hull_spec_free(s);
}

/* Parse and validate both succeed. */
static inline void valid(const char *json, const char *what) {
    struct hull_spec *s = NULL;
    int r = parse(json, &s);
    if (r == 0) {
        r = hull_spec_validate(s, &err);
        hull_spec_free(s);
    }
    ok(r == 0, "accepted: %s", what);
    if (r) diag("%s", err.msg);
}

static inline char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0) break;
        n += r;
    }
    fclose(f);
    *len = n;
    return buf;
}

#define CAPBIT(c) (UINT64_C(1) << (c))


#endif
