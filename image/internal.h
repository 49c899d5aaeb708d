/* Shared between the .c files of image/ only; the public API is image.h. */
#ifndef HULL_IMAGE_INTERNAL_H
#define HULL_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "base/json_gen.h"
#include "image/image.h"

#define MT_OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG    "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER     "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

#define JSON_MAX (16u << 20)        /* manifests, indexes, configs larger than this are refused */

struct hull_image_store {
    char *root;
    int root_fd, blobs_fd, tmp_fd, layers_fd;
    /* gc.lock: importers and unpackers hold it shared for their whole run, GC
     * exclusive, so GC never deletes a blob an import has written but not yet
     * referenced. refs.lock: exclusive around every read-modify-write of
     * repositories.json. */
    int gc_lock_fd, refs_lock_fd;
};

/* ---- digest.c ---- */
/* "sha256:<64 lowercase hex>" only; anything else -> -EINVAL with a message. */
int digest_check(const char *d, const char *what, struct hull_err *err);
static inline const char *digest_hex(const char *d) { return d + 7; }
void digest_final(EVP_MD_CTX *md, char out[HULL_DIGEST_LEN]);
EVP_MD_CTX *digest_new(void);

/* A growable set of digests (linear; images have tens of blobs). */
struct digest_set { char (*v)[HULL_DIGEST_LEN]; size_t n, cap; };
int dset_add(struct digest_set *s, const char *d);
bool dset_has(const struct digest_set *s, const char *d);
void dset_free(struct digest_set *s);

/* ---- store.c ---- */
int store_lock(int fd, int how, const char *what, struct hull_err *err);   /* flock, EINTR-safe */
void store_unlock(int fd);

struct blob_writer {
    struct hull_image_store *s;
    int fd;
    char tmp[64];
    EVP_MD_CTX *md;
    uint64_t n, limit;      /* limit 0: none */
    hull_progress_fn progress; void *pctx; const char *what; uint64_t ptotal, pbase;
};
int bw_open(struct hull_image_store *s, struct blob_writer *w, uint64_t limit, struct hull_err *err);
int bw_write(struct blob_writer *w, const void *buf, size_t len, struct hull_err *err);
/* Verifies (expect may be NULL / size -1), fsyncs, renames into blobs/.
 * *created tells whether the blob is new to the store. Always closes w. */
int bw_commit(struct blob_writer *w, const char *expect, int64_t expect_size,
              char out[HULL_DIGEST_LEN], bool *created, const char *what, struct hull_err *err);
void bw_abort(struct blob_writer *w);

int store_put(struct hull_image_store *s, const void *buf, size_t len, char out[HULL_DIGEST_LEN],
              bool *created, struct hull_err *err);
int store_ingest_fd(struct hull_image_store *s, int fd, const char *expect, int64_t expect_size,
                    hull_progress_fn progress, void *pctx, uint64_t pbase, uint64_t ptotal,
                    bool *created, struct hull_err *err);
bool store_has_blob(struct hull_image_store *s, const char *digest, int64_t *size);
int store_open_blob(struct hull_image_store *s, const char *digest, struct hull_err *err);
/* Whole blob, NUL-terminated, at most JSON_MAX bytes. */
char *store_read_blob(struct hull_image_store *s, const char *digest, size_t *len,
                      struct hull_err *err);
int store_unlink_blob(struct hull_image_store *s, const char *digest);

/* ---- json.c ---- */
yajl_val ij_parse(const char *text, const char *what, struct hull_err *err);
yajl_val ij_get(yajl_val obj, const char *key);
const char *ij_str(yajl_val obj, const char *key);
/* NULL-terminated copy of a string array field (absent: NULL, n 0). */
int ij_strv(yajl_val obj, const char *key, char ***out, size_t *n, const char *what,
            struct hull_err *err);
/* A generator that does not re-check UTF-8 (digests, names and tags were checked on the way in). */
yajl_gen ij_gen_new(void);

/* ---- manifest.c ---- */
struct desc {
    char media_type[160];
    char digest[HULL_DIGEST_LEN];
    int64_t size;
    char os[32], arch[32], variant[32];
    char ref_name[256];         /* org.opencontainers.image.ref.name */
    char full_name[384];        /* io.containerd.image.name */
};
int desc_parse(yajl_val v, const char *what, struct desc *d, struct hull_err *err);

