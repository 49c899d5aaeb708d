# tests/lib/fixtures.sh — fixtures for hull's integration tests (sourced after tap.sh).
#
# Sourcing this file:
#   - checks $HULL (the runtime under test, an absolute path), root, busybox-static and jq
#     (a missing package gives "1..0 # SKIP <reason>");
#   - creates $TMP (a private temp dir) and re-executes the test under a small child-subreaper
#     (tests/lib/subreaper.c, compiled on the fly) so detached container inits are reaped at once;
#   - sets $STATE ($TMP/state, passed as --root so the host's /run/hull and /run/runc are never
#     touched), $RT_NAME (basename of $HULL: hull, runc, crun) and an EXIT trap that force-deletes
#     every container of the test, kills its leftover processes, unmounts leftovers under $TMP,
#     removes its cgroups (/sys/fs/cgroup/*/hulltest/<id>) and netns, and removes $TMP.
#
# Main helpers:
#   rt ARGS...             "$HULL" --root "$STATE" ARGS... (under a timeout)
#   mkbundle NAME [CMD..]  a fresh busybox bundle in $TMP/NAME with process.args = CMD (default
#                          /bin/true); sets BUNDLE (and CFG = $BUNDLE/config.json)
#   cfg_set EXPR [JQARGS]  edit $CFG (or $BUNDLE/config.json) in place with jq
#   set_args CMD...        process.args = CMD
#   new_id [NAME]          a unique container id (registered for cleanup) in $ID; also sets the
#                          bundle's linux.cgroupsPath to /hulltest/$ID
#   ctr_run [FLAGS...]     run a fresh container from $BUNDLE (stdin /dev/null unless CTR_STDIN
#                          is a file): sets ID, OUT, ERR, RC
#   ctr_sh SCRIPT          set_args /bin/sh -c SCRIPT, then ctr_run
#   ctr_create [FLAGS...]  create a fresh container (stdio to $TMP/$ID.{out,err}); sets ID, RC, ERR
#   ctr_status ID          the status field of `state` ("" if state fails)
#   ctr_pid ID             the pid field of `state`
#   wait_status ID WANT [SECONDS]  poll `state` until status is WANT
#   tagged_pids            pids of processes started from this test's bundles (they carry the
#                          env var HULL_TEST_TAG=$TAG)
#   leftover_mounts        lines of /proc/self/mountinfo that mention $TMP
#   cgroup_dirs ID         existing cgroup dirs /sys/fs/cgroup/*/hulltest/ID
#   build_helper NAME      compile tests/lib/NAME.c into $TMP/bin/NAME (skips if no cc), print path
#   is_runtime NAME        true if the runtime under test is NAME (hull, runc, crun)

