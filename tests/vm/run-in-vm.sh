#!/bin/bash
# tests/vm/run-in-vm.sh — boot Debian's kernel under qemu (TCG) in pure cgroup v2 mode
# (cgroup_no_v1=all) with an initramfs of hull, busybox and the cgroup unit tests; run them and
# bring their TAP back.
#
# usage: run-in-vm.sh [--out DIR] [--timeout SECS] [--quiet] [--only NAME] [--check]
#   --out DIR      keep the results in DIR (created): console.log (the raw serial console),
#                  tests/NAME.tap and tests/NAME.rc for each test run inside, info (KEY VALUE
#                  lines from the VM), timing, initramfs.cpio. Without --out a temp dir is used
#                  and removed at exit.
#   --timeout S    kill the VM after S seconds (default $HULL_VM_TIMEOUT or 900)
#   --quiet        do not stream the console to stdout (the summary is still printed)
#   --only NAME    run only that test inside the VM (a unit test name or e2e)
#   --check        only check the prerequisites: prints the missing one and exits 4
#
# Exit status: 0 the VM ran every test and powered off (the tests' own results are in the
# summary and in DIR); 3 the VM did not boot, crashed or timed out; 4 a prerequisite is missing;
# 2 usage or build error.
#
# Environment: BUILD (default <repo>/build), HULL_VM_TESTS (unit tests to run inside, default
# "test_cgroup test_cgroup_resources"), HULL_VM_KERNEL (a bzImage; default the newest
# /boot/vmlinuz-*), HULL_VM_MEM (default 1G), HULL_VM_APPEND (extra kernel arguments),
# HULL_VM_TEST_TIMEOUT (seconds per test inside the VM, default 300), HULL_VM_STALL (seconds: stop
# the VM when its console has been silent that long — a wedged VM; default off).
#
# The kernel: Debian's bzImage carries an xz-compressed ELF vmlinux; it is extracted once and
# cached as $BUILD/vm/vmlinux-<version> (qemu's microvm boots an ELF vmlinux through PVH, which
# is several times faster under TCG than the bzImage's own decompressor).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
export BUILD
TESTS=${HULL_VM_TESTS-test_cgroup test_cgroup_resources}
export HULL_VM_TESTS=$TESTS
OUT='' TMO=${HULL_VM_TIMEOUT:-900} QUIET='' ONLY='' CHECK=''

usage() { sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
    --out) OUT=${2:?}; shift 2 ;;
    --timeout) TMO=${2:?}; shift 2 ;;
    --quiet) QUIET=1; shift ;;
    --only) ONLY=${2:?}; shift 2 ;;
    --check) CHECK=1; shift ;;
    -h | --help) usage ;;
    *) echo "run-in-vm: unknown argument '$1'" >&2; usage ;;
    esac
done
case $TMO in '' | *[!0-9]*) echo "run-in-vm: --timeout wants seconds, got '$TMO'" >&2; exit 2 ;; esac

missing() { echo "$*"; exit 4; }
KERNEL=${HULL_VM_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
command -v qemu-system-x86_64 >/dev/null || missing "qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
[ -n "$KERNEL" ] || missing "no /boot/vmlinuz-* (Debian: linux-image-amd64)"
[ -r "$KERNEL" ] || missing "$KERNEL is not readable"
[ -x "$BUILD/hull" ] || missing "$BUILD/hull is not built (make)"
for t in $TESTS; do
    [ -x "$BUILD/tests/unit/$t" ] || missing "$BUILD/tests/unit/$t is not built (make unit)"
done
for c in xz cpio jq ldd timeout flock; do
    command -v $c >/dev/null || missing "$c is not installed"
done
[ -x /bin/busybox ] || missing "busybox-static (/bin/busybox) is not installed"
[ -n "$CHECK" ] && exit 0

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
secs_since() { local d=$(($(now_us) - $1)); printf '%d.%03d' $((d / 1000000)) $((d % 1000000 / 1000)); }
T_START=$(now_us)

# ---- work dir and cleanup ---------------------------------------------------------------
QPID='' FIFO=''
if [ -n "$OUT" ]; then
    mkdir -p "$OUT" || exit 2
    W=$(cd "$OUT" && pwd)
    rm -rf "$W/tests" "$W/console.log" "$W/info" "$W/timing"
    RM_W=
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/hull-vm.XXXXXX") || exit 2
    RM_W=1
fi
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill -TERM "$QPID" 2>/dev/null
        sleep 0.5
        kill -KILL "$QPID" 2>/dev/null
        wait "$QPID" 2>/dev/null
    fi
    [ -n "$FIFO" ] && rm -f "$FIFO"
    [ -n "$RM_W" ] && rm -rf "$W"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "run-in-vm: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
mkdir -p "$W/tests"

# ---- the kernel: cached ELF vmlinux -----------------------------------------------------
KVER=$(basename "$KERNEL")
KVER=${KVER#vmlinuz-}
VMLINUX=$BUILD/vm/vmlinux-$KVER
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }
extract_vmlinux() { # BZIMAGE OUT: the first xz stream that decompresses to an ELF
    local off tmp=$2.tmp.$$
    for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | cut -d: -f1); do
        tail -c +$((off + 1)) "$1" | xz -dc 2>/dev/null >"$tmp"
        if is_elf "$tmp"; then mv "$tmp" "$2"; return 0; fi
    done
    rm -f "$tmp"
    return 1
}
mkdir -p "$BUILD/vm" || exit 2
T0=$(now_us)
(
    flock 9
    # a vmlinux older than its bzImage is stale (a kernel package of the same version rebuilt)
    if ! is_elf "$VMLINUX" || [ "$KERNEL" -nt "$VMLINUX" ]; then
        echo "run-in-vm: extracting $KERNEL -> $VMLINUX" >&2
        extract_vmlinux "$KERNEL" "$VMLINUX" || { echo "run-in-vm: no xz-compressed ELF vmlinux in $KERNEL" >&2; exit 1; }
    fi
) 9>"$BUILD/vm/.lock" || exit 2
T_KERNEL=$(secs_since "$T0")

