"""Diagnosis of a pilot design by simulation (DeclareDesign's diagnosands, for a planner).

The pilot is simulated R times in worlds drawn from the scenario. For the first K of them the same world
(same seed) is also run with no pilot and with the pilot rolled out to everyone eligible, which gives:
- the pilot's own effect: employment of the pilot arm against the same weeks' eligible in a world with
  no pilot (what the pilot did to its own people, displacement of the controls excluded);
- the roll-out effect: everyone eligible referred against nobody, same weeks: what the pilot is meant
  to predict.
Each diagnosand comes with its Monte Carlo standard error: analytic where there is a formula
(sqrt(p(1-p)/R) for shares, SD/sqrt(R) for means), a bootstrap over replications otherwise.

The answer is a `Diagnosis`, frozen; `Diagnosis.to_json()` is diagnosis.json (docs/formats.md, schema
`labsim.diagnosis/1`) and `Diagnosis.from_json()` reads it back, refusing another format in one line.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from labsim.config.scenario import Scenario
from labsim.design.replicate import PilotJob, cohort_mean, simulate
from labsim.design.rollout import Overstatement, overstatement
from labsim.design.worlds import no_pilot, roll_out
from labsim.results.answer_file import AnswerFile
from labsim.results.inference import smallest_p
from labsim.sweep.runner import Engine, Task, executor, run_tasks

BOOTSTRAP = 500
#: diagnosis.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.diagnosis/1"


@dataclass(frozen=True)
class Diagnosis(AnswerFile):
    """What the simulated pilots say about the design (diagnosis.json): each diagnosand beside its Monte
    Carlo SE (`<figure>_se`; NaN where it cannot be told), the settings, the design's test and the
    overstatement of the roll-out effect over the paired worlds."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "diagnosis.json"
    COMMAND: ClassVar[str] = "diagnose"

    scenario: str
    referral_mode: str
    design: str
    test: str | None  # the design's test every pilot was judged by: hc2 or randomisation
    horizon_weeks: int
    alpha: float
    seed: int
    sims: int
    sims_with_estimate: int
    counterfactual_sims: int
    target: int | None  # the places each pilot was to fill
    mean_estimate: float
    mean_estimate_se: float
    sd_estimate: float
    sd_estimate_se: float
    mean_se: float
    mean_se_se: float
    power: float
    power_se: float
    coverage: float
    coverage_se: float
    pilot_effect: float
    pilot_effect_se: float
    rollout_effect: float
    rollout_effect_se: float
    bias_vs_pilot_effect: float
    bias_vs_pilot_effect_se: float
    bias_vs_rollout: float
    bias_vs_rollout_se: float
    overstatement: Overstatement | None
    rmse: float
    rmse_se: float
    type_s: float
    type_s_se: float
    exaggeration: float
    exaggeration_se: float
    participants_mean: float
    participants_mean_se: float
    take_up: float
    take_up_se: float
    late: float
    late_se: float
    providers_viable: float
    providers_viable_se: float
    purchaser_paid: float
    purchaser_paid_se: float
    cost_per_extra_job: float
    cost_per_extra_job_se: float
    p_value_mc_se_max: float | None  # the largest Monte Carlo SE of a resampled p-value (randomisation test)
    smallest_p: float  # the smallest p-value the design's test can give
    seconds: float



