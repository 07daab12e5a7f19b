"""The joint evidence (design/evidence.py, issue 34): every assumption drawn together in a space-filling
design, one fit over all its pilots, the size for the target assurance, each end and each assumption's
share from the same pilots, at a cost that does not grow with the number of assumptions; and the
sensitivity screen's intervals and adaptive pilots (design/sensitivity.py).

The stub's pilots test z = estimate / SE against the normal critical value, z ~ N(AZ + BZ theta sqrt(N),
SIGMA_Z^2) with theta = effort_effect / 0.6 - K (no_show - 0.15) (linear in both, as the joint fit
assumes), 90 % of the noise's variance the replication's; an assumption it does not read is idle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from labsim.design.evidence import Range, assess_evidence, design_values, prior_sample
from labsim.design.replicate import SEARCH_FIGURES
from labsim.design.size import SearchSettings, search_size

from conftest import small_scenario
from test_size import AZ, BZ, CENTRAL, SIGMA_Z, C, record

K = 2.0  # theta falls by 0.3 from no_show 0.05 to 0.2
EFFECT = Range("providers.effort_effect", 0.4, CENTRAL, 0.8)
NO_SHOW = Range("referral.no_show", 0.05, 0.15, 0.2)
IDLE_PILOT = Range("payment.attachment_fee_eur", 0.0, 700.0, 2000.0)
IDLE_WORLD = Range("market.elasticity", 0.5, 0.6, 0.7)


def theta(effect: float, no_show: float) -> float:
    return effect / CENTRAL - K * (no_show - 0.15)


def joint_stub(seed: int, theta_of=lambda sc: theta(sc.providers.effort_effect, sc.referral.no_show)):
    """z pilots about AZ + BZ theta sqrt(N), theta the pilot's `theta_of(scenario)` (0 with zero help)."""
    def run(pairs, size, label, figures=SEARCH_FIGURES):
        out = []
        for rep, sc in pairs:
            t = 0.0 if sc.providers.effort == 0.0 else theta_of(sc)
            world = np.random.default_rng([seed, rep]).normal()
            rng = np.random.default_rng([seed, rep, size])
            z = AZ + BZ * t * math.sqrt(size) + SIGMA_Z * (math.sqrt(0.9) * world + math.sqrt(0.1) * rng.normal())
            se = math.sqrt(0.84 / size)
            out.append(record(rep, size, abs(z) > C, z * se, se, figures, z_critical=C))
        return out
    return run


def true_power(size: float, t: np.ndarray) -> np.ndarray:
    mu = AZ + BZ * t * math.sqrt(size)
    return stats.norm.sf((C - mu) / SIGMA_Z) + stats.norm.cdf((-C - mu) / SIGMA_Z)


def true_assured(ranges: list[Range], halve: str | None = None) -> float:
    """The size where the true power averaged over the ranges (uniform; `halve`'s range half as wide
    around its central value) reaches 80 %."""
    g = np.linspace(0, 1, 201)
    effect = EFFECT.quantile(g) if EFFECT in ranges else np.array([CENTRAL])
    no_show = NO_SHOW.quantile(g) if NO_SHOW in ranges else np.array([0.15])
    if halve == EFFECT.path:
        effect = CENTRAL + (effect - CENTRAL) / 2
    if halve == NO_SHOW.path:
        no_show = 0.15 + (no_show - 0.15) / 2
    t = theta(effect[:, None], no_show[None, :]).ravel()
    return optimize.brentq(lambda n: true_power(n, t).mean() - 0.8, 10, 1e7)


def evidence(seed: int, ranges: list[Range], **settings):
    sc, s = small_scenario(), SearchSettings(seed=seed, type_i_sims=0, **settings)
    central = search_size(sc, s, run=joint_stub(seed))
    return central, assess_evidence(sc, s, joint_stub(seed), ranges, central, 0.8)


