"""labsim plan (issue 27): the closed-form allocations, the levers, and the plan's steps against a stub
simulator whose power and fees are known; bad input on one line.

The stub's pilots: effect 0.05 under mandatory referral, 0.02 under voluntary, on a 30 % control rate;
estimate ~ N(effect, 0.84 / participants), z tested against 1.96; the buyer pays 1,000 EUR per participant
(+-10 % over pilots); 2 people randomised per participant."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import optimize, stats

from labsim.cli import main
from labsim.config.errors import LabsimError
from labsim.design.plan import (
    Plan, PlanSettings, candidates, cheapest_allocation, parse_levers, people_per_cluster, plan, treated_share,
)
from labsim.design.replicate import SEARCH_FIGURES
from labsim.report.plan import verdict

from conftest import SCENARIOS, small_scenario

C = stats.norm.ppf(0.975)


# -- closed forms -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("c_cluster, c_person, icc", [(20_000, 30, 0.05), (5_000, 100, 0.2), (1_000, 15, 0.01)])
def test_people_per_cluster_minimises_the_variance_a_budget_buys(c_cluster, c_person, icc):
    """Raudenbush 1997: with J = B / (c_cluster + n c_person) clusters, Var ~ (ICC + (1 - ICC) / n) / J;
    its numerical minimum over n is the closed form."""
    budget = 1e7
    var = lambda n: (icc + (1 - icc) / n) * (c_cluster + n * c_person) / budget  # noqa: E731
    n_num = optimize.minimize_scalar(var, bounds=(1, 1e5), method="bounded", options={"xatol": 1e-6}).x
    assert people_per_cluster(c_cluster, c_person, icc) == pytest.approx(n_num, rel=1e-3)
    assert math.isinf(people_per_cluster(c_cluster, c_person, 0.0))


@pytest.mark.parametrize("c_treated, c_control", [(9.0, 1.0), (2_000.0, 15.0), (1.0, 1.0)])
def test_treated_share_minimises_the_variance_a_budget_buys(c_treated, c_control):
    """Liu 2003: N = B / (p c_t + (1 - p) c_c) people, Var ~ 1 / (N p (1 - p)); a treatment 9x as costly
    as control gets a quarter of the people."""
    var = lambda p: (p * c_treated + (1 - p) * c_control) / (p * (1 - p))  # noqa: E731
    p_num = optimize.minimize_scalar(var, bounds=(1e-4, 1 - 1e-4), method="bounded", options={"xatol": 1e-9}).x
    assert treated_share(c_treated, c_control) == pytest.approx(p_num, abs=1e-5)
    assert treated_share(9.0, 1.0) == pytest.approx(0.25)


# -- levers -----------------------------------------------------------------------------------------------


def test_levers_make_every_combination_and_refuse_unknown_ones():
    levers = parse_levers(["referral.mode=voluntary,mandatory", "design.estimator=difference,adjusted",
                           "design.treatment_share=0.3,0.5"])
    assert len(candidates(levers)) == 8
    assert len(candidates({})) == 1
    for bad in ["referral.rule=mandatory", "referral.mode=sometimes", "design.treatment_share=1.5",
                "payment.preset=free", "design.randomisation"]:
        with pytest.raises(LabsimError, match="--vary"):
            parse_levers([bad])


@pytest.mark.parametrize("icc, c_cluster, c_treated, c_control", [
    (0.05, 20_000, 30, 30), (0.2, 5_000, 100, 100), (0.01, 1_000, 15, 15),  # equal arm costs
    (0.05, 20_000, 1_000, 15), (0.1, 20, 30, 1), (0.02, 50_000, 500, 500 / 9),  # a pilot person costs more
])
def test_the_plans_allocation_is_the_closed_forms(icc, c_cluster, c_treated, c_control):
    """The plan's cheapest allocation for an office design (a search over whole people per office and
    shares in steps of 0.01) is the closed forms' optimum: people per office n* = sqrt((c_office / c_person)
    (1 - ICC) / ICC) (Raudenbush 1997) with c_person the person's cost at the chosen share, within the whole
    number either side; and offices to the pilot p / (1 - p) = sqrt(c_control / c_treated) (Liu 2003) with
    each arm's cost per office at the chosen n, within the grid's half step (and half a person's effect).
    With equal arm costs: half the offices to the pilot. Its offices reach the target: power >= 80 %."""
    a = cheapest_allocation(icc, 0.45, 0.03, c_cluster, c_treated, c_control)
    c_person = a.share * c_treated + (1 - a.share) * c_control
    assert abs(a.per_cluster - people_per_cluster(c_cluster, c_person, icc)) <= 1
    a_t, a_c = c_cluster + a.per_cluster * c_treated, c_cluster + a.per_cluster * c_control
    liu = treated_share(a_t, a_c)
    assert abs(a.share - liu) <= 0.005 + abs(treated_share(a_t + c_treated, a_c + c_control) - liu)
    if c_treated == c_control:
        assert a.share == 0.5
    var = 0.45 ** 2 * (icc + (1 - icc) / a.per_cluster) / (a.clusters * a.share * (1 - a.share))
    assert stats.norm.cdf(0.03 / math.sqrt(var) - C) >= 0.8
    assert cheapest_allocation(icc, 0.45, 0.0, c_cluster, c_treated, c_control) is None
    # with no clustering (ICC 0) the formula wants one huge office: the plan keeps two in each arm
    flat = cheapest_allocation(0.0, 0.45, 0.03, c_cluster, c_treated, c_control)
    assert flat.clusters * flat.share >= 2 - 1e-9 and flat.clusters * (1 - flat.share) >= 2 - 1e-9


# -- the plan against a stub ------------------------------------------------------------------------------


def stub(seen: list | None = None):
    """Pilots with a known effect by referral rule, fees 1,000 EUR per participant (+-10 %)."""
    def run(pairs, size, label, figures=SEARCH_FIGURES):
        out = []
        for rep, sc in pairs:
            if seen is not None:
                seen.append((label, rep))
            mandatory = sc.referral.mode == "mandatory"  # voluntary: the area fills a quarter of the places
            effect = 0.0 if sc.providers.effort == 0.0 else (0.05 if mandatory else 0.02)
            rng = np.random.default_rng([7, rep, size, sc.referral.mode == "mandatory"])
            se = math.sqrt(0.84 / size)
            est = effect + se * rng.normal()
            n = int(size)
            out.append({"replication": rep, "world": rep, "size": size, "reject": abs(est / se) > C, "estimate": est,
                        "se": se, "z_critical": C, "control_mean": 0.3, "n_pilot": n, "n_control": n, "take_up": 1.0,
                        "late": est, "icc": np.nan, "participants": n if mandatory else n // 4, "assigned": 2 * n,
                        "week_target_reached": 20 if mandatory else None,
                        "last_intake_week": 20, "break_even_clients": 50.0, "providers_viable": 1.0,
                        "purchaser_paid": n * 1000.0 * (1 + 0.1 * rng.uniform(-1, 1))})
        return out
    return run


def _plan(tmp_path, *vary, resume=False, seen=None, **settings):
    sc = small_scenario("assumptions=[]")  # no evidence ranges: the assurance is the power
    s = PlanSettings(probe=10, batch=20, budget=200, frontier=1, precision=0.2, **settings)
    return sc, plan(sc, parse_levers(list(vary)), s, tmp_path / "plan", resume=resume, run=stub(seen))


def test_the_plan_buys_the_cheaper_rule_and_prices_it(tmp_path):
    """Mandatory referral (effect 0.05) needs about 6x fewer participants than voluntary (0.02): it is the
    answer; voluntary is dominated and gets no full search; the price is the fees plus the fixed costs."""
    sc, p = _plan(tmp_path, "referral.mode=voluntary,mandatory", "design.treatment_share=0.5")
    answer = p.answer()
    assert Plan.from_json(json.loads(json.dumps(answer.to_json()))).to_json() == answer.to_json()  # plan.json reads back
    rows = {c.referral_mode: c for c in answer.candidates}
    assert rows["voluntary"].pruned == "dominated" and not rows["voluntary"].searched
    assert rows["mandatory"].searched and answer.answer.candidate == "mandatory, 0.5"
    # 80 % power for 0.05 with SE sqrt(0.84 / N): N = 0.84 ((1.96 + 0.84) / 0.05)^2, about 2,640
    n_true = 0.84 * ((C + stats.norm.ppf(0.8)) / 0.05) ** 2
    assert answer.answer.size == pytest.approx(n_true, rel=0.2)
    costs = sc.costs
    fixed = costs.fixed(sc.area.offices)
    per = 1000.0 + 2 * costs.evaluation_per_person.value
    assert answer.answer.cost == pytest.approx(fixed + per * answer.answer.size, rel=0.05)
    lo, hi = answer.answer.cost_ci
    assert lo < answer.answer.cost < hi
    assert verdict(answer, "en")[0].startswith("The cheapest pilot that answers with 80% assurance: mandatory referral")
    risk = verdict(answer, "en")[1]
    assert risk.startswith("voluntary referral") and "cannot reach 80% assurance within the area's eligible pool" in risk
    assert "fill only about" in risk
    assert all(len(verdict(answer, lang)) == 2 for lang in ("fi", "sv"))


def test_candidates_share_their_pilots_and_a_stopped_plan_resumes(tmp_path):
    """Common random numbers: every candidate's probe runs replications 0 to probe - 1. Run again with
    --resume, the stored probes and searches are read, not simulated."""
    seen: list = []
    _plan(tmp_path, "referral.mode=voluntary,mandatory", "design.treatment_share=0.5", seen=seen)
    probes = [rep for label, rep in seen if label == "probe"]
    assert probes == list(range(10)) * 2
    again: list = []
    _, p = _plan(tmp_path, "referral.mode=voluntary,mandatory", "design.treatment_share=0.5", resume=True, seen=again)
    assert again == [] and p.answer().answer.candidate == "mandatory, 0.5"
    with pytest.raises(LabsimError, match="another scenario"):
        _plan(tmp_path, "referral.mode=voluntary,mandatory", resume=True)


def test_a_budget_below_every_candidate_is_an_answer_and_more_money_more_assurance(tmp_path):
    _, p = _plan(tmp_path, "referral.mode=mandatory", "design.treatment_share=0.5", max_cost=1_000.0)
    answer = p.answer()
    assert answer.answer is None
    assert "does not cover the fixed costs" in verdict(answer, "en")[0]
    _, p = _plan(tmp_path / "b", "referral.mode=mandatory", "design.treatment_share=0.5", max_cost=2_000_000.0)
    best = p.answer().answer
    assert 0 < best.power <= best.power_more <= 1
    assert best.cost <= 2_000_000.0
    # what the budget buys, and what another 10 % would add, in words
    said = verdict(p.answer(), "en")[0]
    assert said.startswith("The best pilot 2.0 M EUR buys: mandatory referral") and "Another 10 % of budget" in said


def test_the_cost_optimal_share_is_a_candidate_of_its_own(tmp_path):
    """Unless the planner varies the treated share, the share the costs call for (Liu 2003) is probed too:
    fees 1,000 EUR per participant against 15 EUR of register data per person give about 11 % treated."""
    _, p = _plan(tmp_path, "referral.mode=mandatory")
    shares = sorted(c.treatment_share for c in p.answer().candidates)
    assert shares[-1] == 0.5 and shares[0] == pytest.approx(treated_share(1000 + 15, 15), abs=0.01)


# -- the command ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, words", [
    (["--vary", "referral.rule=mandatory"], "the plan's levers are"),
    (["--vary", "design.estimator=bayes"], "design.estimator takes difference, adjusted"),
    (["--max-cost", "-5"], "--max-cost must be a positive amount"),
    (["--max-cost", "nan"], "--max-cost must be a positive amount"),
])
def test_bad_input_is_one_line_and_exit_2(argv, words, tmp_path, capsys):
    assert main(["plan", "baseline", "--out", str(tmp_path / "p"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "p").exists()


def test_a_scenario_without_costs_is_refused(tmp_path, capsys):
    text = (SCENARIOS / "baseline.toml").read_text()
    start = text.index("[costs]")
    end = text.index("\n[", start)
    bare = tmp_path / "bare.toml"
    bare.write_text(text[:start] + text[end + 1:])
    assert main(["plan", str(bare), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no [costs] table" in err and len(err.splitlines()) == 1


# -- the closed forms in a textbook world -----------------------------------------------------------------


@pytest.fixture(scope="module")
def textbook():
    """One textbook world (congestion off, providers that do nothing, so the effect is a constant 0 and
    nobody's outcome depends on anyone's arm): 40 offices that differ (office_spread 1), everyone unemployed
    referred. Each person's employment 26 weeks on and office, about 6,200 people."""
    from labsim.results.estimate import icc_oneway
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    sc = small_scenario("market.congestion=false", "referral.mode=mandatory", "providers.effort=0",
                        "referral.no_show=0", "area.offices=40", "area.office_spread=1.0", "area.job_seekers=12000",
                        "referral.target_participants=100000", "providers.capacity=100000",
                        "referral.eligibility.min_weeks_unemployed=0", "referral.eligibility.max_weeks_unemployed=104")
    m = PilotModel(sc, rng=3)
    m.run_for(sc.weeks)
    ind = results_of(m).individuals
    ind = ind.loc[ind["employed_26w"].notna() & ~ind["before_pilot"]]
    y, office = ind["employed_26w"].to_numpy(float), ind["office"].to_numpy()
    return y, office, icc_oneway(y, office), ind


def _cluster_variance(y, office, n, budget, c_cluster, c_person, draws, seed, share=0.5, c_control=None):
    """Variance of the office design's difference in means at n people per office and a share of offices to
    the pilot, with the offices the budget buys (J = budget / (c_cluster + n (share c_person + (1 - share)
    c_control)); c_control defaults to c_person): offices and people drawn with replacement from the world
    (a two-level bootstrap: the textbook's infinite population), scaled from the whole numbers of offices
    in each arm to the fractional J (variance ~ 1 / J_pilot + 1 / J_control)."""
    c_control = c_person if c_control is None else c_control
    codes, sizes = np.unique(office, return_inverse=True)[1], np.bincount(np.unique(office, return_inverse=True)[1])
    padded = np.zeros((sizes.size, sizes.max()))
    for g in range(sizes.size):
        padded[g, : sizes[g]] = y[codes == g]
    j_exact = budget / (c_cluster + n * (share * c_person + (1 - share) * c_control))
    j_t = max(round(share * j_exact), 2)
    j_c = max(round((1 - share) * j_exact), 2)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, sizes.size, (draws, j_t + j_c))  # offices, with replacement
    people = (rng.random((draws, j_t + j_c, n)) * sizes[picks][..., None]).astype(int)  # people in each
    means = padded[picks[..., None], people].mean(-1)
    est = means[:, :j_t].mean(1) - means[:, j_t:].mean(1)
    scale = (1 / (share * j_exact) + 1 / ((1 - share) * j_exact)) / (1 / j_t + 1 / j_c)
    return est.var(ddof=1) * scale


