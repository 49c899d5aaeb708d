/* docker-archive (`docker save`, `skopeo copy ... docker-archive:`): a tar
 * with manifest.json = [{"Config": "<file>", "RepoTags": [...], "Layers":
 * ["<file>", ...]}], a config file and layer tars. The scan already stored
 * every member as a blob under its computed digest; here the manifest is
 * checked against the config (each layer's uncompressed digest must equal
 * the config's rootfs.diff_ids entry) and an OCI manifest is written for it. */
#include "image/internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int blob_uncompressed_digest(struct hull_image_store *s, const char *digest,
                             char out[HULL_DIGEST_LEN], struct hull_err *err) {
    _cleanup_close_ int fd = store_open_blob(s, digest, err);
    if (fd < 0) return fd;
    _cleanup_archive_read_ struct archive *a = archive_read_new();
    _cleanup_md_ctx_ EVP_MD_CTX *md = digest_new();
    if (!a || !md) return hull_err_set(err, ENOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    struct archive_entry *e;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
        return hull_err_set(err, EINVAL, "layer %s: %s", digest, archive_error_string(a));
    char buf[1 << 16];
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, sizeof buf);
        if (n < 0) return hull_err_set(err, EINVAL, "layer %s: decompress: %s", digest, archive_error_string(a));
        if (n == 0) break;
        EVP_DigestUpdate(md, buf, (size_t)n);
    }
    digest_final(md, out);
    return 0;
}

/* gzip and zstd by magic; anything else is taken as a plain tar. */
static const char *layer_media_type(struct hull_image_store *s, const char *digest) {
    unsigned char m[4] = {0};
    int fd = store_open_blob(s, digest, NULL);
    if (fd >= 0) {
        if (read(fd, m, sizeof m) < 0) m[0] = 0;
        close(fd);
    }
    if (m[0] == 0x1f && m[1] == 0x8b) return MT_OCI_LAYER "+gzip";
    if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return MT_OCI_LAYER "+zstd";
    return MT_OCI_LAYER;
}

static const struct arc_file *member(const struct arc_scan *sc, yajl_val v, const char *what,
                                     struct hull_err *err) {
    if (!v || !YAJL_IS_STRING(v)) {
        hull_err_set(err, EINVAL, "manifest.json: %s: not a file name", what);
        return NULL;
    }
    const struct arc_file *f = arc_find(sc, v->u.string);
    if (!f) hull_err_set(err, ENOENT, "manifest.json: %s \"%.200s\": not in the archive", what, v->u.string);
    return f;
}

static bool has_tag(yajl_val tags, const struct ref_entry *want) {
    for (size_t i = 0; tags && YAJL_IS_ARRAY(tags) && i < tags->u.array.len; i++) {
        struct ref_entry r;
        yajl_val t = tags->u.array.values[i];
        if (YAJL_IS_STRING(t) && ref_split(t->u.string, &r, NULL) == 0 &&
            strcmp(r.name, want->name) == 0 && strcmp(r.tag, want->tag) == 0)
            return true;
    }
    return false;
}

static char *oci_manifest(const struct arc_file *cfg, const struct arc_file **layers,
                          const char **types, size_t n, size_t *len) {
    yajl_gen g = ij_gen_new();
    yajl_gen_map_open(g);
    jg_kint(g, "schemaVersion", 2);
    jg_kstr(g, "mediaType", MT_OCI_MANIFEST);
    jg_str(g, "config");
    yajl_gen_map_open(g);
    jg_kstr(g, "mediaType", MT_OCI_CONFIG);
    jg_kstr(g, "digest", cfg->digest);
    jg_kint(g, "size", (long long)cfg->size);
    yajl_gen_map_close(g);
    jg_str(g, "layers");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        jg_kstr(g, "mediaType", types[i]);
        jg_kstr(g, "digest", layers[i]->digest);
        jg_kint(g, "size", (long long)layers[i]->size);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    return jg_take(g, false, len);
}

