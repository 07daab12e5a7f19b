"""Calibrated moments: measured right, inside the published ranges at week 0, and steady without a pilot.

Range checks compare the mean over seeds with the published range widened by 2 Monte Carlo standard
errors (across-seed SD / sqrt(seeds)), so that a world that sits in the range passes and one that sits
clearly outside fails whatever the seeds. The share employed after activation services is checked in
tests/test_activation.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from labsim.config.scenario import load_scenario
from labsim.config.states import WORK_STATES, State, is_searching
from labsim.results.moments import PUBLISHED, moments
from labsim.world.model import PilotModel

from conftest import SCENARIOS, small_scenario

NO_PILOT = ["referral.start_week=900", "pilot.end_week=1000"]
CHECKED = ["long_term_share", "monthly_outflow_share", "ended_spells_into_work", "mean_elapsed_weeks",
           "mean_completed_weeks"]


def test_moments_agree_with_a_count_from_the_live_world():
    """Each moment recomputed from state snapshots, without the model's weekly counters."""
    sc = small_scenario(*NO_PILOT, "weeks=13")
    m = PilotModel(sc, rng=4)
    s = m.seekers
    unemployed = lambda st: (st == State.UNEMPLOYED) | (st == State.WITH_PROVIDER)  # noqa: E731
    u0 = unemployed(s.state)
    long_term = np.count_nonzero(s.duration[u0] >= 52) / u0.sum()
    elapsed = s.duration[u0].mean()
    ended = started = to_work = exits = 0
    stock = []
    for _ in range(13):
        before = s.state.copy()
        m.run_for(1)
        ended += np.count_nonzero(unemployed(before) & ~unemployed(s.state))
        started += np.count_nonzero(~unemployed(before) & unemployed(s.state))
        left = is_searching(before) & ~is_searching(s.state)
        exits += np.count_nonzero(left)
        to_work += np.count_nonzero(left & np.isin(s.state, WORK_STATES))
        stock.append(np.count_nonzero(unemployed(s.state)))
    got = moments(m.record())["start"]
    assert got["long_term_share"] == pytest.approx(long_term)
    assert got["mean_elapsed_weeks"] == pytest.approx(elapsed)
    assert got["ended_spells_into_work"] == pytest.approx(to_work / exits)
    assert got["monthly_outflow_share"] == pytest.approx(ended / 13 * 52 / 12 / np.mean(stock))
    assert got["mean_completed_weeks"] == pytest.approx(np.mean(stock) / (started / 13))


def moments_over_seeds(scenario, seeds) -> dict[str, np.ndarray]:
    """start and end moments, one row per seed."""
    rows = {"start": [], "end": []}
    for seed in seeds:
        m = PilotModel(scenario, rng=seed)
        m.run_for(scenario.weeks)
        mo = moments(m.record())
        for k in rows:
            rows[k].append(mo.loc[CHECKED, k].to_numpy(float))
    return {k: np.array(v) for k, v in rows.items()}


def assert_in_published_ranges(values: np.ndarray, when: str) -> None:
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    for name, x, e in zip(CHECKED, mean, se):
        p = PUBLISHED[name]
        assert p.low - 2 * e <= x <= p.high + 2 * e, f"{name} at the {when}: {x:.3f} (SE {e:.3f}) outside {p.low}-{p.high}"


def test_baseline_sits_in_the_published_ranges_and_stays_there():
    sc = load_scenario(SCENARIOS / "baseline.toml", [*NO_PILOT, "weeks=104"])
    values = moments_over_seeds(sc, range(4))
    assert_in_published_ranges(values["start"], "start")
    assert_in_published_ranges(values["end"], "end (week 104)")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fi_2016_job_placement_pilots", "fi_2017_regional_experiments",
                                  "fi_2019_growth_services"])
def test_finnish_scenarios_sit_in_the_published_ranges_and_stay_there(name):
    sc = load_scenario(SCENARIOS / f"{name}.toml", [*NO_PILOT, "weeks=104"])
    values = moments_over_seeds(sc, range(3))
    assert_in_published_ranges(values["start"], "start")
    assert_in_published_ranges(values["end"], "end (week 104)")