def test_the_plans_people_per_office_is_the_simulated_optimum(textbook):
    """Raudenbush 1997 in a textbook world: at the ICC the plan measures (one-way ANOVA, as each pilot's
    `icc`), the plan's people per office (`cheapest_allocation`, the closed form's n* within a whole number)
    gives a variance within Monte Carlo error (3 SE of a variance from 3,000 draws: 3 sqrt(2 / 3,000) = 8 %)
    of the least over a grid of sizes at equal cost, and sizes a factor of 4 away give clearly more."""
    y, office, icc, _ = textbook
    c_cluster, c_person, budget = 20.0, 1.0, 1_200.0
    n_star = people_per_cluster(c_cluster, c_person, icc)
    assert 0.03 < icc < 0.3 and 4 < n_star < 60, (icc, n_star)
    chosen = cheapest_allocation(icc, float(np.std(y)), 0.05, c_cluster, c_person, c_person)
    assert abs(chosen.per_cluster - n_star) <= 1 and chosen.share == 0.5
    draws = 3_000
    var = {n: _cluster_variance(y, office, n, budget, c_cluster, c_person, draws, seed=n)
           for n in sorted({2, 4, 8, 16, 32, 64, chosen.per_cluster})}
    tol = 3 * math.sqrt(2 / draws)
    best = min(var.values())
    assert var[chosen.per_cluster] <= best * (1 + tol), var
    far = [n for n in var if not n_star / 4 < n < 4 * n_star]
    assert far and all(var[n] > best * (1 + tol) for n in far), var


