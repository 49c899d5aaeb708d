#!/bin/bash
# tier: fast (no qemu, no client daemons), ~4 s
# 03-process: env, cwd, user/groups, umask, hostname/domainname, rlimits, noNewPrivileges,
# capabilities (all five sets), oomScoreAdj — as the container sees them.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

status_field() { printf '%s\n' "$OUT" | awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ +/, ""); print; exit }'; }

mkbundle b
cfg_set '.process.env += ["FOO=bar baz", "EMPTY="]'
ctr_sh 'echo "$FOO|${EMPTY-unset}|$PATH"'
is "$OUT" "bar baz||/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "process.env is the environment"
ctr_sh 'env | grep -c ^FOO='
is "$OUT" 1 "no duplicate variables"

cfg_set '.process.cwd = "/tmp"'
ctr_sh 'pwd'
is "$OUT" /tmp "process.cwd is the working directory"
cfg_set '.process.cwd = "/"'

# user
cfg_set '.process.user = {uid: 1000, gid: 1000, additionalGids: [2000, 3000]}'
ctr_sh 'id -u; id -g; grep -E "^(Uid|Gid|Groups):" /proc/self/status'
is "$(printf '%s\n' "$OUT" | sed -n 1p)" 1000 "user.uid: id -u is 1000"
is "$(printf '%s\n' "$OUT" | sed -n 2p)" 1000 "user.gid: id -g is 1000"
OUT=$(printf '%s\n' "$OUT" | sed 1,2d)
is "$(status_field Uid)" "1000 1000 1000 1000" "real, effective, saved and fs uid are 1000"
is "$(status_field Gid)" "1000 1000 1000 1000" "real, effective, saved and fs gid are 1000"
is "$(status_field Groups)" "2000 3000" "additionalGids are the supplementary groups"
cfg_set '.process.user = {uid: 65534, gid: 65534}'
ctr_sh 'id -un; grep ^Groups: /proc/self/status'
is "$(printf '%s\n' "$OUT" | sed -n 1p)" nobody "uid 65534 is nobody (from /etc/passwd)"
like "$(printf '%s\n' "$OUT" | sed -n 2p)" '^Groups:[[:space:]]*$' "no supplementary groups unless asked (host groups don't leak)"
cfg_set '.process.user = {uid: 0, gid: 0, umask: 23}'
ctr_sh 'umask'
is "$OUT" 0027 "user.umask 0027 (23) applies"
cfg_set '.process.user = {uid: 0, gid: 0}'

# hostname / domainname
cfg_set '.hostname = "box-one" | .domainname = "example.org"'
ctr_sh 'hostname; cat /proc/sys/kernel/domainname'
is "$(printf "%s\n" "$OUT" | sed -n 1p)" box-one "hostname"
if is_runtime runc; then
    skip "domainname: runc 1.1 ignores it"
else
    is "$(printf "%s\n" "$OUT" | sed -n 2p)" example.org "domainname"
fi
isnt "$(hostname)" box-one "the host's hostname is unchanged"

# rlimits
cfg_set '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 512, hard: 1000}, {type: "RLIMIT_NPROC", soft: 300, hard: 400}]'
ctr_sh 'ulimit -n; grep -E "^Max (open files|processes)" /proc/self/limits'
is "$(printf '%s\n' "$OUT" | sed -n 1p)" 512 "RLIMIT_NOFILE soft: ulimit -n is 512"
like "$OUT" 'Max open files +512 +1000 ' "RLIMIT_NOFILE 512/1000 in /proc/self/limits"
like "$OUT" 'Max processes +300 +400 ' "RLIMIT_NPROC 300/400 in /proc/self/limits"

# noNewPrivileges
cfg_set '.process.noNewPrivileges = true'
ctr_sh 'grep ^NoNewPrivs: /proc/self/status'
like "$OUT" '^NoNewPrivs:[[:space:]]+1$' "noNewPrivileges true: NoNewPrivs 1"
cfg_set '.process.noNewPrivileges = false'
ctr_sh 'grep ^NoNewPrivs: /proc/self/status'
like "$OUT" '^NoNewPrivs:[[:space:]]+0$' "noNewPrivileges false: NoNewPrivs 0"
cfg_set '.process.noNewPrivileges = true'

