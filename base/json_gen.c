/* The out-of-line part of base/json_gen.h. */
#include "base/json_gen.h"

#include <errno.h>
#include <stdlib.h>

#include "base/fsutil.h"

yajl_gen_status jg_kstrv(yajl_gen g, const char *k, const char *const *v) {
    yajl_gen_status st = jg_str(g, k);
    st = jg_first(st, yajl_gen_array_open(g));
    for (; *v; v++) st = jg_first(st, jg_str(g, *v));
    return jg_first(st, yajl_gen_array_close(g));
}

yajl_gen_status jg_kstrn(yajl_gen g, const char *k, char *const *v, size_t n) {
    yajl_gen_status st = jg_str(g, k);
    st = jg_first(st, yajl_gen_array_open(g));
    for (size_t i = 0; i < n; i++) st = jg_first(st, jg_str(g, v[i]));
    return jg_first(st, yajl_gen_array_close(g));
}

char *jg_copy(yajl_gen g, bool newline, size_t *len) {
    const unsigned char *buf;
    size_t n;
    char *out = NULL;
    if (yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok && (out = malloc(n + 2))) {
        memcpy(out, buf, n);
        if (newline) out[n++] = '\n';
        out[n] = '\0';
        if (len) *len = n;
    }
    return out;
}

char *jg_take(yajl_gen g, bool newline, size_t *len) {
    char *out = jg_copy(g, newline, len);
    yajl_gen_free(g);
    return out;
}

int jg_write_at(yajl_gen g, int dir_fd, const char *name, mode_t mode) {
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    int r = hull_write_file_atomic(dir_fd, name, buf, len, mode);
    int saved = errno;
    yajl_gen_free(g);
    errno = saved;
    return r < 0 ? -1 : 0;
}
