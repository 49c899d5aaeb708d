/* hull_seccomp_load: in the container's process, the program precompiled
 * before the fork (seccomp_cache.c) when there is one, else the filter built
 * by libseccomp (seccomp.c) and loaded by it. */
#include "linux/process.h"
#include "linux/seccomp_internal.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

int hull_seccomp_load(const struct hull_seccomp *s, int *notify_fd, struct hull_err *err) {
    if (notify_fd) *notify_fd = -1;
    if (!s || !s->present) return 0;
    int rc = hull_seccomp_validate(s, err);
    if (rc < 0) return rc;
    /* Compiled by `create`/`exec` before the fork (seccomp_cache.c): hand it over. */
    if ((rc = hull_seccomp_load_precompiled(s, err)) != 0) return rc < 0 ? rc : 0;
    scmp_filter_ctx ctx;
    if ((rc = hull_seccomp_build_ctx(s, &ctx, err)) < 0) return rc;
    if ((rc = seccomp_load(ctx)) < 0) {
        const char *hint = (rc == -EACCES || rc == -EPERM)
            ? " (without noNewPrivileges loading a filter needs CAP_SYS_ADMIN)" : "";
        rc = hull_err_set(err, -rc, "load filter: %s%s", strerror(-rc), hint);
        goto out;
    }
    if (notify_fd) {
        /* Only a filter with an SCMP_ACT_NOTIFY rule has a listener fd. */
        if (hull_seccomp_uses_notify(s)) {
            int fd = seccomp_notify_fd(ctx);
            if (fd < 0) {
                rc = hull_err_set(err, -fd, "get the notify fd: %s", strerror(-fd));
                goto out;
            }
            *notify_fd = fd;
        }
    }
    rc = 0;
out:
    seccomp_release(ctx);   /* does not close the notify fd: it belongs to the caller now */
    return rc;
}
