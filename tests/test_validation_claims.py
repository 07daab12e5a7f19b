"""The computations behind validation claims 2, 3, 4, 6 and 7 (labsim.design.validation_*), each on a
tiny world or on records whose answer is known, fast; the whole claim set runs in docs/validation.md."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labsim.config.scenario import apply_overrides, read_scenario_dict
from labsim.config.states import WORK_STATES
from labsim.design.validation_displacement import SPILLOVER_HORIZON, assigned, spillover
from labsim.design.validation_power import needed_participants, power_claim
from labsim.design.validation_take_up import take_up_claims
from labsim.world.history import sustained_job_within
from tests.conftest import SCENARIOS


def test_a_job_outcome_is_the_milestone_reached_within_the_window():
    """Claim 7's definition: 26 consecutive weeks in counted work completed within 52 weeks of referral."""
    weeks = 80
    counted = np.zeros((5, weeks), bool)
    counted[0, 11:37] = True   # 26 weeks from week 11 (start 0): done by week 36 -> outcome
    counted[1, 11:36] = True   # 25 weeks -> none
    counted[2, 30:56] = True   # 26 weeks ending at week 55, after week 52 -> none within 12 months
    counted[3, 5:18] = True    # 13 + 13 weeks with a gap: not consecutive -> none
    counted[3, 20:33] = True
    start = np.array([0, 0, 0, 0, 40])  # the last one's window runs past the run's end -> NaN
    got = sustained_job_within(counted, start, 26)
    assert got[:4].tolist() == [1.0, 0.0, 0.0, 0.0] and math.isnan(got[4])
    assert sustained_job_within(counted, start, 13)[:4].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert sustained_job_within(counted, start, 0)[2] == 1.0  # an outcome paid at the job start


def _binomial_pilots(n_pilots: int, n: int, p0: float, p1: float, seed: int) -> pd.DataFrame:
    """Pilots drawn from the formula's own model: two independent binomial arms, Wald test at 5 %."""
    rng = np.random.default_rng(seed)
    y1, y0 = rng.binomial(n, p1, n_pilots) / n, rng.binomial(n, p0, n_pilots) / n
    se = np.sqrt(y1 * (1 - y1) / n + y0 * (1 - y0) / n)
    return pd.DataFrame({"estimate": y1 - y0, "reject": np.abs(y1 - y0) / se > 1.96, "control_mean": y0,
                         "n_pilot": n, "n_control": n, "take_up": 1.0})


def test_claim_2_matches_when_pilots_follow_the_formula_and_not_when_they_do_not():
    pilots = _binomial_pilots(400, 500, 0.20, 0.26, seed=3)
    claim = power_claim(pilots)
    assert claim.matches and 0.5 < claim.published < 0.9  # the formula's power sits mid-range here
    # pilots whose people are correlated reject less often than the formula says: the claim must see it
    # (half the arm size in the data but the formula still told the full one)
    weaker = _binomial_pilots(400, 250, 0.20, 0.26, seed=3).assign(n_pilot=500, n_control=500)
    assert not power_claim(weaker).matches


def test_claim_6_size_is_the_textbook_arm_times_take_up():
    """Two arms of n with Cohen's h: n = 2 (z_0.975 + z_0.8)^2 / h^2 each; participants = n x take-up."""
    pilots = pd.DataFrame({"estimate": [0.04, 0.06] * 10, "control_mean": 0.2, "take_up": 0.5})
    h = 2 * math.asin(math.sqrt(0.25)) - 2 * math.asin(math.sqrt(0.2))
    arm = 2 * ((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) / h) ** 2
    needed, low, high = needed_participants(pilots)
    assert needed == pytest.approx(0.5 * arm, rel=0.001)
    assert low < needed < high  # a larger ITT needs fewer people


def test_claim_4_spillover_pools_the_untreated_of_every_treated_market_against_the_untreated_market():
    """As Crépon et al.: market A treats 25 % (its untreated employed at 6/75), B 75 % (1/25), C nobody
    (10/100): the untreated of A and B together (7/100) minus C's eligible is -0.03; reading only the
    highly treated market would give 0.04 - 0.10, the pilot arm or a market mean other figures."""
    y = f"employed_{SPILLOVER_HORIZON}w"
    rows = [("A", "pilot", 1.0)] * 25 + [("A", "control", 1.0)] * 6 + [("A", "control", 0.0)] * 69
    rows += [("B", "pilot", 1.0)] * 75 + [("B", "control", 1.0)] * 1 + [("B", "control", 0.0)] * 24
    rows += [("C", "control", 1.0)] * 10 + [("C", "control", 0.0)] * 90
    rows += [("C", "control", np.nan)] * 50 + [("A", "control", 1.0)] * 10  # not observed; before the pilot
    ind = pd.DataFrame(rows, columns=["sector", "arm", y]).assign(before_pilot=[False] * 350 + [True] * 10)
    ind["sector"] = ind["sector"].astype("category")
    assert spillover(ind) == pytest.approx(0.07 - 0.10)


def test_claim_4_reads_employment_8_months_after_each_persons_assignment():
    """Two people assigned in weeks 2 and 10, each employed only in the week SPILLOVER_HORIZON weeks later
    (state codes: 0 unemployed, a work state employed), a third whose run ends before its horizon."""
    weeks, work = 60, int(WORK_STATES[0])
    timeline = np.zeros((3, weeks), np.int8)
    timeline[0, 2 + SPILLOVER_HORIZON] = timeline[1, 10 + SPILLOVER_HORIZON - 1] = work
    people = {"sector": np.array([0, 1, 1]), "arm": np.array([1, 0, 0], np.int8),
              "assigned_week": np.array([2, 10, 40]), "before_pilot": np.zeros(3, bool)}
    got = assigned(SimpleNamespace(people=people, timeline=timeline))
    assert got["arm"].tolist() == ["pilot", "control", "control"] and got["sector"].tolist() == [0, 1, 1]
    assert got[f"employed_{SPILLOVER_HORIZON}w"].tolist()[:2] == [1.0, 0.0]
    assert math.isnan(got[f"employed_{SPILLOVER_HORIZON}w"].iloc[2])


def test_claim_3_effect_on_participants_times_take_up_gives_the_itt_on_a_tiny_world():
    """Without congestion and with strong help, ITT / (take-up x participants' gain over the no-help
    world) is near 1; dropping the take-up factor would give about 1 / take-up (~3), swapping the worlds a
    negative ratio. 6 worlds of 2,000 seekers: the ratio's SE is about 0.2."""
    data = apply_overrides(read_scenario_dict(SCENARIOS / "baseline.toml"),
                           ["area.job_seekers=2000", "area.burn_in_weeks=26", "market.congestion=false",
                            "providers.effort=1.0", "providers.effort_effect=3.0"], "baseline")
    take_up, ratio = take_up_claims(data, "baseline", seed=5, pool=None, worlds=6)
    assert 0.2 < take_up.simulated < 0.45
    assert 0.5 < ratio.simulated < 2.0 and ratio.matches
