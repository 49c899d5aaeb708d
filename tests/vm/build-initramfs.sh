#!/bin/bash
# tests/vm/build-initramfs.sh OUT.cpio — the initramfs of the cgroup v2 test VM.
#
# Holds: static busybox with its applets; $BUILD/hull and the unit tests named in
# HULL_VM_TESTS (default: test_cgroup test_cgroup_resources) with the shared libraries they
# need (ldd, plus the loader); jq (for the end-to-end checks, if the host has it); a busybox
# rootfs and two OCI bundles for `hull run`/`hull create` checks (tests/vm/e2e.sh); and /init
# (tests/vm/init.sh). The archive is an uncompressed newc cpio (the kernel unpacks it fastest).
#
# Environment: BUILD (default <repo>/build; the dir of hull and tests/unit/*),
#              HULL_VM_TESTS (unit test names, space separated),
#              HULL_VM_EXTRA (a sh script run last inside the VM as the test "extra": for debugging),
#              HULL_VM_EXTRA_BINS (host programs copied with their libraries to /hull/bin, e.g. strace).
#              HULL_VM_NEST (1: the nested-KVM tests; bench: the L2 boot benchmark), HULL_VM_CLIENTS
#              (1 with HULL_VM_NEST=1: containerd, ctr and the busybox image for nest-clients.sh).
# Needs: bash, busybox-static (/bin/busybox), cpio, jq, ldd (libc-bin). No root needed (as root
# the archive also gets a /dev/console node; without it, /init reopens the console itself).
set -euo pipefail

die() { echo "build-initramfs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUT.cpio"
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
TESTS=${HULL_VM_TESTS-test_cgroup test_cgroup_resources}

[ -x "$BUILD/hull" ] || die "$BUILD/hull is not built (make)"
for t in $TESTS; do [ -x "$BUILD/tests/unit/$t" ] || die "$BUILD/tests/unit/$t is not built (make unit)"; done
[ -x /bin/busybox ] && /bin/busybox --list-full >/dev/null 2>&1 || die "needs busybox-static (/bin/busybox)"
command -v cpio >/dev/null || die "needs cpio"
command -v jq >/dev/null || die "needs jq"
command -v ldd >/dev/null || die "needs ldd"

S=$(mktemp -d "${TMPDIR:-/tmp}/hull-initramfs.XXXXXX")
trap 'rm -rf "$S" "$OUT.tmp.$$"' EXIT
R=$S/root
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,newroot,hull/bin,hull/unit}

# busybox + applets
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list-full); do
    [ -e "$R/$a" ] || [ -L "$R/$a" ] || ln -s /bin/busybox "$R/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
echo 'root:x:0:' >"$R/etc/group"
if [ "$(id -u)" = 0 ]; then mknod -m 600 "$R/dev/console" c 5 1; fi

# Dynamic binaries and their libraries (same paths as on the host; the loader from PT_INTERP).
add_libs() {
    local f=$1 lib
    # "not a dynamic executable": nothing to add
    ldd "$f" >/dev/null 2>&1 || return 0
    for lib in $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        [ -e "$R$lib" ] && continue
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
    done
}
cp "$BUILD/hull" "$R/hull/bin/hull"
add_libs "$R/hull/bin/hull"
# the libraries hull loads on first use (base/lazy_libs.c: images, digests), with theirs
for so in libarchive.so.13 libcrypto.so.3; do
    lib=$(ldconfig -p 2>/dev/null | awk -v s="$so" '$1 == s && /x86-64/ { print $NF; exit }')
    [ -n "$lib" ] || die "$so not found (ldconfig -p)"
    mkdir -p "$R$(dirname "$lib")"
    cp -L "$lib" "$R$lib"
    add_libs "$lib"
done
# `hull vmm` execs hull-vmm from its own directory (else it runs the VM in-process)
if [ -x "$BUILD/hull-vmm" ]; then
    cp "$BUILD/hull-vmm" "$R/hull/bin/hull-vmm"
    add_libs "$R/hull/bin/hull-vmm"
