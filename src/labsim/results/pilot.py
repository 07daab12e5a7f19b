"""What one simulated pilot would have told its evaluators: its estimates, and what it cost.

`pilot_estimates` reads a run's results as an evaluator would read the pilot's register data: the
intention-to-treat (ITT) effect on employment at a horizon, on weeks employed in 52 and on finding a
first job within the horizon; the effect on participants with assignment as the instrument; the volume
reached; whether the providers were viable; and the purchaser's cost per extra job. Every estimate and
test is the design's own (`labsim.results.inference.design_effect`), the same as the run's summary gives.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from labsim.results.adjusted import adjusted_reader
from labsim.results.estimate import Estimate, icc_oneway, itt
from labsim.results.inference import CLUSTER_OF, Assignment, design_effect, placebo_test, saturation_spillover
from labsim.results.summary import RunResult


def analysis_frame(result: RunResult, horizon: int, *more: int) -> pd.DataFrame:
    """The individuals with `found_job_<h>w` (a first job within h weeks of assignment; NaN when the
    run ended before h weeks had passed) added, for the horizon and each of `more`."""
    ind = result.individuals.copy()
    for h in (horizon, *more):
        observed = ind[f"employed_{h}w"].notna()
        found = ind["weeks_to_first_job"].le(h).astype(float)
        ind[f"found_job_{h}w"] = found.where(observed)
    return ind


def wald_late(ind: pd.DataFrame, outcome: str) -> tuple[float, float]:
    """Effect on participants (complier average effect): the ITT over the difference in take-up, with
    its delta-method standard error (assignment as the instrument for taking part)."""
    df = ind.loc[ind[outcome].notna()]
    pilot = (df["arm"] == "pilot").to_numpy()
    y, d = df[outcome].to_numpy(float), df["took_up"].to_numpy(float)
    if pilot.sum() < 2 or (~pilot).sum() < 2:
        return np.nan, np.nan
    first_stage = d[pilot].mean() - d[~pilot].mean()
    if first_stage <= 0:
        return np.nan, np.nan
    beta = (y[pilot].mean() - y[~pilot].mean()) / first_stage
    u = y - beta * d
    var = u[pilot].var(ddof=1) / pilot.sum() + u[~pilot].var(ddof=1) / (~pilot).sum()
    return float(beta), float(np.sqrt(var) / first_stage)


def cluster_icc(ind: pd.DataFrame, outcome: str, cluster: str | None) -> float:
    """The outcome's intra-cluster correlation between the randomised units, net of the arms (whose
    effect would otherwise count as a difference between clusters); NaN for individual designs."""
    if cluster is None:
        return np.nan
    df = ind.loc[ind[outcome].notna()]
    y = df[outcome].to_numpy(float)
    net = y - df.groupby("arm", observed=True)[outcome].transform("mean").to_numpy(float)
    return icc_oneway(net, df[cluster].to_numpy())


def pilot_estimates(result: RunResult, horizon: int = 26, alpha: float = 0.05,
                    test: str | None = None, readings: tuple[str, ...] = ()) -> dict[str, Any]:
    """The pilot's headline estimates as one flat record (what a replication of a diagnosis returns):
    the main one tested by the design's test (`test`: another, for comparisons), the others' estimate
    and SE only. With `readings` (estimators), the record also holds, under `READINGS`, its
    estimator-dependent fields as each of them reads the same pilot (`other_readings`)."""
    return estimates_at(result, (horizon,), alpha, test, readings)[horizon]


def estimates_at(result: RunResult, horizons: tuple[int, ...], alpha: float = 0.05, test: str | None = None,
                 readings: tuple[str, ...] = ()) -> dict[int, dict[str, Any]]:
    """`pilot_estimates` at each of `horizons`, each record the same as `pilot_estimates` gives there, from
    one analysis frame: an estimator's reader serves every horizon, so that the adjusted estimator fits the
    people observed at several horizons (a pilot's own cohorts, at each horizon its run reached) once."""
    a = result.assignment
    if a is None:
        raise ValueError("a pilot's estimates need the run's assignment (a result made from its record)")
    ind_all = analysis_frame(result, *horizons)
    ind = ind_all.loc[~ind_all["before_pilot"]]  # the pilot's own cohorts
    ind_itt = itt_sample(ind, a.design)
    effect = effect_reader(result, ind_all, ind_itt, alpha, test)
    readers: dict[str, Callable[[str, bool], Estimate]] = {}  # the other estimators', for every horizon
    out = {}
    for horizon in horizons:
        outcome = f"employed_{horizon}w"
        main = effect(outcome, True)
        record = {**tested_figures(main, alpha),
                  **arm_figures(ind, ind_itt, main, outcome, CLUSTER_OF.get(a.design)),
                  **secondary_figures(effect, horizon),
                  **design_checks(ind_all, a, outcome, alpha, test),
                  **participation_figures(ind, ind_itt, outcome),
                  **volume_and_cost(result, ind, main, outcome)}
        if readings:
            record[READINGS] = other_readings(record, result, ind_itt, outcome, horizon, alpha, test, readings,
                                              readers)
        out[horizon] = record
    return out


#: The record's key for its figures read under other estimators (`pilot_estimates(readings=...)`).
READINGS = "readings"
#: The estimators a scenario may name (design.estimator).
ESTIMATORS = ("difference", "adjusted")


#: The fields of a pilot's record that depend on the estimator (design.estimator) and on nothing else of
#: the analysis: the main estimate and its test, the people it counted, the untested effects, and the extra
#: jobs and their cost. Everything else in the record is the same under every estimator.
READING_FIELDS = ("estimate", "se", "ci_low", "ci_high", "p_value", "p_value_mc_se", "test", "reject", "z_critical",
                  "clusters", "n", "counted_estimate", "counted_se", "weeks_employed_estimate", "weeks_employed_se",
                  "found_job_estimate", "found_job_se", "extra_jobs", "cost_per_extra_job")


def other_readings(record: dict[str, Any], result: RunResult, ind_itt: pd.DataFrame, outcome: str, horizon: int,
                   alpha: float, test: str | None, estimators: tuple[str, ...],
                   readers: dict[str, Callable[[str, bool], Estimate]] | None = None) -> dict[str, dict[str, Any]]:
    """The record's estimator-dependent fields (`READING_FIELDS`) under each of `estimators`: its own, and
    the others computed from the same people (an individual design's; other designs read every estimator
    alike, so theirs are the record's own). What the record would hold had the scenario named that
    estimator, so that a kept pilot can be re-read when the planner switches estimator (the page).
    `readers`: each estimator's reader of `ind_itt`, kept for another horizon's call."""
    own = {k: record[k] for k in READING_FIELDS}
    out = {result.summary.estimator: own}
    if test is not None:  # a comparison's test: only its own reading
        return out
    readers = {} if readers is None else readers
    for estimator in estimators:
        if estimator in out:
            continue
        if result.assignment.design != "individual":
            out[estimator] = own
            continue
        if estimator not in readers:
            readers[estimator] = individual_effect(ind_itt, estimator, alpha)
        effect = readers[estimator]
        main = effect(outcome, True)
        treated = int(((ind_itt["arm"] == "pilot") & ind_itt[outcome].notna()).sum())
        extra = extra_jobs_and_cost(main, treated, record["purchaser_paid"])
        out[estimator] = {**tested_figures(main, alpha), "n": main.n, **secondary_figures(effect, horizon), **extra}
    return out


def itt_sample(ind: pd.DataFrame, design: str) -> pd.DataFrame:
    """The people the ITT is read from: everyone in the pilot's cohorts, or under saturation those in
    markets that have both arms."""
    if design != "saturation":
        return ind
    both = ind.groupby("sector", observed=True)["arm"].transform(lambda a: a.nunique() == 2)
    return ind.loc[both]


def effect_reader(result: RunResult, ind_all: pd.DataFrame, ind_itt: pd.DataFrame, alpha: float,
                  test: str | None) -> Callable[[str, bool], Estimate]:
    """How an outcome's effect is read: adjusted for the register's covariates (design.estimator; Lin
    2013), HC2 with the normal test, for an individual design that asks for it; else the design's own
    estimate, the main outcome (`tested`) by the design's test (or `test`), the others untested."""
    a = result.assignment
    if result.summary.estimator == "adjusted" and a.design == "individual":
        return individual_effect(ind_itt, "adjusted", alpha)
    return lambda col, tested: design_effect(ind_all, col, a, alpha, test if tested else "none")


def individual_effect(ind: pd.DataFrame, estimator: str, alpha: float) -> Callable[[str, bool], Estimate]:
    """An individual design's effect reader under `estimator`, from its pilot cohorts `ind`: adjusted for
    the register's covariates (Lin 2013), or the difference of the arms' means tested by HC2 (what
    `design_effect` reads for the individual design)."""
    if estimator == "adjusted":
        return adjusted_reader(ind, alpha)  # adjusted_itt's figures, one design matrix per set of people
    return lambda col, tested: itt(ind, col, None, alpha, "auto" if tested else "none")


def tested_figures(main: Estimate, alpha: float) -> dict[str, Any]:
    """The main estimate with its SE, interval, p-value and the test that gave it, and whether it rejects."""
    return {
        "estimate": main.estimate,
        "se": main.se,
        "ci_low": main.ci_low,
        "ci_high": main.ci_high,
        "p_value": main.p_value,
        "p_value_mc_se": np.nan if main.p_value_mc_se is None else main.p_value_mc_se,
        "test": main.test,
        "reject": bool(main.p_value < alpha) if np.isfinite(main.p_value) else False,
        # the normal critical value |estimate / se| was tested against (NaN: another test)
        "z_critical": NormalDist().inv_cdf(1 - alpha / 2) if main.test == "hc2" else np.nan,
        "clusters": main.clusters,
    }


def arm_figures(ind: pd.DataFrame, ind_itt: pd.DataFrame, main: Estimate, outcome: str,
                cluster: str | None) -> dict[str, Any]:
    """The arms behind the main estimate: the outcome's ICC between the randomised units, the people
    counted, each arm's size and the control group's mean."""
    pilot, observed = ind["arm"] == "pilot", ind[outcome].notna()
    return {
        "icc": cluster_icc(ind_itt, outcome, cluster),
        "n": main.n,
        "n_pilot": int((pilot & observed).sum()),
        "n_control": int((~pilot & observed).sum()),
        "control_mean": float(ind.loc[~pilot & observed, outcome].mean()),
    }


def secondary_figures(effect: Callable[[str, bool], Estimate], horizon: int) -> dict[str, Any]:
    """The untested effects' estimates and SEs: employment counted as the register counts it, weeks
    employed in 52 and a first job within the horizon."""
    counted, weeks, found = (effect(col, False) for col in (
        f"employed_counted_{horizon}w", "weeks_employed_52w", f"found_job_{horizon}w"))
    return {
        "counted_estimate": counted.estimate,
        "counted_se": counted.se,
        "weeks_employed_estimate": weeks.estimate,
        "weeks_employed_se": weeks.se,
        "found_job_estimate": found.estimate,
        "found_job_se": found.se,
    }


def design_checks(ind_all: pd.DataFrame, a: Assignment, outcome: str, alpha: float,
                  test: str | None) -> dict[str, Any]:
    """Saturation's spillover on the untreated with its own randomisation test (with the design's test
    only), and whether the design's test rejects between two halves of the control arm (the placebo)."""
    spill = saturation_spillover(ind_all, outcome, a) if a.design == "saturation" and test is None else None
    placebo = placebo_test(ind_all, outcome, a, alpha)
    return {
        "spillover": spill.estimate if spill else np.nan,
        "spillover_p_value": spill.p_value if spill else np.nan,
        "placebo_reject": float(placebo.p_value < alpha) if np.isfinite(placebo.p_value) else np.nan,
    }


def participation_figures(ind: pd.DataFrame, ind_itt: pd.DataFrame, outcome: str) -> dict[str, Any]:
    """The effect on participants (`wald_late`) and the pilot arm's take-up."""
    late, late_se = wald_late(ind_itt, outcome)
    pilot = ind["arm"] == "pilot"
    return {"late": late, "late_se": late_se,
            "take_up": float(ind.loc[pilot, "took_up"].mean()) if pilot.any() else np.nan}


def volume_and_cost(result: RunResult, ind: pd.DataFrame, main: Estimate, outcome: str) -> dict[str, Any]:
    """The volume reached, whether the providers were viable and their break-even, what the purchaser
    paid, the extra jobs the main estimate implies and their cost each."""
    s = result.summary
    providers = s.providers
    paid = s.purchaser_paid_eur["total"]
    treated = int(((ind["arm"] == "pilot") & ind[outcome].notna()).sum())
    return {
        "assigned": int(ind.shape[0]),
        "participants": int(s.participants.reached),
        "target": int(s.participants.target),
        "week_target_reached": s.participants.week_target_reached,
        "providers_viable": float(np.mean([p.profit_eur >= 0 and not p.exited for p in providers]))
        if providers else np.nan,
        "break_even_clients": float(np.nanmean([np.nan if p.break_even_clients is None
                                                else p.break_even_clients for p in providers]))
        if providers and any(p.break_even_clients is not None for p in providers) else np.nan,
        "purchaser_paid": float(paid),
        **extra_jobs_and_cost(main, treated, paid),
    }


def extra_jobs_and_cost(main: Estimate, treated: int, paid: float) -> dict[str, float]:
    """The extra jobs the main estimate implies for the `treated` observed in the pilot arm, and the
    purchaser's cost (`paid`) of each."""
    extra_jobs = main.estimate * treated if np.isfinite(main.estimate) else np.nan
    return {"extra_jobs": float(extra_jobs),
            "cost_per_extra_job": float(paid / extra_jobs) if np.isfinite(extra_jobs) and extra_jobs > 0 else np.nan}


def outcome_by_person(result: RunResult, horizon: int) -> pd.Series:
    """Each assigned person's employment h weeks after assignment, indexed by person (for comparing the
    same people across counterfactual runs of one world)."""
    ind = result.individuals
    return ind.set_index("person")[f"employed_{horizon}w"]
