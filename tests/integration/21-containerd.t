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
cat >"$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/sock"
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
done_testing
