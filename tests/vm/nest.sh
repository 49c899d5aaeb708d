#!/bin/sh
# tests/vm/nest.sh — runs inside the L1 VM (tests/vm/run-in-vm.sh with HULL_VM_NEST=1): loads
# kvm_amd (qemu TCG's -cpu max gives L1 AMD SVM with nested paging), then boots Debian's kernel
# as L2 with `hull vmm` several times, one scenario per boot (tests/vm/l2-init.sh), and checks
# what came out of the virtio devices and how each VM ended. Prints TAP. busybox sh.
# On a host with VT-x/AMD-V it runs directly (25-vmm-nested.t): HULL_NEST_HULL is hull,
# HULL_NEST_L2 the dir with vmlinux, bzImage, kver and l2.cpio, and /dev/kvm is already there.
H=${HULL_NEST_HULL:-/hull/bin/hull}
L2=${HULL_NEST_L2:-/hull/l2}
N=0 FAILED=0
ok() { N=$((N + 1)); if [ "$1" = 0 ]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILED=$((FAILED + 1)); fi; }
nok() { [ "$1" != 0 ]; ok $? "$2"; }
is() { [ "$1" = "$2" ]; r=$?; ok $r "$3"; [ $r = 0 ] || echo "#   got '$1', want '$2'"; }
diag() { echo "# $*"; }
now_ms() { read -r up _ </proc/uptime; echo "$up" | awk '{ printf "%d", $1 * 1000 }'; }

if [ -f /hull/kmod/order ]; then
    for m in $(cat /hull/kmod/order); do
        case $m in kvm-amd.ko) insmod /hull/kmod/$m npt=1 ;; *) insmod /hull/kmod/$m ;; esac || diag "insmod $m failed"
    done
fi
[ -c /dev/kvm ]; ok $? "/dev/kvm exists (svm: $(grep -c -w svm /proc/cpuinfo), vmx: $(grep -c -w vmx /proc/cpuinfo) cpus)"
if [ ! -c /dev/kvm ]; then echo "1..$N"; exit 1; fi

W=$(mktemp -d /tmp/hull-nest-l2.XXXXXX)
trap 'rm -rf "$W"' EXIT
CMD="console=ttyS0 quiet init_on_alloc=0 reboot=k panic=-1 nokaslr tsc=reliable no_timer_check lpj=4000000 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0"
# The disk: 10 MiB of random bytes, read-only in the guest.
head -c 10485760 /dev/urandom >$W/disk.img
DISK_SUM=$(sha256sum $W/disk.img | cut -d' ' -f1)
head -c 1048576 /dev/urandom >$W/input.bin
INPUT_SUM=$(sha256sum $W/input.bin | cut -d' ' -f1)

# vm NAME KERNEL EXTRA_CMDLINE [hull vmm options...]: boots L2; sets RC, MS, and $W/NAME.{out,err}
vm() {
    name=$1 kernel=$2 extra=$3
    shift 3
    : >$W/$name.out
    t0=$(now_ms)
    timeout -s KILL 600 $H vmm --kernel "$kernel" --initrd $L2/l2.cpio --cmdline "$CMD $extra" \
        --mem 256M --disk $W/disk.img,ro --port hull.out,out=$W/$name.out --port hull.in,in=$W/input.bin \
        --rng --serial "$@" </dev/null >$W/$name.stdout 2>$W/$name.err
    RC=$?
    MS=$(($(now_ms) - t0))
    # stderr holds L2's kernel console too (--serial; quiet, so only warnings and worse)
    diag "$name: exit $RC after ${MS} ms; last lines: $(tail -n 4 $W/$name.err | tr '\n' '|')"
}
field() { sed -n "s/^$1=//p" "$W/$2.out" | head -n 1; }

