#!/bin/sh
# Build and run the virtqueue fuzzer (tests/fuzz/fuzz_virtq.c) for N seconds:
#   tests/fuzz/fuzz-virtq.sh [seconds]
# Corpus (learned, kept between runs): build/fuzz/corpus-virtq/. Crash inputs are
# moved to build/fuzz/virtq-crashers/: turn each into a case in
# tests/unit/test_vm_virtq.c (or test_vm_blk.c) once fixed.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build/fuzz
mkdir -p "$out" "$out/corpus-virtq" "$out/virtq-crashers"
clang -g -O1 -std=gnu17 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    tests/fuzz/fuzz_virtq.c vm/core/mem.c vm/devices/virtio/virtq.c vm/devices/virtio/dev.c vm/devices/virtio/blk.c \
    vm/devices/virtio/console.c vm/devices/virtio/rng.c base/error.c -lpthread -o "$out/fuzz_virtq"
# Seeds: one valid request per mode (see the input layout in fuzz_virtq.c),
# so the fuzzer starts from working rings instead of zeros.
if [ -z "$(ls "$out/corpus-virtq" 2>/dev/null)" ] && command -v python3 >/dev/null; then
python3 - "$out/corpus-virtq" <<'PY'
import struct, sys
def seed(mode, qlog, feat, descs, heads, extra={}):
    ram = bytearray(0x2000)
    for i, (a, l, f, n) in enumerate(descs):
        ram[16*i:16*i+16] = struct.pack('<QIHH', a, l, f, n)
    ram[0x402:0x404] = struct.pack('<H', len(heads))
    for i, h in enumerate(heads):
        ram[0x404+2*i:0x406+2*i] = struct.pack('<H', h)
    for off, b in extra.items():
        ram[off:off+len(b)] = b
    return bytes([mode, qlog, feat]) + bytes(ram)
seeds = {
    'raw': seed(0, 2, 3, [(0x1000, 16, 1, 1), (0x1100, 32, 2, 0)], [0]),
    'indirect': seed(0, 2, 3, [(0x1800, 48, 4, 0)], [0], {0x1800: struct.pack('<QIHHQIHHQIHH',
        0x1000, 16, 1, 1, 0x1100, 16, 3, 2, 0x1200, 8, 2, 0)}),
    'blk-read': seed(1, 2, 3, [(0x1000, 16, 1, 1), (0x1200, 512, 3, 2), (0x1f00, 1, 2, 0)], [0],
        {0x1000: struct.pack('<IIQ', 0, 0, 1)}),
    'blk-write': seed(1, 2, 3, [(0x1000, 16, 1, 1), (0x1200, 512, 1, 2), (0x1f00, 1, 2, 0)], [0],
        {0x1000: struct.pack('<IIQ', 1, 0, 1)}),
    'blk-id': seed(1, 2, 0, [(0x1000, 16, 1, 1), (0x1200, 20, 3, 2), (0x1f00, 1, 2, 0)], [0],
        {0x1000: struct.pack('<IIQ', 8, 0, 0)}),
    'console': seed(2, 2, 3, [(0x1000, 8, 0, 0), (0x1100, 64, 2, 0), (0x1010, 8, 0, 0), (0x1020, 8, 0, 0)],
        [0, 1, 2, 3], {0x1000: struct.pack('<IHH', 0, 0, 1), 0x1010: struct.pack('<IHH', 1, 3, 1),
                       0x1020: struct.pack('<IHH', 1, 6, 1)}),
    'rng': seed(3, 2, 2, [(0x1000, 64, 2, 0)], [0]),
}
for name, data in seeds.items():
    open(sys.argv[1] + '/seed-' + name, 'wb').write(data)
PY
fi
rc=0
"$out/fuzz_virtq" -max_total_time="$secs" -max_len=8448 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/virtq-" -print_final_stats=1 "$out/corpus-virtq" || rc=$?
found=0
for f in "$out"/virtq-crash-* "$out"/virtq-leak-* "$out"/virtq-timeout-* "$out"/virtq-oom-*; do
    [ -e "$f" ] || continue
    mv "$f" "$out/virtq-crashers/"
    found=$((found + 1))
done
[ "$found" -eq 0 ] && [ "$rc" -eq 0 ] || { echo "fuzz-virtq: $found problem input(s), exit $rc" >&2; exit 1; }
echo "fuzz-virtq: no crashes in ${secs}s"
