#!/bin/bash
# tier: fast (no qemu, no client daemons), ~2 s
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

# SCMP_ACT_NOTIFY: the runtime hands the notify fd and the container process
# state to the agent at listenerPath; the agent decides the syscall's fate.
if agent=$(cc -O2 -o "$TMP/bin/seccomp-agent" "$TESTS_LIB/seccomp-agent.c" -lseccomp 2>"$TMP/agent.log" && echo "$TMP/bin/seccomp-agent"); then
    mkbundle bn
    cfg_set '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l, listenerMetadata: "meta-42",
      syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}' --arg l "$TMP/agent.sock"
    "$agent" "$TMP/agent.sock" "$TMP/agent.json" >"$TMP/agent.out" 2>&1 &
    apid=$!
    for i in $(seq 100); do grep -q ready "$TMP/agent.out" 2>/dev/null && break; sleep 0.02; done
    ctr_sh 'mkdir /tmp/n 2>&1; echo "rc=$?"; touch /tmp/t && echo touch-ok'
    todo_for runc "runc 1.1 runs its own set-up under the notify filter: $(printf '%s' "$ERR" | head -c 80)"
    like "$OUT" 'Permission denied' "SCMP_ACT_NOTIFY: the agent's answer (EACCES) is what mkdir returns"
    like "$OUT" 'touch-ok' "SCMP_ACT_NOTIFY: other syscalls are not sent to the agent"
    TAP_TODO=
    is "$(jq -r '.fds[0]' "$TMP/agent.json" 2>/dev/null)" seccompFd "listener state: fds is [\"seccompFd\"]"
    is "$(jq -r '.metadata' "$TMP/agent.json" 2>/dev/null)" meta-42 "listener state: metadata is listenerMetadata"
    is "$(jq -r '.state.id' "$TMP/agent.json" 2>/dev/null)" "$ID" "listener state: state.id is the container's"
    cmp_ok "$(jq -r '.pid' "$TMP/agent.json" 2>/dev/null)" -gt 0 "listener state: pid of the container process"
    kill "$apid" 2>/dev/null; wait "$apid" 2>/dev/null
elif ! command -v cc >/dev/null || [ ! -e /usr/include/seccomp.h ]; then
    skip "no cc or no libseccomp-dev here: the seccomp agent cannot be built" 6
else
    # the machine has what the helper needs: a build failure is the suite's own bug
    fail "tests/lib/seccomp-agent.c builds: $(head -c 200 "$TMP/agent.log")"
    skip "the seccomp agent did not build (reported above)" 5
fi

done_testing
