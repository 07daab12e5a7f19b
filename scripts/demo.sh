#!/usr/bin/env bash
# The main job: set up, then run the bundled baseline scenario and write numbers and charts to runs/baseline/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec .venv/bin/labsim run baseline --seed 1 --out runs/baseline --force "$@"
