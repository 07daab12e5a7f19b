"""The roll-out estimand: what the pilot's estimate overstates, and the size needed to detect the roll-out.

A pilot estimates the intention-to-treat effect (ITT): its pilot arm against its control arm, in a world
where the controls compete with the pilot's participants for the same vacancies. A roll-out refers
everyone eligible, so nobody is left to lose those vacancies; in a slack market part of the ITT is
displacement and the roll-out effect is smaller (docs/evaluation.md, "The roll-out estimand").

From the same worlds run three ways (common random numbers: world r is seed key (r,) in the pilot, the
no-pilot and the roll-out run), each world gives a pair (ITT_r, roll-out effect_r). The expected
overstatement is the ratio of their means, ITT / roll-out, with Fieller's 95 % interval for a ratio of
two correlated means (the delta method's inputs, without its symmetric interval that goes wrong when the
denominator is uncertain). When the roll-out effect is not distinguishable from zero the interval is
unbounded and reported as open (None at the open end).

The size to detect the roll-out effect uses the search's own standard errors: the pilot's SE at each
size tried is fitted as SE(N) = exp(a) N^b (b is near -1/2 while places fill), and the size is where
|roll-out| / SE(N) = z_{1-alpha/2} + z_power, i.e. power(N) = Phi(|roll-out| / SE(N) - z_{1-alpha/2}).
It assumes the SE does not depend on the size of the effect (true to first order for shares near the
control rate) and a normal test statistic; its interval maps the roll-out effect's own 95 % interval.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from labsim.config.scenario import Scenario
from labsim.design.analytic import normal_power
from labsim.design.pilot_cache import PilotCache, scenario_hash
from labsim.design.replicate import SEARCH_FIGURES, PilotJob, cohort_mean, shorter_horizons, simulate
from labsim.design.size_answer import Overstatement, Rollout, RolloutPower, RolloutSize
from labsim.design.worlds import no_pilot, roll_out
from labsim.sweep.runner import Task, executor, run_tasks

ESTIMANDS = ("itt", "rollout")  # what a size answer's headline sizes for


def fieller(mean_num: float, mean_den: float, var_num: float, var_den: float, cov: float,
            level: float = 0.95) -> tuple[float | None, float | None]:
    """Fieller's interval for mean_num / mean_den: the ratios R with (num - R den)^2 <= z^2 Var(num - R den).
    (None, None) when the denominator's own interval holds zero (the set is then unbounded)."""
    z2 = stats.norm.ppf(0.5 + level / 2) ** 2
    a = mean_den**2 - z2 * var_den
    if a <= 0:
        return None, None
    b = mean_num * mean_den - z2 * cov
    c = mean_num**2 - z2 * var_num
    disc = b * b - a * c
    if disc < 0:  # cannot happen when a > 0 (the estimate itself satisfies the inequality); kept safe
        return None, None
    root = math.sqrt(disc)
    return (b - root) / a, (b + root) / a


def overstatement(itt: np.ndarray, rollout: np.ndarray, level: float = 0.95) -> Overstatement:
    """The expected overstatement from paired per-world effects (pairs with a missing value dropped)."""
    itt, rollout = np.asarray(itt, float), np.asarray(rollout, float)
    ok = np.isfinite(itt) & np.isfinite(rollout)
    itt, rollout = itt[ok], rollout[ok]
    n = int(itt.size)
    if n < 2:
        return Overstatement(math.nan, math.nan, math.nan, math.nan, math.nan, (None, None), n)
    cov = np.cov(itt, rollout, ddof=1) / n  # covariance matrix of the two means
    mi, mr = float(itt.mean()), float(rollout.mean())
    ratio = mi / mr if mr != 0 else math.nan
    ci = fieller(mi, mr, float(cov[0, 0]), float(cov[1, 1]), float(cov[0, 1]), level)
    return Overstatement(mi, math.sqrt(cov[0, 0]), mr, math.sqrt(cov[1, 1]), ratio, ci, n)


