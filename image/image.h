/* Image store, import/export and safe layer unpack (see image/README.md).
 *
 * The store lives under a root directory (HULL_ROOT, default /var/lib/hull):
 *   blobs/sha256/<hex>        content-addressed blobs, verified while written
 *   repositories.json         name:tag -> manifest digest (+ platform)
 *   layers/sha256/<diffhex>   unpacked layer directories in overlayfs form
 *   tmp/                      ingest temp files (same filesystem, so rename works)
 *   gc.lock, refs.lock        flock files (see store.c for the protocol)
 *
 * Every function returns 0 or a negative errno and fills *err; nothing here
 * prints or exits. A progress callback (optional) receives bytes done/total. */
#ifndef HULL_IMAGE_IMAGE_H
#define HULL_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define HULL_IMAGE_DEFAULT_ROOT "/var/lib/hull"
#define HULL_DIGEST_LEN 72          /* "sha256:" + 64 hex + NUL, rounded up */
#define HULL_DEFAULT_PLATFORM "linux/amd64"

struct hull_image_store;

/* what: "import", "unpack sha256:...", ...; total 0 when unknown. */
typedef void (*hull_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

/* $HULL_ROOT when set and non-empty, else /var/lib/hull. */
const char *hull_image_default_root(void);

/* Creates the layout under root if missing. */
int hull_image_store_open(const char *root, struct hull_image_store **out, struct hull_err *err);
void hull_image_store_close(struct hull_image_store *s);
static inline void hull_image_store_closep(struct hull_image_store **s) { hull_image_store_close(*s); }
#define _cleanup_image_store_ __attribute__((cleanup(hull_image_store_closep)))

/* One reference in the index. */
struct hull_image_summary {
    char name[256];                 /* "busybox", "registry:5000/team/app" */
    char tag[128];                  /* "latest" */
    char digest[HULL_DIGEST_LEN];   /* manifest digest */
    char platform[64];              /* "linux/amd64" */
    char created[64];               /* config "created" (RFC 3339), "" if absent */
    uint64_t size;                  /* config + layer blob sizes (compressed, as stored) */
};

/* Normalises a reference: "busybox" -> "busybox:latest"; registry/path parts
 * are kept as given. Digest references ("@sha256:") are refused. */
int hull_image_ref_normalize(const char *in, char *name, size_t name_len, char *tag,
                             size_t tag_len, struct hull_err *err);

/* Imports an OCI layout directory, an OCI archive or a docker-archive (the
 * format is detected). ref_override names the image (else the archive's own
 * name: io.containerd.image.name / a full ref.name annotation / RepoTags[0]).
 * platform "os/arch[/variant]" picks from an image index (NULL: linux/amd64).
 * All digests and sizes are verified; on any failure nothing new is kept.
 * out (optional) receives the added reference. */
int hull_image_import(struct hull_image_store *s, const char *path, const char *ref_override,
                      const char *platform, hull_progress_fn progress, void *progress_ctx,
                      struct hull_image_summary *out, struct hull_err *err);

/* All references, sorted by name then tag; *out is malloc'd (free()). */
int hull_image_list(struct hull_image_store *s, struct hull_image_summary **out, size_t *n,
                    struct hull_err *err);

struct hull_image_label { char *key, *value; };

/* The parts of an image config the runtime and `image inspect` need. */
struct hull_image_config {
    struct hull_image_summary ref;
    char config_digest[HULL_DIGEST_LEN];
    char *os, *architecture, *variant;
    char *user, *working_dir, *stop_signal;
    char **entrypoint; size_t n_entrypoint;   /* NULL-terminated arrays */
    char **cmd;        size_t n_cmd;
    char **env;        size_t n_env;
    char **exposed_ports; size_t n_exposed_ports;   /* "80/tcp" */
    char **volumes;    size_t n_volumes;
    struct hull_image_label *labels; size_t n_labels;
    char **diff_ids;   size_t n_layers;             /* uncompressed digests, base first */
    char **layer_digests;                           /* blob digests, n_layers of them */
    char **layer_media_types;
    uint64_t *layer_sizes;
    char *config_json;                              /* the config blob as stored */
    char *manifest_json;
};

int hull_image_inspect(struct hull_image_store *s, const char *ref, struct hull_image_config **out,
                       struct hull_err *err);
void hull_image_config_free(struct hull_image_config *c);
static inline void hull_image_config_freep(struct hull_image_config **c) { hull_image_config_free(*c); }
#define _cleanup_image_config_ __attribute__((cleanup(hull_image_config_freep)))

/* Removes the reference, then garbage-collects blobs and layer directories
 * no other reference uses. (Refusing while a container uses the image is the
 * caller's business.) */
int hull_image_remove(struct hull_image_store *s, const char *ref, struct hull_err *err);
/* Deletes unreferenced blobs, unpacked layers and stale temp files. */
int hull_image_gc(struct hull_image_store *s, struct hull_err *err);

/* Writes the image as an OCI archive (tar of an OCI layout) to out_path,
 * atomically (temp file + rename). */
int hull_image_export(struct hull_image_store *s, const char *ref, const char *out_path,
                      hull_progress_fn progress, void *progress_ctx, struct hull_err *err);

struct hull_unpack_opts {
    bool allow_devices;         /* create char/block nodes from the tar (else: error) */
    bool no_chown;              /* keep the caller's uid/gid (rootless) */
    uint64_t max_bytes;         /* 0: unlimited; else cap on file bytes written */
    const char *diff_id;        /* expected uncompressed digest, NULL: just compute it */
    /* Unpacked lower layers, top-most first: used for metadata of directories
     * the layer creates implicitly, hardlinks to lower files (copied up), and to
     * refuse writing through a symlink a lower layer planted. */
    const char *const *lowers;
    size_t n_lowers;
    hull_progress_fn progress;
    void *progress_ctx;
};

/* Applies the layer blob layer_digest (gzip/zstd/plain tar) into dest_dir,
 * which must not exist: entries are written into a sibling temp directory
 * that is renamed to dest_dir only when every entry was safe and the diffID
 * matched; otherwise it is removed. Whiteouts become overlayfs whiteouts (char
 * 0:0), opaque markers the trusted.overlay.opaque=y xattr. diff_id_out
 * (optional) receives the computed uncompressed digest. */
int hull_layer_unpack(struct hull_image_store *s, const char *layer_digest, const char *dest_dir,
                      const struct hull_unpack_opts *opts, char diff_id_out[HULL_DIGEST_LEN],
                      struct hull_err *err);

/* The image's unpacked layer directories, base layer first (overlayfs wants
 * lowerdir= in the reverse order), unpacking those not yet present under
 * layers/sha256/<diffid>. opts may be NULL (defaults: devices allowed, chown).
 * *dirs is a malloc'd array of malloc'd strings; free with hull_image_strv_free. */
int hull_image_rootfs_layers(struct hull_image_store *s, const char *ref,
                             const struct hull_unpack_opts *opts, char ***dirs, size_t *n,
                             struct hull_err *err);
void hull_image_strv_free(char **v, size_t n);

#endif