struct manifest {
    struct desc config;
    struct desc *layers;
    size_t n_layers;
};
int manifest_parse(const char *text, const char *what, struct manifest *m, struct hull_err *err);
void manifest_free(struct manifest *m);
bool media_is_manifest(const char *mt);
/* The layer media types we can unpack (plain, gzip, zstd; OCI and docker). */
bool media_is_layer(const char *mt);
/* Picks the manifest for platform ("os/arch[/variant]") from an index's
 * descriptors. */
int index_pick(const struct desc *v, size_t n, const char *platform, struct desc *out,
               struct hull_err *err);
/* Parses an index's "manifests" array into a malloc'd vector. */
int index_parse(const char *text, const char *what, struct desc **out, size_t *n,
                struct hull_err *err);
/* Reads and parses the manifest of a stored reference; also the config's diff_ids
 * and platform. */
struct image_meta {
    struct manifest m;
    char **diff_ids;
    size_t n_diff_ids;
    char created[64];
};
int image_meta_load(struct hull_image_store *s, const char *manifest_digest,
                    struct image_meta *out, char **config_text, struct hull_err *err);
void image_meta_free(struct image_meta *im);

/* ---- refs.c ---- */
struct ref_entry {
    char name[256], tag[128];
    char digest[HULL_DIGEST_LEN];
    char platform[64];
};
/* Load under refs.lock (caller holds it). Missing file = empty. */
int refs_load(struct hull_image_store *s, struct ref_entry **out, size_t *n, struct hull_err *err);
int refs_save(struct hull_image_store *s, const struct ref_entry *v, size_t n, struct hull_err *err);
/* Adds or replaces name:tag; takes refs.lock itself. */
int refs_set(struct hull_image_store *s, const struct ref_entry *e, struct hull_err *err);
/* Finds a normalised reference; -ENOENT with "image NAME:TAG not found". */
int refs_lookup(struct hull_image_store *s, const char *ref, struct ref_entry *out,
                struct hull_err *err);

/* ---- images.c ---- */
/* GC body; the caller holds gc.lock exclusively. only != NULL restricts the
 * candidates for deletion to that set (failed-import cleanup). */
int gc_locked(struct hull_image_store *s, const struct digest_set *only, struct hull_err *err);
/* Summary row (size, created) for a reference. */
int summary_fill(struct hull_image_store *s, const struct ref_entry *r, struct hull_image_summary *out,
                 struct hull_err *err);

/* ---- arc_scan.c ---- */
/* What one streaming pass over an archive saw: each regular file stored as a
 * blob (path -> digest/size), symlinks, and the small JSON files in memory. */
struct arc_file {
    char *path;
    char *link;                 /* symlink target, else NULL */
    char digest[HULL_DIGEST_LEN];
    uint64_t size;
};
struct arc_scan {
    struct arc_file *files;
    size_t n, cap;
    char *index_json, *oci_layout, *manifest_json;
    struct digest_set created;  /* blobs this import added to the store */
};
/* "a/./b//c" -> "a/b/c", relative to dir (may be NULL); NULL on ".." above
 * the root or no memory. The caller frees. */
char *arc_norm(const char *dir, const char *p);
/* The regular file at path, following symlinks in the table (16 hops); else NULL. */
const struct arc_file *arc_find(const struct arc_scan *sc, const char *path);
/* A zeroed new row; NULL on no memory. */
struct arc_file *arc_push(struct arc_scan *sc);
void arc_scan_free(struct arc_scan *sc);

/* ---- import_docker.c ---- */
int import_docker(struct hull_image_store *s, struct arc_scan *sc, const char *ref_override,
                  char manifest_digest[HULL_DIGEST_LEN], struct ref_entry *ref,
                  struct hull_err *err);
/* Digest of the uncompressed stream of a (possibly compressed) blob. */
int blob_uncompressed_digest(struct hull_image_store *s, const char *digest,
                             char out[HULL_DIGEST_LEN], struct hull_err *err);

/* ---- refs.c helpers ---- */
int ref_split(const char *ref, struct ref_entry *e, struct hull_err *err);

#endif
