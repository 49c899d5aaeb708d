#!/bin/bash
# tier: vm (boots qemu), ~15 s
# 26-vm-agent-qemu: the guest pieces end to end in a real guest, without hull's VMM: qemu
# (TCG, so it runs anywhere) boots Debian's kernel with hull's initramfs (the static agent
# as /init + the modules resolved from modules.dep), the container rootfs as an erofs
# virtio-blk image with an ext4 (or tmpfs) writable layer, and virtio-serial ports named
# hull.ctl / hull.stdin / hull.stdout / hull.stderr. tests/lib/agent-drive.c is the host.
# Checks: modules load, ports are found, the rootfs is mounted, the container runs with
# the guest's own kernel, exit codes and signals come back, 10 MB arrive intact on the
# stdout port, EXEC/PS work, writes land in the upper image, and the guest powers off.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$HULL")
AGENT=$BUILD/hull-agent
command -v qemu-system-x86_64 >/dev/null || skip_all "needs qemu-system-x86 (make deps)"
command -v cc >/dev/null || skip_all "needs cc"
[ -x "$AGENT" ] && [ -f "$BUILD/libhull.a" ] || skip_all "needs $AGENT and $BUILD/libhull.a (make)"
file "$AGENT" | grep -q 'statically linked' || skip_all "$AGENT is not static (sanitizer build?)"
command -v mkfs.erofs >/dev/null || skip_all "needs erofs-utils (make deps)"
BZ=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$BZ" ] || skip_all "no guest kernel in /boot (apt-get install linux-image-amd64)"

# shellcheck disable=SC2046
cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$ROOT" -o "$TMP/bin/agent-drive" "$ROOT/tests/lib/agent-drive.c" \
    "$ROOT/vm/proto/agent_proto.c" "$ROOT/vm/proto/agent_proto_enc.c" "$ROOT/base/error.c" 2>"$TMP/cc.log" &&
cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$ROOT" -o "$TMP/bin/vm-artifacts" "$ROOT/tests/lib/vm-artifacts.c" \
    "$BUILD/libhull.a" $(pkg-config --libs libarchive libcrypto yajl libcap libseccomp) 2>>"$TMP/cc.log" ||
    bail_out "cannot build the helpers: $(cat "$TMP/cc.log")"
DRIVE=$TMP/bin/agent-drive
ART=$TMP/bin/vm-artifacts

REL=$("$ART" release "$BZ")
[ -d "/lib/modules/$REL" ] || skip_all "no /lib/modules/$REL for $BZ"
isnt "$REL" "$(uname -r)" "the guest kernel ($REL) is not the host's ($(uname -r))" ||
    diag "same release: the uname check below proves less"
"$ART" initramfs "$AGENT" "$REL" "$TMP/initrd"
ok $? "initramfs for $REL: $(stat -c %s "$TMP/initrd") bytes"

mkbundle vm
cfg_set "del(.linux.cgroupsPath) | del(.linux.resources)"
"$ART" rootfs "$BUNDLE/rootfs" "$TMP/root.erofs" erofs
ok $? "erofs rootfs image: $(stat -c %s "$TMP/root.erofs") bytes"
"$ART" upper "$TMP/upper.ext4" 64
ok $? "ext4 writable layer"

