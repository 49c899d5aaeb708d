/* hull_image_export: the image as an OCI archive, a tar of an OCI layout
 * (oci-layout, index.json, blobs/sha256/...). Blobs are copied byte for byte
 * so digests survive a round trip. index.json names the image twice: the
 * tag in org.opencontainers.image.ref.name (what umoci and skopeo match on)
 * and the full name in io.containerd.image.name (what import reads back). */
#include "image/internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct exp {
    struct archive *a;
    hull_progress_fn progress;
    void *pctx;
    uint64_t done, total;
};

static int add_entry(struct exp *x, const char *path, mode_t type, int64_t size, struct hull_err *err) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    archive_entry_set_mtime(e, 0, 0);   /* reproducible: same image, same archive */
    int r = archive_write_header(x->a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) return hull_err_set(err, EIO, "%s: %s", path, archive_error_string(x->a));
    return 0;
}

static int add_mem(struct exp *x, const char *path, const char *buf, size_t len, struct hull_err *err) {
    int rc = add_entry(x, path, AE_IFREG, (int64_t)len, err);
    if (rc == 0 && archive_write_data(x->a, buf, len) != (la_ssize_t)len)
        rc = hull_err_set(err, EIO, "%s: %s", path, archive_error_string(x->a));
    return rc;
}

static int add_blob(struct exp *x, struct hull_image_store *s, const char *digest, struct hull_err *err) {
    char path[128];
    snprintf(path, sizeof path, "blobs/sha256/%s", digest_hex(digest));
    int fd = store_open_blob(s, digest, err);
    if (fd < 0) return fd;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? hull_err_sys(err, "blob %s", digest) : 0;
    if (rc == 0) rc = add_entry(x, path, AE_IFREG, st.st_size, err);
    char buf[1 << 16];
    while (rc == 0) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = hull_err_sys(err, "blob %s", digest); break; }
        if (n == 0) break;
        if (archive_write_data(x->a, buf, (size_t)n) != n)
            rc = hull_err_set(err, EIO, "%s: %s", path, archive_error_string(x->a));
        x->done += (uint64_t)n;
        if (x->progress) x->progress(x->pctx, "export", x->done, x->total);
    }
    close(fd);
    return rc;
}

static char *index_json(const struct ref_entry *r, const struct desc *m, size_t *len) {
    char full[400], os[32] = "", arch[32] = "", variant[32] = "";
    snprintf(full, sizeof full, "%s:%s", r->name, r->tag);
    sscanf(r->platform, "%31[^/]/%31[^/]/%31s", os, arch, variant);
    yajl_gen g = ij_gen_new();
    yajl_gen_map_open(g);
    jg_kint(g, "schemaVersion", 2);
    jg_kstr(g, "mediaType", MT_OCI_INDEX);
    jg_str(g, "manifests");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    jg_kstr(g, "mediaType", m->media_type);
    jg_kstr(g, "digest", m->digest);
    jg_kint(g, "size", (long long)m->size);
    if (os[0] && arch[0]) {
        jg_str(g, "platform");
        yajl_gen_map_open(g);
        jg_kstr(g, "architecture", arch);
        jg_kstr(g, "os", os);
        if (variant[0]) jg_kstr(g, "variant", variant);
        yajl_gen_map_close(g);
    }
    jg_str(g, "annotations");
    yajl_gen_map_open(g);
    jg_kstr(g, "io.containerd.image.name", full);
    jg_kstr(g, "org.opencontainers.image.ref.name", r->tag);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return jg_take(g, false, len);
}

