#!/bin/bash
# bench/clients.sh — what a user of containerd or podman waits for: `ctr run --rm IMAGE true`
# and `podman run --rm IMAGE true` (the built-in busybox image), hull as the runtime side by
# side with Debian's runc (and crun where it runs), interleaved rounds in one run.
#
#   HULL=/abs/path/to/hull bench/clients.sh          (make bench does this with build/hull)
#
# Phases (BENCH_CLIENT_PHASES, default "host nohybrid"):
#   host      the host as it is (hybrid cgroups): hull and runc; crun 1.8.1 refuses this host
#   nohybrid  containerd, ctr and podman run under bench/nohybrid.sh (no cgroup2 mount): hull,
#             runc and crun; skipped with a note if crun cannot run a container there either
# Clients (BENCH_CLIENTS, default "ctr podman"): a missing one is skipped with a note.
# containerd runs from a temp dir (config, root, state, socket; no CRI), podman with its
# storage, run root and containers.conf in a temp dir, network "none", and default ulimits of
# nofile=1024 nproc=4096 for every runtime: with podman's own defaults (nofile 1048576) runc
# and crun fail where root lacks CAP_SYS_RESOURCE (hull lowers them with a warning).
# Per run: the wall time (ms) of the client command. Prints per phase, client and runtime:
# runs, failures, median, min, max, and the ratios of the medians (hull/runc, hull/crun):
# hull's median should be the lowest.
#
# Env: HULL (default build/hull), RUNC, CRUN (default: from PATH; a missing peer is skipped),
#      BENCH_RUNS (default 15), BENCH_SETTLE (seconds before each run, default 0.1),
#      BENCH_KEEP=1 keeps the work dir.
# Exit: 0, or 1 when a run of hull fails or nothing could be measured, 2 on bad usage.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)

now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }   # bash 5: no fork

