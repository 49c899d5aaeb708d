#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hull_err_set(struct hull_err *err, int code, const char *fmt, ...) {
    if (code < 0) code = -code;
    if (code == 0) code = EINVAL;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return -code;
}

int hull_err_sys(struct hull_err *err, const char *fmt, ...) {
    int code = errno ? errno : EIO;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n < 0) n = 0;
        if ((size_t)n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(code));
        err->code = code;
    }
    return -code;
}

int hull_err_prefix(struct hull_err *err, const char *fmt, ...) {
    if (!err) return -EINVAL;
    char prefix[HULL_ERR_MSG_MAX], old[HULL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s%s", prefix, old);
    if (err->code == 0) err->code = EINVAL;
    return -err->code;
}

static hull_warn_fn warn_fn;
void hull_set_warn_handler(hull_warn_fn fn) { warn_fn = fn; }

void hull_warn(const char *fmt, ...) {
    char buf[HULL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (warn_fn) warn_fn(buf);
}

void hull_closep(int *fd) {
    if (fd && *fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}

void hull_freep(void *p) {
    int saved = errno;
    free(*(void **)p);
    errno = saved;
}