fi
for t in $TESTS; do
    cp "$BUILD/tests/unit/$t" "$R/hull/unit/$t"
    add_libs "$R/hull/unit/$t"
done
# test_spec and friends read fixtures relative to the repo root (/hull is the cwd of the tests)
[ -d "$REPO/tests/unit/data" ] && mkdir -p "$R/hull/tests/unit" && cp -a "$REPO/tests/unit/data" "$R/hull/tests/unit/"
JQ=$(command -v jq)
cp "$JQ" "$R/hull/bin/jq"
add_libs "$R/hull/bin/jq"
echo "$TESTS" >"$R/hull/unit/LIST"
# HULL_VM_EXTRA_BINS: more host programs (with their libraries) in /hull/bin, e.g. strace
for b in ${HULL_VM_EXTRA_BINS:-}; do
    p=$(command -v "$b") || die "HULL_VM_EXTRA_BINS: $b not found"
    cp -L "$p" "$R/hull/bin/$(basename "$p")"
    add_libs "$p"
done

# The containers' rootfs: busybox (hard link: stored once) and a few files.
F=$R/hull/rootfs
mkdir -p "$F"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run}
chmod 1777 "$F/tmp"
ln "$R/bin/busybox" "$F/bin/busybox"
for a in $(/bin/busybox --list-full); do
    [ -e "$F/$a" ] || [ -L "$F/$a" ] || ln -s /bin/busybox "$F/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$F/etc/passwd"
echo 'root:x:0:' >"$F/etc/group"

# What the "limits" container reports about itself: one KEY=VALUE per line.
cat >"$F/report.sh" <<'EOF'
#!/bin/sh
# Run as the container's process: prints what the container sees of its cgroup.
echo "CGROUP=$(cat /proc/self/cgroup | tr '\n' ';')"
echo "CGFS=$(stat -f -c %t /sys/fs/cgroup)"
echo "MEMORY_MAX=$(cat /sys/fs/cgroup/memory.max 2>&1)"
echo "PIDS_MAX=$(cat /sys/fs/cgroup/pids.max 2>&1)"
echo "CG_RO=$(if touch /sys/fs/cgroup/x 2>/dev/null; then echo no; else echo yes; fi)"
# eBPF device filter: allow-all, then deny rw on c 1:11 (not among the default devices)
mknod /dev/denied c 1 11 2>/dev/null; echo "MKNOD_DENIED_RC=$?"
echo "OPEN_DENIED=$( (cat /dev/denied 2>&1 >/dev/null; echo " rc=$?") | tr '\n' ' ')"
mknod /dev/zero2 c 1 5 2>/dev/null; echo "MKNOD_ZERO_RC=$?"
echo "READ_ZERO2=$(head -c 3 /dev/zero2 | wc -c)"
echo "NULL_OK=$(echo x >/dev/null 2>&1 && echo yes || echo no)"
# pids.max: try to start 30 sleepers; fork must fail at the limit
( i=0; while [ $i -lt 30 ]; do sleep 60 & i=$((i + 1)); done ) 2>/tmp/fork.err
echo "PIDS_CURRENT=$(cat /sys/fs/cgroup/pids.current)"
echo "PIDS_EVENTS_MAX=$(sed -n 's/^max //p' /sys/fs/cgroup/pids.events)"
echo "FORK_ERR=$(head -n 1 /tmp/fork.err)"
echo "REPORT_DONE=1"
EOF
chmod 755 "$F/report.sh"

# Bundles: the config.json is written here (no `hull spec`: the harness must not trust what it
# tests). Both share the rootfs above through an absolute root.path.
CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID",
       "CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
