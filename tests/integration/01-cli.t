#!/bin/bash
# tier: fast (no qemu, no client daemons), ~1 s
# 01-cli: version/help, unknown verbs, global flags, `spec`, `features`.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/fixtures.sh"

out=$("$HULL" --version 2>&1); rc=$?
ok $rc "--version exits 0"
like "$out" '[0-9]+\.[0-9]+\.[0-9]+' "--version prints a version number"
out=$("$HULL" -v 2>&1); rc=$?
ok $rc "-v exits 0"
like "$out" '[0-9]+\.[0-9]+\.[0-9]+' "-v prints a version number"

out=$("$HULL" --help 2>&1); rc=$?
ok $rc "--help exits 0"
for verb in create start run state kill delete list spec exec; do
    like "$out" "(^|[[:space:]])$verb([[:space:],]|$)" "--help mentions the verb $verb"
done

out=$(rt no-such-verb 2>&1 >/dev/null); rc=$?
nok $rc "an unknown verb fails"
isnt "$out" "" "an unknown verb prints an error on stderr"

out=$(rt state no-such-container-$TAG 2>&1 >/dev/null); rc=$?
nok $rc "state of an unknown container fails"
isnt "$out" "" "state of an unknown container explains on stderr"

out=$(rt --log "$TMP/rt.log" --log-format json list -q 2>&1); rc=$?
ok $rc "--log FILE --log-format json are accepted (list)"
is "$out" "" "list -q on an empty --root prints nothing"
out=$(rt list --format json 2>/dev/null); rc=$?
ok $rc "list --format json on an empty root exits 0"
is "$(printf '%s' "$out" | jq -c '(. // []) | length' 2>/dev/null)" 0 "list --format json on an empty root is an empty JSON list (or null)"

# spec
mkdir -p "$TMP/spec1" "$TMP/spec2"
(cd "$TMP/spec1" && rt spec) >/dev/null 2>&1; rc=$?
ok $rc "spec exits 0"
f=$TMP/spec1/config.json
ok "$([ -f "$f" ]; echo $?)" "spec writes config.json in the current directory"
jq -e . "$f" >/dev/null 2>&1; ok $? "the spec config.json parses as JSON"
like "$(jq -r .ociVersion "$f")" '^1\.[0-9]+\.[0-9]+' "spec: ociVersion is 1.x.y"
is "$(jq -r '.root.path' "$f")" rootfs "spec: root.path is rootfs"
cmp_ok "$(jq '.process.args | length' "$f")" -gt 0 "spec: process.args is a non-empty list"
is "$(jq -r '.process.cwd' "$f")" / "spec: process.cwd is /"
is "$(jq -r '[.linux.namespaces[].type] | sort | map(select(. == "pid" or . == "mount" or . == "ipc" or . == "uts" or . == "network")) | join(",")' "$f")" \
   "ipc,mount,network,pid,uts" "spec: pid, mount, ipc, uts and network namespaces"
is "$(jq -r '[.mounts[].destination] | map(select(. == "/proc" or . == "/dev" or . == "/sys")) | sort | join(",")' "$f")" \
   "/dev,/proc,/sys" "spec: /proc, /dev and /sys mounts"
like "$(jq -r '.process.capabilities.bounding | join(" ")' "$f")" 'CAP_KILL' "spec: a bounding capability set"
cmp_ok "$(jq '.linux.maskedPaths | length' "$f")" -gt 0 "spec: maskedPaths"
cmp_ok "$(jq '.linux.readonlyPaths | length' "$f")" -gt 0 "spec: readonlyPaths"
(cd "$TMP/spec1" && rt spec) >/dev/null 2>&1; rc=$?
nok $rc "spec refuses to overwrite an existing config.json"
rt spec --bundle "$TMP/spec2" >/dev/null 2>&1; rc=$?
ok $rc "spec --bundle DIR exits 0"
jq -e . "$TMP/spec2/config.json" >/dev/null 2>&1; ok $? "spec --bundle DIR writes DIR/config.json"
mkdir -p "$TMP/spec3"
rt spec --rootless --bundle "$TMP/spec3" >/dev/null 2>&1; rc=$?
ok $rc "spec --rootless exits 0"
is "$(jq -r '[.linux.namespaces[].type] | index("user") != null' "$TMP/spec3/config.json" 2>/dev/null)" true "spec --rootless: a user namespace"
cmp_ok "$(jq '.linux.uidMappings | length' "$TMP/spec3/config.json" 2>/dev/null || echo 0)" -gt 0 "spec --rootless: uidMappings"

