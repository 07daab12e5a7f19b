"""Calibration by the simulated method of moments: fit scenario parameters so that simulated moments
match published targets, weighted by how sure each target is (docs/calibration.md).

The objective of a candidate θ is J(θ) = Σ_k ((m̄_k(θ) - figure_k) / sd_k)², where m̄_k is the mean of
moment k over R replications and sd_k the target's range read as a 95 % interval. Every candidate runs
the same R seeds (common random numbers: a task's key is (variant, replication), never the candidate),
so J is a deterministic function that a local optimiser can follow (smooth as far as the replications
average the noise: docs/calibration.md, the coverage study). The search: a Halton
space-filling start over the parameters' bounds (half the budget), then Nelder-Mead from the best point
(the rest). Intervals: the profile of the objective (`intervals`), the values a criterion test at 95 %
does not reject, which stays honest where the objective is flat and the local sandwich is not; joined
with the SMM sandwich when several parameters are fitted.

Every replication goes through the one replication runner (`labsim.sweep.runner.run_tasks`), and every
candidate's replications are stored as a part in a sweep store (`labsim.sweep.store`) keyed by the
resolved scenario and the seeds, so a calibration killed at any point and resumed replays the same
search from the stored parts and ends with the same fitted values. On --resume a damaged part (cut short,
empty, not Parquet, another chunk's) is set aside in `damaged/` and its runs made again; a deleted
`parts/` is made again; a folder started from other inputs (scenario, targets, parameters, seed) is refused.
Every input is checked (`Plan.check`) before the folder is made or anything printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow.parquet as pq

from labsim import __version__
from labsim.config.assumptions import number_at, parse_span
from labsim.config.errors import LabsimError
from labsim.config.scenario import Scenario, apply_overrides, parse_scenario, scenario_to_dict
from labsim.config.targets import Target, Targets
from labsim.results.answer_file import AnswerFile
from labsim.sweep.runner import Engine, Task, executor, run_tasks, slots
from labsim.sweep.store import Chunk, Store, chunk_key

if TYPE_CHECKING:
    from labsim.results.summary import RunSummary

PENALTY = 1e6  # J of a candidate whose moments cannot be computed (NaN): never chosen
#: calibration.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.calibration/1"


@dataclass(frozen=True)
class Parameter:
    """A scenario field to fit and the bounds it is searched in."""

    path: str
    low: float
    high: float
    integer: bool = False


@dataclass(frozen=True)
class Variant:
    """A setting some targets were measured in: overrides laid on the scenario before the candidate's."""

    overrides: tuple[str, ...]


@dataclass
class Plan:
    """What a calibration runs: the scenario as a dict, the targets, the parameters and the budget."""

    scenario: dict[str, Any]
    source: str
    targets: Targets
    parameters: list[Parameter]
    budget: int = 40
    replications: int = 8
    seed: int = 1
    variants: list[Variant] = field(init=False)

    def __post_init__(self) -> None:
        seen: dict[tuple[str, ...], None] = {}
        for t in self.targets.targets:
            seen[tuple(t.set)] = None
            if t.against is not None:
                seen[tuple(t.against)] = None
        self.variants = [Variant(k) for k in seen]

    def variant_of(self, overrides: list[str]) -> int:
        return [v.overrides for v in self.variants].index(tuple(overrides))

    def scenario_at(self, theta: np.ndarray, variant: int) -> Scenario:
        """The scenario with the variant's settings and the candidate's values (an evidence range the
        scenario states for a fitted path is dropped: the calibration is what sets it)."""
        fitted = {p.path for p in self.parameters}
        data = {**self.scenario, "assumptions": [a for a in self.scenario.get("assumptions", [])
                                                 if a.get("path") not in fitted]}
        world = parse_scenario(apply_overrides(data, list(self.variants[variant].overrides), self.source), self.source)
        return world.with_values({p.path: _value(p, x) for p, x in zip(self.parameters, theta)}, self.source)

    def check(self) -> None:
        """Refuse, before any work, settings no run could use: a target's `set` or `against` the scenario
        does not take, or parameter bounds outside what the field allows (each setting at both corners)."""
        for v, variant in enumerate(self.variants):
            try:
                parse_scenario(apply_overrides(self.scenario, list(variant.overrides), self.source), self.source)
            except LabsimError as err:
                raise LabsimError(f"targets: the setting {list(variant.overrides)} is not one the scenario "
                                  f"takes: {err}") from None
            for corner in (np.array([p.low for p in self.parameters]), np.array([p.high for p in self.parameters])):
                try:
                    self.scenario_at(corner, v)
                except LabsimError as err:
                    spans = ",".join(f"{p.path}={p.low:g}:{p.high:g}" for p in self.parameters)
                    raise LabsimError(f"--params {spans}: a bound is not a value the scenario takes: {err}") from None


