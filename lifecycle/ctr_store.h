/* Containers made from images (`hull run IMAGE`): their bundle, overlay rootfs
 * and record, under <data_root>/containers/<id>/:
 *   meta.json          name, image, command, created, status, exit code, monitor pid
 *   bundle/config.json the OCI config built from the image
 *   bundle/rootfs      overlay mount: the image's layers + upper/
 *   upper/, work/      the container's own writes (removed with the container)
 *   ctr.log            stdout/stderr with timestamps (detached containers)
 * A record is made in .new-<id>/ (flock'd by its maker) and renamed to <id>/
 * with meta.json in it: under its id it always has its name; an unlocked
 * .new-* (a maker killed before the rename) is removed by the next listing.
 * The OCI runtime state of the same id lives in the usual state root, so every
 * runc-style verb works on these containers too. */
#ifndef HULL_LIFECYCLE_CTR_STORE_H
#define HULL_LIFECYCLE_CTR_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>
#include "base/error.h"

struct hull_ctr {
    char id[65];
    char name[128];
    char image[256];            /* reference as given, normalised */
    char image_digest[80];
    char command[512];          /* for `ps` */
    char created[64];
    char finished[64];
    char status[16];            /* "created", "running", "exited" */
    int exit_code;              /* valid when exited */
    pid_t monitor_pid;
    bool auto_remove;           /* --rm */
    char dir[PATH_MAX];         /* <data_root>/containers/<id> */
};

/* Creates the record and directories, atomically (see above); name NULL picks
 * one. Fails if the name is taken. */
int hull_ctr_new(const char *data_root, const char *image, const char *name, bool auto_remove,
                 struct hull_ctr *c, struct hull_err *err);
int hull_ctr_save(const struct hull_ctr *c, struct hull_err *err);
int hull_ctr_load(const char *data_root, const char *id, struct hull_ctr *c, struct hull_err *err);
/* id, unique id prefix (>= 3 chars) or name -> the record. */
int hull_ctr_find(const char *data_root, const char *what, struct hull_ctr *c, struct hull_err *err);
/* All records, newest first (malloc'd); removes abandoned staging dirs. */
int hull_ctr_list(const char *data_root, struct hull_ctr **v, size_t *n, struct hull_err *err);

/* Overlay of the layer dirs (base first) + upper/work at bundle/rootfs;
 * without overlayfs, a copy of the layers applied in order. */
int hull_ctr_mount_rootfs(const struct hull_ctr *c, char **layers, size_t n, struct hull_err *err);
int hull_ctr_umount_rootfs(const struct hull_ctr *c, struct hull_err *err);
/* Unmounts and deletes everything of the container (its upper layer too). */
int hull_ctr_remove(const struct hull_ctr *c, struct hull_err *err);

void hull_ctr_path(const struct hull_ctr *c, const char *rel, char *out, size_t len);

#endif
