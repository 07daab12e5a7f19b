"""Tests written to kill mutants that survived `bash scripts/mutation.sh` (docs/testing.md lists them):
each pins one piece of the statistical core's arithmetic against an independent computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labsim.results.estimate import itt


def _two_arms(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "pilot", "control")
    y = rng.random(n) < np.where(arm == "pilot", 0.45, 0.35)
    return pd.DataFrame({"arm": arm, "y": y.astype(float)})


def test_individual_interval_and_p_value_are_the_normal_ones_at_the_asked_alpha():
    df = _two_arms()
    e = itt(df, "y", alpha=0.1)
    z = stats.norm.ppf(0.95)
    assert e.ci_low == pytest.approx(e.estimate - z * e.se)
    assert e.ci_high == pytest.approx(e.estimate + z * e.se)
    assert e.p_value == pytest.approx(2 * stats.norm.sf(abs(e.estimate / e.se)))
    assert e.n == len(df) and e.clusters is None


def test_cluster_interval_uses_t_with_clusters_minus_one_degrees_of_freedom():
    rng = np.random.default_rng(2)
    office = np.repeat(np.arange(6), 50)
    df = pd.DataFrame({"arm": np.where(office < 3, "pilot", "control"), "office": office,
                       "y": (rng.random(300) < 0.3 + 0.05 * rng.normal(size=6)[office]).astype(float)})
    e = itt(df, "y", cluster="office", test="t")  # the t test (below 20 clusters the default is the bootstrap)
    t = stats.t(df=5)
    assert e.clusters == 6
    assert e.ci_high - e.estimate == pytest.approx(t.ppf(0.975) * e.se)
    assert e.p_value == pytest.approx(2 * t.sf(abs(e.estimate / e.se)))


def test_an_estimate_is_a_value_that_cannot_be_changed():
    import dataclasses

    e = itt(_two_arms(), "y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.se = 0.0


def test_too_few_people_or_clusters_give_no_estimate():
    df = _two_arms(10)
    none = itt(df.iloc[:3], "y")  # 2 pilot, 1 control
    assert np.isnan(none.estimate) and none.n == 0 and none.clusters is None
    assert np.isfinite(itt(df.iloc[:4], "y").estimate)  # 2 and 2: enough
    one_pilot = pd.DataFrame({"arm": ["pilot"] + ["control"] * 5, "y": [1.0, 0, 1, 0, 0, 1]})
    assert np.isnan(itt(one_pilot, "y").estimate)
    one = df.assign(office=0)
    assert np.isnan(itt(one, "y", cluster="office").estimate)
    two = df.assign(office=np.arange(10) % 2)
    assert itt(two, "y", cluster="office").clusters == 2
    missing = df.assign(y=np.where(np.arange(10) < 5, np.nan, df["y"]))
    assert itt(missing, "y").n == 5


def test_did_needs_two_people_in_each_area_and_period():
    from labsim.results.estimate import did

    cells = [(a, b) for a in ("pilot", "control") for b in (True, False)]
    df = pd.DataFrame([{"arm": a, "before_pilot": b, "y": float(i % 2), "office": i % 4}
                       for i, (a, b) in enumerate(cells * 2)])
    assert np.isfinite(did(df, "y").estimate)
    for row in range(4):  # one person fewer in each area x period cell in turn: no estimate
        assert np.isnan(did(df.drop(index=row), "y").estimate), cells[row]


def _anova_icc(y: np.ndarray, groups: np.ndarray, sizes: np.ndarray) -> float:
    n, k = y.size, sizes.size
    means = np.array([y[groups == g].mean() for g in range(k)])
    msb = (sizes * (means - y.mean()) ** 2).sum() / (k - 1)
    msw = sum(((y[groups == g] - means[g]) ** 2).sum() for g in range(k)) / (n - k)
    m0 = (n - (sizes**2).sum() / n) / (k - 1)
    return (msb - msw) / (msb + (m0 - 1) * msw)


def test_icc_matches_the_anova_formula_with_unequal_clusters():
    from labsim.results.estimate import icc_oneway

    rng = np.random.default_rng(9)
    sizes = np.array([5, 10, 20, 40, 15])
    groups = np.repeat(np.arange(5), sizes)
    y = rng.normal(size=5)[groups] + rng.normal(size=groups.size)
    assert icc_oneway(y, groups) == pytest.approx(_anova_icc(y, groups, sizes))
    two = np.repeat([0, 1], [30, 30])  # two clusters are enough
    y2 = np.r_[rng.normal(1, 1, 30), rng.normal(-1, 1, 30)]
    icc = icc_oneway(y2, two)
    assert icc > 0 and icc == pytest.approx(_anova_icc(y2, two, np.array([30, 30])))
    assert icc_oneway(rng.normal(size=100), np.repeat(np.arange(50), 2)) >= 0.0  # never negative
    assert icc_oneway(y, np.zeros_like(groups)) == 0.0  # one cluster
    assert icc_oneway(y[:3], np.arange(3)) == 0.0  # one person per cluster
    assert icc_oneway(np.ones(20), np.repeat(np.arange(4), 5)) == 0.0  # no variation at all
    assert icc_oneway(y * 0.01, groups) == pytest.approx(icc_oneway(y, groups))  # free of the outcome's scale


def _cohen_h(p1: float, p0: float) -> float:
    return 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p0))


def test_pilot_arm_needed_is_the_normal_formula_on_cohens_h():
    from labsim.design.analytic import pilot_arm_needed

    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    for ratio in (1.0, 2.0):
        n = (z / _cohen_h(0.35, 0.3)) ** 2 * (1 + 1 / ratio)
        assert pilot_arm_needed(0.3, 0.05, 0.05, 0.8, ratio=ratio) == pytest.approx(n, rel=1e-3)
    for bad in ((0.3, 0.0), (0.3, -0.01), (0.3, float("nan")), (0.0, 0.05), (1.0, 0.05)):
        assert pilot_arm_needed(*bad, 0.05, 0.8) == float("inf")
    assert np.isfinite(pilot_arm_needed(0.9, 0.2, 0.05, 0.8))  # a treated rate above 1 is clipped


def test_two_proportion_power_is_the_normal_formula_for_unequal_arms():
    from labsim.design.analytic import two_proportion_power

    h, n1, n2 = _cohen_h(0.35, 0.3), 800, 1600
    lam = abs(h) / np.sqrt(1 / n1 + 1 / n2)
    z = stats.norm.ppf(0.975)
    expected = stats.norm.cdf(lam - z) + stats.norm.cdf(-lam - z)
    assert two_proportion_power(0.3, 0.05, n1, n2, 0.05) == pytest.approx(expected, rel=1e-6)
    assert np.isnan(two_proportion_power(0.3, 0.05, 1, 100, 0.05))
    assert np.isnan(two_proportion_power(0.3, 0.05, 100, 1, 0.05))
    assert np.isfinite(two_proportion_power(0.3, 0.05, 2, 2, 0.05))
    assert np.isnan(two_proportion_power(0.3, float("nan"), 100, 100, 0.05))
    # rates outside (0, 1) are clipped to 1e-9 from the ends, not beyond them
    top = 1 - 1e-9
    lam = abs(_cohen_h(top, 0.9)) / np.sqrt(2 / 100)
    assert two_proportion_power(0.9, 0.2, 100, 100, 0.05) == pytest.approx(
        stats.norm.cdf(lam - z) + stats.norm.cdf(-lam - z), rel=1e-9)
    lam = abs(_cohen_h(0.8, top)) / np.sqrt(2 / 100)
    assert two_proportion_power(1.0, -0.2, 100, 100, 0.05) == pytest.approx(
        stats.norm.cdf(lam - z) + stats.norm.cdf(-lam - z), rel=1e-9)
    for p0, itt_, p1, q0 in ((0.05, -0.1, 1e-9, 0.05), (0.0, 0.1, 0.1, 1e-9)):  # the bottom end likewise
        lam = abs(_cohen_h(p1, q0)) / np.sqrt(2 / 100)
        assert two_proportion_power(p0, itt_, 100, 100, 0.05) == pytest.approx(
            stats.norm.cdf(lam - z) + stats.norm.cdf(-lam - z), rel=1e-9)


def test_design_effect_ignores_a_negative_icc_and_grows_with_unequal_clusters():
    from labsim.design.analytic import design_effect

    assert design_effect(50, -0.1) == 1.0
    assert design_effect(51, 0.02, cv=0.5) == pytest.approx(1 + (1.25 * 51 - 1) * 0.02)


# --- the size search, the evidence ranges and the roll-out (scripts/mutation_size.toml, issue 25) ---------

def test_a_batch_of_five_and_a_budget_of_three_batches_are_the_smallest_allowed():
    """size.py `SearchSettings.check`: the bounds are 5 and 3 batches, both inclusive."""
    from labsim.config.errors import LabsimError
    from labsim.design.size import SearchSettings

    SearchSettings(batch=5, budget=15).check()
    for batch, budget in ((4, 15), (5, 14)):
        with pytest.raises(LabsimError, match="--batch must be 5 or more"):
            SearchSettings(batch=batch, budget=budget).check()


def test_the_most_pilots_of_a_search_add_up_its_parts():
    """size.py `most_pilots` (the progress bar's total): budget + type-I check + accounts batch."""
    from labsim.design.size import SearchSettings, most_pilots

    assert most_pilots(SearchSettings(budget=300, type_i_sims=200, batch=40)) == 540


def test_the_analytic_effect_se_is_the_sample_sd_over_root_n():
    """size.py `analytic_near`: the pooled effect's SE is the sample SD (ddof 1) over sqrt(pilots), and its
    interval is +-1.96 of it, on four pilots where ddof 1 and 2 differ by a fifth."""
    from labsim.design.size import analytic_near

    est = np.array([0.01, 0.02, 0.03, 0.06])
    df = pd.DataFrame({"size": 1000, "estimate": est, "se": 0.01, "part": "search"})
    a = analytic_near(df, 1000, 0.05, 0.8)
    assert a.effect == pytest.approx(0.03) and a.effect_se == pytest.approx(est.std(ddof=1) / 2)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert a.size == pytest.approx(1000 * (z * 0.01 / 0.03) ** 2)
    half = stats.norm.ppf(0.975) * a.effect_se
    assert a.ci == pytest.approx((1000 * (z * 0.01 / (0.03 + half)) ** 2, 1000 * (z * 0.01 / (0.03 - half)) ** 2))


def test_halving_a_range_keeps_it_around_the_scenario_value():
    """evidence.py `_influence`: the range "half as wide around the scenario's value" runs from
    central - (central - low) / 2 to central + (high - central) / 2, for every assumption (stub pilots)."""
    import re

    from labsim.design.evidence import assess_evidence
    from labsim.design.size import SearchSettings, search_size

    from conftest import small_scenario
    from test_evidence import EFFECT, NO_SHOW, joint_stub

    sc, s = small_scenario(), SearchSettings(seed=5, type_i_sims=0)
    central = search_size(sc, s, run=joint_stub(5))
    said: list[str] = []
    ev = assess_evidence(sc, s, joint_stub(5), [EFFECT, NO_SHOW], central, 0.8, said.append)
    # anchored on the central search's pilots, the joint search starts with one batch at the central N*
    # (evidence.py `assurance`), not a bracket of three sizes
    n0 = central.minimum.n_star
    first = [int(re.sub(r"\D", "", m.split("=")[-1])) for m in said if "bracketing" in m]
    assert first[:1] == [round(n0)], (first, n0)
    influence = {i.path: i for i in ev.influence}
    for r in (EFFECT, NO_SHOW):
        i = influence[r.path]
        assert (i.halved_low, i.halved_high) == pytest.approx(
            (r.central - (r.central - r.low) / 2, r.central + (r.high - r.central) / 2))
    assert (influence[NO_SHOW.path].halved_low, influence[NO_SHOW.path].halved_high) == pytest.approx((0.1, 0.175))


def test_widening_quadruples_the_largest_size_until_the_power_is_reached():
    """size.py `widen`: from one batch at 100 where no pilot rejects, batches at 400, 1,600 and 6,400 (the
    stub rejects from 5,000 on), and none beyond the largest size allowed (a cap of 2,000 stops at it)."""
    from labsim.design.size import SearchState, SearchSettings, widen

    from conftest import small_scenario
    from test_size import record

    def run(pairs, size, label, figures=()):
        return [record(rep, size, size >= 5000, 0.0, 0.01, figures) for rep, _ in pairs]

    s = SearchSettings(batch=5, budget=100, type_i_sims=0)
    sc = small_scenario()
    for high, sizes in ((100_000, [100, 400, 1600, 6400]), (2000, [100, 400, 1600, 2000])):
        search = SearchState(s, lambda rep, size: sc, run, 10, high, s.budget)
        search.batch_at(100, "bracketing")
        widen(search)
        assert sorted(search.trials.sizes) == sizes


def test_the_effect_at_an_end_needs_more_pilots_than_assumptions():
    """evidence.py `_itt_at`: a line through the joint pilots' estimates needs more pilots than its
    coefficients; with two pilots and one assumption (two coefficients) there is no fit."""
    from types import SimpleNamespace

    from labsim.design.evidence import Range, _itt_at

    r = Range("providers.effort_effect", 0.4, 0.6, 0.8)
    df = pd.DataFrame({"estimate": [0.01, 0.03, 0.05], "at:providers.effort_effect": [0.4, 0.6, 0.8]})
    search = SimpleNamespace(trials=SimpleNamespace(frame=lambda: df))
    # the scaled value (0.8 - 0.6) / 0.4 = 0.5 is the high end: the line through the three pilots gives 0.05
    assert _itt_at(search, [r], np.array([[0.5]])) == pytest.approx(0.05, abs=1e-9)
    few = SimpleNamespace(trials=SimpleNamespace(frame=lambda: df.iloc[:2]))
    assert _itt_at(few, [r], np.array([[0.5]])) is None


def test_the_central_search_rows_are_numbered_once():
    """size.py: the search's and the accounts batch's rows, concatenated, are numbered 0..n-1 (a repeated
    index would let a later column be aligned to the wrong pilot)."""
    from test_size import search, z_stub

    rows = search(3, z_stub(3)).rows
    assert (rows["part"] == "accounts").any() and rows.index.equals(pd.RangeIndex(len(rows)))


def test_a_type_i_check_is_a_value_that_cannot_be_changed():
    """size.py `TypeICheck` is frozen: nothing is added to an answer after it is made."""
    from dataclasses import FrozenInstanceError

    from labsim.design.size import TypeICheck

    with pytest.raises(FrozenInstanceError):
        TypeICheck(1040, 0.05, 0.015, (0.02, 0.1), 200).rate = 0.0
