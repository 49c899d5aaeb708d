/* Internal to the layer unpacker (unpack.c drives the tar stream,
 * unpack_fs.c does every filesystem operation inside the destination). */
#ifndef HULL_IMAGE_UNPACK_H
#define HULL_IMAGE_UNPACK_H

#include <archive.h>
#include <archive_entry.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "image/internal.h"

struct dir_meta {       /* applied after all entries: children change a dir's mtime */
    char *rel;
    mode_t mode;
    struct timespec times[2];
    bool set_times;
};

struct unpack {
    struct hull_err *err;
    const struct hull_unpack_opts *o;
    int root_fd;                /* the temp destination directory */
    int *lower_fds;
    size_t n_lowers;
    const char *entry;          /* raw name of the entry being applied, for messages */
    char cache_rel[PATH_MAX];   /* last parent directory resolved, and its O_PATH fd */
    int cache_fd;
    struct dir_meta *dirs;
    size_t n_dirs, cap_dirs;
    uint64_t bytes;             /* file bytes written so far */
};

/* Error naming the current entry; returns -code. */
int up_fail(struct unpack *u, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int up_fail_sys(struct unpack *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Entry name -> clean relative path ("" for the root). Refuses absolute
 * paths and any ".." component. */
int up_norm(struct unpack *u, const char *raw, char *out, size_t n);

/* Splits rel into its parent directory and last name; returns an O_PATH fd
 * of the parent (owned by the cache: do not close), creating missing parents
 * inside the destination. No symlink is ever followed. */
int up_parent(struct unpack *u, const char *rel, const char **name);
void up_cache_drop(struct unpack *u);

/* Removes whatever is at pfd/name (recursively for a directory) unless it is
 * a directory and keep_dir is set. Returns 1 if a directory was kept. */
int up_clear(struct unpack *u, int pfd, const char *name, bool keep_dir);

/* Ownership, mode, xattrs, times of a created object. fd may be -1 (then
 * pfd/name are used without following symlinks). */
int up_meta(struct unpack *u, int fd, int pfd, const char *name, struct archive_entry *e);
/* The allowed xattrs (user.*, security.capability) of e onto fd. */
int up_xattrs(struct unpack *u, int fd, struct archive_entry *e);
int up_dir_defer(struct unpack *u, const char *rel, mode_t mode, const struct timespec *times);
int up_dirs_finish(struct unpack *u);

/* The parent fd and name of an existing hardlink target, copying it up from
 * a lower layer if only a lower has it. *tpfd is owned by the caller. */
int up_link_target(struct unpack *u, const char *trel, int *tpfd, const char **tname);

int up_opaque(struct unpack *u, int pfd);

#endif
