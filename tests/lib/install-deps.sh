#!/bin/sh
# Installs every Debian package hull's build, tests and benchmarks need.
# Used by `make deps` and .ci/run. Safe to run again.
set -eu
PKGS="build-essential pkg-config libcap-dev libseccomp-dev libmnl-dev libnftnl-dev libyajl-dev libarchive-dev libssl-dev
      busybox-static jq crun runc iproute2 nftables procps util-linux perl time
      clang libclang-rt-14-dev
      qemu-system-x86 linux-image-amd64 cpio xz-utils skopeo umoci zstd containerd
      erofs-utils e2fsprogs
      podman conmon uidmap catatonit slirp4netns fuse-overlayfs containernetworking-plugins iptables"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# node and npm for the CRI client of tests/integration/29-cri.t (its gRPC modules come from the npm
# registry at test time, into build/cri-node): Debian's, unless a node with npm is already here
# (NodeSource's nodejs package carries its own npm and conflicts with Debian's).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing: nodejs npm"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
