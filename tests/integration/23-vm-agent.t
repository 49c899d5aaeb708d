#!/bin/bash
# tier: fast (no qemu, no client daemons; the agent in its host test mode), ~6 s
# 23-vm-agent: the microVM guest agent (build/hull-agent) on the host, in its test mode
# (--test-fds): tests/lib/agent-drive.c plays the host side of the protocol over
# socketpairs, with the control channel multiplexing stdio (MUX) or with separate
# stdio "ports" (PORTS). Same busybox bundle as the shared-kernel tests: exit codes,
# signals, stdin, env/cwd/user, 10 MB of output, EXEC into the running container,
# PS, a terminal with RESIZE, malformed frames, and nothing left behind.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT=${HULL_AGENT:-$(dirname "$HULL")/hull-agent}
[ -x "$AGENT" ] || skip_all "no $AGENT (make $(dirname "$HULL")/hull-agent)"
command -v cc >/dev/null || skip_all "needs cc for the protocol driver"
DRIVE=$TMP/bin/agent-drive
cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$ROOT" -o "$DRIVE" "$ROOT/tests/lib/agent-drive.c" \
    "$ROOT/vm/proto/agent_proto.c" "$ROOT/vm/proto/agent_proto_enc.c" "$ROOT/base/error.c" 2>"$TMP/drive.log" ||
    bail_out "cannot build agent-drive: $(cat "$TMP/drive.log")"

mkbundle vm
# The agent applies mounts, namespaces, caps, seccomp like `hull run`; the cgroup
# mount needs a container cgroup the agent does not make (the VM is the cgroup).
cfg_set "del(.linux.cgroupsPath) | del(.linux.resources)"

# drive [MODE...] -- STEP...: runs the bundle through the agent; sets OUT, ERR, RC, EV.
drive() {
    local opts=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    local t0
    t0=$(date +%s%N)
    timeout -k 5 60 "$DRIVE" "${opts[@]}" --events "$TMP/ev" "$AGENT" "$BUNDLE/rootfs" "$CFG" "$@" \
        <"${DRIVE_STDIN:-/dev/null}" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    [ -n "${DRIVE_TIMES:-}" ] && diag "drive $*: $((($(date +%s%N) - t0) / 1000000)) ms"
    OUT=
    [ "$(stat -c %s "$TMP/out")" -lt 1000000 ] && OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
    EV=$(cat "$TMP/ev")
}
ev() { printf '%s\n' "$EV" | grep -E "^$1" | head -1; }

for MODE in mux ports; do
    M=()
    [ $MODE = ports ] && M=(--ports)

    set_args /bin/echo "hello from the agent"
    drive "${M[@]}"
    is "$OUT" "hello from the agent" "$MODE: echo's output arrives"
    is "$RC" 0 "$MODE: exit code 0"
    like "$(ev HELLO)" "^HELLO [0-9]" "$MODE: the agent says HELLO with its version"
    like "$(ev STARTED)" "^STARTED 1 [0-9]+$" "$MODE: STARTED with the guest pid"
    is "$(ev EXIT)" "EXIT 1 0 21 0" "$MODE: EXIT carries the status and the output byte counts"
    is "$(ev AGENT)" "AGENT 0" "$MODE: the agent exits cleanly after POWEROFF"

    set_args /bin/sh -c 'echo to-stderr >&2; exit 3'
    drive "${M[@]}"
    is "$RC" 3 "$MODE: exit code 3"
    is "$ERR" "to-stderr" "$MODE: stderr is separate"

    set_args /bin/sh -c 'tr a-z A-Z'
    printf 'piped through stdin\n' >"$TMP/in"
    DRIVE_STDIN=$TMP/in drive "${M[@]}"
    is "$OUT" "PIPED THROUGH STDIN" "$MODE: stdin is piped through, EOF delivered"

    head -c 3000000 /dev/urandom >"$TMP/bigin"
    set_args /bin/sh -c 'md5sum | cut -d" " -f1'
    DRIVE_STDIN=$TMP/bigin drive "${M[@]}"
    is "$OUT" "$(md5sum <"$TMP/bigin" | cut -d' ' -f1)" "$MODE: 3 MB of stdin intact (flow control)"

    set_args /bin/sh -c 'head -c 10485760 /dev/urandom >/tmp/big; md5sum </tmp/big | cut -d" " -f1 >&2; cat /tmp/big'
    drive "${M[@]}"
    SUM=$(md5sum <"$TMP/out" | cut -d' ' -f1)
    is "$(stat -c %s "$TMP/out")" 10485760 "$MODE: 10 MB of output, every byte"
    is "$SUM" "$ERR" "$MODE: and intact (md5 inside = md5 outside)"
    is "$(ev EXIT)" "EXIT 1 0 10485760 33" "$MODE: EXIT counts the same bytes"

    set_args /bin/sleep 30
    drive "${M[@]}" -- sleep:100 signal:9
    is "$RC" 137 "$MODE: SIGNAL 9 -> 137"
    is "$(ev EXIT)" "EXIT 1 137 0 0" "$MODE: EXIT reports the signal"
