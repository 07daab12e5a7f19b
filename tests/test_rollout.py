"""The roll-out estimand's arithmetic (design/rollout.py): the overstatement ratio and its Fieller
interval, the power formula and the size that detects the roll-out effect. Pure numbers, no worlds, except
the slow check on the bundled slack market."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labsim.design.size_answer import SizeAnswer
from labsim.design.rollout import (
    fieller, overstatement, overstatement_sentence, rollout_power, rollout_size, se_fit, size_to_detect,
)


def test_ratio_is_the_ratio_of_the_paired_means():
    itt = np.array([0.02, 0.03, 0.01, 0.04])
    roll = np.array([0.01, 0.012, 0.008, 0.01])
    o = overstatement(itt, roll)
    assert o.ratio == pytest.approx(itt.mean() / roll.mean())
    assert o.itt_se == pytest.approx(itt.std(ddof=1) / 2) and o.rollout_se == pytest.approx(roll.std(ddof=1) / 2)
    assert o.worlds == 4


def test_fieller_interval_covers_the_true_ratio_at_about_95_percent():
    # paired normal effects with a true ratio of 2.4: the interval's coverage over many samples lies
    # within 3 binomial SEs of 95 % (a one-sided mistake, e.g. dropping the covariance, fails it)
    rng = np.random.default_rng(4)
    reps, n, cover = 2000, 50, 0
    for _ in range(reps):
        roll = rng.normal(0.006, 0.007, n)
        itt = 2.4 * roll + rng.normal(0.0, 0.02, n)  # correlated through the shared world
        lo, hi = overstatement(itt, roll).ratio_ci
        cover += lo is not None and lo <= 2.4 <= hi
    assert abs(cover / reps - 0.95) < 3 * math.sqrt(0.95 * 0.05 / reps), cover / reps


def test_fieller_tends_to_the_delta_method_when_the_denominator_is_sure():
    mi, mr, vi, vr, c = 0.015, 0.006, 1e-6, 1e-8, 2e-8
    lo, hi = fieller(mi, mr, vi, vr, c)
    r = mi / mr
    se = math.sqrt(vi - 2 * r * c + r * r * vr) / mr
    assert lo == pytest.approx(r - 1.96 * se, rel=0.02) and hi == pytest.approx(r + 1.96 * se, rel=0.02)
    assert (hi - lo) / 2 == pytest.approx(1.959964 * se, rel=0.003)


def test_the_interval_is_open_when_the_roll_out_effect_may_be_zero():
    rng = np.random.default_rng(1)
    o = overstatement(rng.normal(0.01, 0.01, 30), rng.normal(0.0005, 0.01, 30))
    assert o.ratio_ci == (None, None)
    assert overstatement_sentence(o.as_dict()) is None


def test_the_sentence_says_the_ratio_only_when_its_interval_excludes_one():
    o = {"ratio": 2.4, "ratio_ci": [1.5, 3.9], "worlds": 50}
    assert "about 2.4 times the roll-out effect" in overstatement_sentence(o)
    assert "understates" not in overstatement_sentence(o)
    assert "understates" in overstatement_sentence({"ratio": 0.6, "ratio_ci": [0.4, 0.8], "worlds": 50})
    assert overstatement_sentence({**o, "ratio_ci": [0.8, 3.9]}) is None
    assert overstatement_sentence({**o, "ratio_ci": [0.5, 1.0]}) is None  # an interval ending at 1 holds 1


def test_power_formula_is_phi_of_effect_over_se_minus_z():
    assert rollout_power(0.02, 0.01, 0.05) == pytest.approx(stats.norm.cdf(2 - 1.959964))
    assert rollout_power(-0.02, 0.01, 0.05) == rollout_power(0.02, 0.01, 0.05)
    # the size that gives the target power on an SE curve c/sqrt(N) has exactly that power
    c = 0.5
    fit = (math.log(c), -0.5)
    n = size_to_detect(0.01, fit, 0.8, 0.05)
    assert n == pytest.approx((c * (1.959964 + 0.841621) / 0.01) ** 2, rel=1e-5)
    assert rollout_power(0.01, c / math.sqrt(n), 0.05) == pytest.approx(0.8, abs=1e-6)


def test_se_fit_recovers_the_square_root_law_and_a_smaller_effect_needs_a_larger_pilot():
    sizes = np.array([500, 1000, 2000, 4000])
    a, b = se_fit(sizes, 0.4 / np.sqrt(sizes))
    assert b == pytest.approx(-0.5) and math.exp(a) == pytest.approx(0.4)
    rows = pd.DataFrame({"size": np.repeat(sizes, 3), "se": np.repeat(0.4 / np.sqrt(sizes), 3)})
    o = overstatement(np.array([0.02, 0.03, 0.025]), np.array([0.01, 0.011, 0.009]))
    r = rollout_size(o, rows, 0.8, 0.05)
    assert r.size > r.itt_size_formula
    assert r.size / r.itt_size_formula == pytest.approx(o.ratio**2, rel=1e-3)  # N goes as 1/effect^2
    assert r.size_ci[0] <= r.size <= r.size_ci[1]
    fit = se_fit(sizes, 0.4 / np.sqrt(sizes))  # the interval maps the roll-out's own 95 % interval
    ends = [size_to_detect(o.rollout + k * 1.959964 * o.rollout_se, fit, 0.8, 0.05) for k in (1, -1)]
    assert r.size_ci == (math.ceil(ends[0]), math.ceil(ends[1]))


def test_the_se_curve_is_fitted_against_the_places_filled():
    # beyond 2,000 places the catchment fills no more: the SE stops falling, and is that of 2,000 places
    sizes = np.array([500, 1000, 2000, 4000, 8000])
    reached = np.minimum(sizes, 2000)
    rows = pd.DataFrame({"size": sizes, "participants": reached, "se": 0.4 / np.sqrt(reached)})
    o = overstatement(np.array([0.02, 0.03, 0.025]), np.array([0.01, 0.011, 0.009]))
    r = rollout_size(o, rows, 0.8, 0.05, filled_only=True)
    assert r.se_exponent == pytest.approx(-0.5)
    assert rollout_size(o, rows, 0.8, 0.05).se_exponent > -0.4  # the plateau flattens an unfiltered fit
    # two filled sizes are enough for the fit
    pair = pd.DataFrame({"size": [500, 1000, 2000, 4000], "participants": [500, 1000, 1000, 1000],
                         "se": 0.4 / np.sqrt([500, 1000, 1000, 1000])})
    assert rollout_size(o, pair, 0.8, 0.05, filled_only=True).se_exponent == pytest.approx(-0.5)
    # a roll-out effect that may be 0 leaves the size without an upper end
    vague = overstatement(np.array([0.02, 0.03, 0.025]), np.array([0.03, -0.02, 0.001]))
    assert rollout_size(vague, rows, 0.8, 0.05).size_ci[1] is None
    # with one size filled, the others at the places they filled still give the square-root law
    few = pd.DataFrame({"size": [500, 1000, 2000], "participants": [500, 600, 600], "se": 0.4 / np.sqrt([500, 600, 600])})
    assert rollout_size(o, few, 0.8, 0.05, filled_only=True).se_exponent == pytest.approx(-0.5)
    assert rollout_size(o, few, 0.8, 0.05).se_exponent > -0.4  # against the targets it would not


@pytest.mark.slow
def test_slack_market_rollout_size_exceeds_the_itt_size(tmp_path):
    # the bundled slack market: the pilot overstates the roll-out (Fieller interval above 1), so detecting
    # what the policy will do needs a larger pilot than detecting the pilot's own ITT
    import json

    from labsim.cli import main

    out = tmp_path / "slack"
    assert main(["size", "slack_market", "--estimand", "rollout", "--workers", "2", "--budget", "240",
                 "--out", str(out), "--json"]) == 0
    a = SizeAnswer.from_json(json.loads((out / "size.json").read_text()))
    o, r = a.rollout.overstatement, a.rollout.size
    assert o.ratio_ci[0] is not None and o.ratio_ci[0] > 1, o
    assert a.minimum_size is not None and r.size > a.minimum_size, (a.minimum_size, r)
    assert r.size > r.itt_size_formula and a.headline().size == r.size


def test_diagnose_and_size_commands_report_the_overstatement(tmp_path, capsys):
    # a small world: the keys and the printed rows are there, and the size's roll-out answer is consistent
    import json

    from labsim.cli import main

    shrink = ["--set", "area.job_seekers=3000", "--set", "area.burn_in_weeks=26", "--set", "weeks=60",
              "--set", "referral.mode=mandatory", "--set", "referral.target_participants=300",
              "--set", "assumptions=[]",  # the roll-out estimand alone (no evidence ranges)
              "--set", "providers.effort=1.0"]  # full effort: the roll-out size is found whatever the draws (seeds 1-3)
    assert main(["diagnose", "baseline", "--sims", "4", "--workers", "1", "--out", str(tmp_path / "d"), *shrink]) == 0
    assert "Pilot's estimate against the roll-out effect" in capsys.readouterr().out
    d = json.loads((tmp_path / "d" / "diagnosis.json").read_text())["overstatement"]
    assert d["worlds"] == 4 and d["ratio"] == pytest.approx(d["itt"] / d["rollout"])
    assert main(["size", "baseline", "--estimand", "rollout", "--batch", "5", "--budget", "15", "--workers", "1",
                 "--out", str(tmp_path / "s"), *shrink]) == 0
    printed = capsys.readouterr().out
    a = json.loads((tmp_path / "s" / "size.json").read_text())
    assert a["question"]["estimand"] == "rollout" and a["rollout"]["overstatement"]["worlds"] == 5
    assert "Pilot's estimate against the roll-out effect" in printed and "Size to detect the roll-out effect" in printed
    assert {"size", "size_ci", "itt_size_formula", "se_exponent", "power_curve"} <= set(a["rollout"]["size"])
    assert a["headline"]["estimand"] == "rollout" and a["headline"]["size"] == a["rollout"]["size"]["size"]


def test_counterfactual_worlds_of_a_scenario_with_evidence_ranges_validate():
    # zero help sets no-shows to 0, below slack_market's range for referral.no_show: the variant drops
    # that range (and keeps the others) instead of failing validation
    from labsim.config.scenario import load_scenario
    from labsim.design.worlds import at_size, no_pilot, roll_out, zero_help

    from conftest import SCENARIOS

    sc = load_scenario(SCENARIOS / "slack_market.toml")
    null = zero_help(at_size(sc, "participants", 400))
    kept = {a.path for a in null.assumptions}
    assert "referral.no_show" not in kept and "providers.effort_effect" in kept
    assert no_pilot(sc).design.treatment_share == 0 and roll_out(sc).design.treatment_share == 1


def test_edge_cases_of_the_arithmetic():
    # mutation survivors (docs/testing.md): a zero roll-out effect, an interval that starts at exactly 1,
    # a rising SE curve, a zero SE, and an overstatement that is a value
    import dataclasses

    o = overstatement(np.array([0.01, 0.02, 0.03]), np.zeros(3))
    assert math.isnan(o.ratio) and o.ratio_ci == (None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.ratio = 1.0
    assert overstatement_sentence({"ratio": 1.5, "ratio_ci": [1.0, 2.0], "worlds": 9}) is None
    assert size_to_detect(0.01, (math.log(0.5), 0.1), 0.8, 0.05) == math.inf
    assert size_to_detect(0.01, (math.log(0.5), 0.0), 0.8, 0.05) == math.inf
    assert size_to_detect(0.0, (math.log(0.5), -0.5), 0.8, 0.05) == math.inf
    assert math.isnan(rollout_power(0.02, 0.0, 0.05))
    z = stats.norm.ppf(0.975)
    assert fieller(1.0, z, 0.1, 1.0, 0.0) == (None, None)  # the roll-out's interval just touches 0
    sizes = np.array([500.0, 1000, 2000, 4000])
    assert se_fit(np.r_[sizes, 8000], np.r_[0.4 / np.sqrt(sizes), 0.0]) == pytest.approx(se_fit(sizes, 0.4 / np.sqrt(sizes)))
    assert se_fit(sizes[:2], 0.4 / np.sqrt(sizes[:2])) == pytest.approx((math.log(0.4), -0.5))  # two sizes do
    assert se_fit(sizes[:1], 0.4 / np.sqrt(sizes[:1])) is None
    two = overstatement(np.array([0.02, 0.03]), np.array([0.01, 0.012]))  # two worlds are enough
    assert two.worlds == 2 and two.ratio == pytest.approx(0.025 / 0.011)
    one = overstatement(np.array([0.02]), np.array([0.01]))  # one world tells nothing about its spread
    assert one.worlds == 1 and math.isnan(one.ratio) and one.ratio_ci == (None, None)
    assert overstatement_sentence({"ratio": 3.0, "ratio_ci": [None, 4.0], "worlds": 9}) is None  # hand-edited JSON


def _cohorts(rate: float, weeks: int = 10) -> dict:
    return {"cohort_employed": [rate * 100] * weeks, "cohort_n": [100] * weeks}


def test_paired_effects_keep_only_worlds_run_all_three_ways():
    from labsim.design.rollout import paired_effects

    pilots = pd.DataFrame({"replication": [0, 1, 2, 3, 4], "estimate": [0.03, 0.02, 0.01, 0.04, 0.05],
                           "first_intake_week": [1, 1, 1, 1, 0], "last_intake_week": [5, 5, 5, -1, 0]})
    nones = {0: _cohorts(0.30), 1: _cohorts(0.30), 3: _cohorts(0.30), 4: _cohorts(0.30)}
    rollouts = {0: _cohorts(0.32), 2: _cohorts(0.32), 3: _cohorts(0.32), 4: _cohorts(0.32)}
    pairs = paired_effects(pilots, nones, rollouts)
    # 1 lacks a roll-out, 2 a no-pilot run, 3 had no intake; 4's intake was week 0 alone
    assert pairs["replication"].tolist() == [0, 4]
    assert pairs["rollout_effect"].iloc[0] == pytest.approx(0.02) and pairs["itt"].iloc[0] == 0.03


def test_rollout_part_pairs_the_reference_worlds_and_counts_their_runs(monkeypatch):
    from labsim.design import rollout

    from conftest import small_scenario

    def stub(scenario, replications, **kw):
        return ({r: _cohorts(0.30) for r in replications}, {r: _cohorts(0.30 + 0.005 * (1 + r % 2)) for r in replications})

    monkeypatch.setattr(rollout, "run_counterfactuals", stub)
    sizes = np.repeat([250, 500, 1000, 2000, 4000], 4)
    reached = np.minimum(sizes, 1000)  # beyond 1,000 places the catchment fills no more
    rows = pd.DataFrame({"size": sizes, "replication": np.tile(np.arange(4), 5), "participants": reached,
                         "se": 0.3 / np.sqrt(reached), "estimate": 0.02 + 0.001 * np.tile(np.arange(4), 5) + sizes / 1e6,
                         "first_intake_week": 1, "last_intake_week": 5})
    part = rollout.rollout_part(rows, small_scenario(), base=500, power=0.8, alpha=0.05, horizon=26, seed=1,
                                workers=1, by="participants")
    o = part.overstatement
    assert o.worlds == 4 and o.rollout == pytest.approx(0.0075) and o.itt == pytest.approx(0.022)  # at 500
    assert part.sims == 8  # a no-pilot and a roll-out run per world
    assert part.size.se_exponent == pytest.approx(-0.5)  # fitted over the sizes that filled
