#!/usr/bin/env bash
# pm4py for the format tests (tests/formats.rs): a virtualenv cached under target/, with pm4py
# installed from PyPI on first use and reused after that.
#
#   scripts/pm4py.sh install   create the virtualenv and install pm4py if not there yet
#                              (bounded in time), then print the venv's python
#   scripts/pm4py.sh python    print the venv's python if pm4py is installed (exit 1 if not)
#
# Settings (environment):
#   DEF_PM4PY_VENV      where the virtualenv lives (default <repo>/target/pm4py-venv)
#   DEF_PM4PY_TIMEOUT   seconds the install may take (default 900)
#
# The tests read DEF_PM4PY (the venv's python); scripts/test.sh exports it.
set -euo pipefail

PACKAGE="pm4py==2.7.23"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DEF_PM4PY_VENV:-$ROOT/target/pm4py-venv}"
TIMEOUT="${DEF_PM4PY_TIMEOUT:-900}"
PY="$VENV/bin/python"

say() { echo "pm4py.sh: $*" >&2; }

system_python() {
    if command -v python3 >/dev/null 2>&1; then echo python3; else echo python; fi
}

# True if the venv's python imports the pinned pm4py.
installed() {
    [[ -x "$PY" ]] && "$PY" -c 'import pm4py, sys; sys.exit(pm4py.__version__ != "'"${PACKAGE#*==}"'")' 2>/dev/null
}

install() {
    if installed; then
        say "$PACKAGE is installed: $PY"
        echo "$PY"
        return
    fi
    if [[ ! -x "$PY" ]]; then
        say "creating a virtualenv in $VENV"
        "$(system_python)" -m venv "$VENV" >&2
    fi
    say "installing $PACKAGE from PyPI (at most ${TIMEOUT}s)"
    if ! timeout "$TIMEOUT" "$PY" -m pip install --quiet --disable-pip-version-check \
        "$PACKAGE" >&2; then
        say "installing $PACKAGE failed or took more than ${TIMEOUT}s"
        exit 1
    fi
    if ! installed; then
        say "$PACKAGE installed, but \`import pm4py\` fails in $PY"
        exit 1
    fi
    say "$PACKAGE is installed: $PY"
    echo "$PY"
}

case "${1:-}" in
install) install ;;
python)
    if installed; then
        echo "$PY"
    else
        say "$PACKAGE is not installed in $VENV: run \`scripts/pm4py.sh install\`"
        exit 1
    fi
    ;;
*)
    echo "usage: $0 install|python" >&2
    exit 2
    ;;
esac
