#!/bin/bash
# bench/image.sh — image path costs, side by side in one run:
#  1. unpacking a real 100+ MB layer: `hull image unpack` (digest-verified,
#     every entry resolved inside the root) vs `tar -xzf` of the same layer;
#     goal: ratio <= 1.2. The layer is made once from this machine's /usr
#     (cached under build/bench-image/) so the file mix is a real distribution's.
#  2. `hull run --rm busybox true` (image path: overlay mount, config from the
#     image) vs `hull run` of a prepared bundle vs crun (under bench/nohybrid.sh);
#     the image path should add under 5 ms.
# Env: HULL (binary), BENCH_RUNS (default 11). Needs root.
set -euo pipefail
# `hull run IMAGE` defaults to the bridge network: measure in a network namespace of our own, so
# hull0 and its rules never touch the host's network (bench/net.sh compares the modes).
if [ -z "${HULL_BENCH_NETNS:-}" ] && command -v unshare >/dev/null; then
    HULL_BENCH_NETNS=1 exec unshare --net -- "$BASH" "$0" "$@"
fi
HERE=$(cd "$(dirname "$0")" && pwd)
HULL=${HULL:-$HERE/../build/hull}
RUNS=${BENCH_RUNS:-11}
CACHE=$HERE/../build/bench-image
W=$(mktemp -d /tmp/hull-bench-image.XXXXXX)
export HULL_ROOT=$W/data
cleanup() {
    for d in "$W"/tar-*; do rm -rf "$d"; done
    "$HULL" --root "$W/state" list -q 2>/dev/null | xargs -r -n1 "$HULL" --root "$W/state" delete -f >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { local s=$(date +%s%N); "$@" >/dev/null 2>&1; local e=$(date +%s%N); echo $(( (e - s) / 1000 )); }

# --- the big image (cached) ---------------------------------------------------------------
mkdir -p "$CACHE"
if [ ! -f "$CACHE/oci/index.json" ]; then
    echo "bench: building a 100+ MB layer from /usr (once, cached in $CACHE)" >&2
    rm -rf "$CACHE/oci" && mkdir -p "$CACHE/oci/blobs/sha256"
    tar --sort=name --owner=0 --group=0 --numeric-owner -C / -cf "$CACHE/layer.tar" \
        usr/include usr/lib/python3.11 usr/share/perl 2>/dev/null || true
    diff=$(sha256sum "$CACHE/layer.tar" | cut -d' ' -f1)
    gzip -n -1 -c "$CACHE/layer.tar" >"$CACHE/layer.tar.gz"
    rm -f "$CACHE/layer.tar"
    lay=$(sha256sum "$CACHE/layer.tar.gz" | cut -d' ' -f1); lsz=$(stat -c %s "$CACHE/layer.tar.gz")
    cp "$CACHE/layer.tar.gz" "$CACHE/oci/blobs/sha256/$lay"
    printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/usr/bin/true"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" >"$CACHE/cfg"
    cfg=$(sha256sum "$CACHE/cfg" | cut -d' ' -f1); csz=$(stat -c %s "$CACHE/cfg"); cp "$CACHE/cfg" "$CACHE/oci/blobs/sha256/$cfg"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$cfg" "$csz" "$lay" "$lsz" >"$CACHE/man"
    man=$(sha256sum "$CACHE/man" | cut -d' ' -f1); msz=$(stat -c %s "$CACHE/man"); cp "$CACHE/man" "$CACHE/oci/blobs/sha256/$man"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s}]}' "$man" "$msz" >"$CACHE/oci/index.json"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$CACHE/oci/oci-layout"
fi
"$HULL" image import "$CACHE/oci" --name big:latest >/dev/null
usize=$(gzip -l "$CACHE/layer.tar.gz" | awk 'NR==2 {print $2}')
echo "bench: layer $(( $(stat -c %s "$CACHE/layer.tar.gz") / 1048576 )) MiB gzip, $(( usize / 1048576 )) MiB unpacked; $RUNS interleaved runs each"

h=(); t=()
for ((i = 0; i < RUNS; i++)); do
    rm -rf "$HULL_ROOT/layers"; sync
    h+=($(ms "$HULL" image unpack big))
    rm -rf "$W/tar-$i"; mkdir -p "$W/tar-$i"; sync
    t+=($(ms tar -xzf "$CACHE/layer.tar.gz" -C "$W/tar-$i"))
    rm -rf "$W/tar-$i"
done
hm=$(printf '%s\n' "${h[@]}" | median); tm=$(printf '%s\n' "${t[@]}" | median)
printf '%-34s %10.1f ms\n' "hull image unpack (verified)" "$(echo "$hm / 1000" | bc -l)"
printf '%-34s %10.1f ms\n' "tar -xzf" "$(echo "$tm / 1000" | bc -l)"
printf 'unpack ratio hull/tar: %.2f (goal <= 1.20)\n\n' "$(echo "$hm / $tm" | bc -l)"

# --- run through the image path vs a bundle ------------------------------------------------
"$HERE/../image/make-busybox-image.sh" "$W/bb" >/dev/null
"$HULL" image import "$W/bb" --name busybox:latest >/dev/null
"$HULL" image unpack busybox >/dev/null
# the equivalent bundle: the very config.json `hull run` generates (default
# seccomp profile and all), over a copy of the same rootfs
id=$("$HULL" --root "$W/state" run -d --name cfgsrc busybox sleep 600)
B=$W/bundle; mkdir -p "$B/rootfs"
cp -a "$("$HULL" image unpack busybox | tail -1)/." "$B/rootfs/"
# (ociVersion 1.0.2: crun 1.8.1 refuses newer version strings)
jq '.ociVersion = "1.0.2" | .root.path = "rootfs" | .process.args = ["true"] | .process.terminal = false' \
    "$HULL_ROOT/containers/$id/bundle/config.json" >"$B/config.json"
"$HULL" --root "$W/state" rm -f cfgsrc >/dev/null
img=(); bun=()
for ((i = 0; i < RUNS; i++)); do
    sleep 0.1; img+=($(ms "$HULL" --root "$W/state" run --rm busybox true))
    sleep 0.1; bun+=($(ms "$HULL" --root "$W/state" run --bundle "$B" "b$i"))
done
im=$(printf '%s\n' "${img[@]}" | median); bm=$(printf '%s\n' "${bun[@]}" | median)
printf '%-34s %10.1f ms\n' "hull run --rm busybox true" "$(echo "$im / 1000" | bc -l)"
printf '%-34s %10.1f ms\n' "hull run (bundle) /bin/true" "$(echo "$bm / 1000" | bc -l)"
printf 'image path adds: %.1f ms (goal < 5 ms)\n' "$(echo "($im - $bm) / 1000" | bc -l)"
if command -v crun >/dev/null && "$HERE/nohybrid.sh" crun --root "$W/crun" run --bundle "$B" probe >/dev/null 2>"$W/crun.err"; then
    cr=()
    for ((i = 0; i < RUNS; i++)); do
        sleep 0.1; cr+=($("$HERE/nohybrid.sh" sh -c "s=\$(date +%s%N); crun --root $W/crun run --bundle $B c$i >/dev/null 2>&1; e=\$(date +%s%N); echo \$(( (e - s) / 1000 ))"))
    done
    printf '%-34s %10.1f ms  (same bundle, under bench/nohybrid.sh)\n' "crun run (bundle) /bin/true" "$(echo "$(printf '%s\n' "${cr[@]}" | median) / 1000" | bc -l)"
else
    echo "crun could not run the bundle: $(head -c 200 "$W/crun.err" 2>/dev/null)"
fi
