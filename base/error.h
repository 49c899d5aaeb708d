/* Errors carried up to the CLI: every fallible function returns 0 or a negative
 * errno-style code and fills a struct hull_err with a message that names what
 * failed and why ("config.json: process.args: must be a non-empty array").
 * The CLI prints "hull: <msg>"; nothing below cli/ prints or exits. */
#ifndef HULL_BASE_ERROR_H
#define HULL_BASE_ERROR_H

#include <errno.h>
#include <stddef.h>

#define HULL_ERR_MSG_MAX 1024

struct hull_err {
    int code;                       /* positive errno value, or EINVAL for bad input */
    char msg[HULL_ERR_MSG_MAX];
};

/* Sets the message (printf-style) and code; returns -code so callers can
 * `return hull_err_set(err, EINVAL, "...")`. err may be NULL. */
int hull_err_set(struct hull_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with the current errno as code and ": strerror(errno)" appended. */
int hull_err_sys(struct hull_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends context ("create c1: " + existing message); returns -err->code. */
int hull_err_prefix(struct hull_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void hull_err_clear(struct hull_err *err) {
    if (err) { err->code = 0; err->msg[0] = '\0'; }
}

/* Warnings: what must not fail the operation but the user should know (a hook
 * that failed after start, a resource limit hull had to lower). The CLI installs
 * a handler that prints them; a container's init child installs one that
 * forwards them to the parent over the sync socket, so they never land in the
 * container's own output. Without a handler they are dropped. */
typedef void (*hull_warn_fn)(const char *msg);
void hull_set_warn_handler(hull_warn_fn fn);
void hull_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* _cleanup_close_, _cleanup_free_, _cleanup_fclose_, ... and TAKE_FD/TAKE_PTR */
#include "base/cleanup.h"

#endif
