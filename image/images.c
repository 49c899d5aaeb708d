/* Listing, inspecting and removing references; garbage collection.
 *
 * GC runs with gc.lock held exclusively, i.e. while no import or unpack is
 * in flight (they hold it shared), so "unreferenced" is a stable fact. If
 * any referenced manifest cannot be read, GC deletes nothing: better a leak
 * than a reference whose blobs were thrown away. */
#include "image/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"

int summary_fill(struct hull_image_store *s, const struct ref_entry *r, struct hull_image_summary *out,
                 struct hull_err *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", r->name);
    snprintf(out->tag, sizeof out->tag, "%s", r->tag);
    snprintf(out->digest, sizeof out->digest, "%s", r->digest);
    snprintf(out->platform, sizeof out->platform, "%s", r->platform);
    struct image_meta im;
    int rc = image_meta_load(s, r->digest, &im, NULL, err);
    if (rc < 0) return hull_err_prefix(err, "image %s:%s: ", r->name, r->tag);
    out->size = (uint64_t)im.m.config.size;
    for (size_t i = 0; i < im.m.n_layers; i++) out->size += (uint64_t)im.m.layers[i].size;
    snprintf(out->created, sizeof out->created, "%s", im.created);
    image_meta_free(&im);
    return 0;
}

int hull_image_list(struct hull_image_store *s, struct hull_image_summary **out, size_t *n,
                    struct hull_err *err) {
    *out = NULL;
    *n = 0;
    struct ref_entry *v;
    size_t nv;
    int rc = store_lock(s->refs_lock_fd, LOCK_SH, "refs", err);
    if (rc < 0) return rc;
    rc = refs_load(s, &v, &nv, err);
    store_unlock(s->refs_lock_fd);
    if (rc < 0) return rc;
    struct hull_image_summary *r = calloc(nv ? nv : 1, sizeof *r);
    if (!r) { free(v); return hull_err_set(err, ENOMEM, "out of memory"); }
    for (size_t i = 0; i < nv; i++)
        if ((rc = summary_fill(s, &v[i], &r[i], err)) < 0) { free(v); free(r); return rc; }
    free(v);
    *out = r;
    *n = nv;
    return 0;
}

static char *dup_str(yajl_val o, const char *k) {
    const char *s = ij_str(o, k);
    return s ? strdup(s) : NULL;
}

/* Keys of an object ({"80/tcp": {}}) as a string vector. */
static int keys(yajl_val o, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!o || !YAJL_IS_OBJECT(o)) return 0;
    char **v = calloc(o->u.object.len + 1, sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < o->u.object.len; i++) v[i] = strdup(o->u.object.keys[i]);
    *out = v;
    *n = o->u.object.len;
    return 0;
}