# vm NAME PORTS UPPER -- DRIVE-STEPS...: boots a VM, drives one container through it.
vm() {
    local name=$1 ports=$2 upper=$3 s
    shift 4
    local dev=(-device virtio-serial-pci,id=vser)
    local socks=$TMP/$name.ctl
    dev+=(-chardev "socket,id=c0,path=$TMP/$name.ctl,server=on,wait=off"
          -device virtserialport,bus=vser.0,chardev=c0,name=hull.ctl)
    if [ "$ports" = ports ]; then
        for s in stdin stdout stderr; do
            dev+=(-chardev "socket,id=c$s,path=$TMP/$name.$s,server=on,wait=off"
                  -device "virtserialport,bus=vser.0,chardev=c$s,name=hull.$s")
            socks=$socks,$TMP/$name.$s
        done
    fi
    dev+=(-drive "file=$TMP/root.erofs,if=none,id=r,format=raw,readonly=on" -device virtio-blk-pci,drive=r)
    local up=tmpfs
    if [ "$upper" = ext4 ]; then
        dev+=(-drive "file=$TMP/upper.ext4,if=none,id=u,format=raw" -device virtio-blk-pci,drive=u)
        up=/dev/vdb
    fi
    local t0=$(date +%s%N)
    HULL_TEST_TAG=$TAG timeout -k 5 150 qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 1 -nodefaults \
        -no-reboot -display none -serial "file:$TMP/$name.serial" -kernel "$BZ" -initrd "$TMP/initrd" \
        -append "console=ttyS0 panic=-1 loglevel=4" "${dev[@]}" &
    local qpid=$!
    for _ in $(seq 100); do [ -S "$TMP/$name.ctl" ] && break; sleep 0.05; done
    timeout -k 5 140 "$DRIVE" --connect "$socks" --block /dev/vda --upper "$up" --events "$TMP/$name.ev" \
        --exec-out "$TMP/$name.exec" \
        - - "$CFG" "$@" <"${DRIVE_STDIN:-/dev/null}" >"$TMP/$name.out" 2>"$TMP/$name.err"
    RC=$?
    wait "$qpid"
    QRC=$?
    SECS=$((($(date +%s%N) - t0) / 1000000))
    EV=$(cat "$TMP/$name.ev")
    ERR=$(cat "$TMP/$name.err")
    OUT=
    [ "$(stat -c %s "$TMP/$name.out")" -lt 1000000 ] && OUT=$(cat "$TMP/$name.out")
    diag "$name: VM boot + container + power-off in $SECS ms"
    [ "$RC" = 137 ] || [ "$RC" = 3 ] || diag "events: $EV"
    [ "$QRC" = 0 ] || diag "serial console: $(tail -20 "$TMP/$name.serial")"
}
ev() { printf '%s\n' "$EV" | grep -E "^$1" | head -1; }

# 1: MUX stdio, erofs + ext4 upper: output, the guest's kernel, a write, exit 3.
set_args /bin/sh -c 'echo hello from the guest; uname -r; read line; echo "stdin: $line"; echo kept > /etc/vm-written; exit 3'
printf 'through the control port\n' >"$TMP/in1"
DRIVE_STDIN=$TMP/in1 vm one mux ext4 --
like "$(ev HELLO)" "^HELLO [^ ]+ $REL$" "HELLO: the agent runs on the guest kernel"
is "$OUT" "$(printf 'hello from the guest\n%s\nstdin: through the control port' "$REL")" \
    "the container's output, uname -r = the guest kernel, stdin piped"
is "$RC" 3 "exit code 3 comes back"
is "$QRC" 0 "the guest powered off (qemu exited 0)"
is "$(debugfs -R 'cat /upper/etc/vm-written' "$TMP/upper.ext4" 2>/dev/null)" kept \
    "the container's write is in the upper image (upper/etc/vm-written)"
e2fsck -fn "$TMP/upper.ext4" >/dev/null 2>&1
ok $? "the upper image is clean after the power-off"

# 2: PORTS stdio, tmpfs upper: 10 MB on the stdout port, EXEC and PS into the running
# container, then SIGNAL 9.
set_args /bin/sh -c 'head -c 10485760 /dev/urandom >/tmp/big; md5sum </tmp/big | cut -d" " -f1 >&2; cat /tmp/big; exec sleep 60'
printf '%s' '{"args":["/bin/sh","-c","echo exec-in-vm; id -u; ps -o args | grep -c ^sleep"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":1000,"gid":1000}}' >"$TMP/p.json"
vm two ports tmpfs -- wait-out:10485760 sleep:200 "exec:$TMP/p.json" ps signal:9
is "$(stat -c %s "$TMP/two.out")" 10485760 "10 MB arrive on the stdout port"
is "$(md5sum <"$TMP/two.out" | cut -d' ' -f1)" "$ERR" "intact (md5 in the guest = md5 on the host)"
like "$(ev 'EXIT 2')" "^EXIT 2 0 " "EXEC in the VM exits 0"
is "$(cat "$TMP/two.exec")" "$(printf 'exec-in-vm\n1000\n1')" "EXEC ran as uid 1000 beside the sleep"
like "$(ev PS)" "^PS 900 1 [0-9]+" "PS lists the guest process"
is "$RC" 137 "SIGNAL 9 -> 137"
is "$(ev 'EXIT 1')" "EXIT 1 137 10485760 33" "EXIT counts the port bytes"
is "$QRC" 0 "the guest powered off"

done_testing
