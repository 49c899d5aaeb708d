/* Between seccomp.c (libseccomp filters), seccomp_cache.c (compiled
 * programs, cached) and seccomp_load.c (which loads one of the two): not a
 * public contract. */
#ifndef HULL_LINUX_SECCOMP_INTERNAL_H
#define HULL_LINUX_SECCOMP_INTERNAL_H

#include <seccomp.h>
#include "base/spec.h"

/* A libseccomp context holding the whole filter of s (rules, architectures,
 * attributes), ready to load or export; *ctx is released by the caller. */
int hull_seccomp_build_ctx(const struct hull_seccomp *s, scmp_filter_ctx *ctx, struct hull_err *err);
/* Whether some rule of s uses SCMP_ACT_NOTIFY (the load must then hand back a listener fd). */
bool hull_seccomp_uses_notify(const struct hull_seccomp *s);
/* The seccomp(2) flags the spec's flags ask for (TSYNC, LOG, SPEC_ALLOW). */
unsigned int hull_seccomp_kernel_flags(const struct hull_seccomp *s);
/* Loads the program compiled for s by hull_seccomp_precompile(), if there is one:
 * 1 when loaded, 0 when there is none for s, <0 on error. */
int hull_seccomp_load_precompiled(const struct hull_seccomp *s, struct hull_err *err);

#endif
