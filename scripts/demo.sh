#!/usr/bin/env bash
# The main job: set up, run one pilot of the baseline scenario (runs/baseline/), then the size search on
# the 2019 growth-services pilot over its evidence range, with its charts and an HTML report
# (runs/fi_2019-size/), with the default settings: +-10 % on each size, about 3 minutes on 2 cores
# (docs/performance.md). Arguments go to `labsim size` (e.g. --precision 0.2 for a rougher, quicker answer).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
.venv/bin/labsim run baseline --seed 1 --out runs/baseline --force
.venv/bin/labsim size fi_2019_growth_services --out runs/fi_2019-size --force "$@"
.venv/bin/labsim report runs/fi_2019-size --lang en --out runs/fi_2019-size/report-en.html
