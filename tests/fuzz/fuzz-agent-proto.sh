#!/bin/sh
# Build and run the host <-> agent frame decoder fuzzer (tests/fuzz/fuzz_agent_proto.c)
# for N seconds:   tests/fuzz/fuzz-agent-proto.sh [seconds]
# Seeds (committed): tests/fuzz/corpus/agent_proto/ (one byte of mode, then a stream of
# frames). What the fuzzer learns goes to build/fuzz/corpus-agent-proto/; crash inputs are
# moved to build/fuzz/agent-proto-crashers/: turn each into a case in
# tests/unit/test_vm_agent_proto.c once fixed.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus-agent-proto" "$out/agent-proto-crashers"
command -v clang >/dev/null || { echo "fuzz-agent-proto: clang not installed" >&2; exit 1; }
clang -g -O1 -std=gnu17 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    tests/fuzz/fuzz_agent_proto.c vm/proto/agent_proto.c vm/proto/agent_proto_enc.c base/error.c -o "$out/fuzz_agent_proto"
rc=0
"$out/fuzz_agent_proto" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/agent-proto-" -print_final_stats=1 \
    "$out/corpus-agent-proto" tests/fuzz/corpus/agent_proto || rc=$?
found=0
for f in "$out"/agent-proto-crash-* "$out"/agent-proto-leak-* "$out"/agent-proto-timeout-* "$out"/agent-proto-oom-*; do
    [ -e "$f" ] || continue
    mv "$f" "$out/agent-proto-crashers/"
    found=$((found + 1))
done
[ "$found" -eq 0 ] && [ "$rc" -eq 0 ] || { echo "fuzz-agent-proto: $found problem input(s), exit $rc" >&2; exit 1; }
echo "fuzz-agent-proto: no crashes in ${secs}s"