done

# Identity, environment, working directory (the main process).
cfg_set '.process.user = {uid: 1000, gid: 1000, additionalGids: [5, 7]} | .process.cwd = "/home/user" |
         .process.env += ["FOO=bar baz"]'
set_args /bin/sh -c 'id; pwd; echo "$FOO"; hostname'
drive
is "$OUT" "$(printf 'uid=1000(user) gid=1000(user) groups=5,7\n/home/user\nbar baz\nhulltest')" \
    "user/groups (id), cwd (pwd), env and hostname honoured"
cfg_set '.process.user = {uid: 0, gid: 0} | .process.cwd = "/"'

# Capabilities, no_new_privs, seccomp, rlimits, umask: applied inside as on a host.
cp "$CFG" "$TMP/config.saved"
cfg_set '.process.capabilities = {bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]} |
         .process.user.umask = 23 |
         .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
set_args /bin/sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; ulimit -n; umask; mkdir /tmp/d 2>&1 || echo mkdir-refused'
drive
like "$OUT" "CapEff:[[:space:]]+0000000000000020" "capabilities: the effective set is CAP_KILL only" || diag "$OUT"
like "$OUT" "CapBnd:[[:space:]]+0000000000000020" "and the bounding set"
like "$OUT" "NoNewPrivs:[[:space:]]+1" "noNewPrivileges applied"
like "$OUT" "Seccomp:[[:space:]]+2" "a seccomp filter is loaded"
like "$OUT" "mkdir-refused" "and it refuses mkdir"
like "$OUT" $'\n1024\n' "rlimits applied (NOFILE 1024)"
like "$OUT" $'\n0027\n' "umask applied"
cp "$TMP/config.saved" "$CFG"

# EXEC a second process into the running container, PS, then kill the main process.
set_args /bin/sleep 30
printf '%s' '{"args":["/bin/sh","-c","echo exec-out; id -u; pwd; echo $X; ps -o args | grep -c ^/bin/sleep"],"cwd":"/tmp","env":["PATH=/bin","X=y"],"user":{"uid":65534,"gid":65534}}' >"$TMP/p.json"
printf '%s' '{"args":["/no/such/binary"],"cwd":"/"}' >"$TMP/bad.json"
drive -- "exec:$TMP/p.json" "exec:$TMP/bad.json" ps signal:9
is "$OUT" "$(printf 'exec-out\n65534\n/tmp\ny\n1')" "EXEC runs in the same container (its pid namespace sees the sleep)"
like "$(ev 'STARTED 2')" "^STARTED 2 [0-9]+" "EXEC answered with STARTED"
is "$(ev 'EXIT 2')" "EXIT 2 0 24 0" "EXEC's own EXIT"
like "$(ev 'ERROR 3')" "^ERROR 3 EXEC 2 - exec \"/no/such/binary\"" "a failing EXEC is an ERROR for its id, the container runs on"
MAIN=$(ev 'STARTED 1' | awk '{print $3}')
is "$(ev PS)" "PS 900 1 $MAIN" "PS lists the container's processes (the sleep)"
is "$RC" 137 "then SIGNAL 9 ends it: 137"

