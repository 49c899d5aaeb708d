#!/bin/sh
# tests/vm/nest-clients.sh — containerd drives real microVM containers, inside the L1 VM of
# tests/vm/run-in-vm.sh (HULL_VM_NEST=1 with HULL_VM_CLIENTS=1, test "nestcli";
# tests/integration/27-vm-containers.t). Debian's containerd, its runc v2 shim and ctr run
# here with hull as the runc binary; every container is an L2 guest booted by hull's VMM:
# `ctr run --rm` with the annotation run.oci.handler=vm (output, the guest's kernel, exit code,
# stdin), `ctr run -d` with the binary named hull-vm (the task's pid is the VMM, task exec/ps/
# kill/delete), then nothing left behind. Prints TAP. busybox sh.
#
# containerd runs from /tmp/ctrd (config, root, state, socket; no CRI; the native snapshotter,
# which needs no overlay on L1's rootfs) and is stopped by pid at the end, whatever happened.
. /hull/nest-lib.sh
if [ ! -x /hull/bin/containerd ] || [ ! -x /hull/bin/ctr ] || [ ! -x /hull/bin/containerd-shim-runc-v2 ]; then
    echo "1..0 # SKIP containerd, ctr and containerd-shim-runc-v2 are not in the L1 initramfs (the host has no containerd)"
    exit 0
fi
export PATH=/hull/bin:$PATH
# what hull needs to boot its guests here, inherited by containerd -> the shim -> hull
export HULL_VM_KERNEL=/hull/l2/vmlinux HULL_VM_INITRD=/hull/l2/hull-initrd.cpio
export HULL_VM_BOOT_TIMEOUT=240 HULL_VM_UPPER_SIZE=128M HULL_ROOT=/var/lib/hull-cli
C=/tmp/ctrd NS=hullvm
mkdir -p $C
cat >$C/config.toml <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/sock"
TOML
load_kvm
[ -c /dev/kvm ]; ok $? "kvm_amd loaded: /dev/kvm"

t0=$(now_ms)
containerd --config $C/config.toml >$C/log 2>&1 &
CPID=$!
stop_containerd() {
    for t in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$t" >/dev/null 2>&1; done
    for t in $(ctr containers ls -q 2>/dev/null); do ctr task delete -f "$t" >/dev/null 2>&1; ctr containers delete "$t" >/dev/null 2>&1; done
    kill $CPID 2>/dev/null
    wait $CPID 2>/dev/null
}
trap stop_containerd EXIT
for _ in $(seq 600); do [ -S $C/sock ] && break; sleep 0.2; done
[ -S $C/sock ]; ok $? "containerd started ($(($(now_ms) - t0)) ms)"
[ -S $C/sock ] || { tail -n 5 $C/log | sed 's/^/#   /'; echo "1..$N"; exit 1; }
ctr() { timeout -s KILL 400 /hull/bin/ctr -a $C/sock -n $NS "$@"; }
SN="--snapshotter native"

ctr image import $SN /hull/busybox.tar >/dev/null 2>$C/import.err
like "$(ctr image ls -q 2>&1)" "busybox:latest" "ctr image import of hull's built-in busybox image" || diag "$(cat $C/import.err)"

# ---- ctr run --rm, the annotation -------------------------------------------------------------
t0=$(now_ms)
out=$(echo 'piped in' | ctr run --rm $SN --runc-binary /hull/bin/hull --annotation run.oci.handler=vm busybox:latest v1 \
    sh -c 'echo "cmdline: $(cat /proc/cmdline)"; read l; echo "stdin: $l"; echo hello from the guest; exit 7' 2>&1)
rc=$?
diag "ctr run --rm (annotation): $(($(now_ms) - t0)) ms"
is "$rc" 7 "ctr run --rm --annotation run.oci.handler=vm: the exit code (7) comes back through ctr"
like "$out" "^hello from the guest$" "its output arrives"
like "$out" "^cmdline: .*hull.poweroff=" "it ran in the guest kernel (its /proc/cmdline is hull's guest command line)"
like "$out" "^stdin: piped in$" "stdin piped through containerd, the monitor and the agent"

# ---- ctr run -d, the binary name hull-vm -------------------------------------------------------
ln -sf hull /hull/bin/hull-vm
ctr run -d $SN --runc-binary /hull/bin/hull-vm busybox:latest v2 sh -c 'echo up >/tmp/up; exec sleep 600' >/dev/null 2>$C/v2.err
is "$?" 0 "ctr run -d --runc-binary .../hull-vm" || diag "$(cat $C/v2.err)"
like "$(ctr task ls 2>&1)" "v2 +[0-9]+ +RUNNING" "ctr task ls: RUNNING"
pid=$(ctr task ls 2>/dev/null | awk '$1 == "v2" {print $2}')
is "$(cat /proc/$pid/comm 2>/dev/null)" hull-vmm "the task's pid is the VMM process"
for _ in $(seq 100); do ctr task exec --exec-id w v2 test -e /tmp/up >/dev/null 2>&1 && break; sleep 0.5; done
out=$(ctr task exec --exec-id e1 v2 sh -c 'cat /tmp/up; cut -d" " -f1 /proc/loadavg >/dev/null; exit 4' 2>&1)
rc=$?
is "$rc:$out" "4:up" "ctr task exec runs a second process in the same guest (sees /tmp/up; exit code 4)"
like "$(ctr task ps v2 2>&1)" "^[0-9]+ " "ctr task ps lists the guest's processes"
ctr task kill -s KILL v2 >/dev/null 2>&1
for _ in $(seq 150); do ctr task ls 2>/dev/null | grep -q "v2 .*STOPPED" && break; sleep 0.2; done
like "$(ctr task ls 2>&1)" "v2 +[0-9]+ +STOPPED" "ctr task kill -s KILL: STOPPED"
ctr task delete v2 >/dev/null 2>&1
is "$?" 0 "ctr task delete"
ctr containers delete v2 >/dev/null 2>&1
sleep 0.3
is "procs:$(vm_live_procs) state:$(ls /run/containerd/runc/$NS 2>/dev/null | wc -l) images:$(ls $HULL_ROOT/vm/run 2>/dev/null | wc -l)" \
    "procs:0 state:0 images:0" "nothing left: no VMM or monitor, nothing in hull's state or image directories"

echo "1..$N"
[ $FAILED = 0 ]
