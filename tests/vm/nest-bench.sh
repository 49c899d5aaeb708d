#!/bin/sh
# tests/vm/nest-bench.sh — runs inside L1 (run-in-vm.sh with HULL_VM_NEST=bench, from
# bench/vm.sh): boots the same L2 kernel and initramfs (tests/vm/l2-init.sh, hullnest=bench:
# load the drivers, reboot) with `hull vmm` and with qemu -M microvm, alternating, and prints one
# line per boot: "BENCH <vmm> <ms> <exit status>". Both reboot by triple fault (reboot=t): hull
# reports a shutdown (82), qemu -no-reboot exits 0.
ROUNDS=${hullbench_rounds:-3}
L2=/hull/l2
CMD="console=ttyS0 quiet init_on_alloc=0 reboot=t panic=-1 nokaslr tsc=reliable no_timer_check lpj=4000000 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd audit=0 hullnest=bench"
for m in $(cat /hull/kmod/order); do
    case $m in kvm-amd.ko) insmod /hull/kmod/$m npt=1 ;; *) insmod /hull/kmod/$m ;; esac
done
now_ms() { read -r up _ </proc/uptime; echo "$up" | awk '{ printf "%d", $1 * 1000 }'; }
boot() { # NAME CMD...
    name=$1
    shift
    t0=$(now_ms)
    timeout -s KILL 300 "$@" </dev/null >/dev/null 2>/tmp/bench-$name.err
    rc=$?
    echo "BENCH $name $(($(now_ms) - t0)) $rc"
    case $name:$rc in hull:82 | qemu:0) ;; *) echo "# $name: $(tail -n 3 /tmp/bench-$name.err | tr '\n' '|')" ;; esac
}
i=0
while [ $i -lt "$ROUNDS" ]; do
    boot hull /hull/bin/hull vmm --kernel $L2/vmlinux --initrd $L2/l2.cpio --cmdline "$CMD" --mem 256M
    boot qemu /hull/bin/qemu-system-x86_64 -L /usr/share/qemu -M microvm,x-option-roms=off,acpi=off -accel kvm -cpu host -m 256M \
        -nodefaults -no-user-config -display none -serial null -no-reboot \
        -kernel $L2/vmlinux -initrd $L2/l2.cpio -append "$CMD"
    i=$((i + 1))
done
echo "1..0 # benchmark, no tests"
