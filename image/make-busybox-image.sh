#!/bin/sh
# make-busybox-image.sh OUTDIR — the built-in default image: an OCI image
# layout in OUTDIR with one gzip layer made from Debian's busybox-static
# (/bin/busybox plus its applet links, /etc/passwd, /etc/group, /tmp).
# Deterministic: same busybox, same digests. `hull image import OUTDIR --name
# busybox:latest` (run by `make demo`) puts it in the store.
# BUSYBOX_IMAGE_CMD (a JSON array, default ["sh"]) and BUSYBOX_IMAGE_NAME (default
# docker.io/library/busybox:latest) make variants, e.g. a pause image for a CRI sandbox.
set -eu
OUT=${1:?usage: $0 OUTDIR}
BB=${BUSYBOX:-/bin/busybox}
NAME=${BUSYBOX_IMAGE_NAME:-docker.io/library/busybox:latest}
[ -x "$BB" ] || { echo "make-busybox-image: needs busybox-static ($BB)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/hull-bbimg.XXXXXX")
trap 'rm -rf "$W"' EXIT
R=$W/rootfs
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/root" "$R/tmp" "$R/home" \
         "$R/proc" "$R/sys" "$R/dev" "$R/var" "$R/run"
chmod 1777 "$R/tmp"
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list-full); do
    [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$R/etc/hosts"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$R" -cf "$W/layer.tar" .
diffid=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$W/layer.tar" >"$W/layer.tar.gz"
layer=$(sha256sum "$W/layer.tar.gz" | cut -d' ' -f1)
lsize=$(stat -c %s "$W/layer.tar.gz")
version=$("$BB" 2>&1 | head -1 | sed -n 's/^BusyBox \(v[^ ]*\).*/\1/p')

mkdir -p "$OUT/blobs/sha256"
cp "$W/layer.tar.gz" "$OUT/blobs/sha256/$layer"
printf '{"created":"1970-01-01T00:00:00Z","architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":%s,"Labels":{"org.opencontainers.image.title":"busybox","org.opencontainers.image.version":"%s","org.opencontainers.image.description":"hull built-in image from Debian busybox-static"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hull image/make-busybox-image.sh"}]}' \
    "${BUSYBOX_IMAGE_CMD:-[\"sh\"]}" "${version:-unknown}" "$diffid" >"$W/config.json"
config=$(sha256sum "$W/config.json" | cut -d' ' -f1)
csize=$(stat -c %s "$W/config.json")
cp "$W/config.json" "$OUT/blobs/sha256/$config"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$csize" "$layer" "$lsize" >"$W/manifest.json"
manifest=$(sha256sum "$W/manifest.json" | cut -d' ' -f1)
msize=$(stat -c %s "$W/manifest.json")
cp "$W/manifest.json" "$OUT/blobs/sha256/$manifest"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$msize" "$NAME" "${NAME##*:}" >"$OUT/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$OUT/oci-layout"
echo "busybox image: $OUT (manifest sha256:$manifest)"
