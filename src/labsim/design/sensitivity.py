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

Every figure carries a 95 % interval from the pilots' own spread: a bootstrap that resamples the
replications (the same ones at every point, so common random numbers are kept and a difference between
points carries only its paired noise) and, for Morris, the trajectories too. A swing (or Morris mean
effect) whose interval covers 0 is marked not distinguishable from noise. Pilots are added adaptively:
after the first `sims` per point, while the widest interval of a swing (or of mu*) is wider than
+-`resolution` (10 points by default, so a 10-point swing is distinguishable) more replications run at
every point, up to `max_sims`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from labsim.config.assumptions import in_field_units
from labsim.config.errors import LabsimError
from labsim.results.inference import TEST_OF
from labsim.config.scenario import Scenario
from labsim.design.analytic import normal_power
from labsim.design.evidence import Range, ranges_of
from labsim.design.replicate import PilotJob, simulate
from labsim.design.worlds import at_size, size_of
from labsim.results.answer_file import AnswerFile, plain
from labsim.samplers import morris, one_at_a_time
from labsim.sweep.runner import Task, executor, run_tasks

METHODS = ("morris", "oat")
LEVELS = 4  # Morris grid levels (Saltelli et al. 2004 recommend 4 with delta = 2/3 of the range)
#: Bootstrap resamples behind every interval.
RESAMPLES = 400
#: sensitivity.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.sensitivity/1"


@dataclass
class SensitivitySettings:
    """Settings of one sensitivity analysis (what the planner asks for)."""

    method: str = "morris"
    by: str = "participants"
    at_size: int | None = None  # default: the scenario's own size on `by`
    trajectories: int = 10
    sims: int = 20  # pilots per point to start with
    max_sims: int = 200  # at most this many per point while an interval is wider than +-resolution
    resolution: float = 0.10  # the swing (in power) that must be distinguishable from noise
    horizon: int = 26
    alpha: float = 0.05
    seed: int = 1
    workers: int | None = None
    engine: str = "local"  # local processes or a Dask cluster (sweep/runner.py)
    scheduler: str | None = None
    progress: bool = False

    def check(self) -> None:
        if self.method not in METHODS:
            raise LabsimError(f"--method must be one of {', '.join(METHODS)} (got {self.method!r})")
        for name in ("trajectories", "sims"):
            if getattr(self, name) < 2:
                raise LabsimError(f"--{name} must be 2 or more (got {getattr(self, name)})")
        if not 0 < self.resolution < 1:
            raise LabsimError(f"--resolution must lie between 0 and 1, e.g. 0.1 for 10 points (got {self.resolution})")
        if not 0 < self.alpha < 0.5:
            raise LabsimError(f"--alpha must lie between 0 and 0.5 (got {self.alpha})")


@dataclass(frozen=True)
class ScreenRow:
    """The assumption a row of the screen is about: its path, its range and central value, and its source."""

    path: str
    low: float
    high: float
    central: float
    source: str


@dataclass(frozen=True)
class MorrisEffect(ScreenRow):
    """One assumption's Morris elementary effects on power (`morris`): mu* ranks it, sigma shows
    interaction or non-linearity, each with its 95 % interval; `interval_half_width` is the pilots' share of
    mu*'s interval (what more pilots shrink); `mde_*` the same effects on the minimum detectable effect."""

    mu_star: float
    mu_star_ci: tuple[float, float]
    mu_star_conf: float
    mu: float
    mu_ci: tuple[float, float]
    sigma: float
    sigma_ci: tuple[float, float]
    distinguishable: bool
    interval_half_width: float
    mde_mu_star: float
    mde_mu: float


@dataclass(frozen=True)
class Swing(ScreenRow):
    """One assumption's bar of the tornado (`oat`): the power at each end of its range, the others central,
    and the swing between them, each with its 95 % interval; a swing whose interval covers 0 is not
    distinguishable from noise."""

    power_low: float
    power_low_ci: tuple[float, float]
    power_high: float
    power_high_ci: tuple[float, float]
    swing: float
    swing_ci: tuple[float, float]
    distinguishable: bool
    interval_half_width: float
    mde_low: float
    mde_high: float