def test_the_plans_share_of_offices_is_the_simulated_optimum(textbook):
    """Liu 2003 for offices in a textbook world: a person in a pilot office costs 30, in a control office
    1, and each office 20. The plan's allocation (people per office and share of offices to the pilot at the
    least cost) gives, at its people per office and equal cost, a variance within Monte Carlo error of the
    least over shares 15-50 %, and half the offices to the pilot clearly more (the closed form's variance
    there is about 18 % more). The curve is flat near its least (25-35 % within 3 %), so the error is that of
    a ratio of two independent estimates: 3 x sqrt(2) x sqrt(2 / draws), 11 % (8 % judged one estimate alone,
    and failed when the world's draws changed, 2026-12-06, on a share 9 % above a lucky 30 %)."""
    y, office, icc, _ = textbook
    c_cluster, c_t, c_c, budget, draws = 20.0, 30.0, 1.0, 20_000.0, 3_000
    chosen = cheapest_allocation(icc, float(np.std(y)), 0.05, c_cluster, c_t, c_c)
    n = chosen.per_cluster
    liu = treated_share(c_cluster + n * c_t, c_cluster + n * c_c)
    assert abs(chosen.share - liu) <= 0.02 and chosen.share < 0.4, (chosen, liu)
    var = {p: _cluster_variance(y, office, n, budget, c_cluster, c_t, draws, seed=int(100 * p), share=p, c_control=c_c)
           for p in sorted({0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, chosen.share})}
    tol = 3 * math.sqrt(2) * math.sqrt(2 / draws)
    best = min(var.values())
    assert var[chosen.share] <= best * (1 + tol), var
    assert var[0.5] > best * (1 + tol), var


