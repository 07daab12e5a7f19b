"""The size search: the smallest pilot that reaches the target power, with its Monte Carlo interval.

The search reads as its parts, each a function with a typed result:
1. `reference`: a batch at the scenario's own size gives the control group's employment rate, the ITT
   (already diluted by take-up), take-up and, for office clusters, the intra-cluster correlation; the
   classical two-proportion size (with the design effect for clusters) follows from them (`Reference`).
2. `bracket`: batches at half, once and twice that size (a size within 10 % of one tried left out: the
   reference batch is often there); `widen`: larger batches while no size reaches the target.
3. `refine`: a fit of a + b sqrt(N) over every pilot (`design/power_fit.py`: each pilot's z statistic
   where its test is the normal one, else a probit of its rejection; N the size the pilot reached, i.e.
   the places it filled when places are the lever) gives N* where the fitted power equals the target and
   its 95 % interval from the fit's coefficient uncertainty (`MinimumSize`). Sequential batches go to the
   current N* until the interval is within +-`precision` of N*, or the budget of simulations is spent. An
   N* beyond the places the catchment fills (`most_filled`) cannot be reached by a larger target.
4. `accounts_batch`: one batch at N* run to the scenario's full length, for the figures that need it (what
   the purchaser paid, providers viable, their break-even). Read at the horizon it is a batch like the
   others, so it joins the fit: refining stops once the interval, narrowed as one more batch narrows it,
   would be within the precision; the accounts batch runs there, and refining goes on only if the
   interval it leaves is still too wide (the batch counts as the last refining batch).
5. `type_i_check`: pilots at N* in the same worlds with providers that do nothing, and (individual design)
   the placebo check over every pilot of the search (`TypeICheck`); and
   `analytic_near`: the two-sample formula's size from the pilots nearest N*, their pooled effect and
   spread (`AnalyticSize`), so that the formula printed beside N* rests on the pilots that found it.
With evidence ranges the size job runs the search unsettled (`settle=False`: the reference batch, the
bracket and the accounts batch, no refining): the evidence's joint search refines N* and the assurance
together from one fit over every pilot, and `settle_central` finishes the search at the N* it reads
(design/evidence.py, docs/evidence.md).
The search's pilots, but for the accounts batch, are asked only employment at the horizon
(`SEARCH_FIGURES`), so each stops `horizon` weeks after its last assignment instead of running the
scenario's full length (design/replicate.py); what they report is identical to the full-length run's.
Their other figures are NaN; the accounts batch's rows carry them (column `part` = "accounts" in
replications.parquet, "search" for the other batches; `power_fit.fit_rows` reads both).
Replication r runs with the pilot seed of key (r,) in world r mod `batch` (the reference batch's worlds,
each burned in once: a task goes to the local worker that holds its world, `Task.home`). Within a search every batch takes fresh replication numbers, so the fit's
trials are independent pilots: the same pilot seed at two nearby sizes gives nearly the same pilot, and
counting it twice would make the interval too narrow. Pilots in one world share only the world (on
fi_2019 it carries about 4 % of the estimate's variance: docs/evaluation.md, item 5); the fits'
covariance is clustered by world. The evidence's joint search runs in the same worlds (world r mod `batch`),
its replications after the central search's, so that it repeats no central pilot. A target the design cannot
reach (no effect, or power still short at the largest size allowed) gets an answer, not an endless search.

The simulator is injectable (`Simulate`): the command runs real pilots on a process pool, tests a stub.
`search_size(scenario, settings) -> CentralSearch` is the central search; the planner's whole answer
(evidence, roll-out, accounts) is the size job's (design/size_job.py), which every caller uses.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from labsim.config.errors import LabsimError
from labsim.config.scenario import Randomisation, Scenario
from labsim.design.analytic import design_effect, pilot_arm_needed
from labsim.design.power_fit import fit_kind, fit_rows, most_filled, power_fit
from labsim.design.replicate import ALL_FIGURES, HORIZON_READINGS, SEARCH_FIGURES, Figure, PilotJob, simulate
from labsim.design.size_answer import (
    AnalyticSize, FittedCurve, MinimumSize, PlaceboCheck, PowerPoint, Reference, TypeICheck, Unreachable,
)
from labsim.design.worlds import at_size, size_of, zero_help
from labsim.results.inference import TEST_OF, reachable_offices
from labsim.sweep.runner import ProgressBar, Task, executor, run_tasks


class Simulate(Protocol):
    """Simulates pilots: given (replication, scenario) pairs at one size and a label for the progress bar,
    returns one record per pilot (`reject`, `estimate`, `se`, ... as `labsim.results.pilot`), in order,
    with the figures asked complete (the others NaN)."""

    def __call__(self, pairs: list[tuple[int, Scenario]], size: int, label: str,
                 figures: tuple[Figure, ...] = SEARCH_FIGURES) -> list[dict[str, Any]]: ...


def type_i_pilots(design: str) -> int:
    """Zero-help pilots of a size answer's type-I check by design: 40 for the individual design, whose
    placebo check reads every pilot of the search besides; 200 for cluster and saturation designs, which
    have no placebo check (their level rests on the simulator's null, which only zero-help pilots see):
    enough to tell 5 % from 10 % (exact intervals 2.4-9.0 % and 6.2-15.0 %)."""
    return 40 if design == "individual" else 200


@dataclass
class SearchSettings:
    """Settings of one search (what the planner asks for)."""

    by: str = "participants"
    power: float = 0.8
    alpha: float = 0.05
    horizon: int = 26
    batch: int = 40
    budget: int = 800  # +-10 % takes about 500-900 pilots (docs/evaluation.md); 600 ran out in most stub searches
    precision: float = 0.10  # stop when the 95 % interval on N* is within +-10 % of N*
    max_size: int | None = None
    type_i_sims: int = 40
    seed: int = 1
    workers: int | None = None
    engine: str = "local"  # where the pilots run: local processes or a Dask cluster (sweep/runner.py)
    scheduler: str | None = None  # the Dask scheduler's address (default $DASK_SCHEDULER_ADDRESS, else a local cluster)
    progress: bool = False  # print each step and show a progress bar per batch (on a terminal)

    def pool(self):
        """The executor the pilots run on (`sweep.runner.executor`)."""
        return executor(self.engine, self.workers, self.scheduler)

    def check(self) -> None:
        if not self.alpha < self.power < 1:
            raise LabsimError(f"--power must lie between --alpha ({self.alpha}) and 1, exclusive (got {self.power}):"
                              " power 1 needs an infinite pilot")
        if not 0 < self.alpha < 0.5:
            raise LabsimError(f"--alpha must lie between 0 and 0.5 (got {self.alpha})")
        if self.batch < 5 or self.budget < 3 * self.batch:
            raise LabsimError(f"--batch must be 5 or more and --budget at least 3 batches (got {self.batch}, {self.budget})")
        if not 0 < self.precision < 1:
            raise LabsimError(f"--precision must lie between 0 and 1, e.g. 0.05 for +-5 % (got {self.precision})")


def analytic_near(df: pd.DataFrame, n_star: float, alpha: float, power: float, share: float = 0.25) -> AnalyticSize | None:
    """The formula's size from the search's pilots whose size lies within +-`share` of N* (the batch
    nearest N* when none does); None without a usable effect or spread."""
    df = fit_rows(df)
    if df.empty or not math.isfinite(n_star):
        return None
    near = df.loc[(df["size"] - n_star).abs() <= share * n_star]
    if near.empty:
        sizes = df["size"].unique()
        near = df.loc[df["size"] == sizes[np.argmin(np.abs(sizes - n_star))]]
    est, se = near["estimate"].to_numpy(float), near["se"].to_numpy(float)
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    if ok.sum() < 2:
        return None
    effect, effect_se = float(est[ok].mean()), float(est[ok].std(ddof=1) / math.sqrt(ok.sum()))
    spread = float(np.sqrt(np.mean(se[ok] ** 2)))  # the mean variance, so the SEs of different sizes pool
    reached_n = float(near["reached" if "reached" in near else "size"].to_numpy(float)[ok].mean())
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)

    def size_for(d: float) -> float:
        return reached_n * (z * spread / d) ** 2 if d != 0 else math.inf

    half = stats.norm.ppf(0.975) * effect_se
    ends = sorted(size_for(abs(effect) + sgn * half) for sgn in (1, -1)) if abs(effect) > half \
        else [size_for(abs(effect) + half), math.inf]
    return AnalyticSize(size_for(effect), (ends[0], ends[1]), effect, effect_se, spread,
                        float(near["size"].mean()), reached_n, int(ok.sum()))


@dataclass
class Trials:
    """Every replication run so far, and the next replication number (each batch draws fresh ones)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    next_rep: int = 0
    sizes: set[int] = field(default_factory=set)

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
            "reached": g["reached"].mean() if "reached" in df else g["size"].mean(),
        }).reset_index()
        out["power_se"] = np.sqrt(out["power"] * (1 - out["power"]) / out["sims"])
        return out

    def best_power(self) -> float:
        return float(self.curve()["power"].max()) if self.rows else 0.0

    def largest(self) -> int:
        return int(self.frame()["size"].max()) if self.rows else 0


