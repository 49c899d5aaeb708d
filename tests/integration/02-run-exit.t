#!/bin/bash
# tier: fast (no qemu, no client daemons), ~2 s
# 02-run-exit: `run` returns the container's exit code (128+N on signal N) and passes stdio through.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

mkbundle b

for code in 0 3 42 255; do
    ctr_sh "exit $code"
    is "$RC" "$code" "run: exit code $code is returned"
done

set_args /bin/true
ctr_run
is "$RC" 0 "run /bin/true exits 0"
set_args /bin/false
ctr_run
is "$RC" 1 "run /bin/false exits 1"

ctr_sh 'echo to-stdout; echo to-stderr >&2'
is "$OUT" to-stdout "stdout is passed through"
is "$ERR" to-stderr "stderr is passed through, separately"

printf 'line one\nline two\n' >"$TMP/input"
CTR_STDIN=$TMP/input ctr_sh 'cat; echo end'
is "$OUT" "$(printf 'line one\nline two\nend')" "stdin is passed through (piped)"
CTR_STDIN=$TMP/input ctr_sh 'read a; read b; echo "[$b][$a]"'
is "$OUT" "[line two][line one]" "stdin is read line by line"

# PID 1 of a pid namespace ignores signals it has no handler for (even from itself), so the
# "killed by a signal" cases run without a pid namespace, where the shell really dies.
cfg_set 'del(.linux.namespaces[] | select(.type == "pid"))'
ctr_sh 'kill -TERM $$; echo survived'
is "$RC" 143 "killed by SIGTERM: exit code 143"
is "$OUT" "" "nothing runs after the signal"
ctr_sh 'kill -KILL $$'
is "$RC" 137 "killed by SIGKILL: exit code 137"
ctr_sh 'kill -USR1 $$'
is "$RC" 138 "killed by SIGUSR1: exit code 138"

# With a pid namespace: SIGKILL from outside (the runtime's kill verb) while `run` waits.
mkbundle b2 sleep 600
new_id sig
rt run --bundle "$BUNDLE" "$ID" </dev/null >"$TMP/sig.out" 2>&1 &
runpid=$!
if wait_status "$ID" running 10; then
    rt kill "$ID" KILL >/dev/null 2>&1
    wait $runpid
    is "$?" 137 "run returns 137 when the container is SIGKILLed from outside"
else
    kill -9 $runpid 2>/dev/null
    fail "the container never reached running"
fi

# a container with a missing executable: run fails, non-zero
mkbundle b3 /bin/no-such-binary
ctr_run
nok "$RC" "run of a missing executable fails"
isnt "$ERR" "" "run of a missing executable explains on stderr"
is "$(ls "$STATE")" "" "run leaves no state behind (after success, signals and failures)"

done_testing