# capabilities: default set of the fixture
ctr_sh 'grep ^Cap /proc/self/status'
is "$(status_field CapBnd)" 00000000a80425fb "default caps: CapBnd"
is "$(status_field CapEff)" 00000000a80425fb "default caps: CapEff (root)"
is "$(status_field CapInh)" 0000000000000000 "default caps: CapInh empty (never set implicitly)"
is "$(status_field CapAmb)" 0000000000000000 "default caps: CapAmb empty"

# root with a small set: CHOWN(0) KILL(5) NET_BIND_SERVICE(10) SYS_ADMIN(21) = 0x200421
cfg_set '.process.capabilities = {bounding: $s, effective: $s, permitted: $s, inheritable: [], ambient: []}' \
    --argjson s '["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE","CAP_SYS_ADMIN"]'
ctr_sh 'grep ^Cap /proc/self/status'
is "$(status_field CapBnd)" 0000000000200421 "root: CapBnd is the bounding set"
is "$(status_field CapPrm)" 0000000000200421 "root: CapPrm"
is "$(status_field CapEff)" 0000000000200421 "root: CapEff"
is "$(status_field CapInh)" 0000000000000000 "root: CapInh empty"
cfg_set '.process.capabilities = {bounding: [], effective: [], permitted: [], inheritable: [], ambient: []}'
ctr_sh 'grep ^Cap /proc/self/status'
is "$(status_field CapBnd)" 0000000000000000 "empty sets: CapBnd 0"
is "$(status_field CapEff)" 0000000000000000 "empty sets: CapEff 0 even for root"

# uid 1000 with ambient NET_BIND_SERVICE (0x400): after exec only the ambient set survives
cfg_set '.process.user = {uid: 1000, gid: 1000}
  | .process.capabilities = {bounding: ["CAP_KILL","CAP_NET_BIND_SERVICE"], effective: ["CAP_KILL","CAP_NET_BIND_SERVICE"],
      permitted: ["CAP_KILL","CAP_NET_BIND_SERVICE"], inheritable: ["CAP_NET_BIND_SERVICE"], ambient: ["CAP_NET_BIND_SERVICE"]}'
ctr_sh 'grep ^Cap /proc/self/status'
is "$(status_field CapBnd)" 0000000000000420 "uid 1000: CapBnd KILL+NET_BIND_SERVICE"
is "$(status_field CapInh)" 0000000000000400 "uid 1000: CapInh NET_BIND_SERVICE"
is "$(status_field CapAmb)" 0000000000000400 "uid 1000: CapAmb NET_BIND_SERVICE"
is "$(status_field CapPrm)" 0000000000000400 "uid 1000: CapPrm from the ambient set"
is "$(status_field CapEff)" 0000000000000400 "uid 1000: CapEff from the ambient set"
cfg_set '.process.capabilities.ambient = [] | .process.capabilities.inheritable = []'
ctr_sh 'grep ^Cap /proc/self/status'
is "$(status_field CapEff)" 0000000000000000 "uid 1000 without ambient caps: CapEff 0"
is "$(status_field CapInh)" 0000000000000000 "uid 1000: CapInh empty when not asked"

if is_runtime hull; then
    cfg_set '.process.user = {uid: 0, gid: 0} | .process.capabilities.bounding += ["CAP_NO_SUCH_THING"]'
    ctr_run
    nok "$RC" "hull: an unknown capability name is rejected"
    like "$ERR" 'CAP_NO_SUCH_THING' "hull: the error names the unknown capability"
else
    skip "unknown capability names: runc only warns ($RT_NAME)" 2
fi

# oomScoreAdj
mkbundle b2
cfg_set '.process.oomScoreAdj = 500'
ctr_sh 'cat /proc/self/oom_score_adj'
is "$OUT" 500 "oomScoreAdj 500 in /proc/self/oom_score_adj"
cfg_set '.process.oomScoreAdj = 0'
ctr_sh 'cat /proc/self/oom_score_adj'
is "$OUT" 0 "oomScoreAdj 0"

# args: argv[0] and spaces are preserved
set_args /bin/sh -c 'echo "$0|$1|$2"' 'name zero' 'a b' ''
ctr_run
is "$OUT" "name zero|a b|" "process.args are passed verbatim"

# no host fd leaks into the container: only 0, 1, 2 (+ the fd ls opens)
exec 7>"$TMP/leak"
ctr_sh 'ls /proc/self/fd | sort -n | tr "\n" " "'
exec 7>&-
like "$OUT" '^0 1 2 3 $' "only stdio fds are open in the container (fd 7 of the caller does not leak)"

done_testing
