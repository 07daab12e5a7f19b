"""Output folders for the report tests, with exactly the files and columns each command writes.

A run folder comes from a real small simulation (`PilotModel` -> `results_of` -> `write_run`); size,
diagnosis and sweep folders are synthetic tables with the agreed columns, built around that run's summary
so that every figure a chart reads is there and plausible. Everything is seeded: the same folders each time.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from labsim import PilotModel
from labsim.design.calibrate import Calibration, FittedValue, TargetFit
from labsim.design.claim import Claim
from labsim.design.diagnose import Diagnosis
from labsim.design.plan import OfficeAllocation, Plan, PlanChoice, PlannedCandidate
from labsim.design.sensitivity import Point, Sensitivity, Swing
from labsim.design.size_answer import (
    Accounts, AnalyticSize, AssurancePoint, Evidence, MinimumSize, Overstatement, PowerPoint, Question, Reference, Rollout,
    RolloutSize, SizeAnswer, SizeAtValue, TypeICheck,
)
from labsim.design.validation import Validation
from labsim.results.output import write_json, write_run
from labsim.results.summary import RunSummary, results_of

from conftest import small_scenario

SMALL = ("referral.target_participants=200", "providers.capacity=120")


def make_run(out: Path, *overrides: str, seed: int = 1, description: str | None = None) -> Path:
    """A real small run written as `labsim run` writes it (without charts)."""
    scenario = small_scenario(*SMALL, *overrides)
    if description is not None:
        scenario = scenario.model_copy(update={"description": description})
    model = PilotModel(scenario, rng=seed)
    model.run_for(scenario.weeks)
    return write_run(results_of(model), scenario, source="tests", seed=seed, weeks=scenario.weeks,
                     overrides=list(overrides), out_dir=out)


def _manifest_of(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def make_size(out: Path, run: Path, seed: int = 3) -> Path:
    """A size folder: power rising with size (Monte Carlo noise of `sims` pilots), its analytic twin."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True)
    effect, sd, sims = 0.09, 0.48, 200
    sizes = np.array([200, 400, 600, 800, 1000, 1400, 1800])
    mean_se = sd * np.sqrt(4 / sizes) * 1.05
    true_power = norm.cdf(effect / mean_se - norm.ppf(0.975))
    power = rng.binomial(sims, true_power) / sims
    curve = pd.DataFrame({
        "size": sizes, "power": power, "power_se": np.sqrt(power * (1 - power) / sims),
        "analytic_power": norm.cdf(effect / (sd * np.sqrt(4 / sizes)) - norm.ppf(0.975)),
        "mean_se": mean_se, "sims": sims,
    })
    curve.to_csv(out / "power_curve.csv", index=False)
    reps = []
    for n, se in zip(sizes, mean_se):
        est = rng.normal(effect * 0.9, se, sims)
        reps.append(pd.DataFrame({
            "size": n, "replication": np.arange(sims), "estimate": est, "se": se,
            "p_value": 2 * norm.sf(np.abs(est / se)), "reject": np.abs(est / se) > norm.ppf(0.975),
            "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se, "estimand": "employed_26w",
            "participants": (0.8 * n / 2).astype(int), "take_up": 0.8,
            "providers_viable": 0.9, "purchaser_paid": 1100.0 * 0.8 * n / 2,
        }))
    pd.concat(reps, ignore_index=True).to_parquet(out / "replications.parquet", index=False)
    points = tuple(PowerPoint(int(r.size), float(r.power), float(r.power_se), float(r.analytic_power),
                              float(r.mean_se), int(r.sims), float(r.size)) for r in curve.itertuples())
    write_json(out / "size.json", size_fixture(points).to_json())
    write_json(out / "manifest.json", _manifest_of(run))
    return out