@dataclass(frozen=True)
class CentralSearch:
    """The search at the scenario's own assumptions: its parts, every replication (`rows`: the search's
    pilots, column `part` "search", and the accounts batch at N*, "accounts"), and what the size job
    (design/size_job.py) turns into the planner's answer."""

    settings: SearchSettings
    status: str  # found, not_reachable or budget
    message: str
    minimum: MinimumSize | None
    reference: Reference
    analytic: AnalyticSize | None
    power_curve: tuple[PowerPoint, ...]
    type_i: TypeICheck | None
    unreachable: Unreachable | None  # why no size reached the target (status not_reachable)
    rows: pd.DataFrame
    sims: int
    seconds: float
    curve: FittedCurve | None = None  # the fitted curve N* was read from

    @property
    def fit(self) -> str:
        """The power fit N* was read from: "z" or "probit" (design/power_fit.py)."""
        return fit_kind(fit_rows(self.rows))


# -- the simulator -------------------------------------------------------------------------------------


@contextmanager
def pool_simulator(s: SearchSettings, bar: ProgressBar | None = None, pool: Any = None,
                   readings: tuple[str, ...] = (), horizons: tuple[int, ...] = ()) -> Iterator[Simulate]:
    """Real pilots on a pool of `s.workers` processes; replication r runs with the pilot seed of key (r,) in
    world r mod `batch`, one of the reference batch's worlds (`PilotJob.world`), on the local worker that holds it
    (`Task.home`): each world is drawn and burned in once, not once per pilot. Every batch advances `bar`, the one
    progress bar of the search. On `pool` when given (a caller that runs the same worlds afterwards keeps the
    workers' worlds). With `readings` (estimators) each record also holds its reading under each (the page's
    `PilotCache` keeps them, so that switching the estimator re-reads the pilots run instead of running them
    again); with `horizons` (shorter than the search's) its reading at each of them too (`HORIZON_READINGS`:
    a shorter horizon re-reads the pilots run)."""
    with nullcontext(pool) if pool is not None else s.pool() as pool:
        def run(pairs: list[tuple[int, Scenario]], size: int, label: str,
                figures: tuple[Figure, ...] = SEARCH_FIGURES) -> list[dict[str, Any]]:
            tasks = [Task((rep,), PilotJob(sc, "pilot", s.horizon, s.alpha, size, figures, world=rep % s.batch,
                                                 readings=readings, horizons=horizons),
                          home=rep % s.batch) for rep, sc in pairs]
            if bar is not None:
                bar.describe(f"size: {label}")
            rows = [rec for _, rec in run_tasks(simulate, tasks, root_seed=s.seed, pool=pool, progress=bar,
                                                total=len(tasks))]
            for rec in (*rows, *(r for rec in rows for r in rec.get(HORIZON_READINGS, {}).values())):
                rec.pop("cohort_employed", None), rec.pop("cohort_n", None)  # the roll-out reads worlds' own
            return sorted(rows, key=lambda r: r["replication"])
        yield run


