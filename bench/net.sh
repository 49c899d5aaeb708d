#!/bin/bash
# bench/net.sh — what bridge networking adds to a container's start-up:
# `hull run --rm busybox true` with --network bridge (veth on hull0, address
# lease, routes, nftables masquerade, hosts/resolv.conf) vs --network none
# (loopback only, same files), interleaved in one run. Everything happens in a
# network namespace made for the bench (hull0 and its rules live there), with
# a private data root. Prints the medians and the extra milliseconds of bridge
# mode (goal: under 5 ms), plus one run with a published port (-p).
#
#   HULL=/abs/path/to/hull bench/net.sh          (make bench does this)
# Env: BENCH_RUNS (default 31), BENCH_SETTLE (seconds of quiet before each run, 0.05).
# Needs root, iproute2 (ip netns), util-linux (nsenter).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

# --- inner mode: the measuring loop, run inside the bench's namespace -------------------
# net.sh --loop WORKDIR RUNS
if [ "${1:-}" = --loop ]; then
    W=$2 RUNS=$3
    H=("$HULL" --root "$W/state" --data-root "$W/data")
    one() { # one MODE ROUND [extra flags] -> appends "MODE wall_ms rc ROUND" to $W/results
        local mode=$1 round=$2 line
        shift 2
        if [ -x "$W/measure" ]; then
            line=$("$W/measure" "${H[@]}" run --rm --network "${mode#publish-}" "$@" busybox true 3>&1 </dev/null >/dev/null 2>>"$W/err")
            echo "$mode ${line%% *} ${line##* } $round" >>"$W/results"
        else
            local t0 t1 rc
            t0=$(date +%s%N)
            "${H[@]}" run --rm --network "${mode#publish-}" "$@" busybox true </dev/null >/dev/null 2>>"$W/err"
            rc=$?
            t1=$(date +%s%N)
            echo "$mode $(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.2f", n / 1e6 }') $rc $round" >>"$W/results"
        fi
    }
    # warm-up (first bridge run creates hull0 and the nft table), not recorded
    "${H[@]}" run --rm --network bridge busybox true </dev/null >/dev/null 2>>"$W/err"
    "${H[@]}" run --rm --network none busybox true </dev/null >/dev/null 2>>"$W/err"
    for ((i = 1; i <= RUNS; i++)); do
        # the order alternates, so neither mode always runs right after the other
        if ((i % 2)); then order="bridge none"; else order="none bridge"; fi
        for m in $order; do
            sleep "$SETTLE"
            one "$m" "$i"
        done
    done
    sleep "$SETTLE"
    # -p: one published port (a DNAT rule pair added and removed per run)
    for ((i = 1; i <= (RUNS + 1) / 2; i++)); do
        sleep "$SETTLE"
        one publish-none "$i"
        sleep "$SETTLE"
        one bridge "p$i" -p 18080:80
    done
    exit 0
fi

# --- main ----------------------------------------------------------------------------------
die() { echo "bench/net: $*" >&2; exit "${2:-1}"; }
[ "$(id -u)" = 0 ] || die "needs root" 2
HULL=${HULL:-$HERE/../build/hull}
case $HULL in /*) ;; *) HULL=$PWD/$HULL ;; esac
[ -x "$HULL" ] || die "HULL=$HULL is not an executable" 2
command -v ip >/dev/null && command -v nsenter >/dev/null || die "needs iproute2 and util-linux (nsenter)" 2
RUNS=${BENCH_RUNS:-31}
export SETTLE=${BENCH_SETTLE:-0.05} HULL

W=$(mktemp -d /tmp/hull-bench-net.XXXXXX) || die "mktemp failed"
NS=hullbench-$$
cleanup() {
    local id
    for id in $("$HULL" --root "$W/state" list -q 2>/dev/null); do
        "$HULL" --root "$W/state" delete -f "$id" >/dev/null 2>&1
    done
    ip netns delete "$NS" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$NS" || die "ip netns add failed"
LAYOUT=$HERE/../build/busybox-oci
if [ ! -f "$LAYOUT/index.json" ]; then
    LAYOUT=$W/bb-oci
    "$HERE/../image/make-busybox-image.sh" "$LAYOUT" >/dev/null || die "cannot build the busybox image"
fi
"$HULL" --data-root "$W/data" image import "$LAYOUT" --name busybox:latest >/dev/null || die "image import failed"
command -v cc >/dev/null && cc -O2 -o "$W/measure" "$HERE/measure.c" 2>/dev/null
: >"$W/results"
echo "bench/net: hull run --rm busybox true, --network bridge vs none, $RUNS interleaved runs each (in netns $NS)"
nsenter --net="/run/netns/$NS" "$0" --loop "$W" "$RUNS"

fails=$(awk '$3 != 0' "$W/results" | wc -l)
median() { sort -n | awk '{a[NR]=$1} END { if (NR) print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; else print "nan" }'; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; print NR ? a[i] : "nan" }'; }
# paired: each round ran both modes back to back, so their difference cancels
# the machine's drift (other load) that separate medians would mix in
paired() { # paired MODE_A MODE_B ROUND_PREFIX -> median of (A - B) per round
    awk -v a="$1" -v b="$2" -v pre="$3" '$3 == 0 && ($1 == a || $1 == b) {
            r = $4; if (pre != "") { if (substr(r, 1, 1) != "p") { if ($1 == a) next } else r = substr(r, 2) }
            else if (substr(r, 1, 1) == "p") next
            v[$1, r] = $2; seen[r] = 1 }
        END { for (r in seen) if ((a, r) in v && (b, r) in v) print v[a, r] - v[b, r] }' "$W/results" | median
}
mb=$(awk '$1 == "bridge" && $3 == 0 && $4 !~ /^p/ {print $2}' "$W/results" | median)
mn=$(awk '$1 == "none" && $3 == 0 {print $2}' "$W/results" | median)
pb=$(awk '$1 == "bridge" && $3 == 0 && $4 !~ /^p/ {print $2}' "$W/results" | pct 90)
pn=$(awk '$1 == "none" && $3 == 0 {print $2}' "$W/results" | pct 90)
extra=$(paired bridge none "")
extra_p=$(paired bridge publish-none p)
printf '%-40s %8.2f ms   (p90 %.2f)\n' "--network none" "$mn" "$pn"
printf '%-40s %8.2f ms   (p90 %.2f)\n' "--network bridge" "$mb" "$pb"
verdict=$(awk -v e="$extra" 'BEGIN { print (e < 5) ? "goal met: < 5 ms" : "goal missed: >= 5 ms" }')
printf '%-40s %8.2f ms   (%s)\n' "bridge extra (median of paired diffs)" "$extra" "$verdict"
printf '%-40s %8.2f ms\n' "bridge -p 18080:80 extra over none" "$extra_p"
if [ "$fails" -gt 0 ]; then
    echo "bench/net: $fails run(s) failed:" >&2
    tail -5 "$W/err" >&2
    exit 1
fi
exit 0