def overstatement_sentence(o: dict) -> str | None:
    """The overstatement in words when its interval excludes 1 (a planner's sentence), else None."""
    lo, hi = o.get("ratio_ci") or (None, None)
    if lo is None or hi is None or lo <= 1 <= hi:
        return None
    verb = "times the roll-out effect" if lo > 1 else "times the roll-out effect (it understates it)"
    return (f"in this market the pilot's estimate is expected to be about {o['ratio']:.1f} {verb} "
            f"(95 % interval {lo:.1f}-{hi:.1f}, {o['worlds']} worlds)")


# -- the paired worlds -------------------------------------------------------------------------------------


def paired_effects(pilots: pd.DataFrame, nones: dict[int, dict], rollouts: dict[int, dict]) -> pd.DataFrame:
    """Per world: the pilot's ITT estimate and the roll-out effect over the weeks its intake was open."""
    rows = []
    for p in pilots.itertuples(index=False):
        rep = int(p.replication)
        if rep in nones and rep in rollouts and p.last_intake_week >= 0:
            first, last = int(p.first_intake_week), int(p.last_intake_week)
            rows.append({"replication": rep, "itt": float(p.estimate),
                         "rollout_effect": cohort_mean(rollouts[rep], first, last) - cohort_mean(nones[rep], first, last)})
    return pd.DataFrame(rows, columns=["replication", "itt", "rollout_effect"])


def run_counterfactuals(scenario: Scenario, replications: list[int], *, horizon: int, alpha: float, seed: int,
                        workers: int | None, progress: bool = False, worlds: dict[int, int] | None = None,
                        last_cohorts: dict[int, int] | None = None, pool: Any = None, horizons: tuple[int, ...] = ()
                        ) -> tuple[dict[int, dict], dict[int, dict]]:
    """The no-pilot and roll-out runs of the worlds `replications` (seed keys (r,), as the pilots'; in the
    pilots' own `worlds` (`PilotJob.world`) when they ran in worlds of their own), on `pool` when given: the
    pool of the search keeps those worlds burned in. Each runs until its cohorts at the horizon are
    complete: up to the week `last_cohorts` gives for its world (its pilot's last intake week), else any
    pilot's. With `horizons` (shorter ones) each run also reads its cohorts at them (`HORIZON_READINGS`)."""
    variants = {"none": no_pilot(scenario), "rollout": roll_out(scenario)}
    tasks = [Task((rep,), PilotJob(variants[k], k, horizon, alpha, figures=SEARCH_FIGURES,  # cohorts at the horizon
                              world=None if worlds is None else worlds[rep],
                              last_cohort=None if last_cohorts is None else last_cohorts[rep], horizons=horizons),
                  home=rep if worlds is None else worlds[rep])
             for rep in replications for k in variants]
    out: dict[str, dict[int, dict]] = {"none": {}, "rollout": {}}
    with nullcontext(pool) if pool is not None else executor("local", workers) as pool:
        for _, rec in run_tasks(simulate, tasks, root_seed=seed, pool=pool,
                                progress="roll-out worlds" if progress else None, total=len(tasks)):
            out[rec["kind"]][rec["replication"]] = rec
    return out["none"], out["rollout"]


# -- the size to detect the roll-out effect ------------------------------------------------------------------


def rollout_power(effect: float, se: float, alpha: float) -> float:
    """Power of a two-sided normal test of an effect of this size with this SE."""
    if not (np.isfinite(effect) and np.isfinite(se) and se > 0):
        return math.nan
    return float(normal_power(effect, se, stats.norm.ppf(1 - alpha / 2)))


def se_fit(sizes: np.ndarray, mean_se: np.ndarray) -> tuple[float, float] | None:
    """(a, b) of log SE = a + b log N over the sizes tried; None with fewer than two usable sizes."""
    sizes, mean_se = np.asarray(sizes, float), np.asarray(mean_se, float)
    ok = np.isfinite(mean_se) & (mean_se > 0) & (sizes > 0)
    if np.unique(sizes[ok]).size < 2:
        return None
    b, a = np.polyfit(np.log(sizes[ok]), np.log(mean_se[ok]), 1)
    return float(a), float(b)


