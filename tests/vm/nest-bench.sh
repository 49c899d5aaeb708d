#!/bin/sh
# tests/vm/nest-bench.sh — runs inside L1 (run-in-vm.sh with HULL_VM_NEST=bench, from
# bench/vm.sh) and prints one line per boot, "BENCH <what> <ms> <exit status>", alternating:
#   hull, qemu    the engines: the same L2 kernel and initramfs (tests/vm/l2-init.sh,
#                 hullnest=bench: load the drivers, reboot) with `hull vmm` and qemu -M microvm.
#                 Both reboot by triple fault (reboot=t): hull reports it (82), qemu -no-reboot
#                 exits 0.
#   hull-true     `hull --vm run` of a busybox bundle whose process is /bin/true, end to end:
#                 rootfs images, boot, hull's agent, the process, its exit status, power-off.
#   qemu-true     qemu -M microvm booting the same kernel with a busybox initramfs whose /init
#                 runs true and reboots (l2-init.sh, hullnest=true).
ROUNDS=${hullbench_rounds:-3}
export PATH=$PATH:/hull/bin   # the mkfs tools hull runs for the rootfs images
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
    case $name:$rc in hull:82 | qemu:0 | hull-true:0 | qemu-true:0) ;; *) echo "# $name: $(tail -n 3 /tmp/bench-$name.err | tr '\n' '|')" ;; esac
}
qemu() { # NAME KERNEL-CMDLINE
    boot "$1" /hull/bin/qemu-system-x86_64 -L /usr/share/qemu -M microvm,x-option-roms=off,acpi=off -accel kvm -cpu host \
        -m 256M -nodefaults -no-user-config -display none -serial null -no-reboot \
        -kernel $L2/vmlinux -initrd $L2/l2.cpio -append "$2"
}
# the bundle for hull --vm run: the shared busybox rootfs, /bin/true, 256 MiB of guest RAM like qemu's
B=/tmp/bench-true
mkdir -p $B
cat >$B/config.json <<'EOF'
{ "ociVersion": "1.0.2",
  "process": { "user": { "uid": 0, "gid": 0 }, "args": [ "/bin/true" ], "cwd": "/",
               "env": [ "PATH=/usr/sbin:/usr/bin:/sbin:/bin" ] },
  "root": { "path": "/hull/rootfs" },
  "mounts": [ { "destination": "/proc", "type": "proc", "source": "proc" } ],
  "linux": { "namespaces": [ { "type": "pid" }, { "type": "mount" } ],
             "resources": { "memory": { "limit": 268435456 } } } }
EOF
export HULL_VM_KERNEL=$L2/vmlinux HULL_VM_INITRD=$L2/hull-initrd.cpio HULL_VM_BOOT_TIMEOUT=240 HULL_VM_UPPER_SIZE=128M
i=0
while [ $i -lt "$ROUNDS" ]; do
    boot hull /hull/bin/hull vmm --kernel $L2/vmlinux --initrd $L2/l2.cpio --cmdline "$CMD" --mem 256M
    qemu qemu "$CMD"
    boot hull-true /hull/bin/hull --root /run/hull-bench --vm run -b $B true$i
    qemu qemu-true "${CMD%hullnest=bench}hullnest=true"
    i=$((i + 1))
done
echo "1..0 # benchmark, no tests"
