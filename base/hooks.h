/* OCI hooks: each hook is executed with the container state JSON on stdin, its
 * own args and env, and killed when its timeout passes. Used by lifecycle/ for
 * the runtime-namespace hooks and by the init child for createContainer and
 * startContainer, so it must not depend on anything above base/. */
#ifndef HULL_BASE_HOOKS_H
#define HULL_BASE_HOOKS_H

#include "base/spec.h"

const char *hull_hook_kind_name(enum hull_hook_kind kind);   /* "createRuntime", ... */

/* Runs one hook (hooks[idx] of its kind, idx for the message); fails as
 * hull_hooks_run does. For a phase whose failures are warnings, where the
 * caller runs every hook whatever the one before did. */
int hull_hook_run(enum hull_hook_kind kind, size_t idx, const struct hull_hook *h, const char *state_json,
                  struct hull_err *err);
/* Runs hooks[0..n) in order; stops at the first failure (non-zero exit,
 * signal, timeout, exec failure) with a message naming the hook kind, index
 * and path, plus the hook's stderr output (truncated). */
int hull_hooks_run(enum hull_hook_kind kind, const struct hull_hook *hooks, size_t n,
                   const char *state_json, struct hull_err *err);

#endif