@dataclass
class SearchState:
    """One search under way: the scenario for each replication at a size, the simulator and the trials.

    `variant(rep, size)` gives the scenario replication `rep` runs at a size (the same for every rep in an
    ordinary search; drawn from the evidence for the assurance)."""

    settings: SearchSettings
    variant: Callable[[int, int], Scenario]
    run: Simulate
    low: int
    high: int
    budget: int
    trials: Trials = field(default_factory=Trials)
    say: Callable[[str], None] = lambda msg: None
    warmed: int = 0  # pilots it started from (an earlier search's): the budget counts the new ones only

    def room(self) -> bool:
        """True while one more batch fits the budget (the accounts batch always runs, outside it)."""
        spent = sum(r.get("part") != "accounts" for r in self.trials.rows)
        return spent + self.settings.batch <= self.budget + self.warmed

    def batch_at(self, size: int, step: str, figures: tuple[Figure, ...] = SEARCH_FIGURES,
                 part: str = "search") -> list[dict[str, Any]]:
        """`batch` fresh replications (numbers not yet used in this search) at `size`, added to the trials
        (column `part`: "search", or "accounts" for the batch run to the scenario's full length)."""
        s, t = self.settings, self.trials
        self.say(f"{step}: {s.batch} pilots at {s.by} = {size:,}")
        rows = self.run([(rep, self.variant(rep, size)) for rep in range(t.next_rep, t.next_rep + s.batch)], size,
                        f"{s.by} = {size:,}", figures)
        for r in rows:  # the size the fit reads: the places filled, where places are the lever
            r["reached"] = float(r["participants"]) if s.by == "participants" else float(size)
            r["part"] = part
        t.next_rep += s.batch
        t.sizes.add(size)
        t.rows.extend(rows)
        return rows

    def clip(self, size: float) -> int:
        return int(min(max(round(size), self.low), self.high))

    def ceiling(self) -> float:
        """The largest N* a pilot can reach: the largest size allowed, or fewer places if the catchment
        fills no more in the intake window."""
        return min(self.high, most_filled(self.trials.frame()))


