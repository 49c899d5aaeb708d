#!/bin/bash
# tier: fast (no qemu, no client daemons; hull-vmm boots Debian's kernel on /dev/kvm), ~31 s
# 28-vm-host: microVM containers on this host, without a guest kernel.
#
# 1. Selection and the honest refusal: `hull --vm run`, `hull run --vm`, `hull --vm create`, the
#    annotation run.oci.handler=vm, and the binary called hull-vm all pick the microVM executor;
#    on a host whose /dev/kvm cannot run a kernel (kvm_pvm, or none at all) each fails with
#    exactly the host check's message, exit 1, and leaves nothing: no state, image directory,
#    cgroup or process.
# 2. The other errors (with HULL_VM_ALLOW_SLOW_KVM=1 to get past the check): no guest kernel, a
#    kernel whose modules are missing, a guest that does not boot in time — the last one boots
#    Debian's kernel on this slow /dev/kvm with the initramfs hull builds itself.
# 3. Everything above the VM, for real: HULL_VM_TEST_AGENT=1 makes hull-vmm run the guest agent
#    in its host test mode over the same channels instead of booting a VM, so the executor, the
#    monitor, the VMM's link (signals in, exit status out) and the exec proxy are exercised by
#    the same verbs: run (output, 0/3/137, stdin, 10 MB), create/start/state/kill/delete with
#    the annotation, exec/ps, signal forwarding, two containers at once.
# The real VM flows: 27-vm-containers.t (nested L1/L2).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
. "$(dirname "$0")/../lib/vm-helpers.sh"

is_runtime hull || skip_all "hull's microVM mode"
BUILD=$(dirname "$HULL")
[ -x "$BUILD/hull-vmm" ] && [ -x "$BUILD/hull-agent" ] || skip_all "needs $BUILD/hull-vmm and $BUILD/hull-agent (make)"
export HULL_ROOT=$TMP/data   # images, initramfs and kernel caches of this test only

nothing_left() { # DESC ID
    local left="state:$(ls "$STATE" | wc -l) images:$(ls "$HULL_ROOT/vm/run" 2>/dev/null | wc -l)"
    left="$left cgroups:$(cgroup_dirs "$2" | wc -l) procs:$(vm_live_procs "HULL_ROOT=$HULL_ROOT")"
    is "$left" "state:0 images:0 cgroups:0 procs:0" "$1: nothing left behind"
}

# ---- 1. selection and the refusal -----------------------------------------------------------
mkbundle sel /bin/echo should not run
if [ ! -e /dev/kvm ]; then
    WANT="^hull: no /dev/kvm: "
elif grep -q '^kvm_pvm ' /proc/modules 2>/dev/null || [ -d /sys/module/kvm_pvm ]; then
    WANT="^hull: /dev/kvm is the kvm_pvm software backend \(no VT-x/AMD-V\): guest kernel code is emulated instruction by instruction and a stock Linux kernel cannot boot on it; use a host with hardware virtualisation \(or override to try anyway\)$"
else
    WANT=
fi
if [ -n "$WANT" ]; then
    ln -sf "$HULL" "$TMP/bin/hull-vm"
    for form in "--vm run" "run --vm" "--vm create" "annotation run" "hull-vm run"; do
        new_id sel
        cfg_set 'del(.annotations)'
        case $form in
        "--vm run") rt --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e" ;;
        "run --vm") rt run --vm -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e" ;;
        "--vm create") rt --vm create -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e" ;;
        "annotation run")
            cfg_set '.annotations = {"run.oci.handler": "vm"}'
            rt run -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e" ;;
        "hull-vm run") timeout 60 "$TMP/bin/hull-vm" --root "$STATE" run -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e" ;;
        esac
        RC=$?
        is "$RC" 1 "$form: exit 1"
        like "$(cat "$TMP/e")" "$WANT" "$form: the host check's message, verbatim"
        is "$(cat "$TMP/o")" "" "$form: the container never ran"
        nothing_left "$form" "$ID"
    done
    cfg_set 'del(.annotations)'
    new_id sel
    rt run -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e"
    is "$?:$(cat "$TMP/o")" "0:should not run" "without --vm/annotation: the shared-kernel executor runs it"
