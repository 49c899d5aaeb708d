/* hull_image_import: detects the format and walks the image.
 *
 * - OCI layout directory: blobs are copied from the directory into the store
 *   on demand, each verified against its descriptor (digest and size).
 * - Any tar (OCI archive, docker-archive, possibly compressed): one streaming
 *   pass stores every regular file as a blob (entries named blobs/sha256/<hex>
 *   must hash to <hex>; the rest are hashed as they come), keeping the small
 *   index files in memory. The image is then walked from the store. This
 *   reads the archive once and never unpacks it to disk.
 *
 * Failure at any point leaves the reference index untouched; blobs this
 * import added and no reference uses are deleted afterwards (also on success:
 * unreferenced archive members such as docker's legacy per-layer json). */
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

#include "base/fsutil.h"

struct import {
    struct hull_image_store *s;
    int layout_fd;              /* OCI layout directory, -1 for archives (blobs pre-stored) */
    struct arc_scan sc;
    const char *platform;
    hull_progress_fn progress;
    void *pctx;
    uint64_t done, total;
};

static int read_small(struct archive *a, const char *path, char **out, struct hull_err *err) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return hull_err_set(err, ENOMEM, "%s: out of memory", path);
    for (;;) {
        if (n == cap) {
            if (cap >= JSON_MAX) { free(buf); return hull_err_set(err, EFBIG, "%s: larger than %u bytes", path, JSON_MAX); }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); return hull_err_set(err, ENOMEM, "%s: out of memory", path); }
            buf = nb;
            cap *= 2;
        }
        la_ssize_t r = archive_read_data(a, buf + n, cap - n);
        if (r < 0) { free(buf); return hull_err_set(err, EIO, "%s: %s", path, archive_error_string(a)); }
        if (r == 0) break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    free(*out);         /* a later duplicate member wins, as tar extraction would */
    *out = buf;
    return 0;
}

static bool blob_path(const char *p, char digest[HULL_DIGEST_LEN]) {
    if (strncmp(p, "blobs/sha256/", 13) != 0) return false;
    snprintf(digest, HULL_DIGEST_LEN, "sha256:%s", p + 13);
    return digest_check(digest, p, NULL) == 0;
}

static int scan_member(struct import *imp, struct archive *a, struct archive_entry *e,
                       const char *path, struct hull_err *err) {
    struct arc_scan *sc = &imp->sc;
    if (strcmp(path, "index.json") == 0) return read_small(a, path, &sc->index_json, err);
    if (strcmp(path, "oci-layout") == 0) return read_small(a, path, &sc->oci_layout, err);
    if (strcmp(path, "manifest.json") == 0) return read_small(a, path, &sc->manifest_json, err);
    char expect[HULL_DIGEST_LEN];
    bool named = blob_path(path, expect);
    int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    struct blob_writer w;
    int rc = bw_open(imp->s, &w, size >= 0 ? (uint64_t)size : 0, err);
    if (rc < 0) return rc;
    w.what = path;
    const void *buf;
    size_t len;
    la_int64_t off;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            bw_abort(&w);
            return hull_err_set(err, EIO, "%s: %s", path, archive_error_string(a));
        }
        if ((rc = bw_write(&w, buf, len, err)) < 0) { bw_abort(&w); return rc; }
        if (imp->progress) imp->progress(imp->pctx, "import", (uint64_t)archive_filter_bytes(a, -1), imp->total);
    }
    struct arc_file *f = arc_push(sc);
    if (!f || !(f->path = strdup(path))) { bw_abort(&w); return hull_err_set(err, ENOMEM, "out of memory"); }
    f->size = w.n;
    bool created = false;
    if ((rc = bw_commit(&w, named ? expect : NULL, size, f->digest, &created, path, err)) < 0) return rc;
    if (created && dset_add(&sc->created, f->digest) < 0) return hull_err_set(err, ENOMEM, "out of memory");
    return 0;
}

