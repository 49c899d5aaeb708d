#!/bin/sh
# bench/nohybrid.sh CMD [ARG...] — run CMD in a private mount namespace in which the cgroup2
# mount at /sys/fs/cgroup/unified is unmounted, so the runtimes see pure cgroup v1.
# Why: on a hybrid-cgroup host (v1 controllers + a cgroup2 mount that still owns a controller),
# Debian's crun 1.8.1 refuses to run ("cgroups in hybrid mode not supported"). The benchmark runs
# every runtime under this wrapper for the side-by-side comparison. The host's mount table is
# not changed. Needs util-linux (unshare, mountpoint) and root.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
exec unshare -m --propagation private sh -c '
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then umount /sys/fs/cgroup/unified; fi
  exec "$@"' nohybrid "$@"