def per_size(scenario: Scenario, by: str) -> Callable[[int, int], Scenario]:
    """The variant of an ordinary search: the scenario at each size, the same for every replication
    (built once per size)."""
    sized: dict[int, Scenario] = {}

    def variant(rep: int, size: int) -> Scenario:
        if size not in sized:
            sized[size] = at_size(scenario, by, size)
        return sized[size]
    return variant


# -- the parts of the search ---------------------------------------------------------------------------


def reference(rows: list[dict], scenario: Scenario, s: SearchSettings, size: int) -> Reference:
    """What the reference batch says: rates, effect, take-up, and the analytic size on the lever."""
    df = pd.DataFrame(rows)
    n_pilot, n_control = float(df["n_pilot"].mean()), float(df["n_control"].mean())
    p0, itt = float(df["control_mean"].mean()), float(df["estimate"].mean())
    itt_se = float(df["estimate"].std(ddof=1) / math.sqrt(len(df)))
    deff, icc = 1.0, 0.0
    if scenario.design.randomisation is Randomisation.OFFICE:
        icc = float(df["icc"].mean())
        deff = design_effect((n_pilot + n_control) / scenario.area.offices, icc)

    def on_lever(effect: float) -> float:  # the formula's size for an effect, from arm size to the lever
        need = pilot_arm_needed(p0, effect, s.alpha, s.power, ratio=n_control / max(n_pilot, 1))
        return size * need * deff / n_pilot if math.isfinite(need) and n_pilot else math.inf

    # the formula is only as sure as the effect it is given: the reference batch's mean ITT +- 1.96 SE
    return Reference(size, p0, itt, itt_se, float(df["take_up"].mean()), float(df["late"].mean()), n_pilot,
                     n_control, deff, icc, on_lever(itt), (on_lever(itt + 1.96 * itt_se), on_lever(itt - 1.96 * itt_se)))


#: A bracketing size within this share of a size already tried is left out: the batch there already tells
#: the fit what it would (the reference batch at the planned size, when the formula's guess lies near it).
NEAR_TRIED = 0.10


