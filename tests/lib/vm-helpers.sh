# tests/lib/vm-helpers.sh — for the tests that run hull's microVM executor: on the host
# (21-containerd.t, 24-podman.t, 28-vm-host.t) and inside the nested L1 (tests/vm/nest-lib.sh,
# installed there as /hull/vm-helpers.sh). POSIX sh.

# vm_live_procs [MARK]: how many VMM, monitor and exec-proxy processes are alive (zombies aside).
# With TEST_TREE_PID set (fixtures.sh sets it to the test's subreaper, to which every process the
# test leaves behind is reparented), only that pid's descendants count: other people's VMs on a
# shared machine are not this test's leftovers. Unset (the nested L1), every such process counts.
# With MARK (NAME=value), only processes with that variable in their environment count too.
vm_live_procs() {
    _n=0
    for _s in /proc/[0-9]*/stat; do
        read -r _pid _comm _st _ 2>/dev/null <"$_s" || continue
        [ "$_st" = Z ] && continue
        case $_comm in "(hull-vmm)" | "(hull-vm-monitor)" | "(hull-vm-exec)") ;; *) continue ;; esac
        [ -n "${TEST_TREE_PID:-}" ] && ! _vm_descends "$_pid" "$TEST_TREE_PID" && continue
        [ -z "${1:-}" ] || tr '\0' '\n' <"${_s%/stat}/environ" 2>/dev/null | grep -qxF -- "$1" || continue
        _n=$((_n + 1))
    done
    echo $_n
}

# _vm_descends PID ANCESTOR: true if ANCESTOR is PID or one of its ancestors
_vm_descends() {
    _d=$1
    while [ "${_d:-0}" -gt 1 ]; do
        [ "$_d" = "$2" ] && return 0
        read -r _ _ _ _d _ 2>/dev/null <"/proc/$_d/stat" || return 1
    done
    return 1
}

# vm_test_agent_wrapper PATH HULL [ARGV0]: an executable at PATH that runs HULL with
# HULL_VM_TEST_AGENT=1 (hull-vmm then runs the guest agent on this host instead of booting a
# VM), named ARGV0 when given (hull-vm selects the VM executor by name) — for clients such as
# containerd's shim and conmon, which run the runtime binary with an environment of their own.
vm_test_agent_wrapper() {
    mkdir -p "$(dirname "$1")" || return 1
    if [ -n "${3:-}" ]; then
        printf '#!/bin/bash\nHULL_VM_TEST_AGENT=1 exec -a %s %s "$@"\n' "$3" "$2" >"$1"
    else
        printf '#!/bin/bash\nHULL_VM_TEST_AGENT=1 exec %s "$@"\n' "$2" >"$1"
    fi
    chmod 755 "$1"
}
