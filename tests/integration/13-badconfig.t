#!/bin/bash
# tier: fast (no qemu, no client daemons), ~4 s
# 13-badconfig: invalid config.json files fail create/run with a message and leave nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

# bad NAME — run `create` on $BUNDLE and check: non-zero exit, stderr message, nothing left
bad() {
    local name=$1
    ctr_create
    nok "$RC" "$name: create fails"
    isnt "$ERR" "" "$name: an error message on stderr"
    if is_runtime hull; then
        like "$(printf '%s\n' "$ERR" | head -n1)" '^hull: config\.json:' "$name: hull's message starts with 'hull: config.json:'"
    else
        skip "$name: the 'hull: config.json:' prefix is hull-specific ($RT_NAME)"
    fi
    ok "$([ ! -e "$STATE/$ID" ]; echo $?)" "$name: no state dir left"
    is "$(rt list -q 2>/dev/null)" "" "$name: list is empty"
    is "$(tagged_pids)$(cgroup_dirs "$ID")$(leftover_mounts)" "" "$name: no process, cgroup or mount left"
    rt delete --force "$ID" >/dev/null 2>&1
}

mkbundle b
good=$(cat "$CFG")
printf '{"ociVersion": "1.0.2", "process": {' >"$CFG"
bad "truncated JSON"
printf 'not json at all' >"$CFG"
bad "not JSON"
: >"$CFG"
bad "empty file"
rm -f "$CFG"
bad "missing config.json"

echo "$good" >"$CFG"
cfg_set '.process.args = "/bin/true"'
bad "process.args is a string, not a list"
echo "$good" >"$CFG"
cfg_set '.process.user.uid = "root"'
bad "user.uid is a string"
echo "$good" >"$CFG"
cfg_set 'del(.process.args)'
bad "missing process.args"
echo "$good" >"$CFG"
cfg_set '.process.args = []'
bad "empty process.args"
echo "$good" >"$CFG"
cfg_set '.linux.namespaces += [{type: "no-such-namespace"}]'
bad "unknown namespace type"
echo "$good" >"$CFG"
cfg_set '.root.path = "does-not-exist"'
bad "root.path does not exist"
echo "$good" >"$CFG"
cfg_set 'del(.ociVersion)'
todo_for runc "runc 1.1 accepts a config.json without ociVersion"
bad "missing ociVersion"
end_todo
echo "$good" >"$CFG"
# the spec (1.1) resolves a relative destination under /, as runc does: the container must see it there
cfg_set '.mounts += [{destination: "relative/path", type: "tmpfs", source: "tmpfs"}]'
ctr_sh 'awk '\''$2 == "/relative/path" {print $3}'\'' /proc/self/mounts'
is "$RC" 0 "a relative mount destination is accepted (stderr: $ERR)"
is "$OUT" tmpfs "  the container sees the tmpfs at /relative/path"
rt delete --force "$ID" >/dev/null 2>&1

# the same for `run`, with a missing required field
echo "$good" >"$CFG"
cfg_set 'del(.process.cwd)'
ctr_run
nok "$RC" "run with a missing process.cwd fails"
is "$(ls -A "$STATE")" "" "and leaves no state"

# unknown fields are ignored
echo "$good" >"$CFG"
cfg_set '.someFutureField = {x: 1} | .process.futureKnob = true | .linux.futureThing = [1, 2]'
set_args sh -c 'echo fine'
ctr_run
is "$RC:$OUT" "0:fine" "unknown fields are ignored"

done_testing
