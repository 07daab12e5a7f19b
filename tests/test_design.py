"""Designs, diagnosis and the size search: what issue 8 says must hold.

Stochastic checks use fixed seeds and tolerances of a few Monte Carlo standard errors, computed from the
replications themselves (sqrt(p(1-p)/R) for a share, SD/sqrt(R) for a mean).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from labsim.cli import main
from labsim.config.errors import LabsimError
from labsim.design.analytic import design_effect, pilot_arm_needed, two_proportion_power
from labsim.results.estimate import icc_oneway
from labsim.design.diagnose import diagnose
from labsim.design.size import SearchSettings
from labsim.design.size_job import SizeRequest, run_size
from labsim.design.worlds import at_size, no_pilot, roll_out, zero_help

from conftest import small_scenario

# a constant-intensity service in a world without congestion: the textbook case of the analytic formula
TEXTBOOK = ("referral.mode=mandatory", "referral.no_show=0", "referral.sanction_effort_gain=0",
            "providers.effort=1.0", "market.congestion=false")


def test_simulated_power_and_coverage_agree_with_the_two_proportion_formula():
    sc = small_scenario(*TEXTBOOK, "referral.target_participants=300")
    d, rows = diagnose(sc, sims=60, counterfactual_sims=0, workers=2, seed=3)
    analytic = two_proportion_power(rows["control_mean"].mean(), rows["estimate"].mean(),
                                    rows["n_pilot"].mean(), rows["n_control"].mean(), 0.05)
    mc = math.sqrt(analytic * (1 - analytic) / d.sims)
    assert abs(d.power - analytic) < 3 * mc + 0.02, (d.power, analytic)
    assert abs(d.coverage - 0.95) < 3 * math.sqrt(0.95 * 0.05 / d.sims)


def test_take_up_dilutes_the_itt_and_the_size_grows_as_one_over_take_up_squared():
    # no-shows without sanctions: a random half takes part, so the ITT halves and the size quadruples
    full = small_scenario(*TEXTBOOK)
    half = small_scenario(*TEXTBOOK, "referral.no_show=0.5")
    _, a = diagnose(full, sims=30, counterfactual_sims=0, workers=2, seed=5)
    _, b = diagnose(half, sims=30, counterfactual_sims=0, workers=2, seed=5)
    ratio_take_up = b["take_up"].mean() / a["take_up"].mean()
    ea, eb = a["estimate"].mean(), b["estimate"].mean()
    se = math.hypot(eb / ea**2 * a["estimate"].std() / math.sqrt(30), b["estimate"].std() / math.sqrt(30) / ea)
    assert abs(eb / ea - ratio_take_up) < 3 * se, (eb / ea, ratio_take_up, se)
    n_full = pilot_arm_needed(0.3, 0.04, 0.05, 0.8)
    n_half = pilot_arm_needed(0.3, 0.02, 0.05, 0.8)
    assert 3.6 < n_half / n_full < 4.4  # 1/p^2 with p = 1/2 (not exactly 4: the variance moves with the rate)


def test_design_effect_and_icc_estimator():
    assert design_effect(100, 0.0) == 1.0
    assert design_effect(101, 0.01) == pytest.approx(2.0)
    assert design_effect(101, 0.01, cv=0.5) > design_effect(101, 0.01)
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(200), 50)
    y = rng.normal(0, math.sqrt(0.2), 200)[groups] + rng.normal(0, math.sqrt(0.8), groups.size)
    assert icc_oneway(y, groups) == pytest.approx(0.2, abs=0.04)  # SE of the ANOVA ICC here is about 0.015


def test_office_randomisation_treats_whole_offices():
    from labsim import PilotModel, results_of

    sc = small_scenario("design.randomisation=office", "area.offices=6", "referral.mode=mandatory")
    ind = results_of(_run(PilotModel(sc, rng=2), sc)).individuals
    arms_per_office = ind.groupby("office", observed=True)["arm"].nunique()
    assert (arms_per_office == 1).all()
    assert ind.groupby("office", observed=True)["arm"].first().nunique() == 2


def test_saturation_design_gives_markets_their_shares():
    from labsim import PilotModel, results_of

    sc = small_scenario("design.randomisation=saturation", "area.job_seekers=6000",
                        "design.saturation_shares=[0.0, 0.5, 1.0]")
    ind = results_of(_run(PilotModel(sc, rng=4), sc)).individuals
    share = ind.assign(p=ind["arm"] == "pilot").groupby("sector", observed=True)["p"].mean()
    assert set(np.round(share[share.isin([0.0, 1.0])], 1)) <= {0.0, 1.0}
    middle = share[(share > 0) & (share < 1)]
    n = ind.groupby("sector", observed=True).size()[middle.index]
    assert (abs(middle - 0.5) < 3 * np.sqrt(0.25 / n)).all()  # binomial SE of a share of 1/2


def _run(model, sc):
    model.run_for(sc.weeks)
    return model


def test_counterfactual_worlds():
    sc = small_scenario()
    assert no_pilot(sc).design.treatment_share == 0 and roll_out(sc).design.treatment_share == 1
    assert roll_out(sc).referral.target_participants >= sc.area.job_seekers
    assert zero_help(sc).providers.effort == 0
    assert at_size(sc, "participants", 900).referral.target_participants == 900
    assert at_size(sc, "offices", 4).area.job_seekers == 2 * sc.area.job_seekers  # 2 offices in the base
    with pytest.raises(LabsimError, match="--by"):
        at_size(sc, "months", 3)


def test_results_do_not_depend_on_the_number_of_workers():
    sc = small_scenario("referral.mode=mandatory")
    _, one = diagnose(sc, sims=4, counterfactual_sims=2, workers=1, seed=9)
    _, two = diagnose(sc, sims=4, counterfactual_sims=2, workers=2, seed=9)
    assert one.equals(two)


def test_impossible_targets_get_an_answer():
    with pytest.raises(LabsimError, match="power"):
        SearchSettings(power=1.0).check()
    sc = zero_help(small_scenario("referral.mode=mandatory"))
    s = SearchSettings(batch=10, budget=40, type_i_sims=0, workers=2, max_size=1200)
    answer = run_size(sc, SizeRequest(s)).answer
    assert answer.status == "not_reachable" and answer.minimum_size is None
    assert answer.sims_total <= 40 + 2 * 10 and answer.message  # the search, and the roll-out worlds
    why = answer.unreachable  # the reason, structured so that the report words it in fi and sv too
    assert why.largest == max(p.size for p in answer.power_curve)
    assert why.no_effect or why.places_filled is not None
    assert not answer.verdict().green and answer.verdict().reasons == ("not_reachable",)
    from labsim.report.answers import size_answer

    for lang, words in (("en", "reached power"), ("fi", "ei saavuttanut"), ("sv", "nådde styrkan")):
        assert any(words in value for _, value in size_answer(answer, lang=lang).rows), lang


def _small_file(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text('name = "small"\nweeks = 60\n[area]\njob_seekers = 2500\nburn_in_weeks = 26\n'
                    '[referral]\nmode = "mandatory"\ntarget_participants = 200\n', encoding="utf-8")
    return path


def test_diagnose_command_writes_its_folder_and_json(tmp_path, capsys):
    out = tmp_path / "diag"
    assert main(["diagnose", str(_small_file(tmp_path)), "--sims", "6", "--workers", "1", "--out", str(out),
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("power", "bias_vs_rollout", "rmse", "coverage", "type_s", "mean_estimate", "rollout_effect",
                "participants_mean"):
        assert key in d and f"{key}_se" in d
    assert {"diagnosis.json", "replications.parquet", "manifest.json", "charts"} <= {p.name for p in out.iterdir()}
    # the file reads back as the typed answer it was written from, and writes the same again
    from labsim.design.diagnose import Diagnosis

    written = json.loads((out / "diagnosis.json").read_text())
    assert written == d and Diagnosis.from_json(written).to_json() == written
    # a file from before the format was named (no schema) is refused in one line, exit 2
    del written["schema"]
    (out / "diagnosis.json").write_text(json.dumps(written))
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "diagnosis.json: written in another format (no schema" in err, err


def test_size_command_refuses_power_one(tmp_path, capsys):
    assert main(["size", str(_small_file(tmp_path)), "--power", "1.0", "--out", str(tmp_path / "s")]) == 2
    assert "power" in capsys.readouterr().err and not (tmp_path / "s").exists()


@pytest.mark.slow
def test_congestion_makes_the_pilot_overstate_the_roll_out_more_in_slack_markets():
    # the pilot's estimate against the roll-out effect of the same world (paired by seed), in a slack and
    # a tight market; "more so" is relative: the overstatement as a share of the roll-out effect
    base = ("referral.mode=mandatory", "referral.no_show=0", "providers.effort=1.0", "providers.effort_effect=2.0",
            "assumptions=[]", "area.job_seekers=6000", "referral.target_participants=900", "providers.capacity=600")
    ratios = {}
    for name, efficiency in (("slack", 0.01), ("tight", 0.05)):
        d, rows = diagnose(small_scenario(*base, f"market.matching_efficiency={efficiency}"), sims=100,
                           counterfactual_sims=100, workers=2, seed=11)
        assert d.bias_vs_rollout > -2 * d.bias_vs_rollout_se  # never understates beyond noise
        gap = (rows["estimate"] - rows["rollout_effect"]).to_numpy()
        ratios[name] = (gap.mean() / d.rollout_effect, gap.std(ddof=1) / math.sqrt(gap.size) / d.rollout_effect)
        if name == "slack":
            assert d.bias_vs_rollout > 2 * d.bias_vs_rollout_se, d
    (rs, ss), (rt, st) = ratios["slack"], ratios["tight"]
    assert rs - rt > 2 * math.hypot(ss, st), ratios


@pytest.mark.slow
def test_type_i_error_at_zero_effect():
    sc = zero_help(small_scenario("referral.mode=mandatory"))
    d, _ = diagnose(sc, sims=200, counterfactual_sims=0, workers=2, seed=13)
    assert abs(d.power - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 200)


def test_area_design_records_before_cohorts_and_its_did_vanishes_without_help():
    from labsim import PilotModel, results_of
    from labsim.results.pilot import pilot_estimates

    sc = small_scenario("design.randomisation=area", "area.offices=6", "referral.start_week=14",
                        "referral.mode=mandatory")
    res = results_of(_run(PilotModel(sc, rng=6), sc))
    assert math.isnan(pilot_estimates(res)["z_critical"])  # tested by t(G - 1) or the wild bootstrap
    ind = res.individuals
    before = ind[ind["before_pilot"]]
    assert before["assigned_week"].max() < 14 <= ind.loc[~ind["before_pilot"], "assigned_week"].min()
    assert not before["took_up"].any() and set(before["arm"]) == {"pilot", "control"}
    assert (ind.groupby("office", observed=True)["arm"].nunique() == 1).all()  # areas are whole offices
    # with providers that do nothing, the difference in differences is zero within its interval, pooled
    # over seeds (each run's DiD has 6 clusters; 8 runs make the mean's SE small enough to mean something)
    null = zero_help(sc)
    est = [pilot_estimates(results_of(_run(PilotModel(null, rng=seed), null)))["estimate"] for seed in range(8)]
    assert abs(np.mean(est)) < 3 * np.std(est, ddof=1) / math.sqrt(len(est))


def test_an_individual_pilot_records_the_normal_critical_value_its_z_was_tested_against():
    """Individual randomisation (HC2, normal test): reject = |estimate / se| > z_critical = z(1 - alpha/2),
    what the size search's z fit reads; at alphas either side of the pilot's p-value it rejects and not."""
    from scipy import stats

    from labsim import PilotModel, results_of
    from labsim.results.pilot import pilot_estimates

    sc = small_scenario("referral.mode=mandatory")
    res = results_of(_run(PilotModel(sc, rng=3), sc))
    p = pilot_estimates(res)["p_value"]
    for alpha, rejects in ((min(0.9, 2 * p), True), (p / 2, False)):
        rec = pilot_estimates(res, alpha=alpha)
        assert rec["z_critical"] == pytest.approx(stats.norm.ppf(1 - alpha / 2), rel=1e-9)
        assert rec["reject"] == rejects == (abs(rec["estimate"] / rec["se"]) > rec["z_critical"]), (alpha, rec)


def test_area_design_needs_a_before_period():
    with pytest.raises(Exception, match="start_week >= 2"):
        small_scenario("design.randomisation=area", "area.offices=4")


def test_counted_employment_follows_the_contracts_forms():
    # fi_2017_ely pays for salaried and entrepreneurship jobs only: counted employment is employment in
    # those forms, recomputed here from the run's timeline independently of the results code
    from labsim import PilotModel, results_of
    from labsim.config.states import WORK_FORMS, WORK_STATES

    sc = small_scenario("payment.preset=fi_2017_ely", "referral.mode=mandatory")
    model = _run(PilotModel(sc, rng=8), sc)
    record, ind = model.record(), results_of(model).individuals
    paid = {int(WORK_STATES[i]) for i, f in enumerate(WORK_FORMS) if sc.payment.outcome.forms[f] > 0}
    assert 0 < len(paid) < len(WORK_FORMS)
    col = record.people["assigned_week"] + 13
    seen = col < record.timeline.shape[1]
    expected = np.isin(record.timeline[np.flatnonzero(seen), col[seen]], list(paid)).astype(float)
    np.testing.assert_array_equal(ind["employed_counted_13w"].to_numpy()[seen], expected)
    assert (ind["employed_counted_13w"] <= ind["employed_13w"]).where(seen).dropna().all()
    assert ind["employed_counted_13w"].sum() < ind["employed_13w"].sum()  # gig work etc. not counted


@pytest.mark.slow
def test_office_clusters_need_more_people_in_line_with_the_design_effect():
    # the same pilot randomised by office (8 offices) and by individual: the spread of the office design's
    # estimates over the individual design's is the design effect 1 + (m - 1) ICC, within the Monte Carlo
    # error of both (log of a variance ratio over 2 x 80 runs: SD about sqrt(2/79 + 2/79) = 0.22; the
    # ICC of employment between offices, pooled over 8 worlds, by the delta method); offices differ
    # (area.office_spread), so the office design needs clearly more people for the same precision
    from labsim import PilotModel, results_of

    base = (*TEXTBOOK, "area.offices=8", "area.job_seekers=6000", "referral.target_participants=900",
            "providers.capacity=600")
    di, ri = diagnose(small_scenario(*base), sims=80, counterfactual_sims=0, workers=2, seed=17)
    do, ro = diagnose(small_scenario(*base, "design.randomisation=office"), sims=80, counterfactual_sims=0,
                      workers=2, seed=17)
    ratio = do.sd_estimate ** 2 / di.sd_estimate ** 2
    m = (ro["n_pilot"] + ro["n_control"]).mean() / 8
    sc = small_scenario(*base)
    iccs = []
    for seed in range(8):  # each world draws its own offices; the control arm shows how they differ
        ind = results_of(_run(PilotModel(sc, rng=seed), sc)).individuals
        ind = ind.loc[ind["arm"] == "control"].dropna(subset=["employed_26w"])
        iccs.append(icc_oneway(ind["employed_26w"].to_numpy(), ind["office"].to_numpy()))
    icc, icc_se = np.mean(iccs), np.std(iccs, ddof=1) / np.sqrt(len(iccs))
    deff = design_effect(m, icc)
    log_deff_se = (m - 1) * icc_se / deff
    assert deff > 2, (icc, m)  # offices cluster outcomes: without the spread the ICC is about 0
    assert abs(math.log(ratio) - math.log(deff)) < 3 * math.hypot(0.22, log_deff_se), (ratio, deff, icc, icc_se)
    assert do.mean_se > di.mean_se * 1.2
    assert do.power < di.power - 3 * math.hypot(do.power_se, di.power_se)


def test_type_i_check_reports_an_exact_interval_not_a_zero_se():
    """0 rejections in 40 null pilots: rate 0, yet the rate could be up to 1 - 0.025**(1/40) (about 8.8 %)."""
    from labsim.design.size import type_i_error

    none = type_i_error(500, np.zeros(40, bool))
    assert none.rate == 0 and none.ci[0] == 0
    assert none.ci[1] == pytest.approx(1 - 0.025 ** (1 / 40), rel=1e-9)
    some = type_i_error(500, np.arange(40) < 2)
    assert some.ci[0] < some.rate == 0.05 < some.ci[1]


def test_analytic_size_carries_the_range_of_the_reference_effect():
    """The formula is given the reference batch's mean ITT; over that mean's 95 % interval its size
    spans a range (larger effect, smaller pilot), open above when the effect may be zero."""
    from labsim.design.size import reference

    sc, s = small_scenario(), SearchSettings()
    rng = np.random.default_rng(1)

    def rows(effect_mean: float) -> list[dict]:
        est = rng.normal(effect_mean, 0.02, 40)
        return [{"n_pilot": 500, "n_control": 500, "control_mean": 0.2, "estimate": e, "take_up": 0.9,
                 "late": e / 0.9} for e in est]

    ref = reference(rows(0.04), sc, s, 1000)
    lo, hi = ref.analytic_size_range
    se = ref.itt_se
    assert se == pytest.approx(0.02 / np.sqrt(40), rel=0.35)  # SD / sqrt(R), SD estimated from 40 draws
    per_arm = [pilot_arm_needed(0.2, ref.itt + z * se, 0.05, 0.8) for z in (1.96, 0, -1.96)]
    assert [lo, ref.analytic_size, hi] == pytest.approx([2 * n for n in per_arm])  # 1,000 = 2 x 500 per arm
    assert lo < ref.analytic_size < hi
    weak = reference(rows(0.004), sc, s, 1000)  # an effect within 2 SE of zero: no upper end
    assert math.isfinite(weak.analytic_size_range[0]) and weak.analytic_size_range[1] == math.inf


def test_office_designs_size_the_formula_with_the_design_effect_they_measure():
    """Each office-design pilot records the ICC of its outcome between offices (net of the arms); the
    size search's reference turns it into the design effect the formula uses. Offices that differ a lot
    (spread 1.0) give a design effect well above 1; interchangeable offices (spread 0) about none."""
    from labsim.design.size import reference

    def ref(spread: float):
        sc = small_scenario("design.randomisation=office", "area.offices=6", "referral.mode=mandatory",
                            f"area.office_spread={spread}")
        _, rows = diagnose(sc, sims=6, counterfactual_sims=0, workers=2, seed=5)
        pilots = rows.loc[rows["kind"] == "pilot"]
        assert pilots["icc"].notna().all()
        return reference(pilots.to_dict("records"), sc, SearchSettings(), 600)

    differing, alike = ref(1.0), ref(0.0)
    m = (differing.n_pilot + differing.n_control) / 6
    assert differing.design_effect == pytest.approx(design_effect(m, differing.icc))
    assert differing.design_effect > 2 > alike.design_effect
