#!/usr/bin/env bash
# A real MQTT-XES consumer reads def's MQTT sink: pyBeamline 1.1.2's `mqttxes_source` subscribes
# on the test broker, `def run` sends the bundled example's first events through an `mqtt` sink
# (and the same events to a file sink), and the check passes if pyBeamline received every event
# with the process, case and activity the file says. Not part of scripts/test.sh: pyBeamline
# brings pm4py, pandas and river (a few hundred MB), installed into a virtual environment under
# target/pybeamline/ on first use.
#
#   scripts/pybeamline-check.sh [events=20]
#
# Uses scripts/mosquitto.sh (started if it is not running, and then stopped again).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

EVENTS="${1:-20}"
DIR="target/pybeamline"
VENV="$DIR/venv"
say() { echo "pybeamline-check.sh: $*" >&2; }

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import pybeamline' 2>/dev/null; then
    say "installing pybeamline==1.1.2 into $VENV"
    python3 -m venv "$VENV"
    timeout 900 "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        --only-binary :all: "pybeamline==1.1.2" >&2
fi

if ! scripts/mosquitto.sh status 2>/dev/null; then
    trap 'scripts/mosquitto.sh stop || true' EXIT
    scripts/mosquitto.sh start >/dev/null
fi
address="$(scripts/mosquitto.sh address)"
host="${address%:*}" port="${address##*:}"

timeout 900 cargo build --quiet --bin def
run="$DIR/run"
rm -rf "$run" && mkdir -p "$run"
base="pybeamline-check/$$"
# The bundled example without its console sink, plus an mqtt and a file sink.
python3 - "$run" "$host" "$port" "$base" <<'PY'
import sys
run, host, port, base = sys.argv[1:]
docs = open("examples/assembly-line.yaml").read().split("\n---\n")
open(f"{run}/chain.yaml", "w").write("\n---\n".join(d for d in docs if "kind: sink" not in d))
refs = '["GoodsDelivery", "MaterialPreparation", "AssemblyLineSetup", "Assembling", "QualityControl", "Packaging", "Shipping"]'
open(f"{run}/sinks.yaml", "w").write(
    f"kind: sink\nname: mq\nspec:\n  type: mqtt\n  host: \"{host}\"\n  port: {port}\n"
    f"  baseTopic: \"{base}\"\n  dataSourceRefs: {refs}\n---\n"
    f"kind: sink\nname: file\nspec:\n  type: file\n  path: \"{run}/events.jsonl\"\n"
    f"  dataSourceRefs: {refs}\n")
PY

# The consumer: subscribes, says so, and prints what it received once it has EVENTS of them
# (or after 30 s).
"$VENV/bin/python" - "$host" "$port" "$base" "$EVENTS" >"$run/received.txt" 2>"$run/consumer.log" <<'PY' &
import json, sys, threading
from pybeamline.sources import mqttxes_source
host, port, base, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
got, done = [], threading.Event()
def on_next(e):
    got.append(e)
    if len(got) >= n:
        done.set()
subscription = mqttxes_source(host, port, base).subscribe(on_next=on_next)
done.wait(30)
for e in got:
    print(json.dumps([e.get_process_name(), e.get_trace_name(), e.get_event_name(),
                      e.event_attributes.get("timestamp")]))
PY
consumer=$!
# pyBeamline prints "Connected to MQTT broker" once it has subscribed.
for _ in $(seq 100); do
    grep -q "Connected" "$run/received.txt" "$run/consumer.log" 2>/dev/null && break
    sleep 0.1
done
sleep 0.5
target/debug/def run --quiet --seed 7 --steps "$EVENTS" "$run"
wait "$consumer" || true

python3 - "$run" "$EVENTS" <<'PY'
import json, sys
run, n = sys.argv[1], int(sys.argv[2])
expected = []
for line in open(f"{run}/events.jsonl"):
    e = json.loads(line)
    expected.append(["countBasedSimulation", e["caseid"], e["activity"], e["timestamp"]])
received = [json.loads(l) for l in open(f"{run}/received.txt") if l.startswith("[")]
ok = sorted(received) == sorted(expected) and len(received) == n
print(f"pybeamline-check.sh: pyBeamline 1.1.2 read {len(received)} of {n} events; "
      + ("process, case, activity and timestamp match the file sink" if ok else "MISMATCH"),
      file=sys.stderr)
for r in received[:3]:
    print("  ", r, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