else
    skip "this host's /dev/kvm can run a kernel: no refusal to test" 21
fi

# ---- 2. errors past the host check -----------------------------------------------------------
export HULL_VM_ALLOW_SLOW_KVM=1
mkbundle err /bin/true
if [ -e /dev/kvm ]; then
    new_id err
    HULL_VM_KERNEL=$TMP/none/vmlinuz rt --vm run -b "$BUNDLE" "$ID" </dev/null 2>"$TMP/e"
    is "$?" 1 "no guest kernel: exit 1"
    like "$(cat "$TMP/e")" "^hull: no guest kernel: HULL_VM_KERNEL=$TMP/none/vmlinuz: No such file or directory$" \
        "no guest kernel: says so"
    nothing_left "no guest kernel" "$ID"

    # the settings file (what podman's conmon, which drops the environment, leaves hull)
    printf '# test\nHULL_VM_KERNEL=%s\n' "$TMP/none/from-conf" >"$TMP/vm.conf"
    new_id err
    HULL_VM_CONFIG=$TMP/vm.conf rt --vm run -b "$BUNDLE" "$ID" </dev/null 2>"$TMP/e"
    is "$?:$(cat "$TMP/e")" "1:hull: no guest kernel: HULL_VM_KERNEL=$TMP/none/from-conf: No such file or directory" \
        "the guest kernel from the settings file (HULL_VM_CONFIG)"
    printf 'HULL_VM_KERNL=/boot/x\n' >"$TMP/vm.conf"
    HULL_VM_CONFIG=$TMP/vm.conf rt --vm run -b "$BUNDLE" "$ID" </dev/null 2>"$TMP/e"
    is "$?" 1 "a misspelt setting in the file: exit 1"
    like "$(cat "$TMP/e")" "^hull: $TMP/vm.conf:1: unknown setting \"HULL_VM_KERNL\"" "... naming the file and line"
    nothing_left "settings file" "$ID"

    # A bzImage-shaped file whose release has no /lib/modules: the setup header's "HdrS"
    # magic at 0x202, and at 0x20e the offset (minus 0x200) of its version string.
    FAKE=$TMP/vmlinuz-fake
    head -c 4096 /dev/zero >"$FAKE"
    printf 'HdrS' | dd of="$FAKE" bs=1 seek=$((0x202)) conv=notrunc 2>/dev/null
    printf '\x00\x03' | dd of="$FAKE" bs=1 seek=$((0x20e)) conv=notrunc 2>/dev/null
    printf '9.9.9-hulltest-nomods (nobody@nowhere) #1' | dd of="$FAKE" bs=1 seek=$((0x500)) conv=notrunc 2>/dev/null
    new_id err
    HULL_VM_KERNEL=$FAKE rt --vm run -b "$BUNDLE" "$ID" </dev/null 2>"$TMP/e"
    is "$?" 1 "a kernel without modules: exit 1"
    like "$(cat "$TMP/e")" "^hull: guest initramfs for kernel 9.9.9-hulltest-nomods \(its modules come from /lib/modules/9.9.9-hulltest-nomods\): .*modules\.dep" \
        "a kernel without modules: says which and where ($(head -c 300 "$TMP/e"))"
    nothing_left "missing modules" "$ID"

    BZ=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
    REL=${BZ#/boot/vmlinuz-}
    if [ -n "$BZ" ] && [ -f "/lib/modules/$REL/modules.dep" ] && command -v mkfs.ext4 >/dev/null &&
        file "$BUILD/hull-agent" | grep -q 'statically linked'; then
        new_id err
        t0=$(date +%s%N)
        HULL_VM_BOOT_TIMEOUT=2 rt --vm run -b "$BUNDLE" "$ID" </dev/null 2>"$TMP/e"
        RC=$?
        ms=$((($(date +%s%N) - t0) / 1000000))
        is "$RC" 1 "a guest that does not boot in time: exit 1 (${ms} ms: initramfs and vmlinux built, then 2 s)"
        like "$(cat "$TMP/e")" "^hull: the guest did not start its agent within 2 s \(HULL_VM_BOOT_TIMEOUT\)" \
            "boot timeout: says so ($(head -c 300 "$TMP/e"))"
        nothing_left "boot timeout" "$ID"
        ls "$HULL_ROOT"/vm/initramfs/initramfs-"$REL"-*.cpio >/dev/null 2>&1
        ok $? "hull built and cached the initramfs for $REL itself (kept: a cache)"
        ls "$HULL_ROOT"/vm/kernels/vmlinux-* >/dev/null 2>&1
        ok $? "and the PVH vmlinux of $BZ"
    else
        skip "no /boot/vmlinuz-* with its modules, no mkfs.ext4, or a dynamic hull-agent (sanitizer build)" 5
    fi
else
    skip "no /dev/kvm" 15
fi
unset HULL_VM_ALLOW_SLOW_KVM

# ---- 3. the host side for real, the agent in test mode -------------------------------------
export HULL_VM_TEST_AGENT=1
mkbundle vm
set_args /bin/sh -c 'echo hello; id -u; pwd; echo "FOO=$FOO"; read l; echo "stdin: $l"; exit 3'
cfg_set '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/tmp" | .process.env += ["FOO=bar"]'
CTR_STDIN=$TMP/in
printf 'through the monitor\n' >"$CTR_STDIN"
ctr_run --vm
unset CTR_STDIN
is "$RC" 3 "run --vm: the process's exit code 3"
is "$OUT" "$(printf 'hello\n1000\n/tmp\nFOO=bar\nstdin: through the monitor')" "output, user, cwd, env and stdin"
is "$ERR" "" "nothing on stderr"
nothing_left "run" "$ID"

set_args /bin/sh -c 'head -c 10485760 /dev/urandom >/tmp/big; md5sum </tmp/big | cut -d" " -f1 >&2; cat /tmp/big'
new_id big
rt --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/big.out" 2>"$TMP/big.err"
is "$?" 0 "exit 0"
is "$(stat -c %s "$TMP/big.out")" 10485760 "10 MB through the stdout relay"
is "$(md5sum <"$TMP/big.out" | cut -d' ' -f1)" "$(cat "$TMP/big.err")" "intact"
rm -f "$TMP/big.out"

# kill from another verb -> 137; exec and ps meanwhile
set_args /bin/sh -c 'echo ready >/tmp/ready; exec sleep 300'
new_id k
rt --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/k.out" 2>"$TMP/k.err" &
RUNPID=$!
wait_status "$ID" running 20
is "$(ctr_status "$ID")" running "run in the background: running"
VPID=$(ctr_pid "$ID")
is "$(cat "/proc/$VPID/comm" 2>/dev/null)" hull-vmm "the container's pid is the VMM"
like "$(cat "/proc/$VPID/cgroup")" "hulltest/$ID" "in the container's cgroup"
for _ in $(seq 50); do rt exec "$ID" /bin/cat /tmp/ready >/dev/null 2>&1 && break; sleep 0.1; done
out=$(rt exec "$ID" /bin/sh -c 'cat /tmp/ready; echo err >&2; exit 5' 2>"$TMP/x.err")
is "$?:$out:$(cat "$TMP/x.err")" "5:ready:err" "exec: output, stderr and exit code 5"
out=$(printf 'abc\n' | rt exec --user 1000:1000 --env X=y "$ID" /bin/sh -c 'read l; echo "$l $(id -u) $X"')
is "$out" "abc 1000 y" "exec: stdin, --user, --env"
out=$(rt exec "$ID" /nonexistent 2>&1)
RC=$?
nok "$RC" "exec of a missing binary fails (exit $RC)"
like "$out" "nonexistent" "and names it: $out"
if command -v script >/dev/null; then
    script -qec "stty cols 99 rows 22; $HULL --root $STATE exec -t $ID /bin/sh -c 'tty; stty size; exit 6'" /dev/null </dev/null >"$TMP/t.out"
    RC=$?
    out=$(tr -d '\r' <"$TMP/t.out")
    like "$out" "^/dev/pts/[0-9]+" "exec -t: the process has a terminal in the guest"
    like "$out" "22 99" "the caller's terminal size reached it"
    # script(1) sends ^D at the end of its stdin, maybe before hull's terminal is raw: it must
    # arrive as ^D, not as the NUL a bare switch to raw makes of a queued EOF (echoed "^@")
    is "$(tr -dc '\000' <"$TMP/t.out" | wc -c):$(grep -ac '\^@' "$TMP/t.out")" "0:0" \
        "exec -t: no NUL byte, and no ^@ echoed by the guest's terminal"
else
    skip "no script(1) for a terminal" 3
fi
pids=$(rt ps --format json "$ID")
like "$pids" '^\[[0-9]+\]$' "ps: the guest's pids ($pids)"
rt exec "$ID" /bin/sh -c 'sleep 30' &
EPID=$!
sleep 0.5
n=$(rt ps --format json "$ID" | jq length)
is "$n" 2 "ps sees the exec'd process too"
rt kill "$ID" KILL
ok $? "kill KILL"
wait "$RUNPID"
is "$?" 137 "the foreground run exits 137"
wait "$EPID"
is "$?" 137 "and the exec'd process's stand-in with it (the VM is gone)"
nothing_left "kill" "$ID"

# signals travel: hull run -> VMM -> monitor -> agent -> process ("$HULL" directly: `timeout`
# would take the signal itself)
set_args /bin/sh -c 'trap "echo caught TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
new_id sig
"$HULL" --root "$STATE" --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/s.out" 2>&1 &
RUNPID=$!
for _ in $(seq 100); do grep -q ready "$TMP/s.out" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$RUNPID"
wait "$RUNPID"
is "$?" 7 "SIGTERM to hull run reaches the process's trap (exit 7)"
is "$(cat "$TMP/s.out")" "$(printf 'ready\ncaught TERM')" "its output"
# SIGINT to the VMM pid (what a shim does), even though a background job inherits it ignored
set_args /bin/sh -c 'trap "echo caught INT; exit 9" INT; echo ready; while :; do sleep 0.1; done'
new_id sig
"$HULL" --root "$STATE" --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/s.out" 2>&1 &
RUNPID=$!
for _ in $(seq 100); do grep -q ready "$TMP/s.out" 2>/dev/null && break; sleep 0.1; done
kill -INT "$(ctr_pid "$ID")"
wait "$RUNPID"
is "$?" 9 "SIGINT to the VMM pid reaches the process's trap (exit 9)"
nothing_left "signals" "$ID"

# the lifecycle verbs, selected by the annotation alone
set_args /bin/sh -c 'trap "echo got TERM; exit 0" TERM; while :; do sleep 0.1; done'
cfg_set '.annotations = {"run.oci.handler": "vm"} | .linux.resources.memory = {limit: 134217728}'
ctr_create
is "$RC" 0 "create (annotation): exit 0 ($ERR)"
is "$(ctr_status "$ID")" created "state: created"
ok "$(test -e "$STATE/$ID/vm.sock"; echo $?)" "the monitor's socket is in the state dir"
VPID=$(ctr_pid "$ID")
is "$(cat "/proc/$VPID/comm" 2>/dev/null)" hull-vmm "state's pid: the VMM"
mem=$(cat "/sys/fs/cgroup/memory/hulltest/$ID/memory.limit_in_bytes" "/sys/fs/cgroup/hulltest/$ID/memory.max" 2>/dev/null | head -n 1)
is "$mem" $(((128 + 64 + 2) * 1048576)) "the cgroup's memory limit: guest RAM + the VMM's overhead"
rt start "$ID"
is "$?" 0 "start"
is "$(ctr_status "$ID")" running "state: running"
rt start "$ID" 2>"$TMP/e"
nok $? "start again: refused ($(cat "$TMP/e"))"
rt kill "$ID" TERM
wait_status "$ID" stopped 10
is "$(ctr_status "$ID")" stopped "kill TERM: stopped"
is "$(cat "$TMP/$ID.out")" "got TERM" "the process trapped it (its stdout is create's)"
rt delete "$ID"
is "$?" 0 "delete"
nothing_left "lifecycle" "$ID"

ctr_create
rt delete --force "$ID"
is "$?" 0 "delete --force of a created (never started) VM container"
nothing_left "delete --force" "$ID"

# two at once
set_args /bin/sh -c 'sleep 1; echo "I am $NAME"; exit $CODE'
cfg_set 'del(.annotations) | del(.linux.resources.memory)'
cp -a "$BUNDLE" "$TMP/vm2"
cfg_set '.process.env += ["NAME=a", "CODE=11"]'
CFG=$TMP/vm2/config.json cfg_set '.process.env += ["NAME=b", "CODE=12"]'
new_id two; A=$ID
CFG=$TMP/vm2/config.json new_id two; B=$ID
rt --vm run -b "$BUNDLE" "$A" </dev/null >"$TMP/a.out" 2>&1 &
PA=$!
rt --vm run -b "$TMP/vm2" "$B" </dev/null >"$TMP/b.out" 2>&1 &
PB=$!
wait "$PA"; RA=$?
wait "$PB"; RB=$?
is "$RA:$(cat "$TMP/a.out")" "11:I am a" "two at once: the first"
is "$RB:$(cat "$TMP/b.out")" "12:I am b" "two at once: the second"
nothing_left "two at once" "$B"

# A hostile guest: fake agents (HULL_AGENT) that speak garbage on the control port. A malformed
# frame ends that VM with a clear error and nothing left behind; hull itself never dies of it.
HELLO='\x48\x4c\x41\x47\x01\x01\x00\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00x\x01\x00y'
fake_agent() { # NAME BODY: a script the VMM runs as "AGENT --test-fds 3,4,5,6"
    printf '#!/bin/bash\n%s\n' "$2" >"$TMP/bin/$1"
    chmod +x "$TMP/bin/$1"
}
fake_agent bad-magic "printf 'NOPE this is not a frame at all' >&3; sleep 30"
fake_agent bad-size "printf '\x48\x4c\x41\x47\x01\x01\x00\x00\xff\xff\xff\x7f\x00\x00\x00\x00' >&3; sleep 30"
fake_agent bad-dir "printf '\x48\x4c\x41\x47\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >&3; sleep 30"
fake_agent eof-hello "printf '\x48\x4c\x41\x47\x01' >&3; exit 0"
fake_agent late-garbage "printf '$HELLO' >&3; head -c 16 <&3 >/dev/null; head -c 4096 /dev/urandom >&3; sleep 30"
set_args /bin/echo never
cfg_set '.process.terminal = false'
for a in bad-magic bad-size bad-dir eof-hello; do
    new_id fz
    HULL_AGENT=$TMP/bin/$a rt --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e"
    RC=$?
    is "$RC" 1 "guest sends $a before HELLO: exit 1"
    like "$(cat "$TMP/e")" "^hull: (malformed frame from the guest agent|the guest agent's control stream ended|the VM ended before)" \
        "... with the reason ($(head -c 200 "$TMP/e"))"
    nothing_left "$a" "$ID"
done
for i in 1 2 3 4 5; do
    new_id fz
    HULL_AGENT=$TMP/bin/late-garbage rt --vm run -b "$BUNDLE" "$ID" </dev/null >"$TMP/o" 2>"$TMP/e"
    RC=$?
    is "$RC:$(cat "$TMP/o")" "1:" "random bytes after HELLO, round $i: run fails, nothing ran"
    like "$(cat "$TMP/e")" "^hull: start: (malformed frame from the guest agent|the VM ended|the VM monitor closed)" \
        "... with the reason ($(head -c 200 "$TMP/e"))"
done
nothing_left "random bytes" "$ID"

# process.terminal: a host pty whose slave the monitor relays to the guest's pty
set_args /bin/sh -c 'tty; stty size; read l; echo "read: $l"; exit 5'
cfg_set '.process.terminal = true'
new_id tty
if command -v script >/dev/null; then
    out=$( (sleep 1; echo typed) | script -qec "stty cols 123 rows 45; $HULL --root $STATE --vm run -b $BUNDLE $ID; echo rc=\$?" /dev/null | tr -d '\r')
    like "$out" "^/dev/pts/[0-9]+" "run with process.terminal: a terminal in the guest"
    like "$out" "45 123" "of the caller's size"
    like "$out" "read: typed" "typed input arrives"
    like "$out" "rc=5" "exit code 5"
else
    skip "no script(1) for a terminal" 4
fi
rt --vm create -b "$BUNDLE" "$ID-x" </dev/null 2>"$TMP/e"
is "$?" 1 "create with process.terminal and no --console-socket: refused"
like "$(cat "$TMP/e")" "no --console-socket" "as in the shared-kernel mode ($(cat "$TMP/e"))"
nothing_left "terminal" "$ID"

# hull run IMAGE --vm: the guest's root is the image's own, built once into <data>/vm/images/ and
# shared by its containers (read-only disk); hull rmi drops it with the image
IMGDIR=$TMP/bbimg
# busybox-static is a prerequisite (fixtures.sh): building and importing the image are hull's own
# code, and their failure a failure, not a skip
if ! "$TESTS_LIB/../../image/make-busybox-image.sh" "$IMGDIR" >"$TMP/bbimg.log" 2>&1; then
    fail "image/make-busybox-image.sh builds the busybox image: $(head -c 200 "$TMP/bbimg.log")"
    skip "no busybox image (reported above)" 5
elif ! "$HULL" image import "$IMGDIR" --name vmimg:1 >"$TMP/bbimg.log" 2>&1 ||
    ! "$HULL" image import "$IMGDIR" --name vmimg:2 >>"$TMP/bbimg.log" 2>&1; then
    fail "hull image import of the busybox image as vmimg:1 and vmimg:2: $(head -c 200 "$TMP/bbimg.log")"
    skip "no imported image (reported above)" 5
else
    cache() { ls "$HULL_ROOT/vm/images" 2>/dev/null | grep -c '^rootfs-'; }
    out=$("$HULL" --root "$STATE" run --rm --vm vmimg:1 sh -c 'echo from the image; exit 6' 2>/dev/null </dev/null)
    is "$?:$out" "6:from the image" "run IMAGE --vm: output and exit code"
    is "$(cache)" 1 "... the image's root is cached in <data>/vm/images"
    ino=$(stat -c %i "$HULL_ROOT"/vm/images/rootfs-* 2>/dev/null)
    "$HULL" --root "$STATE" run --rm --vm vmimg:1 true </dev/null >/dev/null 2>&1
    is "$(cache):$(stat -c %i "$HULL_ROOT"/vm/images/rootfs-* 2>/dev/null)" "1:$ino" "... a second run uses it (the same file, not rebuilt)"
    "$HULL" rmi vmimg:1 >/dev/null 2>&1
    is "$(cache)" 1 "... hull rmi of one reference keeps it: vmimg:2 has the same layers"
    "$HULL" rmi vmimg:2 >/dev/null 2>&1
    is "$(cache)" 0 "... hull rmi of the last one drops it"
    is "$(ls "$STATE" | wc -l):$(vm_live_procs)" "0:0" "... nothing else left"
fi
done_testing