def make_diagnose(out: Path, run: Path, seed: int = 4) -> Path:
    """A diagnosis folder: 300 simulated pilots of one size."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True)
    se, effect = 0.03, 0.06
    est = rng.normal(0.055, se, 300)
    reject = np.abs(est / se) > 1.96
    pd.DataFrame({
        "size": 800, "replication": np.arange(300), "estimate": est, "se": se, "p_value": 2 * norm.sf(np.abs(est / se)),
        "reject": reject, "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se, "estimand": "employed_26w",
        "rollout_effect": effect, "participants": 320, "take_up": 0.8, "providers_viable": 0.75, "purchaser_paid": 350_000.0,
    }).to_parquet(out / "replications.parquet", index=False)
    d = {"power": reject.mean(), "bias_vs_rollout": est.mean() - effect, "rmse": np.sqrt(((est - effect) ** 2).mean()),
         "coverage": (np.abs(est - effect) < 1.96 * se).mean(), "type_s": (reject & (est < 0)).mean(),
         "mean_estimate": est.mean(), "rollout_effect": effect, "participants_mean": 320.0}
    d.update({f"{k}_se": 0.01 for k in list(d)})
    write_json(out / "diagnosis.json", diagnosis_fixture(**{k: float(v) for k, v in d.items()}).to_json())
    write_json(out / "manifest.json", _manifest_of(run))
    return out


def summary_fixture(**parts) -> RunSummary:
    """A real small run's summary (the golden run of tests/golden/run.json) with the parts given replaced."""
    from labsim.results.summary import SCHEMA

    stored = json.loads((Path(__file__).parent / "golden" / "run.json").read_text(encoding="utf-8"))["answer"]
    return replace(RunSummary.from_json({**stored, "schema": SCHEMA}), **parts)


def diagnosis_fixture(**figures) -> Diagnosis:
    """A diagnosis of 300 pilots of a 320-place voluntary pilot on baseline: the figures given, NaN for the
    others (as a diagnosis writes a figure it cannot tell)."""
    nan = float("nan")
    fields = {f.name: nan for f in dataclasses.fields(Diagnosis) if f.type == "float"}
    fields.update(scenario="baseline", referral_mode="voluntary", design="individual", test="hc2", horizon_weeks=26,
                  alpha=0.05, seed=1, sims=300, sims_with_estimate=300, counterfactual_sims=50, target=320,
                  overstatement=None, p_value_mc_se_max=None, smallest_p=0.0, seconds=1.0)
    return Diagnosis(**{**fields, **figures})


ALL_PRESETS = ("fixed_fee", "outcome_only", "hybrid", "differential", "fi_2017_ely", "uk_work_programme",
               "fr_private_2007")
PRESET_SHAPES = {  # effort by employability fifth, lowest first: flat, cream-skimming, in between
    "fixed_fee": [0.5, 0.5, 0.5, 0.5, 0.5],
    "outcome_only": [0.15, 0.35, 0.6, 0.8, 0.9],
    "hybrid": [0.35, 0.45, 0.55, 0.65, 0.7],
}


