"""The size search: the smallest pilot that reaches the target power, with its Monte Carlo interval.

1. A reference batch at the scenario's own size gives the control group's employment rate, the ITT
   (already diluted by take-up), take-up and, for office clusters, the intra-cluster correlation; the
   classical two-proportion size (with the design effect for clusters) follows from them.
2. Batches of replications at half, once and twice that size bracket the target; further batches are
   placed at the current estimate of the minimum size N*.
3. A probit of each replication's rejection on sqrt(N), fitted over every size tried, gives N* where the
   fitted power equals the target, and its 95 % interval from the probit's coefficient uncertainty
   (parametric bootstrap). The search stops when that interval is within the tolerance, or when the
   budget of simulations is spent.
All sizes use common random numbers: replication r at every size runs in the world of seed key (r,), so
differences between sizes are not blurred by differences between worlds. A target the design cannot
reach (no effect, or power still short at the largest size allowed) gets an answer, not an endless search.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from labsim.config.errors import LabsimError
from labsim.config.scenario import Scenario
from labsim.design.analytic import design_effect, pilot_arm_needed, two_proportion_power
from labsim.design.replicate import Job, simulate
from labsim.design.worlds import at_size, size_of, zero_help
from labsim.sweep.runner import Progress, Task, executor, run_tasks


@dataclass
class SizeSearch:
    """Settings of one search (what the planner asks for)."""

    by: str = "participants"
    power: float = 0.8
    alpha: float = 0.05
    horizon: int = 26
    batch: int = 40
    budget: int = 400
    tolerance: float = 0.15  # stop when the 95 % interval on N* is within +-15 % of N*
    max_size: int | None = None
    type_i_sims: int = 40
    seed: int = 1
    workers: int | None = None
    progress: bool = False  # print each step, and one progress bar for the whole search (on a terminal)

    def check(self) -> None:
        if not self.alpha < self.power < 1:
            raise LabsimError(f"--power must lie between --alpha ({self.alpha}) and 1, exclusive (got {self.power}):"
                              " power 1 needs an infinite pilot")
        if not 0 < self.alpha < 0.5:
            raise LabsimError(f"--alpha must lie between 0 and 0.5 (got {self.alpha})")
        if self.batch < 5 or self.budget < 3 * self.batch:
            raise LabsimError(f"--batch must be 5 or more and --budget at least 3 batches (got {self.batch}, {self.budget})")


@dataclass
class Trials:
    """Every replication run so far, and the next replication number at each size (for fresh draws)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    next_rep: dict[int, int] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def curve(self) -> pd.DataFrame:
        df = self.frame()
        g = df.groupby("size")
        out = pd.DataFrame({
            "power": g["reject"].mean(),
            "sims": g.size(),
            "mean_se": g["se"].mean(),
            "estimate": g["estimate"].mean(),
        }).reset_index()
        out["power_se"] = np.sqrt(out["power"] * (1 - out["power"]) / out["sims"])
        return out


