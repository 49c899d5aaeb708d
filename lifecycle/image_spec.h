/* Image config + `hull run` flags -> config.json, with docker's semantics and
 * the default security profile (lifecycle/default_profile.h).
 *
 * What comes from where:
 *   process.args   (entrypoint override, or image Entrypoint) + (CMD..., or the
 *                  image Cmd when no CMD was given and the entrypoint was not
 *                  overridden: docker's --entrypoint clears the image Cmd)
 *   process.env    image Env < --env-file < -e (later wins, in place), then
 *                  PATH (if absent), HOSTNAME, and TERM=xterm with a tty
 *   process.cwd    -w, else image WorkingDir, else "/"
 *   process.user   -u, else image User, else root; names resolved through the
 *                  rootfs's /etc/passwd and /etc/group (runc's rules)
 *   annotations    image Labels (minus the runtime-control "run.oci." prefix),
 *                  stop signal / exposed ports (image-spec conversion keys),
 *                  io.hull.image.*, run.oci.handler=vm for --vm
 * The result is parsed and validated (hull_spec_parse, hull_spec_validate,
 * hull_seccomp_validate) before it is returned, so a caller never writes a
 * config.json that create would refuse. */
#ifndef HULL_LIFECYCLE_IMAGE_SPEC_H
#define HULL_LIFECYCLE_IMAGE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/image.h"
#include "base/error.h"

struct hull_run_volume {                 /* -v HOST:CTR[:ro] */
    const char *host;                /* absolute, must exist */
    const char *ctr;                 /* absolute, not "/" */
    bool ro;
};

struct hull_run_opts {               /* what `hull run [flags] IMAGE [CMD...]` asked for */
    char **cmd; size_t n_cmd;        /* CMD... after the image (replaces the image Cmd) */
    const char *entrypoint;          /* --entrypoint: NULL = image's, "" = none, else argv[0] */
    char **env; size_t n_env;        /* -e K=V, or K alone: value from hull's own environment
                                      * (skipped when hull has no such variable) */
    const char *env_file;            /* --env-file F: K=V or K lines; '#' comments, blank lines */
    const char *workdir;             /* -w (absolute) */
    const char *user;                /* -u USER[:GROUP], names or numbers */
    struct hull_run_volume *volumes; size_t n_volumes;
    bool read_only;                  /* --read-only: root.readonly */
    bool tty;                        /* -t: process.terminal */
    bool interactive;                /* -i: stdin handling is the CLI's; nothing in the spec */
    int64_t memory;                  /* bytes, 0 = unset */
    double cpus;                     /* 0 = unset, else quota = cpus * period (100000) */
    int64_t pids_limit;              /* 0 = unset, < 0 = unlimited */
    char **cap_add; size_t n_cap_add;     /* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin", "ALL" */
    char **cap_drop; size_t n_cap_drop;
    const char *seccomp;             /* NULL: default profile; "unconfined"; else a JSON file
                                      * (OCI linux.seccomp object or docker's profile format) */
    const char *hostname;            /* NULL: first 12 chars of id (or "hull" without an id) */
    const char *id, *name;           /* container id and --name (annotation io.hull.container.name) */
    bool vm;                         /* --vm: annotation run.oci.handler=vm */
    const char *network_ns_path;     /* NULL: new network namespace (loopback only) */
    bool host_network;               /* --network host: no network namespace at all */
    const char *etc_hosts, *etc_resolv, *etc_hostname;   /* host files bind-mounted on /etc/hosts,
                                      * /etc/resolv.conf, /etc/hostname (NULL: none; a -v there wins) */
    const char *root_path;           /* root.path to write; NULL: rootfs_dir as given */
};

/* Builds the config.json text (malloc'd, caller frees) for the image config
 * and options; NULL with *err filled on any error (no command, unknown user or
 * capability, bad volume, unreadable env file or seccomp profile, ...).
 * rootfs_dir is the container's assembled root filesystem, used only to read
 * its /etc/passwd and /etc/group, opened with openat2(RESOLVE_IN_ROOT) so a
 * symlink cannot lead out of it; NULL means "no passwd/group" (numeric ids only). */
char *hull_image_spec_json(const struct hull_image_config *img, const struct hull_run_opts *o,
                           const char *rootfs_dir, struct hull_err *err);

#endif
