#!/usr/bin/env bash
# The network stage's cost: countBased into the blackhole, the assembly line at 5 (and 1000)
# concurrent cases, with every network effect on (benches/configs/network-all.yaml) against
# the same run without a network, in the same invocation. Prints Markdown rows for
# BENCHMARKS.md ("Network effects"). Each figure is the median of RUNS runs: wall time, and
# CPU time (user + system, all threads: behind a network a countBased run uses two).
#
#   scripts/bench-network.sh            (RUNS=3, 20 million events)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
N="${N:-20000000}"
DS=tests/fixtures/reference/datasource/assemblyline
cargo build --release --quiet
DEF="${DEF:-target/release/def}"

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"
# "wall cpu" of one run.
secs_of() { /usr/bin/time -f "%e %U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1, $2 + $3}'; }
# "median-wall median-cpu" of RUNS runs, the two commands' runs alternating.
timed_pair() {
    local a b
    a=$(mktemp) b=$(mktemp)
    for _ in $(seq "$RUNS"); do
        secs_of "${off[@]}" >>"$a"
        secs_of "${on[@]}" >>"$b"
    done
    for f in "$a" "$b"; do
        echo "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median)"
    done
    rm -f "$a" "$b"
}

echo "| what | command | median wall / CPU of $RUNS | events/s (wall) | on / off, wall (CPU) |"
echo "| --- | --- | --- | --- | --- |"
for m in 5 1000; do
    off=("$DEF" run "$DS" "benches/configs/blackhole-$m.yaml" --seed 1 --steps "$N" --quiet)
    on=("${off[@]}" benches/configs/network-all.yaml)
    { read -r w_off c_off; read -r w_on c_on; } < <(timed_pair)
    r_off=$(awk "BEGIN {printf \"%.1f M\", $N / $w_off / 1e6}")
    r_on=$(awk "BEGIN {printf \"%.1f M\", $N / $w_on / 1e6}")
    echo "| off: maxConcurrentCases $m, $N events | \`${off[*]#"$DEF "}\` | ${w_off} s / ${c_off} s | $r_off | (baseline) |"
    echo "| on: every effect | \`… benches/configs/network-all.yaml\` | ${w_on} s / ${c_on} s | $r_on | $(awk "BEGIN {printf \"%.2f× (%.2f×)\", $w_off / $w_on, $c_off / $c_on}") |"
done
