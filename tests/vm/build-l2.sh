#!/bin/bash
# tests/vm/build-l2.sh KVER OUT.cpio — the initramfs of the L2 guest (tests/vm/l2-init.sh as
# /init, static busybox, and the kernel KVER's virtio and pvpanic modules, uncompressed).
set -euo pipefail
die() { echo "build-l2: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 KVER OUT.cpio"
KVER=$1 OUT=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MD=/lib/modules/$KVER
[ -f "$MD/modules.dep" ] || die "no $MD/modules.dep (the guest kernel's modules: linux-image-amd64)"
S=$(mktemp -d "${TMPDIR:-/tmp}/hull-l2.XXXXXX")
trap 'rm -rf "$S" "$OUT.tmp.$$"' EXIT
R=$S/root
mkdir -p "$R"/{bin,dev,proc,sys,lib/modules}
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"; done
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_console \
         pvpanic pvpanic-pci; do
    f=$(find "$MD/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
    [ -n "$f" ] || die "module $m not found under $MD"
    case $f in
    *.xz) xz -dc "$f" >"$R/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" >"$R/lib/modules/$m.ko" ;;
    *) cp "$f" "$R/lib/modules/$m.ko" ;;
    esac
done
install -m 755 "$HERE/l2-init.sh" "$R/init"
[ "$(id -u)" = 0 ] && mknod -m 600 "$R/dev/console" c 5 1
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
