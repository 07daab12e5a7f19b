"""What one simulated pilot would have told its evaluators: its estimates, and what it cost.

`pilot_estimates` reads a run's results as an evaluator would read the pilot's register data: the
intention-to-treat (ITT) effect on employment at a horizon, on weeks employed in 52 and on finding a
first job within the horizon; the effect on participants with assignment as the instrument; the volume
reached; whether the providers were viable; and the purchaser's cost per extra job. Every estimate and
test is the design's own (`labsim.results.inference.design_effect`), the same as the run's summary gives.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from labsim.results.adjusted import adjusted_itt
from labsim.results.estimate import icc_oneway
from labsim.results.inference import CLUSTER_OF, design_effect, placebo_test, saturation_spillover
from labsim.results.summary import RunResult


def analysis_frame(result: RunResult, horizon: int) -> pd.DataFrame:
    """The individuals with `found_job_<h>w` (a first job within h weeks of assignment; NaN when the
    run ended before h weeks had passed) added."""
    ind = result.individuals.copy()
    observed = ind[f"employed_{horizon}w"].notna()
    found = ind["weeks_to_first_job"].le(horizon).astype(float)
    ind[f"found_job_{horizon}w"] = found.where(observed)
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
                    test: str | None = None) -> dict[str, Any]:
    """The pilot's headline estimates as one flat record (what a replication of a diagnosis returns):
    the main one tested by the design's test (`test`: another, for comparisons), the others' estimate
    and SE only."""
    a = result.assignment
    if a is None:
        raise ValueError("a pilot's estimates need the run's assignment (a result made from its record)")
    design = a.design
    cluster = CLUSTER_OF.get(design)
    ind_all = analysis_frame(result, horizon)
    ind = ind_all.loc[~ind_all["before_pilot"]]  # the pilot's own cohorts
    if design == "saturation":  # the ITT is read inside markets that have both arms
        both = ind.groupby("sector", observed=True)["arm"].transform(lambda a: a.nunique() == 2)
        ind_itt = ind.loc[both]
    else:
        ind_itt = ind
    if result.summary.estimator == "adjusted" and design == "individual":
        # adjusted for the register's covariates (design.estimator; Lin 2013), HC2 with the normal test;
        # cluster designs are read by the difference in means and their own test
        def effect(col, tested):
            return adjusted_itt(ind_itt, col, alpha=alpha)
    else:
        def effect(col, tested):
            return design_effect(ind_all, col, a, alpha, test if tested else "none")
    main = effect(f"employed_{horizon}w", True)
    counted, weeks, found = (effect(col, False) for col in (
        f"employed_counted_{horizon}w", "weeks_employed_52w", f"found_job_{horizon}w"))
    late, late_se = wald_late(ind_itt, f"employed_{horizon}w")
    # saturation: the spillover on the untreated by treated share, with its own randomisation test
    spill = saturation_spillover(ind_all, f"employed_{horizon}w", a) if design == "saturation" and test is None else None
    placebo = placebo_test(ind_all, f"employed_{horizon}w", a, alpha)  # the control arm split in two
    s = result.summary
    pilot = ind["arm"] == "pilot"
    observed = ind[f"employed_{horizon}w"].notna()
    providers = s.providers
    paid = s.purchaser_paid_eur["total"]
    extra_jobs = main.estimate * int((pilot & observed).sum()) if np.isfinite(main.estimate) else np.nan
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
        "icc": cluster_icc(ind_itt, f"employed_{horizon}w", cluster),
        "n": main.n,
        "n_pilot": int((pilot & observed).sum()),
        "n_control": int((~pilot & observed).sum()),
        "control_mean": float(ind.loc[~pilot & observed, f"employed_{horizon}w"].mean()),
        "counted_estimate": counted.estimate,
        "counted_se": counted.se,
        "weeks_employed_estimate": weeks.estimate,
        "weeks_employed_se": weeks.se,
        "found_job_estimate": found.estimate,
        "found_job_se": found.se,
        "spillover": spill.estimate if spill else np.nan,
        "spillover_p_value": spill.p_value if spill else np.nan,
        "placebo_reject": float(placebo.p_value < alpha) if np.isfinite(placebo.p_value) else np.nan,
        "late": late,
        "late_se": late_se,
        "take_up": float(ind.loc[pilot, "took_up"].mean()) if pilot.any() else np.nan,
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
        "extra_jobs": float(extra_jobs),
        "cost_per_extra_job": float(paid / extra_jobs) if np.isfinite(extra_jobs) and extra_jobs > 0 else np.nan,
    }


def outcome_by_person(result: RunResult, horizon: int) -> pd.Series:
    """Each assigned person's employment h weeks after assignment, indexed by person (for comparing the
    same people across counterfactual runs of one world)."""
    ind = result.individuals
    return ind.set_index("person")[f"employed_{horizon}w"]
