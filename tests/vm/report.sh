#!/bin/bash
# tests/vm/report.sh — sourced by the integration tests that run a VM (tests/vm/run-in-vm.sh):
# 20-cgroup-v2-vm.t, 25-vmm-nested.t, 27-vm-containers.t. Needs tests/lib/tap.sh.
# - vm_report_test NAME turns the TAP that test NAME printed inside the VM (split out by the
#   harness into $O/tests/NAME.tap, .rc, .secs) into one result line for prove, with each failed
#   inner assertion repeated as a diag; vm_replay repeats every inner result instead.
# - vm_report_watchdog: what the harness's watchdog did.
# - the harness itself: vm_build_dir, vm_prepare (prerequisites, TMP, traps), vm_run,
#   vm_run_nested (one retry of a wedged L1), vm_check_booted, vm_check_poweroff.
vm_report_test() {
    local name=$1 f rc secs n_pass n_fail n_skip n_todo n_run plan bail problems desc
    f=$O/tests/$name.tap
    if [ ! -e "$f" ]; then
        fail "$name inside the VM: never started"
        return
    fi
    sed "s/^/$name| /" "$f" | note "$(cat)"
    rc=$(cat "$O/tests/$name.rc" 2>/dev/null)
    secs=$(cat "$O/tests/$name.secs" 2>/dev/null)
    read -r n_pass n_fail n_skip n_todo n_run plan bail < <(awk '
        /^ok / || /^not ok / {
            run++
            todo = ($0 ~ /# *TODO/); skip = ($0 ~ /# *[Ss][Kk][Ii][Pp]/)
            if ($1 == "not") { if (todo) t++; else f++ }
            else if (skip) s++
            else if (todo) t++
            else p++
        }
        /^1\.\.[0-9]+/ { sub(/^1\.\./, ""); split($0, a, /[^0-9]/); plan = a[1] }
        /^Bail out!/ { bail = 1 }
        END { printf "%d %d %d %d %d %s %d\n", p, f, s, t, run, (plan == "" ? "none" : plan), bail }' "$f")
    problems=
    [ -z "$rc" ] && problems+=" no end marker (killed or VM died mid-test);"
    [ -n "$rc" ] && [ "$rc" != 0 ] && problems+=" exit status $rc$([ "$rc" = 137 ] && echo ' (SIGKILL: timeout?)')$([ "$rc" = 139 ] && echo ' (SIGSEGV)');"
    [ "$plan" = none ] && problems+=" no TAP plan;"
    [ "$plan" != none ] && [ "$plan" != "$n_run" ] && problems+=" planned $plan, ran $n_run;"
    [ "$bail" = 1 ] && problems+=" bailed out;"
    [ "$n_fail" != 0 ] && problems+=" $n_fail failed;"
    desc="$name inside the VM: $n_pass passed, $n_fail failed, $n_skip skipped$([ "$n_todo" != 0 ] && echo ", $n_todo todo") (rc ${rc:-none}, ${secs:-?}s)"
    if [ -z "$problems" ]; then
        pass "$desc"
    else
        fail "$desc"
        diag "problems:$problems"
        # each failed assertion with the comment lines that follow it
        awk '/^not ok / && !/# *TODO/ { on = 1; print; next } on && /^#/ { print; next } { on = 0 }' "$f" |
            sed "s/^/$name: /" | diag "$(cat)"
        if [ -z "$rc" ] || [ "$n_run" = 0 ]; then tail -n 10 "$f" | sed "s/^/$name (tail): /" | diag "$(cat)"; fi
    fi
}

# vm_report_watchdog DIR: what run-in-vm.sh's watchdog (HULL_VM_STALL) did in the run kept in DIR,
# as diagnostics: each time L1 fell silent and was nudged, whether the console came back after it, and
# the CPU/local-APIC state it recorded then — the evidence for telling a qemu TCG wedge (L1 halted,
# its wake-up lost) from a hull hang (L1 running, the scenario stuck).
vm_report_watchdog() {
    local d=$1
    [ -s "$d/nudged" ] || return 0
    diag "the watchdog nudged L1 (console silent; a byte on the serial line and an NMI):"
    diag "$(sed 's/^/  /' "$d/nudged")"
    if [ -e "$d/stalled" ]; then
        diag "  L1 stayed silent after it and was stopped"
    else
        diag "  L1 went on after it"
    fi
    [ -s "$d/monitor.log" ] && grep -E '^(===|RIP=|EFL=|CR0=|HLT|dumping|LVT|Timer|ESR|ISR|IRR|APR)' "$d/monitor.log" |
        head -n 40 | sed 's/^/  monitor| /' | diag "$(cat)"
    return 0
}

# ---- the harness around run-in-vm.sh, shared by 20-cgroup-v2-vm, 25-vmm-nested, 27-vm-containers ----

# vm_build_dir: REPO, VM (the harness) and BUILD (exported: the dir of $HULL, else <repo>/build);
# a HULL that is not hull's own build skips the whole test (the VM runs hull's build).
vm_build_dir() {
    REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    VM=$REPO/tests/vm/run-in-vm.sh
    if [ -n "${HULL:-}" ]; then
        case $(basename "$HULL") in
        hull) ;;
        *) skip_all "the VM harness runs hull's own build, not $(basename "$HULL")" ;;
        esac
        BUILD=$(dirname "$HULL")
        case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
    else
        BUILD=$REPO/build
    fi
    export BUILD
}