@dataclass(frozen=True)
class Point:
    """One point simulated: the assumptions' values there, the power read from its pilots with its 95 %
    interval, the minimum detectable effect, the share of pilots that rejected and their mean estimate."""

    point: int
    values: dict[str, float]
    power: float
    power_ci: tuple[float, float]
    mde: float
    rejection_rate: float
    mean_estimate: float


@dataclass(frozen=True)
class Sensitivity(AnswerFile):
    """Which assumption moves the power at the planned size most (sensitivity.json): the settings, the
    pilots it took (`resolved`: every interval within +-`resolution`), each assumption's effect, largest
    first (`MorrisEffect` rows for `morris`, `Swing` rows for `oat`), and every point simulated; the
    tornado's centre (`central_power`) is None for Morris."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "sensitivity.json"
    COMMAND: ClassVar[str] = "sensitivity"

    scenario: str
    method: str
    by: str
    at_size: int
    sims: int
    sims_first: int
    max_sims: int
    resolution: float
    resolved: bool
    trajectories: int | None
    horizon_weeks: int
    alpha: float
    seed: int
    sims_total: int
    central_power: float | None
    central_power_ci: tuple[float, float] | None
    seconds: float
    parameters: tuple[MorrisEffect, ...] | tuple[Swing, ...]
    points: tuple[Point, ...]

    def points_table(self) -> pd.DataFrame:
        """Every point as a row, one column per assumption (points.csv and points.parquet)."""
        return pd.DataFrame([{"point": p.point, **p.values, **{k: v for k, v in plain(p).items()
                                                                if k not in ("point", "values")}}
                             for p in self.points])



def ranges_to_vary(scenario: Scenario, params: list[str]) -> list[Range]:
    """The scenario's `[[assumptions]]` with `--params path=low:high` added (`ranges_of`); at least one."""
    ranges = ranges_of(scenario, params, "--params")
    if not ranges:
        raise LabsimError(f"{scenario.name}: no assumptions to vary: add an [[assumptions]] table to the "
                          "scenario or give --params path=low:high")
    return ranges


def design_points(ranges: list[Range], s: SensitivitySettings) -> np.ndarray:
    """The points to simulate, one row per point, a column per range, in natural units."""
    bounds = [(r.low, r.high) for r in ranges]
    if s.method == "oat":
        return one_at_a_time([r.central for r in ranges], bounds)
    return morris(bounds, s.trajectories, LEVELS, s.seed)


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
    return float(normal_power(np.array(m), np.array(s), z)), float((z + stats.norm.ppf(0.8)) * s)