int import_docker(struct hull_image_store *s, struct arc_scan *sc, const char *ref_override,
                  char manifest_digest[HULL_DIGEST_LEN], struct ref_entry *ref,
                  struct hull_err *err) {
    char ebuf[256] = "";
    _cleanup_yajl_tree_ yajl_val root = yajl_tree_parse(sc->manifest_json, ebuf, sizeof ebuf);
    if (!root || !YAJL_IS_ARRAY(root) || root->u.array.len == 0)
        return hull_err_set(err, EINVAL, "manifest.json: not a non-empty array%s%s", ebuf[0] ? ": " : "", ebuf);
    int rc = 0;
    _cleanup_free_ char *cfg_text = NULL;
    _cleanup_yajl_tree_ yajl_val cfgj = NULL;
    _cleanup_strv_ char **diff = NULL;
    size_t nd = 0;
    _cleanup_free_ const struct arc_file **layers = NULL;
    _cleanup_free_ const char **types = NULL;
    struct ref_entry want;
    yajl_val ent = root->u.array.values[0];
    if (ref_override && ref_split(ref_override, &want, NULL) == 0)
        for (size_t i = 0; i < root->u.array.len; i++)
            if (has_tag(ij_get(root->u.array.values[i], "RepoTags"), &want)) ent = root->u.array.values[i];
    const struct arc_file *cfg = member(sc, ij_get(ent, "Config"), "Config", err);
    if (!cfg) return -err->code;
    /* legacy archives name the config <sha256>.json: hold it to that */
    const char *base = strrchr(cfg->path, '/') ? strrchr(cfg->path, '/') + 1 : cfg->path;
    char named[HULL_DIGEST_LEN];
    if (strlen(base) == 69 && strcmp(base + 64, ".json") == 0) {
        snprintf(named, sizeof named, "sha256:%.64s", base);
        if (digest_check(named, "config", NULL) == 0 && strcmp(named, cfg->digest) != 0)
            return hull_err_set(err, EINVAL, "config %s: digest mismatch: content is %s", cfg->path, cfg->digest);
    }
    if (!(cfg_text = store_read_blob(s, cfg->digest, NULL, err))) return -err->code;
    if (!(cfgj = ij_parse(cfg_text, "config", err))) return -err->code;
    if ((rc = ij_strv(ij_get(cfgj, "rootfs"), "diff_ids", &diff, &nd, "config", err)) < 0) return rc;
    yajl_val lv = ij_get(ent, "Layers");
    size_t nl = lv && YAJL_IS_ARRAY(lv) ? lv->u.array.len : 0;
    if (nl != nd) return hull_err_set(err, EINVAL, "manifest.json lists %zu layers, the config %zu diff_ids", nl, nd);
    layers = calloc(nl + 1, sizeof *layers);
    types = calloc(nl + 1, sizeof *types);
    if (!layers || !types) return hull_err_set(err, ENOMEM, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        if (!(layers[i] = member(sc, lv->u.array.values[i], "layer", err))) return -err->code;
        types[i] = layer_media_type(s, layers[i]->digest);
        char un[HULL_DIGEST_LEN];
        if (strcmp(types[i], MT_OCI_LAYER) == 0) memcpy(un, layers[i]->digest, sizeof un);
        else if ((rc = blob_uncompressed_digest(s, layers[i]->digest, un, err)) < 0) return rc;
        if (strcmp(un, diff[i]) != 0)
            return hull_err_set(err, EINVAL, "layer %s: digest mismatch: config diff_id %s, content %s",
                                layers[i]->path, diff[i], un);
    }
    size_t mlen;
    _cleanup_free_ char *mtext = oci_manifest(cfg, layers, types, nl, &mlen);
    if (!mtext) return hull_err_set(err, ENOMEM, "out of memory");
    bool created = false;
    if ((rc = store_put(s, mtext, mlen, manifest_digest, &created, err)) < 0) return rc;
    if (created) dset_add(&sc->created, manifest_digest);
    const char *name = ref_override;
    yajl_val tags = ij_get(ent, "RepoTags");
    if (!name && tags && YAJL_IS_ARRAY(tags) && tags->u.array.len && YAJL_IS_STRING(tags->u.array.values[0]))
        name = tags->u.array.values[0]->u.string;
    if (!name) return hull_err_set(err, EINVAL, "the archive carries no RepoTags: give a name (--name)");
    if ((rc = ref_split(name, ref, err)) < 0) return rc;
    const char *os = ij_str(cfgj, "os"), *arch = ij_str(cfgj, "architecture"), *var = ij_str(cfgj, "variant");
    snprintf(ref->platform, sizeof ref->platform, "%s/%s%s%s", os ? os : "", arch ? arch : "",
             var ? "/" : "", var ? var : "");
    return 0;
}
