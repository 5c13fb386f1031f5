#!/usr/bin/env bash
# Checks a real-time stream over every 10 s window: runs `def run` as a wall-clock stream into a
# JSON-lines file for SECS seconds at RATE events/s, counts events per wall-clock second from
# their timestamps, and prints the smallest and largest 10 s window against RATE * 10.
#
#   scripts/stream-windows.sh RATE [SECS]     (default 30 s; needs RATE * SECS * ~170 bytes of disk)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RATE="$1"
SECS="${2:-30}"
OUT="${TMPDIR:-/tmp}/def-windows"
mkdir -p "$OUT"
cat > "$OUT/stream.yaml" <<YAML
kind: sink
name: file
spec:
  type: file
  path: $OUT/events.jsonl
  dataSourceRefs: [GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]
---
kind: simulation
name: windows
spec:
  type: stream
  clock: wall
  timestampFormat: iso8601
  maxConcurrentCases: 5
  load: {loadBehavior: constant, load: $RATE}
YAML
cargo build --release --quiet
target/release/def run tests/fixtures/reference/datasource/assemblyline "$OUT/stream.yaml" \
    --seed 1 --duration "$SECS" --quiet
# Events per wall-clock second (the first and last, partial, seconds are dropped).
cut -c15-33 "$OUT/events.jsonl" | uniq -c | awk '{print $1}' | sed '1d;$d' > "$OUT/per-second"
awk -v rate="$RATE" '
    { c[NR] = $1 }
    END {
        min = 1e18; max = 0
        for (i = 1; i + 9 <= NR; i++) {
            s = 0; for (j = i; j < i + 10; j++) s += c[j]
            if (s < min) min = s; if (s > max) max = s
        }
        want = rate * 10
        printf "rate %d/s, %d full seconds, %d windows of 10 s: min %d (%.3f%%), max %d (%.3f%%) of %d\n",
            rate, NR, NR - 9, min, 100 * min / want, max, 100 * max / want, want
    }' "$OUT/per-second"
rm -f "$OUT/events.jsonl"
