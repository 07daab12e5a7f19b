"""Providers recruiting among the offered (voluntary referral): they win over the decliners worth
taking under the contract, so under outcome pay recruitment selects the more employable."""

from __future__ import annotations

import numpy as np
from scipy import stats

from labsim.world.model import PilotModel
from labsim.results.summary import results_of

from conftest import small_scenario

VOLUNTARY = ["referral.mode=voluntary", "referral.target_participants=9000", "providers.capacity=3000",
             "area.job_seekers=12000", "referral.offer_share=1.0",
             "referral.offers_per_counsellor_week=50", "weeks=30"]


def individuals(*overrides: str, seed: int = 3):
    sc = small_scenario(*VOLUNTARY, *overrides)
    model = PilotModel(sc, rng=seed)
    model.run_for(sc.weeks)
    return results_of(model)


def test_no_recruitment_unless_switched_on():
    res = individuals("payment.preset=outcome_only")
    assert not res.individuals["recruited_by_provider"].any()
    assert res.weekly["recruited"].sum() == 0


def test_outcome_pay_recruits_the_employable_among_decliners():
    # running costs high enough that not every decliner is worth taking on
    res = individuals("payment.preset=outcome_only", "providers.recruitment=0.5",
                      "providers.cost_per_client_week_eur=40")
    ind = res.individuals
    declined = ind[ind["offered"] & (ind["recruited_by_provider"] | ~ind["accepted"])]
    won, left = declined[declined["recruited_by_provider"]], declined[~declined["recruited_by_provider"]]
    assert len(won) > 30 and len(left) > 30
    assert res.weekly["recruited"].sum() == len(won)
    t = stats.ttest_ind(won["employability_at_assignment"], left["employability_at_assignment"],
                        equal_var=False)
    assert t.statistic > 3  # one-sided, far beyond chance


def test_recruitment_raises_take_up():
    base = individuals("payment.preset=hybrid").individuals
    more = individuals("payment.preset=hybrid", "providers.recruitment=0.5").individuals
    a = base.loc[base["offered"], "accepted"].to_numpy(float)
    b = more.loc[more["offered"], "accepted"].to_numpy(float)
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert b.mean() - a.mean() > 3 * se
