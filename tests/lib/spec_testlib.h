/* Test support for base/spec: load a bundle's config.json by path (hull itself
 * reads it through the bundle's directory fd, lifecycle/container.c). */
#ifndef HULL_TESTS_LIB_SPEC_TESTLIB_H
#define HULL_TESTS_LIB_SPEC_TESTLIB_H

#include "base/spec.h"

/* Reads and parses <bundle>/config.json (messages prefixed "config.json: "). */
int hull_spec_load(const char *bundle_dir, struct hull_spec **out, struct hull_err *err);

#endif
