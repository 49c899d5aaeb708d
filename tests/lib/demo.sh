#!/bin/sh
# The built-in default: a busybox bundle made from Debian's busybox-static and
# hull's own `hull spec`, run once with hull. Used by `make demo` (the README's
# first command). Usage: demo.sh HULL_BINARY [WORKDIR]
set -eu
HULL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
W=${2:-build/demo}
[ -x /bin/busybox ] || { echo "demo: needs busybox-static (make deps)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (containers need namespaces and cgroups)" >&2; exit 1; }
rm -rf "$W/bundle"
R="$W/bundle/rootfs"
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/root"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list-full); do [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
"$HULL" spec --bundle "$W/bundle"
jq '.process.terminal = false | .process.args = ["/bin/sh", "-c",
  "echo \"hello from a hull container: hostname=$(hostname) pid=$$ $(id)\"; grep -E \"^(CapEff|NoNewPrivs)\" /proc/self/status"]' \
  "$W/bundle/config.json" >"$W/bundle/config.json.new"
mv "$W/bundle/config.json.new" "$W/bundle/config.json"
exec "$HULL" --root "$W/state" run --bundle "$W/bundle" "demo-$$"
