#!/bin/bash
# tier: fast (no qemu, no client daemons), ~2 s
# 15-cgroup-placement: the container's processes sit in the container's cgroup
# in every hierarchy the host has (v1 controllers, named ones, the v2 tree):
# the init (which moves itself, or is moved by the runtime inside a user
# namespace) and processes started with exec.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

n_hier=$(grep -c . /proc/self/cgroup)

# all hierarchies of /proc/PID/cgroup end in /hulltest/ID
check_placement() {   # PID ID WHAT
    local lines good
    lines=$(cat /proc/$1/cgroup 2>/dev/null)
    good=$(printf '%s\n' "$lines" | grep -c ":/hulltest/$2\$")
    is "$good" "$n_hier" "$3: in /hulltest/$2 in all $n_hier hierarchies"
    [ "$good" = "$n_hier" ] || diag "$lines"
}

mkbundle b1 sleep 600
ctr_create
C=$ID
rt start "$C" >/dev/null 2>&1
wait_status "$C" running 5 || diag "not running: $ERR"
ipid=$(ctr_pid "$C")
check_placement "$ipid" "$C" "init"
rt exec -d --pid-file "$TMP/exec.pid" "$C" sleep 300 >/dev/null 2>&1
epid=$(cat "$TMP/exec.pid" 2>/dev/null)
check_placement "${epid:-0}" "$C" "exec'd process"
procs=$(cat /sys/fs/cgroup/pids/hulltest/$C/cgroup.procs 2>/dev/null | sort -n | tr '\n' ' ')
is "$procs" "$(printf '%s\n' "$ipid" "$epid" | sort -n | tr '\n' ' ')" "cgroup.procs lists exactly the init and the exec'd process"
rt delete --force "$C" >/dev/null 2>&1
ok "$([ -z "$(cgroup_dirs "$C")" ]; echo $?)" "delete --force removes the cgroup in every hierarchy"

# In a new user namespace the init may not write the host's cgroup files; the
# runtime moves it instead.
mkbundle b2 sleep 600
cfg_set '.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
         | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
ctr_create
C=$ID
is "$RC" 0 "create with a user namespace"
check_placement "$(ctr_pid "$C")" "$C" "init in a user namespace"
rt delete --force "$C" >/dev/null 2>&1
done_testing
