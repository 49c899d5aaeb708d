/* Parsing of OCI/docker descriptors, manifests and indexes, and platform
 * selection. Everything comes from an untrusted archive: digests are checked
 * for form here and for content when the blob is stored. */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool media_is_manifest(const char *mt) {
    return strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_MANIFEST) == 0;
}

bool media_is_layer(const char *mt) {
    static const char *const ok[] = {
        MT_OCI_LAYER, MT_OCI_LAYER "+gzip", MT_OCI_LAYER "+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcmp(mt, ok[i]) == 0) return true;
    return false;
}

static void copy_str(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

int desc_parse(yajl_val v, const char *what, struct desc *d, struct hull_err *err) {
    memset(d, 0, sizeof *d);
    if (!v || !YAJL_IS_OBJECT(v)) return hull_err_set(err, EINVAL, "%s: descriptor is not an object", what);
    const char *mt = ij_str(v, "mediaType"), *dg = ij_str(v, "digest");
    yajl_val sz = ij_get(v, "size");
    int rc = digest_check(dg, what, err);
    if (rc < 0) return rc;
    if (!sz || !YAJL_IS_INTEGER(sz) || YAJL_GET_INTEGER(sz) < 0)
        return hull_err_set(err, EINVAL, "%s: descriptor %s: missing or negative size", what, dg);
    copy_str(d->media_type, sizeof d->media_type, mt);
    copy_str(d->digest, sizeof d->digest, dg);
    d->size = YAJL_GET_INTEGER(sz);
    yajl_val pf = ij_get(v, "platform");
    copy_str(d->os, sizeof d->os, ij_str(pf, "os"));
    copy_str(d->arch, sizeof d->arch, ij_str(pf, "architecture"));
    copy_str(d->variant, sizeof d->variant, ij_str(pf, "variant"));
    yajl_val an = ij_get(v, "annotations");
    copy_str(d->ref_name, sizeof d->ref_name, ij_str(an, "org.opencontainers.image.ref.name"));
    copy_str(d->full_name, sizeof d->full_name, ij_str(an, "io.containerd.image.name"));
    return 0;
}

static int manifest_fill(yajl_val root, const char *what, struct manifest *m, struct hull_err *err) {
    const char *mt = ij_str(root, "mediaType");
    if (mt && !media_is_manifest(mt))
        return hull_err_set(err, EINVAL, "%s: media type %s is not an image manifest", what, mt);
    int rc = desc_parse(ij_get(root, "config"), what, &m->config, err);
    if (rc < 0) return rc;
    yajl_val layers = ij_get(root, "layers");
    if (!layers || !YAJL_IS_ARRAY(layers))
        return hull_err_set(err, EINVAL, "%s: layers: missing or not an array", what);
    m->n_layers = layers->u.array.len;
    m->layers = calloc(m->n_layers ? m->n_layers : 1, sizeof *m->layers);
    if (!m->layers) return hull_err_set(err, ENOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < m->n_layers; i++) {
        if ((rc = desc_parse(layers->u.array.values[i], what, &m->layers[i], err)) < 0) return rc;
        if (!media_is_layer(m->layers[i].media_type))
            return hull_err_set(err, ENOTSUP, "%s: layer %s: unsupported media type \"%s\"", what,
                                m->layers[i].digest, m->layers[i].media_type);
    }
    return 0;
}

int manifest_parse(const char *text, const char *what, struct manifest *m, struct hull_err *err) {
    memset(m, 0, sizeof *m);
    _cleanup_yajl_tree_ yajl_val root = ij_parse(text, what, err);
    if (!root) return -err->code;
    int rc = manifest_fill(root, what, m, err);
    if (rc < 0) manifest_free(m);
    return rc;
}

void manifest_free(struct manifest *m) {
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
}

int index_parse(const char *text, const char *what, struct desc **out, size_t *n,
                struct hull_err *err) {
    *out = NULL;
    *n = 0;
    _cleanup_yajl_tree_ yajl_val root = ij_parse(text, what, err);
    if (!root) return -err->code;
    yajl_val arr = ij_get(root, "manifests");
    if (!arr || !YAJL_IS_ARRAY(arr) || arr->u.array.len == 0)
        return hull_err_set(err, EINVAL, "%s: manifests: missing or empty", what);
    _cleanup_free_ struct desc *v = calloc(arr->u.array.len, sizeof *v);
    if (!v) return hull_err_set(err, ENOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < arr->u.array.len; i++) {
        int rc = desc_parse(arr->u.array.values[i], what, &v[i], err);
        if (rc < 0) return rc;
    }
    *out = TAKE_PTR(v);
    *n = arr->u.array.len;
    return 0;
}

int index_pick(const struct desc *v, size_t n, const char *platform, struct desc *out,
               struct hull_err *err) {
    char os[32] = "", arch[32] = "", variant[32] = "";
    if (!platform || !*platform) platform = HULL_DEFAULT_PLATFORM;
    if (sscanf(platform, "%31[^/]/%31[^/]/%31s", os, arch, variant) < 2)
        return hull_err_set(err, EINVAL, "platform \"%s\": want OS/ARCH[/VARIANT]", platform);
    const struct desc *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct desc *d = &v[i];
        if (strcmp(d->os, os) != 0 || strcmp(d->arch, arch) != 0) continue;
        if (variant[0] && strcmp(d->variant, variant) != 0) continue;
        /* without a requested variant prefer the entry that names none */
        if (!best || (!variant[0] && best->variant[0] && !d->variant[0])) best = d;
    }
    if (!best)
        return hull_err_set(err, ENOENT, "image index: no manifest for platform %s (%zu entries)",
                            platform, n);
    *out = *best;
    return 0;
}

static int image_meta_fill(struct hull_image_store *s, const char *manifest_digest,
                           struct image_meta *out, char **config_text, struct hull_err *err) {
    char what[128];
    snprintf(what, sizeof what, "manifest %s", manifest_digest);
    _cleanup_free_ char *text = store_read_blob(s, manifest_digest, NULL, err);
    if (!text) return -err->code;
    int rc = manifest_parse(text, what, &out->m, err);
    if (rc < 0) return rc;
    snprintf(what, sizeof what, "config %s", out->m.config.digest);
    _cleanup_free_ char *cfg = store_read_blob(s, out->m.config.digest, NULL, err);
    if (!cfg) return -err->code;
    _cleanup_yajl_tree_ yajl_val root = ij_parse(cfg, what, err);
    if (!root) return -err->code;
    const char *created = ij_str(root, "created");
    snprintf(out->created, sizeof out->created, "%s", created ? created : "");
    rc = ij_strv(ij_get(root, "rootfs"), "diff_ids", &out->diff_ids, &out->n_diff_ids, what, err);
    if (rc < 0) return rc;
    if (out->n_diff_ids != out->m.n_layers)
        return hull_err_set(err, EINVAL, "%s: %zu diff_ids for %zu layers", what, out->n_diff_ids,
                            out->m.n_layers);
    for (size_t i = 0; i < out->n_diff_ids; i++)
        if ((rc = digest_check(out->diff_ids[i], what, err)) < 0) return rc;
    if (config_text) *config_text = TAKE_PTR(cfg);
    return 0;
}

int image_meta_load(struct hull_image_store *s, const char *manifest_digest,
                    struct image_meta *out, char **config_text, struct hull_err *err) {
    memset(out, 0, sizeof *out);
    if (config_text) *config_text = NULL;
    int rc = image_meta_fill(s, manifest_digest, out, config_text, err);
    if (rc < 0) image_meta_free(out);
    return rc;
}

void image_meta_free(struct image_meta *im) {
    manifest_free(&im->m);
    hull_image_strv_free(im->diff_ids, im->n_diff_ids);
    im->diff_ids = NULL;
    im->n_diff_ids = 0;
}

void hull_image_strv_free(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}
