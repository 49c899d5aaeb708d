#!/bin/sh
# tests/vm/e2e.sh — end-to-end hull checks inside the cgroup v2 test VM (busybox sh; TAP).
# Bundles and their config.json come from tests/vm/build-initramfs.sh:
#   /hull/bundles/limits  `hull run`: memory 64 MiB, pids 16, devices allow-all + deny rw c 1:11;
#                         its process (/report.sh in the rootfs) prints what it sees as KEY=VALUE
#   /hull/bundles/svc     `hull create/start`: sleep 600, memory 32 MiB, pids 8, cpu 50ms/100ms,
#                         devices deny-all (+ the default devices); checked from the host side,
#                         then update, pause/resume, events --stats, ps, exec, kill, delete.
HULL=/hull/bin/hull
JQ=/hull/bin/jq
ROOT=/run/hull-e2e
CG=/sys/fs/cgroup
N=0
FAILED=0

h() { timeout -s KILL 60 "$HULL" --root "$ROOT" "$@"; }
pass() { N=$((N + 1)); echo "ok $N - $1"; }
fail() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; }
diag() { printf '%s\n' "$*" | sed 's/^/#   /'; }
is() { # GOT WANT DESC
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3"; diag "got: '$1'" "want: '$2'"; return 1; fi
}
like() { # GOT ERE DESC
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then pass "$3"; else fail "$3"; diag "'$1' does not match '$2'"; return 1; fi
}
le() { # A B DESC  (A <= B, both integers)
    case "$1$2" in *[!0-9]* | '') fail "$3"; diag "not integers: '$1' '$2'"; return 1 ;; esac
    if [ "$1" -le "$2" ]; then pass "$3"; else fail "$3"; diag "$1 > $2"; return 1; fi
}
val() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p" | head -n 1; }
status() { h state "$1" 2>/dev/null | "$JQ" -r .status 2>/dev/null; }

# ---- hull run: what the container sees -------------------------------------------------
OUT=$(h run --bundle /hull/bundles/limits e2e-limits 2>/tmp/e2e-limits.err)
rc=$?
is "$rc" 0 "hull run of the limits bundle exits 0"
[ "$rc" = 0 ] || diag "$(cat /tmp/e2e-limits.err)" "$OUT"
is "$(val REPORT_DONE)" 1 "the container's report ran to the end"
is "$(val CGROUP)" "0::/;" "inside: /proc/self/cgroup is '0::/' (cgroup namespace at the container's cgroup)"
is "$(val CGFS)" 63677270 "inside: /sys/fs/cgroup is cgroup2 (magic 0x63677270)"
is "$(val MEMORY_MAX)" 67108864 "inside: /sys/fs/cgroup/memory.max is the configured 64 MiB"
is "$(val PIDS_MAX)" 16 "inside: /sys/fs/cgroup/pids.max is the configured 16"
is "$(val CG_RO)" yes "inside: /sys/fs/cgroup is read-only"
is "$(val MKNOD_DENIED_RC)" 0 "eBPF filter: mknod of c 1:11 allowed (the deny covers rw only)"
like "$(val OPEN_DENIED)" "Operation not permitted.* rc=1" "eBPF filter: reading the denied c 1:11 fails with EPERM"
is "$(val READ_ZERO2)" 3 "eBPF filter: a fresh c 1:5 node reads (allow-all rule)"
is "$(val NULL_OK)" yes "eBPF filter: /dev/null still works"
le "$(val PIDS_CURRENT)" 16 "pids.current ($(val PIDS_CURRENT)) stays within pids.max 16 with 30 sleepers asked for"
le 1 "$(val PIDS_EVENTS_MAX)" "pids.events counts the refused forks (max $(val PIDS_EVENTS_MAX))"
like "$(val FORK_ERR)" "fork|Resource temporarily unavailable" "the shell saw fork fail"
is "$(ls -d $CG/hulltest/e2e-limits 2>/dev/null)" "" "hull run removed the container's cgroup"

