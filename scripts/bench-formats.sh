#!/usr/bin/env bash
# Events/s into a file per format (jsonl, csv, xes, ocel): count-based runs of the assembly line,
# each beside `dd` writing the same number of bytes (the disk's ceiling), all in the same run.
# Printed as Markdown rows for BENCHMARKS.md.
#
#   scripts/bench-formats.sh                        (RUNS=3, N=10000000 events, files in target/)
#   OUT=/dev/shm/def-bench scripts/bench-formats.sh  the same in memory (tmpfs): no disk, so each
#                                                   format's own cost
#
# The runs go round-robin — jsonl, csv, xes, ocel, then again — and each def run is followed by
# dd of the file it wrote, so a machine whose load changes meanwhile (a shared VM) weighs on
# every format alike; "× jsonl" is the median over the rounds of each round's ratio. A file is
# deleted before the next run: the largest (XES) is about 3 GB, and its copy by dd as much again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
N="${N:-10000000}"
DS=tests/fixtures/reference/datasource/assemblyline
OUT="${OUT:-target/bench-formats}"
FORMATS=(jsonl csv xes ocel)
mkdir -p "$OUT"
# DEF=/path/to/def measures another build (say, a baseline) as it is.
if [[ -z "${DEF:-}" ]]; then
    cargo build --release --quiet
    DEF=target/release/def
fi

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"
# Seconds (wall), max RSS (KiB) and CPU seconds (user + system) of a command.
measure() { /usr/bin/time -f "%e %M %U %S" "$@" 2>&1 >/dev/null | tail -1; }

declare -A secs cpu dd rss bytes ratio
for format in "${FORMATS[@]}"; do
    sed -e "s#/tmp/def-bench.jsonl#$OUT/events.$format#" -e "s#^  path: .*#&\n  format: $format#" \
        benches/configs/jsonl.yaml >"$OUT/$format.yaml"
    rss[$format]=0
done
for round in $(seq "$RUNS"); do
    for format in "${FORMATS[@]}"; do
        file="$OUT/events.$format"
        rm -f "$file"
        read -r t kib user sys < <(measure "$DEF" run "$DS" "$OUT/$format.yaml" --seed 1 --steps "$N" --quiet)
        secs[$format]+="$t "
        cpu[$format]+="$(awk "BEGIN {print $user + $sys}") "
        ((kib > rss[$format])) && rss[$format]=$kib
        bytes[$format]=$(stat -c %s "$file")
        rm -f "$OUT/copy"
        dd[$format]+="$(measure dd if="$file" of="$OUT/copy" bs=1M conv=fsync | cut -d' ' -f1) "
        rm -f "$OUT/copy" "$file"
        jsonl_t=$(echo "${secs[jsonl]}" | awk -v r="$round" '{print $r}')
        ratio[$format]+="$(awk "BEGIN {print $t / $jsonl_t}") "
    done
done

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
echo "| format | file | def, median of $RUNS | events/s | × jsonl's time | CPU (user + sys) | dd of the same bytes, fsync | def ÷ dd |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for format in "${FORMATS[@]}"; do
    s=$(med "${secs[$format]}")
    d=$(med "${dd[$format]}")
    echo "| $format | $((bytes[$format] / 1000000)) MB, max RSS $((rss[$format] / 1024)) MiB | ${s} s | $(awk "BEGIN {printf \"%.2f M\", $N / $s / 1e6}") | $(awk "BEGIN {printf \"%.2f\", $(med "${ratio[$format]}")}") | $(med "${cpu[$format]}") s | ${d} s | $(awk "BEGIN {printf \"%.1f\", $s / $d}") |"
done
echo
echo "Rounds (def seconds per format, in run order): $(for f in "${FORMATS[@]}"; do printf '%s: %s; ' "$f" "${secs[$f]% }"; done)"
echo "Command per format: \`$DEF run $DS $OUT/<format>.yaml --seed 1 --steps $N --quiet\`"
echo "(benches/configs/jsonl.yaml with \`format: <format>\`: countBased, maxConcurrentCases 5, all seven datasources into one file, synced)."