# features
out=$(rt features 2>/dev/null); rc=$?
ok $rc "features exits 0"
printf '%s' "$out" | jq -e . >/dev/null 2>&1; ok $? "features prints JSON"
like "$(printf '%s' "$out" | jq -r .ociVersionMin)" '^1\.0\.[0-9]' "features: ociVersionMin is 1.0.x"
like "$(printf '%s' "$out" | jq -r .ociVersionMax)" '^1\.[0-9]+\.[0-9]+' "features: ociVersionMax is 1.x.y"
is "$(printf '%s' "$out" | jq -r '.hooks | sort | join(",")')" \
   "createContainer,createRuntime,poststart,poststop,prestart,startContainer" "features: the six hooks"
is "$(printf '%s' "$out" | jq -r '[.mountOptions[] | select(. == "bind" or . == "rbind" or . == "ro" or . == "nosuid" or . == "nodev" or . == "noexec")] | unique | join(",")')" \
   "bind,nodev,noexec,nosuid,rbind,ro" "features: mountOptions include bind, rbind, ro, nosuid, nodev, noexec"
is "$(printf '%s' "$out" | jq -r '[.linux.namespaces[] | select(. == "pid" or . == "network" or . == "mount" or . == "ipc" or . == "uts" or . == "user" or . == "cgroup")] | sort | join(",")')" \
   "cgroup,ipc,mount,network,pid,user,uts" "features: linux.namespaces"
like "$(printf '%s' "$out" | jq -r '.linux.capabilities | join(" ")')" 'CAP_SYS_ADMIN' "features: linux.capabilities lists CAP_SYS_ADMIN"
cmp_ok "$(printf '%s' "$out" | jq '.linux.capabilities | length')" -ge 38 "features: linux.capabilities lists at least 38 capabilities"
is "$(printf '%s' "$out" | jq -r '.linux.seccomp.enabled')" true "features: seccomp enabled"
like "$(printf '%s' "$out" | jq -r '.linux.seccomp.actions | join(" ")')" 'SCMP_ACT_ERRNO' "features: seccomp actions"
like "$(printf '%s' "$out" | jq -r '.linux.seccomp.operators | join(" ")')" 'SCMP_CMP_EQ' "features: seccomp operators"
like "$(printf '%s' "$out" | jq -r '.linux.seccomp.archs | join(" ")')" 'SCMP_ARCH_X86_64' "features: seccomp archs"

if is_runtime hull; then
    is "$(printf '%s' "$out" | jq -r .ociVersionMin)" 1.0.0 "hull features: ociVersionMin 1.0.0"
    like "$(printf '%s' "$out" | jq -r .ociVersionMax)" '^1\.3\.' "hull features: ociVersionMax 1.3.x"
    is "$(printf '%s' "$out" | jq -r '.linux.namespaces | index("time") != null')" true "hull features: the time namespace"
    is "$(printf '%s' "$out" | jq -r '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY") != null')" true "hull features: SCMP_ACT_NOTIFY"
    out=$(rt --systemd-cgroup list 2>&1); rc=$?
    like "$out" '.' "hull: --systemd-cgroup is accepted or gives a clear message"
else
    skip "hull-specific features content (runtime is $RT_NAME)" 5
fi

# --debug with --log --log-format json: JSON lines with level "debug"
rt --debug --log "$TMP/debug.log" --log-format json list >/dev/null 2>&1
if is_runtime hull; then
    like "$(head -1 "$TMP/debug.log" 2>/dev/null)" '"level":"debug"' "--debug writes debug lines to the --log file"
else
    skip "runc logs no debug line for list"
fi
ok "$(jq -e . "$TMP/debug.log" >/dev/null 2>&1; echo $?)" "... each line is JSON"

done_testing
