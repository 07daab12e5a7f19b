"""Less noise per pilot? Two control variates for the size search's pilots, measured (issue 28).

    .venv/bin/python -m benchmarks.variance_reduction --scenario fi_2019_growth_services --size 6451 --pilots 120

The size search's interval on N* narrows as 1 / sqrt(pilots) with each pilot's z statistic as noisy as it
is; a control variate (a second quantity with a known mean, correlated with z) would remove the share rho^2
of that noise. For `--pilots` replications at `--size` places (fresh replication numbers, the size search's
worlds and seeds) it measures, with Fisher 95 % intervals:
- **a zero-help twin**: the same replication with providers that do nothing (the type-I check's world),
  whose expected z is 0; its correlation with the pilot's z (common random numbers);
- **the regression-adjusted estimate** (Lin 2013, the `adjusted` estimator), whose difference from the
  plain estimate has an expected value of about 0; its correlation with the plain estimate.
The twin costs a pilot of its own, so it pays only where rho^2 > 1/2.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from benchmarks import load  # noqa: E402
from labsim.catalog import resolve_scenario  # noqa: E402
from labsim.config.scenario import load_scenario  # noqa: E402
from labsim.design.size import SearchSettings, pool_simulator  # noqa: E402
from labsim.design.worlds import at_size, zero_help  # noqa: E402
from labsim.results.pilot import ESTIMATORS, READINGS  # noqa: E402

#: Replication numbers the measurement starts at: beyond any the default size search uses early on.
FIRST_REP = 1000


def correlation(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Pearson's r of x and y with its Fisher 95 % interval, and the share of x's variance y removes
    (r^2, with the interval's ends squared where it excludes 0)."""
    r = float(np.corrcoef(x, y)[0, 1])
    half = 1.96 / math.sqrt(x.size - 3)
    centre = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))  # a perfect correlation: an interval of itself
    low, high = math.tanh(centre - half), math.tanh(centre + half)
    share = (0.0 if low < 0 < high else min(low**2, high**2), max(low**2, high**2))
    return {"r": r, "low": low, "high": high, "removed": r**2, "removed_low": share[0], "removed_high": share[1]}


def measure(name: str, size: int, pilots: int, workers: int, overrides: list[str] = ()) -> dict[str, Any]:
    """The pilots and their twins at `size`, and both correlations."""
    scenario = load_scenario(resolve_scenario(name), list(overrides))
    s = SearchSettings(workers=workers, horizon=scenario.design.primary_horizon_weeks)
    sized = at_size(scenario, "participants", size)
    reps = range(FIRST_REP, FIRST_REP + pilots)
    with pool_simulator(s, readings=ESTIMATORS) as run:
        pilot = run([(r, sized) for r in reps], size, "pilots")
        twin = run([(r, zero_help(sized)) for r in reps], size, "zero-help twins")
    z = np.array([p["estimate"] / p["se"] for p in pilot])
    z_twin = np.array([p["estimate"] / p["se"] for p in twin])
    plain = np.array([p[READINGS]["difference"]["estimate"] for p in pilot])
    adjusted = np.array([p[READINGS]["adjusted"]["estimate"] for p in pilot])
    return {"pilots": pilots, "size": size, "z_mean": float(z.mean()), "z_sd": float(z.std(ddof=1)),
            "twin": correlation(z, z_twin), "adjusted": correlation(plain, plain - adjusted)}


def line(label: str, c: dict[str, float]) -> str:
    return (f"{label}: r = {c['r']:+.3f} (95 % {c['low']:+.3f} to {c['high']:+.3f}); share of the noise it "
            f"removes {c['removed']:.1%} ({c['removed_low']:.1%}-{c['removed_high']:.1%})")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.variance_reduction", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="fi_2019_growth_services")
    p.add_argument("--size", type=int, default=6451)
    p.add_argument("--pilots", type=int, default=120)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    out = measure(a.scenario, a.size, a.pilots, a.workers)
    print(f"{a.scenario} at {a.size:,} places, {a.pilots} pilots (z mean {out['z_mean']:.2f}, SD {out['z_sd']:.2f}); "
          f"load {load()}")
    print(line("zero-help twin's z against the pilot's z", out["twin"]))
    print(line("plain minus adjusted estimate against the plain estimate", out["adjusted"]))


if __name__ == "__main__":
    main()
