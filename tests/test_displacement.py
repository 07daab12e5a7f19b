"""Displacement: with a shared labour market the treated take jobs the untreated would have had.

Randomised saturation (Crépon et al. 2013): treat 10 % or 90 % of the eligible. Under congestion the
untreated do worse when most others are treated; with congestion switched off they do not.
Tolerances are multiples of the Monte Carlo standard error of the difference. The loss under congestion
is about 1.3 pp (0.015 and 0.011 over seeds 0-35 and 36-71); 36 seeds make its SE about 0.22 pp, so it
clears 3 SE in all but a few draws in a thousand (at 4 seeds it was under 2 SE on average).
"""

from __future__ import annotations

import numpy as np
import pytest

from labsim import PilotModel
from labsim.results.summary import results_of

from conftest import small_scenario

SEEDS = range(36)


def untreated_employment(congestion: bool, share: float) -> tuple[float, float, int]:
    """Employment 13 weeks after assignment among the untreated: mean, variance, n."""
    values = []
    for seed in SEEDS:
        sc = small_scenario(
            "referral.mode=mandatory", "referral.no_show=0", f"design.treatment_share={share}",
            f"market.congestion={str(congestion).lower()}", "area.job_seekers=20000",
            "referral.eligibility.min_weeks_unemployed=0",
            "referral.eligibility.max_weeks_unemployed=520", "referral.intake_weeks=1",
            "referral.target_participants=100000", "providers.capacity=100000",
            "providers.effort=1.0", "providers.effort_effect=1.0", "assumptions=[]", "providers.service_weeks=30",
            "pilot.end_week=30", "weeks=14",
        )
        model = PilotModel(sc, rng=seed)
        model.run_for(sc.weeks)
        ind = results_of(model).individuals
        values.append(ind.loc[ind["arm"] == "control", "employed_13w"].to_numpy(float))
    x = np.concatenate(values)
    return x.mean(), x.var(ddof=1), x.size


@pytest.mark.parametrize("congestion", [True, False])
def test_untreated_lose_jobs_to_the_treated_only_under_congestion(congestion):
    low_m, low_v, low_n = untreated_employment(congestion, 0.1)
    high_m, high_v, high_n = untreated_employment(congestion, 0.9)
    se = np.sqrt(low_v / low_n + high_v / high_n)
    loss = low_m - high_m
    if congestion:
        assert loss > 3 * se, (loss, se)
    else:
        assert abs(loss) < 3.3 * se, (loss, se)  # two-sided, 0.1 % false alarm
