#!/usr/bin/env bash
# The file sink's compression: a countBased run of the assembly line into a JSON-lines file,
# plain, gzip (levels 6 and 1) and zstd (3), against the command-line tools compressing the
# same bytes (dd for the plain copy), in the same run. Prints Markdown rows for BENCHMARKS.md
# ("File compression"). Each figure is the median of RUNS runs, wall time, output synced.
#
#   scripts/bench-compression.sh            (RUNS=3, 10 million events)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
N="${N:-10000000}"
DS=tests/fixtures/reference/datasource/assemblyline
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --quiet
DEF=target/release/def

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"
secs_of() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
# A shell command's wall time (its output synced), median of RUNS.
timed() { for _ in $(seq "$RUNS"); do rm -f "$2"; secs_of sh -c "$1 && sync -f '$2'"; done | median; }
mb() { awk "BEGIN {printf \"%.0f\", $(stat -c %s "$1") / 1e6}"; }
rate() { awk "BEGIN {printf \"%.1f M\", $N / $1 / 1e6}"; }

# A config writing to $OUT/$1, with the extra sink field $2 (if any).
config() {
    sed -e "s#/tmp/def-bench.jsonl#$OUT/$1#" \
        -e "s#^  path: .*#&${2:+\n  $2}#" benches/configs/jsonl.yaml > "$OUT/$1.yaml"
    echo "$OUT/$1.yaml"
}

echo "| what | command | median of $RUNS | events/s | file |"
echo "| --- | --- | --- | --- | --- |"
for variant in "events.jsonl|" "events.jsonl.gz|" "events-1.jsonl.gz|level: 1" "events.jsonl.zst|"; do
    file="${variant%%|*}"
    extra="${variant#*|}"
    cfg=$(config "$file" "$extra")
    cmd="$DEF run $DS $cfg --seed 1 --steps $N --quiet"
    secs=$(timed "$cmd" "$OUT/$file")
    echo "| def → \`$file\`${extra:+ ($extra)} | \`${cmd#"$DEF "}\` | ${secs} s | $(rate "$secs") | $(mb "$OUT/$file") MB |"
done

# Baselines: the plain file's bytes, copied by dd and compressed by the tools (one thread).
plain="$OUT/events.jsonl"
base() {
    secs=$(timed "$2" "$3")
    echo "| baseline: $1 | \`${2//$OUT\//}\` | ${secs} s | ($(rate "$secs") events' worth) | $(mb "$3") MB |"
}
base "dd, fsync" "dd if=$plain of=$OUT/copy bs=1M conv=fsync status=none" "$OUT/copy"
if command -v gzip >/dev/null; then
    base "gzip -6 ($(gzip --version | head -1))" "gzip -6 -c $plain > $OUT/tool.gz" "$OUT/tool.gz"
    base "gzip -1" "gzip -1 -c $plain > $OUT/tool-1.gz" "$OUT/tool-1.gz"
fi
if command -v zstd >/dev/null; then
    base "zstd -3 -T1 ($(zstd --version | grep -o 'v[0-9.]*'))" "zstd -q -3 -T1 -c $plain > $OUT/tool.zst" "$OUT/tool.zst"
fi
# The same bytes: what def compressed decompresses to the plain file.
cmp <(gzip -dc "$OUT/events.jsonl.gz") "$plain" && cmp <(zstd -qdc "$OUT/events.jsonl.zst") "$plain" \
    && echo "(checked: def's .gz and .zst decompress to the plain file's bytes)"
rm -f "$OUT"/events*.jsonl* "$OUT"/copy "$OUT"/tool*
