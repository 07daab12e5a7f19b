#!/usr/bin/env bash
# Set up labsim in .venv at the repository root: find Python >= 3.12, create the venv, install
# labsim (editable) with its test tools. Quick when nothing changed: pip is skipped while
# pyproject.toml is older than the stamp file .venv/.labsim-installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.labsim-installed"

# True if the interpreter given runs and is Python 3.12 or newer (asked of the interpreter itself).
is_recent_python() {
    [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

find_python() {
    local candidate
    if [ -n "${LABSIM_PYTHON:-}" ] && ! is_recent_python "$LABSIM_PYTHON"; then
        echo "setup: LABSIM_PYTHON=$LABSIM_PYTHON is not a Python 3.12+ interpreter; looking elsewhere" >&2
    fi
    for candidate in "${LABSIM_PYTHON:-}" python3.13 python3.12 python3 \
        "$HOME"/.pyenv/versions/3.1[3-9]*/bin/python "$HOME"/.pyenv/versions/3.12*/bin/python; do
        if is_recent_python "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if ! is_recent_python "$VENV/bin/python"; then
    if ! PYTHON="$(find_python)"; then
        cat >&2 <<'MSG'
labsim needs Python 3.12 or newer (Mesa 3.5 requires it), and none was found
(tried $LABSIM_PYTHON, python3.13, python3.12, python3 and ~/.pyenv/versions/3.12+).
Install one, for example with `pyenv install 3.12` or your system's package manager,
or point to an existing one: LABSIM_PYTHON=/path/to/python3.12 bash scripts/setup.sh
MSG
        exit 1
    fi
    [ -e "$VENV" ] && echo "setup: replacing .venv, whose Python is missing or older than 3.12" >&2
    rm -rf "$VENV"
    echo "setup: creating .venv with $PYTHON ($("$PYTHON" --version 2>&1))" >&2
    "$PYTHON" -m venv "$VENV"
fi

if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
    echo "setup: installing labsim and its test tools into .venv (takes a minute the first time)" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test]"
    touch "$STAMP"
fi
