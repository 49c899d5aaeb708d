/* Small file helpers shared by every folder (base/ includes nothing else of the project). */
#ifndef HULL_BASE_FSUTIL_H
#define HULL_BASE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p; 0 or -1 with errno. */
int hull_mkdir_p(const char *path, mode_t mode);
/* Writes name.tmp.<pid> in dir_fd then renames it over name: readers see the
 * old or the new content, never a torn file. 0 or -1 with errno. */
int hull_write_file_atomic(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode);
/* A cache file made whole or not at all (the kernel, initramfs and rootfs-image caches):
 * fill writes a temp file beside final_path (".<name>.XXXXXX": whoever lists the cache by name
 * skips it), through fd or by path (a tool may replace the file at tmp); it is then made 0644,
 * synced and renamed over final_path. On failure the temp file is removed. fill returns 0 or
 * <0 with err set; the result is fill's, or <0 with err "<what>: ..." for the file work. */
struct hull_err;
int hull_cache_publish(const char *final_path, const char *what,
                       int (*fill)(int fd, const char *tmp, void *ctx, struct hull_err *err), void *ctx,
                       struct hull_err *err);
/* Whole file (NUL-terminated, malloc'd), at most max bytes; NULL with errno. */
char *hull_read_file_at(int dir_fd, const char *name, size_t max, size_t *len);
/* Writes a string to an existing file (e.g. /proc or cgroup knobs). 0 or -1 with errno. */
int hull_write_str(const char *path, const char *s);
/* rm -rf that never follows symlinks and stays on one filesystem. 0 or -1 with errno. */
int hull_rm_rf(const char *path);
/* Reads until EOF / writes everything, retrying on EINTR. */
ssize_t hull_read_all(int fd, void *buf, size_t len);
int hull_write_all(int fd, const void *buf, size_t len);

#endif
