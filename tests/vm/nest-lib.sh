# tests/vm/nest-lib.sh — sourced by the scripts that run inside L1 (nest-containers.sh,
# nest-clients.sh): TAP helpers, a millisecond clock, kvm_amd loading and the check that no
# microVM container left anything behind. busybox sh.
#
# HULL_VM_APPEND=hullctr_debug=1 (L1's kernel command line): results on the console as they
# come (init.sh shows a test's output only at its end).
con() { [ -n "${hullctr_debug:-}" ] && echo "$*" >/dev/console; return 0; }
N=0 FAILED=0
ok() {
    N=$((N + 1))
    if [ "$1" = 0 ]; then _res="ok $N - $2"; else _res="not ok $N - $2"; FAILED=$((FAILED + 1)); fi
    echo "$_res"
    con "$_res"
}
# is/like return their result, so `is ... || diag "why"` adds the why to a failure only
nok() { [ "$1" != 0 ]; _r=$?; ok $_r "$2"; [ $_r = 0 ] || echo "#   expected a non-zero exit status, got 0"; return $_r; }
is() { [ "$1" = "$2" ]; r=$?; ok $r "$3"; [ $r = 0 ] || echo "#   got '$1', want '$2'"; return $r; }
like() { echo "$1" | grep -Eq -- "$2"; r=$?; ok $r "$3"; [ $r = 0 ] || echo "#   got '$(echo "$1" | head -c 600)', want /$2/"; return $r; }
diag() { echo "# $*"; con "# $*"; }
skip() { N=$((N + 1)); echo "ok $N # skip $*"; con "ok $N # skip $*"; }
now_ms() { read -r up _ </proc/uptime; echo "$up" | awk '{ printf "%d", $1 * 1000 }'; }

# kvm_amd (nested SVM with nested paging) and its dependencies, in modules.dep order
load_kvm() {
    for m in $(cat /hull/kmod/order); do
        [ -e /dev/kvm ] && break
        case $m in kvm-amd.ko) insmod /hull/kmod/$m npt=1 ;; *) insmod /hull/kmod/$m ;; esac || diag "insmod $m failed"
    done
}

. /hull/vm-helpers.sh   # vm_live_procs (tests/lib/vm-helpers.sh)
