"""Output folders for the report tests, with exactly the files and columns each command writes.

A run folder comes from a real small simulation (`PilotModel` -> `results_of` -> `write_run`); size,
diagnosis and sweep folders are synthetic tables with the agreed columns, built around that run's summary
so that every figure a chart reads is there and plausible. Everything is seeded: the same folders each time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from labsim import PilotModel
from labsim.results.output import write_json, write_run
from labsim.results.summary import flat_summary, results_of

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
    write_json(out / "size.json", {
        "minimum_size": 1040, "minimum_size_ci": [930, 1160], "analytic_size": 880,
        "analytic_size_ci": [700, 1200],
        "power_curve": curve[["size", "power", "power_se"]].to_dict("records"),
        "eligible_needed": 1040, "intake_weeks_needed": 31, "target_power": 0.8, "alpha": 0.05,
        "reference": {"size": 600, "itt": 0.081, "itt_se": 0.012},
    })
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
    write_json(out / "diagnosis.json", d)
    write_json(out / "manifest.json", _manifest_of(run))
    return out


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
    base = flat_summary(json.loads((run / "summary.json").read_text()))
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
    pd.DataFrame(rows).to_parquet(out / "results.parquet", index=False)
    # a sweep's manifest (as `labsim sweep` writes it, so `labsim results` reads the folder)
    write_json(out / "manifest.json", {**_manifest_of(run), "identity": {"experiment": kind}, "points": points,
                                       "replications": reps})
    return out


def add_uncertainty(size: Path) -> Path:
    """The keys a size search adds when it propagates the scenario's [[assumptions]] (issue 14's helper):
    the minimum size at each end of each assumption's range, the assurance curve and the overstatement."""
    answer = json.loads((size / "size.json").read_text())
    answer.update({
        "minimum_size_by_assumption": [
            {"path": "referral.no_show", "value": 0.05, "minimum_size": 900, "minimum_size_ci": [820, 990], "status": "found",
             "itt": 0.021},
            {"path": "referral.no_show", "value": 0.3, "minimum_size": 1480, "minimum_size_ci": [1300, 1700], "status": "found",
             "itt": 0.016},
        ],
        "assurance_curve": [{"size": 800, "assurance": 0.55, "assurance_se": 0.05},
                            {"size": 1600, "assurance": 0.82, "assurance_se": 0.04}],
        "size_for_assurance": 1500, "size_for_assurance_ci": [1350, 1720],
        "overstatement": {"itt": 0.0178, "rollout": 0.0141, "ratio": 1.26, "ratio_ci": [1.05, 1.52], "worlds": 40},
    })
    write_json(size / "size.json", answer)
    return size
