#!/bin/bash
# tier: fast (no qemu, no client daemons), ~6 s
# 19-image-run: images and `hull run IMAGE` as a person uses them: import from
# an OCI layout, an OCI archive and a docker-archive (made by skopeo), list,
# inspect, run with the usual flags (asserting what the container sees), -d
# with logs/ps/exec/stop/rm, a monitor killed under it, rmi and export.
# `hull run IMAGE` defaults to the bridge network: the whole test runs in a network namespace of
# its own (unshare -n), so hull0, its veths and nft rules never touch the host's network.
if [ -z "${HULL_TEST_NETNS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    HULL_TEST_NETNS=1 exec unshare --net -- "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"
is_runtime hull || skip_all "hull's image commands (runtime is $RT_NAME)"

export HULL_ROOT=$TMP/data
LAYOUT=$TMP/bb-oci
"$TESTS_LIB/../../image/make-busybox-image.sh" "$LAYOUT" >/dev/null || bail_out "cannot build the busybox image"

out=$(rt image import "$LAYOUT" --name busybox:latest 2>&1)
like "$out" '^busybox:latest sha256:[0-9a-f]{64}' "image import of an OCI layout"
is "$(rt images --format json | jq -r '.[0].repository + ":" + .[0].tag')" "busybox:latest" "images --format json lists it"
is "$(rt image inspect busybox | jq -r '.Cmd[0]')" sh "image inspect shows the config (Cmd)"

# the everyday run
out=$(rt run --rm busybox echo hello 2>&1); rc=$?
is "$rc:$out" "0:hello" "run --rm busybox echo hello"
rt run --rm busybox sh -c 'exit 3' >/dev/null 2>&1
is "$?" 3 "the exit code is the container's"
out=$(rt run --rm -e FOO=bar -w /tmp -u nobody --hostname box busybox sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"' 2>&1)
is "$out" "bar /tmp 65534:65534 box" "-e, -w, -u (resolved through the image's /etc/passwd), --hostname"
printf 'A=1\n# comment\n\nB=two\n' >"$TMP/envfile"
out=$(rt run --rm --env-file "$TMP/envfile" busybox sh -c 'echo "$A $B"' 2>&1)
is "$out" "1 two" "--env-file"
mkdir -p "$TMP/vol" && echo host-data >"$TMP/vol/f"
out=$(rt run --rm -v "$TMP/vol:/data:ro" busybox sh -c 'cat /data/f; echo x >/data/g 2>&1 || echo ro-refused' 2>&1)
like "$out" 'host-data' "-v HOST:CTR:ro shows the host directory"
like "$out" 'ro-refused|Read-only' "... read-only"
ok "$([ ! -e "$TMP/vol/g" ]; echo $?)" "... nothing written to the host"
out=$(rt run --rm --read-only busybox sh -c 'touch /x 2>&1; echo rc=$?' 2>&1)
like "$out" 'Read-only file system' "--read-only: the root is read-only"
out=$(rt run --rm --memory 48m --pids-limit 40 busybox sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' 2>&1)
is "$(printf '%s' "$out" | tr '\n' ' ' | sed 's/ *$//')" "50331648 40" "--memory 48m and --pids-limit 40 reach the container's cgroup"
out=$(rt run --rm --cpus 0.5 busybox sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max' 2>&1)
is "$out" 50000 "--cpus 0.5: a quota of 50 ms per 100 ms"
out=$(rt run --rm -t busybox sh -c 'tty; echo done' </dev/null 2>&1 | tr -d '\r')
is "$(printf '%s' "$out" | tr '\n' ' ')" "/dev/pts/0 done" "-t: the container has a terminal, proxied by hull"
out=$(rt run --rm --cap-drop ALL busybox grep CapEff /proc/self/status 2>&1)
like "$out" 'CapEff:[[:space:]]+0000000000000000' "--cap-drop ALL: no capability"
out=$(rt run --rm --cap-add NET_ADMIN busybox grep CapEff /proc/self/status 2>&1)
like "$out" 'CapEff:[[:space:]]+00000000a80435fb' "--cap-add NET_ADMIN: docker's default set plus NET_ADMIN"
out=$(rt run --rm busybox grep -E '^Seccomp:' /proc/self/status 2>&1)
like "$out" 'Seccomp:[[:space:]]+2' "the default seccomp profile is on"
out=$(rt run --rm busybox sh -c 'mount -t tmpfs x /mnt 2>&1; echo rc=$?' 2>&1)
like "$out" 'rc=[1-9]' "... and mount is refused in a default container"
out=$(rt run --rm --security-opt seccomp=unconfined busybox grep -E '^Seccomp:' /proc/self/status 2>&1)
like "$out" 'Seccomp:[[:space:]]+0' "--security-opt seccomp=unconfined"
rt run --rm nosuchimage true >/dev/null 2>"$TMP/err"
isnt "$?" 0 "run of an unknown image fails"
like "$(cat "$TMP/err")" 'not found' "... saying so"
is "$(ls "$HULL_ROOT/containers" 2>/dev/null | wc -l)" 0 "--rm leaves no container behind"

# detached: monitor, logs, ps, exec, stop, rm
id=$(rt run -d --name web busybox sh -c 'echo started; echo oops >&2; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done' 2>"$TMP/err")
like "$id" '^[0-9a-f]{64}$' "run -d prints the container id"
sleep 0.8
out=$(rt logs web 2>&1)
like "$out" 'started' "logs: stdout"
like "$out" 'oops' "logs: stderr"
like "$(rt logs --timestamps web 2>/dev/null | head -1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "logs --timestamps"
like "$(rt ps)" 'web' "ps lists the running container"
is "$(rt ps --format json | jq -r '.[] | select(.Names == "web") | .State')" running "ps --format json: running"
is "$(rt exec web sh -c 'echo in-$(hostname)' 2>&1)" "in-${id:0:12}" "exec by name"
rt run -d --name web busybox true >/dev/null 2>"$TMP/err"
isnt "$?" 0 "a second container named web is refused"
rt rmi busybox >/dev/null 2>"$TMP/err"
isnt "$?" 0 "rmi refuses while a container uses the image"
rt stop -t 1 web >/dev/null 2>&1
is "$?" 0 "stop"
sleep 0.3
is "$(rt ps -a --format json | jq -r '.[] | select(.Names == "web") | .State')" exited "ps -a: exited after stop"
rt rm web >/dev/null 2>&1
is "$?" 0 "rm"
ok "$([ ! -e "$HULL_ROOT/containers/$id" ]; echo $?)" "rm removes the container and its upper layer"

# a monitor killed with SIGKILL: the container is still reported and removable
id=$(rt run -d --name orphan busybox sleep 300 2>/dev/null)
mon=$(jq -r .monitorPid "$HULL_ROOT/containers/$id/meta.json" 2>/dev/null)
kill -9 "$mon" 2>/dev/null
sleep 0.2
like "$(rt ps -a)" 'orphan' "with its monitor killed the container is still listed"
rt rm -f orphan >/dev/null 2>&1
is "$?" 0 "... and rm -f removes it"
is "$(tagged_pids | wc -l)" 0 "... no process of it is left"

# issue 14, item 8: `hull run -d --name` killed with SIGKILL in its first milliseconds. The record
# must carry its name from its first instant (or not exist yet), so `rm -f NAME` finds whatever is
# left; afterwards nothing of any attempt remains: record, mount, cgroup, lease.
nameless=0 rmfail=0 seen=""
for i in $(seq 1 40); do
    "$HULL" --root "$STATE" run -d --name kn$i busybox sleep 100 >/dev/null 2>&1 &
    p=$!
    d=$((RANDOM % 11))
    sleep "$(printf '0.%03d' "$d")"
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    seen="$seen $(ls "$HULL_ROOT/containers" 2>/dev/null | tr '\n' ' ')"
    ids=$(rt ps -a --format json 2>/dev/null | jq -r '.[] | select((.Names // "") == "") | .Id')
    [ -z "$ids" ] || { nameless=$((nameless + 1)); diag "attempt $i (${d} ms): a nameless record in ps -a: $ids"; }
    out=$(rt rm -f kn$i 2>&1) ||
        { [[ $out == *"no such container"* ]] && [ -z "$(ls -A "$HULL_ROOT/containers" 2>/dev/null)" ]; } ||
        { rmfail=$((rmfail + 1)); diag "attempt $i (${d} ms): rm -f kn$i: $out; left: $(ls -A "$HULL_ROOT/containers" 2>/dev/null | tr '\n' ' ')"; }
done
is "$nameless" 0 "40 run -d killed 0-10 ms in: ps -a never shows a nameless record"
is "$rmfail" 0 "... and rm -f NAME removes whatever each left (no such container only when nothing is on disk)"
for id in $(ls "$HULL_ROOT/containers" 2>/dev/null); do rt rm -f "$id" >/dev/null 2>&1; done   # so a failure above leaves no debris
leftcg=0
for id in $seen; do for c in /sys/fs/cgroup/*/hull/"$id" /sys/fs/cgroup/hull/"$id"; do [ -d "$c" ] && leftcg=$((leftcg + 1)); done; done
is "$(ls -A "$HULL_ROOT/containers" 2>/dev/null | wc -l)|$(grep -c " $HULL_ROOT/containers/" /proc/self/mountinfo)|$leftcg|$(cat "$HULL_ROOT"/networks/*.leases 2>/dev/null | wc -l)" \
    "0|0|0|0" "... after all attempts: no container dir, mount, cgroup or lease left"

# archives: hull export -> skopeo docker-archive -> import; umoci unpack
rt image export busybox "$TMP/bb.tar" >/dev/null 2>&1
is "$?" 0 "image export to an OCI archive"
rt image rm busybox >/dev/null 2>&1
out=$(rt image import "$TMP/bb.tar" --name busybox:latest 2>&1)
like "$out" '^busybox:latest ' "import of the exported OCI archive"
if command -v skopeo >/dev/null; then
    like "$(skopeo inspect "oci-archive:$TMP/bb.tar" 2>&1)" '"Layers"' "skopeo inspect accepts the export"
    skopeo copy -q "oci-archive:$TMP/bb.tar" "docker-archive:$TMP/bb-docker.tar:busybox:docker" >/dev/null 2>&1
    out=$(rt image import "$TMP/bb-docker.tar" 2>&1)
    like "$out" '^busybox:docker ' "import of a docker-archive written by skopeo (docker.io/library/ dropped)"
    is "$(rt run --rm busybox:docker echo from-docker-archive 2>&1)" from-docker-archive "and it runs"
else
    skip "skopeo is not installed"; skip "(same)"; skip "(same)"
fi
if command -v umoci >/dev/null; then
    mkdir -p "$TMP/umoci" && tar -C "$TMP/umoci" -xf "$TMP/bb.tar"
    tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // empty' "$TMP/umoci/index.json")
    umoci unpack --image "$TMP/umoci${tag:+:$tag}" "$TMP/umoci-bundle" >/dev/null 2>&1
    ok "$([ -x "$TMP/umoci-bundle/rootfs/bin/busybox" ]; echo $?)" "umoci unpack accepts the export"
else
    skip "umoci is not installed"
fi
# an image made by umoci (init/new/unpack/repack), imported and run
if command -v umoci >/dev/null; then
    L=$TMP/umoci-made
    umoci init --layout "$L" >/dev/null 2>&1 && umoci new --image "$L:t1" >/dev/null 2>&1 &&
        umoci unpack --image "$L:t1" "$TMP/ub" >/dev/null 2>&1 &&
        mkdir -p "$TMP/ub/rootfs/bin" && cp /bin/busybox "$TMP/ub/rootfs/bin/" &&
        ln -sf busybox "$TMP/ub/rootfs/bin/sh" && ln -sf busybox "$TMP/ub/rootfs/bin/echo" &&
        umoci repack --image "$L:t1" "$TMP/ub" >/dev/null 2>&1
    out=$(rt image import "$L" --name umoci-made:t1 2>&1)
    like "$out" '^umoci-made:t1 ' "import of an image umoci made"
    is "$(rt run --rm umoci-made:t1 /bin/sh -c 'echo from-umoci' 2>&1)" from-umoci "and it runs"
else
    skip "umoci is not installed"; skip "(same)"
fi

# logs -f follows until the container exits
id=$(rt run -d busybox sh -c 'echo one; sleep 0.3; echo two; sleep 0.3; echo three' 2>/dev/null)
out=$(timeout 10 "$HULL" --root "$STATE" logs -f "$id" 2>&1)
is "$(printf '%s' "$out" | tr '\n' ' ')" "one two three" "logs -f prints everything and returns when the container exits"
rt rm "$id" >/dev/null 2>&1
# ... and misses nothing of a burst written right before the exit: the monitor is still
# draining the pipe into the log when the container is already gone
id=$(rt run -d busybox sh -c 'sleep 0.5; seq 1 30000; echo last' 2>/dev/null)
out=$(timeout 20 "$HULL" --root "$STATE" logs -f "$id" 2>&1)
is "$(printf '%s\n' "$out" | wc -l) $(printf '%s\n' "$out" | tail -n 1)" "30001 last" \
    "logs -f of a burst before exit: every line, the last one last"
rt rm "$id" >/dev/null 2>&1

# without overlayfs: the layers are copied into the container's rootfs
id=$(HULL_NO_OVERLAY=1 rt run -d busybox sh -c 'echo copied >/marker; sleep 300' 2>/dev/null)
sleep 0.3
root=$HULL_ROOT/containers/$id/bundle/rootfs
ok "$(! grep -q " $root " /proc/self/mountinfo; echo $?)" "HULL_NO_OVERLAY=1: no overlay mount"
ok "$([ -x "$root/bin/busybox" ]; echo $?)" "... the image's files were copied in"
is "$(cat "$root/marker" 2>/dev/null)" copied "... and the container writes into that copy"
rt rm -f "$id" >/dev/null 2>&1
ok "$([ ! -e "$HULL_ROOT/containers/$id" ]; echo $?)" "... rm removes the copy"

done_testing
