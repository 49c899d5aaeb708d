#!/bin/sh
# tests/vm/nest-containers.sh — microVM containers end to end, inside the L1 VM of
# tests/vm/run-in-vm.sh (HULL_VM_NEST=1, test "nestctr"; tests/integration/27-vm-containers.t).
# L1 is Debian's kernel under qemu TCG with kvm_amd; every container here is an L2 guest that
# hull's VMM boots: `hull --vm run`, the lifecycle verbs with the run.oci.handler=vm annotation,
# exec/ps/kill into a running VM, two VMs at once, and the errors (no /dev/kvm, no kernel, a boot
# timeout), each followed by a check that nothing was left behind. Prints TAP. busybox sh.
#
# The guest kernel is L1's own (/hull/l2/vmlinux, booted through PVH); its initramfs
# (/hull/l2/hull-initrd.cpio: hull-agent + the virtio/ext4/erofs/overlay modules) was built on the
# host by build-initramfs.sh, because L1 has no /lib/modules for it.
H=/hull/bin/hull
export PATH=$PATH:/hull/bin
export HULL_VM_KERNEL=/hull/l2/vmlinux HULL_VM_INITRD=/hull/l2/hull-initrd.cpio
export HULL_VM_BOOT_TIMEOUT=${HULL_VM_BOOT_TIMEOUT:-240} HULL_VM_UPPER_SIZE=128M HULL_ROOT=/var/lib/hull-ctr
ROOT=/run/hull-ctr
W=/tmp/nestctr
mkdir -p $ROOT $W
. /hull/nest-lib.sh
hull() { timeout -s KILL 400 $H --root $ROOT "$@"; }

# bundle NAME JQ-EXPR: $W/NAME/config.json over the shared busybox rootfs
bundle() {
    mkdir -p $W/$1
    cat >$W/$1/config.json <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": { "uid": 0, "gid": 0 }, "args": [ "/bin/true" ],
    "env": [ "PATH=/usr/sbin:/usr/bin:/sbin:/bin" ], "cwd": "/",
    "capabilities": { "bounding": ["CAP_KILL","CAP_SETUID","CAP_SETGID"], "effective": ["CAP_KILL","CAP_SETUID","CAP_SETGID"],
                      "permitted": ["CAP_KILL","CAP_SETUID","CAP_SETGID"] },
    "noNewPrivileges": true
  },
  "root": { "path": "/hull/rootfs", "readonly": false },
  "hostname": "vmctr",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "mode=755", "size=65536k" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] }
  ],
  "linux": {
    "cgroupsPath": "/hullctr/ID",
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" } ]
  }
}
EOF
    jq --arg id "$1" ".linux.cgroupsPath = \"/hullctr/\" + \$id | $2" $W/$1/config.json >$W/$1/c.json &&
        mv $W/$1/c.json $W/$1/config.json
}

# Nothing of any container left: state, VMM and monitor processes, images, cgroups.
nothing_left() {
    sleep 0.3
    left="state:$(ls $ROOT | wc -l) procs:$(vm_live_procs) images:$(ls $HULL_ROOT/vm/run 2>/dev/null | wc -l)"
    left="$left cgroups:$(ls -d /sys/fs/cgroup/hullctr/*/ 2>/dev/null | wc -l)"
    is "$left" "state:0 procs:0 images:0 cgroups:0" "$1: nothing left behind"
}

# ---- 0. errors before any VM -------------------------------------------------------------
bundle err '.process.args = ["/bin/true"]'
if [ ! -e /dev/kvm ]; then
    out=$(hull --vm run -b $W/err e0 2>&1 </dev/null)
    rc=$?
    nok "$rc" "no /dev/kvm: hull --vm run fails (exit $rc)"
    like "$out" "^hull: no /dev/kvm: " "and says so: $out"
    nothing_left "no /dev/kvm"
fi
load_kvm
[ -c /dev/kvm ]; ok $? "kvm_amd loaded: /dev/kvm"
[ -c /dev/kvm ] || { echo "1..$N"; exit 1; }
# hullctr_debug=1 (nest-lib.sh): first one bare boot of the guest, its kernel console shown
if [ -n "${hullctr_debug:-}" ]; then
    timeout -s KILL 200 $H vmm --kernel $HULL_VM_KERNEL --initrd $HULL_VM_INITRD --serial --timeout 150 --mem 256M \
        --cmdline "console=ttyS0 reboot=k panic=-1 nokaslr tsc=reliable no_timer_check i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0 init_on_alloc=0 hull.poweroff=reboot" \
        --port hull.ctl --port hull.stdin --port hull.stdout --port hull.stderr </dev/null >/dev/console 2>&1
    echo "bare boot of the guest: exit $?" >/dev/console
fi

