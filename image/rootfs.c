/* hull_image_rootfs_layers: the ordered layer directories an overlay mount
 * of the image needs, unpacking the missing ones under
 * layers/sha256/<diffid hex>. Each layer is unpacked with the layers below
 * it as lowers, so implicit directories keep their lower metadata, hardlinks
 * to lower files work, and writing through a lower layer's symlink is
 * refused. A layer directory is complete once it exists (the unpacker renames
 * it into place), so concurrent callers at worst unpack twice. */
#include "image/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hull_image_rootfs_layers(struct hull_image_store *s, const char *ref,
                             const struct hull_unpack_opts *opts, char ***dirs, size_t *n,
                             struct hull_err *err) {
    *dirs = NULL;
    *n = 0;
    struct ref_entry r;
    int rc = refs_lookup(s, ref, &r, err);
    if (rc < 0) return rc;
    struct image_meta im;
    if ((rc = image_meta_load(s, r.digest, &im, NULL, err)) < 0)
        return hull_err_prefix(err, "image %s:%s: ", r.name, r.tag);
    struct hull_unpack_opts o = { .allow_devices = true };
    if (opts) o = *opts;
    size_t nl = im.m.n_layers;
    char **v = calloc(nl + 1, sizeof *v);
    const char **lowers = calloc(nl + 1, sizeof *lowers);
    if (!v || !lowers) { rc = hull_err_set(err, ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < nl; i++) {
        if (asprintf(&v[i], "%s/layers/sha256/%s", s->root, digest_hex(im.diff_ids[i])) < 0) {
            v[i] = NULL;
            rc = hull_err_set(err, ENOMEM, "out of memory");
            goto out;
        }
        if (access(v[i], F_OK) == 0) continue;
        for (size_t j = 0; j < i; j++) lowers[j] = v[i - 1 - j];     /* top-most first */
        o.lowers = lowers;
        o.n_lowers = i;
        o.diff_id = im.diff_ids[i];
        if ((rc = hull_layer_unpack(s, im.m.layers[i].digest, v[i], &o, NULL, err)) < 0) {
            hull_err_prefix(err, "image %s:%s: ", r.name, r.tag);
            goto out;
        }
    }
    *dirs = v;
    *n = nl;
    v = NULL;
out:
    hull_image_strv_free(v, nl);
    free(lowers);
    image_meta_free(&im);
    return rc;
}
