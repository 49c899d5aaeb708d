#!/bin/bash
# tier: fast (no qemu, no client daemons), ~3 s
# 05-rootfs: mounts (tmpfs options, bind ro, order), readonly root, masked and readonly paths,
# /dev (default devices, linux.devices, symlinks), root.path variants, hostile symlinks.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b
mkdir -p "$TMP/hostdir"
echo host-content >"$TMP/hostdir/file"
cfg_set '.mounts += [
    {destination: "/data", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "size=1m", "mode=700"]},
    {destination: "/hostro", type: "bind", source: $h, options: ["bind", "ro"]},
    {destination: "/hostrw", type: "bind", source: $h, options: ["rbind", "rw"]},
    {destination: "/hostrw/sub", type: "tmpfs", source: "tmpfs", options: ["size=64k"]}
  ]' --arg h "$TMP/hostdir"
ctr_sh 'cat /proc/self/mountinfo; echo ---; stat -c "%a" /data; cat /hostro/file; touch /hostro/new 2>&1; echo rw >/hostrw/written; ls /hostrw'
is "$RC" 0 "a container with tmpfs and bind mounts runs" || diag "$ERR"
mi=$(printf '%s\n' "$OUT" | sed '/^---$/,$d')
rest=$(printf '%s\n' "$OUT" | sed '1,/^---$/d')
like "$(printf '%s\n' "$mi" | awk '$5 == "/data"')" ' - tmpfs .*size=1024k' "tmpfs /data is in mountinfo with size=1024k"
like "$(printf '%s\n' "$mi" | awk '$5 == "/data"')" 'nosuid,nodev|nodev,nosuid' "tmpfs /data has nosuid,nodev"
is "$(printf '%s\n' "$rest" | sed -n 1p)" 700 "tmpfs /data has mode 700"
is "$(printf '%s\n' "$rest" | sed -n 2p)" host-content "bind mount: the host file is readable"
like "$(printf '%s\n' "$rest" | sed -n 3p)" 'Read-only file system' "bind ro: writing fails with EROFS"
like "$(printf '%s\n' "$mi" | awk '$5 == "/hostro" { print $6 }')" '^ro(,|$)' "bind ro: the mount is ro in mountinfo"
is "$(cat "$TMP/hostdir/written" 2>/dev/null)" rw "bind rw: the write reached the host dir"
ok "$([ -e "$TMP/hostdir/new" ]; [ $? != 0 ]; echo $?)" "bind ro: nothing was created in the host dir"
like "$(printf '%s\n' "$mi" | awk '$5 == "/hostrw/sub"')" ' - tmpfs ' "mounts apply in order: tmpfs over a dir of an earlier bind mount"
ok "$([ -d "$TMP/hostdir/sub" ] && [ -z "$(ls -A "$TMP/hostdir/sub")" ]; echo $?)" "the nested mount point is created, but nothing is mounted on the host"
is "$(leftover_mounts)" "" "no mount of the bundle leaks to the host mount table"

# readonly root
mkbundle b2
cfg_set '.root.readonly = true'
ctr_sh 'touch /newfile 2>&1; echo "rc=$?"; touch /dev/shm/ok && echo shm-ok; awk "\$5 == \"/\" {print \$6}" /proc/self/mountinfo'
like "$OUT" 'Read-only file system' "readonly root: touch / fails with EROFS"
like "$OUT" 'rc=1' "readonly root: touch exits 1"
like "$OUT" 'shm-ok' "readonly root: /dev/shm stays writable"
like "$(printf '%s\n' "$OUT" | tail -n1)" '^ro(,|$)' "readonly root: / is ro in mountinfo"
ok "$([ ! -e "$BUNDLE/rootfs/newfile" ]; echo $?)" "readonly root: nothing written to the rootfs"

# masked and readonly paths
mkbundle b3
ctr_sh 'if [ -e /proc/kcore ]; then wc -c </proc/kcore; else echo 0; fi; ls -A /sys/firmware | wc -l; cat /proc/keys 2>/dev/null | wc -c'
is "$(printf '%s\n' "$OUT" | sed -n 1p | tr -d ' ')" 0 "maskedPaths: /proc/kcore reads as empty"
is "$(printf '%s\n' "$OUT" | sed -n 2p | tr -d ' ')" 0 "maskedPaths: /sys/firmware is an empty directory"
is "$(printf '%s\n' "$OUT" | sed -n 3p | tr -d ' ')" 0 "maskedPaths: /proc/keys reads as empty"
ctr_sh '{ echo 1 >/proc/sys/kernel/ns_last_pid; } 2>&1; awk "\$5 == \"/proc/irq\" {print \$6}" /proc/self/mountinfo; cat /proc/sys/kernel/ostype'
like "$(printf '%s\n' "$OUT" | sed -n 1p)" 'Read-only file system' "readonlyPaths: writing /proc/sys fails with EROFS"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" '^ro(,|$)' "readonlyPaths: /proc/irq is mounted ro"
is "$(printf '%s\n' "$OUT" | sed -n 3p)" Linux "readonlyPaths: /proc/sys stays readable"

