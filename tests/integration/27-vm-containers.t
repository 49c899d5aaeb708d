#!/bin/bash
# 27-vm-containers: microVM containers (`hull --vm`, run.oci.handler=vm) end to end. This host's
# /dev/kvm (kvm_pvm) cannot run a stock kernel, so tests/vm/run-in-vm.sh boots Debian's kernel
# under qemu TCG as L1 (AMD SVM + nested paging from -cpu max), and tests/vm/nest-containers.sh
# runs hull there: every container is an L2 guest booted by hull's VMM with hull's agent as its
# PID 1 — output, exit codes 0/3/137, stdin, user/cwd/env, the guest's own kernel, 10 MB of
# output, exec/ps/kill into a running VM, the lifecycle verbs with the annotation, two VMs at
# once, the container's writes (in its upper image), and the errors (no /dev/kvm, no kernel, boot
# timeout) leaving nothing behind. In the same L1 boot, tests/vm/nest-clients.sh has Debian's
# containerd (ctr) and podman (conmon) drive hull's VM containers (the annotation, the binary
# name hull-vm, exec, kill/stop, logs, delete/rm). Every assertion made inside L1 is repeated here as its own result.
#
# Environment: HULL (its directory is the build dir), HULL_VM_TIMEOUT (default 1800),
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
[ -x "$BUILD/hull-vmm" ] && [ -x "$BUILD/hull-agent" ] || skip_all "needs $BUILD/hull-vmm and $BUILD/hull-agent (make)"
file "$BUILD/hull-agent" | grep -q 'statically linked' || skip_all "$BUILD/hull-agent is not static (sanitizer build?)"
command -v cc >/dev/null && command -v pkg-config >/dev/null || skip_all "needs cc and pkg-config (the guest initramfs is built on the host)"
export BUILD HULL_VM_TESTS="" HULL_VM_NEST=1 HULL_VM_CLIENTS=1 HULL_VM_MEM=${HULL_VM_MEM:-1536M}
# two tests inside L1, "nestctr" (about 7 minutes here) and "nestcli" (about 4): a stuck one is
# killed in time for the other to run
TMO=${HULL_VM_TIMEOUT:-1800}
export HULL_VM_TEST_TIMEOUT=${HULL_VM_TEST_TIMEOUT:-$((TMO / 2 - 60))}
# nest-containers.sh prints a result at least every few minutes: a console silent for longer is
# an L1 wedged by qemu TCG's nested SVM (seen with every nested test here), not a slow test
export HULL_VM_STALL=${HULL_VM_STALL:-420}

why=$("$VM" --check 2>&1)
case $? in
0) ;;
4) skip_all "$why" ;;
*) bail_out "tests/vm/run-in-vm.sh --check failed: $why" ;;
esac

TMP=$(mktemp -d /tmp/hull-nestctr.XXXXXX) || bail_out "mktemp failed"
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

run_l1() { # OUTDIR
    "$VM" --quiet --only nestctr,nestcli --out "$1" --timeout "$TMO" >"$TMP/harness.log" 2>&1 &
    VMPID=$!
    wait "$VMPID"
    local rc=$?
    VMPID=
    return $rc
}
run_l1 "$TMP/vm"
VMRC=$?
# qemu TCG's nested SVM now and then wedges L1 for good (the watchdog above stops it): one more run
if [ -e "$TMP/vm/stalled" ]; then
    note "first L1 run wedged after: $(grep -E '^(ok|not ok)' "$TMP/vm/tests/nestctr.tap" 2>/dev/null | tail -n 1); running it again"
    mv "$TMP/vm" "$TMP/vm-first"
    run_l1 "$TMP/vm"
    VMRC=$?
fi
[ -d "$TMP/vm-first" ] && vm_report_watchdog "$TMP/vm-first"
vm_report_watchdog "$TMP/vm"
O=$TMP/vm
timing() { sed -n "s/^$1 //p" "$O/timing" 2>/dev/null | head -n 1; }

[ -e "$O/stalled" ] && diag "the L1 VM stopped making progress (no console output for ${HULL_VM_STALL}s) and was stopped: a qemu TCG wedge; re-run"
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

# replay TEST SCRIPT LABEL: each result of that test inside L1 as ours (the number dropped,
# LABEL in front), its diagnostics after it, then one result for its plan being complete. A test
# that skipped as a whole (1..0 # SKIP) becomes one skip with its reason.
replay() {
    local f=$O/tests/$1.tap inner=0 planned= line
    if [ ! -s "$f" ]; then
        fail "tests/vm/$2 ran inside L1"
        tail -n 25 "$O/console.log" 2>/dev/null | diag "$(cat)"
        return
    fi
    while IFS= read -r line; do
        case $line in
        "ok "*"# skip "*) inner=$((inner + 1)); skip "$3: ${line#*# skip }" ;;
        "ok "*) inner=$((inner + 1)); pass "$3: ${line#ok * - }" ;;
        "not ok "*) inner=$((inner + 1)); fail "$3: ${line#not ok * - }" ;;
        "#"*) diag "${line#\# }" ;;
        "1..0 # SKIP"*) skip "$3: ${line#1..0 # SKIP }"; return ;;
        1..*) planned=${line#1..} ;;
        esac
    done <"$f"
    is "$planned" "$inner" "$3: $2 finished its plan ($inner results; exit $(cat "$O/tests/$1.rc" 2>/dev/null || echo none), $(cat "$O/tests/$1.secs" 2>/dev/null || echo ?)s)"
}
replay nestctr nest-containers.sh L1
replay nestcli nest-clients.sh "L1, clients"
info() { sed -n "s/^$1 //p" "$O/info" 2>/dev/null | head -n 1; }
diag "hull --vm run true in L1: $(info nestctr_run_true_ms) ms; a bare L2 boot + power-off: $(info nestctr_bare_l2_ms) ms"
if [ "$VMRC" = 0 ]; then
    pass "L1 powered off ($(timing host_boot_to_done_s)s in the VM, $(timing harness_total_s)s in all)"
else
    fail "L1 powered off (run-in-vm exit $VMRC)"
    diag "$(grep -v '^==' "$TMP/harness.log" | tail -n 30)"
fi
done_testing