out=$(HULL_VM_KERNEL=/nonexistent/vmlinuz hull --vm run -b $W/err e1 2>&1 </dev/null)
rc=$?
nok "$rc" "no guest kernel: fails (exit $rc)"
like "$out" "^hull: no guest kernel: HULL_VM_KERNEL=/nonexistent/vmlinuz: No such file" "and says so: $out"
nothing_left "no guest kernel"

t0=$(now_ms)
out=$(HULL_VM_BOOT_TIMEOUT=1 hull --vm run -b $W/err e2 2>&1 </dev/null)
rc=$?
nok "$rc" "a guest that cannot boot in time (HULL_VM_BOOT_TIMEOUT=1): fails (exit $rc, $(($(now_ms) - t0)) ms)"
like "$out" "^hull: the guest did not start its agent within 1 s" "and says so: $out"
nothing_left "boot timeout"

# ---- 1. hull --vm run: output, guest kernel, id/pwd/env, stdin, exit 3 --------------------
bundle one '.process.args = ["/bin/sh", "-c", "echo hello from the guest; echo cmdline: $(cat /proc/cmdline); echo uptime: $(cut -d. -f1 /proc/uptime); id; pwd; echo FOO=$FOO; echo host: $(hostname); read line; echo stdin: $line; exit 3"]
    | .process.user = {uid: 1000, gid: 1000, additionalGids: [10]} | .process.cwd = "/tmp"
    | .process.env += ["FOO=bar baz"]'
t0=$(now_ms)
printf 'piped through the VM\n' >$W/in1
hull --vm run -b $W/one c1 <$W/in1 >$W/one.out 2>$W/one.err
rc=$?
MS_ONE=$(($(now_ms) - t0))
diag "hull --vm run (boot + run + power-off): $MS_ONE ms; stderr: $(head -c 400 $W/one.err | tr '\n' '|')"
is "$rc" 3 "hull --vm run: the container's exit code 3"
is "$(head -n 1 $W/one.out)" "hello from the guest" "its output arrives"
gcmd=$(sed -n 's/^cmdline: //p' $W/one.out)
like "$gcmd" "hull.poweroff=reboot" "/proc/cmdline inside is the guest kernel's ($gcmd)"
case "$(cat /proc/cmdline)" in *hull.poweroff*) r=1 ;; *) r=0 ;; esac
ok $r "not L1's (a different kernel instance, same build $(uname -r))"
up=$(sed -n 's/^uptime: //p' $W/one.out)
l1up=$(cut -d. -f1 /proc/uptime)
[ -n "$up" ] && [ "$up" -lt "$l1up" ]; ok $? "the guest booted just now (uptime $up s, L1 $l1up s)"
is "$(grep '^uid=' $W/one.out)" "uid=1000 gid=1000 groups=10" "process.user applied (id)"
is "$(sed -n 4,20p $W/one.out | grep -x /tmp)" "/tmp" "process.cwd applied (pwd)"
is "$(grep '^FOO=' $W/one.out)" "FOO=bar baz" "process.env applied"
is "$(grep '^host: ' $W/one.out)" "host: vmctr" "hostname applied"
is "$(grep '^stdin: ' $W/one.out)" "stdin: piped through the VM" "stdin piped into the guest"
nothing_left "run"

# ---- 2. exit 0 and 10 MB of output, intact -------------------------------------------------
bundle big '.process.args = ["/bin/sh", "-c", "head -c 10485760 /dev/urandom >/tmp/big; md5sum </tmp/big | cut -d\" \" -f1 >&2; cat /tmp/big"]'
hull --vm run -b $W/big c2 </dev/null >$W/big.out 2>$W/big.err
rc=$?
is "$rc" 0 "exit code 0"
is "$(stat -c %s $W/big.out)" 10485760 "10 MB of output arrive"
is "$(md5sum <$W/big.out | cut -d' ' -f1)" "$(tail -n 1 $W/big.err)" "intact (md5 in the guest = md5 in L1)"
rm -f $W/big.out
nothing_left "10 MB"

