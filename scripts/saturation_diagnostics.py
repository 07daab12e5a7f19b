"""Two figures behind docs/displacement.md ("Why it is still smaller than the paper's", "Tried and not kept").

    .venv/bin/python scripts/saturation_diagnostics.py shares [--seed 3]
    .venv/bin/python scripts/saturation_diagnostics.py vacancies --worlds 200 [--seed 1] [--slack 0.6 --tight 3.5]

`shares`: at week 0 of each point of experiments/french_saturation.toml, the eligible's share of the effective
search of their own cell (their segment in their sector) and of the whole register's, and the register's
hires per open vacancy a week against the share of open vacancies that close otherwise (`vacancy_expiry`).
`vacancies`: the experiment with its weak and strong markets made by the vacancies instead of the matching
efficiency (calibrated 0.0261 at both; `--slack` and `--tight` new vacancies a week per 100 register customers),
and claim 4's figures on it (any job at 8 months, 95 % intervals over worlds).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from labsim.config.experiment import load_experiment
from labsim.design import validation_displacement as vd
from labsim.sweep.runner import executor
from labsim.world.model import PilotModel

SECTORS = (("services", 0.35), ("construction", 0.15), ("technology", 0.15), ("ict", 0.10), ("other", 0.25))


def shares(seed: int) -> None:
    for p in load_experiment(vd.EXPERIMENT).points:
        sc = p.scenario
        m = PilotModel(sc, rng=np.random.default_rng(seed))
        s, who = m.seekers, m.register.index
        w = m.search_effort(who) * m.employability()[who]
        cell = s.market[who]
        tertiary = s.segment[who] == list(sc.market.segments.names).index("tertiary")
        eligible = tertiary & (s.duration[who] >= sc.referral.eligibility.min_weeks_unemployed)
        search = np.bincount(cell, weights=w, minlength=m.matching.n_markets)
        vacancies = m.vacancies.by_market()
        hires = float((m.matching.rates(search, vacancies) * search).sum())
        print(f"{p.values}: eligible share of their cell's search {w[eligible].sum() / w[tertiary].sum():.2f}, "
              f"of all search {w[eligible].sum() / w.sum():.2f}; register hires per open vacancy a week "
              f"{hires / vacancies.sum():.3f} against {sc.market.vacancy_expiry} closing otherwise")


def by_vacancies(worlds: int, seed: int, slack: float, tight: float) -> None:
    records = []
    with executor("local", 2) as pool:
        for market, v in (("slack", slack), ("tight", tight)):
            sectors = ", ".join(f'{{name="{n}", seeker_share={s}, vacancies_per_100_seekers={v}}}' for n, s in SECTORS)
            text = vd.EXPERIMENT.read_text(encoding="utf-8")
            text = text.replace('    "weeks=105",', f"    \"weeks=105\",\n    'market.sectors=[{sectors}]',")
            text = text.replace('"../scenarios/', f'"{vd.EXPERIMENT.parents[1]}/scenarios/')
            text = text.replace('"market.matching_efficiency" = [0.012, 0.05]', '"market.matching_efficiency" = [0.0261]')
            path = Path(tempfile.mkdtemp()) / "french_saturation.toml"
            path.write_text(text, encoding="utf-8")
            records += [{**r, "market": market} for r in vd.run_saturation(seed, pool, worlds=worlds, path=path)]
    table = vd.saturation_table(records)
    table = table[table["outcome"] == "any_35"]
    print(pd.DataFrame({"figure": table["figure"], "market": table["market"], "competition": table["competition"],
                        "pp": [f"{100 * m:+.2f} ({100 * lo:+.2f} to {100 * hi:+.2f})"
                               for m, lo, hi in zip(table["mean"], table["low"], table["high"])]}).to_string(index=False))
    for c in vd.saturation_claims(records):
        print(f"- {c.name}: {100 * c.simulated:+.2f} pp ({100 * c.simulated_low:+.2f} to {100 * c.simulated_high:+.2f}): "
              f"{c.verdict}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["shares", "vacancies"])
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--worlds", type=int, default=200)
    p.add_argument("--slack", type=float, default=0.6)
    p.add_argument("--tight", type=float, default=3.5)
    a = p.parse_args()
    if a.what == "shares":
        shares(3 if a.seed is None else a.seed)
    else:
        by_vacancies(a.worlds, 1 if a.seed is None else a.seed, a.slack, a.tight)


if __name__ == "__main__":
    main()