def bracket(search: SearchState, start: float, factors: tuple[float, ...] = (0.5, 1.0, 2.0)) -> None:
    """Batches around a first guess of N* (by default half, once and twice it), skipping sizes within
    `NEAR_TRIED` of a size tried and sizes above the places the catchment has been seen to fill (they would
    fill no more). The larger sizes stay even when a smaller pair already brackets the target: they pin the
    fit's slope, without which refining at N* crawls (fi_2019 seed 2 without its twice-size batches: 19
    central batches instead of 8)."""
    for size in sorted({search.clip(start * f) for f in factors}):
        if any(abs(size - tried) <= NEAR_TRIED * tried for tried in search.trials.sizes):
            continue
        if not search.room() or size > search.ceiling():
            break
        search.batch_at(size, "bracketing")


def widen(search: SearchState) -> None:
    """Larger batches (x4) until some size reaches the target, within the largest size allowed and while
    a larger pilot still fills (beyond what the catchment fills, a larger target adds nobody)."""
    s = search.settings
    while search.trials.best_power() < s.power and search.trials.largest() < search.high \
            and search.trials.largest() <= search.ceiling() and search.room():
        search.batch_at(search.clip(4 * search.trials.largest()), "widening")


def minimum_size(df: pd.DataFrame, power: float, seed: int) -> MinimumSize | None:
    """N* and its 95 % interval from the fit over all trials (parametric bootstrap of its coefficients)."""
    fit = power_fit(df)
    if fit is None:
        return None
    n = np.sort(fit.n_star_draws(power, seed))  # order statistics (inf where a draw never reaches the target)
    lo, hi = n[int(0.025 * n.size)], n[int(0.975 * n.size) - 1]
    return MinimumSize(fit.n_star(power), float(lo), float(hi))


def refine(search: SearchState, power: float, to_come: int = 0) -> MinimumSize | None:
    """Sequential batches at the current estimate of N* until its interval is within the precision asked
    (or the budget is spent, or the interval lies beyond the places the catchment fills); the fitted N*
    over every trial. `to_come`: pilots at N* that will join the fit anyway (the accounts batch): the
    batches stop once the interval, narrowed as that many more pilots narrow it (by sqrt(n / (n + to_come))
    with n the pilots fitted), is within the precision; the caller refines again after them."""
    s = search.settings

    def enough(found: MinimumSize) -> bool:
        n = len(search.trials.rows)
        return found.within(s.precision * math.sqrt((n + to_come) / n))

    found = minimum_size(search.trials.frame(), power, s.seed)
    while found is not None and search.room() and found.n_star <= search.high and not enough(found):
        ceiling = search.ceiling()
        if found.low > ceiling:
            break  # the whole interval beyond the places the catchment fills: not reachable
        # an N* that may lie beyond those places is tried at them, until it is clearly beyond or within
        search.batch_at(search.clip(min(found.n_star, ceiling)), f"refining (N* ~ {found.n_star:,.0f})")
        found = minimum_size(search.trials.frame(), power, s.seed)
    return found


def type_i_error(size: int, reject: np.ndarray) -> TypeICheck:
    """The rejection rate with no effect, and its exact (Clopper-Pearson) 95 % interval: with 40 pilots
    and no rejection the rate is 0 but could be as high as 9 %, which a binomial SE of 0 would hide."""
    ci = stats.binomtest(int(reject.sum()), reject.size).proportion_ci(0.95, method="exact")
    rate = float(reject.mean())
    return TypeICheck(size, rate, float(math.sqrt(rate * (1 - rate) / reject.size)), (float(ci.low), float(ci.high)),
                      int(reject.size))


def type_i_check(scenario: Scenario, s: SearchSettings, run: Simulate, size: int,
                 searched: pd.DataFrame | None = None) -> TypeICheck:
    """`type_i_sims` pilots at `size` in the same worlds with providers that do nothing (zero help), and
    the placebo check over the search's pilots (`searched`) where the design has one."""
    null = zero_help(at_size(scenario, s.by, size))
    rows = run([(rep, null) for rep in range(s.type_i_sims)], size, f"no effect, {s.by} = {size:,}")
    check = type_i_error(size, np.array([r["reject"] for r in rows], bool))
    return replace(check, placebo=placebo_check(searched))