# ---- 3. a running VM container: exec, ps, kill -> 137 ---------------------------------------
bundle svc '.process.args = ["/bin/sh", "-c", "echo up >/tmp/up; exec sleep 600"]'
hull --vm run -b $W/svc c3 </dev/null >$W/svc.out 2>$W/svc.err &
RUNPID=$!
for _ in $(seq 600); do [ "$(hull state c3 2>/dev/null | jq -r .status)" = running ] && break; sleep 0.5; done
is "$(hull state c3 | jq -r .status)" running "hull --vm run in the background: state says running"
vpid=$(hull state c3 | jq -r .pid)
is "$(cat /proc/$vpid/comm 2>/dev/null)" hull-vmm "the container's pid is the VMM process"
out=$(hull exec c3 /bin/sh -c 'cat /tmp/up; echo exec-in-vm; id -u; exit 4' 2>&1)
rc=$?
is "$out" "$(printf 'up\nexec-in-vm\n0')" "exec runs a second process in the same VM (sees the first one's /tmp)"
is "$rc" 4 "exec's exit code comes back (4)"
out=$(echo 'via exec stdin' | hull exec --user 1000:1000 c3 /bin/sh -c 'read l; echo "$l as $(id -u)"')
is "$out" "via exec stdin as 1000" "exec: stdin and --user"
pids=$(hull ps --format json c3)
like "$pids" '^\[[0-9]+(,[0-9]+)*\]$' "ps lists guest pids ($pids)"
hull kill c3 KILL
ok $? "hull kill c3 KILL"
wait $RUNPID
is "$?" 137 "the foreground hull --vm run exits 137 after the kill"
nothing_left "exec/kill"

# ---- 4. create/start/state/kill/delete with the annotation ----------------------------------
bundle life '.process.args = ["/bin/sh", "-c", "echo kept >/written-by-ctr; rm /bin/true; trap \"echo got TERM; exit 0\" TERM; while :; do sleep 0.2; done"]
    | .annotations = {"run.oci.handler": "vm"} | .linux.resources = {memory: {limit: 201326592}}'
t0=$(now_ms)
hull create -b $W/life c4 </dev/null >$W/life.out 2>$W/life.err
rc=$?
MS_CREATE=$(($(now_ms) - t0))
is "$rc" 0 "create (run.oci.handler=vm, no --vm): exit 0 after ${MS_CREATE} ms (VM booted, agent waiting)"
[ $rc = 0 ] || diag "$(cat $W/life.err)"
is "$(hull state c4 | jq -r .status)" created "state: created"
vpid=$(hull state c4 | jq -r .pid)
is "$(cat /proc/$vpid/comm 2>/dev/null)" hull-vmm "state's pid is the VMM"
like "$(cat /proc/$vpid/cgroup 2>/dev/null)" "^0::/hullctr/life$" "the VMM is in the container's cgroup (/hullctr/life)"
like "$(tr '\0' ' ' </proc/$vpid/cmdline)" "--mem 192M " "guest RAM = memory.limit (192M)"
is "$(cat /sys/fs/cgroup/hullctr/life/memory.max 2>/dev/null)" $(((192 + 64 + 3) * 1048576)) \
    "the cgroup's limit = guest RAM + the VMM's overhead"
t0=$(now_ms)
hull start c4
is "$?" 0 "start ($(($(now_ms) - t0)) ms)"
is "$(hull state c4 | jq -r .status)" running "state: running"
hull kill c4 TERM
ok $? "kill TERM"
for _ in $(seq 100); do [ "$(hull state c4 | jq -r .status)" = stopped ] && break; sleep 0.2; done
is "$(hull state c4 | jq -r .status)" stopped "state: stopped"
is "$(cat $W/life.out)" "got TERM" "the signal reached the process in the guest"
# Where the container's writes are (vm/README.md): the overlay's upper/ inside upper.ext4 in the
# container's image directory, until delete; the bundle's rootfs is untouched. Read with debugfs
# (e2fsprogs, user space): a host never mounts an image a guest wrote.
img=$(cat $ROOT/c4/vm.images 2>/dev/null)/upper.ext4
is "$(debugfs -R 'cat /upper/written-by-ctr' $img 2>/dev/null)" kept "a file the container wrote: upper/written-by-ctr in its upper.ext4"
like "$(debugfs -R 'stat /upper/bin/true' $img 2>/dev/null | head -n 1)" "Type: character special" \
    "a file it removed: a whiteout (0/0 character device) in upper/"
[ ! -e /hull/rootfs/written-by-ctr ] && [ -e /hull/rootfs/bin/true ]; ok $? "the bundle's rootfs itself is untouched"
hull delete c4
is "$?" 0 "delete"
hull state c4 >/dev/null 2>&1
nok $? "state after delete: gone"
nothing_left "lifecycle"

# ---- 5. two VM containers at once ------------------------------------------------------------
bundle twoa '.process.args = ["/bin/sh", "-c", "sleep 2; echo I am A; exit 11"]'
bundle twob '.process.args = ["/bin/sh", "-c", "sleep 2; echo I am B; exit 12"]'
t0=$(now_ms)
hull --vm run -b $W/twoa c5a </dev/null >$W/a.out 2>$W/a.err &
PA=$!
hull --vm run -b $W/twob c5b </dev/null >$W/b.out 2>$W/b.err &
PB=$!
wait $PA
RA=$?
wait $PB
RB=$?
diag "two VMs at once: $(($(now_ms) - t0)) ms"
is "$RA:$(cat $W/a.out)" "11:I am A" "VM A: its output and exit code"
is "$RB:$(cat $W/b.out)" "12:I am B" "VM B: its output and exit code"
nothing_left "two at once"