def make_sweep(out: Path, run: Path, kind: str, reps: int = 4, seed: int = 5) -> Path:
    """A sweep folder over `kind`: 'payment' (payment.preset), 'saturation' (design.treatment_share x
    market.congestion) or 'referral' (referral.mode); rows are the run's flat summary, varied plausibly."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True)
    base = RunSummary.from_json(json.loads((run / "summary.json").read_text())).flat()
    if kind == "payment":
        points = [{"payment.preset": p} for p in PRESET_SHAPES]
    elif kind == "saturation":
        points = [{"design.treatment_share": s, "market.congestion": c} for c in (True, False)
                  for s in (0.25, 0.5, 0.75)]
    elif kind == "referral_and_payment":  # the bundled experiment's 42 variants (2 x 7 x 3)
        points = [{"referral.mode": m, "payment.preset": p, "referral.target_participants": n, "providers.capacity": n // 2}
                  for m in ("voluntary", "mandatory") for p in ALL_PRESETS for n in (300, 600, 1200)]
    else:
        points = [{"referral.mode": m} for m in ("voluntary", "mandatory")]
    rows = []
    for i, point in enumerate(points):
        for r in range(reps):
            row = {"point": i, "replication": r, "seed_key": f"{i}-{r}", **point, **base}
            n = 600
            row["assigned.pilot"] = n
            preset = point.get("payment.preset", "hybrid")
            for q, e in enumerate(PRESET_SHAPES.get(preset, PRESET_SHAPES["hybrid"])):
                row[f"effort_by_employability_quintile.{q}"] = e + rng.normal(0, 0.02)
            effect = {"fixed_fee": 0.03, "outcome_only": 0.07, "hybrid": 0.06}.get(preset, 0.05)
            share = point.get("design.treatment_share", 0.5)
            loss = 0.08 * share if point.get("market.congestion", True) else 0.0
            for h in (13, 26, 52):
                control = 0.35 - loss + rng.normal(0, 0.01)
                row[f"employment_rate.{h}w.control"] = control
                row[f"employment_rate.{h}w.pilot"] = control + effect + rng.normal(0, 0.01)
                row[f"employment_rate.{h}w.difference"] = row[f"employment_rate.{h}w.pilot"] - control
                row[f"employment_rate.{h}w.se"] = 0.025
            paid = {"fixed_fee": 480_000, "outcome_only": 260_000, "hybrid": 380_000}.get(preset, 400_000) * (1 + rng.normal(0, 0.05))
            row["purchaser_paid_eur.total"] = paid
            for k in range(2):
                clients = int(rng.integers(150, 260))
                setup = 20_000.0
                margin = {"fixed_fee": 400, "outcome_only": 60, "hybrid": 180}.get(preset, 150)
                cost = clients * 700.0 + setup
                row.update({f"providers.{k}.clients": clients, f"providers.{k}.setup_cost_eur": setup,
                            f"providers.{k}.cost_eur": cost, f"providers.{k}.revenue_eur": cost - setup + clients * margin,
                            f"providers.{k}.profit_eur": clients * margin - setup + rng.normal(0, 3000)})
            target = point.get("referral.target_participants", 600)
            reached = {"voluntary": 280, "mandatory": target}[point.get("referral.mode", "mandatory")]
            row["participants.reached"] = int(min(target, reached + rng.normal(0, 25)))
            row["participants.target"] = target
            rows.append(row)
    # stamped with its manifest's inputs hash, as the sweep store's compaction does (else it is refused)
    import pyarrow as pa
    import pyarrow.parquet as pq

    from labsim.sweep.store import INPUTS_HASH, inputs_hash

    identity = {"experiment": kind}
    table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, INPUTS_HASH: inputs_hash(identity).encode()}),
                   out / "results.parquet")
    # a sweep's manifest (as `labsim sweep` writes it, so `labsim results` reads the folder)
    write_json(out / "manifest.json", {**_manifest_of(run), "identity": identity, "points": points,
                                       "replications": reps})
    return out


def size_fixture(points: tuple = ()) -> SizeAnswer:
    """A size answer as the size job returns it: N* 1,040 (930-1,160) for an ITT of 8.1 pp, the formula's
    880, accounts at N*, the roll-out not distinguishable from the ITT, no evidence ranges."""
    o = Overstatement(0.081, 0.012, 0.079, 0.013, 1.03, (0.8, 1.3), 40)
    return SizeAnswer(
        Question("baseline", "participants", 0.8, 0.05, 26, 0.1, 40, 800, 40, 3, "individual", "voluntary", "itt",
                 0.8, 1500),
        "found", "", "z", MinimumSize(1039.4, 930.2, 1159.8),
        Reference(600, 0.3, 0.081, 0.012, 0.8, 0.1, 240.0, 240.0, 1.0, 0.0, 880.0, (700.0, 1200.0)),
        AnalyticSize(1000.0, (800.0, 1300.0), 0.08, 0.004, 0.028, 1000.0, 1000.0, 200), points, None,
        TypeICheck(1040, 0.05, 0.015, (0.02, 0.1), 200),
        Accounts(1040, 40, 1040, 31.0, 1.0, 416.0, 120.0, 0.9, 457_600.0, 1100.0, 25_000.0), None,
        Rollout(o, RolloutSize(1100, (950, 1300), 1040, -0.5, ()), 80), 1640, 12.0)


def add_uncertainty(size: Path) -> Path:
    """What a size search adds when it propagates the scenario's [[assumptions]] (issue 14's helper): the
    minimum size at each end of each assumption's range, the assurance curve, and an overstatement whose
    interval excludes 1."""
    answer = SizeAnswer.from_json(json.loads((size / "size.json").read_text()))
    evidence = Evidence(
        (SizeAtValue("referral.no_show", 0.05, MinimumSize(899.5, 820.2, 989.8), "found", 200, itt=0.021),
         SizeAtValue("referral.no_show", 0.3, MinimumSize(1479.5, 1300.2, 1699.8), "found", 200, itt=0.016)),
        (AssurancePoint(800, 0.55, 0.05), AssurancePoint(1600, 0.82, 0.04)), 0.8, MinimumSize(1499.5, 1350.2, 1719.8),
        600)
    o = Overstatement(0.0178, 0.001, 0.0141, 0.001, 1.26, (1.05, 1.52), 40)
    answer = replace(answer, evidence=evidence, rollout=replace(answer.rollout, overstatement=o))
    write_json(size / "size.json", answer.to_json())
    return size


def sensitivity_fixture() -> Sensitivity:
    """A tornado over the effort effect at 320 participants: power 62 % at the scenario's value, 35 % at the
    low end and 81 % at the high end of its range, each point run with 20 pilots."""
    swing = Swing("providers.effort_effect", 0.2, 1.2, 0.6, "--params", 0.35, (0.3, 0.4), 0.81, (0.76, 0.86), 0.46,
                  (0.39, 0.53), True, 0.07, 0.05, 0.03)
    points = tuple(Point(i, {"providers.effort_effect": v}, p, (p - 0.05, p + 0.05), 0.04, p, 0.05)
                   for i, (v, p) in enumerate([(0.6, 0.62), (0.2, 0.35), (1.2, 0.81)]))
    return Sensitivity("baseline", "oat", "participants", 320, 20, 20, 200, 0.1, True, None, 26, 0.05, 1, 60, 0.62,
                       (0.57, 0.67), 3.0, (swing,), points)


def calibration_fixture() -> Calibration:
    """A calibration of the matching efficiency to two targets, one of them simulated outside its range."""
    return Calibration(
        "baseline",
        (TargetFit("monthly outflow", "monthly_outflow", 0.16, (0.15, 0.17), "Statistics Finland", False, 0.158, 0.002,
                   -0.39, True),
         TargetFit("exits to work", "exits_to_work_share", 0.4, (0.35, 0.45), "planted", True, 0.47, 0.01, 2.74, False)),
        (FittedValue("market.matching_efficiency", 0.031, (0.029, 0.033), (0.012, 0.048)),
         FittedValue("area.offices", 12, (10.0, 14.0), (4.0, 20.0))),
        1.8, 40, 640, 95.0)


def validation_fixture() -> Validation:
    """Three claims: a range claim that matches, a one-sided claim below a bound that does not, and a point
    claim whose simulated interval is open above."""
    return Validation("baseline", 4, 1, "abc123", (
        Claim(1, "long_term_share", "Statistics Finland", 0.307, 0.26, 0.34, 0.29, 0.28, 0.30, True, False, 0.04, "match"),
        Claim(4, "spillover_slack_minus_tight", "Crépon et al. 2013", 0.0, -math.inf, 0.0, 0.01, -0.01, 0.03, False,
              False, 0.05, "no match"),
        Claim(3, "itt_over_take_up_times_effect_on_participants", "Bloom 1984", 1.0, 1.0, 1.0, 1.2, 0.8, math.inf,
              True, False, 0.25, "inconclusive")))


def plan_fixture() -> Plan:
    """A plan of voluntary against mandatory referral for 80 % assurance: mandatory searched and bought at
    2,640 participants in 8 offices, voluntary dominated after its probe."""
    common = dict(payment="fixed_fee", design="office", estimator="difference", treatment_share=0.5, fixed_eur=200_000.0,
                  control_rate=0.3, icc=0.02, filled_share=1.0, cannot_fill=False, places_reached=320.0)
    mandatory = PlannedCandidate(
        candidate="mandatory, 0.5", levers={"referral.mode": "mandatory"}, referral_mode="mandatory", searched=True,
        pruned=None, status="found", analytic_size=2500, minimum_size=2640, minimum_size_ci=(2400, 2900),
        size_over_evidence=(2100, 3300), cost_eur=2_900_000, cost_ci_eur=(2_600_000, 3_300_000),
        paid_per_participant_eur=1000.0, itt=0.05, take_up=0.9, places_filled=None, intake_weeks_needed=30.0,
        break_even_clients=120.0, providers_viable_share=0.8, overstatement=1.1, overstatement_ci=(0.9, 1.4),
        allocation=OfficeAllocation(330, 8, 0.3, 0.02, 8, 2_800_000), curve=((1000.0, 0.4), (2640.0, 0.8)), **common)
    voluntary = PlannedCandidate(
        candidate="voluntary, 0.5", levers={"referral.mode": "voluntary"}, referral_mode="voluntary", searched=False,
        pruned="dominated", status=None, analytic_size=16_000, minimum_size=None, minimum_size_ci=None,
        size_over_evidence=None, cost_eur=16_500_000, cost_ci_eur=(15_000_000, 18_000_000),
        paid_per_participant_eur=1000.0, itt=0.02, take_up=0.3, places_filled=None, intake_weeks_needed=None,
        break_even_clients=None, providers_viable_share=None, overstatement=None, overstatement_ci=None,
        allocation=OfficeAllocation(None, None, None, 0.02), curve=(), **common)
    return Plan("baseline", None, 0.8, 0.05, 26, PlanChoice("mandatory, 0.5", 2640, 2_900_000.0, 0.8, (2_600_000, 3_300_000)),
                (mandatory, voluntary), 1200)
