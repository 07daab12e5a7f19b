#!/usr/bin/env bash
# The main job: set up, run one pilot of the baseline scenario (runs/baseline/), then the size search on
# the 2019 growth-services pilot over its evidence range, with its charts and an HTML report
# (runs/fi_2019-size/). The search is a quick one (batches of 20, at most 160 pilots per search, +-20 %);
# drop those options for the default (+-10 %, up to 600 pilots per search). Arguments go to `labsim size`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
.venv/bin/labsim run baseline --seed 1 --out runs/baseline --force
.venv/bin/labsim size fi_2019_growth_services --batch 20 --budget 160 --precision 0.2 \
    --out runs/fi_2019-size --force "$@"
.venv/bin/labsim report runs/fi_2019-size --lang en --out runs/fi_2019-size/report-en.html
