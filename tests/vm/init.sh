#!/bin/sh
# /init of the cgroup v2 test VM (installed by tests/vm/build-initramfs.sh; busybox sh).
#
# Stage 1 (on the initramfs): pivot_root(2) refuses the initial rootfs, and hull pivots like
# runc does, so the files are copied to a tmpfs and switch_root makes that the root.
# Stage 2: mounts proc, sysfs, devtmpfs, tmpfs /tmp and /run, cgroup2 at /sys/fs/cgroup (the
# kernel runs with cgroup_no_v1=all), prints what the host-side harness checks, runs every unit
# test and tests/vm/e2e.sh, each between markers, and powers off.
#
# Console protocol (one line each; tests/vm/run-in-vm.sh parses it):
#   @@HULLVM INIT uptime=S           first line of userspace
#   @@HULLVM INFO KEY VALUE...        facts about the VM (kernel, cgroup layout)
#   @@HULLVM BEGIN NAME               NAME's output (TAP) follows
#   @@HULLVM END NAME rc=N secs=S     NAME exited with N after S seconds
#   @@HULLVM DONE uptime=S            everything ran; power off follows
# Kernel command line knobs (the kernel passes unknown key=value to init's environment):
#   hullvm_timeout=SECS  per test (default 300)    hullvm_only=A,B  run only those tests
# /hull/extra.sh (HULL_VM_EXTRA=script at build time), if present, runs last as the test "extra".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
M=@@HULLVM

uptime_s() { read -r up _ </proc/uptime; echo "$up"; }

if [ -z "$HULLVM_STAGE2" ]; then
    mount -t devtmpfs devtmpfs /dev 2>/dev/null
    exec </dev/console >/dev/console 2>&1   # the archive may lack /dev/console
    mount -t proc proc /proc
    echo "$M INIT uptime=$(uptime_s)"
    if ! mount -t tmpfs -o mode=755 tmpfs /newroot; then
        echo "$M FATAL cannot mount a tmpfs for the root"; reboot -f
    fi
    for f in /* /.[!.]*; do
        [ -e "$f" ] || continue
        case $f in
        /proc | /sys | /dev | /newroot) mkdir -p "/newroot$f" ;;
        *) cp -a "$f" /newroot/ || { echo "$M FATAL copy of $f to the tmpfs root failed"; reboot -f; } ;;
        esac
    done
    mount --move /dev /newroot/dev
    mount --move /proc /newroot/proc
    export HULLVM_STAGE2=1
    # shellcheck disable=SC2093 # returns only on failure
    exec switch_root /newroot /init
    echo "$M FATAL switch_root failed"
    reboot -f
fi

# ---- stage 2 ----
[ -e /proc/self/mounts ] || mount -t proc proc /proc
grep -q '^[^ ]* /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || echo "$M INFO cgroup2_mount_failed 1"
# Keep kernel messages (OOM kills the tests provoke) off the console; dmesg is printed at the end.
echo 1 >/proc/sys/kernel/printk
ip link set lo up 2>/dev/null
# hull runs from the tmpfs root: a binary on tmpfs answers F_GET_SEALS too (with F_SEAL_SEAL
# only), which the self-exe guard must treat as an ordinary file.
echo "$M INFO hull_bin_fs_magic $(stat -f -c %t /hull/bin)"
hostname hullvm

echo "$M INFO kernel $(uname -r)"
echo "$M INFO cmdline $(cat /proc/cmdline)"
echo "$M INFO cgroup_fs_magic $(stat -f -c %t /sys/fs/cgroup)"
echo "$M INFO proc_self_cgroup $(tr '\n' ';' </proc/self/cgroup)"
echo "$M INFO cgroup_v1_mounts $(grep -c '^[^ ]* [^ ]* cgroup ' /proc/mounts)"
echo "$M INFO controllers $(cat /sys/fs/cgroup/cgroup.controllers 2>&1)"
echo "$M INFO nproc $(grep -c ^processor /proc/cpuinfo) mem_kb $(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"

TMO=${hullvm_timeout:-300}
run_one() { # NAME CMD...
    name=$1
    shift
    if [ -n "$hullvm_only" ]; then
        case ",$hullvm_only," in *",$name,"*) ;; *) return 0 ;; esac
    fi
    echo "$M BEGIN $name"
    t0=$(uptime_s)
    # Streamed to the console as it comes (a VM that times out still shows how far it got) and
    # kept in a file; kernel messages stay off the console (printk level 1), so nothing else
    # writes between the markers.
    (cd /hull && timeout -s KILL "$TMO" "$@"; echo $? >"/tmp/$name.rc") </dev/null 2>&1 | tee "/tmp/$name.out"
    rc=$(cat "/tmp/$name.rc" 2>/dev/null || echo 255)
    t1=$(uptime_s)
    echo "$M END $name rc=$rc secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}

for t in $(cat /hull/unit/LIST); do
    run_one "$t" "/hull/unit/$t"
done
run_one e2e /bin/sh /hull/e2e.sh
[ -f /hull/nest.sh ] && run_one nest /bin/sh /hull/nest.sh
[ -f /hull/nest-containers.sh ] && run_one nestctr /bin/sh /hull/nest-containers.sh
[ -f /hull/nest-clients.sh ] && run_one nestcli /bin/sh /hull/nest-clients.sh
[ -f /hull/nest-bench.sh ] && run_one nestbench /bin/sh /hull/nest-bench.sh
[ -f /hull/extra.sh ] && run_one extra /bin/sh /hull/extra.sh

echo "$M BEGIN dmesg"
dmesg | grep -iE 'error|fail|warn|bug|oops|panic|bpf|cgroup|segfault' | grep -v 'Memory cgroup' | tail -n 40
echo "$M END dmesg rc=0 secs=0"
echo "$M DONE uptime=$(uptime_s)"
sync
reboot -f
sleep 5
echo "$M FATAL reboot -f returned"
