/* File descriptors a process must not carry into what it execs. */
#ifndef HULL_BASE_FDS_H
#define HULL_BASE_FDS_H

#include <stddef.h>
#include "base/error.h"

/* Close every fd >= first except those in keep[0..n_keep); uses close_range
 * where it can. Used right before exec. */
int hull_close_fds_from(int first, const int *keep, size_t n_keep, struct hull_err *err);

#endif
