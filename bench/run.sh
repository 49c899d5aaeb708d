#!/bin/bash
# bench/run.sh — `run` of /bin/true (create+start+wait+delete, a fresh id per run) on one busybox
# bundle, hull side by side with Debian's crun (and runc as a second peer), interleaved.
#
#   HULL=/abs/path/to/hull bench/run.sh          (make bench does this with build/hull)
#
# Phases:
#   nohybrid  hull, crun, runc interleaved, all under bench/nohybrid.sh (crun 1.8.1 refuses the
#             hybrid-cgroup host; there every runtime sees the same pure cgroup v1 layout)
#   host      hull alone on the plain host (hull must work on the hybrid host as it is)
# Per run: wall time (ms), CPU time user+sys (ms) and peak RSS (KiB) of the runtime and every
# process it waited for (the container included); %M-style: the largest process of the tree.
# Prints per-runtime medians and the hull/crun ratios (the goal: <= 1.0 for wall time and RSS).
#
# Env: HULL (default build/hull), CRUN, RUNC (default: from PATH; a missing peer is skipped),
#      BENCH_RUNS (default 21), BENCH_KEEP=1 keeps the work dir, BENCH_PHASES ("nohybrid host").
# Exit status: 0, or 1 when a run of hull fails or nothing could be measured, 2 on bad usage.
# It never fails because of a ratio. Needs: root, busybox-static, jq, util-linux; cc (for the
# precise bench/measure.c, else GNU time from the `time` package, 10 ms resolution).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

