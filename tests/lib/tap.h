/* Minimal TAP producer for C unit tests (run by prove). Header-only. */
#ifndef HULL_TESTS_LIB_TAP_H
#define HULL_TESTS_LIB_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A fixture the test needs could not be made (mkdtemp, pipe, fork...): not a
 * skip, the run stops and prove reports it as a failure. */
static inline void bail_out(const char *fmt, ...) {
    va_list ap;
    printf("Bail out! ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(255);
}

/* Runs fn(arg) in a forked child that then exits 0; returns the waitpid
 * status (-1 when fork or waitpid failed), so a crash in fn is a result the
 * caller asserts on, not the end of the test. */
static inline int tap_run_in_child(void (*fn)(void *), void *arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) { fn(arg); _exit(0); }
    int st;
    return waitpid(pid, &st, 0) == pid ? st : -1;
}
#define TAP_EXITED_0(st) ((st) != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)

/* Assertions made in a forked child (a namespace scenario, a process that
 * changes itself irreversibly): the child writes one line per result on fd,
 * the parent turns each into exactly one TAP line with tap_child_collect().
 *   tap_child_ok(fd, cond, fmt...)   -> "ok" / "not ok"
 *   tap_child_skip(fd, fmt...)       -> "ok N # SKIP reason"; only for what the
 *                                       machine lacks, never for hull's own failures. */
static inline void tap_child_vline(int fd, char kind, const char *fmt, va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    dprintf(fd, "%c\t%s\n", kind, msg);
}
static inline void tap_child_ok(int fd, int cond, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tap_child_vline(fd, cond ? '1' : '0', fmt, ap);
    va_end(ap);
}
static inline void tap_child_skip(int fd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tap_child_vline(fd, 's', fmt, ap);
    va_end(ap);
}
/* Reads the child's lines from f until EOF; prefix names the scenario.
 * Returns how many results were read. */
static inline int tap_child_collect(FILE *f, const char *prefix) {
    char line[2048], why[2200];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab || tab != line + 1) {
            ok(0, "%s: malformed child report line \"%s\"", prefix, line);
        } else if (line[0] == 's') {
            snprintf(why, sizeof why, "%s: %s", prefix, tab + 1);
            skip(why);
        } else {
            ok(line[0] == '1', "%s: %s", prefix, tab + 1);
        }
        n++;
    }
    return n;
}

/* Call at the end of main when the plan was not given up front. */
static inline int done_testing(void) { printf("1..%d\n", tap_n); return tap_failed ? 1 : 0; }
static inline int tap_exit(void) { return tap_failed ? 1 : 0; }

#endif
