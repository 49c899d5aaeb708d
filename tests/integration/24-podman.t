#!/bin/bash
# tier: clients (starts podman with conmon), ~11 s
# 24-podman: podman 4 (Debian's, with conmon) drives hull as its OCI runtime
# (--runtime), as root and, where the machine allows, rootless. Podman's storage,
# run root, temp dir, network configs and containers.conf live in this test's temp
# dir (hull's state: its default root, /run/hull, by podman's ids); containers go under
# their own cgroup parent; the default network is "none", and the one test that
# publishes a port runs podman inside a network namespace the test made. Each
# scenario asserts what the container or the host shows (output, exit code, cgroup
# files, freezer state, uid_map), not just podman's exit status.
# It starts with hull alone on two quirks of these machines: the rlimit clamp that
# podman's default ulimits need, and a parent (PID 1 here) that reaps late.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
. "$(dirname "$0")/../lib/vm-helpers.sh"
is_runtime hull || skip_all "drives hull through podman (runtime is $RT_NAME)"

# Lines of /proc/self/limits as "soft hard" for one limit.
limits_of() { awk -v k="$1" 'index($0, k) == 1 { n = split(substr($0, length(k) + 1), f, " "); print f[1], f[2] }'; }

# --- hull alone: a hard limit above the caller's is lowered to it, with a warning ---------------
# Podman asks for nofile 1048576 (and crun/runc fail where root lacks CAP_SYS_RESOURCE,
# as here); hull sets the caller's hard limit and says so on its own stderr, which is
# not the container's output. prlimit and setpriv make the case on any machine.
if command -v prlimit >/dev/null && command -v setpriv >/dev/null; then
    mkbundle rl sh -c 'grep -E "^Max (open files|processes)" /proc/self/limits'
    cfg_set '.process.rlimits = [{"type":"RLIMIT_NOFILE","soft":8192,"hard":8192},{"type":"RLIMIT_NPROC","soft":100,"hard":999999}]'
    new_id rl
    prlimit --nofile=1024:4096 --nproc=500:2000 setpriv --bounding-set -sys_resource \
        "$HULL" --root "$STATE" run --bundle "$BUNDLE" "$ID" </dev/null >"$TMP/rl.out" 2>"$TMP/rl.err"
    is "$?" 0 "rlimits above the caller's hard limit, no CAP_SYS_RESOURCE: the container runs"
    is "$(limits_of 'Max open files' <"$TMP/rl.out")" "4096 4096" "... RLIMIT_NOFILE 8192/8192 became the caller's hard limit 4096/4096"
    is "$(limits_of 'Max processes' <"$TMP/rl.out")" "100 2000" "... RLIMIT_NPROC 100/999999 became 100/2000 (soft kept)"
    like "$(cat "$TMP/rl.err")" '^hull: warning: setrlimit RLIMIT_NOFILE 8192/8192: raising the hard limit above 4096 needs CAP_SYS_RESOURCE; set to 4096/4096 instead$' \
        "... hull warns on its stderr, naming the limit, the values and the reason"
    unlike "$(cat "$TMP/rl.out")" 'warning' "... and the warning is not in the container's output"
    # exec applies a process.json's rlimits the same way, and warns the same way
    set_args sleep 300
    new_id rlx
    rt run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
    cat >"$TMP/rl-process.json" <<'JSON'
{"args": ["sh", "-c", "grep '^Max open files' /proc/self/limits"], "cwd": "/", "env": ["PATH=/bin"],
 "user": {"uid": 0, "gid": 0}, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 9000, "hard": 9000}]}
JSON
    prlimit --nofile=1024:2048 setpriv --bounding-set -sys_resource \
        "$HULL" --root "$STATE" exec --process "$TMP/rl-process.json" "$ID" </dev/null >"$TMP/rlx.out" 2>"$TMP/rlx.err"
    is "$?:$(limits_of 'Max open files' <"$TMP/rlx.out")" "0:2048 2048" "exec: the same clamp (9000/9000 -> 2048/2048)"
    like "$(cat "$TMP/rlx.err")" 'hull: warning: setrlimit RLIMIT_NOFILE 9000/9000: .* set to 2048/2048 instead' "... and the same warning"
    rt delete -f "$ID" >/dev/null 2>&1
else
    skip "needs prlimit and setpriv (util-linux)" 7
fi