# 1. PVH boot of the ELF vmlinux; facts from inside; clean power-off.
vm info $L2/vmlinux hullnest=info
is "$RC" 0 "PVH boot of vmlinux: L2 powered off cleanly (exit 0, ${MS} ms)"
is "$(field kernel info)" "$(cat $L2/kver)" "L2 runs the guest kernel $(cat $L2/kver) (L1 is $(uname -r) too, but a different boot)"
is "$(field cpus info)" 1 "L2 sees 1 CPU"
mem=$(field mem_kb info)
[ -n "$mem" ] && [ "$mem" -gt 200000 ] && [ "$mem" -le 262144 ]; ok $? "L2 MemTotal ${mem} kB fits 256 MiB of guest RAM"
is "$(field vda_bytes info)" 10485760 "virtio-blk: /dev/vda is 10 MiB"
is "$(field vda_ro info)" 1 "virtio-blk: read-only disk is read-only in the guest"
ports=" $(field ports info) "
case $ports in *" hull.out "*) case $ports in *" hull.in "*) r=0 ;; *) r=1 ;; esac ;; *) r=1 ;; esac
ok $r "virtio-console: named ports visible as /dev/virtio-ports/{hull.in,hull.out} ($(field ports info))"
is "$(field pvpanic info)" 1 "pvpanic-pci bound by the guest's driver"
[ "$(field msix info)" -ge 1 ] 2>/dev/null; ok $? "virtio interrupts in /proc/interrupts ($(field msix info) lines)"
diag "L2 uptime at report: $(field uptime info) s; cmdline: $(field cmdline info)"

# 2. 10 MiB from the block device out through a console port, and 1 MiB the other way.
vm io $L2/vmlinux "hullnest=io hullnest_bytes=1048576" --port hull.sum,out=$W/io.sum
is "$RC" 0 "io scenario powered off (exit 0, ${MS} ms)"
is "$(stat -c %s $W/io.out)" 10485760 "10 MiB read from virtio-blk came out of the console port"
is "$(sha256sum $W/io.out | cut -d' ' -f1)" "$DISK_SUM" "and matches the disk image (sha256)"
is "$(head -n 1 $W/io.sum)" "$INPUT_SUM" "1 MiB fed into port hull.in arrived intact (sha256 inside the guest)"

# 4. the guest's fate: panic, reset.
vm panic $L2/vmlinux hullnest=panic
is "$RC" 84 "kernel panic in L2 -> pvpanic -> exit 84"
grep -q "guest panic" $W/panic.err; ok $? "and says so: $(tail -n 1 $W/panic.err)"
vm reset $L2/vmlinux hullnest=reset
is "$RC" 81 "reboot -f (reboot=k, i8042) -> exit 81"
grep -q "reset" $W/reset.err; ok $? "and says so: $(tail -n 1 $W/reset.err)"

# 5. stopped from the host: SIGTERM to the VMM while the guest idles.
: >$W/halt.out
$H vmm --kernel $L2/vmlinux --initrd $L2/l2.cpio --cmdline "$CMD hullnest=halt" --mem 256M \
    --port hull.out,out=$W/halt.out </dev/null >/dev/null 2>$W/halt.err &
VPID=$!
sleep 2
kill -TERM $VPID
wait $VPID
is "$?" 86 "SIGTERM to the VMM stops the VM (exit 86)"
kill -0 $VPID 2>/dev/null; nok $? "the VMM process is gone"

# 6. bzImage through the 64-bit boot protocol, 2 vCPUs.
vm bz2 $L2/bzImage hullnest=info --cpus 2
is "$RC" 0 "bzImage boot (64-bit boot protocol), 2 vCPUs: clean power-off (${MS} ms)"
is "$(field cpus bz2)" 2 "L2 sees 2 CPUs (MP table)"
is "$(field kernel bz2)" "$(cat $L2/kver)" "the bzImage's kernel runs"

# 7. nothing left behind
left=0
for d in /proc/[0-9]*; do
    [ "${d#/proc/}" = $$ ] && continue
    # by comm: busybox timeout leaves a watcher with the same cmdline for up to a second
    case $(cat "$d/comm" 2>/dev/null) in hull | hull-vmm) ;; *) continue ;; esac
    cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)
    case $cmd in
    *"vmm --kernel $L2/"*)
        left=$((left + 1))
        diag "left behind: ${d#/proc/} $(sed -n 's/^State:\t//p' "$d/status" 2>/dev/null): $cmd" ;;
    esac
done
is "$left" 0 "no VMM process left behind"
echo "1..$N"
[ $FAILED = 0 ]
