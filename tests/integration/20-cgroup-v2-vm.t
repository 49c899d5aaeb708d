#!/bin/bash
# tier: vm (boots qemu (TCG)), ~12 s
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
. "$(dirname "$0")/../vm/report.sh"

vm_build_dir
TESTS=${HULL_VM_TESTS:-test_cgroup test_cgroup_resources}
export HULL_VM_TESTS=$TESTS
vm_prepare hull-vmtest
vm_run "$TMP/vm" --timeout "${HULL_VM_TIMEOUT:-900}"
VMRC=$?
O=$TMP/vm

# 1. boot
vm_check_booted "the VM ($(vm_info kernel))"

# 2. pure cgroup v2, before trusting anything from inside
trusted=1
is "$(vm_info cgroup_fs_magic)" 63677270 "inside: /sys/fs/cgroup is cgroup2fs (statfs magic 0x63677270)" || trusted=
is "$(vm_info proc_self_cgroup)" "0::/;" "inside: /proc/self/cgroup has only the '0::/' line" || trusted=
ctl=" $(vm_info controllers) "
ok "$(case $ctl in *" cpu "*" memory "*" pids "*) echo 0 ;; *) echo 1 ;; esac)" \
    "inside: no v1 cgroup mount ($(vm_info cgroup_v1_mounts)), cpu/memory/pids on cgroup2: $(vm_info controllers)" || trusted=
[ "$(vm_info cgroup_v1_mounts)" = 0 ] || trusted=
if [ -z "$trusted" ]; then
    fail "the VM is not in pure cgroup v2 mode: its test results are not trusted"
    vm_console_tail
    done_testing
fi

# 3. one result per test file run inside
for name in $TESTS e2e; do
    vm_report_test "$name"
done

# 4. the VM finished by itself
vm_check_poweroff "the VM ran everything and"
note "timing: $(tr '\n' ' ' <"$O/timing")"
done_testing