# --- inner mode: one phase, every client, interleaved (run inside nohybrid.sh or directly) ----
# clients.sh --loop WORKDIR PHASE RUNS LABEL=BIN...
if [ "${1:-}" = --loop ]; then
    W=$2 PHASE=$3 RUNS=$4
    shift 4
    specs=("$@")
    n=${#specs[@]}
    RES=$W/results
    P=$W/$PHASE
    mkdir -p "$P"
    CTRD_PID=
    finish() {
        local id
        if [ -n "$CTRD_PID" ]; then
            for id in $(ctr_ task ls -q 2>/dev/null); do ctr_ task kill -s KILL "$id" >/dev/null 2>&1; done
            sleep 0.2
            for id in $(ctr_ containers ls -q 2>/dev/null); do
                ctr_ task delete -f "$id" >/dev/null 2>&1; ctr_ containers delete "$id" >/dev/null 2>&1
            done
            kill "$CTRD_PID" 2>/dev/null; wait "$CTRD_PID" 2>/dev/null
            rmdir "/run/containerd/runc/$NS" 2>/dev/null
        fi
        if [ -d "$P/pm" ]; then
            for id in $(pm_ ps -aq 2>/dev/null); do pm_ rm -f -t 0 "$id" >/dev/null 2>&1; done
        fi
    }
    trap finish EXIT
    NS=hullbench-$$
    ctr_() { timeout -k 5 60 ctr -a "$P/ctrd/sock" -n "$NS" "$@"; }
    pm_() {
        timeout -k 5 60 podman --root "$P/pm/root" --runroot "$P/pm/runroot" --tmpdir "$P/pm/tmp" \
            --storage-driver overlay --cgroup-manager cgroupfs --events-backend file "$@"
    }
    printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$P/pm/root" "$P/pm/runroot" >"$P/storage.conf"
    export CONTAINERS_CONF=$W/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf TMPDIR=$W

    # one run: LABEL BIN CLIENT ID -> "PHASE CLIENT LABEL wall_ms rc" in $RES
    one() {
        local label=$1 bin=$2 client=$3 id=$4 t0 t1 rc
        t0=$(now_us)
        case $client in
        ctr) ctr_ run --rm --runc-binary "$bin" docker.io/library/busybox:latest "$id" true </dev/null >/dev/null 2>>"$W/err-$PHASE-$client-$label" ;;
        podman) pm_ --runtime "$bin" run --rm --cgroup-parent "/hullbench-$$" busybox true </dev/null >/dev/null 2>>"$W/err-$PHASE-$client-$label" ;;
        esac
        rc=$?
        t1=$(now_us)
        awk -v p="$PHASE" -v c="$client" -v l="$label" -v us=$((t1 - t0)) -v rc=$rc \
            'BEGIN { printf "%s %s %s %.2f %d\n", p, c, l, us / 1000, rc }' >>"$RES"
    }
    for client in $CLIENTS; do
        case $client in
        ctr)
            mkdir -p "$P/ctrd"
            printf 'version = 2\nroot = "%s"\nstate = "%s"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s"\n' \
                "$P/ctrd/root" "$P/ctrd/state" "$P/ctrd/sock" >"$P/ctrd/config.toml"
            containerd --config "$P/ctrd/config.toml" >"$P/ctrd/log" 2>&1 &
            CTRD_PID=$!
            for i in $(seq 100); do [ -S "$P/ctrd/sock" ] && break; sleep 0.05; done
            ctr_ image import "$W/bb.tar" >/dev/null 2>&1 || { echo "bench: ctr image import failed ($PHASE)" >&2; continue; }
            ;;
        podman)
            pm_ load -q -i "$W/bb.tar" >/dev/null 2>&1 || { echo "bench: podman load failed ($PHASE)" >&2; continue; }
            ;;
        esac
        # one warm-up run each (page cache, first exec, image unpack), not recorded
        for spec in "${specs[@]}"; do
            case $client in
            ctr) ctr_ run --rm --runc-binary "${spec#*=}" docker.io/library/busybox:latest "warm-${spec%%=*}" true </dev/null >/dev/null 2>&1 ;;
            podman) pm_ --runtime "${spec#*=}" run --rm --cgroup-parent "/hullbench-$$" busybox true </dev/null >/dev/null 2>&1 ;;
            esac
        done
        # the order rotates every round, and each run starts after a settle pause
        for ((i = 1; i <= RUNS; i++)); do
            for ((k = 0; k < n; k++)); do
                spec=${specs[$(((i + k) % n))]}
                sleep "$SETTLE"
                one "${spec%%=*}" "${spec#*=}" "$client" "b-${spec%%=*}-$i"
            done
        done
    done
    find /sys/fs/cgroup/*/"hullbench-$$" /sys/fs/cgroup/"hullbench-$$" -depth -type d -exec rmdir {} \; 2>/dev/null
    exit 0
fi

# --- main -----------------------------------------------------------------------------------
die() { echo "bench: $*" >&2; exit "${2:-1}"; }
[ "$(id -u)" = 0 ] || die "needs root" 2
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)" 2
HULL=${HULL:-$HERE/../build/hull}
case $HULL in /*) ;; *) HULL=$PWD/$HULL ;; esac
[ -x "$HULL" ] || die "HULL=$HULL is not an executable (build it, or point HULL at a runtime)" 2
[ -x /bin/busybox ] || die "needs busybox-static (/bin/busybox)" 2
RUNS=${BENCH_RUNS:-15}
export SETTLE=${BENCH_SETTLE:-0.1}
CRUN=${CRUN-$(command -v crun || true)}
RUNC=${RUNC-$(command -v runc || true)}
PHASES=${BENCH_CLIENT_PHASES:-host nohybrid}
CLIENTS=
for c in ${BENCH_CLIENTS:-ctr podman}; do
    case $c in
    ctr) command -v containerd >/dev/null && command -v ctr >/dev/null && CLIENTS="$CLIENTS ctr" ||
        echo "bench: containerd/ctr not installed: no ctr figures" >&2 ;;
    podman) command -v podman >/dev/null && command -v conmon >/dev/null && CLIENTS="$CLIENTS podman" ||
        echo "bench: podman/conmon not installed: no podman figures" >&2 ;;
    *) die "unknown client $c (ctr, podman)" 2 ;;
    esac
done
export CLIENTS
[ -n "$CLIENTS" ] || die "no client to measure"

W=$(mktemp -d /tmp/hull-bench-clients.XXXXXX) || die "mktemp failed"
cleanup() {
    local m
    for m in $(grep -F " $W/" /proc/self/mountinfo | awk '{print $5}' | sort -r); do umount -l "$m" 2>/dev/null; done
    [ -n "${BENCH_KEEP:-}" ] && { echo "bench: kept $W" >&2; return; }
    rm -rf "$W"
}
trap cleanup EXIT
"$HERE/../image/make-busybox-image.sh" "$W/bb" >/dev/null || die "cannot build the busybox image"
tar -C "$W/bb" -cf "$W/bb.tar" . || die "cannot archive the busybox image"
cat >"$W/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "$W"
EOF
: >"$W/results"

peers=("hull=$HULL")
[ -n "$RUNC" ] && [ -x "$RUNC" ] && peers+=("runc=$RUNC")
crun_ok=
if [ -n "$CRUN" ] && [ -x "$CRUN" ]; then
    # crun under nohybrid.sh, on a plain bundle: does it run at all on this host?
    B=$W/crun-probe
    mkdir -p "$B/rootfs/bin" && cp /bin/busybox "$B/rootfs/bin/" && ln -s busybox "$B/rootfs/bin/true"
    (cd "$B" && "$CRUN" spec && jq '.process.terminal = false | .process.args = ["/bin/true"]' config.json >c.json && mv c.json config.json) >/dev/null 2>&1
    "$HERE/nohybrid.sh" "$CRUN" --root "$W/crun-state" run --bundle "$B" "probe-$$" </dev/null >/dev/null 2>"$W/crun-probe.err" && crun_ok=1 ||
        echo "bench: crun cannot run a container even under nohybrid.sh: $(head -1 "$W/crun-probe.err"); no crun figures" >&2
fi

echo "bench: $RUNS interleaved rounds per client of \`ctr run --rm docker.io/library/busybox:latest ID true\` / \`podman run --rm busybox true\`;"
echo "       hull=$HULL; wall time of the client command (ms)"
for phase in $PHASES; do
    case $phase in
    host) "$0" --loop "$W" host "$RUNS" "${peers[@]}" ;;
    nohybrid)
        p=("${peers[@]}")
        [ -n "$crun_ok" ] && p+=("crun=$CRUN")
        "$HERE/nohybrid.sh" "$0" --loop "$W" nohybrid "$RUNS" "${p[@]}" ;;
    *) die "unknown phase $phase (host, nohybrid)" 2 ;;
    esac
done

stats() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "- - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

status=0
printf '\n%-9s %-7s %-5s %5s %5s %10s %8s %8s\n' phase client rt runs fail median_ms min_ms max_ms
declare -A MED
for phase in $PHASES; do
    for client in $CLIENTS; do
        for l in hull runc crun; do
            n=$(awk -v p="$phase" -v c="$client" -v l="$l" '$1 == p && $2 == c && $3 == l' "$W/results" | wc -l)
            [ "$n" = 0 ] && continue
            f=$(awk -v p="$phase" -v c="$client" -v l="$l" '$1 == p && $2 == c && $3 == l && $5 != 0' "$W/results" | wc -l)
            read -r med mn mx < <(awk -v p="$phase" -v c="$client" -v l="$l" '$1 == p && $2 == c && $3 == l && $5 == 0 { print $4 }' "$W/results" | stats)
            MED[$phase.$client.$l]=$med
            printf '%-9s %-7s %-5s %5s %5s %10s %8s %8s\n' "$phase" "$client" "$l" "$n" "$f" "$med" "$mn" "$mx"
            if [ "$f" != 0 ]; then
                echo "bench: $f of $n runs of $client with $l failed ($phase); first error:" >&2
                head -n 3 "$W/err-$phase-$client-$l" >&2
                [ "$l" = hull ] && status=1
            fi
        done
    done
done
echo
for phase in $PHASES; do
    for client in $CLIENTS; do
        h=${MED[$phase.$client.hull]:-}
        [ -n "$h" ] && [ "$h" != - ] || continue
        line="hull/runc $(ratio "$h" "${MED[$phase.$client.runc]:--}")"
        [ -n "${MED[$phase.$client.crun]:-}" ] && line="$line  hull/crun $(ratio "$h" "${MED[$phase.$client.crun]}")"
        lowest=yes
        for l in runc crun; do
            o=${MED[$phase.$client.$l]:-}
            [ -n "$o" ] && [ "$o" != - ] && awk -v a="$h" -v b="$o" 'BEGIN { exit !(a > b) }' && lowest=no
        done
        printf '%-9s %-7s %s   (hull lowest: %s)\n' "$phase" "$client" "$line" "$lowest"
    done
done
[ -s "$W/results" ] || { echo "bench: nothing was measured" >&2; status=1; }
exit $status