def _share(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    p = float(x.mean())
    return p, math.sqrt(p * (1 - p) / x.size)


def _mean(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def _bootstrap(stat, *arrays: np.ndarray, seed: int = 0) -> float:
    """SD of a statistic over resamples of the replications."""
    rng = np.random.default_rng(seed)
    n = arrays[0].size
    if n < 2:
        return math.nan
    draws = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        draws.append(stat(*(a[idx] for a in arrays)))
    draws = np.asarray(draws, float)
    draws = draws[np.isfinite(draws)]
    return float(draws.std(ddof=1)) if draws.size > 1 else math.nan


def counterfactual_effects(pilots: pd.DataFrame, nones: dict[int, dict], rollouts: dict[int, dict]) -> pd.DataFrame:
    """Per replication with counterfactual runs: the pilot's own effect and the roll-out effect, both
    over the weeks the pilot's intake was open."""
    rows = []
    for _, p in pilots.iterrows():
        rep = int(p["replication"])
        if rep not in nones or rep not in rollouts or p["last_intake_week"] < 0:
            continue
        first, last = int(p["first_intake_week"]), int(p["last_intake_week"])
        base = cohort_mean(nones[rep], first, last)
        rows.append({
            "replication": rep,
            "pilot_effect": cohort_mean(p.to_dict(), first, last) - base,
            "rollout_effect": cohort_mean(rollouts[rep], first, last) - base,
        })
    return pd.DataFrame(rows, columns=["replication", "pilot_effect", "rollout_effect"])


def diagnosands(pilots: pd.DataFrame, effects: pd.DataFrame) -> dict[str, Any]:
    """The diagnosands and their Monte Carlo SEs from the replications' records."""
    est = pilots["estimate"].to_numpy(float)
    ok = np.isfinite(est)
    est_ok = est[ok]
    lo, hi = pilots["ci_low"].to_numpy(float)[ok], pilots["ci_high"].to_numpy(float)[ok]
    reject = pilots["reject"].to_numpy(float)[ok]
    rollout, rollout_se = _mean(effects["rollout_effect"].to_numpy(float))
    own, own_se = _mean(effects["pilot_effect"].to_numpy(float))
    mean_est, mean_est_se = _mean(est_ok)
    sd = float(est_ok.std(ddof=1)) if est_ok.size > 1 else math.nan
    out: dict[str, Any] = {"sims": int(pilots.shape[0]), "sims_with_estimate": int(ok.sum()),
                           "counterfactual_sims": int(effects.shape[0])}

    def put(name: str, value: float, se: float) -> None:
        out[name], out[f"{name}_se"] = value, se

    put("mean_estimate", mean_est, mean_est_se)
    put("sd_estimate", sd, sd / math.sqrt(2 * (est_ok.size - 1)) if est_ok.size > 1 else math.nan)
    put("mean_se", *_mean(pilots["se"].to_numpy(float)[ok]))
    put("power", *_share(reject))
    # the design's own estimand is the expected pilot-minus-control difference; its interval should cover
    # it 95 % of the time (leave-one-out mean, so a replication is not judged against itself)
    loo = (est_ok.sum() - est_ok) / max(est_ok.size - 1, 1)
    put("coverage", *_share(((lo <= loo) & (loo <= hi)).astype(float)))
    put("pilot_effect", own, own_se)
    put("rollout_effect", rollout, rollout_se)
    # biases are paired by replication (the same world with and without the pilot: common random
    # numbers), which removes the world-to-world spread from their Monte Carlo error
    paired = pilots.dropna(subset=["estimate", "rollout_effect", "pilot_effect"]) if "rollout_effect" in pilots else pilots.iloc[:0]
    if len(paired) > 1:
        put("bias_vs_pilot_effect", *_mean((paired["estimate"] - paired["pilot_effect"]).to_numpy(float)))
        put("bias_vs_rollout", *_mean((paired["estimate"] - paired["rollout_effect"]).to_numpy(float)))
    else:
        put("bias_vs_pilot_effect", mean_est - own, math.hypot(mean_est_se, own_se))
        put("bias_vs_rollout", mean_est - rollout, math.hypot(mean_est_se, rollout_se))
    # the expected overstatement ITT / roll-out over the same worlds (design/rollout.py)
    if "rollout_effect" in paired:
        out["overstatement"] = overstatement(paired["estimate"].to_numpy(float),
                                             paired["rollout_effect"].to_numpy(float))
    r = rollout if np.isfinite(rollout) else mean_est
    put("rmse", float(np.sqrt(np.mean((est_ok - r) ** 2))),
        _bootstrap(lambda e: np.sqrt(np.mean((e - r) ** 2)), est_ok))
    sig = reject.astype(bool)

    def type_s(e, s):
        return float(np.mean(np.sign(e[s]) != np.sign(r))) if s.any() else math.nan

    def exaggeration(e, s):
        return float(np.mean(np.abs(e[s])) / abs(r)) if s.any() and r != 0 else math.nan

    put("type_s", type_s(est_ok, sig), _bootstrap(type_s, est_ok, sig))
    put("exaggeration", exaggeration(est_ok, sig), _bootstrap(exaggeration, est_ok, sig))
    put("participants_mean", *_mean(pilots["participants"].to_numpy(float)))
    out["target"] = int(pilots["target"].iloc[0]) if len(pilots) else None
    put("take_up", *_mean(pilots["take_up"].to_numpy(float)))
    put("late", *_mean(pilots["late"].to_numpy(float)))
    put("providers_viable", *_mean(pilots["providers_viable"].to_numpy(float)))
    put("purchaser_paid", *_mean(pilots["purchaser_paid"].to_numpy(float)))
    paid, extra = pilots["purchaser_paid"].to_numpy(float), pilots["extra_jobs"].to_numpy(float)
    ratio = (lambda p, x: float(p.mean() / x.mean()) if x.mean() > 0 else math.nan)
    put("cost_per_extra_job", ratio(paid, extra), _bootstrap(ratio, paid, extra))
    return out


def test_of_design(pilots: pd.DataFrame, design, offices: int) -> dict[str, Any]:
    """The test every pilot was judged by (the design's: `labsim.results.inference`), the largest Monte
    Carlo SE of a resampled p-value among them, and the smallest p-value the design's test can give."""
    mc = pd.to_numeric(pilots.get("p_value_mc_se"), errors="coerce") if "p_value_mc_se" in pilots else None
    return {"test": str(pilots["test"].dropna().iloc[0]) if "test" in pilots and pilots["test"].notna().any()
            else None,
            "p_value_mc_se_max": float(mc.max()) if mc is not None and mc.notna().any() else None,
            "smallest_p": smallest_p(design.randomisation, offices, design.offices_per_arm(offices)[0])}


def diagnose(
    scenario: Scenario, *, sims: int = 200, counterfactual_sims: int | None = None, horizon: int = 26,
    alpha: float = 0.05, seed: int = 1, workers: int | None = None, progress: bool = False,
    engine: Engine = "local", scheduler: str | None = None,
) -> tuple[Diagnosis, pd.DataFrame]:
    """Simulate the pilot `sims` times (and its no-pilot and roll-out worlds for the first
    `counterfactual_sims`, default min(sims, 50)) on the engine asked; return the diagnosis and one row
    per pilot."""
    k = min(sims, 50) if counterfactual_sims is None else min(counterfactual_sims, sims)
    variants = {"pilot": scenario, "none": no_pilot(scenario), "rollout": roll_out(scenario)}
    tasks = [Task((rep,), PilotJob(variants["pilot"], "pilot", horizon, alpha), home=rep) for rep in range(sims)]
    # the counterfactual worlds give employment at the horizon only, so they stop once it is complete
    tasks += [Task((rep,), PilotJob(variants[kind], kind, horizon, alpha, figures=("employment",)), home=rep)
              for rep in range(k) for kind in ("none", "rollout")]
    started = time.perf_counter()
    records: dict[str, dict[int, dict]] = {"pilot": {}, "none": {}, "rollout": {}}
    with executor(engine, workers, scheduler) as pool:
        bar = f"diagnose: {sims} pilots, {k} no-pilot and {k} roll-out worlds" if progress else None
        for task, rec in run_tasks(simulate, tasks, root_seed=seed, pool=pool, progress=bar, total=len(tasks),
                                   unit="run"):
            records[rec["kind"]][rec["replication"]] = rec
    pilots = pd.DataFrame([records["pilot"][r] for r in sorted(records["pilot"])])
    effects = counterfactual_effects(pilots, records["none"], records["rollout"])
    pilots = pilots.merge(effects, on="replication", how="left")
    d = scenario.design
    answer = Diagnosis(scenario=scenario.name, referral_mode=scenario.referral.mode, design=d.randomisation,
                       horizon_weeks=horizon, alpha=alpha, seed=seed,
                       **{"overstatement": None, **diagnosands(pilots, effects),
                          **test_of_design(pilots, d, scenario.area.offices)},
                       seconds=round(time.perf_counter() - started, 1))
    return answer, pilots.drop(columns=["cohort_employed", "cohort_n"])