def size_to_detect(effect: float, fit: tuple[float, float] | None, power: float, alpha: float) -> float:
    """The size N with power(N) = target for this effect on the fitted SE curve (inf if none)."""
    if fit is None or not np.isfinite(effect) or effect == 0 or fit[1] >= 0:
        return math.inf
    a, b = fit
    target_se = abs(effect) / (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    log_n = (math.log(target_se) - a) / b
    return float(math.exp(log_n)) if log_n < 700 else math.inf  # beyond floats: no size detects it


def rollout_size(o: Overstatement, rows: pd.DataFrame, power: float, alpha: float,
                 filled_only: bool = False) -> RolloutSize:
    """The size to detect the roll-out effect (and, by the same formula, the ITT), from the search's rows
    (one per simulated pilot: its size and SE). With `filled_only` (places as the lever) the SE curve is
    fitted against the places the pilots filled, as the size search's power fit is: beyond what the
    catchment fills a larger target adds nobody, and its SE is that of the places filled."""
    g = rows.groupby("size")
    curve = g["se"].mean()
    filled = g["participants"].mean() if filled_only and "participants" in rows else curve.index.to_series()
    fit = se_fit(filled.to_numpy(), curve.to_numpy())
    n = size_to_detect(o.rollout, fit, power, alpha)
    z = stats.norm.ppf(0.975)
    ends = [size_to_detect(o.rollout + s * z * o.rollout_se, fit, power, alpha) for s in (1, -1)]
    same_sign = np.sign(o.rollout + z * o.rollout_se) == np.sign(o.rollout - z * o.rollout_se)
    lo, hi = sorted(ends) if same_sign else (min(ends), math.inf)
    return RolloutSize(_whole(n), (_whole(lo), _whole(hi)), _whole(size_to_detect(o.itt, fit, power, alpha)),
                       None if fit is None else fit[1],
                       tuple(RolloutPower(int(s), float(se), rollout_power(o.rollout, se, alpha)) for s, se in curve.items()))


def _whole(x: float) -> int | None:
    """A size rounded up, None when there is none (infinite)."""
    return math.ceil(x) if math.isfinite(x) else None


def rollout_part(rows: pd.DataFrame, scenario: Scenario, *, base: int, power: float, alpha: float, horizon: int,
                 seed: int, workers: int | None, by: str = "participants", progress: bool = False,
                 pool: Any = None, cache: PilotCache | None = None) -> Rollout:
    """The overstatement and the size to detect the roll-out effect, from the reference batch's worlds
    (the pilots at the scenario's own size `base`) run again with no pilot and rolled out (or kept in
    `cache` from an earlier answer of the same world, read again at a shorter horizon)."""
    search = rows["part"] == "search" if "part" in rows else True
    ref = rows.loc[(rows["size"] == base) & search].drop_duplicates("replication")
    reps = ref["replication"].astype(int)
    worlds = dict(zip(reps, ref["world"].astype(int))) if "world" in ref else None
    last = dict(zip(reps, ref["last_intake_week"].astype(int).clip(lower=0)))  # the cohorts paired_effects reads
    ran_to = horizon if cache is None else cache.run_to(horizon)  # the page's worlds run to the longest

    def run() -> tuple[dict[int, dict], dict[int, dict]]:
        return run_counterfactuals(scenario, sorted(reps), horizon=ran_to, alpha=alpha, seed=seed, workers=workers,
                                   progress=progress, worlds=worlds, last_cohorts=last, pool=pool,
                                   horizons=() if cache is None else shorter_horizons(ran_to))
    if cache is None:
        nones, rollouts = run()
    else:
        key = ("rollout", scenario_hash(scenario), seed, tuple(sorted(last.items())),
               tuple(sorted(worlds.items())) if worlds else None)
        nones, rollouts = cache.worlds(key, run, horizon, ran_to)
    pairs = paired_effects(ref, nones, rollouts)
    o = overstatement(pairs["itt"].to_numpy(), pairs["rollout_effect"].to_numpy())
    return Rollout(o, rollout_size(o, rows, power, alpha, filled_only=by == "participants"), 2 * len(ref))