static int scan_archive(struct import *imp, int fd, struct hull_err *err) {
    _cleanup_archive_read_ struct archive *a = archive_read_new();
    if (!a) return hull_err_set(err, ENOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int rc = 0;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK)
        return hull_err_set(err, EINVAL, "not a tar archive or OCI layout: %s", archive_error_string(a));
    struct archive_entry *e;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return hull_err_set(err, EINVAL, "reading archive: %s", archive_error_string(a));
        const char *raw = archive_entry_pathname(e);
        char *path = raw ? arc_norm(NULL, raw) : NULL;
        if (!path || !*path) { free(path); continue; }   /* "./" or a name leaving the archive */
        const char *hl = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (hl || type == AE_IFLNK) {
            struct arc_file *f = arc_push(&imp->sc);
            char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
            if (slash) *slash = '\0';
            else if (dir) dir[0] = '\0';
            /* hardlink names are archive-relative, symlink targets entry-relative */
            char *link = hl ? arc_norm(NULL, hl) : arc_norm(dir, archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
            free(dir);
            if (!f || !link) { free(path); free(link); if (f) imp->sc.n--; continue; }
            f->path = path;
            f->link = link;
            continue;
        }
        if (type == AE_IFREG) rc = scan_member(imp, a, e, path, err);
        free(path);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Makes sure the blob a descriptor names is in the store, verified. */
static int fetch(struct import *imp, const struct desc *d, const char *what, struct hull_err *err) {
    int64_t have;
    if (store_has_blob(imp->s, d->digest, &have)) {
        if (have != d->size)
            return hull_err_set(err, EINVAL, "%s %s: size mismatch: descriptor says %lld bytes, blob has %lld",
                                what, d->digest, (long long)d->size, (long long)have);
        imp->done += (uint64_t)have;
        return 0;
    }
    if (imp->layout_fd < 0)
        return hull_err_set(err, ENOENT, "%s %s: not in the archive", what, d->digest);
    char rel[128];
    snprintf(rel, sizeof rel, "blobs/sha256/%s", digest_hex(d->digest));
    int fd = -1, dfd = openat(imp->layout_fd, "blobs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd >= 0) {
        int d2 = openat(dfd, "sha256", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(dfd);
        if (d2 >= 0) {
            fd = openat(d2, digest_hex(d->digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            close(d2);
        }
    }
    if (fd < 0) return hull_err_sys(err, "%s %s: %s", what, d->digest, rel);
    bool created = false;
    int rc = store_ingest_fd(imp->s, fd, d->digest, d->size, imp->progress, imp->pctx, imp->done,
                             imp->total, &created, err);
    close(fd);
    if (rc < 0) return hull_err_prefix(err, "%s: ", what);
    imp->done += (uint64_t)d->size;
    if (created && dset_add(&imp->sc.created, d->digest) < 0) return hull_err_set(err, ENOMEM, "out of memory");
    return 0;
}

static char *fetch_json(struct import *imp, const struct desc *d, const char *what, struct hull_err *err) {
    if (d->size > (int64_t)JSON_MAX) {
        hull_err_set(err, EFBIG, "%s %s: %lld bytes, larger than allowed", what, d->digest, (long long)d->size);
        return NULL;
    }
    if (fetch(imp, d, what, err) < 0) return NULL;
    return store_read_blob(imp->s, d->digest, NULL, err);
}

/* Top-level choice among index.json entries: the one the requested name
 * designates, else the only one, else by platform. */
static int choose_top(const struct desc *v, size_t n, const char *ref_override, const char *platform,
                      struct desc *out, struct hull_err *err) {
    if (n == 1) { *out = v[0]; return 0; }
    struct ref_entry want;
    if (ref_override && ref_split(ref_override, &want, NULL) == 0) {
        char full[400];
        snprintf(full, sizeof full, "%s:%s", want.name, want.tag);
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].full_name, full) == 0 || strcmp(v[i].ref_name, full) == 0 ||
                strcmp(v[i].ref_name, want.tag) == 0) {
                *out = v[i];
                return 0;
            }
    }
    return index_pick(v, n, platform, out, err);
}

static int import_oci(struct import *imp, const char *index_text, const char *ref_override,
                      char mdigest[HULL_DIGEST_LEN], struct ref_entry *ref, struct hull_err *err) {
    struct desc *top;
    size_t n;
    int rc = index_parse(index_text, "index.json", &top, &n, err);
    if (rc < 0) return rc;
    struct desc d, named;
    rc = choose_top(top, n, ref_override, imp->platform, &d, err);
    free(top);
    if (rc < 0) return rc;
    named = d;
    char *text = NULL;
    for (int depth = 0;; depth++) {
        if (depth > 4) return hull_err_set(err, ELOOP, "image index nesting deeper than 4");
        if (!(text = fetch_json(imp, &d, "manifest", err))) return -err->code;
        yajl_val probe = ij_parse(text, d.digest, err);
        if (!probe) { free(text); return -err->code; }
        bool is_index = ij_get(probe, "manifests") != NULL;
        yajl_tree_free(probe);
        if (!is_index) break;
        struct desc *v;
        rc = index_parse(text, d.digest, &v, &n, err);
        free(text);
        if (rc < 0) return rc;
        rc = index_pick(v, n, imp->platform, &d, err);
        free(v);
        if (rc < 0) return rc;
    }
    struct manifest m;
    char what[128];
    snprintf(what, sizeof what, "manifest %s", d.digest);
    rc = manifest_parse(text, what, &m, err);
    free(text);
    if (rc < 0) return rc;
    char *cfg = fetch_json(imp, &m.config, "config", err);
    if (!cfg) { manifest_free(&m); return -err->code; }
    snprintf(what, sizeof what, "config %s", m.config.digest);
    yajl_val c = ij_parse(cfg, what, err);
    free(cfg);
    if (!c) { manifest_free(&m); return -err->code; }
    yajl_val diff = ij_get(ij_get(c, "rootfs"), "diff_ids");
    size_t nd = diff && YAJL_IS_ARRAY(diff) ? diff->u.array.len : 0;
    const char *os = ij_str(c, "os"), *arch = ij_str(c, "architecture"), *var = ij_str(c, "variant");
    memset(ref, 0, sizeof *ref);
    snprintf(ref->platform, sizeof ref->platform, "%s/%s%s%s", os ? os : "", arch ? arch : "",
             var ? "/" : "", var ? var : "");
    yajl_tree_free(c);
    if (nd != m.n_layers) {
        manifest_free(&m);
        return hull_err_set(err, EINVAL, "%s: %zu diff_ids for %zu layers", what, nd, m.n_layers);
    }
    imp->total = imp->layout_fd >= 0 ? imp->done : imp->total;
    for (size_t i = 0; i < m.n_layers; i++)
        if (imp->layout_fd >= 0) imp->total += (uint64_t)m.layers[i].size;
    for (size_t i = 0; i < m.n_layers && rc == 0; i++)
        rc = fetch(imp, &m.layers[i], "layer", err);
    manifest_free(&m);
    if (rc < 0) return rc;
    memcpy(mdigest, d.digest, HULL_DIGEST_LEN);
    /* the name: the caller's, else a full reference the layout carries */
    const char *name = ref_override;
    if (!name && named.full_name[0]) name = named.full_name;
    if (!name && (strchr(named.ref_name, ':') || strchr(named.ref_name, '/'))) name = named.ref_name;
    if (!name)
        return hull_err_set(err, EINVAL, "the image carries no repository name%s%s%s: give one (--name)",
                            named.ref_name[0] ? " (only the tag \"" : "", named.ref_name,
                            named.ref_name[0] ? "\")" : "");
    char platform[64];
    memcpy(platform, ref->platform, sizeof platform);
    if ((rc = ref_split(name, ref, err)) < 0) return rc;
    memcpy(ref->platform, platform, sizeof platform);
    return 0;
}

static int check_layout_version(const char *text, struct hull_err *err) {
    yajl_val v = ij_parse(text, "oci-layout", err);
    if (!v) return -err->code;
    bool ok = ij_str(v, "imageLayoutVersion") != NULL;
    yajl_tree_free(v);
    return ok ? 0 : hull_err_set(err, EINVAL, "oci-layout: imageLayoutVersion missing");
}

static int import_body(struct import *imp, const char *path, const char *ref_override,
                       char mdigest[HULL_DIGEST_LEN], struct ref_entry *ref, struct hull_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hull_err_sys(err, "open");
    struct stat st;
    if (fstat(fd, &st) < 0) { close(fd); return hull_err_sys(err, "stat"); }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        imp->layout_fd = fd;
        char *layout = hull_read_file_at(fd, "oci-layout", 4096, NULL);
        if (!layout) return hull_err_sys(err, "not an OCI layout: oci-layout");
        rc = check_layout_version(layout, err);
        free(layout);
        if (rc < 0) return rc;
        imp->sc.index_json = hull_read_file_at(fd, "index.json", JSON_MAX, NULL);
        if (!imp->sc.index_json) return hull_err_sys(err, "OCI layout: index.json");
        return import_oci(imp, imp->sc.index_json, ref_override, mdigest, ref, err);
    }
    imp->total = (uint64_t)st.st_size;
    rc = scan_archive(imp, fd, err);
    close(fd);
    if (rc < 0) return rc;
    if (imp->sc.index_json && imp->sc.oci_layout) {
        if ((rc = check_layout_version(imp->sc.oci_layout, err)) < 0) return rc;
        return import_oci(imp, imp->sc.index_json, ref_override, mdigest, ref, err);
    }
    if (imp->sc.manifest_json)
        return import_docker(imp->s, &imp->sc, ref_override, mdigest, ref, err);
    return hull_err_set(err, EINVAL, "neither an OCI archive (oci-layout + index.json) nor a docker-archive (manifest.json)");
}

int hull_image_import(struct hull_image_store *s, const char *path, const char *ref_override,
                      const char *platform, hull_progress_fn progress, void *progress_ctx,
                      struct hull_image_summary *out, struct hull_err *err) {
    struct ref_entry ref;
    int rc;
    if (ref_override && (rc = ref_split(ref_override, &ref, err)) < 0) return rc;
    if (platform && *platform) {
        struct desc none;
        if (index_pick(NULL, 0, platform, &none, err) == -EINVAL) return -EINVAL;  /* syntax only */
        hull_err_clear(err);
    }
    struct import imp = { .s = s, .layout_fd = -1, .platform = platform,
                          .progress = progress, .pctx = progress_ctx };
    char mdigest[HULL_DIGEST_LEN] = "";
    if ((rc = store_lock(s->gc_lock_fd, LOCK_SH, "gc", err)) < 0) return rc;
    rc = import_body(&imp, path, ref_override, mdigest, &ref, err);
    if (rc == 0) {
        memcpy(ref.digest, mdigest, HULL_DIGEST_LEN);
        rc = refs_set(s, &ref, err);
    }
    if (imp.layout_fd >= 0) close(imp.layout_fd);
    /* Drop what this import added and nothing references (all of it on failure). */
    struct hull_err gerr;
    if (store_lock(s->gc_lock_fd, LOCK_EX, "gc", &gerr) == 0) gc_locked(s, &imp.sc.created, &gerr);
    store_unlock(s->gc_lock_fd);
    arc_scan_free(&imp.sc);
    if (rc < 0) return hull_err_prefix(err, "import %s: ", path);
    if (out && (rc = summary_fill(s, &ref, out, err)) < 0) return rc;
    return 0;
}
