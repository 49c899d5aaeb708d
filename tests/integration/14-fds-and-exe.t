#!/bin/bash
# tier: fast (no qemu, no client daemons), ~3 s
# 14-fds-and-exe: what reaches the container of the caller's fds (none but
# --preserve-fds and socket activation), and that a container cannot rewrite
# the runtime binary through /proc/PID/exe (CVE-2019-5736).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

# An fd the caller left open (no CLOEXEC) must not leak into the container.
mkbundle b1
ctr_sh 'ls /proc/self/fd | sort -n | tr "\n" " "' 7</etc/hostname
is "$RC" 0 "run with a stray fd 7 open"
is "$OUT" "0 1 2 3 " "only 0-2 reach the container (3 is ls's own directory fd)"

mkbundle b2
ctr_sh 'for f in 3 4; do readlink /proc/self/fd/$f; done' --preserve-fds 2 3</etc/hostname 4</etc/passwd
is "$RC" 0 "run --preserve-fds 2"
like "$OUT" '^/etc/hostname' "--preserve-fds: fd 3 arrives"
like "$OUT" '/etc/passwd' "--preserve-fds: fd 4 arrives"

mkbundle b3
LISTEN_FDS=1 ctr_sh 'echo "$LISTEN_FDS $LISTEN_PID"; readlink /proc/self/fd/3' 3</etc/hostname
if is_runtime hull; then
    is "$(printf '%s\n' "$OUT" | sed -n 1p)" "1 1" "socket activation: LISTEN_FDS=1, LISTEN_PID is the container process"
    like "$OUT" '/etc/hostname' "socket activation: fd 3 arrives"
else
    skip "LISTEN_FDS handling is checked for hull only"; skip "(same)"
fi

# Signals the caller ignores or blocks must not reach the container's process.
mkbundle b5
# (grep itself, not a shell: shells ignore some signals on their own)
set_args grep -E '^Sig(Ign|Blk)' /proc/self/status
( trap '' PIPE INT; ctr_run; echo "$OUT" >"$TMP/sig.out" )
like "$(cat "$TMP/sig.out")" 'SigIgn:[[:space:]]+0000000000000000' "ignored SIGPIPE/SIGINT of the caller are reset in the container"
like "$(cat "$TMP/sig.out")" 'SigBlk:[[:space:]]+0000000000000000' "no signal is blocked in the container"

# /proc/self/exe: the init waits for `start` inside the container while it
# is still the runtime's own process; a process exec'd in the container
# tries to write through /proc/1/exe.
if is_runtime hull; then
    before=$(sha256sum "$HULL" | cut -d' ' -f1)
    mkbundle b4 sleep 600
    ctr_create
    C=$ID
    is "$RC" 0 "create (init waits for start)"
    out=$(rt exec "$C" sh -c '(echo EVIL >>/proc/1/exe) 2>&1 && echo WROTE; (: >/proc/1/exe) 2>&1 && echo TRUNCATED; echo done' 2>&1)
    diag "exec'd shell said: $out"
    unlike "$out" 'WROTE|TRUNCATED' "writing or truncating /proc/1/exe from inside fails"
    like "$out" 'done' "... the exec'd shell ran"
    is "$(sha256sum "$HULL" | cut -d' ' -f1)" "$before" "the runtime binary on the host is unchanged"
    rt delete --force "$C" >/dev/null 2>&1
else
    skip "the /proc/PID/exe protection check is hull-specific (runc 1.1 uses its own scheme)"
    skip "(same)"; skip "(same)"; skip "(same)"
fi
done_testing