# /dev
cfg_set '.linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 416, uid: 0, gid: 0},
                           {path: "/dev/xblk", type: "b", major: 7, minor: 200, fileMode: 384, uid: 1000, gid: 1000}]'
ctr_sh 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done;
  stat -c "%n %F %t:%T %a %u:%g" /dev/fuse /dev/xblk;
  for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done;
  grep -E " /dev(/pts|/shm|/mqueue)? " /proc/self/mountinfo | awk "{for (i = 7; i <= NF; i++) if (\$i == \"-\") { print \$5, \$(i+1); break }}"'
like "$OUT" '/dev/null character special file 1:3 666' "/dev/null is c 1:3, mode 666"
like "$OUT" '/dev/zero character special file 1:5 ' "/dev/zero is c 1:5"
like "$OUT" '/dev/full character special file 1:7 ' "/dev/full is c 1:7"
like "$OUT" '/dev/random character special file 1:8 ' "/dev/random is c 1:8"
like "$OUT" '/dev/urandom character special file 1:9 ' "/dev/urandom is c 1:9"
like "$OUT" '/dev/tty character special file 5:0 ' "/dev/tty is c 5:0"
like "$OUT" '/dev/fuse character special file a:e5 640 0:0' "linux.devices: /dev/fuse c 10:229 mode 0640"
like "$OUT" '/dev/xblk block special file 7:c8 600 1000:1000' "linux.devices: /dev/xblk b 7:200 mode 0600 owned by 1000:1000"
like "$OUT" 'fd -> /proc/self/fd$' "/dev/fd -> /proc/self/fd"
like "$OUT" 'stdin -> /proc/self/fd/0$' "/dev/stdin -> /proc/self/fd/0"
like "$OUT" 'stdout -> /proc/self/fd/1$' "/dev/stdout -> /proc/self/fd/1"
like "$OUT" 'stderr -> /proc/self/fd/2$' "/dev/stderr -> /proc/self/fd/2"
like "$OUT" 'ptmx -> (pts/ptmx|/dev/pts/ptmx)$' "/dev/ptmx -> pts/ptmx"
like "$OUT" '^/dev/pts devpts$' "/dev/pts is a devpts"
like "$OUT" '^/dev/shm tmpfs$' "/dev/shm is a tmpfs"
like "$OUT" '^/dev/mqueue mqueue$' "/dev/mqueue is an mqueue"
ok "$([ ! -e /dev/xblk ]; echo $?)" "linux.devices: nothing created on the host's /dev"

# root.path variants: "." (the bundle is the rootfs) and an absolute path
mkbundle b4
mkdir -p "$TMP/dot"
cp -a "$BUNDLE/rootfs/." "$TMP/dot/"
jq '.root.path = "."' "$CFG" >"$TMP/dot/config.json"
new_id dot
CFG=$TMP/dot/config.json cfg_set '.process.args = ["/bin/sh", "-c", "head -c1 /config.json; echo"] | .linux.cgroupsPath = $p' --arg p "/hulltest/$ID"
rt run --bundle "$TMP/dot" "$ID" </dev/null >"$TMP/dot.out" 2>&1; rc=$?
is "$rc:$(cat "$TMP/dot.out")" "0:{" 'root.path "." runs with the bundle dir as the rootfs'
cfg_set '.root.path = $r' --arg r "$BUNDLE/rootfs"
ctr_sh 'echo abs'
is "$RC:$OUT" "0:abs" "an absolute root.path runs"
# relative --bundle path
new_id rel
(cd "$TMP" && rt run --bundle b4 "$ID" </dev/null >"$TMP/rel.out" 2>&1); rc=$?
is "$rc:$(cat "$TMP/rel.out")" "0:abs" "a relative --bundle path works"
(cd "$BUNDLE" && new_id cwd && rt run "$ID" </dev/null >"$TMP/cwd.out" 2>&1); rc=$?
is "$rc:$(cat "$TMP/cwd.out")" "0:abs" "without --bundle, the current directory is the bundle"

