# The lifecycle both local test services share (scripts/broker.sh for Kafka, scripts/mosquitto.sh
# for MQTT): a process started in its own group, a pid file, a bounded wait for its port, a stop
# that escalates to SIGKILL, and the command dispatch. Sourced, not run.
#
# The sourcing script sets NAME (for messages), HOST, PORT, ADDRESS, PID_FILE, LOG_FILE and
# TIMEOUT (seconds), and defines `install` and `start`; `start` launches the process in the
# background, then calls `wait_until_up`.

say() { echo "$NAME: $*" >&2; }

port_open() {
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Records the background process `$1` (what it is: `$2`) and waits, at most TIMEOUT seconds,
# for its port; prints the address when it is up. `$3` adds to the "is up" message.
wait_until_up() {
    local pid=$1 what=$2 extra=${3:-} waited=0
    echo "$pid" >"$PID_FILE"
    # Tenths of a second, so the bound is honest without needing `bc`.
    local limit=$((TIMEOUT * 10))
    until port_open; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$what exited during start-up; its log ($LOG_FILE):"
            tail -n 20 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            exit 1
        fi
        if ((waited >= limit)); then
            say "$what did not open $ADDRESS within ${TIMEOUT}s; its log ($LOG_FILE):"
            tail -n 20 "$LOG_FILE" >&2 || true
            stop
            exit 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    say "$what is up (pid $pid${extra:+, $extra}, log $LOG_FILE)"
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

# Runs the command named by the script's first argument.
dispatch() {
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
}

# Before a start: true (having printed the address) if the service is already up; exits if
# something else holds the port (`$1`: the variable that chooses another); false to go ahead.
already_up() {
    local pid
    if pid="$(running_pid)"; then
        if port_open; then
            say "already running (pid $pid)"
            echo "$ADDRESS"
            return 0
        fi
        say "pid $pid is alive but the port does not answer: restarting"
        stop
    fi
    if port_open; then
        say "something else already listens on $ADDRESS: stop it, or choose another $1"
        exit 1
    fi
    return 1
}