def placebo_check(rows: pd.DataFrame | None) -> PlaceboCheck | None:
    """The placebo rejections of the search's pilots (column `placebo_reject`; None where the design has
    no placebo test, or no pilot recorded one)."""
    if rows is None or "placebo_reject" not in rows:
        return None
    reject = rows["placebo_reject"].to_numpy(float)
    reject = reject[np.isfinite(reject)].astype(bool)
    if reject.size == 0:
        return None
    t = type_i_error(0, reject)
    return PlaceboCheck(t.rate, t.se, t.ci, t.sims)


def accounts_batch(search: SearchState, size: int, weeks: int) -> None:
    """One batch at `size` (N*) run to the scenario's full length (`weeks`), in fresh replications of the
    search: the purchaser's and providers' accounts at the minimum size, which the search's pilots (stopped
    at the horizon) do not reach. Read at the horizon its pilots are a batch of the search like any other
    (what a pilot reports there does not depend on when it stops), so they join the fit. A batch kept from
    an earlier search of the same world (the page) within the precision of `size` is used as it is; one
    further away stays in the fit as a batch of the search, and a new one runs."""
    s = search.settings
    kept = [r for r in search.trials.rows if r["part"] == "accounts"]
    if kept and abs(kept[0]["size"] - size) <= s.precision * size:
        return
    for r in kept:
        r["part"] = "search"
    search.batch_at(size, f"accounts over the scenario's {weeks} weeks", ALL_FIGURES, "accounts")


def size_bounds(scenario: Scenario, s: SearchSettings) -> tuple[int, int]:
    """The smallest and largest sizes the search may try: offices only as many as give every arm two
    (a cluster design with one office in an arm has no test), up to `max_size` (default 20x the scenario's
    size, or 4x and at least 40 offices)."""
    base = size_of(scenario, s.by)
    if s.by != "offices":
        reachable_offices(scenario.design, scenario.area.offices, s.alpha)  # refused if its test cannot reject
        return 1, s.max_size or 20 * base
    low = next(g for g in range(2, 10_000) if scenario.design.clusters_ok(g)
               and reachable_offices(scenario.design, g, s.alpha, refuse=False))
    high = s.max_size or max(4 * base, 40)
    if high < low:
        raise LabsimError(f"--max-size {high} is below the {low} offices the {scenario.design.randomisation} "
                          "design needs (2 in each arm)")
    return low, high


def _not_reachable(search: SearchState, ref: Reference) -> Unreachable:
    s, curve = search.settings, search.trials.curve()
    largest = int(curve["size"].max())
    best = curve.loc[curve["power"].idxmax()]
    filled = most_filled(search.trials.frame())  # the most places any size filled, if some left places empty
    short = s.by == "participants" and math.isfinite(filled)
    return Unreachable(largest, float(best["power"]), float(best["power_se"]), filled if short else None,
                       not short and not ref.itt > 2 * ref.itt_se)


def search_size(scenario: Scenario, s: SearchSettings, progress: bool = False, run: Simulate | None = None,
                say: Callable[[str], None] | None = None, prior: list[dict[str, Any]] | None = None,
                settle: bool = True) -> CentralSearch:
    """Run the search (on real pilots, or on `run` if given); return the answer with every replication.
    `say` prints the search's steps (default: to stderr when `progress`); `prior`: pilots an earlier
    search of the same world ran (design/pilot_cache.py), which this one starts from (`warm`).
    `settle=False` stops before refining (the size job's evidence refines the central N* and the assurance
    together, and `settle_central` finishes the search from there)."""
    s.check()
    s.progress = s.progress or progress
    if run is not None:
        return _search(scenario, s, run, say or stderr_lines(s.progress), prior, settle)
    with search_bar(s, most_pilots(s)) as (bar, say):
        with pool_simulator(s, bar) as pool_run:
            return _search(scenario, s, pool_run, say, settle=settle)


def most_pilots(s: SearchSettings) -> int:
    """The most pilots one search simulates: its budget, the type-I check and the accounts batch."""
    return s.budget + s.type_i_sims + s.batch


def stderr_lines(on: bool) -> Callable[[str], None]:
    """Status lines on stderr (or nothing)."""
    return (lambda msg: print(f"size: {msg}", file=sys.stderr, flush=True)) if on else (lambda msg: None)