int hull_image_inspect(struct hull_image_store *s, const char *ref, struct hull_image_config **out,
                       struct hull_err *err) {
    *out = NULL;
    struct ref_entry r;
    int rc = refs_lookup(s, ref, &r, err);
    if (rc < 0) return rc;
    _cleanup_image_config_ struct hull_image_config *c = calloc(1, sizeof *c);
    if (!c) return hull_err_set(err, ENOMEM, "out of memory");
    if ((rc = summary_fill(s, &r, &c->ref, err)) < 0) return rc;
    struct image_meta im;
    if ((rc = image_meta_load(s, r.digest, &im, &c->config_json, err)) < 0) return rc;
    c->manifest_json = store_read_blob(s, r.digest, NULL, err);
    snprintf(c->config_digest, sizeof c->config_digest, "%s", im.m.config.digest);
    c->n_layers = im.m.n_layers;
    c->diff_ids = im.diff_ids;
    im.diff_ids = NULL;
    im.n_diff_ids = 0;
    c->layer_digests = calloc(c->n_layers + 1, sizeof *c->layer_digests);
    c->layer_media_types = calloc(c->n_layers + 1, sizeof *c->layer_media_types);
    c->layer_sizes = calloc(c->n_layers + 1, sizeof *c->layer_sizes);
    if (!c->layer_digests || !c->layer_media_types || !c->layer_sizes) {
        image_meta_free(&im);
        return hull_err_set(err, ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->n_layers; i++) {
        c->layer_digests[i] = strdup(im.m.layers[i].digest);
        c->layer_media_types[i] = strdup(im.m.layers[i].media_type);
        c->layer_sizes[i] = (uint64_t)im.m.layers[i].size;
    }
    image_meta_free(&im);
    char what[128];
    snprintf(what, sizeof what, "image %s:%s: config", r.name, r.tag);
    _cleanup_yajl_tree_ yajl_val root = ij_parse(c->config_json, what, err);
    if (!root) return -err->code;
    c->os = dup_str(root, "os");
    c->architecture = dup_str(root, "architecture");
    c->variant = dup_str(root, "variant");
    yajl_val cfg = ij_get(root, "config");      /* absent in minimal configs: all defaults */
    c->user = dup_str(cfg, "User");
    c->working_dir = dup_str(cfg, "WorkingDir");
    c->stop_signal = dup_str(cfg, "StopSignal");
    if ((rc = ij_strv(cfg, "Entrypoint", &c->entrypoint, &c->n_entrypoint, what, err)) < 0 ||
        (rc = ij_strv(cfg, "Cmd", &c->cmd, &c->n_cmd, what, err)) < 0 ||
        (rc = ij_strv(cfg, "Env", &c->env, &c->n_env, what, err)) < 0)
        return rc;
    keys(ij_get(cfg, "ExposedPorts"), &c->exposed_ports, &c->n_exposed_ports);
    keys(ij_get(cfg, "Volumes"), &c->volumes, &c->n_volumes);
    yajl_val labels = ij_get(cfg, "Labels");
    if (labels && YAJL_IS_OBJECT(labels)) {
        c->labels = calloc(labels->u.object.len + 1, sizeof *c->labels);
        for (size_t i = 0; c->labels && i < labels->u.object.len; i++) {
            yajl_val v = labels->u.object.values[i];
            c->labels[c->n_labels].key = strdup(labels->u.object.keys[i]);
            c->labels[c->n_labels].value = strdup(YAJL_IS_STRING(v) ? v->u.string : "");
            c->n_labels++;
        }
    }
    *out = TAKE_PTR(c);
    return 0;
}

void hull_image_config_free(struct hull_image_config *c) {
    if (!c) return;
    free(c->os); free(c->architecture); free(c->variant);
    free(c->user); free(c->working_dir); free(c->stop_signal);
    hull_image_strv_free(c->entrypoint, c->n_entrypoint);
    hull_image_strv_free(c->cmd, c->n_cmd);
    hull_image_strv_free(c->env, c->n_env);
    hull_image_strv_free(c->exposed_ports, c->n_exposed_ports);
    hull_image_strv_free(c->volumes, c->n_volumes);
    for (size_t i = 0; i < c->n_labels; i++) { free(c->labels[i].key); free(c->labels[i].value); }
    free(c->labels);
    hull_image_strv_free(c->diff_ids, c->n_layers);
    hull_image_strv_free(c->layer_digests, c->n_layers);
    hull_image_strv_free(c->layer_media_types, c->n_layers);
    free(c->layer_sizes);
    free(c->config_json);
    free(c->manifest_json);
    free(c);
}

/* Every blob and diffID some reference needs. */
static int referenced(struct hull_image_store *s, struct digest_set *blobs, struct digest_set *diffs,
                      struct hull_err *err) {
    struct ref_entry *v;
    size_t n;
    int rc = store_lock(s->refs_lock_fd, LOCK_SH, "refs", err);
    if (rc < 0) return rc;
    rc = refs_load(s, &v, &n, err);
    store_unlock(s->refs_lock_fd);
    if (rc < 0) return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct image_meta im;
        if ((rc = image_meta_load(s, v[i].digest, &im, NULL, err)) < 0) break;
        dset_add(blobs, v[i].digest);
        dset_add(blobs, im.m.config.digest);
        for (size_t j = 0; j < im.m.n_layers; j++) {
            dset_add(blobs, im.m.layers[j].digest);
            dset_add(diffs, im.diff_ids[j]);
        }
        image_meta_free(&im);
    }
    free(v);
    return rc;
}

static void sweep_dir(int dfd, const struct digest_set *keep, bool dirs) {
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) { if (fd >= 0) close(fd); return; }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
        char dg[HULL_DIGEST_LEN + 8];
        snprintf(dg, sizeof dg, "sha256:%s", de->d_name);
        if (keep && dset_has(keep, dg)) continue;
        if (!dirs) { unlinkat(dfd, de->d_name, 0); continue; }
        char path[64 + 4096];
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dfd, de->d_name);
        hull_rm_rf(path);   /* never follows symlinks; layer dirs may hold anything */
    }
    closedir(d);
}

int gc_locked(struct hull_image_store *s, const struct digest_set *only, struct hull_err *err) {
    struct digest_set blobs = {0}, diffs = {0};
    int rc = referenced(s, &blobs, &diffs, err);
    if (rc == 0 && only) {
        for (size_t i = 0; i < only->n; i++)
            if (!dset_has(&blobs, only->v[i])) store_unlink_blob(s, only->v[i]);
    } else if (rc == 0) {
        sweep_dir(s->blobs_fd, &blobs, false);
        sweep_dir(s->layers_fd, &diffs, true);  /* also half-unpacked .tmp-* directories */
        sweep_dir(s->tmp_fd, NULL, true);       /* nobody is ingesting: stale temp files */
    }
    dset_free(&blobs);
    dset_free(&diffs);
    return rc;
}

int hull_image_gc(struct hull_image_store *s, struct hull_err *err) {
    int rc = store_lock(s->gc_lock_fd, LOCK_EX, "gc", err);
    if (rc < 0) return rc;
    rc = gc_locked(s, NULL, err);
    store_unlock(s->gc_lock_fd);
    return rc;
}

int hull_image_remove(struct hull_image_store *s, const char *ref, struct hull_err *err) {
    struct ref_entry want;
    int rc = ref_split(ref, &want, err);
    if (rc < 0) return rc;
    if ((rc = store_lock(s->refs_lock_fd, LOCK_EX, "refs", err)) < 0) return rc;
    struct ref_entry *v;
    size_t n;
    if ((rc = refs_load(s, &v, &n, err)) == 0) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(v[i].name, want.name) != 0 || strcmp(v[i].tag, want.tag) != 0) v[k++] = v[i];
        rc = k == n ? hull_err_set(err, ENOENT, "image %s:%s: not found", want.name, want.tag)
                    : refs_save(s, v, k, err);
        free(v);
    }
    store_unlock(s->refs_lock_fd);
    if (rc < 0) return rc;
    return hull_image_gc(s, err);
}
