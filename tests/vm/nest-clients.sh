#!/bin/sh
# tests/vm/nest-clients.sh — containerd and podman drive real microVM containers, inside the L1
# VM of tests/vm/run-in-vm.sh (HULL_VM_NEST=1 with HULL_VM_CLIENTS=1, test "nestcli";
# tests/integration/27-vm-containers.t). Every container here is an L2 guest booted by hull's VMM.
# - Debian's containerd, its runc v2 shim and ctr, with hull as the runc binary: `ctr run --rm`
#   with the annotation run.oci.handler=vm (output, the guest's kernel, exit code, stdin), and
#   `ctr run -d` with the binary named hull-vm (the task's pid is the VMM; task exec/ps/kill/
#   delete). containerd runs from /tmp/ctrd (config, root, state, socket; no CRI; the native
#   snapshotter, which needs no overlay on L1's rootfs) and is stopped by pid, whatever happened.
# - Debian's podman with conmon, `--runtime .../hull-vm`: run --rm (output, exit code, the
#   guest's kernel), run -d + exec + stop + logs + rm; its storage (vfs) and run dirs in /tmp/pm.
# hull's microVM settings come from /etc/hull/vm.conf, the way an installation configures them.
# Each part ends with a check that nothing was left behind. Prints TAP. busybox sh.
. /hull/nest-lib.sh
export PATH=/hull/bin:$PATH
# What hull needs to boot its guests here, in its settings file (vm/executor/settings.c): podman
# starts conmon, and conmon hull, with an environment of their own, so HULL_VM_* variables set
# here would not reach it. The data root is hull's default, /var/lib/hull.
unset HULL_VM_KERNEL HULL_VM_INITRD HULL_VM_BOOT_TIMEOUT HULL_VM_UPPER_SIZE HULL_ROOT
mkdir -p /etc/hull
cat >/etc/hull/vm.conf <<CONF
# the L2 guest: L1's own kernel (PVH) and hull's initramfs built on the host
HULL_VM_KERNEL=/hull/l2/vmlinux
HULL_VM_INITRD=/hull/l2/hull-initrd.cpio
HULL_VM_BOOT_TIMEOUT=240
HULL_VM_UPPER_SIZE=128M
CONF
DATA=/var/lib/hull
ln -sf hull /hull/bin/hull-vm
load_kvm
[ -c /dev/kvm ]; ok $? "kvm_amd loaded: /dev/kvm"
[ -c /dev/kvm ] || { echo "1..$N"; exit 1; }

# ==== containerd ================================================================================
C=/tmp/ctrd NS=hullvm CPID=
stop_containerd() {
    [ -n "$CPID" ] || return 0
    for t in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$t" >/dev/null 2>&1; done
    for t in $(ctr containers ls -q 2>/dev/null); do ctr task delete -f "$t" >/dev/null 2>&1; ctr containers delete "$t" >/dev/null 2>&1; done
    kill $CPID 2>/dev/null
    wait $CPID 2>/dev/null
    CPID=
}
ctr() { timeout -s KILL 400 /hull/bin/ctr -a $C/sock -n $NS "$@"; }
run_containerd() {
    mkdir -p $C
    cat >$C/config.toml <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/sock"
TOML
    t0=$(now_ms)
    containerd --config $C/config.toml >$C/log 2>&1 &
    CPID=$!
    for _ in $(seq 600); do [ -S $C/sock ] && break; sleep 0.2; done
    [ -S $C/sock ]; ok $? "containerd started ($(($(now_ms) - t0)) ms)"
    [ -S $C/sock ] || { tail -n 5 $C/log | sed 's/^/#   /'; return; }
    SN="--snapshotter native"
    ctr image import $SN /hull/busybox.tar >/dev/null 2>$C/import.err
    like "$(ctr image ls -q 2>&1)" "busybox:latest" "ctr image import of hull's built-in busybox image" || diag "$(cat $C/import.err)"

    # ctr run --rm, the annotation
    t0=$(now_ms)
    out=$(echo 'piped in' | ctr run --rm $SN --runc-binary /hull/bin/hull --annotation run.oci.handler=vm busybox:latest v1 \
        sh -c 'echo "cmdline: $(cat /proc/cmdline)"; read l; echo "stdin: $l"; echo hello from the guest; exit 7' 2>&1)
    rc=$?
    diag "ctr run --rm (annotation): $(($(now_ms) - t0)) ms"
    is "$rc" 7 "ctr run --rm --annotation run.oci.handler=vm: the exit code (7) comes back through ctr"
    like "$out" "^hello from the guest$" "its output arrives"
    like "$out" "^cmdline: .*hull.poweroff=" "it ran in the guest kernel (its /proc/cmdline is hull's guest command line)"
    like "$out" "^stdin: piped in$" "stdin piped through containerd, the monitor and the agent"

    # ctr run -d, the binary name hull-vm
    ctr run -d $SN --runc-binary /hull/bin/hull-vm busybox:latest v2 sh -c 'echo up >/tmp/up; exec sleep 600' >/dev/null 2>$C/v2.err
    is "$?" 0 "ctr run -d --runc-binary .../hull-vm" || diag "$(cat $C/v2.err)"
    like "$(ctr task ls 2>&1)" "v2 +[0-9]+ +RUNNING" "ctr task ls: RUNNING"
    pid=$(ctr task ls 2>/dev/null | awk '$1 == "v2" {print $2}')
    is "$(cat /proc/$pid/comm 2>/dev/null)" hull-vmm "the task's pid is the VMM process"
    for _ in $(seq 100); do ctr task exec --exec-id w v2 test -e /tmp/up >/dev/null 2>&1 && break; sleep 0.5; done
    out=$(ctr task exec --exec-id e1 v2 sh -c 'cat /tmp/up; exit 4' 2>&1)
    is "$?:$out" "4:up" "ctr task exec runs a second process in the same guest (sees /tmp/up; exit code 4)"
    like "$(ctr task ps v2 2>&1)" "^[0-9]+ " "ctr task ps lists the guest's processes"
    ctr task kill -s KILL v2 >/dev/null 2>&1
    for _ in $(seq 150); do ctr task ls 2>/dev/null | grep -q "v2 .*STOPPED" && break; sleep 0.2; done
    like "$(ctr task ls 2>&1)" "v2 +[0-9]+ +STOPPED" "ctr task kill -s KILL: STOPPED"
    ctr task delete v2 >/dev/null 2>&1
    is "$?" 0 "ctr task delete"
    ctr containers delete v2 >/dev/null 2>&1
    sleep 0.3
    is "procs:$(vm_live_procs) state:$(ls /run/containerd/runc/$NS 2>/dev/null | wc -l) images:$(ls $DATA/vm/run 2>/dev/null | wc -l)" \
        "procs:0 state:0 images:0" "containerd: nothing left (no VMM or monitor, nothing in hull's state or image directories)"
}
trap stop_containerd EXIT
if [ -x /hull/bin/containerd ] && [ -x /hull/bin/ctr ] && [ -x /hull/bin/containerd-shim-runc-v2 ]; then
    run_containerd