@contextmanager
def search_bar(s: SearchSettings, total: int) -> Iterator[tuple[ProgressBar | None, Callable[[str], None]]]:
    """One progress bar for a whole search, with time left against `total` (the most it can simulate), and
    the status lines printed above it; closed at the end, filled to what was simulated."""
    bar = ProgressBar(total, "size", enabled=s.progress) if s.progress else None
    try:
        yield bar, (lambda msg: bar.status(f"size: {msg}")) if bar else stderr_lines(False)
        if bar is not None:
            bar.finish()
    finally:
        if bar is not None:
            bar.close()


def warm(search: SearchState, prior: list[dict[str, Any]] | None) -> bool:
    """Start a search from the pilots an earlier search of the same world ran (their batches keep their
    replication numbers; new batches take fresh ones after them). True if there were any."""
    if not prior:
        return False
    t = search.trials
    t.rows.extend({"part": "search", **r} for r in prior)
    search.warmed = sum(r["part"] != "accounts" for r in t.rows)
    t.next_rep = max(t.next_rep, max(int(r["replication"]) for r in prior) + 1)
    t.sizes.update(int(r["size"]) for r in prior)
    return True


def _search(scenario: Scenario, s: SearchSettings, run: Simulate, say: Callable[[str], None],
            prior: list[dict[str, Any]] | None = None, settle: bool = True) -> CentralSearch:
    """The search's steps: reference, bracket, widen, refine, the accounts batch at N* (in the fit; refining
    on if its interval is still too wide), then the type-I check at the answer. Started from `prior`
    pilots, the reference batch is theirs if they have it, and the bracket is left out while their fit
    already places N*. Unsettled (`settle=False`): no refining, the accounts batch at the N* the bracket
    places, no type-I check (the status "found" is provisional)."""
    started = time.perf_counter()
    low, high = size_bounds(scenario, s)
    base = min(max(size_of(scenario, s.by), low), high)
    search = SearchState(s, per_size(scenario, s.by), run, low, high, s.budget, say=say)
    warmed = warm(search, prior)
    first = [r for r in search.trials.rows if r["size"] == base][: s.batch]  # a batch there already run
    if warmed:
        say(f"starting from the {len(search.trials.rows)} pilots already run in this world")
    ref = reference(first if len(first) == s.batch else search.batch_at(base, "reference batch"), scenario, s, base)
    if not warmed or power_fit(search.trials.frame()) is None:
        bracket(search, ref.analytic_size if math.isfinite(ref.analytic_size) else base)
    widen(search)
    if not settle:
        found = minimum_size(search.trials.frame(), s.power, s.seed)
        if reachable(found, search):
            accounts_batch(search, search.clip(math.ceil(found.n_star)), scenario.weeks)
            found = minimum_size(search.trials.frame(), s.power, s.seed)
        return _settled(scenario, s, run, say, search, ref, found, started, type_i=False)
    found = refine(search, s.power, to_come=s.batch)
    if reachable(found, search):
        accounts_batch(search, search.clip(math.ceil(found.n_star)), scenario.weeks)
        found = refine(search, s.power)
    return _settled(scenario, s, run, say, search, ref, found, started)


def resumed(scenario: Scenario, s: SearchSettings, run: Simulate, rows: pd.DataFrame,
            say: Callable[[str], None]) -> SearchState:
    """A search state holding the pilots `rows` ran (a search to go on with: further batches take
    replication numbers after theirs)."""
    low, high = size_bounds(scenario, s)
    search = SearchState(s, per_size(scenario, s.by), run, low, high, s.budget, say=say)
    warm(search, rows.to_dict("records"))
    return search


@dataclass(frozen=True)
class Centre:
    """An unsettled central search as the evidence's joint search leaves it: every pilot it ran (`rows`,
    the batches it ran during the joint search too), and N* as the joint fit reads it at the scenario's
    values with the curve there (`minimum`, `curve`; both None where it could not be read there)."""

    minimum: MinimumSize | None
    curve: FittedCurve | None
    rows: pd.DataFrame


