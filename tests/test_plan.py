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
    PlanSettings, as_json, candidates, parse_levers, people_per_cluster, plan, treated_share,
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


# -- the plan against a stub ------------------------------------------------------------------------------


def stub(seen: list | None = None):
    """Pilots with a known effect by referral rule, fees 1,000 EUR per participant (+-10 %)."""
    def run(pairs, size, label, figures=SEARCH_FIGURES):
        out = []
        for rep, sc in pairs:
            if seen is not None:
                seen.append((label, rep))
            effect = 0.0 if sc.providers.effort == 0.0 else (0.05 if sc.referral.mode == "mandatory" else 0.02)
            rng = np.random.default_rng([7, rep, size, sc.referral.mode == "mandatory"])
            se = math.sqrt(0.84 / size)
            est = effect + se * rng.normal()
            n = int(size)
            out.append({"replication": rep, "world": rep, "size": size, "reject": abs(est / se) > C, "estimate": est,
                        "se": se, "z_critical": C, "control_mean": 0.3, "n_pilot": n, "n_control": n, "take_up": 1.0,
                        "late": est, "icc": np.nan, "participants": n, "assigned": 2 * n, "week_target_reached": 20,
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
    answer = as_json(p)
    rows = {c["referral_mode"]: c for c in answer["candidates"]}
    assert rows["voluntary"]["pruned"] == "dominated" and not rows["voluntary"]["searched"]
    assert rows["mandatory"]["searched"] and answer["answer"]["candidate"] == "mandatory, 0.5"
    # 80 % power for 0.05 with SE sqrt(0.84 / N): N = 0.84 ((1.96 + 0.84) / 0.05)^2, about 2,640
    n_true = 0.84 * ((C + stats.norm.ppf(0.8)) / 0.05) ** 2
    assert answer["answer"]["size"] == pytest.approx(n_true, rel=0.2)
    costs = sc.costs
    fixed = costs.fixed(sc.area.offices)
    per = 1000.0 + 2 * costs.evaluation_per_person.value
    assert answer["answer"]["cost"] == pytest.approx(fixed + per * answer["answer"]["size"], rel=0.05)
    lo, hi = answer["answer"]["cost_ci"]
    assert lo < answer["answer"]["cost"] < hi
    assert verdict(answer, "en")[0].startswith("The cheapest pilot that answers with 80% assurance: mandatory referral")
    assert all(verdict(answer, lang) for lang in ("fi", "sv"))


def test_candidates_share_their_pilots_and_a_stopped_plan_resumes(tmp_path):
    """Common random numbers: every candidate's probe runs replications 0 to probe - 1. Run again with
    --resume, the stored probes and searches are read, not simulated."""
    seen: list = []
    _plan(tmp_path, "referral.mode=voluntary,mandatory", "design.treatment_share=0.5", seen=seen)
    probes = [rep for label, rep in seen if label == "probe"]
    assert probes == list(range(10)) * 2
    again: list = []
    _, p = _plan(tmp_path, "referral.mode=voluntary,mandatory", "design.treatment_share=0.5", resume=True, seen=again)
    assert again == [] and as_json(p)["answer"]["candidate"] == "mandatory, 0.5"
    with pytest.raises(LabsimError, match="another scenario"):
        _plan(tmp_path, "referral.mode=voluntary,mandatory", resume=True)


def test_a_budget_below_every_candidate_is_an_answer_and_more_money_more_assurance(tmp_path):
    _, p = _plan(tmp_path, "referral.mode=mandatory", "design.treatment_share=0.5", max_cost=1_000.0)
    answer = as_json(p)
    assert answer["answer"] is None
    assert "does not cover the fixed costs" in verdict(answer, "en")[0]
    _, p = _plan(tmp_path / "b", "referral.mode=mandatory", "design.treatment_share=0.5", max_cost=2_000_000.0)
    best = as_json(p)["answer"]
    assert 0 < best["power"] <= best["power_more"] <= 1
    assert best["cost"] <= 2_000_000.0


def test_the_cost_optimal_share_is_a_candidate_of_its_own(tmp_path):
    """Unless the planner varies the treated share, the share the costs call for (Liu 2003) is probed too:
    fees 1,000 EUR per participant against 15 EUR of register data per person give about 11 % treated."""
    _, p = _plan(tmp_path, "referral.mode=mandatory")
    shares = sorted(c["treatment_share"] for c in as_json(p)["candidates"])
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
