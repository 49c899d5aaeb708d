#!/bin/sh
# Fuzz the config.json parser with libFuzzer for N seconds (default 60):
#   tests/fuzz/run.sh [seconds]
# Seeds: tests/fuzz/corpus/spec/ (valid configs, committed); what the fuzzer
# learns goes to build/fuzz/corpus/ (kept between runs, not committed). Any crash input
# is copied to tests/unit/data/spec/crashers/, which tests/unit/test_spec.c
# replays on every `make check`: fix the bug, keep the file.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build/fuzz
seeds=tests/fuzz/corpus/spec
corpus=$out/corpus
crashers=tests/unit/data/spec/crashers
mkdir -p "$out" "$corpus" "$crashers"

command -v clang >/dev/null || { echo "run.sh: clang not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
pkgs="yajl libcap"
# shellcheck disable=SC2046
clang -g -O1 -std=gnu17 -D_GNU_SOURCE -I. $(pkg-config --cflags $pkgs) \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    tests/fuzz/fuzz_spec.c base/arena.c base/spec_json.c base/spec_parse*.c \
    base/spec_names.c base/spec_validate.c base/spec_default.c base/json_gen.c base/hooks.c base/error.c \
    -o "$out/fuzz_spec" $(pkg-config --libs $pkgs)

# The full fixture (every field) is a seed too.
cp tests/unit/data/spec/full/config.json "$corpus/seed-full-fixture.json"

rc=0
"$out/fuzz_spec" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -dict=tests/fuzz/spec.dict -artifact_prefix="$out/" -print_final_stats=1 "$corpus" "$seeds" || rc=$?

found=0
for f in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
    [ -e "$f" ] || continue
    mv "$f" "$crashers/"
    found=$((found + 1))
done
if [ "$found" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "run.sh: fuzzer found $found problem input(s) (exit $rc); moved to $crashers/" >&2
    exit 1
fi
echo "run.sh: no crashes in ${secs}s"

# The virtqueue / virtio-blk / console request parsing of the microVM engine.
"$(dirname "$0")/fuzz-virtq.sh" "${1:-60}"

# The host <-> guest agent frame decoder (issue 6).
"$(dirname "$0")/fuzz-agent-proto.sh" "${1:-60}"
