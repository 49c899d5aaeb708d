#!/bin/bash
# 21-containerd: containerd 1.6 (Debian's) drives hull as its runc binary,
# through ctr: the runc shim calls hull's create/start/state/kill/delete/exec/
# pause/resume/events exactly as it calls runc. containerd runs from a temp
# dir of this test (config, root, state, socket; no CRI) and is stopped by pid.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
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
[ -n "$cg" ] && is "$(cat /sys/fs/cgroup/freezer$cg/freezer.state)" FROZEN "... the cgroup is frozen" || skip "no v1 freezer"
ctr task resume d1 >/dev/null 2>&1
like "$(ctr task ls 2>&1)" 'd1 +[0-9]+ +RUNNING' "task resume"
like "$(ctr task metrics d1 2>&1)" 'memory' "task metrics (hull events --stats)"
ctr task kill -s KILL d1 >/dev/null 2>&1
for i in $(seq 50); do ctr task ls 2>/dev/null | grep -q 'd1 .*STOPPED' && break; sleep 0.1; done
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
    ctr task kill -s KILL t2 >/dev/null 2>&1
    for i in $(seq 50); do ctr task ls 2>/dev/null | grep -q 't2 .*STOPPED' && break; sleep 0.1; done
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
ctr task kill -s KILL o1 >/dev/null 2>&1
for i in $(seq 50); do ctr task ls 2>/dev/null | grep -q 'o1 .*STOPPED' && break; sleep 0.1; done
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
    ctr task kill -s KILL v1c >/dev/null 2>&1
    for i in $(seq 50); do ctr task ls 2>/dev/null | grep -q 'v1c .*STOPPED' && break; sleep 0.1; done
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
done_testing