# ---- hull create/start: the host side --------------------------------------------------
D=$CG/hulltest/e2e-svc
h create --bundle /hull/bundles/svc e2e-svc >/tmp/svc.out 2>&1
is "$?" 0 "hull create of the svc bundle" || diag "$(cat /tmp/svc.out)"
h start e2e-svc >/tmp/svc.out 2>&1
is "$?" 0 "hull start" || diag "$(cat /tmp/svc.out)"
is "$(status e2e-svc)" running "state: running"
PID=$(h state e2e-svc 2>/dev/null | "$JQ" -r .pid)
is "$(cat $D/cgroup.procs 2>&1)" "$PID" "cgroup.procs of /hulltest/e2e-svc is the init ($PID)"
is "$(cat /proc/$PID/cgroup 2>&1)" "0::/hulltest/e2e-svc" "/proc/PID/cgroup of the init"
like " $(cat $CG/hulltest/cgroup.subtree_control 2>&1) " " memory .*pids| pids .*memory" \
    "the parent's subtree_control enables memory and pids"
is "$(cat $D/memory.max 2>&1)" 33554432 "memory.max is 32 MiB"
is "$(cat $D/pids.max 2>&1)" 8 "pids.max is 8"
is "$(cat $D/cpu.max 2>&1)" "50000 100000" "cpu.max is 50000 100000"
OUT=$(h exec e2e-svc /bin/sh -c 'mknod /dev/k c 1 11 && cat /dev/k; echo " rc=$?"' 2>&1 | tr '\n' ' ')
like "$OUT" "Operation not permitted.* rc=1" "exec: the deny-all default keeps c 1:11 closed (eBPF)"
OUT=$(h exec e2e-svc /bin/sh -c 'echo hi >/dev/null && head -c 2 /dev/zero | wc -c' 2>&1)
is "$OUT" 2 "exec: the default devices (null, zero) work"

h update --memory 50331648 --pids-limit 12 e2e-svc >/tmp/svc.out 2>&1
is "$?" 0 "hull update --memory 48M --pids-limit 12" || diag "$(cat /tmp/svc.out)"
is "$(cat $D/memory.max 2>&1)" 50331648 "memory.max is 48 MiB after update"
is "$(cat $D/pids.max 2>&1)" 12 "pids.max is 12 after update"

h pause e2e-svc >/tmp/svc.out 2>&1
is "$?" 0 "hull pause" || diag "$(cat /tmp/svc.out)"
is "$(status e2e-svc)" paused "state: paused"
is "$(sed -n 's/^frozen //p' $D/cgroup.events 2>&1)" 1 "cgroup.events: frozen 1"
h resume e2e-svc >/tmp/svc.out 2>&1
is "$?" 0 "hull resume" || diag "$(cat /tmp/svc.out)"
is "$(status e2e-svc)" running "state: running again"
is "$(sed -n 's/^frozen //p' $D/cgroup.events 2>&1)" 0 "cgroup.events: frozen 0"

STATS=$(h events --stats e2e-svc 2>&1)
is "$(printf '%s' "$STATS" | "$JQ" -r .type 2>&1)" stats "events --stats prints a stats event" || diag "$STATS"
is "$(printf '%s' "$STATS" | "$JQ" -r .data.memory.usage.limit 2>&1)" 50331648 "events --stats: memory limit"
is "$(printf '%s' "$STATS" | "$JQ" -r .data.pids.current 2>&1)" "$(cat $D/pids.current)" "events --stats: pids.current matches the file"
is "$(printf '%s' "$STATS" | "$JQ" -r .data.pids.limit 2>&1)" 12 "events --stats: pids limit"
usage_file=$(cat $D/memory.current)
usage_json=$(printf '%s' "$STATS" | "$JQ" -r .data.memory.usage.usage 2>&1)
le "$usage_json" $((usage_file + 1048576)) "events --stats: memory usage $usage_json close to memory.current $usage_file"

PS=$(h ps --format json e2e-svc 2>&1)
like "$PS" "(^|[^0-9])${PID:-no-pid}([^0-9]|$)" "ps --format json lists the init"

h kill e2e-svc KILL >/dev/null 2>&1
i=0
while [ "$(status e2e-svc)" != stopped ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "$(status e2e-svc)" stopped "kill KILL stops it"
h delete e2e-svc >/tmp/svc.out 2>&1
is "$?" 0 "hull delete" || diag "$(cat /tmp/svc.out)"
is "$(ls -d $D $CG/hulltest 2>/dev/null)" "" "delete removes /hulltest/e2e-svc and the empty /hulltest hull made"
is "$(ls $ROOT 2>/dev/null)" "" "no state left in $ROOT"

echo "1..$N"
[ "$FAILED" = 0 ]
