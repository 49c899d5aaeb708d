#!/bin/bash
# tier: fast (no qemu, no client daemons), ~4 s
# 17-cgroup-limits: linux.resources as the container lives them on this host,
# the container's own view of /sys/fs/cgroup, and bad resources refused with
# nothing left behind.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

# pids.max stops a fork bomb
# (counted with shell builtins only: once the limit is reached nothing can fork)
mkbundle b1 sh -c '( for i in $(seq 60); do sleep 5 & done ) 2>/dev/null; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo "procs=$n"'
cfg_set '.linux.resources.pids = {limit: 16}'
ctr_run
like "$OUT" 'procs=' "a container forking 60 sleeps under pids.max 16 goes on"
n=$(printf '%s' "$OUT" | sed -n 's/.*procs=//p')
ok "$([ "${n:-99}" -le 16 ]; echo $?)" "no more than 16 processes ever exist ($n)"

# devices: after "deny all" only the default devices and what the spec allows
# open. (As in runc, the defaults -- null, zero, tty, ... -- are appended after
# the spec's rules, so a spec cannot take /dev/null away.) c 10:200 is /dev/net/tun.
mkbundle b2 sh -c 'rm -f /tmp/tun; mknod /tmp/tun c 10 200 && echo made; (exec 3</tmp/tun) 2>&1 && echo OPENED; echo x >/dev/zero && echo zero-ok'
cfg_set '.linux.resources.devices = [{allow: false, access: "rwm"}]'
ctr_run
like "$OUT" 'made' "mknod of any node is allowed (as runc)"
todo_for runc "runc allows /dev/net/tun by default"
like "$OUT$ERR" 'Operation not permitted' "a device the rules do not allow (c 10:200) cannot be opened"
unlike "$OUT" 'OPENED' "... open failed"
TAP_TODO=
like "$OUT" 'zero-ok' "default devices (/dev/zero) still work"
cfg_set '.linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 200, access: "r"}]'
ctr_run
like "$OUT" 'OPENED' "an allow rule for c 10:200 r opens it"

# the container's own view: cgroup namespace + cgroup mount
mkbundle b3 sh -c 'cat /proc/self/cgroup | head -3; cat /sys/fs/cgroup/pids/pids.max; echo 1 >/sys/fs/cgroup/pids/pids.max 2>&1; echo "w=$?"'
cfg_set '.linux.namespaces += [{type: "cgroup"}] | .linux.resources.pids = {limit: 77}
         | .mounts += [{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}]'
ctr_run
is "$RC" 0 "run with a cgroup namespace and a cgroup mount"
like "$OUT" '(^|\n)[0-9]+:[^:]*:/$' "in its cgroup namespace the container's cgroup is /"
like "$OUT" '77' "/sys/fs/cgroup/pids/pids.max inside is the container's own limit (77)"
like "$OUT$ERR" 'Read-only file system' "/sys/fs/cgroup is read-only inside"

# bad resources: refused before anything exists
bad() {   # EXPR WHAT
    mkbundle bb true
    new_id bad        # sets cgroupsPath: the bad expression comes after it
    cfg_set "$1"
    rt create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>"$TMP/bad.err"
    RC=$?
    ERR=$(cat "$TMP/bad.err")
    isnt "$RC" 0 "$2: create fails"
    if is_runtime hull; then like "$ERR" '^hull: ' "$2: the message says why ($(printf '%s' "$ERR" | head -c 90))"; else skip "message format is hull's"; fi
    is "$(rt list -q 2>/dev/null | grep -c "^$ID\$")" 0 "$2: no state left"
    is "$(cgroup_dirs "$ID" | wc -l)" 0 "$2: no cgroup directory left"
    rt delete --force "$ID" >/dev/null 2>&1
}
bad '.linux.resources.memory = {limit: -5}' "negative memory limit"
bad '.linux.resources.devices = [{allow: true, type: "x", access: "rwm"}]' "unknown device type"
bad '.linux.resources.unified = {"../memory.max": "1"}' "unified key with ../"
bad '.linux.resources.unified = {"a/b": "1"}' "unified key with /"
todo_for runc "runc cleans /../../etc to /etc and accepts it"
bad '.linux.cgroupsPath = "/../../etc"' "cgroupsPath escaping the hierarchy"
TAP_TODO=
done_testing