static int write_archive(struct exp *x, struct hull_image_store *s, const struct ref_entry *r,
                         const struct image_meta *im, struct hull_err *err) {
    int64_t msize = 0;
    if (!store_has_blob(s, r->digest, &msize)) return hull_err_set(err, ENOENT, "manifest %s: missing", r->digest);
    char *mtext = store_read_blob(s, r->digest, NULL, err);
    if (!mtext) return -err->code;
    yajl_val mv = ij_parse(mtext, "manifest", err);
    free(mtext);
    if (!mv) return -err->code;
    struct desc md = { .size = msize };
    const char *mt = ij_str(mv, "mediaType");
    snprintf(md.media_type, sizeof md.media_type, "%s", mt ? mt : MT_OCI_MANIFEST);
    snprintf(md.digest, sizeof md.digest, "%s", r->digest);
    yajl_tree_free(mv);
    size_t ilen;
    char *idx = index_json(r, &md, &ilen);
    if (!idx) return hull_err_set(err, ENOMEM, "out of memory");
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int rc = add_mem(x, "oci-layout", layout, sizeof layout - 1, err);
    if (rc == 0) rc = add_mem(x, "index.json", idx, ilen, err);
    free(idx);
    if (rc == 0) rc = add_entry(x, "blobs", AE_IFDIR, 0, err);
    if (rc == 0) rc = add_entry(x, "blobs/sha256", AE_IFDIR, 0, err);
    if (rc == 0) rc = add_blob(x, s, r->digest, err);
    if (rc == 0) rc = add_blob(x, s, im->m.config.digest, err);
    struct digest_set seen = {0};      /* an image may list the same layer twice */
    for (size_t i = 0; rc == 0 && i < im->m.n_layers; i++) {
        if (dset_has(&seen, im->m.layers[i].digest)) continue;
        dset_add(&seen, im->m.layers[i].digest);
        rc = add_blob(x, s, im->m.layers[i].digest, err);
    }
    dset_free(&seen);
    return rc;
}

static int export_locked(struct hull_image_store *s, const struct ref_entry *rp, const char *ref,
                         const char *out_path, hull_progress_fn progress, void *progress_ctx,
                         struct hull_err *err);

int hull_image_export(struct hull_image_store *s, const char *ref, const char *out_path,
                      hull_progress_fn progress, void *progress_ctx, struct hull_err *err) {
    struct ref_entry r;
    int rc = refs_lookup(s, ref, &r, err);
    if (rc < 0) return rc;
    /* shared gc lock: a concurrent rmi must not delete blobs mid-copy */
    if ((rc = store_lock(s->gc_lock_fd, LOCK_SH, "gc", err)) < 0) return rc;
    rc = export_locked(s, &r, ref, out_path, progress, progress_ctx, err);
    store_unlock(s->gc_lock_fd);
    return rc;
}

static int export_locked(struct hull_image_store *s, const struct ref_entry *rp, const char *ref,
                         const char *out_path, hull_progress_fn progress, void *progress_ctx,
                         struct hull_err *err) {
    struct ref_entry r = *rp;
    int rc = 0;
    struct image_meta im;
    if ((rc = image_meta_load(s, r.digest, &im, NULL, err)) < 0) return hull_err_prefix(err, "export %s: ", ref);
    struct exp x = { .progress = progress, .pctx = progress_ctx };
    for (size_t i = 0; i < im.m.n_layers; i++) x.total += (uint64_t)im.m.layers[i].size;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", out_path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) { image_meta_free(&im); return hull_err_sys(err, "export %s: create %s", ref, tmp); }
    x.a = archive_write_new();
    archive_write_set_format_pax_restricted(x.a);
    archive_write_set_bytes_in_last_block(x.a, 1);
    if (archive_write_open_fd(x.a, fd) != ARCHIVE_OK)
        rc = hull_err_set(err, EIO, "%s", archive_error_string(x.a));
    if (rc == 0) rc = write_archive(&x, s, &r, &im, err);
    if (archive_write_close(x.a) != ARCHIVE_OK && rc == 0)
        rc = hull_err_set(err, EIO, "%s", archive_error_string(x.a));
    archive_write_free(x.a);
    image_meta_free(&im);
    if (rc == 0 && fsync(fd) < 0) rc = hull_err_sys(err, "fsync %s", tmp);
    close(fd);
    if (rc == 0 && rename(tmp, out_path) < 0) rc = hull_err_sys(err, "rename to %s", out_path);
    if (rc < 0) {
        unlink(tmp);
        return hull_err_prefix(err, "export %s: ", ref);
    }
    return 0;
}
