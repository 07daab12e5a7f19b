"""Honest uncertainty: the world seed apart from the pilot seed, and the reported SE against replication
(the estimand is in docs/estimand.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from labsim import PilotModel
from labsim.results.summary import results_of

from conftest import ROOT, small_scenario

sys.path.insert(0, str(ROOT))
from experiments.se_replication import replicate  # noqa: E402


def test_world_seed_fixes_the_area_and_pilot_seed_the_pilot():
    sc = small_scenario("referral.mode=mandatory")
    a = PilotModel(sc, rng=1, world=7)
    b = PilotModel(sc, rng=2, world=7)
    other = PilotModel(sc, rng=1, world=8)
    # same world seed: the same people, employers and week-0 states whatever the pilot seed
    for field in ("base_employability", "motivation", "office", "state", "duration"):
        np.testing.assert_array_equal(getattr(a.seekers, field), getattr(b.seekers, field))
    np.testing.assert_array_equal(a.vacancies.open, b.vacancies.open)
    assert not np.array_equal(a.seekers.base_employability, other.seekers.base_employability)
    # ... but a different randomisation and later draws
    for m in (a, b):
        m.run_for(20)
    assert not np.array_equal(a.seekers.arm, b.seekers.arm)
    # and a (world, pilot) pair always gives the same numbers
    again = PilotModel(sc, rng=1, world=7)
    again.run_for(20)
    np.testing.assert_array_equal(a.seekers.state, again.seekers.state)


def test_rng_alone_still_draws_world_and_pilot_from_one_stream():
    sc = small_scenario()
    a, b = PilotModel(sc, rng=4), PilotModel(sc, rng=4)
    a.run_for(10)
    b.run_for(10)
    np.testing.assert_array_equal(a.seekers.state, b.seekers.state)
    assert not np.array_equal(PilotModel(sc, rng=5).seekers.base_employability, a.seekers.base_employability)


def test_summary_difference_reports_the_itt_interval():
    model = PilotModel(small_scenario("referral.mode=mandatory"), rng=3)
    model.run_for(40)
    d = results_of(model).summary.employment_rate["13w"]
    assert d.se > 0
    assert d.ci_low == pytest.approx(d.difference - 1.959964 * d.se, abs=2e-6)
    assert d.ci_high == pytest.approx(d.difference + 1.959964 * d.se, abs=2e-6)
    assert 0 <= d.p_value <= 1


@pytest.mark.slow
def test_reported_se_matches_the_spread_over_pilots_and_worlds():
    """Baseline, mandatory referral, 12 worlds x 20 pilots (about a minute).

    The band 0.85-1.15 is about 3 Monte Carlo SDs of the ratio: the SD of a sample SD over R runs is
    about SD / sqrt(2(R - 1)) (normal estimates); the within-world SD pools 12 x 19 = 228 degrees of
    freedom, so the ratio's SD is about 1 / sqrt(456) = 4.7 %. (With 20 seeds it would be 16 %: an
    audit's 0.65-0.7 from 20 seeds was mostly that noise, see docs/estimand.md.)
    """
    stats = replicate("baseline", ["referral.mode=mandatory"], worlds=12, pilots=20, root_seed=7)
    assert 0.85 <= stats["se"] / stats["sd_within"] <= 1.15, stats
    assert 0.85 <= stats["se"] / stats["sd_total"] <= 1.15, stats
    # the reported interval covers the world's mean effect at about 95 % (240 runs: SD 1.4 pp)
    assert stats["coverage"] >= 0.95 - 3 * 0.014, stats