# ---- the initramfs ----------------------------------------------------------------------
T0=$(now_us)
export HULL_VM_KVER=$KVER HULL_VM_VMLINUX=$VMLINUX
"$HERE/build-initramfs.sh" "$W/initramfs.cpio" || { echo "run-in-vm: building the initramfs failed" >&2; exit 2; }
T_INITRAMFS=$(secs_since "$T0")

# ---- boot -------------------------------------------------------------------------------
APPEND="console=ttyS0 quiet cgroup_no_v1=all reboot=t panic=-1 pci=off nokaslr tsc=reliable no_timer_check"
APPEND+=" lpj=4000000 init_on_alloc=0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0"
APPEND+=" hullvm_timeout=${HULL_VM_TEST_TIMEOUT:-300}"
[ -n "$ONLY" ] && APPEND+=" hullvm_only=$ONLY"
# Nested KVM: L1's kernel must be told the host's TSC frequency, or KVM_RUN never enters L2.
if [ -n "${HULL_VM_NEST:-}" ]; then
    KHZ=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
    [ -n "$KHZ" ] && APPEND+=" tsc_early_khz=$KHZ"
    # A periodic tick (local APIC in periodic mode, which qemu re-arms by itself) instead of
    # one-shot programming: L1 wedged by qemu TCG's nested SVM was halted with no local APIC
    # timer armed in qemu at all (its only timer: the RTC alarm, hours away), a wake-up lost.
    APPEND+=" nohz=off highres=off"
fi
[ -n "${HULL_VM_APPEND:-}" ] && APPEND+=" $HULL_VM_APPEND"
# shellcheck disable=SC2054 # commas belong to -M
Q=(qemu-system-x86_64 -M microvm,x-option-roms=off,acpi=off -accel tcg -cpu max -smp 1 -m "${HULL_VM_MEM:-1G}"
    -nodefaults -no-user-config -nographic -serial stdio -no-reboot
    -kernel "$VMLINUX" -initrd "$W/initramfs.cpio" -append "$APPEND"
    -chardev pipe,id=mon0,path="$W/monitor" -mon chardev=mon0,mode=readline)
printf '%q ' "${Q[@]}" >"$W/qemu.cmd"
echo >>"$W/qemu.cmd"

FIFO=$W/serial.fifo
# The serial input and the qemu monitor are FIFOs this script holds open at both ends (so qemu's
# open() does not wait for a reader or writer): the watchdog below writes to them.
mkfifo "$FIFO" "$W/serial.in" "$W/monitor.in" "$W/monitor.out" || exit 2
exec 5<>"$W/serial.in" 6<>"$W/monitor.in" 7<>"$W/monitor.out"
cat <&7 >"$W/monitor.log" &
MONPID=$!
T_BOOT=$(now_us)
timeout -k 5 "$TMO" "${Q[@]}" <&5 >"$FIFO" 2>&1 &
QPID=$!
# The watchdog (HULL_VM_STALL=S). qemu TCG's nested SVM now and then leaves L1 halted with its
# wake-up lost (qemu at 0% CPU, the console silent). After S/3 seconds of silence it records
# the CPU and local APIC state (monitor.log) and wakes L1 with an interrupt of its own — a byte
# on the serial line and an NMI — noting it in $W/nudged; when the console then stays silent
# for S seconds in all, the VM is stopped as wedged ($W/stalled) and the summary says so.
WDPID=
if [ -n "${HULL_VM_STALL:-}" ]; then
    (
        touch "$W/console.log"
        nudged_at=
        while kill -0 "$QPID" 2>/dev/null; do
            sleep 10
            mtime=$(stat -c %Y "$W/console.log" 2>/dev/null || date +%s)
            age=$(($(date +%s) - mtime))
            if [ "$age" -ge "$HULL_VM_STALL" ]; then
                echo "run-in-vm: no console output for ${age}s: stopping the wedged VM" >&2
                echo stalled >"$W/stalled"
                pkill -TERM -P "$QPID" 2>/dev/null
                kill -TERM "$QPID" 2>/dev/null
                break
            fi
            if [ "$age" -ge $((HULL_VM_STALL / 3)) ] && [ "$nudged_at" != "$mtime" ]; then
                nudged_at=$mtime
                cpu=$(ps -o %cpu= -p "$(pgrep -P "$QPID" -x qemu-system-x86 || echo "$QPID")" 2>/dev/null | tr -d ' ')
                echo "silent ${age}s (qemu at ${cpu:-?}% CPU): nudged" >>"$W/nudged"
                printf '\n=== silent %ss, qemu %s%% CPU\n' "$age" "${cpu:-?}" >>"$W/monitor.log"
                printf 'info registers\ninfo lapic\n' >&6
                sleep 2
                printf '\n' >&5
                printf 'nmi\n' >&6
            fi
        done
    ) &
    WDPID=$!
