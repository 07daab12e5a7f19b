"""Sensitivity of the pilot's power to the assumptions with an evidence range (`labsim sensitivity`).

Which assumption moves the power at the planned size most, over the ranges the scenario's
`[[assumptions]]` table gives (or `--params path=low:high`)? Two methods:
- `morris` (default): Morris elementary effects (SALib). r trajectories through a grid of 4 levels per
  range; each step changes one assumption by 2/3 of its range. mu* (the mean absolute elementary effect,
  in power per unit of the range) ranks the assumptions; sigma (their SD) shows interactions or
  non-linearity; mu*'s 95 % interval is SALib's bootstrap over trajectories.
- `oat`: one at a time, the tornado: every assumption at its low and high end with the others at the
  scenario's (central) values; the swing is power(high) - power(low).
Every point runs the same `sims` worlds (common random numbers: world r has seed key (r,) at every
point), so the differences between points are differences of assumption, not of luck.

The power at a point is read from its simulated pilots as Phi(|mean estimate| / mean SE - z_{1-alpha/2})
(smooth, so that small changes show with few pilots); the share of pilots that reject is kept beside it.
The minimum detectable effect at 80 % power, (z_{1-alpha/2} + z_0.8) x mean SE, is reported too.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from labsim.config.assumptions import number_at, parse_span, value_at
from labsim.config.errors import LabsimError
from labsim.results.inference import TEST_OF
from labsim.config.scenario import Scenario, set_field
from labsim.design.evidence import Range
from labsim.design.replicate import Job, simulate
from labsim.design.worlds import at_size, size_of
from labsim.sweep.runner import Task, executor, run_tasks

METHODS = ("morris", "oat")
LEVELS = 4  # Morris grid levels (Saltelli et al. 2004 recommend 4 with delta = 2/3 of the range)


@dataclass
class Sensitivity:
    """Settings of one sensitivity analysis (what the planner asks for)."""

    method: str = "morris"
    by: str = "participants"
    at_size: int | None = None  # default: the scenario's own size on `by`
    trajectories: int = 10
    sims: int = 20
    horizon: int = 26
    alpha: float = 0.05
    seed: int = 1
    workers: int | None = None
    progress: bool = False

    def check(self) -> None:
        if self.method not in METHODS:
            raise LabsimError(f"--method must be one of {', '.join(METHODS)} (got {self.method!r})")
        for name in ("trajectories", "sims"):
            if getattr(self, name) < 2:
                raise LabsimError(f"--{name} must be 2 or more (got {getattr(self, name)})")
        if not 0 < self.alpha < 0.5:
            raise LabsimError(f"--alpha must lie between 0 and 0.5 (got {self.alpha})")


@dataclass
class SensitivityResult:
    """Per assumption its effect on power (and MDE), and every point simulated."""

    settings: dict[str, Any]
    ranges: list[Range]
    parameters: list[dict[str, Any]]
    points: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.settings, "parameters": self.parameters, "points": self.points}


def parse_param(text: str) -> tuple[str, float, float]:
    """`path=low:high` from the command line."""
    try:
        path, lo, hi = parse_span(text)
    except ValueError:
        raise LabsimError(f"--params {text!r}: write path=low:high, e.g. providers.effort_effect=0.3:1.0") from None
    if not lo < hi:
        raise LabsimError(f"--params {text!r}: write path=low:high with low below high")
    return path, lo, hi


def ranges_of(scenario: Scenario, params: list[str]) -> list[Range]:
    """The ranges to vary: the scenario's `[[assumptions]]`, replaced or extended by `--params`."""
    out = {a.path: Range(a.path, a.low, float(value_at(scenario, a.path)), a.high, a.distribution, a.source)
           for a in scenario.assumptions}
    for text in params:
        path, lo, hi = parse_param(text)
        try:
            central = number_at(scenario, path)
        except ValueError as err:
            raise LabsimError(f"--params {path}: {err}") from None
        out[path] = Range(path, lo, float(central), hi, source="--params")
    if not out:
        raise LabsimError(f"{scenario.name}: no assumptions to vary: add an [[assumptions]] table to the "
                          "scenario or give --params path=low:high")
    return list(out.values())


