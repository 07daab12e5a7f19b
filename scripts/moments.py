"""Print the calibrated moments of bundled scenarios run without a pilot, beside the published figures.

    .venv/bin/python scripts/moments.py [SCENARIO ...] [--seeds N] [--set dotted.path=value ...]

Each scenario is run for 104 weeks with the pilot's intake moved beyond the run (so nothing changes),
for seeds 0..N-1; the table gives the mean over seeds at the start (stocks at week 0, flows over weeks
1-13) and at the end (week 104, flows over weeks 92-104). Definitions: docs/model.md, "Calibrated moments".
"""

from __future__ import annotations

import argparse

import pandas as pd

from labsim.config.scenario import load_scenario
from labsim.results.moments import moments
from labsim.world.model import PilotModel

BUNDLED = ["baseline", "fi_2016_job_placement_pilots", "fi_2017_regional_experiments", "fi_2019_growth_services"]
NO_PILOT = ["referral.start_week=900", "pilot.end_week=1000", "weeks=104"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=BUNDLED)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--set", action="append", default=[], metavar="dotted.path=value")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    for name in args.scenarios:
        sc = load_scenario(f"scenarios/{name}.toml", [*NO_PILOT, *args.set])
        runs = []
        for seed in range(args.seeds):
            m = PilotModel(sc, rng=seed)
            m.run_for(sc.weeks)
            runs.append(moments(m.record()))
        table = sum(r[["start", "end"]] for r in runs) / len(runs)
        table = pd.concat([table, runs[0][["published", "low", "high"]]], axis=1)
        print(f"\n{name} ({sc.area.job_seekers:,} register persons, {args.seeds} seeds)")
        print(table.round(3).to_string())


if __name__ == "__main__":
    main()
