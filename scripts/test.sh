#!/usr/bin/env bash
# Set up, then run the test suite (arguments go to pytest, e.g. `-m slow`). CI runs exactly this.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
# two processes: the suite takes half the time on a 2-core machine (pytest-xdist)
exec .venv/bin/python -m pytest -q -n 2 "$@"