fi
T_INIT='' T_DONE='' GUEST_INIT=''
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case $line in
    "@@HULLVM INIT"*) T_INIT=$(secs_since "$T_BOOT"); GUEST_INIT=${line##*uptime=} ;;
    "@@HULLVM DONE"*) T_DONE=$(secs_since "$T_BOOT") ;;
    esac
    printf '%s\n' "$line" >>"$W/console.log"
    [ -z "$QUIET" ] && printf '%s\n' "$line"
done <"$FIFO"
wait "$QPID"
QRC=$?
QPID=
[ -n "$WDPID" ] && { kill "$WDPID" 2>/dev/null; wait "$WDPID" 2>/dev/null; }
kill "$MONPID" 2>/dev/null
wait "$MONPID" 2>/dev/null
exec 5>&- 6>&- 7>&-
T_VM=$(secs_since "$T_BOOT")
touch "$W/console.log"

# ---- split the console into per-test TAP ------------------------------------------------
awk -v dir="$W/tests" -v info="$W/info" '
    /^@@HULLVM BEGIN / { name = $3; file = dir "/" name ".tap"; printf "" > file; next }
    /^@@HULLVM END /   { if (name != "") { rc = $4; sub(/^rc=/, "", rc); secs = $5; sub(/^secs=/, "", secs)
                           print rc > (dir "/" name ".rc"); print secs > (dir "/" name ".secs")
                           close(file); close(dir "/" name ".rc"); close(dir "/" name ".secs") }
                         name = ""; next }
    /^@@HULLVM INFO /  { line = $0; sub(/^@@HULLVM INFO /, "", line); print line > info; next }
    name != ""         { print > file }
' "$W/console.log"
touch "$W/info"
{
    echo "kernel_extract_s $T_KERNEL"
    echo "initramfs_build_s $T_INITRAMFS"
    echo "initramfs_bytes $(stat -c %s "$W/initramfs.cpio")"
    echo "host_boot_to_init_s ${T_INIT:-none}"
    echo "guest_uptime_at_init_s ${GUEST_INIT:-none}"
    echo "host_boot_to_done_s ${T_DONE:-none}"
    echo "vm_total_s $T_VM"
    echo "harness_total_s $(secs_since "$T_START")"
    echo "qemu_exit $QRC"
} >"$W/timing"

# ---- summary ----------------------------------------------------------------------------
echo "== run-in-vm: $KVER, console $W/console.log${RM_W:+ (removed at exit)}"
for f in "$W"/tests/*.tap; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .tap)
    [ "$n" = dmesg ] && continue
    printf '== %-24s rc=%-4s %6ss  %3d ok, %3d not ok, %3d skipped\n' "$n" "$(cat "$W/tests/$n.rc" 2>/dev/null || echo none)" \
        "$(cat "$W/tests/$n.secs" 2>/dev/null || echo ?)" "$(grep -Ec '^ok ' "$f")" "$(grep -Ec '^not ok ' "$f")" \
        "$(grep -Eic '^ok [0-9]+ # skip' "$f")"
done
sed 's/^/== /' "$W/timing"
if [ -z "$T_DONE" ]; then
    if [ "$QRC" = 124 ] || [ "$QRC" = 137 ]; then
        echo "run-in-vm: the VM timed out after ${TMO}s" >&2
    elif [ -z "$T_INIT" ]; then
        echo "run-in-vm: the VM never reached /init (qemu exit $QRC); console tail:" >&2
        tail -n 20 "$W/console.log" | sed 's/^/    /' >&2
    else
        echo "run-in-vm: the VM stopped before it finished (qemu exit $QRC); console tail:" >&2
        tail -n 20 "$W/console.log" | sed 's/^/    /' >&2
    fi
    exit 3
fi
exit 0
