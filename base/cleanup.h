/* Release on scope exit, for __attribute__((cleanup)): a variable declared
 * with one of these is released whichever return leaves its scope, so a
 * function needs no goto ladder and no repeated close()/free() before each
 * early return. A value handed out to the caller is taken first:
 *     return TAKE_FD(fd);        (the variable is left at -1)
 *     *out = TAKE_PTR(buf);      (the variable is left NULL)
 * errno is preserved by every release, so a `return hull_err_sys(...)` after
 * a failed call still reports the failure's errno. Included by base/error.h. */
#ifndef HULL_BASE_CLEANUP_H
#define HULL_BASE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* base/error.c */
void hull_closep(int *fd);
void hull_freep(void *p);
#define _cleanup_close_ __attribute__((cleanup(hull_closep)))
#define _cleanup_free_  __attribute__((cleanup(hull_freep)))

static inline void hull_fclosep(FILE **f) {
    if (*f) { int saved = errno; fclose(*f); errno = saved; *f = NULL; }
}
static inline void hull_closedirp(DIR **d) {
    if (*d) { int saved = errno; closedir(*d); errno = saved; *d = NULL; }
}
static inline void hull_yajl_tree_freep(yajl_val *v) {
    if (*v) { int saved = errno; yajl_tree_free(*v); errno = saved; *v = NULL; }
}
static inline void hull_yajl_gen_freep(yajl_gen *g) {
    if (*g) { int saved = errno; yajl_gen_free(*g); errno = saved; *g = NULL; }
}
/* A NULL-terminated vector of malloc'd strings, itself malloc'd. */
static inline void hull_strv_freep(char ***v) {
    if (*v) { int saved = errno; for (char **p = *v; *p; p++) free(*p); free(*v); errno = saved; *v = NULL; }
}
#define _cleanup_fclose_    __attribute__((cleanup(hull_fclosep)))
#define _cleanup_closedir_  __attribute__((cleanup(hull_closedirp)))
#define _cleanup_yajl_tree_ __attribute__((cleanup(hull_yajl_tree_freep)))
#define _cleanup_yajl_gen_  __attribute__((cleanup(hull_yajl_gen_freep)))
#define _cleanup_strv_      __attribute__((cleanup(hull_strv_freep)))

/* Handles of the libraries base/lazy_libs.c resolves on first use (libarchive,
 * libcrypto), declared here as their headers do so that no file needs those
 * headers for the cleanup alone. */
struct archive;
int archive_read_free(struct archive *);
struct evp_md_ctx_st;
void EVP_MD_CTX_free(struct evp_md_ctx_st *);
static inline void hull_archive_read_freep(struct archive **a) {
    if (*a) { int saved = errno; archive_read_free(*a); errno = saved; *a = NULL; }
}
static inline void hull_md_ctx_freep(struct evp_md_ctx_st **md) {
    if (*md) { int saved = errno; EVP_MD_CTX_free(*md); errno = saved; *md = NULL; }
}
#define _cleanup_archive_read_ __attribute__((cleanup(hull_archive_read_freep)))
#define _cleanup_md_ctx_       __attribute__((cleanup(hull_md_ctx_freep)))

/* The value of fd, leaving -1 behind (ownership goes to the caller). */
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })
/* The value of p, leaving NULL behind. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

#endif