TESTS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_fixture_prereqs() {
    [ -n "${HULL:-}" ] || bail_out "HULL is not set (the absolute path of the runtime to test)"
    case $HULL in /*) ;; *) HULL=$(command -v "$HULL" || echo "$PWD/$HULL") ;; esac
    [ -x "$HULL" ] || bail_out "HULL=$HULL is not an executable"
    [ "$(id -u)" = 0 ] || skip_all "needs root"
    [ -x /bin/busybox ] || skip_all "needs busybox-static (/bin/busybox)"
    /bin/busybox --list-full >/dev/null 2>&1 || skip_all "/bin/busybox is not a full busybox"
    command -v jq >/dev/null || skip_all "needs jq"
}
_fixture_prereqs

RT_NAME=$(basename "$HULL")
is_runtime() { [ "$RT_NAME" = "$1" ]; }

if [ -n "${HULL_TEST_TMP:-}" ] && [ -d "$HULL_TEST_TMP" ]; then
    TMP=$HULL_TEST_TMP
    unset HULL_TEST_TMP
else
    TMP=$(mktemp -d /tmp/hull-test.XXXXXX) || bail_out "mktemp failed"
    chmod 755 "$TMP"
    mkdir -p "$TMP/bin"
    if [ -z "${HULL_TEST_NO_SUBREAPER:-}" ] && command -v cc >/dev/null &&
        cc -O2 -o "$TMP/bin/subreaper" "$TESTS_LIB/subreaper.c" 2>"$TMP/subreaper.log"; then
        export HULL_TEST_TMP=$TMP
        exec "$TMP/bin/subreaper" bash "$0" "$@"
    fi
    # No compiler: go on without a subreaper; tests poll with timeouts anyway.
fi
STATE=$TMP/state
TAG=${TMP##*.}
# Under the subreaper every process this test leaves behind stays in its tree: helpers that look
# for leftovers (vm_live_procs) count only that tree, not other tests running on the machine.
if [ "$(readlink "/proc/$PPID/exe" 2>/dev/null)" = "$TMP/bin/subreaper" ]; then TEST_TREE_PID=$PPID; else TEST_TREE_PID=; fi
mkdir -p "$STATE" "$TMP/bin"
: >"$TMP/ids"
: >"$TMP/netns"
ID_SEQ=0

rt() { timeout -k 5 "${HULL_TEST_TIMEOUT:-60}" "$HULL" --root "$STATE" "$@"; }

_fixture_cleanup() {
    local rc=$? id d m pids
    set +e
    trap - EXIT
    for id in $(cat "$TMP/ids" 2>/dev/null) $(ls "$STATE" 2>/dev/null); do
        timeout -k 2 10 "$HULL" --root "$STATE" delete --force "$id" >/dev/null 2>&1
    done
    pids=$(tagged_pids)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    # Unmount leftovers under $TMP (deepest first).
    for m in $(leftover_mounts | awk '{print $5}' | sort -r); do
        umount -l "$m" 2>/dev/null
    done
    for m in $(cat "$TMP/netns" 2>/dev/null); do ip netns delete "$m" 2>/dev/null; done
    # Processes still in the test's cgroups (e.g. a runtime's half-made init), then the cgroups.
    pids=$(for id in $(sort -u "$TMP/ids" 2>/dev/null); do
        cat /sys/fs/cgroup/*/hulltest/"$id"/cgroup.procs /sys/fs/cgroup/*/hulltest/"$id"/*/cgroup.procs 2>/dev/null
    done | sort -u)
    if [ -n "$pids" ]; then kill -9 $pids 2>/dev/null; sleep 0.2; fi
    for id in $(sort -u "$TMP/ids" 2>/dev/null); do
        for d in /sys/fs/cgroup/*/hulltest/"$id"; do
            [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
    rmdir /sys/fs/cgroup/*/hulltest 2>/dev/null
    if [ -n "${HULL_TEST_KEEP:-}" ]; then
        echo "# kept $TMP" >&2
    else
        rm -rf "$TMP" 2>/dev/null || { sleep 0.5; rm -rf "$TMP"; }
    fi
    exit "$rc"
}
trap _fixture_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tagged_pids() {
    local f p
    for f in /proc/[0-9]*/environ; do
        p=${f#/proc/}
        p=${p%/environ}
        [ "$p" = "$$" ] && continue
        if tr '\0' '\n' 2>/dev/null <"$f" | grep -qx "HULL_TEST_TAG=$TAG"; then
            # zombies have an empty environ, so a match is a live process
            echo "$p"
        fi
    done
}

leftover_mounts() { grep -F "$TMP" /proc/self/mountinfo; }

cgroup_dirs() { local d; for d in /sys/fs/cgroup/*/hulltest/"$1"; do [ -d "$d" ] && echo "$d"; done; }

build_helper() {
    local name=$1
    if [ ! -x "$TMP/bin/$name" ]; then
        command -v cc >/dev/null || return 1
        cc -O2 -o "$TMP/bin/$name" "$TESTS_LIB/$name.c" >"$TMP/bin/$name.log" 2>&1 || return 1
    fi
    echo "$TMP/bin/$name"
}

# The base rootfs, built once per test file and copied per bundle.
_base_rootfs() {
    local R=$TMP/base-rootfs a
    [ -d "$R" ] && return 0
    mkdir -p "$R.new"
    (
        cd "$R.new" || exit 1
        mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root var run mnt home/user
        chmod 1777 tmp
        chmod 700 root
        chown 1000:1000 home/user
        cp /bin/busybox bin/busybox
        for a in $(/bin/busybox --list-full); do
            [ -e "$a" ] || [ -L "$a" ] || ln -s /bin/busybox "$a"
        done
        cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
        cat >etc/group <<'EOF'
root:x:0:
user:x:1000:
nogroup:x:65534:
EOF
        echo "127.0.0.1 localhost" >etc/hosts
        : >etc/resolv.conf
    ) || bail_out "cannot build the busybox rootfs"
    mv "$R.new" "$R"
}

# The default config.json (written here, not by `runc spec`): the usual default mounts,
# masked and readonly paths, pid/ipc/uts/mount/network namespaces, the usual default caps.
_default_config() {
    cat <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/bin/true" ],
    "env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm",
      "HULL_TEST_TAG=@TAG@"
    ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ @CAPS@ ],
      "effective": [ @CAPS@ ],
      "permitted": [ @CAPS@ ],
      "inheritable": [],
      "ambient": []
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": false },
  "hostname": "hulltest",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
      "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
  ],
  "linux": {
    "cgroupsPath": "/hulltest/@TAG@",
    "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
    "namespaces": [
      { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" }
    ],
    "maskedPaths": [
      "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"
    ],
    "readonlyPaths": [
      "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
    ]
  }
}
EOF
}
DEFAULT_CAPS="CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD CAP_NET_RAW CAP_SETGID CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE"

# mkbundle NAME [CMD...]
mkbundle() {
    local name=$1 caps c
    shift
    _base_rootfs
    BUNDLE=$TMP/$name
    CFG=$BUNDLE/config.json
    rm -rf "$BUNDLE"
    mkdir -p "$BUNDLE"
    cp -a "$TMP/base-rootfs" "$BUNDLE/rootfs"
    caps=
    for c in $DEFAULT_CAPS; do caps="$caps${caps:+, }\"$c\""; done
    _default_config | sed -e "s/@TAG@/$TAG/g" -e "s/@CAPS@/$caps/g" >"$CFG"
    [ $# -gt 0 ] && set_args "$@"
    return 0
}

# cfg_set EXPR [JQ ARGS...] — edit $CFG in place
cfg_set() {
    local expr=$1 f=${CFG:-$BUNDLE/config.json}
    shift
    jq "$@" "$expr" "$f" >"$f.new" || { diag "cfg_set: jq failed on: $expr"; rm -f "$f.new"; return 1; }
    mv "$f.new" "$f"
}

json_array() { local a; for a in "$@"; do printf "%s" "$a" | jq -Rs .; done | jq -cs .; }
set_args() { cfg_set '.process.args = $a' --argjson a "$(json_array "$@")"; }

new_id() {
    ID_SEQ=$((ID_SEQ + 1))
    ID="ht-$TAG-${1:-c}$ID_SEQ"
    echo "$ID" >>"$TMP/ids"
    [ -f "${CFG:-$BUNDLE/config.json}" ] && cfg_set '.linux.cgroupsPath = $p' --arg p "/hulltest/$ID" 2>/dev/null
    return 0
}

ctr_run() {
    new_id run
    local in=${CTR_STDIN:-/dev/null}
    rt run --bundle "$BUNDLE" "$@" "$ID" <"$in" >"$TMP/$ID.out" 2>"$TMP/$ID.err"
    RC=$?
    OUT=$(cat "$TMP/$ID.out")
    ERR=$(cat "$TMP/$ID.err")
    return 0
}

ctr_sh() {
    set_args /bin/sh -c "$1"
    shift
    ctr_run "$@"
}

ctr_create() {
    new_id cr
    rt create --bundle "$BUNDLE" "$@" "$ID" </dev/null >"$TMP/$ID.out" 2>"$TMP/$ID.err"
    RC=$?
    ERR=$(cat "$TMP/$ID.err")
    return 0
}

ctr_state() { rt state "$1" 2>/dev/null; }
ctr_status() { rt state "$1" 2>/dev/null | jq -r '.status // empty' 2>/dev/null; }
ctr_pid() { rt state "$1" 2>/dev/null | jq -r '.pid // empty' 2>/dev/null; }

# wait_status ID WANT [SECONDS] — returns 0 once `state` reports WANT
wait_status() {
    local id=$1 want=$2 t=${3:-10} i
    for ((i = 0; i < t * 20; i++)); do
        [ "$(ctr_status "$id")" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_gone PID [SECONDS] — returns 0 once PID no longer exists (or is a zombie)
wait_gone() {
    local pid=$1 t=${2:-10} i st
    for ((i = 0; i < t * 20; i++)); do
        [ -e "/proc/$pid" ] || return 0
        st=$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)
        [ "$st" = Z ] || [ -z "$st" ] && return 0
        sleep 0.05
    done
    return 1
}

# alive PID — the process exists and is not a zombie
alive() {
    local st
    st=$(awk '/^State:/{print $2}' "/proc/$1/status" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

host_ns() { stat -L -c %i "/proc/self/ns/$1"; }

# todo_for RUNTIME REASON — mark the following results as TODO (known deviation) for RUNTIME only
todo_for() { if is_runtime "$1"; then TAP_TODO="$RT_NAME: $2"; else TAP_TODO=; fi; }
