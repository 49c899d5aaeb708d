#!/bin/bash
# 06-seccomp: linux.seccomp filters as the container sees them.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b
# mkdir/mkdirat -> EPERM, everything else allowed
cfg_set '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
ctr_sh 'mkdir /tmp/x 2>&1; echo "mkdir=$?"; touch /tmp/y && echo touch-ok; ls /tmp; grep -E "^Seccomp(_filters)?:" /proc/self/status'
like "$OUT" 'mkdir: can.t create directory ./tmp/x.: Operation not permitted' "mkdir fails with 'Operation not permitted'"
like "$OUT" 'mkdir=1' "mkdir exits 1"
like "$OUT" 'touch-ok' "other syscalls work (touch)"
unlike "$OUT" '^x$' "the directory was not created"
like "$OUT" 'Seccomp:[[:space:]]+2' "the process is in seccomp filter mode (Seccomp: 2)"
ok "$([ ! -d "$BUNDLE/rootfs/tmp/x" ]; echo $?)" "no directory in the rootfs either"

# errnoRet other than EPERM, and the default errno
cfg_set '.linux.seccomp.syscalls[0].errnoRet = 13'
ctr_sh 'mkdir /tmp/x 2>&1'
like "$OUT" 'Permission denied' "errnoRet 13 gives EACCES"
cfg_set 'del(.linux.seccomp.syscalls[0].errnoRet)'
ctr_sh 'mkdir /tmp/x 2>&1'
like "$OUT" 'Operation not permitted' "SCMP_ACT_ERRNO without errnoRet gives EPERM"

# argument filters: only chmod to mode 0700 (448) is refused
cfg_set '.linux.seccomp.syscalls = [
    {names: ["chmod"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args: [{index: 1, value: 448, op: "SCMP_CMP_EQ"}]},
    {names: ["fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args: [{index: 2, value: 448, op: "SCMP_CMP_EQ"}]}]'
ctr_sh 'touch /tmp/f; chmod 700 /tmp/f 2>&1; echo "a=$?"; chmod 755 /tmp/f 2>&1; echo "b=$?"'
like "$OUT" 'a=1' "an argument filter (mode == 0700) refuses chmod 700"
like "$OUT" 'b=0' "the same filter lets chmod 755 through"

# KILL on one syscall: the process dies of SIGSYS (128+31), the shell around it goes on
cfg_set '.linux.seccomp.syscalls = [{names: ["sethostname"], action: "SCMP_ACT_KILL"}]'
ctr_sh '(hostname foo); echo "status=$?"; echo alive'
like "$OUT" 'status=159' "SCMP_ACT_KILL: hostname (sethostname) is killed by SIGSYS (159)"
like "$OUT" 'alive' "SCMP_ACT_KILL: only the offending process dies"
set_args /bin/hostname foo
ctr_run
is "$RC" 159 "SCMP_ACT_KILL on the container's own process: run returns 159"

# SCMP_ACT_KILL_PROCESS on sync
cfg_set '.linux.seccomp.syscalls = [{names: ["sync", "syncfs"], action: "SCMP_ACT_KILL_PROCESS"}]'
ctr_sh '(sync); echo "status=$?"'
like "$OUT" 'status=159' "SCMP_ACT_KILL_PROCESS: sync dies of SIGSYS"

# seccomp applies to exec'd processes too (and to the runtime's own exec path: the filter is
# installed last, so the runtime itself is not hit by a mkdir rule)
cfg_set '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
cfg_set '.mounts += [{destination: "/newdir/deeper", type: "tmpfs", source: "tmpfs"}]'
ctr_sh 'echo started; mkdir /tmp/z 2>&1'
like "$OUT" 'started' "a mkdir rule does not stop the runtime from creating mount points"
like "$OUT" 'Operation not permitted' "and still applies to the container process"

done_testing