def test_the_cost_optimal_treated_share_is_the_simulated_optimum(textbook):
    """Liu 2003 in a textbook world: a treated person costing 9 times a control, the share 25 % gives
    (at equal cost) a variance within Monte Carlo error of the least over shares, and 50 % clearly more."""
    y, _, _, _ = textbook
    c_t, c_c, budget, draws = 9.0, 1.0, 3_000.0, 3_000
    rng = np.random.default_rng(5)

    def variance(p):
        people = budget / (p * c_t + (1 - p) * c_c)
        n_t, n_c = max(round(p * people), 2), max(round((1 - p) * people), 2)
        est = rng.choice(y, (draws, n_t)).mean(1) - rng.choice(y, (draws, n_c)).mean(1)
        return est.var(ddof=1)

    p_star = treated_share(c_t, c_c)
    var = {p: variance(p) for p in (0.1, 0.15, 0.2, p_star, 0.3, 0.4, 0.5)}
    tol = 3 * math.sqrt(2 / draws)
    assert var[p_star] <= min(var.values()) * (1 + tol), var
    assert var[0.5] > min(var.values()) * (1 + tol), var


def test_the_adjusted_estimate_keeps_its_size_and_shrinks_the_variance(textbook):
    """Lin 2013 in the textbook world (no effect): 200 re-randomisations of its 6,200 people. The adjusted
    test rejects about 5 % (3 SE of a rate from 200 tests: 4.6 pp), its mean SE matches the spread of its
    estimates (within 3 SE of a spread from 200 draws: 15 %), and its variance is the difference's times
    about 1 - R^2 of the register covariates (R^2 adjusted for their number; within 10 %)."""
    from labsim.results.adjusted import adjusted_itt, covariate_matrix
    from labsim.results.estimate import itt

    from labsim.results.adjusted import REGISTER_COVARIATES

    _, _, _, ind = textbook
    ind = ind[["employed_26w", "arm", *REGISTER_COVARIATES]].copy()
    rng = np.random.default_rng(11)
    rows = []
    for _ in range(200):
        ind["arm"] = np.where(rng.random(len(ind)) < 0.5, "pilot", "control")
        a, d = adjusted_itt(ind, "employed_26w"), itt(ind, "employed_26w")
        rows.append((a.estimate, a.se, a.p_value, d.estimate))
    est, se, p, diff = np.array(rows).T
    assert abs(np.mean(p < 0.05) - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 200)
    assert abs(se.mean() / est.std(ddof=1) - 1) < 3 / math.sqrt(2 * 200)
    y, z = ind["employed_26w"].to_numpy(float), covariate_matrix(ind)
    x = np.column_stack([np.ones(len(y)), z])
    r2 = 1 - np.var(y - x @ np.linalg.lstsq(x, y, rcond=None)[0]) / np.var(y)
    r2_adj = 1 - (1 - r2) * (len(y) - 1) / (len(y) - z.shape[1] - 1)
    assert r2_adj > 0.01, r2_adj  # the register explains a little in this world
    assert est.var() / diff.var() == pytest.approx(1 - r2_adj, rel=0.10)


