#!/usr/bin/env bash
# `--workers 1` against `--workers 2` in the same run, count-based, printed as Markdown rows for
# BENCHMARKS.md ("Workers"): into the blackhole (the engine on one core against two) and, if a
# broker answers, into Kafka (one producer per worker). Runs alternate W=1 and W=2 so that a busy
# machine slows both alike; each figure is the median of RUNS runs, by wall clock, with the CPU
# time (user + system) of the same runs beside it.
#
#   scripts/bench-workers.sh                   (RUNS=5, 10^8 events into the blackhole)
#   scripts/broker.sh start && scripts/bench-workers.sh   (also Kafka: KAFKA_N=2,000,000 events)
#
# Settings (environment): RUNS, N (blackhole events), KAFKA_N, DEF_KAFKA_BOOTSTRAP (default
# 127.0.0.1:19092, scripts/broker.sh's), KAFKA=0 to skip Kafka.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-5}"
N="${N:-100000000}"
KAFKA_N="${KAFKA_N:-2000000}"
BOOTSTRAP="${DEF_KAFKA_BOOTSTRAP:-127.0.0.1:19092}"
DS=tests/fixtures/reference/datasource/assemblyline
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --quiet
DEF=target/release/def

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"

# "wall cpu" seconds of a command (cpu = user + system).
measure() { /usr/bin/time -f "%e %U %S" "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1, $2 + $3}'; }

# bench LABEL EVENTS CMD...: RUNS alternating runs with --workers 1 and 2; prints two rows and
# the ratio. Before each run, `before_run` (if defined) prepares it (e.g. a fresh topic).
bench() {
    local label=$1 events=$2
    shift 2
    local w1=() w2=()
    for _ in $(seq "$RUNS"); do
        for w in 1 2; do
            if declare -F before_run >/dev/null; then before_run; fi
            local m
            m=$(measure "$@" --workers "$w")
            if [ "$w" = 1 ]; then w1+=("$m"); else w2+=("$m"); fi
        done
    done
    local wall1 wall2 cpu1 cpu2
    wall1=$(printf '%s\n' "${w1[@]}" | cut -d' ' -f1 | median)
    wall2=$(printf '%s\n' "${w2[@]}" | cut -d' ' -f1 | median)
    cpu1=$(printf '%s\n' "${w1[@]}" | cut -d' ' -f2 | median)
    cpu2=$(printf '%s\n' "${w2[@]}" | cut -d' ' -f2 | median)
    for w in 1 2; do
        local wall cpu all
        if [ "$w" = 1 ]; then wall=$wall1 cpu=$cpu1 all="${w1[*]}"; else wall=$wall2 cpu=$cpu2 all="${w2[*]}"; fi
        echo "| $label, \`--workers $w\` | \`$* --workers $w\` | ${wall} s wall, ${cpu} s CPU (runs, wall cpu: ${all}) | $(awk "BEGIN {printf \"%.2f M\", $events / $wall / 1e6}") |"
    done
    echo "| $label: W=2 / W=1 | | | **$(awk "BEGIN {printf \"%.2f×\", $wall1 / $wall2}")** |"
}

# Other processes matter more here than anywhere: Linux gives each session a fair share, so
# while anything else is busy, two workers share one core. Say what the machine was doing.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "| what | command | median of $RUNS | events/s |"
echo "| --- | --- | --- | --- |"
cat > "$OUT/workers-blackhole.yaml" <<'EOF'
kind: sink
name: blackhole
spec:
  type: blackhole
  dataSourceRefs: [GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]
---
kind: simulation
name: countBased-10
spec: {type: countBased, steps: 100000000, maxConcurrentCases: 10}
EOF
bench "countBased → blackhole, maxConcurrentCases 10, $N events" "$N" \
    "$DEF" run "$DS" "$OUT/workers-blackhole.yaml" --seed 1 --steps "$N" --quiet
echo "load average after the blackhole: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

if [ "${KAFKA:-1}" = 0 ]; then exit 0; fi
if ! (exec 3<>"/dev/tcp/${BOOTSTRAP%:*}/${BOOTSTRAP##*:}") 2>/dev/null; then
    echo "no broker at $BOOTSTRAP: Kafka skipped (scripts/broker.sh start)" >&2
    exit 0
fi
# A fresh topic per run (the broker keeps records in memory), written into the sink config.
before_run() {
    local topic="bench.workers.$(date +%s%N)"
    cat > "$OUT/workers-kafka.yaml" <<EOF
kind: sink
name: kafka
spec:
  type: kafka
  bootstrapServer: "$BOOTSTRAP"
  topic: "$topic"
  dataSourceRefs: [GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]
---
kind: simulation
name: countBased-10
spec: {type: countBased, steps: 1000000, maxConcurrentCases: 10}
EOF
}
bench "countBased → Kafka (local Tansu), maxConcurrentCases 10, $KAFKA_N events" "$KAFKA_N" \
    "$DEF" run "$DS" "$OUT/workers-kafka.yaml" --seed 1 --steps "$KAFKA_N" --quiet
