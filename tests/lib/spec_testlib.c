/* See spec_testlib.h. */
#include "tests/lib/spec_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/spec_json.h"

int hull_spec_load(const char *bundle_dir, struct hull_spec **out, struct hull_err *err) {
    *out = NULL;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/config.json", bundle_dir ? bundle_dir : ".");
    if (n < 0 || (size_t)n >= sizeof path)
        return hull_err_set(err, ENAMETOOLONG, "config.json: bundle path too long");
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return hull_err_sys(err, "config.json: open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0) return hull_err_sys(err, "config.json: stat %s", path);
    if (!S_ISREG(st.st_mode)) return hull_err_set(err, EINVAL, "config.json: %s is not a regular file", path);
    if ((uint64_t)st.st_size > SJ_MAX_INPUT)
        return hull_err_set(err, EFBIG, "config.json: %s is too large (%lld bytes, limit %u)", path,
                            (long long)st.st_size, SJ_MAX_INPUT);
    /* Read until EOF rather than trusting st_size: the file may change under us. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    _cleanup_free_ char *buf = malloc(cap);
    if (!buf) return hull_err_set(err, ENOMEM, "config.json: out of memory");
    for (;;) {
        if (len == cap) {
            if (cap > SJ_MAX_INPUT)
                return hull_err_set(err, EFBIG, "config.json: %s is too large (limit %u bytes)", path, SJ_MAX_INPUT);
            char *nb = realloc(buf, cap * 2);
            if (!nb) return hull_err_set(err, ENOMEM, "config.json: out of memory");
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR) continue;
            return hull_err_sys(err, "config.json: read %s", path);
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    return hull_spec_parse(buf, len, out, err);
}