# --- inner mode: the measuring loop (run inside nohybrid.sh, or directly) -------------------
# run.sh --loop WORKDIR PHASE RUNS LABEL=BIN...
if [ "${1:-}" = --loop ]; then
    W=$2 PHASE=$3 RUNS=$4
    shift 4
    RES=$W/results
    one() { # one LABEL BIN ID -> appends "PHASE LABEL wall cpu rss rc" to $RES
        local label=$1 bin=$2 id=$3 line t0 t1
        if [ -x "$W/measure" ]; then
            line=$("$W/measure" "$bin" --root "$W/state-$label" run --bundle "$W/bundle" "$id" \
                3>&1 </dev/null >/dev/null 2>>"$W/err-$label")
        else
            t0=$(date +%s%N)
            /usr/bin/time -f '%U %S %M %x' -o "$W/time.out" \
                "$bin" --root "$W/state-$label" run --bundle "$W/bundle" "$id" </dev/null >/dev/null 2>>"$W/err-$label"
            t1=$(date +%s%N)
            line=$(awk -v w=$(((t1 - t0) / 1000)) 'END { printf "%.2f %.2f %d %d\n", w / 1000, ($1 + $2) * 1000, $3, $4 }' "$W/time.out")
        fi
        echo "$PHASE $label $line" >>"$RES"
    }
    # one warm-up run each (page cache, first exec), not recorded
    for spec in "$@"; do
        "${spec#*=}" --root "$W/state-${spec%%=*}" run --bundle "$W/bundle" "warm-$PHASE-${spec%%=*}" </dev/null >/dev/null 2>&1
    done
    # Fairness: the order rotates every round, and each measured run starts after a
    # settle pause. On cgroup v1 the first migration into a cgroup waits for an RCU
    # grace period unless another migration happened moments before, so a runtime
    # that always ran right after another one would inherit its warm state.
    specs=("$@")
    n=${#specs[@]}
    for ((i = 1; i <= RUNS; i++)); do
        for ((k = 0; k < n; k++)); do
            spec=${specs[$(((i + k) % n))]}
            sleep "$SETTLE"
            one "${spec%%=*}" "${spec#*=}" "b-$PHASE-${spec%%=*}-$i-$$"
        done
    done
    exit 0
fi

# --- main -----------------------------------------------------------------------------------
die() { echo "bench: $*" >&2; exit "${2:-1}"; }
[ "$(id -u)" = 0 ] || die "needs root" 2
HULL=${HULL:-$HERE/../build/hull}
case $HULL in /*) ;; *) HULL=$PWD/$HULL ;; esac
[ -x "$HULL" ] || die "HULL=$HULL is not an executable (build it, or point HULL at a runtime)" 2
[ -x /bin/busybox ] || die "needs busybox-static (/bin/busybox)" 2
command -v jq >/dev/null || die "needs jq" 2
RUNS=${BENCH_RUNS:-31}
export SETTLE=${BENCH_SETTLE:-0.1}   # seconds of quiet before each measured run
CRUN=${CRUN-$(command -v crun || true)}
RUNC=${RUNC-$(command -v runc || true)}
PHASES=${BENCH_PHASES:-nohybrid host}

W=$(mktemp -d /tmp/hull-bench.XXXXXX) || die "mktemp failed"
cleanup() {
    local d id
    for d in "$W"/state-*; do
        [ -d "$d" ] || continue
        for id in $(ls "$d" 2>/dev/null); do
            case $d in
            *-crun) "$CRUN" --root "$d" delete --force "$id" ;;
            *-runc) "$RUNC" --root "$d" delete --force "$id" ;;
            *) "$HULL" --root "$d" delete --force "$id" ;;
            esac >/dev/null 2>&1
        done
    done
    [ -n "${BENCH_KEEP:-}" ] && { echo "bench: kept $W" >&2; return; }
    rm -rf "$W"
}
trap cleanup EXIT

# the bundle: busybox rootfs + a config.json written here (process.args = /bin/true)
R=$W/bundle/rootfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list-full); do [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
cat >"$W/bundle/config.json" <<'JSON'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": { "uid": 0, "gid": 0 }, "args": [ "/bin/true" ],
    "env": [ "PATH=/usr/sbin:/usr/bin:/sbin:/bin" ], "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
      "inheritable": [], "ambient": []
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "bench",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
  ],
  "linux": {
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    "namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" } ],
    "maskedPaths": [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                     "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
    "readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
  }
}
JSON
jq -e . "$W/bundle/config.json" >/dev/null || die "bad bench config"

if command -v cc >/dev/null && cc -O2 -o "$W/measure" "$HERE/measure.c" 2>"$W/measure.log"; then
    how="bench/measure.c (wait4 rusage, monotonic clock)"
elif [ -x /usr/bin/time ]; then
    how="GNU time (10 ms CPU resolution)"
else
    die "needs cc or GNU time (/usr/bin/time)" 2
fi
: >"$W/results"

peers=("hull=$HULL")
[ -n "$CRUN" ] && [ -x "$CRUN" ] && peers+=("crun=$CRUN")
[ -n "$RUNC" ] && [ -x "$RUNC" ] && peers+=("runc=$RUNC")

echo "bench: $RUNS interleaved runs of \`run /bin/true\` each; hull=$HULL; measured with $how"
for phase in $PHASES; do
    case $phase in
    nohybrid) "$HERE/nohybrid.sh" "$0" --loop "$W" nohybrid "$RUNS" "${peers[@]}" ;;
    host) "$0" --loop "$W" host "$RUNS" "hull=$HULL" ;;
    *) die "unknown phase $phase" 2 ;;
    esac
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v p="$1" -v l="$2" -v c="$3" '$1 == p && $2 == l && $6 == 0 { print $c }' "$W/results"; }

status=0
printf '\n%-9s %-5s %5s %5s %9s %8s %9s\n' phase rt runs fail wall_ms cpu_ms rss_KiB
declare -A MED
for phase in $PHASES; do
    for spec in "${peers[@]}"; do
        l=${spec%%=*}
        n=$(awk -v p="$phase" -v l="$l" '$1 == p && $2 == l' "$W/results" | wc -l)
        [ "$n" = 0 ] && continue
        f=$(awk -v p="$phase" -v l="$l" '$1 == p && $2 == l && $6 != 0' "$W/results" | wc -l)
        wall=$(col "$phase" "$l" 3 | median)
        cpu=$(col "$phase" "$l" 4 | median)
        rss=$(col "$phase" "$l" 5 | median)
        MED[$phase.$l.wall]=$wall MED[$phase.$l.cpu]=$cpu MED[$phase.$l.rss]=$rss
        printf '%-9s %-5s %5s %5s %9s %8s %9s\n' "$phase" "$l" "$n" "$f" "$wall" "$cpu" "$rss"
        if [ "$f" != 0 ]; then
            echo "bench: $f of $n runs of $l failed ($phase); first error:" >&2
            head -n 5 "$W/err-$l" >&2
            [ "$l" = hull ] && status=1
        fi
    done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
if [ -n "${MED[nohybrid.crun.wall]:-}" ] && [ -n "${MED[nohybrid.hull.wall]:-}" ]; then
    echo
    printf 'hull/crun (nohybrid): wall %s  cpu %s  rss %s   (goal: wall <= 1.00, rss <= 1.00)\n' \
        "$(ratio "${MED[nohybrid.hull.wall]}" "${MED[nohybrid.crun.wall]}")" \
        "$(ratio "${MED[nohybrid.hull.cpu]}" "${MED[nohybrid.crun.cpu]}")" \
        "$(ratio "${MED[nohybrid.hull.rss]}" "${MED[nohybrid.crun.rss]}")"
    if [ -n "${MED[nohybrid.runc.wall]:-}" ]; then
        printf 'hull/runc (nohybrid): wall %s  cpu %s  rss %s\n' \
            "$(ratio "${MED[nohybrid.hull.wall]}" "${MED[nohybrid.runc.wall]}")" \
            "$(ratio "${MED[nohybrid.hull.cpu]}" "${MED[nohybrid.runc.cpu]}")" \
            "$(ratio "${MED[nohybrid.hull.rss]}" "${MED[nohybrid.runc.rss]}")"
    fi
elif [[ " $PHASES " == *" nohybrid "* ]]; then
    echo "bench: no crun figures (crun missing or failing): no ratio" >&2
fi
[ -s "$W/results" ] || { echo "bench: nothing was measured" >&2; status=1; }
exit $status