# --- hull alone: what every start costs ----------------------------------------------------------
# containerd and podman start hull 4-5 times per container; the image libraries (libarchive
# and its 14 dependencies, libcrypto) are loaded on first use only (base/lazy_libs.c).
if command -v readelf >/dev/null; then
    needed=$(readelf -d "$HULL" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    unlike "$needed" 'libarchive|libcrypto' "hull does not load libarchive or libcrypto at start (NEEDED: $needed)" ||
        diag "a libarchive/libcrypto function is called that base/lazy_libs.c does not forward: add it there"
else
    skip "readelf (binutils) is not installed"
fi

# --- hull alone: nothing waits for a parent that does not reap -----------------------------------
# PID 1 on these machines reaps orphans late; a container init whose parent is gone is its
# child. Here its parent is a subreaper that is stopped, so the exited init stays a zombie:
# state must say stopped and delete must finish (cgroup removed) without waiting for the reap.
if [ -x "$TMP/bin/subreaper" ]; then
    mkbundle zb sh -c 'exit 3'
    new_id zb
    "$TMP/bin/subreaper" sh -c '"$1" --root "$2" create --bundle "$3" "$4" </dev/null >/dev/null 2>&1; exec sleep 60' \
        sh "$HULL" "$STATE" "$BUNDLE" "$ID" &
    srpid=$!
    wait_status "$ID" created 10
    zpid=$(ctr_pid "$ID")
    kill -STOP "$srpid"
    rt start "$ID" >/dev/null 2>&1
    for i in $(seq 50); do [ "$(awk '/^State:/ {print $2}' "/proc/$zpid/status" 2>/dev/null)" = Z ] && break; sleep 0.05; done
    is "$(awk '/^State:/ {print $2}' "/proc/$zpid/status" 2>/dev/null)" Z "an exited init whose parent does not reap stays a zombie (pid $zpid)"
    is "$(ctr_status "$ID")" stopped "... hull state: stopped"
    t0=$(date +%s%N)
    rt delete "$ID" >/dev/null 2>&1
    rc=$?
    t1=$(date +%s%N)
    ok "$rc" "... delete succeeds"
    cmp_ok $(((t1 - t0) / 1000000)) -lt 1000 "... at once ($(((t1 - t0) / 1000000)) ms), without waiting for the reap"
    is "$(cgroup_dirs "$ID")" "" "... and the container's cgroup is gone"
    kill -CONT "$srpid"; kill "$srpid" 2>/dev/null; wait "$srpid" 2>/dev/null
else
    skip "no subreaper helper (no cc)" 5
fi

# --- podman ------------------------------------------------------------------------------------
command -v podman >/dev/null || { skip "podman is not installed (make deps)"; done_testing; }
command -v conmon >/dev/null || { skip "conmon is not installed (make deps)"; done_testing; }
PMV=$(podman --version 2>/dev/null | sed -n 's/^podman version \([0-9]*\)\..*/\1/p')
[ "${PMV:-0}" -ge 4 ] || { skip "needs podman 4 (found: $(podman --version 2>&1))"; done_testing; }

PM=$TMP/podman
CGP=/hulltest-pm-$TAG                  # every rootful container's cgroup parent
NETNS=hullpm-$TAG NET=hulltest-$TAG    # the -p scenario's network namespace and podman network
mkdir -p "$PM/root" "$PM/runroot" "$PM/tmp" "$PM/cni" "$PM/ids"
cat >"$PM/containers.conf" <<EOF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "$PM/tmp"
[network]
network_config_dir = "$PM/cni"
EOF
cat >"$PM/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PM/root"
runroot = "$PM/runroot"
EOF
export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf TMPDIR=$PM/tmp
# hull keeps the state of podman's containers in its default root, /run/hull (podman 4.3 loses
# --runtime-flag root=... in the clean-up that conmon starts, which then deletes in /run/hull);
# the ids are podman's random 64-hex ones, and the clean-up below removes those of this test.
HS=/run/hull
PMG=(--root "$PM/root" --runroot "$PM/runroot" --tmpdir "$PM/tmp" --storage-driver overlay --runtime "$HULL"
     --cgroup-manager cgroupfs --events-backend file --network-config-dir "$PM/cni")
PODMAN=$(command -v podman)
pm() { timeout -k 5 120 "$PODMAN" "${PMG[@]}" "$@"; }
pmn() { timeout -k 5 120 nsenter --net="/run/netns/$NETNS" "$PODMAN" "${PMG[@]}" "$@"; }

# Rootless set-up (filled in below when the machine allows it).
RL=$TMP/rootless RUID=

# Everything this test started, by pid; then its files, mounts, cgroups and namespaces.
stop_podman() {
    local c p pids d
    for c in $(pm ps -aq --no-trunc 2>/dev/null); do
        pm rm -f -t 0 "$c" >/dev/null 2>&1
        "$HULL" --root "$HS" delete -f "$c" >/dev/null 2>&1
    done
    if [ -e "/run/netns/$NETNS" ]; then
        for c in $(pmn ps -aq --no-trunc 2>/dev/null); do
            pmn rm -f -t 0 "$c" >/dev/null 2>&1
            "$HULL" --root "$HS" delete -f "$c" >/dev/null 2>&1
        done
        pmn network rm -f "$NET" >/dev/null 2>&1
    fi
    if [ -n "$RUID" ]; then
        for c in $(rlpm ps -aq 2>/dev/null); do rlpm rm -f -t 0 "$c" >/dev/null 2>&1; done
        pids=$(pgrep -u "$RUID")
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    fi
    # conmon and podman processes of this test (their command lines name $PM or $RL)
    pids=$(for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -e "$PM/" -e "$RL/" && echo "${p#/proc/}"
    done | grep -vx "$$")
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    for d in $(grep -F -e " $PM/" -e " $RL/" /proc/self/mountinfo | awk '{print $5}' | sort -r); do umount -l "$d" 2>/dev/null; done
    pids=$(cat /sys/fs/cgroup/*$CGP/*/cgroup.procs /sys/fs/cgroup$CGP/*/cgroup.procs 2>/dev/null | sort -u)
    [ -n "$pids" ] && { kill -9 $pids 2>/dev/null; sleep 0.2; }
    for d in /sys/fs/cgroup/*$CGP /sys/fs/cgroup$CGP; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    rm -rf "/var/lib/cni/networks/$NET"
}
trap 'stop_podman; _fixture_cleanup' EXIT

# The built-in busybox image: its OCI layout as an OCI archive, which podman load names
# from the layout's annotations (docker.io/library/busybox:latest).
"$TESTS_LIB/../../image/make-busybox-image.sh" "$TMP/bb" >/dev/null || bail_out "cannot build the busybox image"
tar -C "$TMP/bb" -cf "$TMP/bb.tar" . && chmod -R a+rX "$TMP/bb" "$TMP/bb.tar"
pm load -q -i "$TMP/bb.tar" >"$TMP/pull.out" 2>&1
like "$(pm images --format '{{.Repository}}:{{.Tag}}' 2>&1)" '^docker.io/library/busybox:latest$' "podman load of the built-in image" ||
    bail_out "no image: $(cat "$TMP/pull.out")"
is "$(pm info --format '{{.Host.OCIRuntime.Path}}' 2>/dev/null)" "$HULL" "podman info names hull as its OCI runtime"

# A container's cgroup file on the host: CTRL FILE(v1) FILE(v2) ID
cg_host_file() {
    local f
    for f in "/sys/fs/cgroup/$1$CGP/libpod-$4/$2" "/sys/fs/cgroup$CGP/libpod-$4/$3"; do
        [ -e "$f" ] && { cat "$f"; return 0; }
    done
    echo "(no $2 / $3 for libpod-$4 under $CGP)"
    return 1
}
run_state() { "$HULL" --root "$HS" state "$1" 2>/dev/null | jq -r '.status // empty'; }

# --- run --rm: output, exit code, stdin, the limits podman asked for ------------------------------
pm run --rm --cgroup-parent "$CGP" busybox echo hello >"$TMP/o" 2>"$TMP/e"
is "$?:$(cat "$TMP/o")" "0:hello" "podman run --rm: output"
pm run --rm --cgroup-parent "$CGP" busybox sh -c 'exit 7' >/dev/null 2>&1
is "$?" 7 "... the exit code propagates"
is "$(printf 'piped\n' | pm run --rm -i --cgroup-parent "$CGP" busybox sh -c 'read l; echo "got $l"' 2>/dev/null)" "got piped" \
    "... stdin piped in (-i)"
# podman's default ulimit nofile is 1048576: without CAP_SYS_RESOURCE (root lacks it on some
# hosts, this one included) the container gets our hard limit instead
has_cap_sys_resource() { local e; e=$(awk '/^CapEff:/ {print $2}' /proc/self/status); (((16#$e >> 24) & 1)); }
hard=$(ulimit -Hn)
want=$hard
if has_cap_sys_resource || [ "$hard" -ge 1048576 ]; then want=1048576; fi
out=$(pm run --rm --cgroup-parent "$CGP" busybox cat /proc/self/limits 2>/dev/null)
is "$(limits_of 'Max open files' <<<"$out")" "$want $want" "podman's default ulimit nofile=1048576 runs, clamped to the hard limit ($want)"

# -t: conmon's console socket, driven through script(1)'s pty
if command -v script >/dev/null; then
    timeout 60 script -qec "$(printf '%q ' "$PODMAN" "${PMG[@]}" run --rm -t --cgroup-parent "$CGP" busybox \
        sh -c '[ -t 0 ] && [ -t 1 ] && tty; exit 6')" /dev/null >"$TMP/pmtty.out" 2>&1
    rc=$?
    like "$(tr -d '\r' <"$TMP/pmtty.out" | sed 's/\^@//g')" '^/dev/pts/[0-9]+$' "podman run -t: the container's stdin and stdout are a pty"
    is "$rc" 6 "... and the exit code comes back"
else
    skip "script(1) (util-linux) is not installed" 2
fi

# --- -d, exec, logs, pause/unpause, stats, stop --------------------------------------------------
D=pm-d-$TAG
pm run -d --name "$D" --cgroup-parent "$CGP" busybox sh -c 'echo started; echo oops >&2; exec sleep 600' >"$TMP/o" 2>"$TMP/e"
is "$?" 0 "podman run -d" || diag "$(cat "$TMP/e")"
id=$(pm inspect -f '{{.Id}}' "$D" 2>/dev/null)
is "$(pm inspect -f '{{.State.Status}}' "$D" 2>/dev/null)" running "... podman: running"
is "$(run_state "$id")" running "... hull state: running"
pid=$(pm inspect -f '{{.State.Pid}}' "$D" 2>/dev/null)
is "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" "sleep 600 " "... the container's init is the program (pid $pid)"
out=$(pm exec "$D" sh -c 'echo in-exec; echo "pid1=$(cat /proc/1/comm)"; exit 3' 2>/dev/null)
rc=$?
is "$rc" 3 "podman exec: exit code"
is "$out" "$(printf 'in-exec\npid1=sleep')" "... output, in the container's pid namespace"
for i in $(seq 20); do pm logs "$D" 2>&1 | grep -q oops && break; sleep 0.1; done
is "$(pm logs "$D" 2>/dev/null)" started "podman logs: stdout"
errs=$(pm logs "$D" 2>&1 >/dev/null)
is "$(grep -v '^hull: warning: ' <<<"$errs")" oops "... and stderr"
if [ "$want" != 1048576 ]; then
    like "$errs" '^hull: warning: setrlimit RLIMIT_NOFILE 1048576/1048576: raising the hard limit above [0-9]+ needs CAP_SYS_RESOURCE' \
        "... where hull's rlimit warning is too (the runtime's stderr at create is the container's, as with runc)"
else
    skip "root may raise its hard limit to 1048576 here: nothing to clamp"
fi
pm pause "$D" >/dev/null 2>&1
is "$(pm inspect -f '{{.State.Status}}' "$D" 2>/dev/null)" paused "podman pause"
is "$(cg_host_file freezer freezer.state cgroup.freeze "$id")" "$([ -d /sys/fs/cgroup/freezer ] && echo FROZEN || echo 1)" \
    "... the container's cgroup is frozen"
is "$(run_state "$id")" paused "... hull state: paused"
pm unpause "$D" >/dev/null 2>&1
is "$(pm inspect -f '{{.State.Status}}' "$D" 2>/dev/null)" running "podman unpause"
is "$(cg_host_file freezer freezer.state cgroup.freeze "$id")" "$([ -d /sys/fs/cgroup/freezer ] && echo THAWED || echo 0)" \
    "... thawed"
pm exec "$D" sh -c 'sleep 300 & sleep 300 & wait' >/dev/null 2>&1 &
for i in $(seq 50); do [ "$(cg_host_file pids pids.current pids.current "$id")" -ge 4 ] 2>/dev/null && break; sleep 0.1; done
out=$(pm stats --no-stream --format '{{.PIDs}} {{.MemUsage}}' "$D" 2>&1)
like "$out" '^4 [0-9.]+[kMG]?i?B / ' "podman stats --no-stream: the container's pids (init + exec'd sh + 2) and memory" ||
    diag "pids.current: $(cg_host_file pids pids.current pids.current "$id")"
t0=$(date +%s%N)
pm stop -t 1 "$D" >/dev/null 2>&1
t1=$(date +%s%N)
is "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$D" 2>/dev/null)" "exited 137" \
    "podman stop -t 1: SIGTERM ignored by pid 1, then SIGKILL (137)"
cmp_ok $(((t1 - t0) / 1000000)) -lt 6000 "... within the timeout plus a margin ($(((t1 - t0) / 1000000)) ms)"
ok "$(alive "$pid"; [ $? -ne 0 ]; echo $?)" "... every process of it is gone (init $pid)"
for i in $(seq 50); do [ -z "$(run_state "$id")" ] && break; sleep 0.1; done
is "$(run_state "$id")" "" "... podman deleted it from hull's state"
pm rm "$D" >/dev/null 2>&1
ok "$([ ! -d "/sys/fs/cgroup/pids$CGP/libpod-$id" ] && [ ! -d "/sys/fs/cgroup$CGP/libpod-$id" ]; echo $?)" \
    "... and its cgroup is removed"

# --- --memory and --pids-limit: in the container's cgroup files, inside and on the host -----------
out=$(pm run --rm --cgroup-parent "$CGP" --memory 64m --pids-limit 42 busybox sh -c \
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' 2>/dev/null)
is "$(echo $out)" "67108864 42" "--memory 64m --pids-limit 42: the container sees them in its cgroup files"
L=pm-l-$TAG
pm run -d --name "$L" --cgroup-parent "$CGP" --memory 96m --pids-limit 17 busybox sleep 600 >/dev/null 2>&1
lid=$(pm inspect -f '{{.Id}}' "$L" 2>/dev/null)
is "$(cg_host_file memory memory.limit_in_bytes memory.max "$lid")" 100663296 "... on the host: memory limit of the container's cgroup (96m)"
is "$(cg_host_file pids pids.max pids.max "$lid")" 17 "... on the host: pids.max"
out=$(pm exec "$L" sh -c 'for i in $(seq 30); do sleep 30 & done 2>&1; wait' 2>&1 | head -3)
like "$out" "can't fork|Resource temporarily unavailable" "... and the pids limit bites: the 17th process cannot fork"
pm rm -f -t 0 "$L" >/dev/null 2>&1

# --- user namespaces: --uidmap, --userns=auto ---------------------------------------------------
out=$(pm run --rm --cgroup-parent "$CGP" --uidmap 0:100000:65536 --gidmap 0:100000:65536 busybox sh -c \
    'cat /proc/self/uid_map /proc/self/gid_map; id -u' 2>"$TMP/e")
is "$(echo $out)" "0 100000 65536 0 100000 65536 0" "--uidmap/--gidmap 0:100000:65536: the container's uid_map and gid_map, uid 0 inside"
# --userns=auto takes ranges of the user "containers" from /etc/subuid: given to podman in
# a private mount namespace, so the host's files stay as they are.
if [ -f /etc/subuid ] && [ -f /etc/subgid ]; then
    { cat /etc/subuid; echo "containers:2000000:500000"; } >"$PM/ids/subuid"
    { cat /etc/subgid; echo "containers:2000000:500000"; } >"$PM/ids/subgid"
    out=$(timeout -k 5 120 unshare -m --propagation slave sh -c \
        'mount --bind "$0/subuid" /etc/subuid && mount --bind "$0/subgid" /etc/subgid && exec "$@"' "$PM/ids" \
        "$PODMAN" "${PMG[@]}" run --rm --cgroup-parent "$CGP" --userns=auto busybox sh -c 'cat /proc/self/uid_map; id -u' 2>"$TMP/auto.err")
    like "$(echo $out)" '^0 2[0-9]{6} [0-9]+ 0$' "--userns=auto: uid 0 inside maps to a range of /etc/subuid (2000000+)" ||
        diag "$(cat "$TMP/auto.err")"
else
    skip "no /etc/subuid or /etc/subgid to give --userns=auto its ranges"
fi

# --- microVM selection ----------------------------------------------------------------------------
# MICROVM: as in 21-containerd.t: run.oci.handler=vm (podman run --annotation) and the runtime
# name hull-vm select hull's microVM executor; refused with a clear error where /dev/kvm cannot
# boot a kernel (this host), else the container's kernel is the guest's.
pm_vm_case() { # pm_vm_case DESC PODMAN-ARGS... (before "run")
    local desc=$1 out rc
    shift
    out=$(timeout -k 5 120 "$PODMAN" "$@" run --rm --cgroup-parent "$CGP" "${VMARGS[@]}" busybox uname -r 2>&1)
    rc=$?
    if [ "$rc" = 0 ]; then
        isnt "$out" "$(uname -r)" "$desc: the container runs in the microVM (kernel $out, host $(uname -r))"
    else
        like "$out" 'microVM executor is not available|/dev/kvm|KVM|kvm' "$desc: refused here, with hull's clear error in podman's output" ||
            diag "exit status $rc"
    fi
}
VMARGS=(--annotation run.oci.handler=vm)
pm_vm_case "podman run --annotation run.oci.handler=vm" "${PMG[@]}"
ln -sf "$HULL" "$TMP/bin/hull-vm"
VMARGS=()
PMG_VM=("${PMG[@]}")
for i in "${!PMG_VM[@]}"; do [ "${PMG_VM[$i]}" = "$HULL" ] && PMG_VM[$i]=$TMP/bin/hull-vm; done
pm_vm_case "podman --runtime .../hull-vm" "${PMG_VM[@]}"

# --- the microVM executor under podman and conmon, the guest agent in test mode -------------------
# As in 21-containerd.t: everything but the guest kernel for real (hull-vmm is the container's
# pid, which conmon waits for; the monitor relays stdio; exec goes through the agent), with
# HULL_VM_TEST_AGENT=1 set for hull only by a wrapper called hull-vm (the name selects the VM
# executor). The real VMs: 27-vm-containers.t (nested).
BUILD=$(dirname "$HULL")
if [ -x "$BUILD/hull-vmm" ] && [ -x "$BUILD/hull-agent" ]; then
    vm_test_agent_wrapper "$TMP/bin/vmta/hull-vm" "$HULL" hull-vm
    PMG_TA=("${PMG[@]}")
    for i in "${!PMG_TA[@]}"; do [ "${PMG_TA[$i]}" = "$HULL" ] && PMG_TA[$i]=$TMP/bin/vmta/hull-vm; done
    pmta() { timeout -k 5 120 "$PODMAN" "${PMG_TA[@]}" "$@"; }
    out=$(pmta run --rm --cgroup-parent "$CGP" busybox sh -c 'echo "through the agent"; exit 6' 2>/dev/null)
    is "$?:$out" "6:through the agent" "VM executor, podman run --rm: output and exit code 6"
    is "$(echo piped | pmta run --rm -i --cgroup-parent "$CGP" busybox sh -c 'read l; echo "got $l"' 2>/dev/null)" "got piped" \
        "... podman run -i: stdin through the monitor"
    V=pm-vm-$TAG
    pmta run -d --name "$V" --cgroup-parent "$CGP" busybox sh -c \
        'echo started; trap "echo got TERM; exit 0" TERM; while :; do sleep 0.2; done' >/dev/null 2>&1
    pid=$(pmta inspect -f '{{.State.Pid}}' "$V" 2>/dev/null)
    is "$(cat "/proc/$pid/comm" 2>/dev/null)" hull-vmm "... podman run -d: the container's pid (conmon waits for it) is hull-vmm"
    out=$(pmta exec "$V" sh -c 'echo in-exec; exit 3' 2>/dev/null)
    is "$?:$out" "3:in-exec" "... podman exec: output and exit code 3"
    pmta stop -t 10 "$V" >/dev/null 2>&1
    is "$(pmta inspect -f '{{.State.ExitCode}}' "$V" 2>/dev/null)" 0 "... podman stop: SIGTERM reached the guest process, which exited 0"
    is "$(pmta logs "$V" 2>/dev/null | tr '\n' ' ')" "started got TERM " "... podman logs: what it printed, via conmon"
    pmta rm "$V" >/dev/null 2>&1
    if command -v script >/dev/null; then
        timeout 60 script -qec "$PODMAN ${PMG_TA[*]} run --rm -t --cgroup-parent $CGP busybox sh -c '[ -t 0 ] && [ -t 1 ] && echo both-are-ttys; exit 5'" \
            /dev/null </dev/null >"$TMP/vmt.out" 2>&1
        rc=$?
        like "$(tr -d '\r' <"$TMP/vmt.out")" '^both-are-ttys$' "... podman run -t: a terminal in the guest"
        is "$rc" 5 "... and its exit code"
    else
        skip "script(1) (util-linux) is not installed" 2
    fi
    sleep 0.3
    is "$(vm_live_procs)" 0 "... no VMM, monitor or exec proxy left"
else
    skip "hull-vmm and hull-agent are not built" 9
fi

# --- -p: podman's own networking (CNI or netavark) in a network namespace of this test -----------
have_netstack() {
    command -v ip >/dev/null && command -v nsenter >/dev/null || return 1
    [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/portmap ] && command -v iptables >/dev/null && return 0
    command -v netavark >/dev/null || [ -x /usr/lib/podman/netavark ] || [ -x /usr/libexec/podman/netavark ]
}
if have_netstack && ip netns add "$NETNS" 2>/dev/null; then
    echo "$NETNS" >>"$TMP/netns"
    ip -n "$NETNS" link set lo up
    pmn network create --subnet 10.89.77.0/24 "$NET" >/dev/null 2>"$TMP/net.err"
    W=pm-web-$TAG
    pmn run -d --name "$W" --cgroup-parent "$CGP" --network "$NET" -p 127.0.0.1:18080:8080 busybox sh -c \
        'mkdir /www && echo "served by $(hostname)" >/www/index.html && exec httpd -f -p 8080 -h /www' >/dev/null 2>>"$TMP/net.err"
    is "$?" 0 "podman run -d -p 127.0.0.1:18080:8080 on a podman network" || diag "$(cat "$TMP/net.err")"
    out=
    for i in $(seq 50); do
        out=$(ip netns exec "$NETNS" timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/18080 &&
            printf "GET / HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>/dev/null | tail -1) && [ -n "$out" ] && break
        sleep 0.1
    done
    is "$out" "served by $(pmn inspect -f '{{.Config.Hostname}}' "$W" 2>/dev/null)" "... the published port reaches the container's server"
    like "$(pmn exec "$W" ip -4 -o addr show 2>/dev/null)" 'inet 10\.89\.77\.[0-9]+/24' "... which has an address on the podman network"
    is "$(pmn port "$W" 2>&1)" "8080/tcp -> 127.0.0.1:18080" "podman port"
    pmn rm -f -t 0 "$W" >/dev/null 2>&1
    is "$(ip -n "$NETNS" -o link show type veth 2>/dev/null | wc -l)" 0 "... after rm, the container's veth is gone"
    pmn network rm -f "$NET" >/dev/null 2>&1
else
    skip "needs ip, nsenter and CNI plugins with iptables (or netavark), and a network namespace" 5
fi

# --- rootless podman -------------------------------------------------------------------------
# An unused uid with subordinate ids, given to podman in a private mount namespace (bound
# /etc/passwd, group, subuid, subgid), so the host's account files stay as they are.
rootless_reason=
# (the search starts at a per-run offset, so that two runs at once pick different uids)
for k in $(seq 0 99); do
    u=$((42400 + ($$ + k) % 100))
    getent passwd "$u" >/dev/null || getent group "$u" >/dev/null || pgrep -u "$u" >/dev/null || { RUID=$u; break; }
done
if [ -z "$RUID" ]; then rootless_reason="no free uid in 42400..42499"
elif ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null; then rootless_reason="newuidmap/newgidmap (uidmap) are not installed"
elif ! setpriv --reuid="$RUID" --regid="$RUID" --clear-groups unshare -U true 2>/dev/null; then
    rootless_reason="unprivileged user namespaces are not allowed here (unshare -U as uid $RUID fails)"
fi
rlpm() {
    timeout -k 5 120 unshare -m --propagation slave sh -c \
        'for f in passwd group subuid subgid; do mount --bind "$0/$f" "/etc/$f" || exit 1; done; exec "$@"' "$RL" \
        setpriv --reuid="$RUID" --regid="$RUID" --clear-groups env -i HOME="$RL/home" XDG_RUNTIME_DIR="$RL/run" \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin CONTAINERS_CONF="$RL/containers.conf" CONTAINERS_STORAGE_CONF="$RL/storage.conf" \
        TMPDIR="$RL/run" \
        "$PODMAN" --root "$RL/home/storage" --runroot "$RL/run/storage" --tmpdir "$RL/run/libpod" \
        --storage-driver overlay --runtime "$HULL" --events-backend file "$@"
}
if [ -z "$rootless_reason" ]; then
    mkdir -p "$RL/home" "$RL/run"
    { cat /etc/passwd; echo "hulltest:x:$RUID:$RUID:hull rootless test:$RL/home:/bin/sh"; } >"$RL/passwd"
    { cat /etc/group; echo "hulltest:x:$RUID:"; } >"$RL/group"
    echo "hulltest:400000:65536" >"$RL/subuid"
    echo "hulltest:400000:65536" >"$RL/subgid"
    printf '[containers]\nnetns = "none"\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nimage_copy_tmp_dir = "%s"\n' "$RL/run" >"$RL/containers.conf"
    printf '[storage]\ndriver = "overlay"\n' >"$RL/storage.conf"
    chmod 644 "$RL"/*.conf "$RL"/passwd "$RL"/group "$RL"/sub?id
    chown "$RUID:$RUID" "$RL/home" "$RL/run"
    chmod 700 "$RL/run"
    rlpm load -q -i "$TMP/bb.tar" >"$TMP/rl-pull" 2>&1 ||
        rootless_reason="rootless podman cannot load an image here: $(tail -2 "$TMP/rl-pull" | tr '\n' ' ')"
fi
if [ -z "$rootless_reason" ]; then
    out=$(rlpm run --rm busybox sh -c 'id -u; cat /proc/self/uid_map' 2>"$TMP/rl.err")
    is "$(echo $out)" "0 0 $RUID 1 1 400000 65536" "rootless podman run: uid 0 inside is uid $RUID outside, then its subuid range" ||
        diag "$(cat "$TMP/rl.err")"
    R1=pm-rl-$TAG
    rlpm run -d --name "$R1" busybox sh -c 'echo rootless-started; exec sleep 600' >/dev/null 2>"$TMP/rl.err"
    rid=$(rlpm inspect -f '{{.Id}}' "$R1" 2>/dev/null)
    ok "$([ -n "$rid" ] && [ -f "$RL/run/hull/$rid/state.json" ]; echo $?)" \
        "rootless run -d: hull keeps its state under \$XDG_RUNTIME_DIR/hull (it may not write /run/hull)" ||
        diag "$(cat "$TMP/rl.err")"
    rpid=$(rlpm inspect -f '{{.State.Pid}}' "$R1" 2>/dev/null)
    is "$(stat -c %u "/proc/$rpid" 2>/dev/null)" "$RUID" "... the container's init runs as uid $RUID on the host"
    is "$(rlpm exec "$R1" sh -c 'echo rl-exec; exit 4' 2>/dev/null; echo "rc=$?")" "$(printf 'rl-exec\nrc=4')" "rootless exec: output and exit code"
    for i in $(seq 20); do rlpm logs "$R1" 2>/dev/null | grep -q started && break; sleep 0.1; done
    is "$(rlpm logs "$R1" 2>/dev/null)" rootless-started "rootless logs"
    rlpm stop -t 0 "$R1" >/dev/null 2>&1
    is "$(rlpm inspect -f '{{.State.Status}}' "$R1" 2>/dev/null)" exited "rootless stop"
    ok "$(alive "$rpid"; [ $? -ne 0 ]; echo $?)" "... the process is gone"
    rlpm rm "$R1" >/dev/null 2>&1
    ok "$([ ! -e "$RL/run/hull/$rid" ]; echo $?)" "... and so is hull's state"
    # hull itself, unprivileged: without a cgroup when no limit is asked, a clear refusal otherwise
    _base_rootfs
    mkdir -p "$RL/bundle" && cp -a "$TMP/base-rootfs" "$RL/bundle/rootfs"
    chown "$RUID:$RUID" "$RL/bundle"
    asuser() { setpriv --reuid="$RUID" --regid="$RUID" --clear-groups env -i XDG_RUNTIME_DIR="$RL/run" PATH=/usr/bin:/bin "$@"; }
    asuser sh -c 'cd "$1" && "$2" spec --rootless' sh "$RL/bundle" "$HULL"
    jq '.process.terminal = false | .process.args = ["sh", "-c", "cat /proc/self/uid_map"]' "$RL/bundle/config.json" >"$RL/c.json" &&
        cp "$RL/c.json" "$RL/bundle/config.json"
    out=$(asuser "$HULL" run --bundle "$RL/bundle" "rl-direct-$TAG" </dev/null 2>&1)
    is "$(echo $out)" "0 $RUID 1" "hull run as an unprivileged user (hull spec --rootless): runs, without a cgroup of its own"
    jq '.linux.resources = {"pids": {"limit": 10}}' "$RL/c.json" >"$RL/bundle/config.json"
    out=$(asuser "$HULL" run --bundle "$RL/bundle" "rl-direct2-$TAG" </dev/null 2>&1)
    like "$out" 'rootless: the config asks for resource limits, which need a cgroup this user may not create' \
        "... with a pids limit it refuses, saying why"
    ok "$([ -z "$(ls "$RL/run/hull" 2>/dev/null | grep rl-direct)" ]; echo $?)" "... and leaves no state behind"
else
    skip "rootless podman: $rootless_reason" 11
fi
done_testing
