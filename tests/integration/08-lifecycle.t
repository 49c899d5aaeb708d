#!/bin/bash
# tier: fast (no qemu, no client daemons), ~4 s
# 08-lifecycle: create/start/state/kill/delete, list, --pid-file, run --detach, error cases.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b sleep 600
cfg_set '.annotations = {"org.hull.test": "value-1"}'
ctr_create --pid-file "$TMP/c1.pid"
c1=$ID
is "$RC" 0 "create exits 0" || diag "$ERR"
st=$(ctr_state "$c1")
printf '%s' "$st" | jq -e . >/dev/null 2>&1; ok $? "state prints JSON"
is "$(jq -r .status <<<"$st")" created "state: status created after create"
is "$(jq -r .id <<<"$st")" "$c1" "state: id"
like "$(jq -r .ociVersion <<<"$st")" '^1\.[0-9]+\.[0-9]+' "state: ociVersion"
is "$(jq -r .bundle <<<"$st")" "$BUNDLE" "state: bundle is the absolute bundle path"
is "$(jq -r '.annotations["org.hull.test"]' <<<"$st")" value-1 "state: annotations from config.json"
pid=$(jq -r .pid <<<"$st")
cmp_ok "${pid:-0}" -gt 0 "state: pid > 0 after create"
is "$(cat "$TMP/c1.pid" 2>/dev/null)" "$pid" "--pid-file holds the state pid"
ok "$(alive "$pid"; echo $?)" "the init process is alive, waiting"
like "$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)" '.' "the init process has not exec'd yet (something other than sleep 600)"
isnt "$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)" "sleep 600 " "the user process does not run before start"

rt start "$c1" >/dev/null 2>&1
ok $? "start exits 0"
wait_status "$c1" running 5
is "$(ctr_status "$c1")" running "state: running after start"
is "$(ctr_pid "$c1")" "$pid" "the pid is unchanged by start"
sleep 0.1
is "$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)" "sleep 600 " "the user process runs after start"
rt start "$c1" >/dev/null 2>&1
nok $? "start of a running container fails"

out=$(rt list 2>/dev/null)
like "$out" "^ID +PID +STATUS +BUNDLE +CREATED +OWNER" "list prints the table header"
like "$out" "^$c1 +$pid +running +$BUNDLE " "list shows the container, its pid, status and bundle"
out=$(rt list -q 2>/dev/null)
is "$out" "$c1" "list -q prints the id"
out=$(rt list --format json 2>/dev/null)
is "$(jq -r '.[0].id' <<<"$out" 2>/dev/null)" "$c1" "list --format json: id"
is "$(jq -r '.[0].status' <<<"$out" 2>/dev/null)" running "list --format json: status"
is "$(jq -r '.[0].pid' <<<"$out" 2>/dev/null)" "$pid" "list --format json: pid"

rt delete "$c1" >/dev/null 2>&1
nok $? "delete of a running container fails without --force"
is "$(ctr_status "$c1")" running "the container is still running"

# sleep as pid 1 has no TERM handler: run a shell that traps TERM instead
mkbundle b2 sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
ctr_create
c2=$ID
rt start "$c2" >/dev/null 2>&1
wait_status "$c2" running 5
sleep 0.2
rt kill "$c2" TERM >/dev/null 2>&1
ok $? "kill TERM exits 0"
wait_status "$c2" stopped 10
is "$(ctr_status "$c2")" stopped "state: stopped after kill TERM (the process exited)"
rt kill "$c2" KILL >/dev/null 2>&1
nok $? "kill of a stopped container fails"
rt delete "$c2" >/dev/null 2>&1
ok $? "delete of a stopped container exits 0"
rt state "$c2" >/dev/null 2>&1
nok $? "state fails after delete"
ok "$([ ! -e "$STATE/$c2" ]; echo $?)" "no state dir after delete"

# kill signal spellings: KILL, SIGKILL, 9 (a created container can be killed too)
for sig in KILL SIGKILL 9 sigkill; do
    BUNDLE=$TMP/b CFG=$TMP/b/config.json ctr_create
    p=$(ctr_pid "$ID")
    rt kill "$ID" "$sig" >/dev/null 2>&1
    ok $? "kill $sig exits 0"
    wait_gone "$p" 5
    ok $? "kill $sig: the process is gone"
    wait_status "$ID" stopped 5
    is "$(ctr_status "$ID")" stopped "kill $sig: state is stopped"
    rt delete "$ID" >/dev/null 2>&1
done
BUNDLE=$TMP/b CFG=$TMP/b/config.json ctr_create
rt kill "$ID" NOSUCHSIGNAL >/dev/null 2>&1
nok $? "kill with an unknown signal name fails"
rt kill "$ID" >/dev/null 2>&1
ok $? "kill without a signal sends SIGTERM (exits 0)"
rt delete --force "$ID" >/dev/null 2>&1

# delete --force of the running container
rt delete --force "$c1" >/dev/null 2>&1
ok $? "delete --force of a running container exits 0"
wait_gone "$pid" 5
ok $? "delete --force kills the process"
ok "$([ ! -e "$STATE/$c1" ]; echo $?)" "delete --force removes the state"
is "$(cgroup_dirs "$c1")" "" "delete --force removes the cgroup"
rt delete --force "no-such-$TAG" >/dev/null 2>&1
ok $? "delete --force of an unknown id succeeds (as runc: containerd relies on it)"

# run --detach
mkbundle b3 sleep 600
new_id det
rt run --detach --bundle "$BUNDLE" --pid-file "$TMP/det.pid" "$ID" </dev/null >/dev/null 2>&1
ok $? "run --detach exits 0 at once"
is "$(ctr_status "$ID")" running "run --detach: running"
is "$(cat "$TMP/det.pid" 2>/dev/null)" "$(ctr_pid "$ID")" "run --detach --pid-file holds the pid"
rt run --detach --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
nok $? "a second container with the same id is refused"
rt delete --force "$ID" >/dev/null 2>&1

# a detached container that exits on its own becomes stopped (and its pid is reaped)
set_args sh -c 'exit 5'
new_id ex
rt run --detach --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1
wait_status "$ID" stopped 10
is "$(ctr_status "$ID")" stopped "a container whose process exited reads as stopped"
rt delete "$ID" >/dev/null 2>&1
ok $? "and deletes without --force"

is "$(rt list -q 2>/dev/null)" "" "list is empty at the end"
sleep 0.2
is "$(tagged_pids)" "" "no container process left"

done_testing
