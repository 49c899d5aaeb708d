#!/bin/bash
# tier: fast (no qemu, no client daemons), ~4 s
# 16-cgroup-verbs: pause/resume, update, events — checked against the cgroup
# files and against what the container's processes do.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

cg() { cat "/sys/fs/cgroup/$1/hulltest/$C/$2" 2>/dev/null; }

# a counter the host can read: the rootfs is a plain directory
# (written to a temp file and renamed, so a reader never sees it half-written)
mkbundle b1 sh -c 'i=0; while :; do i=$((i+1)); echo $i >/count.new; mv -f /count.new /count; done'
ctr_create
C=$ID
rt start "$C" >/dev/null 2>&1
wait_status "$C" running 5 || diag "not running: $ERR"
sleep 0.2
count() { cat "$BUNDLE/rootfs/count" 2>/dev/null; }

rt pause "$C" >/dev/null 2>&1
is "$?" 0 "pause"
is "$(ctr_status "$C")" paused "state says paused"
is "$(cg freezer freezer.state)" FROZEN "freezer.state is FROZEN"
a=$(count); sleep 0.3; b=$(count)
is "$b" "$a" "a paused container makes no progress ($a -> $b)"
rt pause "$C" >/dev/null 2>&1
isnt "$?" 0 "pausing a paused container fails"
rt resume "$C" >/dev/null 2>&1
is "$?" 0 "resume"
is "$(ctr_status "$C")" running "state says running again"
sleep 0.3; c=$(count)
cmp_ok "${c:-0}" -gt "${b:-0}" "after resume the counter moves again ($b -> $c)"
rt resume "$C" >/dev/null 2>&1
isnt "$?" 0 "resuming a running container fails"

# update: flags and --resources, read back from the cgroup files
rt update --memory 48m --pids-limit 33 --cpu-quota 20000 --cpu-period 100000 "$C" >/dev/null 2>"$TMP/upd.err"
is "$?" 0 "update with flags"
is "$(cg memory memory.limit_in_bytes)" 50331648 "update --memory 48m -> memory.limit_in_bytes"
is "$(cg pids pids.max)" 33 "update --pids-limit 33 -> pids.max"
is "$(cg cpu cpu.cfs_quota_us)" 20000 "update --cpu-quota -> cpu.cfs_quota_us"
printf '{"memory": {"limit": 41943040}, "pids": {"limit": 44}}' >"$TMP/res.json"
rt update --resources "$TMP/res.json" "$C" >/dev/null 2>&1
is "$(cg memory memory.limit_in_bytes) $(cg pids pids.max)" "41943040 44" "update --resources FILE"
printf '{"pids": {"limit": 55}}' | rt update --resources - "$C" >/dev/null 2>&1
is "$(cg pids pids.max)" 55 "update --resources - (stdin)"
rt update --memory lots "$C" >/dev/null 2>"$TMP/bad.err"
isnt "$?" 0 "update --memory lots fails"
like "$(cat "$TMP/bad.err")" 'invalid value' "... with a clear message"
is "$(cg memory memory.limit_in_bytes)" 41943040 "... and changes nothing"
printf '{"memory": {"limit": "x"}}' | rt update --resources - "$C" >/dev/null 2>"$TMP/bad2.err"
isnt "$?" 0 "update with a malformed resources document fails"
if is_runtime hull; then like "$(cat "$TMP/bad2.err")" 'memory.limit' "... naming the field"; else skip "message format is hull's"; fi

# events --stats: the numbers are the cgroup's
ev=$(rt events --stats "$C" 2>/dev/null)
is "$(printf '%s' "$ev" | jq -r .type)" stats "events --stats prints a stats event"
is "$(printf '%s' "$ev" | jq -r .data.memory.usage.limit)" "$(cg memory memory.limit_in_bytes)" "stats: memory limit matches the cgroup"
is "$(printf '%s' "$ev" | jq -r .data.pids.limit)" 55 "stats: pids limit matches"
pc=$(printf '%s' "$ev" | jq -r .data.pids.current)
ok "$([ "${pc:-0}" -ge 1 ] && [ "$pc" -le 2 ]; echo $?)" "stats: pids current is the shell (+ its mv at most): $pc"
cmp_ok "$(printf '%s' "$ev" | jq -r .data.cpu.usage.total)" -gt 0 "stats: cpu usage counts the busy loop"
# ps: the cgroup's processes, as JSON or through ps(1) with its own options
rt exec -d --pid-file "$TMP/sleep.pid" "$C" sleep 300 >/dev/null 2>&1
spid=$(cat "$TMP/sleep.pid" 2>/dev/null)
ipid=$(ctr_pid "$C")
pj=" $(rt ps --format json "$C" 2>/dev/null | jq -r '.[]' 2>/dev/null | tr '\n' ' ')"
like "$pj" " $ipid " "ps --format json lists the init ($ipid)"
like "$pj" " ${spid:-x} " "ps --format json lists the exec'd sleep ($spid)"
pt=$(rt ps "$C" -o pid,comm 2>/dev/null)
like "$pt" 'PID' "ps passes ps(1) options through (-o pid,comm): header"
like "$pt" 'sleep' "... and shows the container's sleep"
unlike "$pt" "$(printf 'bash\n')" "... and none of the host's processes (no bash)"
rt delete --force "$C" >/dev/null 2>&1
rt update --memory 64m "$C" >/dev/null 2>&1
isnt "$?" 0 "update of a deleted container fails"

# OOM: a process over its memory limit is killed and events reports it
mkbundle b2 sh -c 'sleep 0.5; x=$(head -c 80000000 /dev/zero | tr "\000" a); echo survived; sleep 600'
cfg_set '.linux.resources.memory = {limit: 16777216}'
ctr_create
C=$ID
rt events --interval 1s "$C" >"$TMP/events.out" 2>&1 &
epid=$!
rt start "$C" >/dev/null 2>&1
for i in $(seq 50); do grep -q '"oom"' "$TMP/events.out" 2>/dev/null && break; sleep 0.1; done
like "$(cat "$TMP/events.out")" '"type":"oom"' "events streams {\"type\":\"oom\"} when the container hits its memory limit"
cmp_ok "$(awk '/^oom_kill / {print $2}' /sys/fs/cgroup/memory/hulltest/$C/memory.oom_control 2>/dev/null || echo 0)" -ge 1 "memory.oom_control counts the kill"
rt delete --force "$C" >/dev/null 2>&1
for i in $(seq 30); do kill -0 $epid 2>/dev/null || break; sleep 0.1; done
ok "$(kill -0 $epid 2>/dev/null; [ $? -ne 0 ]; echo $?)" "the events stream ends when the container is gone"
kill $epid 2>/dev/null; wait $epid 2>/dev/null

# a created (not started) container pauses and resumes back to created, as in runc
mkbundle b3 sleep 600
ctr_create
rt pause "$ID" >/dev/null 2>&1
is "$?:$(ctr_status "$ID")" "0:paused" "pause of a created container"
rt resume "$ID" >/dev/null 2>&1
is "$?:$(ctr_status "$ID")" "0:created" "resume returns it to created"
rt start "$ID" >/dev/null 2>&1
is "$?:$(ctr_status "$ID")" "0:running" "and it starts normally"
rt delete --force "$ID" >/dev/null 2>&1
rt pause "$ID" >/dev/null 2>&1
isnt "$?" 0 "pause of a deleted container fails"
done_testing
