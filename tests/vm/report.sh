#!/bin/bash
# tests/vm/report.sh — sourced by the integration tests that run a VM (tests/vm/run-in-vm.sh):
# vm_report_test NAME turns the TAP that test NAME printed inside the VM (split out by the
# harness into $O/tests/NAME.tap, .rc, .secs) into one result line for prove, with each failed
# inner assertion repeated as a diag. Needs tests/lib/tap.sh and $O (the harness's --out dir).
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