def _probit(df: pd.DataFrame):
    """Fit P(reject) = Phi(a + b sqrt(N)); None if it cannot be fitted (e.g. every trial agrees)."""
    y = df["reject"].to_numpy(float)
    if y.min() == y.max() or df["size"].nunique() < 2:
        return None
    x = sm.add_constant(np.sqrt(df["size"].to_numpy(float)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.Probit(y, x).fit(disp=0)
        except Exception:  # perfect separation or no convergence: fall back to the observed curve
            return None
    return fit if np.all(np.isfinite(fit.params)) and fit.params[1] > 0 else None


def fitted_power(df: pd.DataFrame, sizes: np.ndarray) -> np.ndarray | None:
    """The probit's power at `sizes`: the curve the minimum size is read from (None if it cannot be fitted)."""
    fit = _probit(df)
    if fit is None:
        return None
    a, b = fit.params
    return stats.norm.cdf(a + b * np.sqrt(np.asarray(sizes, float)))


def _fills(trials: Trials, by: str) -> bool:
    """Whether the largest pilot tried filled its places (always true for levers other than places)."""
    df = trials.frame()
    largest = df["size"].max()
    return by != "participants" or df.loc[df["size"] == largest, "participants"].mean() >= 0.9 * largest


def _n_star(a: np.ndarray, b: np.ndarray, power: float) -> np.ndarray:
    root = (stats.norm.ppf(power) - a) / b
    return np.where((b > 0) & (root > 0), root**2, np.inf)


def minimum_size(df: pd.DataFrame, power: float, seed: int = 0) -> tuple[float, tuple[float, float]] | None:
    """N* and its 95 % interval from the probit over all trials (parametric bootstrap of a, b)."""
    fit = _probit(df)
    if fit is None:
        return None
    a, b = fit.params
    draws = np.random.default_rng(seed).multivariate_normal(fit.params, fit.cov_params(), 2000)
    n = _n_star(draws[:, 0], draws[:, 1], power)
    n.sort()  # order statistics (the draws may hold inf, where the fitted slope is not positive)
    lo, hi = n[int(0.025 * n.size)], n[int(0.975 * n.size) - 1]
    return float(_n_star(np.array(a), np.array(b), power)), (float(lo), float(hi))


def _run(scenario: Scenario, s: SizeSearch, trials: Trials, size: int, pool, kind="pilot",
         bar: Progress | None = None) -> list[dict]:
    start = trials.next_rep.get(size, 0) if kind == "pilot" else 0
    job = Job(at_size(scenario, s.by, size) if kind == "pilot" else scenario, "pilot", s.horizon, s.alpha, size)
    tasks = [Task((rep,), job) for rep in range(start, start + s.batch)]
    if bar is not None:
        bar.describe(f"size: {s.by} = {size:,}")
    rows = [rec for _, rec in run_tasks(simulate, tasks, root_seed=s.seed, pool=pool, progress=bar, total=len(tasks))]
    for rec in rows:
        rec.pop("cohort_employed", None), rec.pop("cohort_n", None)
    if kind == "pilot":
        trials.next_rep[size] = start + s.batch
        trials.rows.extend(rows)
    return rows


def reference(rows: list[dict], scenario: Scenario, s: SizeSearch, size: int) -> dict[str, Any]:
    """What the reference batch says: rates, effect, take-up, and the analytic size on the lever."""
    df = pd.DataFrame(rows)
    n_pilot, n_control = df["n_pilot"].mean(), df["n_control"].mean()
    p0, itt = float(df["control_mean"].mean()), float(df["estimate"].mean())
    ref = {"size": size, "control_rate": p0, "itt": itt, "itt_se": float(df["estimate"].std(ddof=1) / math.sqrt(len(df))),
           "take_up": float(df["take_up"].mean()), "late": float(df["late"].mean()),
           "n_pilot": float(n_pilot), "n_control": float(n_control), "design_effect": 1.0, "icc": 0.0}
    if scenario.design.randomisation == "office":
        m = (n_pilot + n_control) / scenario.area.offices
        ref["icc"] = float(df["icc"].mean())
        ref["design_effect"] = design_effect(m, ref["icc"])
    def on_lever(effect: float) -> float:  # the formula's size for an effect, from arm size to the lever
        need = pilot_arm_needed(p0, effect, s.alpha, s.power, ratio=n_control / max(n_pilot, 1))
        return size * need * ref["design_effect"] / n_pilot if math.isfinite(need) and n_pilot else math.inf

    ref["analytic_size"] = on_lever(itt)
    # the formula is only as sure as the effect it is given: the reference batch's mean ITT +- 1.96 SE
    ref["analytic_size_range"] = [on_lever(itt + 1.96 * ref["itt_se"]), on_lever(itt - 1.96 * ref["itt_se"])]
    return ref


def analytic_power(ref: dict[str, Any], size: float, alpha: float) -> float:
    scale = size / ref["size"] / ref["design_effect"]
    return two_proportion_power(ref["control_rate"], ref["itt"], ref["n_pilot"] * scale, ref["n_control"] * scale, alpha)


def search_size(scenario: Scenario, s: SizeSearch, progress: bool = False) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run the search; return the answer (size.json) and every replication (replications.parquet)."""
    s.check()
    started = time.perf_counter()
    base = size_of(scenario, s.by)
    low, high = 1 if s.by != "offices" else 2, s.max_size or 20 * base
    if s.by == "offices":
        high = s.max_size or max(4 * base, 40)
    trials = Trials()
    s.progress = s.progress or progress
    # one bar for the whole search, with time left against its budget (the most it can simulate)
    bar = Progress(s.budget + s.type_i_sims, "size", enabled=s.progress) if s.progress else None
    say = (lambda msg: bar.status(f"size: {msg}")) if bar else (lambda msg: None)
    status, message = "found", ""
    with executor("local", s.workers) as pool, _closing(bar):
        say(f"reference batch of {s.batch} pilots at {s.by} = {base}")
        ref = reference(_run(scenario, s, trials, base, pool, bar=bar), scenario, s, base)
        start = ref["analytic_size"] if math.isfinite(ref["analytic_size"]) else base
        start = int(min(max(round(start), low), high))
        for size in sorted({max(low, start // 2), start, min(high, 2 * start)} - {base}):
            if len(trials.rows) + s.batch > s.budget:
                break
            say(f"bracketing: {s.batch} pilots at {s.by} = {size}")
            _run(scenario, s, trials, size, pool, bar=bar)
        # widen upwards until some size reaches the target, within the largest size allowed and while a
        # larger pilot still fills (beyond what the catchment fills, a larger target adds nobody)
        while trials.curve()["power"].max() < s.power and trials.curve()["size"].max() < high \
                and _fills(trials, s.by) and len(trials.rows) + s.batch <= s.budget:
            size = int(min(high, 4 * trials.curve()["size"].max()))
            say(f"widening: {s.batch} pilots at {s.by} = {size}")
            _run(scenario, s, trials, size, pool, bar=bar)
        found = minimum_size(trials.frame(), s.power, s.seed)
        while found is not None and len(trials.rows) + s.batch <= s.budget:
            n_star, (lo, hi) = found
            if n_star > high or (math.isfinite(hi) and (hi - lo) / 2 <= s.tolerance * n_star):
                break
            size = int(min(max(round(n_star), low), high))
            say(f"refining: {s.batch} pilots at {s.by} = {size} (N* ~ {n_star:,.0f})")
            _run(scenario, s, trials, size, pool, bar=bar)
            found = minimum_size(trials.frame(), s.power, s.seed)
        curve = trials.curve()
        best = curve["power"].max()
        if found is None or not math.isfinite(found[0]) or found[0] > high:
            status = "not_reachable"
            largest = int(curve["size"].max())
            message = (f"no pilot up to {s.by} = {largest:,} reached power {s.power:.0%} "
                       f"(highest simulated: {best:.0%} +- {curve.loc[curve['power'].idxmax(), 'power_se']:.0%})")
            reached = trials.frame().query("size == @largest")["participants"].mean()
            if s.by == "participants" and reached < 0.9 * largest:
                message += (f"; the catchment fills only about {reached:,.0f} places in the intake window, so a "
                            "larger target adds nobody: more eligible job seekers (a larger area) or a longer "
                            "intake are needed (try --by intake-weeks)")
            elif not ref["itt"] > 2 * ref["itt_se"]:
                message += "; the pilot's effect is not distinguishable from zero in this world"
            found = None
        elif len(trials.rows) + s.batch > s.budget and (found[1][1] - found[1][0]) / 2 > s.tolerance * found[0]:
            status, message = "budget", "the simulation budget ran out before the interval met the tolerance"
        type_i = None
        if found is not None and s.type_i_sims > 0:
            size = int(min(max(math.ceil(found[0]), low), high))
            say(f"type-I check: {s.type_i_sims} pilots at {s.by} = {size} with providers that do nothing")
            null = zero_help(at_size(scenario, s.by, size))
            rows = _run(null, SizeSearch(**{**s.__dict__, "batch": s.type_i_sims}), Trials(), size, pool, kind="null",
                        bar=bar)
            type_i = _type_i_error(size, np.array([r["reject"] for r in rows], bool))
    rows = trials.frame()
    curve["analytic_power"] = [analytic_power(ref, n, s.alpha) for n in curve["size"]]
    near = rows.loc[(rows["size"] - (found[0] if found else rows["size"].max())).abs().idxmin(), "size"]
    at = rows.loc[rows["size"] == near]
    answer = _answer(scenario, s, ref, curve, found, at, near, status, message, type_i)
    answer["sims_total"] = int(len(rows)) + (type_i["sims"] if type_i else 0)
    answer["seconds"] = round(time.perf_counter() - started, 1)
    return answer, rows


@contextmanager
def _closing(bar: Progress | None) -> Iterator[None]:
    """Close the search's bar at its end, filled to what was simulated (the budget is only a ceiling)."""
    try:
        yield
        if bar is not None:
            bar.finish()
    finally:
        if bar is not None:
            bar.close()


def _type_i_error(size: int, reject: np.ndarray) -> dict[str, Any]:
    """The rejection rate with no effect, and its exact (Clopper-Pearson) 95 % interval: with 40 pilots
    and no rejection the rate is 0 but could be as high as 9 %, which a binomial SE of 0 would hide."""
    ci = stats.binomtest(int(reject.sum()), reject.size).proportion_ci(0.95, method="exact")
    rate = float(reject.mean())
    return {"size": size, "rate": rate, "se": float(math.sqrt(rate * (1 - rate) / reject.size)),
            "ci": [float(ci.low), float(ci.high)], "sims": int(reject.size)}


def _answer(scenario, s, ref, curve, found, at, near, status, message, type_i) -> dict[str, Any]:
    n_star = math.ceil(found[0]) if found else None
    per_unit = lambda col: float(at[col].mean()) / near  # noqa: E731  (people or weeks per unit of size)
    eligible = per_unit("assigned") * n_star if n_star else None
    filled = at["week_target_reached"].notna().mean() if "week_target_reached" in at else 0.0
    weeks = None
    if n_star and s.by == "participants" and filled > 0.5:
        spent = (at["week_target_reached"] - scenario.referral.start_week + 1).mean()
        weeks = float(spent / near * n_star)
    elif n_star and s.by == "intake-weeks":
        weeks = float(n_star)
    return {
        "by": s.by,
        "target_power": s.power,
        "alpha": s.alpha,
        "horizon_weeks": s.horizon,
        "design": scenario.design.randomisation,
        "referral_mode": scenario.referral.mode,
        "status": status,
        "message": message,
        "minimum_size": n_star,
        "minimum_size_ci": [math.floor(found[1][0]), math.ceil(found[1][1]) if math.isfinite(found[1][1]) else None]
        if found else None,
        "analytic_size": math.ceil(ref["analytic_size"]) if math.isfinite(ref["analytic_size"]) else None,
        "analytic_size_ci": [math.ceil(x) if math.isfinite(x) else None for x in ref["analytic_size_range"]],
        "reference": ref,
        "power_curve": [
            {"size": int(r["size"]), "power": float(r["power"]), "power_se": float(r["power_se"]),
             "analytic_power": None if not np.isfinite(r["analytic_power"]) else float(r["analytic_power"]),
             "mean_se": float(r["mean_se"]), "sims": int(r["sims"])}
            for _, r in curve.iterrows()
        ],
        "eligible_needed": round(eligible) if eligible else None,
        "intake_weeks_needed": round(weeks, 1) if weeks else None,
        "intake_filled_share": float(filled),
        "break_even_clients": float(at["break_even_clients"].mean()) if at["break_even_clients"].notna().any() else None,
        "providers_viable_share": float(at["providers_viable"].mean()),
        "type_i_error": type_i,
    }