def test_the_joint_assurance_finds_the_size_over_every_assumption_at_once():
    """Effect and no-show drawn together: the size for 80 % assurance holds the true one (the power
    averaged over both ranges) in its interval, far from the central N*; the fit is the z fit; each end's
    minimum size holds the true size at that end; the fitted curve lies within 3 SE of the batch rates."""
    central, ev = evidence(3, [EFFECT, NO_SHOW])
    truth = true_assured([EFFECT, NO_SHOW])
    found = ev.size_for_assurance
    assert ev.fit == "z" and found.low <= truth <= found.high, (found, truth)
    for end in ev.by_assumption:
        if end.value == (EFFECT.central if end.path == EFFECT.path else NO_SHOW.central):
            continue
        t = theta(end.value, 0.15) if end.path == EFFECT.path else theta(CENTRAL, end.value)
        n_end = optimize.brentq(lambda n: true_power(n, np.array([t]))[0] - 0.8, 10, 1e7)
        assert end.minimum.low <= n_end <= end.minimum.high, (end, n_end)
    for p in ev.curve:
        assert p.fitted_low <= p.fitted <= p.fitted_high
        assert abs(p.fitted - p.assurance) < 3 * math.sqrt(p.fitted * (1 - p.fitted) / 40) + 0.02, p


def test_the_assumption_that_dominates_and_what_halving_its_range_saves():
    """The effect's range moves theta by 0.67, the no-show's by 0.3 (true shares of the spread
    0.67^2 / (0.67^2 + 0.3^2) = 0.83 and 0.17), an idle assumption none. Over 10 seeds the effect is always
    the one to pin down first; each share's 95 % interval holds the truth in >= 8 of 10 for both (3 misses
    or more has P = 1 % at 95 % coverage), and the idle assumption is
    distinguishable from noise in at most 2 (P(3 or more) = 1 % at a 5 % false-positive rate). The saving
    from halving the effect's range holds the true saving in its interval (seed 5)."""
    held, false_alarms = {EFFECT.path: 0, NO_SHOW.path: 0}, 0
    for seed in range(5, 15):
        ev = evidence(seed, [EFFECT, NO_SHOW, IDLE_PILOT])[1]
        shares = {i.path: i for i in ev.influence}
        assert ev.dominant().path == EFFECT.path and abs(sum(i.share for i in ev.influence) - 1) < 1e-9
        for path, truth in ((EFFECT.path, 0.83), (NO_SHOW.path, 0.17)):
            held[path] += shares[path].share_ci[0] <= truth <= shares[path].share_ci[1]
        false_alarms += shares[IDLE_PILOT.path].distinguishable
        if seed == 5:
            top = ev.dominant()
            true_saving = true_assured([EFFECT, NO_SHOW]) - true_assured([EFFECT, NO_SHOW], halve=EFFECT.path)
            assert true_saving > 0 and top.saving_ci[0] <= true_saving <= top.saving_ci[1], (top, true_saving)
            assert (top.halved_low, top.halved_high) == pytest.approx((0.5, 0.7))
    assert min(held.values()) >= 8 and false_alarms <= 2, (held, false_alarms)