def analyse(scenario: Scenario, ranges: list[Range], s: SensitivitySettings) -> Sensitivity:
    """Simulate every point with the same worlds, adding replications while a swing's interval is wider
    than +-`resolution`, and rank the assumptions with their intervals."""
    s.check()
    started = time.perf_counter()
    size = s.at_size or size_of(scenario, s.by)
    base = at_size(scenario, s.by, size)
    x = design_points(ranges, s)
    jobs = [PilotJob(base.with_values(in_field_units(base, dict(zip([r.path for r in ranges], row)))), "pilot", s.horizon, s.alpha, size)
            for row in x]
    recs: list[dict[str, Any]] = []
    n, params, boot = 0, [], None
    with executor(s.engine, s.workers, s.scheduler) as pool:
        want = s.sims
        while want > n:
            tasks = [Task((rep,), (i, job)) for i, job in enumerate(jobs) for rep in range(n, want)]
            recs += [rec for _, rec in run_tasks(_simulate_point, tasks, root_seed=s.seed, pool=pool,
                                                  progress="sensitivity" if s.progress else None, total=len(tasks))]
            n = want
            est, se, rej = _arrays(recs, len(jobs), n)
            boot = Bootstrap(est, se, s, rej if TEST_OF[scenario.design.randomisation] != "hc2" else None)
            params = _morris(ranges, x, boot) if s.method == "morris" else _tornado(ranges, boot)
            widest = max((p.interval_half_width for p in params), default=0.0)
            if widest <= s.resolution or n >= s.max_sims:
                break
            want = min(s.max_sims, max(n + 2, math.ceil(n * (widest / s.resolution) ** 2 * 1.1)))
    power, mde = boot.point_power()
    lo, hi = boot.interval(boot.power())
    points = tuple(Point(i, {r.path: float(v) for r, v in zip(ranges, row)}, float(power[i]),
                         (float(lo[i]), float(hi[i])), float(mde[i]), float(rej[i].mean()),
                         float(np.nanmean(est[i])))
                   for i, row in enumerate(x))
    centre = points[0] if s.method == "oat" else None  # the tornado's centre
    return Sensitivity(
        scenario=scenario.name, method=s.method, by=s.by, at_size=size, sims=n, sims_first=s.sims,
        max_sims=s.max_sims, resolution=s.resolution,
        resolved=all(p.interval_half_width <= s.resolution for p in params),
        trajectories=s.trajectories if s.method == "morris" else None, horizon_weeks=s.horizon, alpha=s.alpha,
        seed=s.seed, sims_total=n * len(jobs), central_power=centre.power if centre else None,
        central_power_ci=centre.power_ci if centre else None, seconds=round(time.perf_counter() - started, 1),
        parameters=tuple(params), points=points)


