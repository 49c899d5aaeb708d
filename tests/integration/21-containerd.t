#!/bin/bash
# tier: clients (starts containerd), ~10 s
# 21-containerd: containerd 1.6 (Debian's) drives hull as its runc binary,
# through ctr: the runc shim calls hull's create/start/state/kill/delete/exec/
# pause/resume/events exactly as it calls runc. containerd runs from a temp
# dir of this test (config, root, state, socket; no CRI) and is stopped by pid.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
. "$(dirname "$0")/../lib/vm-helpers.sh"
is_runtime hull || skip_all "drives hull through containerd (runtime is $RT_NAME)"
command -v containerd >/dev/null && command -v ctr >/dev/null || skip_all "containerd is not installed"

C=$TMP/ctrd
NS=hulltest-$TAG   # own namespace: the runc shim keeps state under /run/containerd/runc/<ns>
mkdir -p "$C"
# The legacy v1 runtime plugin is the one runtime whose binary containerd's own
# config names without CRI (the runtimes.<name>.options tables a RuntimeClass
# uses are read by the CRI plugin only): hull is configured there as well.
cat >"$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/sock"
[plugins."io.containerd.runtime.v1.linux"]
  runtime = "$HULL"
  runtime_root = "$C/v1root"
TOML
containerd --config "$C/config.toml" >"$C/log" 2>&1 &
CPID=$!
stop_containerd() {
    for t in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$t" >/dev/null 2>&1; done
    sleep 0.3
    for t in $(ctr containers ls -q 2>/dev/null); do
        ctr task delete -f "$t" >/dev/null 2>&1; ctr containers delete "$t" >/dev/null 2>&1
    done
    kill "$CPID" 2>/dev/null; wait "$CPID" 2>/dev/null
    # whatever the shim left in hull's state root for this namespace
    for id in $(ls "/run/containerd/runc/$NS" 2>/dev/null); do "$HULL" --root "/run/containerd/runc/$NS" delete -f "$id" >/dev/null 2>&1; done
    for id in $(ls "$C/v1root/$NS" 2>/dev/null); do "$HULL" --root "$C/v1root/$NS" delete -f "$id" >/dev/null 2>&1; done
    rmdir "/run/containerd/runc/$NS" 2>/dev/null
    pkill -f "containerd-shim.*$C" 2>/dev/null
    grep " $C/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
trap 'stop_containerd; _fixture_cleanup' EXIT
for i in $(seq 100); do [ -S "$C/sock" ] && break; sleep 0.05; done
[ -S "$C/sock" ] || bail_out "containerd did not start: $(tail -3 "$C/log")"
CTR=$(command -v ctr)
ctr() { timeout 60 "$CTR" -a "$C/sock" -n "$NS" "$@"; }
# SIGKILL a task and wait (5 s at most) until ctr says it stopped
kill_wait() {
    ctr task kill -s KILL "$1" >/dev/null 2>&1
    for i in $(seq 50); do ctr task ls 2>/dev/null | grep -q "^$1 .*STOPPED" && break; sleep 0.1; done
}

# the built-in image, exported by hull, imported by ctr
export HULL_ROOT=$TMP/data
"$TESTS_LIB/../../image/make-busybox-image.sh" "$TMP/bb" >/dev/null
"$HULL" image import "$TMP/bb" --name busybox:latest >/dev/null && "$HULL" image export busybox "$TMP/bb.tar"
ctr image import "$TMP/bb.tar" >/dev/null 2>&1
like "$(ctr images ls -q)" 'busybox:latest' "ctr image import of hull's export"

R=(--runc-binary "$HULL")
is "$(ctr run --rm "${R[@]}" busybox:latest c1 echo hello 2>&1)" hello "ctr run --rm with hull: output"
ctr run --rm "${R[@]}" busybox:latest c2 sh -c 'exit 7' >/dev/null 2>&1
is "$?" 7 "the exit code propagates"
is "$(printf 'piped\n' | ctr run --rm "${R[@]}" busybox:latest c3 sh -c 'read l; echo "got $l"' 2>&1)" "got piped" "stdin piped in"
like "$(ctr run --rm "${R[@]}" busybox:latest c4 grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status 2>&1)" 'CapBnd' "the container sees containerd's spec applied"

ctr run -d "${R[@]}" busybox:latest d1 sleep 300 >/dev/null 2>&1
is "$?" 0 "ctr run -d"
like "$(ctr task ls 2>&1)" 'd1 +[0-9]+ +RUNNING' "task ls: RUNNING"
pid=$(ctr task ls 2>/dev/null | awk '$1 == "d1" {print $2}')
is "$(ctr task exec --exec-id e1 d1 sh -c 'echo in-exec; exit 3' 2>&1)" in-exec "task exec: output"
ctr task exec --exec-id e2 d1 sh -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "task exec: exit code"
like "$(ctr task ps d1 2>&1)" "$pid" "task ps lists the init"
ctr task pause d1 >/dev/null 2>&1
like "$(ctr task ls 2>&1)" 'd1 +[0-9]+ +PAUSED' "task pause"
cg=$(awk -F: '$2 == "freezer" {print $3}' /proc/$pid/cgroup)
if [ -n "$cg" ]; then
    is "$(cat /sys/fs/cgroup/freezer$cg/freezer.state)" FROZEN "... the cgroup is frozen"
elif [ -e /sys/fs/cgroup/cgroup.controllers ]; then
    # cgroup2: the freeze is the container's cgroup.freeze
    cg2=$(awk -F: '$1 == "0" {print $3}' /proc/$pid/cgroup)
    is "$(cat /sys/fs/cgroup$cg2/cgroup.freeze 2>&1)" 1 "... the cgroup is frozen (cgroup.freeze)"
else
    fail "... the cgroup is frozen: the paused task is in no freezer cgroup"
fi
ctr task resume d1 >/dev/null 2>&1
like "$(ctr task ls 2>&1)" 'd1 +[0-9]+ +RUNNING' "task resume"
like "$(ctr task metrics d1 2>&1)" 'memory' "task metrics (hull events --stats)"
kill_wait d1
like "$(ctr task ls 2>&1)" 'd1 +[0-9]+ +STOPPED' "task kill: STOPPED"
ctr task delete d1 >/dev/null 2>&1
is "$?" 0 "task delete"
ctr containers delete d1 >/dev/null 2>&1
ok "$(kill -0 "$pid" 2>/dev/null; [ $? -ne 0 ]; echo $?)" "the container's process is gone"

# --- a terminal: ctr run -t, driven through script(1)'s pty ----------------------------------
# The line is typed once the container reads; the container's pty echoes it, so the
# output holds it twice (echo + the program's answer).
if command -v script >/dev/null; then
    TTYCMD="$CTR -a $C/sock -n $NS run --rm -t --runc-binary $HULL busybox:latest t1 sh -c"
    TTYCMD="$TTYCMD 'tty; [ -t 0 ] && [ -t 1 ] && echo both-are-ttys; read l; echo \"got:\$l\"; exit 4'"
    (sleep 1; printf 'typed-line\r'; sleep 2) | timeout 30 script -qec "$TTYCMD" /dev/null >"$TMP/tty.out" 2>&1
    rc=${PIPESTATUS[1]}
    # script's own pty may echo a NUL as "^@" before the first line (ctr with runc too)
    clean() { tr -d '\r' <"$1" | sed 's/\^@//g'; }
    out=$(clean "$TMP/tty.out")
    like "$out" '^/dev/pts/[0-9]+$' "ctr run -t: the container's stdin is a pty (tty)"
    like "$out" '^both-are-ttys$' "... stdin and stdout are terminals"
    like "$out" '^got:typed-line$' "... a line typed on the terminal reaches the program"
    is "$rc" 4 "... and its exit code comes back through ctr"
    ctr run -d "${R[@]}" busybox:latest t2 sleep 300 >/dev/null 2>&1
    timeout 30 script -qec "$CTR -a $C/sock -n $NS task exec -t --exec-id x1 t2 sh -c 'tty; exit 5'" /dev/null >"$TMP/tty2.out" 2>&1
    rc=$?
    like "$(clean "$TMP/tty2.out")" '^/dev/pts/[0-9]+$' "ctr task exec -t: a pty for the exec'd process"
    is "$rc" 5 "... and its exit code"
    kill_wait t2
    ctr task delete t2 >/dev/null 2>&1; ctr containers delete t2 >/dev/null 2>&1
else
    skip "script(1) (util-linux) is not installed: no pty to drive ctr run -t" 6
fi

# --- how containerd is told to use hull --------------------------------------------------------
# (1) The runc v2 shim's options, BinaryName: what a Kubernetes RuntimeClass handler
# configures in the CRI plugin; without CRI, ctr sends the same options message itself
# (--runc-binary). The shim records what it got in the bundle's options.json.
ctr run -d --runtime io.containerd.runc.v2 "${R[@]}" --annotation "hull.test/from-ctr=ann-$TAG" \
    busybox:latest o1 sleep 300 >/dev/null 2>&1
opts=$C/state/io.containerd.runtime.v2.task/$NS/o1/options.json
is "$(jq -r '.binary_name // empty' "$opts" 2>/dev/null)" "$HULL" "io.containerd.runc.v2 with options BinaryName = hull (the shim's options.json)"
is "$("$HULL" --root "/run/containerd/runc/$NS" state o1 2>/dev/null | jq -r .status)" running "... and hull's own state root holds the container"
is "$("$HULL" --root "/run/containerd/runc/$NS" state o1 2>/dev/null | jq -r '.annotations["hull.test/from-ctr"] // empty')" "ann-$TAG" \
    "ctr run --annotation reaches hull's config.json (hull state shows it)"
kill_wait o1
ctr task delete o1 >/dev/null 2>&1; ctr containers delete o1 >/dev/null 2>&1

# (2) A runtime named in containerd's config.toml: the v1 linux runtime plugin, runtime = hull.
if command -v containerd-shim >/dev/null; then
    V1=(--runtime io.containerd.runtime.v1.linux)
    is "$(ctr run --rm "${V1[@]}" busybox:latest v1a sh -c 'echo v1-$((6 * 7))' 2>&1)" v1-42 \
        "config.toml runtime = hull (io.containerd.runtime.v1.linux): output"
    ctr run --rm "${V1[@]}" busybox:latest v1b sh -c 'exit 9' >/dev/null 2>&1
    is "$?" 9 "... exit code"
    ctr run -d "${V1[@]}" busybox:latest v1c sleep 300 >/dev/null 2>&1
    is "$("$HULL" --root "$C/v1root/$NS" state v1c 2>/dev/null | jq -r .status)" running \
        "... the container is hull's (its state under the configured runtime_root)"
    kill_wait v1c
    ctr task delete v1c >/dev/null 2>&1; ctr containers delete v1c >/dev/null 2>&1
    ok "$([ -z "$(ls "$C/v1root/$NS" 2>/dev/null)" ]; echo $?)" "... and task delete removed it from hull's state"
else
    skip "containerd-shim (v1) is not installed" 4
fi

# --- microVM selection -------------------------------------------------------------------------
# MICROVM: the annotation run.oci.handler=vm (ctr run --annotation) and the binary name hull-vm
# select hull's microVM executor. Where /dev/kvm cannot boot a kernel (kvm_pvm here, or no
# /dev/kvm) or the executor is not built in, hull refuses with a clear error, which must reach
# ctr's output; where it can, the container runs in the VM: its kernel is the guest's, not the
# host's. Revisit these assertions as the VM mode grows.
vm_case() { # vm_case DESC CTR-ARGS...
    local desc=$1 out rc
    shift
    out=$(ctr run --rm "$@" busybox:latest "vm$ID_SEQ-$RANDOM" uname -r 2>&1)
    rc=$?
    if [ "$rc" = 0 ]; then
        isnt "$out" "$(uname -r)" "$desc: the container runs in the microVM (kernel $out, host $(uname -r))"
    else
        like "$out" 'microVM executor is not available|/dev/kvm|KVM|kvm' "$desc: refused here, with hull's clear error in ctr's output" ||
            diag "exit status $rc"
    fi
}
vm_case "run.oci.handler=vm" "${R[@]}" --annotation run.oci.handler=vm
ln -sf "$HULL" "$TMP/bin/hull-vm"
vm_case "the binary name hull-vm" --runc-binary "$TMP/bin/hull-vm"
for c in $(ctr containers ls -q 2>/dev/null | grep '^vm'); do ctr task delete -f "$c" >/dev/null 2>&1; ctr containers delete "$c" >/dev/null 2>&1; done
ok "$([ -z "$(ls "/run/containerd/runc/$NS" 2>/dev/null)" ]; echo $?)" "... and no microVM container is left in hull's state"

# --- the microVM executor under containerd, the guest agent in test mode ------------------------
# Everything but the guest kernel, for real: containerd's runc shim drives hull's VM executor
# (hull-vmm is the task's pid, the monitor relays stdio, exec goes through the agent) while
# HULL_VM_TEST_AGENT=1 makes hull-vmm run hull's agent on this host instead of booting a VM
# (this /dev/kvm cannot boot one; the real VMs under ctr: 27-vm-containers.t, nested). The
# wrappers set that variable for hull only; hull-vm is selected by its name, hull-ta by the
# annotation.
BUILD=$(dirname "$HULL")
if [ -x "$BUILD/hull-vmm" ] && [ -x "$BUILD/hull-agent" ]; then
    vm_test_agent_wrapper "$TMP/bin/vmta/hull-vm" "$HULL" hull-vm
    vm_test_agent_wrapper "$TMP/bin/vmta/hull-ta" "$HULL"
    out=$(ctr run --rm --runc-binary "$TMP/bin/vmta/hull-ta" --annotation run.oci.handler=vm busybox:latest ta1 \
        sh -c 'echo "via the agent: $(cat /proc/1/comm)"; exit 7' 2>&1)
    rc=$?
    is "$rc:$out" "7:via the agent: sh" "VM executor (annotation), ctr run --rm: output and exit code 7 through the agent"
    printf 'piped to the agent\n' | ctr run --rm --runc-binary "$TMP/bin/vmta/hull-vm" busybox:latest ta2 sh -c 'read l; echo "got $l"' >"$TMP/ta2.out" 2>&1
    is "$(cat "$TMP/ta2.out")" "got piped to the agent" "VM executor (binary name hull-vm): stdin piped through the monitor"
    ctr run -d --runc-binary "$TMP/bin/vmta/hull-vm" busybox:latest ta3 sh -c 'echo up >/tmp/up; exec sleep 300' >/dev/null 2>&1
    like "$(ctr task ls 2>&1)" 'ta3 +[0-9]+ +RUNNING' "VM executor, ctr run -d: RUNNING"
    pid=$(ctr task ls 2>/dev/null | awk '$1 == "ta3" {print $2}')
    is "$(cat "/proc/$pid/comm" 2>/dev/null)" hull-vmm "... the task's pid is the VMM process (hull-vmm)"
    for i in $(seq 50); do ctr task exec --exec-id w ta3 test -e /tmp/up >/dev/null 2>&1 && break; sleep 0.1; done
    is "$(ctr task exec --exec-id x1 ta3 sh -c 'cat /tmp/up; exit 5' 2>&1)" up "... ctr task exec runs in the same guest (sees /tmp/up)"
    ctr task exec --exec-id x2 ta3 sh -c 'exit 5' >/dev/null 2>&1
    is "$?" 5 "... exec's exit code"
    like "$(ctr task ps ta3 2>&1)" '^[0-9]+ ' "... ctr task ps lists the guest's processes"
    kill_wait ta3
    like "$(ctr task ls 2>&1)" 'ta3 +[0-9]+ +STOPPED' "... ctr task kill: STOPPED"
    ctr task delete ta3 >/dev/null 2>&1
    is "$?" 0 "... ctr task delete"
    ctr containers delete ta3 >/dev/null 2>&1
    # a terminal: the shim gets the host pty's master through the console socket; the monitor
    # relays its slave to the guest's pty and must not keep create's own stdout (the shim reads
    # it to EOF before it starts the task)
    if command -v script >/dev/null; then
        TTYCMD="$CTR -a $C/sock -n $NS run --rm -t --runc-binary $TMP/bin/vmta/hull-vm busybox:latest ta4 sh -c"
        TTYCMD="$TTYCMD '[ -t 0 ] && [ -t 1 ] && echo both-are-ttys; read l; echo \"got:\$l\"; exit 4'"
        (sleep 1; printf 'typed-line\r'; sleep 2) | timeout 30 script -qec "$TTYCMD" /dev/null >"$TMP/ta4.out" 2>&1
        rc=${PIPESTATUS[1]}
        out=$(clean "$TMP/ta4.out")
        like "$out" '^both-are-ttys$' "VM executor, ctr run -t: stdin and stdout are terminals in the guest"
        like "$out" '^got:typed-line$' "... a line typed on the terminal reaches the guest process"
        is "$rc" 4 "... and its exit code comes back through ctr"
    else
        skip "script(1) (util-linux) is not installed" 3
    fi
    sleep 0.3
    is "$(vm_live_procs):$(ls "/run/containerd/runc/$NS" 2>/dev/null | wc -l)" "0:0" "... no VMM, monitor or exec proxy left, nothing in hull's state"
else
    skip "hull-vmm and hull-agent are not built" 13
fi
done_testing
