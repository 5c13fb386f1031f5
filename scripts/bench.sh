#!/usr/bin/env bash
# Whole-process benchmarks of count-based runs, printed as Markdown rows for BENCHMARKS.md.
# Each figure is the median of RUNS runs; the baseline rows are measured in the same run.
#
#   scripts/bench.sh            (RUNS=3, 100 million events into the blackhole)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
N="${N:-100000000}"
FILE_N="${FILE_N:-10000000}"
DS=tests/fixtures/reference/datasource/assemblyline
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --quiet
DEF=target/release/def

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"

# Seconds (wall) and max RSS (KiB) of a command, as "secs kib".
measure() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }

echo "| what | command | median of $RUNS | events/s |"
echo "| --- | --- | --- | --- |"
for m in 5 1000; do
    cmd=("$DEF" run "$DS" "benches/configs/blackhole-$m.yaml" --seed 1 --steps "$N" --quiet)
    secs=$(for _ in $(seq "$RUNS"); do measure "${cmd[@]}" | cut -d' ' -f1; done | median)
    rss=$(measure "${cmd[@]}" | cut -d' ' -f2)
    echo "| countBased → blackhole, maxConcurrentCases $m, $N events | \`${cmd[*]}\` | ${secs} s, max RSS ${rss} KiB | $(awk "BEGIN {printf \"%.1f M\", $N / $secs / 1e6}") |"
done

sed "s#/tmp/def-bench.jsonl#$OUT/events.jsonl#" benches/configs/jsonl.yaml > "$OUT/jsonl.yaml"
cmd=("$DEF" run "$DS" "$OUT/jsonl.yaml" --seed 1 --steps "$FILE_N" --quiet)
secs=$(for _ in $(seq "$RUNS"); do rm -f "$OUT/events.jsonl"; measure "${cmd[@]}" | cut -d' ' -f1; done | median)
bytes=$(stat -c %s "$OUT/events.jsonl")
echo "| countBased → JSONL file, $FILE_N events ($((bytes / 1000000)) MB, synced) | \`${cmd[*]}\` | ${secs} s | $(awk "BEGIN {printf \"%.1f M\", $FILE_N / $secs / 1e6}") |"
# Baseline: the same bytes written to a new file by dd, and synced: the disk's ceiling.
secs=$(for _ in $(seq "$RUNS"); do rm -f "$OUT/copy"; measure dd if="$OUT/events.jsonl" of="$OUT/copy" bs=1M conv=fsync | cut -d' ' -f1; done | median)
echo "| baseline: dd of the same file, fsync | \`dd if=events.jsonl of=copy bs=1M conv=fsync\` | ${secs} s | ($(awk "BEGIN {printf \"%.1f M\", $FILE_N / $secs / 1e6}") events' worth) |"
rm -f "$OUT/copy" "$OUT/events.jsonl"

# Loading and validating the reference configs, in-process (the binary's start-up excluded).
cargo bench --quiet --bench engine -- --warm-up-time 1 --measurement-time 3 config/ 2>/dev/null | grep -E "^config|time:" | paste - - | sed 's/ \+/ /g'
