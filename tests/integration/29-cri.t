#!/bin/bash
# tier: clients (starts containerd with its CRI plugin), ~18 s
# 29-cri: hull selected the way a Kubernetes RuntimeClass selects a runtime. containerd 1.6
# (Debian's) runs with its CRI plugin, from a temp dir of this test, with two runtimes in its
# config.toml — `runtimes.hull` (io.containerd.runc.v2, options.BinaryName = hull) and
# `runtimes.hull-vm` (BinaryName = a program named hull-vm: the microVM executor, with the guest
# agent in its host test mode since this /dev/kvm cannot boot a kernel) — and this test is the
# kubelet: a CRI client (tests/lib/cri/cri-call.js, node's gRPC from the npm registry) calls
# RunPodSandbox with runtime_handler "hull" / "hull-vm", CreateContainer, StartContainer,
# ContainerStatus, StopPodSandbox, RemovePodSandbox. Asserted: the shim got hull as its binary,
# hull's state holds the sandbox, the container's exit code and log, the pod's IPC namespace
# shared with the container, and nothing left behind. containerd is stopped by pid at the end.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
. "$(dirname "$0")/../lib/vm-helpers.sh"
is_runtime hull || skip_all "drives hull through containerd's CRI plugin (runtime is $RT_NAME)"
command -v containerd >/dev/null && command -v ctr >/dev/null || skip_all "containerd is not installed"
BUILD=$(dirname "$HULL")
MODS=$("$TESTS_LIB/cri/ensure-deps.sh" "$BUILD/cri-node")
case $? in 0) ;; 4) skip_all "no CRI client: $MODS" ;; *) bail_out "tests/lib/cri/ensure-deps.sh failed: $MODS" ;; esac
export NODE_PATH=$MODS

C=$TMP/cri
mkdir -p "$C/logs" "$C/bin" "$C/cni"
vm_test_agent_wrapper "$C/bin/hull-vm" "$HULL" hull-vm
cat >"$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
[grpc]
  address = "$C/sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/library/hull-pause:1"
  # root here lacks CAP_SYS_RESOURCE: no negative oom_score_adj for the sandbox
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "$C/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "hull"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull.options]
      BinaryName = "$HULL"
      Root = "$C/hull-root"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull-vm]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hull-vm.options]
      BinaryName = "$C/bin/hull-vm"
      Root = "$C/hull-vm-root"