def _value(p: Parameter, x: float) -> float | int:
    return int(round(x)) if p.integer else float(x)


def parameters_from(scenario: dict[str, Any], specs: list[str], source: str,
                    assumptions: list[dict[str, Any]] | None = None) -> list[Parameter]:
    """Parameters from `path` or `path=low:high` specs: bounds given, else the scenario's evidence range
    for the path ([[assumptions]]), else half to twice its value."""
    ranges = {a["path"]: (a["low"], a["high"]) for a in assumptions or []}
    out = []
    for spec in specs:
        path, _, bounds = spec.partition("=")
        try:
            value = number_at(scenario, path)
        except ValueError as err:
            raise LabsimError(f"--params {spec}: {err} ({source})") from None
        if bounds:
            _, low, high = parse_span(spec, "--params")
        elif path in ranges:
            low, high = ranges[path]
        elif value > 0:
            low, high = value / 2, value * 2
        else:
            raise LabsimError(f"--params {spec}: {path} is {value}; give its bounds as {path}=low:high")
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise LabsimError(f"--params {spec}: bounds must be finite with low below high")
        out.append(Parameter(path, low, high, isinstance(value, int)))
    if not out:
        raise LabsimError("--params: name at least one scenario field to fit (e.g. providers.effort_effect)")
    return out


# -- one replication ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationJob:
    scenario: Scenario
    candidate: int


def simulate_moments(task: Task, seed: np.random.SeedSequence) -> dict[str, float]:
    """One replication of a candidate in a variant: every moment a target may name (NaN if undefined)."""
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    job: CalibrationJob = task.payload
    model = PilotModel(job.scenario, rng=seed)
    model.run_for(job.scenario.weeks)
    return moments_of(results_of(model).summary)


def moments_of(summary: RunSummary) -> dict[str, float]:
    """The world's and the pilot's moments from a run's summary (`summary.json`)."""
    nan = float("nan")
    num = lambda x: nan if x is None else float(x)  # noqa: E731
    out = {k: num(v) for k, v in summary.moments.items()}
    rate = summary.employment_rate
    out["itt_employed_26w"] = num(rate["26w"].difference)
    out["itt_employed_52w"] = num(rate["52w"].difference)
    out["take_up_rate"] = num(summary.take_up_rate)
    out["pilot_employed_52w"] = num(rate["52w"].pilot)
    out["pilot_job_outcome_52w"] = num(summary.job_outcome_52w.pilot)
    take, control = out["take_up_rate"], num(rate["26w"].control)
    out["effect_on_takers_26w"] = out["itt_employed_26w"] / take / control if take and control else nan
    return out


# -- evaluating candidates ---------------------------------------------------------------------------


