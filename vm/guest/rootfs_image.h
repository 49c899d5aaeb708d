/* The container rootfs as a block-device image for the guest (virtio-blk).
 *
 * erofs (preferred) or ext4, made from a rootfs directory by the distribution's
 * mkfs tools — mkfs.erofs (erofs-utils) and mkfs.ext4 -d (e2fsprogs) — run as
 * child processes with an argv (no shell). Writing a filesystem image
 * ourselves would be a second, less tested copy of those tools; both are small,
 * Debian-packaged and installed by `make deps`. A missing tool is a clear error.
 *
 * The image is the read-only lower layer; the guest agent puts an overlay on it
 * whose upper layer is tmpfs or a second, writable ext4 image (see
 * hull_rootfs_upper_create), which the host can read after the VM stops. */
#ifndef HULL_VM_GUEST_ROOTFS_IMAGE_H
#define HULL_VM_GUEST_ROOTFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum hull_rootfs_fs {
    HULL_ROOTFS_AUTO = 0,   /* erofs when mkfs.erofs is installed, else ext4 */
    HULL_ROOTFS_EROFS,
    HULL_ROOTFS_EXT4,
};

const char *hull_rootfs_fs_name(enum hull_rootfs_fs fs);   /* "erofs", "ext4", "auto" */
/* AUTO resolved against the installed tools; <0 + err when neither exists. */
int hull_rootfs_fs_pick(enum hull_rootfs_fs want, enum hull_rootfs_fs *out, struct hull_err *err);

/* Builds an image of rootfs_dir at out_path (replaced). ext4 images are sized
 * from the tree (+25% and 16 MiB of slack), without a journal (they are mounted
 * read-only). */
int hull_rootfs_image_build(const char *rootfs_dir, enum hull_rootfs_fs fs, const char *out_path,
                            struct hull_err *err);

/* Cached build: <cache_dir>/rootfs-<sha256(cache_key)>.<fs>. cache_key names
 * the content (e.g. the image manifest digest): the same key is assumed to be
 * the same tree. Built with temp + rename when missing. *fs_out gets the
 * format used, *built whether this call built it. */
int hull_rootfs_image_get(const char *rootfs_dir, enum hull_rootfs_fs fs, const char *cache_dir,
                          const char *cache_key, char *path, size_t n, enum hull_rootfs_fs *fs_out, bool *built,
                          struct hull_err *err);

/* `hull run IMAGE --vm`: the image's root as a cached image in <data_root>/vm/images/, keyed
 * by its unpacked layers (layer_dirs: .../layers/sha256/<diffid>, base first: the same list
 * is the same content). rootfs_dir is the container's fresh overlay of exactly those layers
 * (its upper still empty), built from on a miss. */
int hull_rootfs_image_for_layers(const char *data_root, char *const *layer_dirs, size_t n, const char *rootfs_dir,
                                 char *path, size_t pn, bool *built, struct hull_err *err);

/* The cache key of an image's root: a format version and each layer's diffid hex, base first.
 * layers: layer directories (.../sha256/<hex>) or diffids (sha256:<hex>). malloc'd; NULL on ENOMEM. */
char *hull_rootfs_image_layers_key(char *const *layers, size_t n);
/* Removes every cached image root (<data_root>/vm/images/rootfs-*) but those of keep_keys:
 * `hull rmi` keeps the images still present. Builds in progress (temp files) are left. */
int hull_rootfs_image_cache_sweep(const char *data_root, char *const *keep_keys, size_t n, struct hull_err *err);

/* An empty ext4 image of `bytes` (sparse, >= 8 MiB) for the writable upper layer. */
int hull_rootfs_upper_create(const char *path, uint64_t bytes, struct hull_err *err);

#endif
