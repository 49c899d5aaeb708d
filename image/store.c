/* The content store: opening the layout, locks, and writing blobs so that a
 * blob named blobs/sha256/<hex> always holds exactly the bytes hashing to
 * <hex>. Bytes stream into a temp file under tmp/ (same filesystem) while
 * being hashed; only after the digest and size match is the file fsynced and
 * renamed into place. A mismatch unlinks the temp file: nothing is kept. */
#include "image/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

const char *hull_image_default_root(void) {
    const char *r = getenv("HULL_ROOT");
    return r && *r ? r : HULL_IMAGE_DEFAULT_ROOT;
}

static int open_dir(int at, const char *name, struct hull_err *err, const char *root) {
    if (mkdirat(at, name, 0700) < 0 && errno != EEXIST)
        return hull_err_sys(err, "image store %s: mkdir %s", root, name);
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "image store %s: open %s", root, name);
    return fd;
}

/* <root>/<name>/sha256, created if need be. */
static int open_sha256_dir(int root_fd, const char *name, struct hull_err *err, const char *root) {
    _cleanup_close_ int fd = open_dir(root_fd, name, err, root);
    if (fd < 0) return fd;
    return open_dir(fd, "sha256", err, root);
}

int hull_image_store_open(const char *root, struct hull_image_store **out, struct hull_err *err) {
    *out = NULL;
    if (!root || !*root) root = hull_image_default_root();
    if (hull_mkdir_p(root, 0700) < 0) return hull_err_sys(err, "image store %s: mkdir", root);
    _cleanup_image_store_ struct hull_image_store *s = calloc(1, sizeof *s);
    if (!s) return hull_err_set(err, ENOMEM, "image store: out of memory");
    s->root_fd = s->blobs_fd = s->tmp_fd = s->layers_fd = s->gc_lock_fd = s->refs_lock_fd = -1;
    s->root = strdup(root);
    if ((s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return hull_err_sys(err, "image store %s: open", root);
    int rc;
    if ((rc = s->blobs_fd = open_sha256_dir(s->root_fd, "blobs", err, root)) < 0) return rc;
    if ((rc = s->layers_fd = open_sha256_dir(s->root_fd, "layers", err, root)) < 0) return rc;
    if ((rc = s->tmp_fd = open_dir(s->root_fd, "tmp", err, root)) < 0) return rc;
    s->gc_lock_fd = openat(s->root_fd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    s->refs_lock_fd = openat(s->root_fd, "refs.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->gc_lock_fd < 0 || s->refs_lock_fd < 0)
        return hull_err_sys(err, "image store %s: lock files", root);
    *out = TAKE_PTR(s);
    return 0;
}

void hull_image_store_close(struct hull_image_store *s) {
    if (!s) return;
    int *fds[] = { &s->root_fd, &s->blobs_fd, &s->tmp_fd, &s->layers_fd, &s->gc_lock_fd, &s->refs_lock_fd };
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        if (*fds[i] >= 0) close(*fds[i]);
    free(s->root);
    free(s);
}

int store_lock(int fd, int how, const char *what, struct hull_err *err) {
    while (flock(fd, how) < 0) {
        if (errno != EINTR) return hull_err_sys(err, "image store: lock %s", what);
    }
    return 0;
}

void store_unlock(int fd) { flock(fd, LOCK_UN); }

int bw_open(struct hull_image_store *s, struct blob_writer *w, uint64_t limit, struct hull_err *err) {
    memset(w, 0, sizeof *w);
    w->s = s;
    w->limit = limit;
    snprintf(w->tmp, sizeof w->tmp, "ingest-%d-XXXXXX", (int)getpid());
    /* tmp/ is addressed by fd (mkostemp wants a path): random names with
     * O_EXCL until one is free; the pid in the name keeps processes apart. */
    for (int tries = 0; tries < 100; tries++) {
        char *x = w->tmp + strlen(w->tmp) - 6;
        for (int i = 0; i < 6; i++) x[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[random() % 36];
        w->fd = openat(s->tmp_fd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (w->fd >= 0 || errno != EEXIST) break;
    }
    if (w->fd < 0) return hull_err_sys(err, "image store %s: create temp blob", s->root);
    if (!(w->md = digest_new())) {
        bw_abort(w);
        return hull_err_set(err, ENOMEM, "image store: sha256 context");
    }
    return 0;
}

int bw_write(struct blob_writer *w, const void *buf, size_t len, struct hull_err *err) {
    /* Stop as soon as the declared size is exceeded: a lying descriptor or a
     * tar bomb never fills the disk past what was promised. */
    if (w->limit && w->n + len > w->limit)
        return hull_err_set(err, EFBIG, "%s: more data than the declared %llu bytes",
                            w->what ? w->what : "blob", (unsigned long long)w->limit);
    EVP_DigestUpdate(w->md, buf, len);
    if (hull_write_all(w->fd, buf, len) < 0)
        return hull_err_sys(err, "image store %s: write blob", w->s->root);
    w->n += len;
    if (w->progress) w->progress(w->pctx, w->what, w->pbase + w->n, w->ptotal);
    return 0;
}

void bw_abort(struct blob_writer *w) {
    if (w->fd >= 0) {
        close(w->fd);
        unlinkat(w->s->tmp_fd, w->tmp, 0);
    }
    w->fd = -1;
    if (w->md) EVP_MD_CTX_free(w->md);
    w->md = NULL;
}

static void bw_abortp(struct blob_writer **w) { bw_abort(*w); }

int bw_commit(struct blob_writer *w, const char *expect, int64_t expect_size,
              char out[HULL_DIGEST_LEN], bool *created, const char *what, struct hull_err *err) {
    /* closed whichever way this returns; the unlink is a no-op once renamed */
    __attribute__((cleanup(bw_abortp))) struct blob_writer *release = w;
    char got[HULL_DIGEST_LEN];
    if (created) *created = false;
    digest_final(w->md, got);
    if (expect_size >= 0 && w->n != (uint64_t)expect_size)
        return hull_err_set(err, EINVAL, "%s: size mismatch: expected %lld bytes, got %llu", what,
                            (long long)expect_size, (unsigned long long)w->n);
    if (expect && strcmp(expect, got) != 0)
        return hull_err_set(err, EINVAL, "%s: digest mismatch: expected %s, got %s", what, expect, got);
    if (out) memcpy(out, got, HULL_DIGEST_LEN);
    if (faccessat(w->s->blobs_fd, digest_hex(got), F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;       /* already stored (verified when it was written): keep one copy */
    if (fsync(w->fd) < 0) return hull_err_sys(err, "%s: fsync", what);
    if (renameat(w->s->tmp_fd, w->tmp, w->s->blobs_fd, digest_hex(got)) < 0)
        return hull_err_sys(err, "%s: store blob", what);
    fsync(w->s->blobs_fd);      /* the directory entry too: the ref index will point at it */
    if (created) *created = true;
    return 0;
}

int store_put(struct hull_image_store *s, const void *buf, size_t len, char out[HULL_DIGEST_LEN],
              bool *created, struct hull_err *err) {
    struct blob_writer w;
    int rc = bw_open(s, &w, 0, err);
    if (rc < 0) return rc;
    if ((rc = bw_write(&w, buf, len, err)) < 0) { bw_abort(&w); return rc; }
    return bw_commit(&w, NULL, -1, out, created, "blob", err);
}

int store_ingest_fd(struct hull_image_store *s, int fd, const char *expect, int64_t expect_size,
                    hull_progress_fn progress, void *pctx, uint64_t pbase, uint64_t ptotal,
                    bool *created, struct hull_err *err) {
    struct blob_writer w;
    int rc = bw_open(s, &w, expect_size >= 0 ? (uint64_t)expect_size : 0, err);
    if (rc < 0) return rc;
    w.what = expect;
    w.progress = progress; w.pctx = pctx; w.pbase = pbase; w.ptotal = ptotal;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = hull_err_sys(err, "blob %s: read", expect); break; }
        if (n == 0) break;
        if ((rc = bw_write(&w, buf, (size_t)n, err)) < 0) break;
    }
    if (rc < 0) {
        bw_abort(&w);
        return rc;
    }
    return bw_commit(&w, expect, expect_size, NULL, created, expect, err);
}

bool store_has_blob(struct hull_image_store *s, const char *digest, int64_t *size) {
    struct stat st;
    if (fstatat(s->blobs_fd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (size) *size = st.st_size;
    return true;
}

int store_open_blob(struct hull_image_store *s, const char *digest, struct hull_err *err) {
    int fd = openat(s->blobs_fd, digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return hull_err_sys(err, "blob %s", digest);
    return fd;
}

char *store_read_blob(struct hull_image_store *s, const char *digest, size_t *len,
                      struct hull_err *err) {
    char *r = hull_read_file_at(s->blobs_fd, digest_hex(digest), JSON_MAX, len);
    if (!r) hull_err_sys(err, "blob %s", digest);
    return r;
}

int store_unlink_blob(struct hull_image_store *s, const char *digest) {
    return unlinkat(s->blobs_fd, digest_hex(digest), 0);
}
