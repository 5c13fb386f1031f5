#!/usr/bin/env bash
# The network stage's cost: countBased into the blackhole, the assembly line at 5 (and 1000)
# concurrent cases, with every network effect on (benches/configs/network-all.yaml) against
# the same run without a network, in the same invocation. Prints Markdown rows for
# BENCHMARKS.md ("Network effects"). Each figure is the median of RUNS runs, wall time.
#
#   scripts/bench-network.sh            (RUNS=3, 20 million events)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
N="${N:-20000000}"
DS=tests/fixtures/reference/datasource/assemblyline
cargo build --release --quiet
DEF="${DEF:-target/release/def}"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs_of() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
timed() { for _ in $(seq "$RUNS"); do secs_of "$@"; done | median; }

echo "| what | command | median of $RUNS | events/s | on / off |"
echo "| --- | --- | --- | --- | --- |"
for m in 5 1000; do
    off=("$DEF" run "$DS" "benches/configs/blackhole-$m.yaml" --seed 1 --steps "$N" --quiet)
    on=("${off[@]}" benches/configs/network-all.yaml)
    s_off=$(timed "${off[@]}")
    s_on=$(timed "${on[@]}")
    r_off=$(awk "BEGIN {printf \"%.1f M\", $N / $s_off / 1e6}")
    r_on=$(awk "BEGIN {printf \"%.1f M\", $N / $s_on / 1e6}")
    echo "| off: maxConcurrentCases $m, $N events | \`${off[*]#"$DEF "}\` | ${s_off} s | $r_off | (baseline) |"
    echo "| on: every effect | \`… benches/configs/network-all.yaml\` | ${s_on} s | $r_on | $(awk "BEGIN {printf \"%.2f×\", $s_off / $s_on}") |"
done