def test_the_command_plans_a_tiny_world_and_resumes(tmp_path, capsys):
    """`labsim plan` end to end on a tiny world (1,000 seekers, one candidate and its cost-optimal twin, a
    search of at most 15 pilots; full effort of the largest effect, so that a size is found within the
    area's 99 places whatever the draws: seeds 1-4 all find one): the verdict first, plan.json, the reports and workbooks in three
    languages, the Pareto chart; run again with --resume it reads its stored candidates and says the same."""
    out = tmp_path / "plan"
    argv = ["plan", "baseline", "--set", "area.job_seekers=1000", "--set", "area.burn_in_weeks=13", "--set", "weeks=40",
            "--set", "referral.target_participants=100", "--set", "providers.effort_effect=5.0",
            "--set", "providers.effort=1.0",
            "--set", "referral.mode=mandatory", "--set", "assumptions=[]", "--probe", "5", "--batch", "5",
            "--budget", "15", "--precision", "0.5", "--frontier", "1", "--workers", "1", "--horizon", "13",
            "--out", str(out)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert first.startswith("The cheapest pilot that answers with 80% assurance: mandatory referral")
    answer = Plan.from_json(json.loads((out / "plan.json").read_text()))
    assert answer.answer.size > 0 and len(answer.candidates) == 2
    for name in ("plan.md", "plan_fi.md", "plan_sv.md", "plan.xlsx", "plan_fi.xlsx", "plan_sv.xlsx",
                 "plan_pareto.png", "plan_pareto_fi.png", "plan_pareto_sv.png"):
        assert (out / name).stat().st_size > 0, name
    assert main([*argv, "--resume"]) == 0
    assert capsys.readouterr().out == first


def test_a_searched_curve_gives_the_power_beyond_the_sizes_it_tried():
    """A budget may buy less (or more) than the search tried: the curve's power there follows
    Phi(a + b sqrt(N)) through its points, not the nearest point's."""
    from labsim.design.plan import curve_power

    a, b = -1.645, 0.0556
    curve = [(n, float(stats.norm.cdf(a + b * math.sqrt(n)))) for n in (1_500, 2_000, 2_500)]
    for n in (200, 2_000, 10_000):
        assert curve_power(curve, n) == pytest.approx(stats.norm.cdf(a + b * math.sqrt(n)), abs=1e-3)


def test_the_frontier_keeps_only_what_buys_more_assurance_for_its_cost():
    """A point is on the frontier when every cheaper point buys less assurance: the step line through them
    is the most assurance the money buys. (2, 0.1) costs as much as (2, 0.5) and buys less; (3, 0.5) costs
    more for the same; (5, 0.8) costs more than (4, 0.9) for less."""
    from labsim.report.plan import frontier

    points = [(3, 0.5), (1, 0.2), (2, 0.1), (5, 0.8), (2, 0.5), (4, 0.9)]
    assert frontier(points) == [(1, 0.2), (2, 0.5), (4, 0.9)]
    assert frontier([]) == []
