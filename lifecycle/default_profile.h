/* The safe defaults `hull run IMAGE` gives a container, the same ones docker
 * and podman give: the default capability set, the seccomp allow-list, and the
 * masked / read-only /proc and /sys paths. See default_profile.c for the policy. */
#ifndef HULL_LIFECYCLE_DEFAULT_PROFILE_H
#define HULL_LIFECYCLE_DEFAULT_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "base/error.h"

/* docker's 14 default capabilities as a bitmask over CAP_* numbers. */
uint64_t hull_default_caps(void);

/* NULL-terminated lists of container paths. */
extern const char *const hull_default_masked_paths[];
extern const char *const hull_default_readonly_paths[];

/* True when the running kernel is at least major.minor (uname(2)); false when
 * the release string cannot be read. */
bool hull_kernel_at_least(unsigned major, unsigned minor);

/* Writes the default profile as an OCI linux.seccomp object (one JSON map) into
 * g. caps is the container's bounding set: syscalls a capability unlocks (mount
 * with CAP_SYS_ADMIN, reboot with CAP_SYS_BOOT, ...) are allowed only when the
 * container holds that capability, as docker does. */
void hull_default_seccomp_gen(yajl_gen g, uint64_t caps);

/* Capability names as users type them: "net_admin", "NET_ADMIN" and
 * "CAP_NET_ADMIN" -> CAP_NET_ADMIN; -1 for "ALL"; -2 when unknown to the
 * running kernel or libcap. */
int hull_cap_parse_loose(const char *name);

/* A user's seccomp profile (--security-opt seccomp=FILE): text is either an
 * OCI linux.seccomp object or docker's profile format (archMap, includes/
 * excludes on caps, arches and minKernel, "name"). Parses it and checks the
 * converted result with hull_spec_parse + hull_seccomp_validate for a
 * container with bounding set caps; *out is the parsed tree (yajl_tree_free).
 * what names the source in errors ("seccomp profile /path"). */
int hull_seccomp_profile_parse(const char *text, const char *what, uint64_t caps, yajl_val *out,
                               struct hull_err *err);
/* Writes a parsed profile into g as an OCI linux.seccomp object: OCI keys pass
 * through, docker's rules are kept only when their conditions hold for caps on
 * this x86_64 kernel, archMap becomes architectures (the x86_64 entry).
 * False when the generator refused something. */
bool hull_seccomp_profile_gen(yajl_gen g, yajl_val profile, uint64_t caps);

#endif