else
    skip "containerd, ctr and containerd-shim-runc-v2 are not in the L1 initramfs (the host has none)"
fi
stop_containerd

# ==== podman ====================================================================================
P=/tmp/pm
pm() {
    timeout -s KILL 400 /hull/bin/podman --root $P/root --runroot $P/runroot --tmpdir $P/tmp --storage-driver vfs \
        --runtime /hull/bin/hull-vm --cgroup-manager cgroupfs --events-backend file "$@"
}
run_podman() {
    mkdir -p $P/root $P/runroot $P/tmp /etc/containers /var/tmp
    [ -e /etc/containers/policy.json ] || echo '{"default": [{"type": "insecureAcceptAnything"}]}' >/etc/containers/policy.json
    cat >$P/containers.conf <<CONF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
conmon_path = ["/hull/bin/conmon"]
image_copy_tmp_dir = "$P/tmp"
CONF
    export CONTAINERS_CONF=$P/containers.conf TMPDIR=$P/tmp
    t0=$(now_ms)
    pm load -q -i /hull/busybox.tar >$P/load.out 2>&1
    like "$(pm images --format '{{.Repository}}:{{.Tag}}' 2>&1)" "busybox:latest" "podman load of hull's busybox image ($(($(now_ms) - t0)) ms)" ||
        diag "$(tail -n 3 $P/load.out)"
    img=$(pm images -q 2>/dev/null | head -n 1)   # by id: no registries.conf here to resolve a short name
    t0=$(now_ms)
    out=$(pm run --rm "$img" sh -c 'echo "cmdline: $(cat /proc/cmdline)"; echo hello via podman; exit 5' 2>$P/run.err)
    rc=$?
    diag "podman run --rm (hull-vm): $(($(now_ms) - t0)) ms"
    is "$rc" 5 "podman --runtime .../hull-vm run --rm: the exit code (5) comes back through conmon" || diag "$(tail -n 3 $P/run.err)"
    like "$out" "^hello via podman$" "its output arrives"
    like "$out" "^cmdline: .*hull.poweroff=" "it ran in the guest kernel"
    cid=$(pm run -d "$img" sh -c 'echo started; trap "echo got TERM; exit 0" TERM; while :; do sleep 0.2; done' 2>$P/d.err)
    is "$?" 0 "podman run -d" || diag "$(tail -n 3 $P/d.err)"
    pid=$(pm inspect -f '{{.State.Pid}}' "$cid" 2>/dev/null)
    is "$(cat /proc/$pid/comm 2>/dev/null)" hull-vmm "the container's pid (conmon waits for it) is the VMM"
    for _ in $(seq 100); do pm logs "$cid" 2>/dev/null | grep -q started && break; sleep 0.5; done
    out=$(pm exec "$cid" sh -c 'echo in-exec; exit 3' 2>&1)
    is "$?:$out" "3:in-exec" "podman exec into the guest: output and exit code 3"
    pm stop -t 60 "$cid" >/dev/null 2>&1
    is "$(pm inspect -f '{{.State.ExitCode}}' "$cid" 2>/dev/null)" 0 "podman stop: SIGTERM reached the guest process, which exited 0"
    is "$(pm logs "$cid" 2>/dev/null | tr '\n' ' ')" "started got TERM " "podman logs: its output, through conmon"
    pm rm "$cid" >/dev/null 2>&1
    is "$?" 0 "podman rm"
    sleep 0.3
    is "procs:$(vm_live_procs) images:$(ls $DATA/vm/run 2>/dev/null | wc -l)" "procs:0 images:0" \
        "podman: nothing left (no VMM or monitor, no image directory)"
    for c in $(pm ps -aq 2>/dev/null); do pm rm -f "$c" >/dev/null 2>&1; done
}
if [ -x /hull/bin/podman ] && [ -x /hull/bin/conmon ]; then
    run_podman
else
    skip "podman and conmon are not in the L1 initramfs (the host has none)"
fi

echo "1..$N"
[ $FAILED = 0 ]
