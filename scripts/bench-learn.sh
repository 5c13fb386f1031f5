#!/usr/bin/env bash
# `def learn` speed in events/s on a 10^6-event log of the assembly line, as XES and as CSV
# (the same run's events), beside two baselines from the same run: `def run` writing that XES
# file, and pm4py reading it (`pm4py.read_xes`, if target/pm4py-venv exists). Markdown rows for
# BENCHMARKS.md.
#
#   scripts/bench-learn.sh              (RUNS=3, N=1000000 events, files in target/bench-learn)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-3}"
N="${N:-1000000}"
DS=tests/fixtures/reference/datasource/assemblyline
OUT="${OUT:-target/bench-learn}"
mkdir -p "$OUT"
cargo build --release --quiet
DEF=target/release/def

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"
# Seconds (wall), max RSS (KiB) and CPU seconds (user + system) of a command.
measure() { /usr/bin/time -f "%e %M %U %S" "$@" 2>&1 >/dev/null | tail -1; }

for format in xes csv; do
    cat >"$OUT/$format.yaml" <<YAML
kind: sink
name: out-$format
spec:
  type: file
  format: $format
  path: $OUT/log.$format
  dataSourceRefs: [GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]
---
kind: simulation
name: gen
spec: {type: countBased, steps: $N, maxConcurrentCases: 100, startTime: 2026-01-01T08:00:00Z}
YAML
done

declare -A wall cpu rss
for round in $(seq "$RUNS"); do
    read -r t kib user sys < <(measure "$DEF" run "$DS" "$OUT/xes.yaml" --seed 1 --quiet)
    wall[run]+="$t "; cpu[run]+="$(echo "$user + $sys" | bc) "; rss[run]+="$kib "
    "$DEF" run "$DS" "$OUT/csv.yaml" --seed 1 --quiet
    for format in xes csv; do
        read -r t kib user sys < <(measure "$DEF" learn "$OUT/log.$format" -o "$OUT/learned-$format" --force)
        wall[$format]+="$t "; cpu[$format]+="$(echo "$user + $sys" | bc) "; rss[$format]+="$kib "
    done
done
row() { # name, key, command
    local t c k
    t=$(tr ' ' '\n' <<<"${wall[$2]}" | grep . | median)
    c=$(tr ' ' '\n' <<<"${cpu[$2]}" | grep . | median)
    k=$(tr ' ' '\n' <<<"${rss[$2]}" | grep . | median)
    printf '| %s | `%s` | %s s (CPU %s s), max RSS %s MiB | **%s** |\n' "$1" "$3" "$t" "$c" \
        "$((k / 1024))" "$(echo "$N / $t" | bc)"
}
echo "| what | command | median of $RUNS | events/s (wall) |"
echo "| --- | --- | --- | --- |"
row "learn XES ($(du -m "$OUT/log.xes" | cut -f1) MB)" xes "def learn $OUT/log.xes -o DIR --force"
row "learn CSV ($(du -m "$OUT/log.csv" | cut -f1) MB)" csv "def learn $OUT/log.csv -o DIR --force"
row "baseline: def run writing that XES" run "def run $DS $OUT/xes.yaml --seed 1 --quiet"
PY=target/pm4py-venv/bin/python
if [ -x "$PY" ]; then
    read -r t kib user sys < <(measure "$PY" -c "import sys, pm4py; pm4py.read_xes(sys.argv[1])" "$OUT/log.xes")
    printf '| baseline: pm4py %s read_xes of that XES (1 run) | `python -c "pm4py.read_xes(...)"` | %s s (CPU %s s), max RSS %s MiB | **%s** |\n' \
        "$("$PY" -c 'import pm4py; print(pm4py.__version__)' 2>/dev/null | tail -1)" "$t" \
        "$(echo "$user + $sys" | bc)" "$((kib / 1024))" "$(echo "$N / $t" | bc)"
fi
