# tests/lib/tap.sh — a tiny TAP producer for bash integration tests (sourced).
#
#   plan N              print the plan up front (or let done_testing print it at the end)
#   skip_all REASON     print "1..0 # SKIP REASON" and exit 0
#   ok RC DESC          pass when RC is 0              e.g.  cmd; ok $? "cmd works"
#   nok RC DESC         pass when RC is not 0          e.g.  cmd; nok $? "cmd fails"
#   is GOT WANT DESC    string equality
#   isnt GOT NOTWANT DESC
#   like GOT ERE DESC   GOT matches the extended regex ERE (grep -E)
#   unlike GOT ERE DESC
#   cmp_ok A OP B DESC  numeric test, OP one of -eq -ne -lt -le -gt -ge
#   pass DESC / fail DESC
#   skip REASON [N]     N (default 1) "ok # SKIP" lines
#   diag MSG... / note MSG...   comments (diag goes to stderr like Test::More, note to stdout)
#   bail_out REASON
#   TAP_TODO=REASON     while set, results carry "# TODO REASON" (a known deviation: prove does
#                       not count such failures); todo_for RUNTIME REASON sets it only when the
#                       runtime under test is RUNTIME (see fixtures.sh), end_todo clears it
#   done_testing        prints the plan if none was printed, the totals, and exits
#                       with the number of failures (0 = all passed)
# Helpers return 0 on pass and 1 on failure, so a test can do `is ... || diag "$out"`.

TAP_N=0
TAP_FAILED=0
TAP_SKIPPED=0
TAP_PLANNED=
TAP_TODO=

plan() {
    TAP_PLANNED=$1
    echo "1..$1"
}

skip_all() {
    echo "1..0 # SKIP $*"
    TAP_PLANNED=0
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    exit 255
}

_tap_result() { # _tap_result PASS(0/1) DESC
    TAP_N=$((TAP_N + 1))
    local desc=${2//$'\n'/ } todo=
    [ -n "$TAP_TODO" ] && todo=" # TODO $TAP_TODO"
    if [ "$1" = 0 ]; then
        echo "ok $TAP_N - $desc$todo"
        return 0
    fi
    [ -z "$todo" ] && TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $desc$todo"
    # Where the failing assertion is: the first caller outside this file.
    local i
    for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
        case ${BASH_SOURCE[$i]} in
        */tap.sh) ;;
        *) echo "#   Failed test at ${BASH_SOURCE[$i]} line ${BASH_LINENO[$((i - 1))]}." >&2; break ;;
        esac
    done
    return 1
}

pass() { _tap_result 0 "$1"; }
fail() { _tap_result 1 "$1"; }

ok() {
    local rc=$1
    shift
    if [ "$rc" = 0 ]; then _tap_result 0 "$*"; else _tap_result 1 "$*" || { diag "  exit status: $rc"; return 1; }; fi
}

nok() {
    local rc=$1
    shift
    if [ "$rc" != 0 ]; then _tap_result 0 "$*"; else _tap_result 1 "$*" || { diag "  expected a non-zero exit status, got 0"; return 1; }; fi
}

is() {
    if [ "$1" == "$2" ]; then _tap_result 0 "$3"; return 0; fi
    _tap_result 1 "$3"
    diag "         got: '$1'"
    diag "    expected: '$2'"
    return 1
}

isnt() {
    if [ "$1" != "$2" ]; then _tap_result 0 "$3"; return 0; fi
    _tap_result 1 "$3"
    diag "         got: '$1'"
    diag "    expected: anything else"
    return 1
}

like() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; return 0; fi
    _tap_result 1 "$3"
    diag "                  '$1'"
    diag "    doesn't match '$2'"
    return 1
}

unlike() {
    if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; return 0; fi
    _tap_result 1 "$3"
    diag "                  '$1'"
    diag "          matches '$2'"
    return 1
}

cmp_ok() {
    if [[ "$1" =~ ^-?[0-9]+$ && "$3" =~ ^-?[0-9]+$ ]] && [ "$1" "$2" "$3" ]; then
        _tap_result 0 "$4"
        return 0
    fi
    _tap_result 1 "$4"
    diag "    '$1' $2 '$3' is false"
    return 1
}

skip() {
    local reason=$1 n=${2:-1} i
    for ((i = 0; i < n; i++)); do
        TAP_N=$((TAP_N + 1))
        TAP_SKIPPED=$((TAP_SKIPPED + 1))
        echo "ok $TAP_N # SKIP $reason"
    done
}

diag() {
    local line
    printf '%s\n' "$*" | while IFS= read -r line; do echo "# $line"; done >&2
}

note() {
    local line
    printf '%s\n' "$*" | while IFS= read -r line; do echo "# $line"; done
}

done_testing() {
    if [ -z "$TAP_PLANNED" ]; then
        echo "1..$TAP_N"
    elif [ "$TAP_PLANNED" != "$TAP_N" ]; then
        diag "planned $TAP_PLANNED tests but ran $TAP_N"
        TAP_FAILED=$((TAP_FAILED + 1))
    fi
    echo "# $TAP_N tests, $((TAP_N - TAP_FAILED - TAP_SKIPPED)) passed, $TAP_FAILED failed, $TAP_SKIPPED skipped"
    TAP_DONE=1
    local rc=$TAP_FAILED
    [ "$rc" -gt 254 ] && rc=254
    exit "$rc"
}

end_todo() { TAP_TODO=; }
