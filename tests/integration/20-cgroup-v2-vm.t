#!/bin/bash
# 20-cgroup-v2-vm: the cgroup tests on a pure cgroup v2 kernel. This host is hybrid (v1
# controllers), so tests/vm/run-in-vm.sh boots Debian's kernel under qemu (TCG) with
# cgroup_no_v1=all and an initramfs holding hull, busybox, the cgroup unit tests and an
# end-to-end script (tests/vm/e2e.sh); their TAP comes back over the serial console.
#
# Here: one result for the boot, three for "really pure v2" (checked before any inner result
# is trusted), one per test file run inside the VM (with its counts; each failed inner
# assertion is repeated as a diag), one for a clean power-off. prove -v also shows every inner
# line as a note. A VM that does not boot or times out fails; missing qemu, kernel or unit
# test binaries give a skip.
#
# Environment: HULL (its directory is the build dir; default <repo>/build/hull), HULL_VM_TIMEOUT
# (seconds, default 900), HULL_VM_TESTS (see tests/vm/run-in-vm.sh), HULL_TEST_KEEP=1 (keep the
# temp dir with the console log).
. "$(dirname "$0")/../lib/tap.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VM=$REPO/tests/vm/run-in-vm.sh
if [ -n "${HULL:-}" ]; then
    case $(basename "$HULL") in
    hull) ;;
    *) skip_all "the VM harness tests hull's own build, not $(basename "$HULL")" ;;
    esac
    BUILD=$(dirname "$HULL")
    case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
else
    BUILD=$REPO/build
fi
export BUILD
TESTS=${HULL_VM_TESTS:-test_cgroup test_cgroup_resources}
export HULL_VM_TESTS=$TESTS

why=$("$VM" --check 2>&1)
case $? in
0) ;;
4) skip_all "$why" ;;
*) bail_out "tests/vm/run-in-vm.sh --check failed: $why" ;;
esac

TMP=$(mktemp -d /tmp/hull-vmtest.XXXXXX) || bail_out "mktemp failed"
VMPID=
cleanup() {
    local rc=$?
    # the harness kills its qemu and removes its own files on TERM
    if [ -n "$VMPID" ] && kill -0 "$VMPID" 2>/dev/null; then kill -TERM "$VMPID"; wait "$VMPID"; fi
    if [ -n "${HULL_TEST_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# in the background, so that a TERM to this test reaches the cleanup at once
"$VM" --quiet --out "$TMP/vm" --timeout "${HULL_VM_TIMEOUT:-900}" >"$TMP/harness.log" 2>&1 &
VMPID=$!
wait "$VMPID"
VMRC=$?
VMPID=
O=$TMP/vm
info() { sed -n "s/^$1 //p" "$O/info" 2>/dev/null | head -n 1; }
timing() { sed -n "s/^$1 //p" "$O/timing" 2>/dev/null | head -n 1; }
console_tail() { diag "harness: $(grep -v '^==' "$TMP/harness.log" | tail -n 5)"; diag "console (last 25 lines):"; tail -n 25 "$O/console.log" 2>/dev/null | diag "$(cat)"; }

if [ "$VMRC" = 2 ] || [ ! -s "$O/timing" ]; then
    fail "the VM harness ran (exit $VMRC)"
    diag "$(tail -n 20 "$TMP/harness.log")"
    done_testing
fi

# 1. boot
init_s=$(timing host_boot_to_init_s)
if [ -n "$init_s" ] && [ "$init_s" != none ]; then
    pass "the VM booted $(info kernel) and reached /init in ${init_s}s"
else
    fail "the VM booted and reached /init"
    console_tail
    done_testing
fi

# 2. pure cgroup v2, before trusting anything from inside
trusted=1
is "$(info cgroup_fs_magic)" 63677270 "inside: /sys/fs/cgroup is cgroup2fs (statfs magic 0x63677270)" || trusted=
is "$(info proc_self_cgroup)" "0::/;" "inside: /proc/self/cgroup has only the '0::/' line" || trusted=
ctl=" $(info controllers) "
ok "$(case $ctl in *" cpu "*" memory "*" pids "*) echo 0 ;; *) echo 1 ;; esac)" \
    "inside: no v1 cgroup mount ($(info cgroup_v1_mounts)), cpu/memory/pids on cgroup2: $(info controllers)" || trusted=
[ "$(info cgroup_v1_mounts)" = 0 ] || trusted=
if [ -z "$trusted" ]; then
    fail "the VM is not in pure cgroup v2 mode: its test results are not trusted"
    console_tail
    done_testing
fi

# 3. one result per test file run inside
. "$REPO/tests/vm/report.sh"
for name in $TESTS e2e; do
    vm_report_test "$name"
done

# 4. the VM finished by itself
if [ "$VMRC" = 0 ]; then
    pass "the VM ran everything and powered off ($(timing host_boot_to_done_s)s in the VM, $(timing harness_total_s)s in all)"
else
    fail "the VM ran everything and powered off (run-in-vm exit $VMRC)"
    diag "$(grep -v '^==' "$TMP/harness.log" | tail -n 30)"
fi
note "timing: $(tr '\n' ' ' <"$O/timing")"
done_testing
