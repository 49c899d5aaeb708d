#!/bin/bash
# tier: fast (no qemu, no client daemons), ~3 s
# 04-namespaces: new namespaces differ from the host's, sharing when not asked, joining by path,
# user namespace mappings, cgroup and time namespaces.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b
cfg_set '.linux.namespaces += [{type: "cgroup"}]'
ctr_sh 'for n in pid mnt net ipc uts cgroup; do stat -L -c "$n %i" /proc/self/ns/$n; done; echo "pid1 $$"'
is "$RC" 0 "a container with pid, mount, network, ipc, uts and cgroup namespaces runs"
for n in pid mnt net ipc uts cgroup; do
    inner=$(printf '%s\n' "$OUT" | awk -v n="$n" '$1 == n { print $2 }')
    if [ -n "$inner" ]; then
        isnt "$inner" "$(host_ns $n)" "$n namespace inode differs from the host's"
    else
        fail "$n namespace inode differs from the host's (no inode read)"
    fi
done
like "$OUT" '^pid1 1$' "the process is pid 1 in its pid namespace"
ctr_sh 'cat /proc/self/cgroup'
like "$OUT" ':/$' "cgroup namespace: the container sees its cgroup as /"

# without network/ipc/uts namespaces, the host's are shared
cfg_set '.linux.namespaces = [{type: "pid"}, {type: "mount"}] | del(.hostname)'
ctr_sh 'for n in net ipc uts; do stat -L -c "$n %i" /proc/self/ns/$n; done'
for n in net ipc uts; do
    is "$(printf '%s\n' "$OUT" | awk -v n="$n" '$1 == n { print $2 }')" "$(host_ns $n)" "no $n namespace asked: the host's is shared"
done

# joining a network namespace by path
NS=hull-$TAG
if ip netns add "$NS" 2>/dev/null; then
    echo "$NS" >>"$TMP/netns"
    want=$(stat -L -c %i "/run/netns/$NS")
    mkbundle b2
    cfg_set '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' --arg p "/run/netns/$NS"
    ctr_sh 'stat -L -c %i /proc/self/ns/net'
    is "$OUT" "$want" "joining a network namespace by path: same inode as /run/netns/$NS"
    ip netns exec "$NS" ip link set lo up 2>/dev/null
    ctr_sh 'ip -o link show lo 2>/dev/null || cat /sys/class/net/lo/operstate'
    like "$OUT" 'UP|unknown' "the joined namespace's state (lo up) is visible"
    ip netns delete "$NS"
else
    skip "cannot create a network namespace with ip netns" 2
fi

# joining the pid namespace... of another container: run one, join its ipc namespace by path
mkbundle b3 sleep 600
ctr_create
holder=$ID
hpid=$(ctr_pid "$holder")
if [ "$RC" = 0 ] && [ -n "$hpid" ]; then
    mkbundle b4
    cfg_set '(.linux.namespaces[] | select(.type == "ipc")) |= {type: "ipc", path: $p} | (.linux.namespaces[] | select(.type == "uts")) |= {type: "uts", path: $u}' \
        --arg p "/proc/$hpid/ns/ipc" --arg u "/proc/$hpid/ns/uts"
    ctr_sh 'stat -L -c %i /proc/self/ns/ipc; stat -L -c %i /proc/self/ns/uts'
    is "$OUT" "$(stat -L -c %i /proc/$hpid/ns/ipc; stat -L -c %i /proc/$hpid/ns/uts)" "joining another container's ipc and uts namespaces by /proc path"
else
    fail "create of a holder container failed: $ERR"
fi
rt delete --force "$holder" >/dev/null 2>&1

# user namespace with mappings
mkbundle b5
cfg_set '.linux.namespaces += [{type: "user"}]
  | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
  | .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
  | .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
ctr_sh 'cat /proc/self/uid_map; cat /proc/self/gid_map; id -u; stat -L -c %i /proc/self/ns/user'
is "$RC" 0 "a container with a user namespace runs" || diag "$ERR"
lines=$(printf '%s\n' "$OUT" | awk '{$1=$1; print}')
is "$(printf '%s\n' "$lines" | sed -n 1p)" "0 100000 65536" "uid_map shows the uid mapping"
is "$(printf '%s\n' "$lines" | sed -n 2p)" "0 200000 65536" "gid_map shows the gid mapping"
is "$(printf '%s\n' "$lines" | sed -n 3p)" 0 "uid 0 inside the user namespace"
isnt "$(printf '%s\n' "$lines" | sed -n 4p)" "$(host_ns user)" "user namespace inode differs from the host's"
# from the host: a long-lived process's uid is the mapped host uid
set_args sleep 600
ctr_create
upid=$(ctr_pid "$ID")
if [ -n "$upid" ]; then
    is "$(awk '/^Uid:/ {print $2}' /proc/$upid/status)" 100000 "seen from the host, container root is uid 100000"
    is "$(awk '/^Gid:/ {print $2}' /proc/$upid/status)" 200000 "seen from the host, container root's gid is 200000"
else
    fail "create with a user namespace failed: $ERR"; fail "(no pid)"
fi
rt delete --force "$ID" >/dev/null 2>&1

# time namespace: only if the runtime says it supports it
if rt features 2>/dev/null | jq -e '.linux.namespaces | index("time")' >/dev/null 2>&1; then
    mkbundle b6
    cfg_set '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 0}, boottime: {secs: 86400, nanosecs: 0}}'
    ctr_sh 'cut -d. -f1 /proc/uptime; stat -L -c %i /proc/self/ns/time'
    host_up=$(cut -d. -f1 /proc/uptime)
    inner_up=$(printf '%s\n' "$OUT" | sed -n 1p)
    cmp_ok "${inner_up:-0}" -ge $((host_up + 86000)) "time namespace: a boottime offset of one day shows in /proc/uptime"
    isnt "$(printf '%s\n' "$OUT" | sed -n 2p)" "$(host_ns time)" "time namespace inode differs from the host's"
else
    skip "the time namespace is not in $RT_NAME's features" 2
fi

done_testing