base_config() {
    cat <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/bin/true" ],
    "env": [ "PATH=/usr/sbin:/usr/bin:/sbin:/bin" ],
    "cwd": "/",
    "capabilities": { "bounding": $CAPS, "effective": $CAPS, "permitted": $CAPS },
    "noNewPrivileges": true
  },
  "root": { "path": "/hull/rootfs", "readonly": false },
  "hostname": "vmtest",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
  ],
  "linux": {
    "cgroupsPath": "/hulltest/ID",
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" },
                    { "type": "network" }, { "type": "cgroup" } ]
  }
}
EOF
}
mkdir -p "$R/hull/bundles/limits" "$R/hull/bundles/svc"
base_config | jq '.process.args = ["/bin/sh", "/report.sh"]
    | .linux.cgroupsPath = "/hulltest/e2e-limits"
    | .linux.resources.memory = { limit: 67108864 }
    | .linux.resources.pids = { limit: 16 }
    | .linux.resources.devices = [ { allow: true, access: "rwm" },
                                   { allow: false, type: "c", major: 1, minor: 11, access: "rw" } ]' \
    >"$R/hull/bundles/limits/config.json"
base_config | jq '.process.args = ["/bin/sleep", "600"]
    | .linux.cgroupsPath = "/hulltest/e2e-svc"
    | .linux.resources.memory = { limit: 33554432 }
    | .linux.resources.pids = { limit: 8 }
    | .linux.resources.cpu = { quota: 50000, period: 100000 }' \
    >"$R/hull/bundles/svc/config.json"

