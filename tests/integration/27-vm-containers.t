#!/bin/bash
# tier: vm (boots qemu, a nested VM with containerd and podman), ~4 min
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

vm_build_dir
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

vm_prepare hull-nestctr
vm_run_nested nestcli --only nestctr,nestcli --timeout "$TMO"
vm_check_booted L1
vm_replay nestctr nest-containers.sh L1
vm_replay nestcli nest-clients.sh "L1, clients"
diag "hull --vm run true in L1: $(vm_info nestctr_run_true_ms) ms; a bare L2 boot + power-off: $(vm_info nestctr_bare_l2_ms) ms"
vm_check_poweroff L1
done_testing
