#!/usr/bin/env bash
# What the live view costs a count-based run: N events (10^7) with the reference `ui` sink drawn
# in a 160x45 tmux terminal, against the same run into a blackhole sink over the same datasources
# (benches/configs/blackhole-ui.yaml), in the same terminal. Rounds alternate; prints every
# round, then the medians and their ratio, of the generation time the summary reports
# ("def: N events in X s"), of the whole process's wall time, and of its CPU time (user +
# system, all threads: on a busy machine the drawing thread competes with the generator for it).
#
# With THREADS=1 each run goes under `perf record -e task-clock` (a sample every 0.1 ms of CPU,
# per thread), and the rounds also print the CPU time of the generating (main) thread and of
# the drawing thread: the generator's CPU time is what the dashboard could cost generation,
# without the wait for a core that makes wall times swing on a busy machine.
#
#   ROUNDS=7 N=10000000 scripts/bench-ui.sh
#   THREADS=1 ROUNDS=21 scripts/bench-ui.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS="${ROUNDS:-7}"
N="${N:-10000000}"
THREADS="${THREADS:-0}"
R=tests/fixtures/reference
# DEF=/path/to/def measures another build (say, a baseline) as it is.
if [[ -z "${DEF:-}" ]]; then
    cargo build --release --quiet --bin def
    DEF="$PWD/target/release/def"
fi
SOCKET="def-bench-ui-$$"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=lib/bench.sh
source "scripts/lib/bench.sh"

PERF=""
[[ "$THREADS" == 1 ]] && PERF="perf record -q -e task-clock -c 100000 -s -o $TMP/perf.data"

# One run with sink config $1 in a fresh 160x45 tmux window; prints "run_s wall_s cpu_s"
# (and with THREADS=1 " main_ms draw_ms", the two threads' CPU time).
one() {
    rm -f "$TMP/done" "$TMP/wall" "$TMP/perf.data"
    SOCKET="def-bench-ui-$$-$RANDOM"
    tmux -L "$SOCKET" -f /dev/null new-session -d -x 160 -y 45 \
        "/usr/bin/time -f '%e %U %S' -o '$TMP/wall' $PERF '$DEF' run $R/datasource/assemblyline \
         $R/simulation/countbased.yaml '$1' --seed 1 --steps $N; touch '$TMP/done'; sleep 60"
    for _ in $(seq 1200); do [[ -e "$TMP/done" ]] && break; sleep 0.1; done
    [[ -e "$TMP/done" ]] || { echo "no end within 120 s" >&2; exit 1; }
    local screen
    screen="$(tmux -L "$SOCKET" capture-pane -p -J -S -)"
    local path
    path="$(tmux -L "$SOCKET" display-message -p '#{socket_path}')"
    tmux -L "$SOCKET" kill-server
    rm -f "$path"
    local secs
    secs="$(grep -o "def: $N events in [0-9.]* s" <<<"$screen" | awk '{print $5}')"
    [[ -n "$secs" ]] || { echo "no summary on the screen:" >&2; echo "$screen" >&2; exit 1; }
    local threads=""
    if [[ "$THREADS" == 1 ]]; then
        # Samples per thread name (the main thread is named after the binary): 0.1 ms each.
        threads="$(perf report -i "$TMP/perf.data" -s comm -n --stdio 2>/dev/null |
            awk '$3 == "def" {m = $2} $3 == "def-dashboard" {d = $2} END {printf " %.0f %.0f", m / 10, d / 10}')"
    fi
    awk -v run="$secs" -v threads="$threads" '{printf "%s %s %.2f%s\n", run, $1, $2 + $3, threads}' "$TMP/wall"
}

: >"$TMP/ui"
: >"$TMP/bh"
echo "round  ui run/wall/cpu (s)$([[ $THREADS == 1 ]] && echo ' main/draw (ms)')   blackhole run/wall/cpu (s)$([[ $THREADS == 1 ]] && echo ' main (ms)')"
for i in $(seq "$ROUNDS"); do
    u="$(one "$R/sink/sink-ui.yaml")"
    b="$(one benches/configs/blackhole-ui.yaml)"
    echo "$u" >>"$TMP/ui"
    echo "$b" >>"$TMP/bh"
    echo "$i      $u          $b"
done
ui_run=$(cut -d' ' -f1 "$TMP/ui" | median)
ui_wall=$(cut -d' ' -f2 "$TMP/ui" | median)
ui_cpu=$(cut -d' ' -f3 "$TMP/ui" | median)
bh_run=$(cut -d' ' -f1 "$TMP/bh" | median)
bh_wall=$(cut -d' ' -f2 "$TMP/bh" | median)
bh_cpu=$(cut -d' ' -f3 "$TMP/bh" | median)
echo "median: ui $ui_run s (wall $ui_wall s, cpu $ui_cpu s), blackhole $bh_run s (wall $bh_wall s, cpu $bh_cpu s)"
awk "BEGIN {printf \"ratio ui/blackhole: run %.3f, wall %.3f, cpu %.3f\n\", $ui_run / $bh_run, $ui_wall / $bh_wall, $ui_cpu / $bh_cpu}"
if [[ "$THREADS" == 1 ]]; then
    ui_main=$(cut -d' ' -f4 "$TMP/ui" | median)
    ui_draw=$(cut -d' ' -f5 "$TMP/ui" | median)
    bh_main=$(cut -d' ' -f4 "$TMP/bh" | median)
    echo "median CPU of the generating thread: ui $ui_main ms (drawing thread $ui_draw ms), blackhole $bh_main ms"
    awk "BEGIN {printf \"ratio ui/blackhole, generating thread's CPU: %.3f\n\", $ui_main / $bh_main}"
fi