# HULL_VM_NEST=1: what tests/vm/nest.sh needs to run hull's VMM inside this VM: kvm_amd and its
# dependencies (in load order), the L2 kernel as ELF vmlinux (PVH) and as bzImage, its version,
# and the L2 initramfs (tests/vm/build-l2.sh).
if [ -n "${HULL_VM_NEST:-}" ]; then
    : "${HULL_VM_KVER:?HULL_VM_KVER (the guest kernel version) is needed with HULL_VM_NEST}"
    : "${HULL_VM_VMLINUX:?HULL_VM_VMLINUX is needed with HULL_VM_NEST}"
    MD=/lib/modules/$HULL_VM_KVER
    mkdir -p "$R/hull/kmod" "$R/hull/l2"
    dep_line=$(grep '^kernel/arch/x86/kvm/kvm-amd.ko[.a-z]*:' "$MD/modules.dep") || die "kvm-amd not in $MD/modules.dep"
    order=""
    for m in ${dep_line#*:}; do order="$m $order"; done   # modules.dep lists the deepest last
    for m in $order ${dep_line%%:*}; do
        b=$(basename "$m")
        case $b in
        *.xz) xz -dc "$MD/$m" >"$R/hull/kmod/${b%.xz}"; b=${b%.xz} ;;
        *.zst) zstd -qdc "$MD/$m" >"$R/hull/kmod/${b%.zst}"; b=${b%.zst} ;;
        *) cp "$MD/$m" "$R/hull/kmod/$b" ;;
        esac
        echo "$b" >>"$R/hull/kmod/order"
    done
    cp "$HULL_VM_VMLINUX" "$R/hull/l2/vmlinux"
    cp "/boot/vmlinuz-$HULL_VM_KVER" "$R/hull/l2/bzImage"
    echo "$HULL_VM_KVER" >"$R/hull/l2/kver"
    "$HERE/build-l2.sh" "$HULL_VM_KVER" "$R/hull/l2/l2.cpio"
    install -m 755 "$HERE/nest.sh" "$R/hull/nest.sh"
    # HULL_VM_NEST=bench: qemu (with its libraries and the microvm firmware) for the L2 boot-time
    # comparison, and the script that runs it (the nest tests then stay out).
    if [ "$HULL_VM_NEST" = bench ]; then
        rm -f "$R/hull/nest.sh"
        Q=$(command -v qemu-system-x86_64) || die "HULL_VM_NEST=bench needs qemu-system-x86_64"
        cp "$Q" "$R/hull/bin/qemu-system-x86_64"
        add_libs "$Q"
        mkdir -p "$R/usr/share/qemu"
        for f in bios-microvm.bin qboot.rom pvh.bin linuxboot_dma.bin linuxboot.bin kvmvapic.bin; do
            cp -L "/usr/share/qemu/$f" "$R/usr/share/qemu/$f"
        done
        install -m 755 "$HERE/nest-bench.sh" "$R/hull/nest-bench.sh"
    fi
    # microVM containers (tests/vm/nest-containers.sh): L1 has no /lib/modules for the L2 kernel,
    # so hull's guest initramfs is built here, by the same library call hull makes (through
    # tests/lib/vm-artifacts.c); plus the mkfs tools hull runs for the rootfs images, and debugfs
    # to read what a guest wrote.
    VA=$S/vm-artifacts
    # shellcheck disable=SC2046
    cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$REPO" -o "$VA" "$REPO/tests/lib/vm-artifacts.c" "$BUILD/libhull.a" \
        $(pkg-config --libs libarchive libcrypto yajl libcap libseccomp) || die "cannot build tests/lib/vm-artifacts.c"
    [ -x "$BUILD/hull-agent" ] || die "$BUILD/hull-agent is not built (make)"
    "$VA" initramfs "$BUILD/hull-agent" "$HULL_VM_KVER" "$R/hull/l2/hull-initrd.cpio" || die "hull's guest initramfs"
    for t in mkfs.erofs mkfs.ext4 debugfs; do
        p=$(PATH=$PATH:/usr/sbin:/sbin command -v $t) || die "needs $t (erofs-utils, e2fsprogs)"
        cp -L "$p" "$R/hull/bin/$t"
        add_libs "$p"
    done
    install -m 644 "$HERE/nest-lib.sh" "$R/hull/nest-lib.sh"
    # hull's built-in busybox image as an OCI layout (hull image import in nest-containers.sh)
    "$REPO/image/make-busybox-image.sh" "$R/hull/busybox-oci" >/dev/null || die "cannot build the busybox image"
    install -m 644 "$REPO/tests/lib/vm-helpers.sh" "$R/hull/vm-helpers.sh"
    [ "$HULL_VM_NEST" = bench ] || install -m 755 "$HERE/nest-containers.sh" "$R/hull/nest-containers.sh"
    # HULL_VM_CLIENTS=1 (tests/vm/nest-clients.sh): Debian's containerd, its runc v2 shim and ctr,
    # podman and conmon, and hull's built-in busybox image as the archive they import. Without
    # containerd on the host the script is left out and 27-vm-containers.t says so.
    if [ -n "${HULL_VM_CLIENTS:-}" ] && [ "$HULL_VM_NEST" != bench ] &&
        command -v containerd >/dev/null && command -v ctr >/dev/null && command -v containerd-shim-runc-v2 >/dev/null; then
        for t in containerd containerd-shim-runc-v2 ctr; do
            p=$(command -v $t)
            cp -L "$p" "$R/hull/bin/$t"
            add_libs "$p"
        done
        HULL_ROOT=$S/hull-data "$BUILD/hull" image import "$R/hull/busybox-oci" --name busybox:latest >/dev/null &&
            HULL_ROOT=$S/hull-data "$BUILD/hull" image export busybox "$R/hull/busybox.tar" || die "cannot export the busybox image"
        install -m 755 "$HERE/nest-clients.sh" "$R/hull/nest-clients.sh"
        for t in podman conmon; do   # the podman part (skipped inside when they are missing)
            p=$(command -v $t) || continue
            cp -L "$p" "$R/hull/bin/$t"
            add_libs "$p"
        done
    fi
fi

install -m 755 "$HERE/init.sh" "$R/init"
install -m 755 "$HERE/e2e.sh" "$R/hull/e2e.sh"
if [ -n "${HULL_VM_EXTRA:-}" ]; then
    [ -f "$HULL_VM_EXTRA" ] || die "HULL_VM_EXTRA=$HULL_VM_EXTRA is not a file"
    install -m 755 "$HULL_VM_EXTRA" "$R/hull/extra.sh"
fi

mkdir -p "$(dirname "$OUT")"
(cd "$R" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