TOML
containerd --config "$C/config.toml" >"$C/log" 2>&1 &
CPID=$!
PODS=()
cri() { timeout 150 node "$TESTS_LIB/cri/cri-call.js" "$C/sock" "$@"; }
stop_all() {
    local p
    for p in "${PODS[@]}"; do
        cri StopPodSandbox "{\"pod_sandbox_id\":\"$p\"}" >/dev/null 2>&1
        cri RemovePodSandbox "{\"pod_sandbox_id\":\"$p\"}" >/dev/null 2>&1
    done
    kill "$CPID" 2>/dev/null
    wait "$CPID" 2>/dev/null
    for r in "$C/hull-root" "$C/hull-vm-root"; do
        for id in $(ls "$r/k8s.io" 2>/dev/null); do "$HULL" --root "$r/k8s.io" delete -f "$id" >/dev/null 2>&1; done
    done
    pkill -f "containerd-shim-runc-v2 .*-address $C/sock" 2>/dev/null
    grep " $C/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
trap 'stop_all; _fixture_cleanup' EXIT
for _ in $(seq 100); do [ -S "$C/sock" ] && break; sleep 0.05; done
[ -S "$C/sock" ] || bail_out "containerd did not start: $(tail -n 3 "$C/log")"

# the images: a pause image for the sandboxes (busybox sleeping) and busybox, in CRI's namespace
BUSYBOX_IMAGE_CMD='["sleep","2147483647"]' BUSYBOX_IMAGE_NAME=docker.io/library/hull-pause:1 \
    "$TESTS_LIB/../../image/make-busybox-image.sh" "$C/pause" >/dev/null
"$TESTS_LIB/../../image/make-busybox-image.sh" "$C/bb" >/dev/null
for i in pause bb; do
    tar -C "$C/$i" -cf "$C/$i.tar" . && ctr -a "$C/sock" -n k8s.io image import "$C/$i.tar" >/dev/null 2>&1
done
like "$(ctr -a "$C/sock" -n k8s.io images ls -q 2>&1 | tr '\n' ' ')" "busybox:latest.*hull-pause:1|hull-pause:1.*busybox:latest" \
    "both images imported into the k8s.io namespace"

out=$(cri Version '{}' 2>&1)
is "$(echo "$out" | jq -r .runtime_api_version 2>/dev/null)" v1 "CRI Version: runtime API v1 ($(echo "$out" | jq -r .runtime_name 2>/dev/null))"

# pod HANDLER NAME CMD: a pod with one container running CMD; sets SID, CID, SB (its config)
pod() {
    local handler=$1 name=$2 cmd=$3 out
    mkdir -p "$C/logs/$name"
    SB="{\"metadata\":{\"name\":\"$name\",\"uid\":\"uid-$name\",\"namespace\":\"hulltest\",\"attempt\":0},
         \"log_directory\":\"$C/logs/$name\",
         \"linux\":{\"security_context\":{\"namespace_options\":{\"network\":\"NODE\",\"pid\":\"CONTAINER\",\"ipc\":\"POD\"}}}}"
    out=$(cri RunPodSandbox "{\"config\":$SB,\"runtime_handler\":\"$handler\"}" 2>&1)
    SID=$(echo "$out" | jq -r '.pod_sandbox_id // empty' 2>/dev/null)
    [ -n "$SID" ] && PODS+=("$SID")
    isnt "$SID" "" "RunPodSandbox, runtime_handler \"$handler\"" || diag "$out"
    out=$(cri CreateContainer "{\"pod_sandbox_id\":\"$SID\",\"config\":{\"metadata\":{\"name\":\"$name-c\",\"attempt\":0},
        \"image\":{\"image\":\"docker.io/library/busybox:latest\"},\"command\":[\"sh\",\"-c\",$(printf '%s' "$cmd" | jq -Rs .)],
        \"log_path\":\"c.log\"},\"sandbox_config\":$SB}" 2>&1)
    CID=$(echo "$out" | jq -r '.container_id // empty' 2>/dev/null)
    isnt "$CID" "" "... CreateContainer" || diag "$out"
    out=$(cri StartContainer "{\"container_id\":\"$CID\"}" 2>&1)
    is "$?" 0 "... StartContainer" || diag "$out"
}
# wait_exited: the container's status once it has exited (60 s at most)
wait_exited() {
    local st
    for _ in $(seq 300); do
        st=$(cri ContainerStatus "{\"container_id\":\"$CID\"}" 2>/dev/null)
        [ "$(echo "$st" | jq -r .status.state 2>/dev/null)" = CONTAINER_EXITED ] && break
        sleep 0.2
    done
    echo "$st"
}
unpod() {
    cri StopPodSandbox "{\"pod_sandbox_id\":\"$SID\"}" >/dev/null 2>&1
    cri RemovePodSandbox "{\"pod_sandbox_id\":\"$SID\"}" >/dev/null 2>&1
    is "$?" 0 "... StopPodSandbox, RemovePodSandbox"
}

# ---- runtime_handler "hull" ---------------------------------------------------------------------
pod hull p1 'echo "from the container"; readlink /proc/self/ns/ipc; exit 3'
opts=$C/state/io.containerd.runtime.v2.task/k8s.io/$SID/options.json
is "$(jq -r '.binary_name // empty' "$opts" 2>/dev/null)" "$HULL" "... the runc shim got BinaryName = hull from config.toml's runtimes.hull"
is "$("$HULL" --root "$C/hull-root/k8s.io" state "$SID" 2>/dev/null | jq -r .status)" running \
    "... hull's state (options.Root) holds the running sandbox"
spid=$("$HULL" --root "$C/hull-root/k8s.io" state "$SID" 2>/dev/null | jq -r .pid)
is "$(cat "/proc/$spid/cmdline" 2>/dev/null | tr '\0' ' ')" "sleep 2147483647 " "... its process is the pause image's"
st=$(wait_exited)
is "$(echo "$st" | jq -r '.status.state + ":" + (.status.exit_code | tostring)' 2>/dev/null)" "CONTAINER_EXITED:3" \
    "ContainerStatus: exited, exit code 3"
log=$(cat "$C/logs/p1/c.log" 2>/dev/null)
like "$log" " stdout F from the container$" "the container's output in its CRI log"
is "$(echo "$log" | sed -n 's/.* stdout F \(ipc:.*\)$/\1/p')" "$(readlink "/proc/$spid/ns/ipc" || echo "no sandbox process")" \
    "the container joined the pod's IPC namespace (the sandbox's)"
unpod
is "$(ls "$C/hull-root/k8s.io" 2>/dev/null | wc -l):$(kill -0 "$spid" 2>/dev/null && echo alive || echo gone)" "0:gone" \
    "... nothing left in hull's state, the sandbox process gone"

# ---- runtime_handler "hull-vm": the microVM executor ---------------------------------------------
pod hull-vm p2 'echo "from the VM container"; exit 4'
opts=$C/state/io.containerd.runtime.v2.task/k8s.io/$SID/options.json
is "$(jq -r '.binary_name // empty' "$opts" 2>/dev/null)" "$C/bin/hull-vm" "... the shim got BinaryName = .../hull-vm"
spid=$("$HULL" --root "$C/hull-vm-root/k8s.io" state "$SID" 2>/dev/null | jq -r .pid)
is "$(cat "/proc/$spid/comm" 2>/dev/null)" hull-vmm "... the sandbox is a microVM: its pid is hull-vmm"
st=$(wait_exited)
is "$(echo "$st" | jq -r '.status.state + ":" + (.status.exit_code | tostring)' 2>/dev/null)" "CONTAINER_EXITED:4" \
    "ContainerStatus: exited, exit code 4 (from the guest agent)"
like "$(cat "$C/logs/p2/c.log" 2>/dev/null)" " stdout F from the VM container$" "its output in its CRI log"
unpod
sleep 0.3
is "$(ls "$C/hull-vm-root/k8s.io" 2>/dev/null | wc -l):$(vm_live_procs)" "0:0" "... nothing left: no state, no VMM or monitor"
done_testing
