#!/bin/bash
# tier: fast (no qemu, no client daemons), ~4 s
# 18-cycles: 50 create/delete cycles, every fifth with the runtime killed by
# SIGKILL at a random moment of `create`, then `delete --force`: afterwards no
# cgroup directory, state, process or mount of any of them remains.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b sleep 600
ids=()
killed=0
for ((i = 1; i <= 50; i++)); do
    new_id cyc
    ids+=("$ID")
    if ((i % 5 == 0)); then
        "$HULL" --root "$STATE" create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 &
        p=$!
        # anywhere from "just started" to "almost done"
        sleep "0.00$((RANDOM % 10))$((RANDOM % 10))"
        kill -9 "$p" 2>/dev/null && killed=$((killed + 1))
        wait "$p" 2>/dev/null
    else
        rt create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>&1 || diag "create $ID failed"
        ((i % 2)) && rt start "$ID" >/dev/null 2>&1
    fi
    rt delete --force "$ID" >/dev/null 2>&1
done
note "runtime killed mid-create in $killed cycles"
left_state=$(ls "$STATE" 2>/dev/null | wc -l)
is "$left_state" 0 "no state directory left"
left_cg=0
for id in "${ids[@]}"; do [ -n "$(cgroup_dirs "$id")" ] && left_cg=$((left_cg + 1)); done
is "$left_cg" 0 "no cgroup directory left in any hierarchy"
is "$(tagged_pids | wc -l)" 0 "no container process left"
is "$(leftover_mounts | wc -l)" 0 "no mount of the bundles left"
done_testing
