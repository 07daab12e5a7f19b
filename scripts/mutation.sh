#!/usr/bin/env bash
# Mutation testing of results/estimate.py and design/ with cosmic-ray (pip install -e '.[mutation]').
# Usage: bash scripts/mutation.sh [CONFIG.toml] [MODULE ...]
#   CONFIG defaults to scripts/mutation.toml; MODULEs (paths under src/) replace its module-path.
# The committed and uncommitted tracked files are copied to a temporary folder, and cosmic-ray mutates
# that copy, so the working tree is never touched. Prints the kill rate and every surviving mutant.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="$(realpath "${1:-$ROOT/scripts/mutation.toml}")"
shift || true
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d -t labsim-mutation.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp -a --parents -t "$WORK/")
cd "$WORK"
if [ "$#" -gt 0 ]; then  # replace the config's module-path with the modules given
    "$PY" - "$CONFIG" "$@" >mutation.toml <<'PYEOF'
import sys, json, re
text = open(sys.argv[1]).read()
paths = json.dumps(sys.argv[2:])
print(re.sub(r"^module-path = .*$", f"module-path = {paths}", text, flags=re.M))
PYEOF
    CONFIG="$WORK/mutation.toml"
fi
export PATH="$ROOT/.venv/bin:$PATH" PYTHONPATH="$WORK/src"  # the copy's labsim, not the working tree's
cosmic-ray init "$CONFIG" session.sqlite
cosmic-ray baseline "$CONFIG"
cosmic-ray exec "$CONFIG" session.sqlite
cr-report session.sqlite --show-pending | tee "$ROOT/.mutation-report.txt"
cr-rate session.sqlite
