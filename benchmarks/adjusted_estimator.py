"""The covariate-adjusted ITT against the difference in means on the same simulated pilots (docs/plan.md).

    .venv/bin/python -m benchmarks.adjusted_estimator 80 zero   # providers do nothing: type-I, SE / spread
    .venv/bin/python -m benchmarks.adjusted_estimator 80 help   # with help: variance ratio against 1 - R^2

Each pilot: the small baseline world (3,000 seekers), mandatory referral, congestion off, everyone eligible
referred for 34 weeks; both estimators read the same pilot, so their variance ratio is paired. About 2 s a
pilot on an idle core.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import small_scenario  # noqa: E402

from labsim.results.adjusted import adjusted_itt, covariate_matrix  # noqa: E402
from labsim.results.estimate import itt  # noqa: E402
from labsim.results.summary import results_of  # noqa: E402
from labsim.world.model import PilotModel  # noqa: E402

ZERO = ["providers.effort=0", "referral.no_show=0", "referral.sanction_effort_gain=0", "providers.network_share=0"]
BASE = ["referral.mode=mandatory", "market.congestion=false", "referral.target_participants=100000",
        "providers.capacity=100000", "pilot.end_week=200", "referral.intake_weeks=34"]


def main(seeds: int, zero: bool) -> None:
    rows, started = [], time.time()
    for seed in range(seeds):
        sc = small_scenario(*BASE, *(ZERO if zero else []))
        m = PilotModel(sc, rng=seed)
        m.run_for(sc.weeks)
        ind = results_of(m).individuals
        ind = ind.loc[~ind["before_pilot"]]
        d, a = itt(ind, "employed_26w"), adjusted_itt(ind, "employed_26w")
        df = ind.loc[ind["employed_26w"].notna() & (ind["arm"] == "control")]
        z, y = covariate_matrix(df), df["employed_26w"].to_numpy(float)
        x = np.column_stack([np.ones(len(y)), z])
        r2 = 1 - np.var(y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) / np.var(y)
        rows.append((d.estimate, d.se, d.p_value, a.estimate, a.se, a.p_value, r2, d.n))
    r = np.array(rows)
    print(f"{seeds} pilots ({'zero help' if zero else 'with help'}), n per pilot {r[:, 7].mean():.0f}, "
          f"{time.time() - started:.0f} s")
    for name, e, s, p in (("difference", 0, 1, 2), ("adjusted", 3, 4, 5)):
        sd = r[:, e].std(ddof=1)
        print(f"  {name}: mean {r[:, e].mean():+.4f} (MC SE {sd / np.sqrt(seeds):.4f}), spread {sd:.4f}, "
              f"mean SE {r[:, s].mean():.4f}, SE/spread {r[:, s].mean() / sd:.2f}, rejection {np.mean(r[:, p] < 0.05):.3f}")
    print(f"  variance ratio adjusted/difference {r[:, 3].var(ddof=1) / r[:, 0].var(ddof=1):.3f}; "
          f"1 - R^2 (control arm, in-sample) {1 - r[:, 6].mean():.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 80, len(sys.argv) > 2 and sys.argv[2] == "zero")