def settle_central(scenario: Scenario, first: CentralSearch, run: Simulate, say: Callable[[str], None],
                   centre: Centre | None) -> CentralSearch:
    """Finish an unsettled central search (`search_size(settle=False)`): with the N* the joint fit reads
    (`centre.minimum`, and its curve), the status, the type-I check and the formula at that N*; without one
    (no `centre`: the central search placed no N* to refine; or the joint fit could not be read there, or
    its pilots disagreed with the central ones), the search refines on its own pilots as `search_size`
    does, within what is left of its budget."""
    s, rows = first.settings, first.rows if centre is None else centre.rows
    if centre is None or centre.minimum is None:
        spent = int((rows["part"] != "accounts").sum())
        left = replace(s, budget=max(3 * s.batch, s.budget - spent))
        return search_size(scenario, left, run=run, say=say, prior=rows.to_dict("records"))
    return _settled(scenario, s, run, say, resumed(scenario, s, run, rows, say), first.reference, centre.minimum,
                    time.perf_counter() - first.seconds, curve=centre.curve, spent=True)


def _settled(scenario: Scenario, s: SearchSettings, run: Simulate, say: Callable[[str], None], search: SearchState,
             ref: Reference, found: MinimumSize | None, started: float, type_i: bool = True,
             curve: FittedCurve | None = None, spent: bool | None = None) -> CentralSearch:
    """The search's answer from N* as found: its status (found, not reachable, or the budget spent before
    the precision asked), the type-I check at N*, the formula from the pilots near it and the power by
    size; `curve` the fitted curve N* was read from (default the central search's own fit); `spent`: whether
    the budget that read N* ran out (default: this search's)."""
    status, message, unreachable = "found", "", None
    if not reachable(found, search):
        unreachable, found = _not_reachable(search, ref), None
        status, message = "not_reachable", unreachable.sentence(s.by, s.power)
    elif type_i and not found.within(s.precision) and (spent if spent is not None else not search.room()):
        status, message = "budget", "the simulation budget ran out before the interval met the precision asked"
    check = None
    if type_i and found is not None and s.type_i_sims > 0:
        size = search.clip(math.ceil(found.n_star))
        say(f"type-I check: {s.type_i_sims} pilots at {s.by} = {size:,} with providers that do nothing")
        check = type_i_check(scenario, s, run, size, search.trials.frame())
    rows = search.trials.frame()
    analytic = analytic_near(rows, found.n_star, s.alpha, s.power) if found else None
    return CentralSearch(s, status, message, found, ref, analytic, power_points(search.trials, ref, analytic, s.alpha),
                         check, unreachable, rows, int(len(rows)) + (check.sims if check else 0),
                         round(time.perf_counter() - started, 1), curve or fitted_curve(rows))


def fitted_curve(rows: pd.DataFrame) -> FittedCurve | None:
    """The central search's own fitted curve over its pilots (`fit_rows`), as the answer carries it."""
    df = fit_rows(rows)
    fit = power_fit(df) if not df.empty else None
    if fit is None:
        return None
    a, b = (float(v) for v in fit.params)
    if fit.kind == "z":
        return FittedCurve("z", a, b, fit.sigma, fit.c, int(len(df)), False)
    return FittedCurve("probit", a, b, 1.0, 0.0, int(len(df)), False)


def reachable(found: MinimumSize | None, search: SearchState) -> bool:
    """True if the fit places a finite N* within the places the catchment fills."""
    return found is not None and math.isfinite(found.n_star) and found.n_star <= search.ceiling()


def power_points(trials: Trials, ref: Reference, near: AnalyticSize | None, alpha: float) -> tuple[PowerPoint, ...]:
    """The simulated power at each size tried, with the formula's power at the places filled beside it: the
    formula the answer prints (from the pilots near N*), or the reference batch's where there is none."""
    points = []
    formula = near.power if near is not None and near.usable() else ref.analytic_power
    for _, r in trials.curve().iterrows():
        analytic = formula(min(r["size"], r["reached"]), alpha)
        points.append(PowerPoint(int(r["size"]), float(r["power"]), float(r["power_se"]),
                                 float(analytic) if np.isfinite(analytic) else None, float(r["mean_se"]), int(r["sims"]),
                                 float(r["reached"])))
    return tuple(points)