# A terminal: the pty, its size, RESIZE.
cfg_set '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}'
set_args /bin/sh -c 'tty; stty size; sleep 0.5; stty size'
drive -- sleep:150 resize:50,132
is "$(printf '%s' "$OUT" | tr -d '\r')" "$(printf '/dev/pts/0\n30 100\n50 132')" "process.terminal: a pty, consoleSize, then RESIZE"
cfg_set '.process.terminal = false | del(.process.consoleSize)'

# A signal the process handles; SIGNAL with the all flag.
set_args /bin/sh -c 'trap "echo got TERM; exit 7" TERM; sleep 20 & wait'
drive -- sleep:200 signal:15
is "$OUT" "got TERM" "SIGNAL 15 is delivered to the process"
is "$RC" 7 "and its own exit code comes back"
set_args /bin/sh -c 'sleep 20 & sleep 21 & wait'
drive -- sleep:200 signal-all:9
is "$RC" 137 "SIGNAL with the all flag kills every process"

# Without a pid namespace, what the main process leaves behind is killed at its exit.
cfg_set 'del(.linux.namespaces[] | select(.type == "pid"))'
set_args /bin/sh -c 'sleep 77 & echo bg-started'
drive
is "$OUT" "bg-started" "main exits with a background child"
sleep 0.2
is "$(tagged_pids | wc -l)" 0 "the child is killed with the container"
cfg_set '.linux.namespaces += [{type: "pid"}]'

# A process that cannot start: ERROR for START, the agent still ends cleanly.
set_args /no/such/program
drive
is "$RC" 125 "a START that cannot exec: no exit status"
like "$(ev ERROR)" "^ERROR 1 START 2 - exec \"/no/such/program\"" "ERROR names the request and the reason"
is "$(ev AGENT)" "AGENT 0" "the agent still powers off cleanly"

# Malformed frames from the host: ERROR(fatal), the container is killed, the agent exits 1.
set_args /bin/sleep 30
printf 'GARBAGE-GARBAGE-GARBAGE' >"$TMP/garbage"
printf 'HLAG\001\004\000\000\010\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000' >"$TMP/badsig"
printf 'HLAG\001\006\000\000\377\377\377\177\001\000\000\000' >"$TMP/huge"
printf 'HLAG\002\020\000\000\000\000\000\000\000\000\000\000' >"$TMP/version"
printf 'HLAG\001\014\000\000\000\000\000\000\001\000\000\000' >"$TMP/wrongdir"
for f in garbage:"bad magic" badsig:"signo 0 out of range" huge:"exceeds the limit" \
         version:"version 2" wrongdir:"EXIT is not valid from the host"; do
    name=${f%%:*} want=${f#*:}
    drive --raw-after "$TMP/$name"
    like "$(ev ERROR)" "^ERROR 0 - [0-9]+ fatal agent protocol: .*$want" "malformed ($name): a clean fatal ERROR"
    is "$(ev 'EXIT 1')" "EXIT 1 137 0 0" "malformed ($name): the container is killed and reported"
    is "$(ev AGENT)" "AGENT 1" "malformed ($name): the agent exits 1"
done
drive --raw "$TMP/garbage"
like "$(ev ERROR)" "bad magic" "garbage before START: ERROR too"
is "$(ev AGENT)" "AGENT 1" "and a clean exit"
sleep 0.2
is "$(tagged_pids | wc -l)" 0 "no container process left behind"

# The agent refuses to run as a plain program.
"$AGENT" >/dev/null 2>"$TMP/plain.err"
is "$?" 2 "hull-agent without --test-fds outside a VM: usage error"
like "$(cat "$TMP/plain.err")" "not PID 1" "saying why"

done_testing
