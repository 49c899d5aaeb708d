#!/bin/bash
# bench/vm.sh — hull's VMM against qemu on this machine's /dev/kvm, side by side in one run:
#   1. start → tiny guest → exit: `hull vmm` and `qemu -M microvm` both boot
#      tests/guests/exit32.S (a PVH ELF that prints "BYE" and resets), rounds interleaved;
#      wall time, CPU and peak RSS per run (bench/measure.c), medians and the hull/qemu ratio
#      (the goal: under 0.5).
#   2. VMM memory overhead: each VMM runs tests/guests/spin32.S with 64 MiB of RAM; from
#      /proc/PID/smaps, the RSS of every mapping but the guest's RAM (the goal for hull: < 3 MiB).
#   3. A real Linux boot (this /dev/kvm cannot run one): inside the nested harness (L1 = Debian's
#      kernel under qemu TCG with kvm_amd), hull vmm and qemu -M microvm boot the same L2 kernel +
#      initramfs to its /init, load the virtio drivers and reboot; and `hull --vm run` of a
#      busybox bundle running /bin/true end to end vs qemu -M microvm booting the same kernel
#      with a busybox initramfs that runs true (tests/vm/nest-bench.sh); medians and the ratios.
#      BENCH_NEST=0 skips it (about ten minutes), BENCH_NEST_ROUNDS (default 3).
# On a kvm_pvm host hull needs --allow-slow-kvm (the guests are a few instructions of ring 0).
#
#   HULL=/abs/path/to/hull bench/vm.sh        (make bench does this with build/hull)
# Env: QEMU (default qemu-system-x86_64 from PATH; missing: hull alone), BENCH_RUNS (default 21),
#      BENCH_KEEP=1 keeps the work dir.
# Exit status: 0, or 1 when a run of hull fails; never because of a ratio.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "bench/vm: $*" >&2; exit "${2:-1}"; }
HULL=${HULL:-$HERE/../build/hull}
case $HULL in /*) ;; *) HULL=$PWD/$HULL ;; esac
[ -x "$HULL" ] || die "HULL=$HULL is not an executable" 2
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "bench/vm: /dev/kvm not usable: skipped"; exit 0; }
QEMU=${QEMU-$(command -v qemu-system-x86_64 || true)}
RUNS=${BENCH_RUNS:-21}
W=$(mktemp -d /tmp/hull-benchvm.XXXXXX) || die "mktemp failed"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "${BENCH_KEEP:-}" ] && { echo "bench/vm: kept $W" >&2; return; }
    rm -rf "$W"
}
trap cleanup EXIT

sh "$HERE/../tests/guests/build.sh" "$W/g" >/dev/null 2>&1 || die "cannot build tests/guests (binutils?)"
cc -O2 -o "$W/measure" "$HERE/measure.c" || die "cannot build bench/measure.c"
SLOW=
[ -e /sys/module/kvm_pvm ] && SLOW=--allow-slow-kvm
hull_cmd() { echo "$HULL" vmm --kernel "$1" --mem "$2" $SLOW; }
qemu_cmd() {
    echo "$QEMU" -M microvm,x-option-roms=off,acpi=off -accel kvm -cpu host -m "$2" -nodefaults -no-user-config \
        -display none -serial null -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$1"
}

# ---- 1. start -> tiny guest -> exit ---------------------------------------------------------
echo "== VMM start -> tiny guest (exit32: print, reset) -> exit; $RUNS rounds, order alternating"
labels=(hull)
[ -n "$QEMU" ] && labels+=(qemu)
for ((i = 0; i < RUNS + 1; i++)); do
    for ((k = 0; k < ${#labels[@]}; k++)); do
        l=${labels[$(((i + k) % ${#labels[@]}))]}
        # shellcheck disable=SC2046 # the command is word-split on purpose
        line=$("$W/measure" $(${l}_cmd "$W/g/exit32.elf" 16M) 3>&1 </dev/null >/dev/null 2>>"$W/err-$l")
        [ "$i" = 0 ] && continue   # warm-up round
        echo "$l $line" >>"$W/results"
    done
done
# hull's exit status for "reset" is 81, qemu's isa-debug-exit status with 0 written is 1
bad=$(awk '$1 == "hull" && $5 != 81' "$W/results" | wc -l)
[ "$bad" = 0 ] || { echo "bench/vm: $bad hull runs did not end with the guest's reset:" >&2; tail -n 3 "$W/err-hull" >&2; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
printf '%-6s %10s %10s %12s\n' "" "wall ms" "cpu ms" "peak RSS KiB"
for l in "${labels[@]}"; do
    wall=$(awk -v l="$l" '$1 == l { print $2 }' "$W/results" | median)
    cpu=$(awk -v l="$l" '$1 == l { print $3 }' "$W/results" | median)
    rss=$(awk -v l="$l" '$1 == l { print $4 }' "$W/results" | median)
    printf '%-6s %10s %10s %12s\n' "$l" "$wall" "$cpu" "$rss"
    eval "W_$l=$wall"
done
[ -n "$QEMU" ] && awk -v h="$W_hull" -v q="${W_qemu:-0}" 'BEGIN { if (q > 0) printf "hull/qemu wall: %.2f (goal < 0.5)\n", h / q }'

# ---- 2. VMM memory overhead ------------------------------------------------------------------
# Sum of Rss over every mapping except the guest RAM (the one anonymous mapping of exactly the
# RAM size, 64 MiB), in KiB.
overhead() { # PID
    awk '/^Size:/ { ram = ($2 == 65536) }
         /^Rss:/ { if (ram) guest += $2; else rest += $2 }
         END { printf "%d %d\n", rest, guest }' "/proc/$1/smaps"
}
echo "== VMM memory overhead (RSS outside guest RAM, /proc/PID/smaps), guest spinning, 64 MiB RAM"
for l in "${labels[@]}"; do
    # shellcheck disable=SC2046
    $(${l}_cmd "$W/g/spin32.elf" 64M) </dev/null >/dev/null 2>&1 &
    pid=$!
    PIDS+=("$pid")
    sleep 1
    if [ -r "/proc/$pid/smaps" ]; then
        read -r rest guest < <(overhead "$pid")
        printf '%-6s overhead %6d KiB (%.2f MiB); guest RAM touched %d KiB\n' "$l" "$rest" "$(echo "$rest / 1024" | bc -l)" "$guest"
    else
        echo "$l: exited before it could be measured ($(tail -n 1 "$W/err-$l" 2>/dev/null))"
    fi
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done

# ---- 3. L2 boot in the nested harness ---------------------------------------------------------
if [ "${BENCH_NEST:-1}" != 0 ] && [ -n "$QEMU" ]; then
    echo "== inside L1 (qemu TCG + kvm_amd), tests/vm/nest-bench.sh: L2 Linux boot to /init + drivers + reboot"
    echo "   (hull vmm vs qemu microvm), and \`hull --vm run true\` end to end vs qemu microvm booting the same"
    echo "   kernel with a busybox initramfs that runs true"
    if BUILD=$(dirname "$HULL") HULL_VM_NEST=bench HULL_VM_TESTS="" HULL_VM_MEM=1536M HULL_VM_TEST_TIMEOUT=1500 HULL_VM_STALL=240 \
        HULL_VM_APPEND="hullbench_rounds=${BENCH_NEST_ROUNDS:-3}" \
        "$HERE/../tests/vm/run-in-vm.sh" --quiet --only nestbench --out "$W/nest" --timeout 1700 >"$W/nest.log" 2>&1; then
        f=$W/nest/tests/nestbench.tap
        for l in hull qemu hull-true qemu-true; do
            n=$(awk -v l="$l" '$1 == "BENCH" && $2 == l' "$f" | wc -l)
            m=$(awk -v l="$l" '$1 == "BENCH" && $2 == l { print $3 }' "$f" | median)
            rcs=$(awk -v l="$l" '$1 == "BENCH" && $2 == l { print $4 }' "$f" | sort -u | tr '\n' ' ')
            case $l in *-true) what="run true" ;; *) what="L2 boot" ;; esac
            printf '%-9s %-8s median %8s ms over %d boots (exit status: %s)\n' "$l" "$what" "$m" "$n" "$rcs"
            eval "N_${l/-/_}=${m:-0}"
        done
        awk -v h="$N_hull" -v q="$N_qemu" 'BEGIN { if (q > 0) printf "hull/qemu L2 boot: %.2f\n", h / q }'
        awk -v h="$N_hull_true" -v q="$N_qemu_true" \
            'BEGIN { if (q > 0) printf "hull --vm run true / qemu microvm + busybox true: %.2f\n", h / q }'
        grep '^# ' "$f" | sort -u | head -n 5   # why a boot did not end the expected way
    else
        echo "bench/vm: the nested harness failed: $(tail -n 3 "$W/nest.log")"
    fi
fi
[ "$bad" = 0 ]