@dataclass
class Evaluator:
    """Runs candidates (all variants x replications) through the runner, stored part by part."""

    plan: Plan
    store: Store
    pool: Any
    progress: bool = False
    cache: dict[tuple[float, ...], np.ndarray] = field(default_factory=dict)
    runs: int = 0  # runs made by this invocation
    used: dict[str, int] = field(default_factory=dict)  # every part the answer rests on: its runs

    @property
    def all_runs(self) -> int:
        """The runs of every candidate evaluated, whichever invocation made them."""
        return sum(self.used.values())

    def good(self, chunk: Chunk) -> bool:
        """Whether the chunk's part is whole; a damaged one is set aside (kept in `damaged/`) to be rerun."""
        problem = self.store.part_problem(chunk)
        if problem not in (None, "missing"):
            self.store.set_aside(self.store.parts / chunk.file)
            self.store.log("repaired", set_aside=[f"{chunk.file} ({problem})"])
        return problem is None

    def chunk(self, theta: np.ndarray, variant: int) -> Chunk:
        sc = scenario_to_dict(self.plan.scenario_at(theta, variant))
        r = self.plan.replications
        return Chunk(variant, 0, r, chunk_key(__version__, self.plan.seed, sc, variant, 0, r))

    def __call__(self, thetas: list[np.ndarray]) -> list[np.ndarray]:
        """Per candidate, its target values by replication (targets x replications)."""
        todo = [t for t in dict.fromkeys(tuple(map(float, t)) for t in thetas) if t not in self.cache]
        chunks = {(i, v): self.chunk(np.array(t), v) for i, t in enumerate(todo)
                  for v in range(len(self.plan.variants))}
        missing = {k: c for k, c in chunks.items() if not self.good(c)}
        self._run(todo, missing)
        for i, t in enumerate(todo):
            tables = [pq.read_table(self.store.parts / chunks[i, v].file).to_pylist()
                      for v in range(len(self.plan.variants))]
            self.cache[t] = target_values(self.plan, tables)
            self.used.update({chunks[i, v].key: self.plan.replications for v in range(len(self.plan.variants))})
        return [self.cache[tuple(map(float, t))] for t in thetas]

    def _run(self, todo: list[tuple[float, ...]], missing: dict[tuple[int, int], Chunk]) -> None:
        r = self.plan.replications
        tasks = [Task((v, k), CalibrationJob(self.plan.scenario_at(np.array(todo[i]), v), i))
                 for (i, v) in missing for k in range(r)]
        got: dict[tuple[int, int], dict[int, dict[str, float]]] = {key: {} for key in missing}
        for task, result in run_tasks(simulate_moments, tasks, root_seed=self.plan.seed, pool=self.pool,
                                      progress="calibrate" if self.progress else None, total=len(tasks)):
            key = (task.payload.candidate, task.key[0])
            got[key][task.key[1]] = {"replication": task.key[1], **result}
            self.runs += 1
            if len(got[key]) == r:
                chunk = missing[key]
                self.store.write_part(chunk, [got[key][k] for k in range(r)])
                self.store.log("chunk", key=chunk.key, point=chunk.point, replications=[chunk.start, chunk.stop])


def target_values(plan: Plan, variants: list[list[dict[str, float]]]) -> np.ndarray:
    """Each target's simulated value in each replication (targets x replications), from the variants'
    stored rows; a target `against` another setting is the paired difference (same seeds)."""
    rows = []
    for t in plan.targets.targets:
        mine = np.array([row[t.moment] for row in variants[plan.variant_of(t.set)]], float)
        if t.against is not None:
            mine = mine - np.array([row[t.moment] for row in variants[plan.variant_of(t.against)]], float)
        rows.append(mine)
    return np.array(rows)


def objective(plan: Plan, values: np.ndarray) -> float:
    """J: squared distances of the mean simulated values from the figures, in units of the targets' SD."""
    figure = np.array([t.figure for t in plan.targets.targets])
    sd = np.array([t.sd for t in plan.targets.targets])
    mean = values.mean(axis=1)
    if not np.all(np.isfinite(mean)):
        return PENALTY
    return float(np.sum(((mean - figure) / sd) ** 2))


# -- the search ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FittedValue:
    """One fitted parameter: its value (a whole number for an integer field), the 95 % interval of the
    criterion test (profile joined with the sandwich) and the bounds it was searched in."""

    path: str
    value: float | int
    interval: tuple[float, float]
    bounds: tuple[float, float]


@dataclass(frozen=True)
class TargetFit:
    """One target beside its simulation at the fit: the published figure and range, the simulated mean
    with its SE over replications, z against the target's SD, and whether the mean lies in the range."""

    name: str
    moment: str
    published: float
    range: tuple[float, float]
    source: str
    unverified: bool
    simulated: float
    simulated_se: float
    z: float
    matches: bool


