#!/bin/bash
# 25-vmm-nested: hull's VMM boots a real Linux kernel. This host's /dev/kvm (kvm_pvm) cannot run
# a stock kernel, so tests/vm/run-in-vm.sh boots Debian's kernel under qemu TCG as L1 (whose
# -cpu max offers AMD SVM + nested paging), loads kvm_amd there, and tests/vm/nest.sh runs
# `hull vmm` inside L1 to boot the same kernel again as L2 — PVH and bzImage entry, virtio-blk,
# virtio-console ports both ways, pvpanic, i8042 reset, SIGTERM, 2 vCPUs — one boot per scenario.
# Every assertion made inside L1 is repeated here as its own result. On a host whose /dev/kvm has
# VT-x/AMD-V (not kvm_pvm), the same scenarios also run directly on the host, without qemu.
#
# Environment: HULL (its directory is the build dir), HULL_VM_TIMEOUT (default 900, per L1 run),
# HULL_TEST_KEEP=1 (keep the console log).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../vm/report.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VM=$REPO/tests/vm/run-in-vm.sh
if [ -n "${HULL:-}" ]; then
    case $(basename "$HULL") in
    hull) ;;
    *) skip_all "the nested VM test runs hull's own build, not $(basename "$HULL")" ;;
    esac
    BUILD=$(dirname "$HULL")
    case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
else
    BUILD=$REPO/build
fi
export BUILD HULL_VM_TESTS="" HULL_VM_NEST=1 HULL_VM_MEM=${HULL_VM_MEM:-1536M}
# every L2 scenario runs in the one test "nest" inside L1: give it most of the harness's time
export HULL_VM_TEST_TIMEOUT=${HULL_VM_TEST_TIMEOUT:-850}
# every scenario prints within a minute or two, even on a loaded machine: silence means wedged
export HULL_VM_STALL=${HULL_VM_STALL:-240}

# ---- directly on the host, when it has hardware virtualisation --------------------------------
hw_virt() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo
}
if hw_virt; then
    KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
    DTMP=$(mktemp -d /tmp/hull-nest-direct.XXXXXX) || bail_out "mktemp failed"
    KVER=${KERNEL#/boot/vmlinuz-}
    mkdir -p "$DTMP/l2"
    cp "$KERNEL" "$DTMP/l2/bzImage"
    echo "$KVER" >"$DTMP/l2/kver"
    for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$KERNEL" | cut -d: -f1); do
        tail -c +$((off + 1)) "$KERNEL" | xz -dc 2>/dev/null >"$DTMP/l2/vmlinux"
        [ "$(head -c 4 "$DTMP/l2/vmlinux" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && break
    done
    "$REPO/tests/vm/build-l2.sh" "$KVER" "$DTMP/l2/l2.cpio" || bail_out "build-l2.sh failed"
    HULL_NEST_HULL=$BUILD/hull HULL_NEST_L2=$DTMP/l2 sh "$REPO/tests/vm/nest.sh" >"$DTMP/direct.tap" 2>&1
    while IFS= read -r line; do
        case $line in
        "ok "*) pass "host: ${line#ok * - }" ;;
        "not ok "*) fail "host: ${line#not ok * - }" ;;
        "#"*) diag "${line#\# }" ;;
        esac
    done <"$DTMP/direct.tap"
    rm -rf "$DTMP"
    DIRECT_RAN=1
fi

why=$("$VM" --check 2>&1)
case $? in
0) ;;
4) [ -n "${DIRECT_RAN:-}" ] && { note "the nested harness is skipped: $why"; done_testing; }
   skip_all "$why" ;;
*) bail_out "tests/vm/run-in-vm.sh --check failed: $why" ;;
esac

TMP=$(mktemp -d /tmp/hull-nest.XXXXXX) || bail_out "mktemp failed"
VMPID=
cleanup() {
    local rc=$?
    if [ -n "$VMPID" ] && kill -0 "$VMPID" 2>/dev/null; then kill -TERM "$VMPID"; wait "$VMPID"; fi
    if [ -n "${HULL_TEST_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One L1 run; returns the harness's exit status. qemu TCG's nested SVM has been seen to wedge L1
# now and then (its clock stops: not even L1's own timeouts fire, while the same scenarios pass in
# ~4 minutes on other runs), so a run that ends without finishing nest.sh is tried once more, and
# the first run's last words are kept as diagnostics.
run_l1() { # OUTDIR
    "$VM" --quiet --only nest --out "$1" --timeout "${HULL_VM_TIMEOUT:-900}" >"$TMP/harness.log" 2>&1 &
    VMPID=$!
    wait "$VMPID"
    local rc=$?
    VMPID=
    return $rc
}
run_l1 "$TMP/vm"
VMRC=$?
if [ "$VMRC" != 0 ] && ! grep -q '^1\.\.' "$TMP/vm/tests/nest.tap" 2>/dev/null; then
    note "first L1 run did not finish (harness exit $VMRC); it stopped after: $(grep -E '^(ok|not ok)' "$TMP/vm/tests/nest.tap" 2>/dev/null | tail -n 1)"
    note "$(tail -n 3 "$TMP/vm/console.log" 2>/dev/null | tr '\n' '|')"
    mv "$TMP/vm" "$TMP/vm-first"
    run_l1 "$TMP/vm"
    VMRC=$?
fi
[ -d "$TMP/vm-first" ] && vm_report_watchdog "$TMP/vm-first"
vm_report_watchdog "$TMP/vm"
O=$TMP/vm
timing() { sed -n "s/^$1 //p" "$O/timing" 2>/dev/null | head -n 1; }

if [ "$VMRC" = 2 ] || [ ! -s "$O/timing" ]; then
    fail "the L1 VM harness ran (exit $VMRC)"
    diag "$(tail -n 20 "$TMP/harness.log")"
    done_testing
fi
init_s=$(timing host_boot_to_init_s)
if [ -n "$init_s" ] && [ "$init_s" != none ]; then
    pass "L1 booted and reached /init in ${init_s}s"
else
    fail "L1 booted and reached /init"
    tail -n 25 "$O/console.log" 2>/dev/null | diag "$(cat)"
    done_testing
fi

f=$O/tests/nest.tap
if [ ! -s "$f" ]; then
    fail "tests/vm/nest.sh ran inside L1"
    tail -n 25 "$O/console.log" 2>/dev/null | diag "$(cat)"
    done_testing
fi
# Each inner result as ours (the number dropped), its diagnostics after it.
inner=0 planned=
while IFS= read -r line; do
    case $line in
    "ok "*) inner=$((inner + 1)); pass "L1: ${line#ok * - }" ;;
    "not ok "*) inner=$((inner + 1)); fail "L1: ${line#not ok * - }" ;;
    "#"*) diag "${line#\# }" ;;
    1..*) planned=${line#1..} ;;
    esac
done <"$f"
is "$planned" "$inner" "L1: nest.sh finished its plan ($inner results; exit $(cat "$O/tests/nest.rc" 2>/dev/null || echo none), $(cat "$O/tests/nest.secs" 2>/dev/null || echo ?)s)"
if [ "$VMRC" = 0 ]; then
    pass "L1 powered off ($(timing host_boot_to_done_s)s in the VM, $(timing harness_total_s)s in all)"
else
    fail "L1 powered off (run-in-vm exit $VMRC)"
    diag "$(grep -v '^==' "$TMP/harness.log" | tail -n 30)"
fi
done_testing
