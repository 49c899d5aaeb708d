/* Closing every fd the container must not inherit, right before exec: any
 * host fd that survives into the container is a way out of it. */
#include "base/fds.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static bool kept(int fd, const int *keep, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (keep[i] == fd) return true;
    return false;
}

/* Without close_range (kernels < 5.9): walk /proc/self/fd. The directory fd
 * itself shows up in the listing and is skipped; closing while iterating is
 * fine since getdents reads ahead by offset, and we rewind to be sure. */
static int close_by_walk(int first, const int *keep, size_t n_keep, struct hull_err *err) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return hull_err_sys(err, "close fds: open /proc/self/fd");
    int self = dirfd(d);
    bool closed_any;
    do {
        closed_any = false;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            int fd = atoi(e->d_name);
            if (fd < first || fd == self || kept(fd, keep, n_keep)) continue;
            close(fd);
            closed_any = true;
        }
        rewinddir(d);
    } while (closed_any);
    closedir(d);
    return 0;
}

static int close_range_sys(unsigned lo, unsigned hi) {
    return (int)syscall(SYS_close_range, lo, hi, 0);
}

int hull_close_fds_from(int first, const int *keep, size_t n_keep, struct hull_err *err) {
    if (first < 0) first = 0;
    int stack[64];
    int *sorted = n_keep <= 64 ? stack : malloc(n_keep * sizeof(int));
    if (!sorted) return hull_err_set(err, ENOMEM, "close fds: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < n_keep; i++)
        if (keep[i] >= first) sorted[n++] = keep[i];
    qsort(sorted, n, sizeof(int), cmp_int);

    /* Close the gaps [first, k0-1], [k0+1, k1-1], ..., [k_last+1, ~0U]. */
    unsigned lo = (unsigned)first;
    int rc = 0;
    for (size_t i = 0; i <= n && rc == 0; i++) {
        unsigned hi = i < n ? (unsigned)sorted[i] : ~0U;
        if (i < n && (unsigned)sorted[i] < lo) continue;     /* duplicate */
        if (i < n && hi == lo) { lo = hi + 1; continue; }
        unsigned end = i < n ? hi - 1 : ~0U;
        if (close_range_sys(lo, end) < 0) {
            /* ENOSYS on old kernels, or a seccomp profile (already loaded at
             * this point) that refuses close_range: the walk gets there too. */
            rc = close_by_walk(first, keep, n_keep, err);
            break;
        }
        if (i < n) lo = hi + 1;
    }
    if (sorted != stack) free(sorted);
    return rc;
}