# hostile rootfs: mount destinations that are symlinks to host paths (absolute and ../..)
mkbundle b5
mkdir -p "$TMP/outside" "$TMP/outside2" "$TMP/outside3"
echo untouched >"$TMP/outside/keep"
rmdir "$BUNDLE/rootfs/mnt"
ln -s "$TMP/outside" "$BUNDLE/rootfs/mnt"
ln -s "../../../../../../../../../../..$TMP/outside2" "$BUNDLE/rootfs/escape"
mkdir -p "$BUNDLE/rootfs/deep"
ln -s "$TMP/outside3" "$BUNDLE/rootfs/deep/link"
cfg_set '.mounts += [
    {destination: "/mnt", type: "tmpfs", source: "tmpfs", options: ["size=64k"]},
    {destination: "/escape", type: "bind", source: $h, options: ["bind"]},
    {destination: "/deep/link/sub", type: "tmpfs", source: "tmpfs", options: ["size=64k"]}
  ]
  | .linux.devices = [{path: "/mnt/devnode", type: "c", major: 1, minor: 3, fileMode: 438}]' --arg h "$TMP/hostdir"
ctr_sh 'echo pwned >/mnt/pwned 2>/dev/null; echo pwned >/escape/pwned 2>/dev/null; echo pwned >/deep/link/sub/pwned 2>/dev/null; echo done'
note "hostile rootfs run: rc=$RC out=$OUT err=$ERR"
is "$(ls -A "$TMP/outside" | tr '\n' ' ')" "keep " "a symlinked mount destination (/mnt -> host dir) leaves the host dir untouched"
is "$(cat "$TMP/outside/keep")" untouched "the host file behind the symlink is unchanged"
is "$(ls -A "$TMP/outside2")" "" "a ../.. symlink destination leaves the host dir untouched"
is "$(ls -A "$TMP/outside3")" "" "a symlink in the middle of a destination leaves the host dir untouched"
ok "$([ ! -e "$TMP/hostdir/pwned" ] || [ "$RC" = 0 ]; echo $?)" "the bind source is only written through its real mount point"
is "$(leftover_mounts)" "" "no mount leaked onto the host"
ok "$([ ! -e "$TMP/outside/devnode" ]; echo $?)" "a device path through a symlink is not created on the host"

# linux.rootfsPropagation: what the container's own root mount is, read from its mountinfo
# (the optional fields between the mount options and "-"). The rootfs is a shared mount on
# the host, so a slave root has a master to show and a shared one must not join the host's group.
mkbundle b6
mount --bind "$BUNDLE/rootfs" "$BUNDLE/rootfs" && mount --make-shared "$BUNDLE/rootfs" ||
    bail_out "cannot make the bundle's rootfs a shared mount"
host_group=$(awk -v m="$BUNDLE/rootfs" '$5 == m { for (i = 7; $i != "-"; i++) if ($i ~ /^shared:/) print substr($i, 8) }' /proc/self/mountinfo)
root_fields='awk "\$5 == \"/\" { s = \"\"; for (i = 7; \$i != \"-\"; i++) s = s \$i \" \"; print s }" /proc/self/mountinfo'
for p in "" private rprivate slave rslave shared rshared unbindable runbindable; do
    if [ -n "$p" ]; then cfg_set '.linux.rootfsPropagation = $p' --arg p "$p"; else cfg_set 'del(.linux.rootfsPropagation)'; fi
    case $p in
    "" | slave | rslave) want='^master:[0-9]+ $' ;;
    private | rprivate) want='^$' ;;
    shared | rshared) want='^shared:[0-9]+ $' ;;
    unbindable | runbindable) want='^unbindable $' ;;
    esac
    ctr_sh "$root_fields"
    is "$RC" 0 "rootfsPropagation ${p:-(unset)}: the container runs" || diag "$ERR"
    like "$OUT" "$want" "rootfsPropagation ${p:-(unset)}: the root mount's optional fields are \"$OUT\""
    case $p in shared | rshared)
        isnt "${OUT#shared:}" "$host_group " "rootfsPropagation $p: the root is a peer group of its own, not the host's" ;;
    esac
    is "$(leftover_mounts | awk '{print $5}')" "$BUNDLE/rootfs" "rootfsPropagation ${p:-(unset)}: no mount leaked onto the host"
done
umount "$BUNDLE/rootfs"

done_testing
