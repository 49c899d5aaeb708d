#!/bin/bash
# tier: fast (no qemu, no client daemons), ~3 s
# 10-console: process.terminal with --console-socket (pty master sent with SCM_RIGHTS).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

if ! RECV=$(build_helper recvtty); then
    command -v cc >/dev/null || skip_all "cannot compile tests/lib/recvtty.c (needs cc)"
    bail_out "tests/lib/recvtty.c does not compile: $(head -c 300 "$TMP/bin/recvtty.log" 2>/dev/null)"
fi

# wait_file FILE [SECONDS] — until FILE is non-empty
wait_file() { local i; for ((i = 0; i < ${2:-10} * 20; i++)); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
# wait_recv PID — until the receiver (a background process of its own session) is gone
wait_recv() { local i; for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; return 1; }

mkbundle b sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; [ -t 1 ] && echo stdout-is-tty; read line; echo "got:$line"; ls -l /dev/console; exit 0'
cfg_set '.process.terminal = true'
"$RECV" "$TMP/c.sock" "$TMP/c.out" $'hello\n'
ok $? "the console receiver listens"
rpid=$(pgrep -n -f "$TMP/c.sock")
ctr_create --console-socket "$TMP/c.sock"
is "$RC" 0 "create --console-socket with terminal: true exits 0" || diag "$ERR"
wait_file "$TMP/c.out.name" 10
like "$(cat "$TMP/c.out.name" 2>/dev/null)" 'fd=/dev/(pts/)?ptmx isatty=1' "the receiver got a pty master over the socket"
rt start "$ID" >/dev/null 2>&1
ok $? "start exits 0"
wait_status "$ID" stopped 10
wait_recv "$rpid"
out=$(tr -d '\r' <"$TMP/c.out")
like "$out" '^/dev/(pts/0|console)$' "tty inside prints /dev/pts/0 (or /dev/console)"
like "$out" '^stdin-is-tty$' "stdin is a terminal"
like "$out" '^stdout-is-tty$' "stdout is a terminal"
like "$out" '^got:hello$' "input written to the master reaches the container"
like "$out" 'c[rw-]{9} .* 136, +0 .*/dev/console' "/dev/console is the pty (136:0)"
is "$(cat "$TMP/$ID.out")" "" "nothing goes to the runtime's own stdout"
rt delete "$ID" >/dev/null 2>&1

# exec --tty into a running container
mkbundle b2 sleep 600
ctr_create
C=$ID
rt start "$C" >/dev/null 2>&1
wait_status "$C" running 5
"$RECV" "$TMP/e.sock" "$TMP/e.out"
rpid=$(pgrep -n -f "$TMP/e.sock")
rt exec --tty --detach --console-socket "$TMP/e.sock" "$C" sh -c 'tty; echo exec-done' </dev/null >/dev/null 2>"$TMP/e.err"
ok $? "exec --tty --detach --console-socket exits 0" || diag "$(cat "$TMP/e.err")"
wait_recv "$rpid"
out=$(tr -d '\r' <"$TMP/e.out")
like "$out" '^/dev/pts/[0-9]+$' "exec --tty: tty prints a /dev/pts device"
like "$out" '^exec-done$' "exec --tty: the output arrives through the pty"
rt delete --force "$C" >/dev/null 2>&1

# without terminal: a console socket is not needed, and stdio is not a tty
mkbundle b3 sh -c '[ -t 1 ] && echo tty || echo not-a-tty'
ctr_run
is "$OUT" not-a-tty "without process.terminal, stdout is not a tty"

# terminal: true without --console-socket (and no tty on stdin) fails for create
mkbundle b4 true
cfg_set '.process.terminal = true'
ctr_create
nok "$RC" "create with terminal: true and no --console-socket fails"
is "$(rt list -q 2>/dev/null)" "" "and leaves no container"

done_testing