# ---- 5b. hull run IMAGE --vm -d: the image's cached root, logs, rm -------------------------------
hull image import /hull/busybox-oci --name busybox:latest >/dev/null 2>$W/imp.err
is "$?" 0 "hull image import of the built-in busybox image" || diag "$(cat $W/imp.err)"
cid=$(hull run -d --vm busybox sh -c 'echo "from the image, in $(uname -r)"; exec sleep 600' 2>$W/img.err)
is "$?" 0 "hull run -d --vm IMAGE" || diag "$(cat $W/img.err)"
for _ in $(seq 600); do [ -n "$cid" ] || break; hull logs "$cid" 2>/dev/null | grep -q "from the image" && break; sleep 0.5; done
like "$(hull logs "$cid" 2>&1)" "from the image, in $(uname -r)" "hull logs: the guest process's output"
vmm=$(for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = hull-vmm ] && echo ${p#/proc/}; done | head -n 1)
# (hull-vmm splits its --disk argument in place: ",ro" reads " ro" in its /proc/PID/cmdline)
like "$(tr '\0' ' ' </proc/$vmm/cmdline 2>/dev/null)" "--disk $HULL_ROOT/vm/images/rootfs-[0-9a-f]{64}\.(erofs|ext4)[, ]ro " \
    "the guest's root disk is the image's cached root, read-only"
is "$(ls $HULL_ROOT/vm/images | grep -c '^rootfs-')" 1 "one cached root for the image"
hull rm -f "$cid" >/dev/null 2>&1
is "$?" 0 "hull rm -f"
hull rmi busybox:latest >/dev/null 2>&1
is "$(ls $HULL_ROOT/vm/images 2>/dev/null | grep -c '^rootfs-')" 0 "hull rmi drops the cached root"
nothing_left "run IMAGE --vm"

# ---- 6. timing: hull --vm run true vs the bare L2 boot ----------------------------------------
bundle tr '.process.args = ["/bin/true"]'
t0=$(now_ms)
hull --vm run -b $W/tr c6 </dev/null
rc=$?
MS_TRUE=$(($(now_ms) - t0))
is "$rc" 0 "hull --vm run true"
diag "next: create/start/delete of true, then a bare L2 boot (about a minute or two)"
# the same, verb by verb
t0=$(now_ms)
hull --vm create -b $W/tr c7 </dev/null
rc=$?
t1=$(now_ms)
hull start c7
t2=$(now_ms)
for _ in $(seq 600); do [ "$(hull state c7 | jq -r .status)" = stopped ] && break; sleep 0.05; done
t3=$(now_ms)
hull delete c7
t4=$(now_ms)
is "$rc:$(hull state c7 2>&1 | head -c 40)" "0:hull: container \"c7\" does not exist" "create/start/delete of true"
diag "TIMING create $((t1 - t0)) ms (images + boot to the agent's HELLO), start $((t2 - t1)) ms," \
    "exit + power-off $((t3 - t2)) ms, delete $((t4 - t3)) ms"
echo "@@HULLVM INFO nestctr_create_ms $((t1 - t0))"
# what create spends on the disk images (the same tools hull runs), the rest is the boot
t0=$(now_ms)
mkfs.erofs --quiet --preserve-mtime $W/t.erofs /hull/rootfs >/dev/null 2>&1
t1=$(now_ms)
truncate -s 128M $W/t.ext4 && mkfs.ext4 -q -F -b 4096 -E nodiscard $W/t.ext4 >/dev/null 2>&1
t2=$(now_ms)
rm -f $W/t.erofs $W/t.ext4
diag "TIMING of create: rootfs erofs image $((t1 - t0)) ms, empty ext4 upper $((t2 - t1)) ms"
t0=$(now_ms)
timeout -s KILL 300 $H vmm --kernel /hull/l2/vmlinux --initrd /hull/l2/l2.cpio --mem 256M \
    --cmdline "console=ttyS0 quiet init_on_alloc=0 reboot=k panic=-1 nokaslr tsc=reliable no_timer_check i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0 hullnest=info" \
    --port hull.out,out=$W/l2.out </dev/null >/dev/null 2>&1
MS_L2=$(($(now_ms) - t0))
diag "TIMING hull --vm run true: $MS_TRUE ms; bare L2 boot + power-off (hull vmm, tests/vm/l2-init.sh): $MS_L2 ms"
echo "@@HULLVM INFO nestctr_run_true_ms $MS_TRUE"
echo "@@HULLVM INFO nestctr_bare_l2_ms $MS_L2"
nothing_left "timing"

echo "1..$N"
[ $FAILED = 0 ]
