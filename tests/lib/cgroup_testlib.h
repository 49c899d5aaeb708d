/* Test support for cgroups/: what the host's cgroup layout is and where a
 * cgroup's directories are, for the unit tests to check (the product never asks). */
#ifndef HULL_TESTS_LIB_CGROUP_TESTLIB_H
#define HULL_TESTS_LIB_CGROUP_TESTLIB_H

#include "cgroups/cgroup.h"

/* What the host has; cached after the first call. */
int hull_cgroup_detect(enum hull_cgroup_mode *mode, struct hull_err *err);

/* Absolute host path of the cgroup for one controller ("memory", "pids", ...;
 * "" for the v2 unified dir). NULL when that controller is not available. */
const char *hull_cgroup_path(const struct hull_cgroup *cg, const char *controller);

#endif
