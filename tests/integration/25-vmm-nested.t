#!/bin/bash
# tier: vm (boots qemu, a nested VM), ~1.5 min
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

vm_build_dir
export HULL_VM_TESTS="" HULL_VM_NEST=1 HULL_VM_MEM=${HULL_VM_MEM:-1536M}
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

vm_prepare hull-nest "${DIRECT_RAN:-}"
vm_run_nested nest --only nest --timeout "${HULL_VM_TIMEOUT:-900}"
vm_check_booted L1
vm_replay nest nest.sh L1
vm_check_poweroff L1
done_testing
