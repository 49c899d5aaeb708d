#!/bin/sh
# /init of the L2 guest that hull's VMM boots inside the L1 VM (tests/vm/nest.sh). busybox sh.
# It loads the virtio and pvpanic drivers, then does what `hullnest=SCENARIO` on its kernel
# command line asks, reporting on the console port "hull.out" (/dev/virtio-ports/hull.out):
#   info      facts: kernel, CPUs, memory, the devices it found; then a clean power-off
#   io        copies the whole of /dev/vda to hull.out (the host checksums it), then reads
#             hullnest_bytes=N bytes from the port "hull.in" and writes their sha256 to the port
#             "hull.sum"; power-off
#   panic     crashes the kernel (sysrq c): pvpanic-pci must report it as a panic
#   reset     reboot -f with reboot=k: the i8042 reset line
#   halt      stops without powering off (the host's --timeout must end it)
#   bench     reboots right after loading the drivers (boot-time comparison with qemu)
#   true      runs /bin/true and reboots, before anything else: the "busybox initramfs that
#             runs true" that `hull --vm run true` is measured against (tests/vm/nest-bench.sh)
# Power-off is the ACPI PM1a_CNT register at port 0x604 (SLP_TYP=S5 | SLP_EN = 0x3400),
# written through /dev/port: the kernel has no ACPI tables here, so `poweroff` would only halt.
export PATH=/bin
[ "$hullnest" = true ] && { true; reboot -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_console \
         pvpanic pvpanic-pci; do
    insmod /lib/modules/$m.ko 2>/dev/null || echo "L2: insmod $m failed" >/dev/console
done
# The boot benchmark (tests/vm/nest-bench.sh) ends here, before any device is needed, so that
# hull and qemu (which has none of these devices) do the same work.
[ "$hullnest" = bench ] && reboot -f
# No udev here: name the ports the way its rules would (/dev/virtio-ports/NAME -> /dev/vportNpM),
# from /sys/class/virtio-ports/*/name, once the driver has them (names arrive asynchronously).
mkdir -p /dev/virtio-ports
out=/dev/virtio-ports/hull.out
need=hull.out
[ "$hullnest" = io ] && need="hull.out hull.in hull.sum"
missing() { for n in $need; do [ -e "/dev/virtio-ports/$n" ] || return 0; done; return 1; }
i=0
while missing && [ $i -lt 200 ]; do
    for p in /sys/class/virtio-ports/*; do
        [ -s "$p/name" ] && ln -sf "/dev/${p##*/}" "/dev/virtio-ports/$(cat "$p/name")"
    done
    missing && sleep 0.05
    i=$((i + 1))
done
if [ ! -e "$out" ]; then   # say why on the kernel console (the host sees it with --serial)
    echo "L2: no $out; PCI: $(ls /sys/bus/pci/devices | tr '\n' ' '); virtio: $(ls /sys/bus/virtio/devices | tr '\n' ' ')" >/dev/console
    dmesg | tail -n 40 >/dev/console
fi
poweroff_now() {
    sync
    printf '\000\064' | dd of=/dev/port bs=2 seek=770 count=1 2>/dev/null   # 2 x 770 = 0x604
    sleep 5
    echo "L2: power-off did not happen" >/dev/console
}
case ${hullnest:-info} in
info)
    {
        echo "kernel=$(uname -r)"
        echo "cpus=$(grep -c ^processor /proc/cpuinfo)"
        echo "mem_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
        echo "vda_bytes=$(cat /sys/block/vda/size 2>/dev/null | awk '{print $1 * 512}')"
        echo "vda_ro=$(cat /sys/block/vda/ro 2>/dev/null)"
        echo "ports=$(ls /dev/virtio-ports | tr '\n' ' ')"
        echo "pvpanic=$(ls /sys/bus/pci/drivers/pvpanic-pci 2>/dev/null | grep -c ':')"
        echo "msix=$(grep -c virtio /proc/interrupts)"
        echo "uptime=$(cut -d' ' -f1 /proc/uptime)"
        echo "cmdline=$(cat /proc/cmdline)"
    } >"$out"
    poweroff_now ;;
io)
    cat /dev/vda >"$out"
    head -c "${hullnest_bytes:-0}" /dev/virtio-ports/hull.in | sha256sum | cut -d' ' -f1 >/dev/virtio-ports/hull.sum
    poweroff_now ;;
panic)
    echo 1 >/proc/sys/kernel/sysrq
    echo c >/proc/sysrq-trigger ;;
reset)
    reboot -f ;;
halt)
    ;;
esac
while :; do sleep 3600; done