def _arrays(recs: list[dict[str, Any]], points: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimates, SEs and rejections as points x replications (replication r in column r)."""
    est, se, rej = (np.full((points, n), np.nan) for _ in range(3))
    for rec in recs:
        i, r = rec["point"], int(rec["replication"])
        est[i, r], se[i, r], rej[i, r] = rec["estimate"], rec["se"], float(rec["reject"])
    return est, se, rej


class Bootstrap:
    """The points' power (and MDE) from their pilots, and `RESAMPLES` resamples of the replications: the
    same resampled replications at every point (common random numbers kept). With `rejections` (a design
    whose own test has no normal shortcut: office, area, saturation) the power is the share of pilots its
    test rejected, not the normal power of the mean estimate and SE."""

    def __init__(self, est: np.ndarray, se: np.ndarray, s: SensitivitySettings, rejections: np.ndarray | None = None) -> None:
        self.est, self.se, self.alpha, self.rej = est, se, s.alpha, rejections
        n = est.shape[1]
        self.rng = np.random.default_rng([s.seed, 34])
        self.draws = self.rng.integers(0, n, (RESAMPLES, n))

    def point_power(self) -> tuple[np.ndarray, np.ndarray]:
        out = [power_of(e, s, self.alpha) for e, s in zip(self.est, self.se)]
        power = np.array([p for p, _ in out]) if self.rej is None else np.nanmean(self.rej, axis=1)
        return power, np.array([m for _, m in out])

    def power(self) -> np.ndarray:
        """Each point's power in each resample (resamples x points)."""
        if self.rej is not None:
            return np.nanmean(self.rej[:, self.draws], axis=2).T
        with np.errstate(invalid="ignore"):
            m = np.nanmean(self.est[:, self.draws], axis=2).T
            s = np.nanmean(self.se[:, self.draws], axis=2).T
        return normal_power(m, s, stats.norm.ppf(1 - self.alpha / 2))

    @staticmethod
    def interval(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """2.5 and 97.5 % points over the resamples (axis 0)."""
        return np.nanpercentile(draws, 2.5, axis=0), np.nanpercentile(draws, 97.5, axis=0)


def elementary_effects(ranges: list[Range], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morris elementary effects (trajectories x assumptions): each step of a trajectory changes one
    assumption; its effect is the change of y over the step in units of that assumption's range (as
    SALib's `morris.analyze`). `y` may carry leading axes (resamples)."""
    k = len(ranges)
    width = np.array([r.high - r.low for r in ranges])
    t = x.shape[0] // (k + 1)
    xs = x.reshape(t, k + 1, k)
    ys = y.reshape(*y.shape[:-1], t, k + 1)
    dx = np.diff(xs, axis=1)  # t x k steps x k assumptions: one non-zero per step
    which = np.argmax(np.abs(dx) > 0, axis=2)  # t x k: the assumption each step moves
    step = np.take_along_axis(dx, which[..., None], axis=2)[..., 0] / width[which]
    ee_steps = np.diff(ys, axis=-1) / step
    out = np.empty((*y.shape[:-1], t, k))
    rows = np.arange(t)[:, None]
    out[..., rows, which] = ee_steps
    return out


def _morris(ranges: list[Range], x: np.ndarray, boot: Bootstrap) -> list[MorrisEffect]:
    """mu*, mu and sigma of each assumption's elementary effects on power (and mu*, mu on the MDE), with
    95 % intervals from resampling the replications and the trajectories together; the replications'
    part alone (`interval_half_width` of mu*) is what more pilots shrink, so it decides whether to add them
    (more trajectories shrink the rest)."""
    power, mde = boot.point_power()
    ee, ee_mde = elementary_effects(ranges, x, power), elementary_effects(ranges, x, mde)
    t = ee.shape[0]
    traj = boot.rng.integers(0, t, (RESAMPLES, t))
    again = elementary_effects(ranges, x, boot.power())  # resamples x t x k
    noise_lo, noise_hi = boot.interval(np.abs(again).mean(axis=1))  # the pilots' noise alone: what more pilots shrink
    again = np.take_along_axis(again, traj[..., None], axis=1)
    mu_star_lo, mu_star_hi = boot.interval(np.abs(again).mean(axis=1))
    mu_lo, mu_hi = boot.interval(again.mean(axis=1))
    sigma_lo, sigma_hi = boot.interval(again.std(axis=1, ddof=1))
    rows = [MorrisEffect(
        r.path, r.low, r.high, r.central, r.source, mu_star=float(np.abs(ee[:, i]).mean()),
        mu_star_ci=(float(mu_star_lo[i]), float(mu_star_hi[i])), mu_star_conf=float((mu_star_hi[i] - mu_star_lo[i]) / 2),
        mu=float(ee[:, i].mean()), mu_ci=(float(mu_lo[i]), float(mu_hi[i])), sigma=float(ee[:, i].std(ddof=1)),
        sigma_ci=(float(sigma_lo[i]), float(sigma_hi[i])), distinguishable=bool(mu_lo[i] > 0 or mu_hi[i] < 0),
        interval_half_width=float((noise_hi[i] - noise_lo[i]) / 2), mde_mu_star=float(np.abs(ee_mde[:, i]).mean()),
        mde_mu=float(ee_mde[:, i].mean())) for i, r in enumerate(ranges)]
    return sorted(rows, key=lambda r: -r.mu_star)


def _tornado(ranges: list[Range], boot: Bootstrap) -> list[Swing]:
    """Power at each end of each range (the others central), the swing between them, with intervals; a
    swing whose interval covers 0 is not distinguishable from noise."""
    power, mde = boot.point_power()
    again = boot.power()
    rows = []
    for i, r in enumerate(ranges):
        lo, hi = 1 + 2 * i, 2 + 2 * i  # points: centre, then low and high of each range in turn
        swing_lo, swing_hi = boot.interval(again[:, hi] - again[:, lo])
        ends = boot.interval(again[:, [lo, hi]])
        rows.append(Swing(
            r.path, r.low, r.high, r.central, r.source, power_low=float(power[lo]),
            power_low_ci=(float(ends[0][0]), float(ends[1][0])), power_high=float(power[hi]),
            power_high_ci=(float(ends[0][1]), float(ends[1][1])), swing=float(power[hi] - power[lo]),
            swing_ci=(float(swing_lo), float(swing_hi)), distinguishable=bool(swing_lo > 0 or swing_hi < 0),
            interval_half_width=float((swing_hi - swing_lo) / 2), mde_low=float(mde[lo]), mde_high=float(mde[hi])))
    return sorted(rows, key=lambda r: -abs(r.swing))
