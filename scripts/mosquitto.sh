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
NAME=mosquitto.sh
# shellcheck source=scripts/lib/service.sh
source "$ROOT/scripts/lib/service.sh"

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
    if already_up DEF_MQTT_PORT; then
        return
    fi
    install
    local bin
    bin="$(mosquitto_path)"
    write_config
    # setsid: its own process group, so stop can end it without touching the caller.
    setsid "$bin" -c "$CONF_FILE" >"$LOG_FILE" 2>&1 </dev/null &
    wait_until_up $! mosquitto "config $CONF_FILE"
}

dispatch "$@"
