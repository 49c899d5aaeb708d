/* Reading the files a `hull run` depends on: small host files (env-file,
 * seccomp profile) and the image's /etc/passwd and /etc/group, the latter
 * opened inside the container's rootfs (openat2 RESOLVE_IN_ROOT) so a symlink
 * in the image cannot lead the lookup to a host file. */
#ifndef HULL_LIFECYCLE_IMAGE_USER_H
#define HULL_LIFECYCLE_IMAGE_USER_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

/* A regular file of at most a few MiB, NUL-terminated (malloc'd); errors name `what`. */
char *hull_read_small_file(const char *path, const char *what, size_t *len, struct hull_err *err);

struct hull_ids {
    uint32_t uid, gid;
    uint32_t *sgids;        /* supplementary groups (malloc'd) */
    size_t n_sgids;
};

/* "USER[:GROUP]" (empty: root) resolved with runc's rules through the passwd
 * and group files of the rootfs open at root_fd (-1: numeric ids only). */
int hull_resolve_user(int root_fd, const char *spec, struct hull_ids *out, struct hull_err *err);

#endif