def scenario_at(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with the assumptions set to these values (whole-number fields rounded)."""
    data = scenario.model_dump()
    data["assumptions"] = []  # a point may lie outside the scenario's ranges (--params): it is a what-if
    for path, v in values.items():
        central = value_at(scenario, path)
        set_field(data, path, int(round(v)) if isinstance(central, int) else float(v), scenario.name)
    try:
        return Scenario.model_validate(data)
    except ValueError as err:
        raise LabsimError(f"{scenario.name}: the point {values} is not a valid scenario ({err})") from None


def design_points(ranges: list[Range], s: Sensitivity) -> np.ndarray:
    """The points to simulate, one row per point, a column per range, in natural units."""
    if s.method == "oat":
        central = np.array([r.central for r in ranges])
        rows = [central]
        for i, r in enumerate(ranges):
            for end in (r.low, r.high):
                row = central.copy()
                row[i] = end
                rows.append(row)
        return np.array(rows)
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(_problem(ranges), s.trajectories, num_levels=LEVELS, seed=s.seed)


def _problem(ranges: list[Range]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": [r.path for r in ranges], "bounds": [[r.low, r.high] for r in ranges]}


def _simulate_point(task: Task, seed: np.random.SeedSequence) -> dict[str, Any]:
    """One pilot at one point (module level, so worker processes can import it)."""
    point, job = task.payload
    rec = simulate(Task(task.key, job), seed)
    return {"point": point, "replication": rec["replication"], "estimate": rec["estimate"], "se": rec["se"],
            "reject": rec["reject"]}


def power_of(estimates: np.ndarray, ses: np.ndarray, alpha: float) -> tuple[float, float]:
    """(power, MDE at 80 % power) read from a point's pilots: mean estimate and mean SE."""
    e, se = np.asarray(estimates, float), np.asarray(ses, float)
    ok = np.isfinite(e) & np.isfinite(se)
    if not ok.any():
        return math.nan, math.nan
    m, s = float(e[ok].mean()), float(se[ok].mean())
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(abs(m) / s - z)), float((z + stats.norm.ppf(0.8)) * s)


def analyse(scenario: Scenario, ranges: list[Range], s: Sensitivity) -> SensitivityResult:
    """Simulate every point with the same worlds and rank the assumptions."""
    s.check()
    started = time.perf_counter()
    size = s.at_size or size_of(scenario, s.by)
    base = at_size(scenario, s.by, size)
    x = design_points(ranges, s)
    jobs = [Job(scenario_at(base, dict(zip([r.path for r in ranges], row))), "pilot", s.horizon, s.alpha, size)
            for row in x]
    tasks = [Task((rep,), (i, job)) for i, job in enumerate(jobs) for rep in range(s.sims)]
    recs: list[dict[str, Any]] = []
    with executor("local", s.workers) as pool:
        recs = [rec for _, rec in run_tasks(_simulate_point, tasks, root_seed=s.seed, pool=pool,
                                             progress="sensitivity" if s.progress else None, total=len(tasks))]
    by_point: dict[int, list[dict]] = {}
    for rec in recs:
        by_point.setdefault(rec["point"], []).append(rec)
    points = []
    for i, row in enumerate(x):
        rs = by_point[i]
        power, mde = power_of([r["estimate"] for r in rs], [r["se"] for r in rs], s.alpha)
        if TEST_OF[scenario.design.randomisation] != "hc2":  # no normal shortcut to the design's own test
            power = float(np.mean([r["reject"] for r in rs]))
        points.append({"point": i, **{r.path: float(v) for r, v in zip(ranges, row)}, "power": power, "mde": mde,
                       "rejection_rate": float(np.mean([r["reject"] for r in rs])),
                       "mean_estimate": float(np.nanmean([r["estimate"] for r in rs]))})
    y_power = np.array([p["power"] for p in points])
    y_mde = np.array([p["mde"] for p in points])
    params = (_morris(ranges, x, y_power, y_mde, s) if s.method == "morris" else _tornado(ranges, y_power, y_mde))
    settings = {"scenario": scenario.name, "method": s.method, "by": s.by, "at_size": size, "sims": s.sims,
                "trajectories": s.trajectories if s.method == "morris" else None, "horizon_weeks": s.horizon,
                "alpha": s.alpha, "seed": s.seed, "sims_total": len(tasks),
                "central_power": points[0]["power"] if s.method == "oat" else None,  # the tornado's centre
                "seconds": round(time.perf_counter() - started, 1)}
    return SensitivityResult(settings, ranges, params, points)


def _morris(ranges: list[Range], x: np.ndarray, y_power: np.ndarray, y_mde: np.ndarray, s: Sensitivity) -> list[dict]:
    from SALib.analyze import morris as morris_analyze

    def run(y):
        return morris_analyze.analyze(_problem(ranges), x, y, num_levels=LEVELS, seed=s.seed)

    p, m = run(y_power), run(y_mde)
    rows = [{"path": r.path, "low": r.low, "high": r.high, "central": r.central, "source": r.source,
             "mu_star": float(p["mu_star"][i]), "mu_star_conf": float(p["mu_star_conf"][i]),
             "mu": float(p["mu"][i]), "sigma": float(p["sigma"][i]),
             "mde_mu_star": float(m["mu_star"][i]), "mde_mu": float(m["mu"][i])}
            for i, r in enumerate(ranges)]
    return sorted(rows, key=lambda r: -r["mu_star"])


def _tornado(ranges: list[Range], y_power: np.ndarray, y_mde: np.ndarray) -> list[dict]:
    rows = []
    for i, r in enumerate(ranges):
        lo, hi = 1 + 2 * i, 2 + 2 * i  # points: centre, then low and high of each range in turn
        rows.append({"path": r.path, "low": r.low, "high": r.high, "central": r.central, "source": r.source,
                     "power_low": float(y_power[lo]), "power_high": float(y_power[hi]),
                     "swing": float(y_power[hi] - y_power[lo]),
                     "mde_low": float(y_mde[lo]), "mde_high": float(y_mde[hi])})
    return sorted(rows, key=lambda r: -abs(r["swing"]))
