/* hull_layer_unpack: applies one layer blob into a fresh directory in
 * overlayfs form, and hull_image_rootfs_layers on top of it.
 *
 * Two libarchive readers are chained: the first ("raw" format, every
 * compression filter) turns the blob into the uncompressed tar stream, the
 * second parses that stream as tar. The callback between them hashes every
 * uncompressed byte, which is how the diffID is verified without a second
 * pass. Output goes to <dest>.tmp-* and is renamed to <dest> only when all
 * entries were applied and the diffID matched; on any failure the temp
 * directory is removed, so a rejected layer leaves nothing. */
#include "image/unpack.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fsutil.h"

#define BUF_SIZE (1 << 17)

struct stream {
    struct archive *raw;
    EVP_MD_CTX *md;
    char *buf;
};

static la_ssize_t tar_read(struct archive *a, void *ctx, const void **out) {
    struct stream *st = ctx;
    la_ssize_t n = archive_read_data(st->raw, st->buf, BUF_SIZE);
    if (n < 0) {
        archive_set_error(a, EIO, "decompress: %s", archive_error_string(st->raw));
        return -1;
    }
    EVP_DigestUpdate(st->md, st->buf, (size_t)n);
    *out = st->buf;
    return n;
}

static int write_data(struct unpack *u, struct archive *a, int fd, struct archive_entry *e) {
    const void *buf;
    size_t len;
    la_int64_t off, end = 0;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return up_fail(u, EIO, "%s", archive_error_string(a));
        u->bytes += len;
        if (u->o->max_bytes && u->bytes > u->o->max_bytes)
            return up_fail(u, EFBIG, "layer exceeds the limit of %llu bytes", (unsigned long long)u->o->max_bytes);
        for (size_t done = 0; done < len;) {    /* pwrite: sparse entries come with offsets */
            ssize_t w = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) return up_fail_sys(u, "write");
            done += (size_t)w;
        }
        if (off + (la_int64_t)len > end) end = off + (la_int64_t)len;
    }
    /* a sparse file ending in a hole: the size, without allocating it */
    if (archive_entry_size(e) > end && ftruncate(fd, archive_entry_size(e)) < 0) return up_fail_sys(u, "truncate");
    return 0;
}

static int apply_whiteout(struct unpack *u, int pfd, const char *name) {
    if (strcmp(name, ".wh..wh..opq") == 0) return up_opaque(u, pfd);
    if (strncmp(name, ".wh..wh.", 8) == 0) return 0;       /* aufs bookkeeping (.wh..wh.plnk): ignored */
    const char *target = name + 4;
    if (!target[0] || strcmp(target, ".") == 0 || strcmp(target, "..") == 0)
        return up_fail(u, EINVAL, "bad whiteout name");
    int rc = up_clear(u, pfd, target, false);
    if (rc < 0) return rc;
    if (mknodat(pfd, target, S_IFCHR | 0000, makedev(0, 0)) < 0) return up_fail_sys(u, "create whiteout");
    return 0;
}

