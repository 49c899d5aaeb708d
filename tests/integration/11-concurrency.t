#!/bin/bash
# tier: fast (no qemu, no client daemons), ~9 s
# 11-concurrency: 20 containers created, started, waited for and deleted in parallel; nothing left.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

N=${HULL_TEST_CONCURRENCY:-20}
ids=()
for ((i = 0; i < N; i++)); do
    mkbundle "b$i" sh -c "echo out-$i; sleep 0.3"
    new_id p
    ids+=("$ID")
done

worker() { # worker I ID — the full lifecycle of one container; prints a result line
    local i=$1 id=$2 b=$TMP/b$1 j st
    rt create --bundle "$b" "$id" </dev/null >"$TMP/w$i.out" 2>"$TMP/w$i.err" || { echo "$i create-failed"; return; }
    [ "$(ctr_status "$id")" = created ] || { echo "$i not-created"; return; }
    rt start "$id" >/dev/null 2>>"$TMP/w$i.err" || { echo "$i start-failed"; return; }
    for ((j = 0; j < 200; j++)); do
        st=$(ctr_status "$id")
        [ "$st" = stopped ] && break
        sleep 0.05
    done
    [ "$st" = stopped ] || { echo "$i never-stopped($st)"; return; }
    rt delete "$id" >/dev/null 2>>"$TMP/w$i.err" || { echo "$i delete-failed"; return; }
    echo "$i ok"
}

t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do
    worker "$i" "${ids[$i]}" >"$TMP/w$i.res" &
done
wait
t1=$(date +%s%N)
note "$N parallel lifecycles took $(((t1 - t0) / 1000000)) ms"

bad=0
for ((i = 0; i < N; i++)); do
    r=$(cat "$TMP/w$i.res")
    if [ "$r" != "$i ok" ]; then
        bad=$((bad + 1))
        diag "worker $i: $r: $(cat "$TMP/w$i.err")"
    fi
done
is "$bad" 0 "all $N parallel create/start/wait/delete cycles succeeded"
good_out=0
for ((i = 0; i < N; i++)); do [ "$(cat "$TMP/w$i.out")" = "out-$i" ] && good_out=$((good_out + 1)); done
is "$good_out" "$N" "each container wrote its own output (no mix-ups between containers)"

is "$(ls -A "$STATE" 2>/dev/null | grep -v '^\.' )" "" "no entries left in the state dir"
is "$(rt list -q 2>/dev/null)" "" "list is empty"
is "$(leftover_mounts)" "" "no mounts mentioning the bundles in the host's mountinfo"
sleep 0.2
is "$(tagged_pids)" "" "no leftover container processes"
left=
for id in "${ids[@]}"; do left="$left$(cgroup_dirs "$id")"; done
is "$left" "" "no leftover cgroup dirs under /sys/fs/cgroup/*/hulltest/"

# the same ids in parallel with `run` (create+start+wait+delete in one call)
for ((i = 0; i < N; i++)); do
    ( rt run --bundle "$TMP/b$i" "${ids[$i]}" </dev/null >"$TMP/r$i.out" 2>"$TMP/r$i.err"; echo $? >"$TMP/r$i.rc" ) &
done
wait
bad=0
for ((i = 0; i < N; i++)); do
    [ "$(cat "$TMP/r$i.rc"):$(cat "$TMP/r$i.out")" = "0:out-$i" ] || { bad=$((bad + 1)); diag "run $i: rc=$(cat "$TMP/r$i.rc") $(cat "$TMP/r$i.err")"; }
done
is "$bad" 0 "$N parallel runs (reusing the deleted ids) all exit 0 with their own output"
is "$(ls -A "$STATE" 2>/dev/null)$(leftover_mounts)" "" "no state or mount left after the parallel runs"
left=
for id in "${ids[@]}"; do left="$left$(cgroup_dirs "$id")"; done
is "$left" "" "no cgroup dir left after the parallel runs"

# parallel calls on one container: many concurrent `state` readers while it is started and killed
mkbundle bs sleep 600
ctr_create
C=$ID
for ((i = 0; i < 10; i++)); do
    ( for ((j = 0; j < 10; j++)); do rt state "$C" 2>/dev/null | jq -e .status >/dev/null 2>&1 || echo bad; done ) >"$TMP/s$i.res" &
done
rt start "$C" >/dev/null 2>&1
rt kill "$C" KILL >/dev/null 2>&1
wait
is "$(cat "$TMP"/s*.res)" "" "concurrent state calls always read a complete state while start/kill run"
rt delete --force "$C" >/dev/null 2>&1

done_testing