# vm_prepare PREFIX [RAN_ELSEWHERE]: the harness's prerequisites (a missing one skips the test —
# or, when RAN_ELSEWHERE is set, ends it with what already ran), then TMP (/tmp/PREFIX.XXXXXX) and
# the traps: a TERM or INT to the test stops the VM at once; HULL_TEST_KEEP=1 keeps TMP.
vm_prepare() {
    local why rc
    why=$("$VM" --check 2>&1)
    rc=$?
    case $rc in
    0) ;;
    4) [ -n "${2:-}" ] && { note "the VM harness is skipped: $why"; done_testing; }
       skip_all "$why" ;;
    *) bail_out "tests/vm/run-in-vm.sh --check failed: $why" ;;
    esac
    TMP=$(mktemp -d "/tmp/$1.XXXXXX") || bail_out "mktemp failed"
    VMPID=
    trap _vm_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
_vm_cleanup() {
    local rc=$?
    # the harness kills its qemu and removes its own files on TERM
    if [ -n "$VMPID" ] && kill -0 "$VMPID" 2>/dev/null; then kill -TERM "$VMPID"; wait "$VMPID"; fi
    if [ -n "${HULL_TEST_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
    exit "$rc"
}

# vm_run OUTDIR ARGS...: one harness run (in the background, so that a TERM reaches the traps at
# once), its output in $TMP/harness.log; returns its exit status.
vm_run() {
    local out=$1 rc
    shift
    "$VM" --quiet --out "$out" "$@" >"$TMP/harness.log" 2>&1 &
    VMPID=$!
    wait "$VMPID"
    rc=$?
    VMPID=
    return $rc
}

# vm_run_nested LAST ARGS...: an L1 run whose test LAST (the last one inside) must finish its plan.
# qemu TCG's nested SVM has wedged L1 now and then (run-in-vm.sh's watchdog: $O/stalled): such a
# run, or one that ended before LAST's plan, is tried once more, the first run's last words kept
# as diagnostics. Sets O (the run kept) and VMRC; reports what the watchdog did in either run.
vm_run_nested() {
    local last=$1
    shift
    vm_run "$TMP/vm" "$@"
    VMRC=$?
    if [ -e "$TMP/vm/stalled" ] || { [ "$VMRC" != 0 ] && ! grep -q '^1\.\.' "$TMP/vm/tests/$last.tap" 2>/dev/null; }; then
        note "first L1 run did not finish (harness exit $VMRC); it stopped after: $(grep -hE '^(ok|not ok)' "$TMP"/vm/tests/*.tap 2>/dev/null | tail -n 1)"
        note "$(tail -n 3 "$TMP/vm/console.log" 2>/dev/null | tr '\n' '|')"
        mv "$TMP/vm" "$TMP/vm-first"
        vm_run "$TMP/vm" "$@"
        VMRC=$?
    fi
    [ -d "$TMP/vm-first" ] && vm_report_watchdog "$TMP/vm-first"
    vm_report_watchdog "$TMP/vm"
    O=$TMP/vm
    [ -e "$O/stalled" ] && diag "the L1 VM stopped making progress (no console output for ${HULL_VM_STALL:-?}s) and was stopped: a qemu TCG wedge"
    return 0
}

vm_info() { sed -n "s/^$1 //p" "$O/info" 2>/dev/null | head -n 1; }
vm_timing() { sed -n "s/^$1 //p" "$O/timing" 2>/dev/null | head -n 1; }
vm_console_tail() {
    diag "harness: $(grep -v '^==' "$TMP/harness.log" | tail -n 5)"
    diag "console (last 25 lines):"
    tail -n 25 "$O/console.log" 2>/dev/null | diag "$(cat)"
}

# vm_check_booted WHAT: the harness ran and the VM reached /init — else a failure and the end.
vm_check_booted() {
    if [ "$VMRC" = 2 ] || [ ! -s "$O/timing" ]; then
        fail "the VM harness ran (exit $VMRC)"
        diag "$(tail -n 20 "$TMP/harness.log")"
        done_testing
    fi
    local init_s
    init_s=$(vm_timing host_boot_to_init_s)
    if [ -n "$init_s" ] && [ "$init_s" != none ]; then
        pass "$1 booted and reached /init in ${init_s}s"
    else
        fail "$1 booted and reached /init"
        vm_console_tail
        done_testing
    fi
}

# vm_replay TEST SCRIPT LABEL: each result of that test inside the VM as ours (the number dropped,
# LABEL in front), its diagnostics after it, then one result for its plan being complete. A test
# that skipped as a whole (1..0 # SKIP) becomes one skip with its reason.
vm_replay() {
    local f=$O/tests/$1.tap inner=0 planned= line
    if [ ! -s "$f" ]; then
        fail "tests/vm/$2 ran inside the VM"
        vm_console_tail
        return
    fi
    while IFS= read -r line; do
        case $line in
        "ok "*"# skip "*) inner=$((inner + 1)); skip "$3: ${line#*# skip }" ;;
        "ok "*) inner=$((inner + 1)); pass "$3: ${line#ok * - }" ;;
        "not ok "*) inner=$((inner + 1)); fail "$3: ${line#not ok * - }" ;;
        "#"*) diag "${line#\# }" ;;
        "1..0 # SKIP"*) skip "$3: ${line#1..0 # SKIP }"; return ;;
        1..*) planned=${line#1..} ;;
        esac
    done <"$f"
    is "$planned" "$inner" "$3: $2 finished its plan ($inner results; exit $(cat "$O/tests/$1.rc" 2>/dev/null || echo none), $(cat "$O/tests/$1.secs" 2>/dev/null || echo ?)s)"
}

# vm_check_poweroff WHAT: the VM finished by itself.
vm_check_poweroff() {
    if [ "$VMRC" = 0 ]; then
        pass "$1 powered off ($(vm_timing host_boot_to_done_s)s in the VM, $(vm_timing harness_total_s)s in all)"
    else
        fail "$1 powered off (run-in-vm exit $VMRC)"
        diag "$(grep -v '^==' "$TMP/harness.log" | tail -n 30)"
    fi
}