static int apply_entry(struct unpack *u, struct archive *a, struct archive_entry *e) {
    char rel[PATH_MAX], trel[PATH_MAX];
    int rc = up_norm(u, archive_entry_pathname(e), rel, sizeof rel);
    if (rc < 0) return rc;
    mode_t type = archive_entry_filetype(e);
    const char *hl = archive_entry_hardlink(e);
    if (!rel[0]) {      /* "./": the layer root itself */
        if (type != AE_IFDIR) return up_fail(u, EINVAL, "the layer root is not a directory");
        struct timespec t[2] = { { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
                                 { archive_entry_mtime(e), archive_entry_mtime_nsec(e) } };
        if (!u->o->no_chown && fchown(u->root_fd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
            return up_fail_sys(u, "chown");
        return up_dir_defer(u, "", archive_entry_perm(e), t);
    }
    int tpfd = -1;
    const char *tname = NULL;
    if (hl) {   /* resolve the target first: a copy-up moves the parent cache */
        if ((rc = up_norm(u, hl, trel, sizeof trel)) < 0) return rc;
        if ((rc = up_link_target(u, trel, &tpfd, &tname)) < 0) return rc;
    }
    const char *name;
    int pfd = up_parent(u, rel, &name);
    if (pfd < 0) { if (tpfd >= 0) close(tpfd); return pfd; }
    if (strncmp(name, ".wh.", 4) == 0) {
        if (tpfd >= 0) close(tpfd);
        return apply_whiteout(u, pfd, name);
    }
    if (hl) {
        if (strcmp(rel, trel) != 0) {
            rc = up_clear(u, pfd, name, false);
            if (rc == 0 && linkat(tpfd, tname, pfd, name, 0) < 0) rc = up_fail_sys(u, "hardlink to \"%s\"", trel);
        }
        close(tpfd);
        return rc;
    }
    if ((rc = up_clear(u, pfd, name, type == AE_IFDIR)) < 0) return rc;
    switch (type) {
    case AE_IFREG: {
        if (u->o->max_bytes && archive_entry_size(e) > 0 &&
            (uint64_t)archive_entry_size(e) > u->o->max_bytes - (u->bytes < u->o->max_bytes ? u->bytes : u->o->max_bytes))
            return up_fail(u, EFBIG, "declared size %lld exceeds the limit of %llu bytes",
                           (long long)archive_entry_size(e), (unsigned long long)u->o->max_bytes);
        int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return up_fail_sys(u, "create");
        rc = write_data(u, a, fd, e);
        if (rc == 0) rc = up_meta(u, fd, pfd, name, e);
        close(fd);
        return rc;
    }
    case AE_IFDIR: {
        if (rc == 0 && mkdirat(pfd, name, 0700) < 0) return up_fail_sys(u, "mkdir");
        int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return up_fail_sys(u, "open directory");
        rc = 0;
        if (!u->o->no_chown && fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0) rc = up_fail_sys(u, "chown");
        /* xattrs now, mode and times once the children exist */
        if (rc == 0) rc = up_xattrs(u, fd, e);
        close(fd);
        struct timespec t[2] = {
            { archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e),
              archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e) : archive_entry_mtime_nsec(e) },
            { archive_entry_mtime(e), archive_entry_mtime_nsec(e) } };
        return rc < 0 ? rc : up_dir_defer(u, rel, archive_entry_perm(e), t);
    }
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target) return up_fail(u, EINVAL, "symlink without a target");
        /* the target is data: it is only ever resolved inside the container root */
        if (symlinkat(target, pfd, name) < 0) return up_fail_sys(u, "symlink");
        return up_meta(u, -1, pfd, name, e);
    }
    case AE_IFCHR:
    case AE_IFBLK:
        if (!u->o->allow_devices)
            return up_fail(u, EPERM, "device node %u:%u: not allowed (unpack without devices)",
                           (unsigned)archive_entry_rdevmajor(e), (unsigned)archive_entry_rdevminor(e));
        if (mknodat(pfd, name, type | archive_entry_perm(e), archive_entry_rdev(e)) < 0) return up_fail_sys(u, "mknod");
        return up_meta(u, -1, pfd, name, e);
    case AE_IFIFO:
        if (mkfifoat(pfd, name, 0600) < 0) return up_fail_sys(u, "mkfifo");
        return up_meta(u, -1, pfd, name, e);
    default:
        return 0;   /* sockets and unknown types mean nothing in an image */
    }
}

static void stream_release(struct stream *st) {
    if (st->raw) archive_read_free(st->raw);
    if (st->md) EVP_MD_CTX_free(st->md);
    free(st->buf);
}

