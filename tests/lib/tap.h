/* Minimal TAP producer for C unit tests (run by prove). Header-only. */
#ifndef HULL_TESTS_TAP_H
#define HULL_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void plan(int n) { printf("1..%d\n", n); fflush(stdout); }
static inline void plan_skip_all(const char *why) { printf("1..0 # SKIP %s\n", why); fflush(stdout); exit(0); }

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    tap_n++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        tap_failed++;
        printf("#   Failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}
#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) do { long long _g = (got), _w = (want); \
    if (!ok(_g == _w, __VA_ARGS__)) printf("#   got %lld, want %lld\n", _g, _w); } while (0)
#define is_str(got, want, ...) do { const char *_g = (got), *_w = (want); \
    int _eq = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w; \
    if (!ok(_eq, __VA_ARGS__)) printf("#   got \"%s\", want \"%s\"\n", _g ? _g : "(null)", _w ? _w : "(null)"); } while (0)
#define like(got, needle, ...) do { const char *_g = (got), *_n = (needle); \
    if (!ok(_g && strstr(_g, _n), __VA_ARGS__)) printf("#   \"%s\" does not contain \"%s\"\n", _g ? _g : "(null)", _n); } while (0)
static inline void skip(const char *why) { tap_n++; printf("ok %d # SKIP %s\n", tap_n, why); fflush(stdout); }
static inline void diag(const char *fmt, ...) { va_list ap; va_start(ap, fmt); printf("# "); vprintf(fmt, ap); printf("\n"); va_end(ap); }

/* Call at the end of main when the plan was not given up front. */
static inline int done_testing(void) { printf("1..%d\n", tap_n); return tap_failed ? 1 : 0; }
static inline int tap_exit(void) { return tap_failed ? 1 : 0; }

#endif