def test_the_joint_evidence_costs_the_same_however_many_assumptions():
    """One, two or four ranges: the joint search spends at most half the central budget each time (the
    ends and the shares come from the same pilots), where a search per end would spend that per end."""
    s = SearchSettings()
    spent = [evidence(5, ranges)[1].sims for ranges in ([EFFECT], [EFFECT, NO_SHOW],
                                                        [EFFECT, NO_SHOW, IDLE_PILOT, IDLE_WORLD])]
    assert all(n <= s.budget // 2 for n in spent), spent


def test_each_batch_is_a_latin_hypercube_and_world_assumptions_stay_with_their_world():
    """Pilot assumptions: each batch of 40 puts one pilot in each fortieth of every range. World
    assumptions: one value per world (replication mod batch), the same in every batch, and also one per
    fortieth over the worlds."""
    values = design_values([NO_SHOW, IDLE_PILOT, IDLE_WORLD], seed=1, batch=40)
    for k in (0, 1, 2):
        batch = [values(40 * k + i) for i in range(40)]
        for r in (NO_SHOW, IDLE_PILOT, IDLE_WORLD):
            strata = np.floor((np.array([b[r.path] for b in batch]) - r.low) / (r.high - r.low) * 40)
            assert sorted(strata) == list(range(40)), r.path
    assert all(values(i)[IDLE_WORLD.path] == values(i + 80)[IDLE_WORLD.path] for i in range(40))
    assert any(values(i)[NO_SHOW.path] != values(i + 80)[NO_SHOW.path] for i in range(40))


def test_a_triangular_range_is_drawn_through_its_quantiles():
    """The prior sample of a triangular range peaking at the central value has the triangle's mean."""
    r = Range("providers.effort_effect", 0.45, 0.6, 0.78, "triangular")
    u = prior_sample([r], seed=2)[:, 0]
    values = r.central + u * (r.high - r.low)
    assert values.min() >= r.low and values.max() <= r.high
    assert values.mean() == pytest.approx((0.45 + 0.6 + 0.78) / 3, abs=0.005)


@pytest.mark.parametrize("lang, words", [("en", "Pin down the effect of the service on search first"),
                                         ("fi", "Selvitä ensin"), ("sv", "Ta först reda på")])
def test_the_verdict_says_which_assumption_to_pin_down_first(lang, words):
    from labsim.report.answers import size_answer

    from test_size import job

    ev = job(4, joint_stub(4), [EFFECT, NO_SHOW]).answer.evidence
    assert ev.pin_down_first == EFFECT.path
    said = size_answer(job(4, joint_stub(4), [EFFECT, NO_SHOW]).answer, lang)
    line = next(v for v in said.verdict if words in v)
    assert str(round(100 * ev.influence[0].share)) in line


# -- the sensitivity screen's intervals ----------------------------------------------------------------


def _noisy(task, seed):
    """A pilot whose estimate is effect / 50 plus the world's noise (shared by every point) and its own
    (SD 0.01 each): over effort_effect 0.2-1.2 the power runs from about 5 to 60 %, and with 10 pilots a
    swing's interval is about +-15 points wide."""
    point, job = task.payload
    world = np.random.default_rng([7, task.key[-1]]).normal(0, 0.01)  # the same at every point: CRN
    own = np.random.default_rng([7, task.key[-1], point]).normal(0, 0.01)  # the pilot's own at this point
    return {"point": point, "replication": task.key[-1],
            "estimate": job.scenario.providers.effort_effect / 50 + world + own, "se": 0.01, "reject": False}


def test_tornado_intervals_cover_the_swing_and_pilots_are_added_until_ten_points_show(monkeypatch):
    """The swing's interval excludes 0 for the effect and covers it for an idle assumption (marked not
    distinguishable); started at 10 pilots a point, more are added until every swing's interval is within
    +-10 points; capped at 10, the answer says it is not resolved."""
    from labsim.design import sensitivity as sens
    from labsim.design.sensitivity import SensitivitySettings, analyse, ranges_to_vary

    monkeypatch.setattr(sens, "_simulate_point", _noisy)
    sc = small_scenario()
    ranges = ranges_to_vary(sc, ["providers.effort_effect=0.2:1.2", "payment.attachment_fee_eur=0:2000"])
    res = analyse(sc, ranges, SensitivitySettings(method="oat", sims=10, workers=1))
    effect, idle = res.parameters
    assert effect.distinguishable and effect.swing_ci[0] > 0
    assert not idle.distinguishable and idle.swing_ci[0] <= 0 <= idle.swing_ci[1]
    assert res.sims > 10 and res.resolved
    assert all(p.interval_half_width <= 0.10 for p in res.parameters)
    lo, hi = res.central_power_ci
    assert lo <= res.central_power <= hi
    capped = analyse(sc, ranges, SensitivitySettings(method="oat", sims=10, max_sims=10, workers=1))
    assert capped.sims == 10 and not capped.resolved


def test_morris_effects_are_salibs_and_carry_intervals(monkeypatch):
    """mu*, mu and sigma computed from the trajectories equal SALib's `morris.analyze`; each has an
    interval around it."""
    from SALib.analyze import morris as morris_analyze

    from labsim.design import sensitivity as sens
    from labsim.design.sensitivity import SensitivitySettings, analyse, ranges_to_vary

    monkeypatch.setattr(sens, "_simulate_point", _noisy)
    sc = small_scenario()
    ranges = ranges_to_vary(sc, ["providers.effort_effect=0.2:1.2", "payment.attachment_fee_eur=0:2000"])
    s = SensitivitySettings(method="morris", trajectories=6, sims=20, max_sims=20, workers=1)
    res = analyse(sc, ranges, s)
    x = sens.design_points(ranges, s)
    y = np.array([p.power for p in res.points])
    ref = morris_analyze.analyze({"num_vars": len(ranges), "names": [r.path for r in ranges],
                                  "bounds": [[r.low, r.high] for r in ranges]}, x, y, num_levels=sens.LEVELS, seed=1)
    for p in res.parameters:
        i = [r.path for r in ranges].index(p.path)
        assert p.mu_star == pytest.approx(ref["mu_star"][i], abs=1e-12)
        assert p.mu == pytest.approx(ref["mu"][i], abs=1e-12)
        assert p.sigma == pytest.approx(ref["sigma"][i], abs=1e-12)
        assert p.mu_star_ci[0] <= p.mu_star + 1e-12 and p.mu_star <= p.mu_star_ci[1] + 1e-12
    assert res.parameters[0].path == "providers.effort_effect" and res.parameters[0].distinguishable


def test_a_coefficient_with_a_negative_clustered_variance_is_not_judged():
    """A covariance clustered over few worlds need not be positive semi-definite; an assumption whose own
    variance comes out negative reads 'not distinguishable' instead of failing (it crashed `labsim size
    slack_market --design saturation --budget 15`)."""
    from labsim.design.evidence import _influence
    from labsim.design.power_fit import JointFit

    fit = JointFit("probit", np.array([-1.0, 0.05, 0.02, 0.01]), np.diag([0.01, 1e-5, -1e-6, 1e-6]))
    ranges = [Range("a", 0.0, 0.5, 1.0), Range("b", 0.0, 0.5, 1.0)]
    u = np.random.default_rng(1).uniform(-0.5, 0.5, (200, 2))
    coef = fit.params[None, :] + np.zeros((10, 1))
    out = {i.path: i for i in _influence(fit, ranges, u, 0.8, (100.0, 10_000.0), 1_500.0, np.full(10, 1_500.0),
                                         coef, np.ones(10))}
    assert out["a"].distinguishable is False  # variance < 0: not judged
    assert out["b"].distinguishable is True  # 0.01 against an SE of 0.001


# -- the central size read from every pilot (size_job: the joint search refines it) -------------------------


def bent_stub(seed: int, bend: float):
    """The z stub with a curve that bends over the effect's range: theta = effect / 0.6 + `bend` u^2, u the
    effect off 0.6 in widths of EFFECT's range, so that at the scenario's value (u = 0) it is the z stub's
    and the joint pilots, drawn over the range, lie above the line through it."""
    def bent(sc) -> float:
        e = sc.providers.effort_effect
        return e / CENTRAL + bend * float(EFFECT.scaled(e)) ** 2
    return joint_stub(seed, bent)


def test_the_central_size_read_from_every_pilot_is_unbiased_and_covers_the_known_size():
    """The size job with the effect's range on the z stub (linear in the effect, as the joint fit assumes):
    the central N* is read from the joint fit at the scenario's values in most seeds, and over 20 seeds its
    95 % interval holds the stub's true N* in >= 80 % (3 binomial SE below 95 % over 20) and the mean N*
    lies within 3 Monte Carlo SE of it (the textbook check of an unbiased estimate)."""
    from test_size import job, n_true_z, z_stub

    truth = n_true_z()
    answers = [job(seed, z_stub(seed), [EFFECT]).answer for seed in range(12, 32)]
    n = np.array([a.minimum.n_star for a in answers])
    covered = np.mean([a.minimum.low <= truth <= a.minimum.high for a in answers])
    joint = sum(a.curve.joint for a in answers)
    assert joint >= 16 and covered >= 0.8, (joint, covered)
    assert abs(n.mean() - truth) < 3 * n.std(ddof=1) / math.sqrt(n.size), (n.mean(), truth)


def test_a_curve_that_bends_over_a_range_leaves_the_central_size_to_its_own_pilots():
    """A curve that bends over the range (theta + 3 u^2, u in [-0.5, 0.5]: the joint pilots' mean theta lies
    0.25 above the line through the scenario's value, about 0.7 in z at N*, so the joint fit read at u = 0
    would put N* near 1,500 instead of 1,988): the joint pilots disagree with the central ones there, the
    central N* is read from the central pilots alone (its curve not the joint one), and its interval holds
    the true N* at the scenario's value (the z stub's)."""
    from test_size import job, n_true_z

    truth = n_true_z()
    for seed in (3, 4):
        a = job(seed, bent_stub(seed, 3.0), [EFFECT]).answer
        assert not a.curve.joint and a.curve.agreement is None, seed
        assert a.minimum.low <= truth <= a.minimum.high, (seed, a.minimum, truth)