static int unpack_stream(struct unpack *u, struct hull_image_store *s, const char *digest,
                         char diff[HULL_DIGEST_LEN]) {
    _cleanup_close_ int fd = store_open_blob(s, digest, u->err);
    if (fd < 0) return fd;
    struct stat bst;
    fstat(fd, &bst);
    __attribute__((cleanup(stream_release))) struct stream st = {
        .raw = archive_read_new(), .md = digest_new(), .buf = malloc(BUF_SIZE) };
    _cleanup_archive_read_ struct archive *tar = archive_read_new();   /* released before st.raw */
    int rc = 0;
    struct archive_entry *e;
    char name[PATH_MAX];
    if (!st.raw || !st.md || !st.buf || !tar) return hull_err_set(u->err, ENOMEM, "out of memory");
    archive_read_support_filter_all(st.raw);
    archive_read_support_format_raw(st.raw);
    if (archive_read_open_fd(st.raw, fd, BUF_SIZE) != ARCHIVE_OK ||
        archive_read_next_header(st.raw, &e) != ARCHIVE_OK)
        return hull_err_set(u->err, EINVAL, "%s", archive_error_string(st.raw));
    archive_read_support_format_tar(tar);
    if (archive_read_open(tar, &st, NULL, tar_read, NULL) != ARCHIVE_OK)
        return hull_err_set(u->err, EINVAL, "not a tar: %s", archive_error_string(tar));
    for (;;) {
        int r = archive_read_next_header(tar, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN)
            return hull_err_set(u->err, EINVAL, "after entry \"%.300s\": %s", u->entry ? u->entry : "(none)",
                                archive_error_string(tar));
        snprintf(name, sizeof name, "%s", archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        u->entry = name;
        if ((rc = apply_entry(u, tar, e)) < 0) return rc;
        if (u->o->progress) u->o->progress(u->o->progress_ctx, digest, (uint64_t)archive_filter_bytes(st.raw, -1),
                                           (uint64_t)bst.st_size);
    }
    /* the tar reader stops at the end marker; the diffID covers every byte */
    for (;;) {
        const void *b;
        la_ssize_t n = tar_read(tar, &st, &b);
        if (n < 0) return hull_err_set(u->err, EIO, "%s", archive_error_string(tar));
        if (n == 0) break;
    }
    digest_final(st.md, diff);
    return 0;
}

int hull_layer_unpack(struct hull_image_store *s, const char *layer_digest, const char *dest_dir,
                      const struct hull_unpack_opts *opts, char diff_id_out[HULL_DIGEST_LEN],
                      struct hull_err *err) {
    static const struct hull_unpack_opts defaults;
    int rc = digest_check(layer_digest, "unpack", err);
    if (rc < 0) return rc;
    if (!opts) opts = &defaults;
    if (opts->diff_id && (rc = digest_check(opts->diff_id, "unpack: diff_id", err)) < 0) return rc;
    if (access(dest_dir, F_OK) == 0) return hull_err_set(err, EEXIST, "unpack layer %s: %s already exists", layer_digest, dest_dir);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d-%lx", dest_dir, (int)getpid(), (unsigned long)random());
    if (mkdir(tmp, 0700) < 0) return hull_err_sys(err, "unpack layer %s: mkdir %s", layer_digest, tmp);
    struct unpack u = { .err = err, .o = opts, .cache_fd = -1, .n_lowers = opts->n_lowers };
    u.root_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    u.lower_fds = calloc(opts->n_lowers + 1, sizeof *u.lower_fds);
    if (u.root_fd < 0 || !u.lower_fds) { rc = hull_err_sys(err, "open %s", tmp); goto out; }
    for (size_t i = 0; i < opts->n_lowers; i++)
        if ((u.lower_fds[i] = open(opts->lowers[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            u.n_lowers = i;
            rc = hull_err_sys(err, "lower layer %s", opts->lowers[i]);
            goto out;
        }
    if ((rc = store_lock(s->gc_lock_fd, LOCK_SH, "gc", err)) < 0) goto out;
    char diff[HULL_DIGEST_LEN];
    if ((rc = up_dir_defer(&u, "", 0755, NULL)) == 0)     /* unless the tar says otherwise */
        rc = unpack_stream(&u, s, layer_digest, diff);
    store_unlock(s->gc_lock_fd);
    up_cache_drop(&u);
    int drc = up_dirs_finish(&u);
    if (rc == 0) rc = drc;
    if (rc == 0 && opts->diff_id && strcmp(opts->diff_id, diff) != 0)
        rc = hull_err_set(err, EINVAL, "diffID mismatch: expected %s, got %s", opts->diff_id, diff);
    if (rc == 0 && diff_id_out) memcpy(diff_id_out, diff, HULL_DIGEST_LEN);
    if (rc == 0 && rename(tmp, dest_dir) < 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) hull_rm_rf(tmp);     /* a concurrent unpack won */
        else rc = hull_err_sys(err, "rename to %s", dest_dir);
    }
out:
    if (u.root_fd >= 0) close(u.root_fd);
    for (size_t i = 0; i < u.n_lowers; i++) close(u.lower_fds[i]);
    free(u.lower_fds);
    if (rc < 0) {
        hull_rm_rf(tmp);
        return hull_err_prefix(err, "unpack layer %s: ", layer_digest);
    }
    return 0;
}
