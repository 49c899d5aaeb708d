#!/bin/bash
# tier: fast (no qemu, no client daemons), ~2 s
# 09-exec: exec into a running container.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b sleep 600
cfg_set '.process.env += ["FROMCONFIG=yes"]'
ctr_create
C=$ID
rt start "$C" >/dev/null 2>&1
wait_status "$C" running 5 || bail_out "the container did not start: $ERR"
ipid=$(ctr_pid "$C")

x() { rt exec "$@" </dev/null 2>"$TMP/exec.err"; }

out=$(x "$C" echo hello); rc=$?
is "$rc:$out" "0:hello" "exec: output and exit code 0"
x "$C" sh -c 'exit 7' >/dev/null
is "$?" 7 "exec: the exit code of the process is returned"
out=$(x "$C" sh -c 'echo err >&2' 2>&1 >/dev/null; cat "$TMP/exec.err")
is "$out" err "exec: stderr is passed through"
out=$(printf 'in-data\n' | rt exec "$C" cat 2>/dev/null)
is "$out" in-data "exec: stdin is passed through"
out=$(x --env FOO=bar --env BAZ=qux "$C" sh -c 'echo "$FOO $BAZ $FROMCONFIG"')
is "$out" "bar qux yes" "exec --env adds variables (config env kept)"
out=$(x --cwd /tmp "$C" pwd)
is "$out" /tmp "exec --cwd"
out=$(x --user 1000:1000 "$C" sh -c 'id -u; id -g')
is "$out" "$(printf '1000\n1000')" "exec --user 1000:1000"
out=$(x --user 65534 "$C" id -u)
is "$out" 65534 "exec --user UID"
out=$(x "$C" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; stat -L -c %i /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/net')
like "$out" '^sleep 600 ' "exec: pid 1 is the container's init (same pid namespace)"
is "$(printf '%s\n' "$out" | sed 1d | tr '\n' ' ')" "$(stat -L -c %i /proc/$ipid/ns/pid /proc/$ipid/ns/mnt /proc/$ipid/ns/net | tr '\n' ' ')" \
   "exec: same pid, mount and net namespaces as the init"
out=$(x "$C" grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status)
like "$out" 'CapBnd:[[:space:]]+00000000a80425fb' "exec: the config's bounding set applies"
like "$out" 'NoNewPrivs:[[:space:]]+1' "exec: noNewPrivileges applies"
out=$(x "$C" hostname)
is "$out" hulltest "exec: same uts namespace (hostname)"

# --process process.json
jq -n '{terminal: false, user: {uid: 1000, gid: 1000, additionalGids: [4000]}, args: ["/bin/sh", "-c", "echo \"$PJ $(id -u) $(pwd)\"; grep ^Groups: /proc/self/status"],
        env: ["PATH=/bin:/usr/bin", "PJ=from-process-json"], cwd: "/home/user"}' >"$TMP/process.json"
out=$(x --process "$TMP/process.json" "$C")
is "$(printf '%s\n' "$out" | sed -n 1p)" "from-process-json 1000 /home/user" "exec --process: args, env, user, cwd from process.json"
like "$(printf '%s\n' "$out" | sed -n 2p)" 'Groups:[[:space:]]+4000' "exec --process: additionalGids"

# --detach --pid-file
x --detach --pid-file "$TMP/exec.pid" "$C" sleep 300 >/dev/null
ok $? "exec --detach returns at once"
epid=$(cat "$TMP/exec.pid" 2>/dev/null)
cmp_ok "${epid:-0}" -gt 0 "exec --detach --pid-file writes a pid"
ok "$(alive "$epid"; echo $?)" "the detached exec process is alive"
is "$(tr '\0' ' ' </proc/$epid/cmdline 2>/dev/null)" "sleep 300 " "the pid is the exec'd process"
is "$(stat -L -c %i /proc/$epid/ns/pid 2>/dev/null)" "$(stat -L -c %i /proc/$ipid/ns/pid)" "the detached exec process is in the container's pid namespace"
out=$(x "$C" ps -o comm 2>/dev/null | sort | tr '\n' ' ')
like "$out" 'sleep sleep' "exec: ps inside sees both sleeps"

x "$C" /no/such/binary >/dev/null
nok $? "exec of a missing binary fails"
x no-such-$TAG true >/dev/null
nok $? "exec into an unknown container fails"

rt kill "$C" KILL >/dev/null 2>&1
wait_status "$C" stopped 5
wait_gone "$epid" 5
ok $? "killing the init (pid namespace) kills the exec'd process too"
x "$C" true >/dev/null
nok $? "exec into a stopped container fails"
rt delete "$C" >/dev/null 2>&1
ok $? "delete after exec"

done_testing