@dataclass(frozen=True)
class Calibration(AnswerFile):
    """A calibration's answer (calibration.json): each target beside its simulation, the fitted values
    with intervals, the objective J at the fit, and the candidates, runs and wall time it took."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "calibration.json"
    COMMAND: ClassVar[str] = "calibrate"

    scenario: str
    targets: tuple[TargetFit, ...]
    parameters: tuple[FittedValue, ...]
    objective: float
    candidates: int
    runs: int
    seconds: float



def search(plan: Plan, evaluate) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Halton start over the bounds (half the budget), then Nelder-Mead from the best; returns the fit
    (in the parameters' units) and every candidate with its J, in the order tried."""
    from scipy.optimize import minimize

    from labsim.samplers import halton

    low = np.array([p.low for p in plan.parameters])
    width = np.array([p.high - p.low for p in plan.parameters])
    d = len(plan.parameters)
    history: list[dict[str, Any]] = []

    def to_theta(u: np.ndarray) -> np.ndarray:
        theta = low + np.clip(u, 0, 1) * width
        return np.array([_value(p, x) for p, x in zip(plan.parameters, theta)], float)

    def record(thetas, values) -> list[float]:
        js = [objective(plan, v) for v in values]
        history.extend({"values": t.tolist(), "objective": j} for t, j in zip(thetas, js))
        return js

    n_start = max(plan.budget // 2, d + 1)
    start = halton(d, n_start, plan.seed)
    thetas = [to_theta(u) for u in start]
    js = record(thetas, evaluate(thetas))
    best = int(np.argmin(js))
    left = plan.budget - n_start
    if left > d:
        def f(u: np.ndarray) -> float:
            theta = to_theta(u)
            return record([theta], evaluate([theta]))[0]

        u0 = (thetas[best] - low) / width
        step = 0.15
        simplex = np.vstack([u0] + [np.clip(u0 + step * np.eye(d)[i] * (1 if u0[i] < 0.5 else -1), 0, 1)
                                    for i in range(d)])
        minimize(f, u0, method="Nelder-Mead", bounds=[(0, 1)] * d,
                 options={"maxfev": left, "initial_simplex": simplex, "xatol": 1e-3, "fatol": 1e-3})
    i = int(np.argmin([h["objective"] for h in history]))
    return np.array(history[i]["values"]), history


CHI2_95 = 3.841458820694124  # the 95 % point of chi-square with one degree of freedom
BISECTIONS = 3  # halvings of the step in which the profile crosses CHI2_95
STEPS_OUT = 6  # doublings of the step outward before the bound is taken as the interval's end
LOOK_BEYOND = 4  # values in a row rejected (the first rejection included) before the profile's end is taken
STEPS_BEYOND = 12  # at most this many values searched beyond the first rejection


def criterion(plan: Plan, values: np.ndarray, at: np.ndarray) -> float:
    """Q: squared distances of the mean simulated values from the figures, each in units of its whole
    uncertainty at the fit (the target's variance plus the simulation's variance of the mean), so that
    Q(θ) - Q(fit) is chi-square with one degree of freedom at the true θ of one parameter."""
    figure = np.array([t.figure for t in plan.targets.targets])
    sd = np.array([t.sd for t in plan.targets.targets])
    var = sd**2 + at.var(axis=1, ddof=1) / at.shape[1]
    mean = values.mean(axis=1)
    return float(np.sum((mean - figure) ** 2 / var)) if np.all(np.isfinite(mean)) else np.inf


def intervals(plan: Plan, evaluate, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95 % intervals from the profile of the criterion Q (`criterion`): for each parameter, the values
    whose Q exceeds Q(fit) by less than the chi-square point, found outward from the fit on each side
    (steps from the sandwich's half-width, doubled until Q crosses, searched beyond that crossing for
    values Q does not reject, then halved `BISECTIONS` times and interpolated: `_profile_end`; the bound
    when Q never crosses: the targets do not rule it out). Other parameters stay
    at the fit; with several, each interval is joined with the sandwich's, which carries their
    correlation. Common random numbers make Q a deterministic curve of θ, smooth only as far as the
    replications average the noise (docs/calibration.md, the coverage study). Returns (low, high)."""
    low = np.array([p.low for p in plan.parameters])
    high = np.array([p.high for p in plan.parameters])
    s_low, s_high = sandwich(plan, evaluate, theta)
    at = evaluate([theta])[0]
    q0 = criterion(plan, at, at)
    out_low, out_high = low.copy(), high.copy()
    for j in range(theta.size):
        def rise(x: float) -> float:
            point = theta.copy()
            point[j] = x
            return criterion(plan, evaluate([point])[0], at) - q0

        half = (s_high[j] - s_low[j]) / 2
        start = half if np.isfinite(half) and 0 < half < high[j] - low[j] else 0.1 * (high[j] - low[j])
        for side, bound in ((-1, low[j]), (1, high[j])):
            end = _profile_end(rise, theta[j], side, bound, start)
            if side < 0:
                out_low[j] = end
            else:
                out_high[j] = end
    if theta.size > 1:
        out_low, out_high = np.minimum(out_low, np.maximum(s_low, low)), np.maximum(out_high, np.minimum(s_high, high))
    return out_low, out_high


def _profile_end(rise, fit: float, side: int, bound: float, step: float) -> float:
    """Where the profile's rise last crosses CHI2_95 going from `fit` towards `bound` (the bound if never).
    Steps double until a value is rejected; then the profile is searched beyond that first rejection, at
    half the bracket's width (doubled after each value not rejected), until `LOOK_BEYOND` values in a row
    are rejected, the bound is reached or `STEPS_BEYOND` values are spent (the bound when the last one is
    not rejected): with few replications Q is rough, and a spike of noise can reject one value while
    values further out are not rejected. The end lies between the outermost value not rejected and the
    next one rejected beyond it (halved `BISECTIONS` times, then interpolated); the interval is the hull
    of the values not rejected, a spike inside it included. At most STEPS_OUT + STEPS_BEYOND +
    BISECTIONS values; where Q rises steadily, the first rejection plus 3 beyond it and the halvings."""
    inner, inner_q = fit, 0.0
    for _ in range(STEPS_OUT):
        x = float(np.clip(fit + side * step, min(fit, bound), max(fit, bound)))
        q = rise(x)
        if q >= CHI2_95:
            outer, outer_q = x, q
            break
        inner, inner_q = x, max(q, 0.0)
        if x == bound:
            return bound
        step *= 2
    else:
        return bound
    gap, x, rejected = abs(outer - inner) / 2, outer, 1
    for _ in range(STEPS_BEYOND):
        if rejected == LOOK_BEYOND or x == bound:
            break
        x = float(np.clip(x + side * gap, min(fit, bound), max(fit, bound)))
        q = rise(x)
        if q < CHI2_95:
            inner, inner_q, rejected = x, max(q, 0.0), 0
            gap *= 2
        elif rejected == 0:
            outer, outer_q, rejected = x, q, 1
        else:
            rejected += 1
    if rejected == 0:
        return bound
    for _ in range(BISECTIONS):
        mid = (inner + outer) / 2
        q = rise(mid)
        if q >= CHI2_95:
            outer, outer_q = mid, q
        else:
            inner, inner_q = mid, max(q, 0.0)
    return inner + (outer - inner) * (CHI2_95 - inner_q) / (outer_q - inner_q)


def sandwich(plan: Plan, evaluate, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95 % intervals by the SMM sandwich: V = (G'WG)⁻¹ G'W S W G (G'WG)⁻¹, with G the Jacobian of the
    mean moments (central differences, 5 % of each bound's width, same seeds), W = diag(1/sd²) and
    S = diag(sd² + simulation variance of the mean). A parameter the targets do not pin down (G'WG
    singular) gets its whole bounds. Returns (low, high)."""
    low = np.array([p.low for p in plan.parameters])
    high = np.array([p.high for p in plan.parameters])
    h = 0.05 * (high - low)
    d = theta.size
    points = []
    for j in range(d):
        e = np.eye(d)[j] * h[j]
        points += [np.clip(theta + e, low, high), np.clip(theta - e, low, high)]
    values = evaluate([theta, *points])
    at = values[0]
    means = [v.mean(axis=1) for v in values[1:]]
    g = np.column_stack([(means[2 * j] - means[2 * j + 1]) / (points[2 * j][j] - points[2 * j + 1][j])
                         for j in range(d)])
    sd = np.array([t.sd for t in plan.targets.targets])
    sim_var = at.var(axis=1, ddof=1) / at.shape[1]
    w = np.diag(1 / sd**2)
    s = np.diag(sd**2 + sim_var)
    bread = g.T @ w @ g
    if not np.all(np.isfinite(bread)) or np.linalg.cond(bread) > 1e12:
        return low.copy(), high.copy()
    inv = np.linalg.inv(bread)
    v = inv @ g.T @ w @ s @ w @ g @ inv
    half = 1.96 * np.sqrt(np.maximum(np.diag(v), 0))
    return theta - half, theta + half


def identity(plan: Plan) -> dict[str, Any]:
    """What must not change between a calibration and its resumption."""
    return {"labsim_version": __version__, "scenario": plan.scenario, "source": plan.source,
            "targets": plan.targets.model_dump(mode="json"),
            "parameters": [vars(p) for p in plan.parameters], "budget": plan.budget,
            "replications": plan.replications, "seed": plan.seed}


class CalibrationStore(Store):
    """A calibration's folder: the sweep store, its messages speaking of a calibration."""

    kind = "calibration"
    start = "labsim calibrate"
    resume = "labsim calibrate SCENARIO --targets ... --out {folder} --resume"
    inputs = "scenario, targets, parameters and seed"


def open_store(plan: Plan, out: str | Path, resume: bool) -> Store:
    """The calibration's store at `out`: a writable place for a folder not yet there, or, resuming, this
    same calibration's (refused otherwise, before any work); `parts/` is made again if it was deleted."""
    from labsim.results.output import check_writable

    plan.check()
    store = CalibrationStore(out)
    if resume:
        store.check_same(identity(plan))
        store.clean()
        store.parts.mkdir(exist_ok=True)
    else:
        store.check_new()
        check_writable(store.folder)
    return store


def calibrate(plan: Plan, out: str | Path, *, engine: Engine = "local", workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, progress: bool = False,
              on_start: Callable[[], object] | None = None) -> Calibration:
    """Fit the plan's parameters to its targets; the store at `out` keeps every candidate's runs.
    `on_start` is called once every check has passed and the engine is up, before anything is written."""
    t0 = time.perf_counter()
    store = open_store(plan, out, resume)
    with executor(engine, workers, scheduler) as pool:
        if on_start is not None:
            on_start()
        if not resume:
            # a sweep store's manifest; the points are the search's candidates, logged as they are run
            store.create({"identity": identity(plan), "created_utc": _now(), "points": [],
                          "replications": plan.replications,
                          "seeds": "replication r of variant v: SeedSequence(seed, spawn_key=(v, r)), "
                                   "the same for every candidate"})
        store.log("start", resumed=resume, workers=slots(pool))
        evaluate = Evaluator(plan, store, pool, progress)
        theta, history = search(plan, evaluate)
        lo, hi = intervals(plan, evaluate, theta)
        at = evaluate([theta])[0]
    store.log("finished", objective=objective(plan, at))
    params = tuple(FittedValue(p.path, _value(p, x), (float(a), float(b)), (p.low, p.high))
                   for p, x, a, b in zip(plan.parameters, theta, lo, hi))
    return Calibration(Path(plan.source).stem, target_rows(plan.targets.targets, at), params, objective(plan, at),
                       len(history), evaluate.all_runs, round(time.perf_counter() - t0, 1))


def target_rows(targets: list[Target], values: np.ndarray) -> tuple[TargetFit, ...]:
    """Each target beside its simulation: mean, its SE over replications, z against the target's SD,
    and whether the simulated mean lies in the published range."""
    rows = []
    for t, v in zip(targets, values):
        mean = float(np.mean(v))
        se = float(np.std(v, ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
        rows.append(TargetFit(t.name, t.moment, t.figure, tuple(t.range), t.source, t.unverified, mean, se,
                              (mean - t.figure) / t.sd, bool(t.range[0] <= mean <= t.range[1])))
    return tuple(rows)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def calibrated_toml(text: str, plan: Plan, cal: Calibration, date: str, targets_file: str = "") -> str:
    """The scenario file's text with each fitted value written in place (a new line or section where
    the file had none), each with a comment naming the targets (their file, else each name) and the date."""
    names = f"targets/{targets_file}" if targets_file else ", ".join(t.name for t in plan.targets.targets)
    lines = text.splitlines()
    for p in cal.parameters:
        *section, key = p.path.split(".")
        header = f"[{'.'.join(section)}]"
        value = p.value
        shown = f"{value}" if isinstance(value, int) else f"{value:.6g}"
        if "." not in shown and "e" not in shown and not isinstance(value, int):
            shown += ".0"
        line = (f"{key} = {shown}  # calibrated by labsim calibrate on {date} to {names} "
                f"(95 % interval {p.interval[0]:.4g}-{p.interval[1]:.4g})")
        lines = _set_line(lines, header, key, line)
    return "\n".join(lines) + "\n"


def _set_line(lines: list[str], header: str, key: str, line: str) -> list[str]:
    import re

    start = next((i for i, s in enumerate(lines) if s.strip().split("#")[0].strip() == header), None)
    if start is None:
        return [*lines, "", header, line]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return [*lines[:i], line, *lines[i + 1:]]
    return [*lines[:start + 1], line, *lines[start + 1:]]
