#!/usr/bin/env bash
# An MQTT broker for def's MQTT tests and benchmarks: Eclipse Mosquitto (Debian package
# `mosquitto`), run on a loopback port with a config file of its own under target/, without
# persistence, so every start is a clean broker.
#
#   scripts/mosquitto.sh install   apt-get install mosquitto (and mosquitto-clients, whose
#                                  mosquitto_pub is the benchmark's baseline) if missing
#   scripts/mosquitto.sh start     install if needed, write the config, start in the background,
#                                  wait until the port answers (bounded), print host:port
#   scripts/mosquitto.sh stop      stop it: SIGTERM, then SIGKILL after 5 s (also after a start
#                                  that failed half-way)
#   scripts/mosquitto.sh status    say whether it runs, and where
#   scripts/mosquitto.sh address   print host:port
#
# Settings (environment):
#   DEF_MQTT_HOST         address to listen on; the tests read the same variable
#                         (default 127.0.0.1)
#   DEF_MQTT_PORT         port (default 18830, off MQTT's usual 1883 so a developer's own broker
#                         is left alone); the tests read the same variable
#   DEF_MQTT_DIR          where the config, pid file and log go (default <repo>/target/mosquitto)
#   DEF_MQTT_TIMEOUT      seconds to wait for the port on start (default 20)
#   DEF_MOSQUITTO         path to a mosquitto binary, to skip the package
#
# The broker queues without limit for its subscribers (`max_queued_messages 0`): a test
# subscriber that falls behind for a moment must not lose messages, or counts would not be
# exact. That is a test setting, not a recommendation for production.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST="${DEF_MQTT_HOST:-127.0.0.1}"
PORT="${DEF_MQTT_PORT:-18830}"
ADDRESS="$HOST:$PORT"
DIR="${DEF_MQTT_DIR:-$ROOT/target/mosquitto}"
CONF_FILE="$DIR/mosquitto.conf"
PID_FILE="$DIR/mosquitto.pid"
LOG_FILE="$DIR/mosquitto.log"
TIMEOUT="${DEF_MQTT_TIMEOUT:-20}"

say() { echo "mosquitto.sh: $*" >&2; }

# Prints the mosquitto binary's path, or nothing.
mosquitto_path() {
    if [[ -n "${DEF_MOSQUITTO:-}" ]]; then
        echo "$DEF_MOSQUITTO"
        return
    fi
    command -v mosquitto 2>/dev/null || { [[ -x /usr/sbin/mosquitto ]] && echo /usr/sbin/mosquitto; } || true
}

install() {
    local bin
    bin="$(mosquitto_path)"
    if [[ -n "$bin" && -x "$bin" ]] && command -v mosquitto_pub >/dev/null 2>&1; then
        say "mosquitto is installed: $bin"
        return
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        say "no mosquitto, and no apt-get to install it: install Eclipse Mosquitto, or set DEF_MOSQUITTO"
        exit 1
    fi
    local sudo=""
    [[ "$(id -u)" != 0 ]] && sudo="sudo"
    say "installing mosquitto and mosquitto-clients with apt-get"
    # Bounded: a stuck package mirror fails the step instead of hanging it.
    timeout 300 $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive timeout 300 $sudo apt-get install -y -qq \
        mosquitto mosquitto-clients >&2
    bin="$(mosquitto_path)"
    if [[ -z "$bin" || ! -x "$bin" ]]; then
        say "apt-get finished, but no mosquitto binary was found"
        exit 1
    fi
    say "mosquitto is installed: $bin"
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

write_config() {
    mkdir -p "$DIR"
    cat >"$CONF_FILE" <<EOF
# Written by scripts/mosquitto.sh: def's test broker. Rewritten on every start.
listener $PORT $HOST
allow_anonymous true
persistence false
# Never drop a queued message for a slow subscriber (exact counts in tests).
max_queued_messages 0
max_queued_bytes 0
# The log goes to stderr, which the script sends to $LOG_FILE.
log_dest stderr
log_type error
log_type warning
log_type notice
connection_messages false
EOF
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
        say "something else already listens on $ADDRESS: stop it, or choose another DEF_MQTT_PORT"
        exit 1
    fi
    install
    local bin
    bin="$(mosquitto_path)"
    write_config
    # setsid: its own process group, so stop can end it without touching the caller.
    setsid "$bin" -c "$CONF_FILE" >"$LOG_FILE" 2>&1 </dev/null &
    echo $! >"$PID_FILE"
    local pid=$! waited=0
    # Tenths of a second, so the bound is honest without needing `bc`.
    local limit=$((TIMEOUT * 10))
    until port_open; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "mosquitto exited during start-up; its log ($LOG_FILE):"
            tail -n 20 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            exit 1
        fi
        if ((waited >= limit)); then
            say "mosquitto did not open $ADDRESS within ${TIMEOUT}s; its log ($LOG_FILE):"
            tail -n 20 "$LOG_FILE" >&2 || true
            stop
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    say "mosquitto is up (pid $pid, config $CONF_FILE, log $LOG_FILE)"
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
