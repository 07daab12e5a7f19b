"""The size over the evidence: the assurance, the chance of a significant result averaged over what the
evidence allows for every uncertain assumption at once (O'Hagan and Stevens 2001), the size at each end
of each range, and which assumption to pin down first.

The ranges come from the scenario's `[[assumptions]]` table and `labsim size --vary path=low:high`; the
scenario's own value is the central one. One joint search draws every assumption together, as a
space-filling design: each batch of pilots is a Latin hypercube over the ranges (each pilot a row; a
triangular range through its quantiles), so every size tried sees the whole evidence. Assumptions of the
world itself (sections the burn-in reads: `area`, `market`, ...) take one value per world (world
w = replication mod batch, a Latin hypercube over the worlds), so each world is still burned in once (on
the local worker that holds it); the others change with every pilot. Replication r runs in world r mod batch with pilot seed (r,),
as in the central search; the joint search's replications come after the central search's, so its pilots
share the central ones' worlds but not their seeds.

One fit over every pilot of the joint search (`power_fit.JointFit`: the pilot's z, or its rejection,
against a + sqrt(N) (b + d . u), u the assumption values scaled to their range) gives, from the same
pilots and nothing more:
- the assurance at any size: the fitted power averaged over the evidence (a fixed scrambled Sobol sample
  of the ranges), and the size where it reaches the target, with its 95 % interval (draws of the fit's
  coefficients);
- the minimum size with one assumption at each end of its range and the others at the scenario's values;
- each assumption's share of the spread: d_j^2 Var(u_j) over the sum, the share of the variance of the
  pilot's expected z (or probit index) across the evidence it carries; and the size for the target
  assurance were its range half as wide around the scenario's value (`Influence`).
The central search's pilots (at the scenario's values, u = 0) enter the same fit, so the joint search
starts with one batch at the central N* and mostly has to tell the assumptions' slopes. So the joint
evidence costs at most one search of half the central budget, whatever the number of assumptions. In the
size job the central search stops before refining and the joint search refines both the central N* (read
from the same fit at u = 0, batches of the central search where its interval is the wider) and the
assurance, until both are within the precision asked (`assurance`, `size_at`, `agreement`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr  # norm.cdf's own function, without its checks (the bisections' inner loop)

from labsim.config.errors import LabsimError
from labsim.config.assumptions import in_field_units, number_at, parse_span, value_at
from labsim.config.scenario import Scenario
from labsim.design.power_fit import JointFit, fit_rows, most_filled
from labsim.design.replicate import SEARCH_FIGURES, Figure
from labsim.design.size import (
    Centre, CentralSearch, SearchSettings, SearchState, Simulate, bracket, resumed, size_bounds, warm, widen,
)
from labsim.design.size_answer import AssurancePoint, FittedCurve, Influence, MinimumSize, SizeAtValue
from labsim.design.worlds import at_size
from labsim.samplers import latin_hypercube, sobol
from labsim.world.burn_in import PILOT_SECTIONS

#: Points of the scrambled Sobol sample the assurance averages the fitted power over.
PRIOR_POINTS = 256
#: Coefficient draws behind the intervals of the joint fit's sizes.
DRAWS = 400
#: Column prefix of a pilot's assumption value in the assurance's rows (replications.parquet).
AT = "at:"


@dataclass(frozen=True)
class Range:
    """One assumption's evidence range (low may equal high: a single value) and where it comes from."""

    path: str
    low: float
    central: float
    high: float
    distribution: str = "uniform"  # or "triangular", peaking at the central value
    source: str = ""

    def draw(self, rng: np.random.Generator) -> float:
        return self.quantile(float(rng.uniform()))

    def quantile(self, q: float | np.ndarray) -> Any:
        """The value at probability `q` of the range's distribution (a space-filling design's uniform
        coordinate mapped onto the range)."""
        if self.low == self.high:
            return self.low + 0 * np.asarray(q, float) if np.ndim(q) else self.low
        width = self.high - self.low
        if self.distribution == "triangular":
            out = stats.triang.ppf(q, (self.central - self.low) / width, loc=self.low, scale=width)
        else:
            out = self.low + np.asarray(q, float) * width
        return float(out) if np.ndim(q) == 0 else np.asarray(out, float)

    def scaled(self, value: Any) -> Any:
        """A value as the joint fit reads it: off the scenario's value, in widths of the range."""
        return (np.asarray(value, float) - self.central) / (self.high - self.low)

    def world(self) -> bool:
        """True if the assumption belongs to the world the burn-in draws (one value per world)."""
        return self.path.split(".")[0] not in PILOT_SECTIONS


@dataclass
class Evidence:
    """The size at each end of each range, the assurance curve and the size reaching the target."""

    by_assumption: list[SizeAtValue]
    curve: list[AssurancePoint]
    size_for_assurance: MinimumSize | None
    target: float
    sims: int
    assurance_rows: list[dict[str, Any]]
    influence: list[Influence] = field(default_factory=list)  # largest share first
    fit: str | None = None  # the joint fit's kind ("z" or "probit"), None if it could not be fitted
    centre: Centre | None = None  # with an unsettled central search: its pilots, and N* as the joint fit reads it

    def dominant(self) -> Influence | None:
        """The assumption that dominates the spread (the largest share), if any varies and its effect is
        distinguishable from the pilots' noise."""
        return self.influence[0] if self.influence and self.influence[0].distinguishable else None


def ranges_of(scenario: Scenario, spans: list[str], option: str = "--vary") -> list[Range]:
    """The scenario's assumptions, with `path=low:high` spans from the command line (`--vary`, `--params`)
    added, each replacing one of the same path. A span names a numeric field, its ends are values the
    field takes, and the scenario's own value (the central one) lies between them."""
    out = {a.path: Range(a.path, a.low, float(value_at(scenario, a.path)), a.high, a.distribution, a.source)
           for a in scenario.assumptions}
    for item in spans:
        path, lo, hi = parse_span(item, option)
        try:
            central = number_at(scenario, path)
        except ValueError as err:
            raise LabsimError(f"{option} {item}: {err}; write dotted.path=low:high with a numeric scenario "
                              "field, e.g. providers.effort_effect=0.3:1.0") from None
        if not lo <= central <= hi:
            raise LabsimError(f"{option} {item}: the scenario's {path} ({central!r}) must be a number "
                              f"between low and high")
        for end in (lo, hi):  # refused here if the field does not take an end
            scenario.with_values(in_field_units(scenario, {path: end}), f"{option} {item}")
        out[path] = Range(path, lo, float(central), hi, source=option)
    return list(out.values())


def design_values(ranges: list[Range], seed: int, batch: int) -> Callable[[int], dict[str, float]]:
    """Replication r's assumption values: batch k = r // `batch` is a Latin hypercube over the ranges
    (seeded by (seed, k)), so every size tried sees the whole evidence; assumptions of the world take the
    value of world r mod `batch` (one Latin hypercube over the worlds), so each world keeps one burn-in."""
    world = [r for r in ranges if r.world()]
    pilot = [r for r in ranges if not r.world()]
    on_world = latin_hypercube(len(world), batch, [seed, 16]) if world else None
    cubes: dict[int, np.ndarray] = {}

    def values(rep: int) -> dict[str, float]:
        k, i = divmod(rep, batch)
        out = {r.path: r.quantile(float(on_world[i, j])) for j, r in enumerate(world)} if world else {}
        if pilot:
            if k not in cubes:
                cubes[k] = latin_hypercube(len(pilot), batch, [seed, k, 15])
            out.update({r.path: r.quantile(float(cubes[k][i, j])) for j, r in enumerate(pilot)})
        return out
    return values


def prior_sample(ranges: list[Range], seed: int) -> np.ndarray:
    """`PRIOR_POINTS` scaled values (a row each, a column per range) spread over the ranges (scrambled
    Sobol, through each range's quantiles): what the assurance averages the fitted power over."""
    if not ranges:
        return np.zeros((PRIOR_POINTS, 0))
    q = sobol(len(ranges), PRIOR_POINTS, [seed, 17])
    return np.column_stack([r.scaled(r.quantile(q[:, j])) for j, r in enumerate(ranges)])


def scaled_values(rows: list[dict[str, Any]] | Any, ranges: list[Range]) -> np.ndarray:
    """The pilots' assumption values as the joint fit reads them (a row per pilot, a column per range)."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    if not ranges:
        return np.zeros((len(df), 0))
    return np.column_stack([r.scaled(df[AT + r.path].to_numpy(float)) for r in ranges])


def assured_size(fit: JointFit, u: np.ndarray, target: float, within: tuple[float, float],
                 coef: np.ndarray | None = None, sigma: np.ndarray | None = None) -> np.ndarray:
    """The size where the fitted power averaged over the rows of `u` reaches `target`, for each coefficient
    draw (or the fit's own coefficients: one value) between the sizes `within` = (low, high): inf where
    not even high reaches it, low where low already does. Bisection on sqrt(N) (the fitted assurance rises
    with the size there; `low`, a quarter of the smallest size tried, keeps it from reading the fit far
    below the sizes it saw: `reach`)."""
    coef = fit.params[None, :] if coef is None else coef
    sigma = np.full(len(coef), fit.sigma) if sigma is None else sigma
    slope = coef[:, 1:2] + coef[:, 2:] @ u.T  # draws x points: b + d . u

    def mean_power(root: np.ndarray) -> np.ndarray:
        eta = coef[:, :1] + root[:, None] * slope
        if fit.kind == "z":
            s = sigma[:, None]
            p = ndtr((eta - fit.c) / s) + ndtr((-eta - fit.c) / s)
        else:
            p = ndtr(eta)
        return p.mean(axis=1)

    lo, hi = np.full(len(coef), math.sqrt(within[0])), np.full(len(coef), math.sqrt(within[1]))
    reach = mean_power(hi) >= target
    for _ in range(50):
        mid = (lo + hi) / 2
        below = mean_power(mid) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(reach, hi**2, np.inf)


def reach(search: SearchState) -> tuple[float, float]:
    """The sizes the joint fit is read over: from a quarter of the smallest size tried (at least the
    smallest allowed) to the largest allowed."""
    tried = min(search.trials.sizes) if search.trials.sizes else search.low
    return max(float(search.low), 0.25 * tried), float(search.high)


def _interval(n: float, draws: np.ndarray) -> MinimumSize:
    """N and the 2.5 and 97.5 % order statistics of its draws (inf where a draw never reaches it)."""
    d = np.sort(draws)
    return MinimumSize(float(n), float(d[int(0.025 * d.size)]), float(d[int(0.975 * d.size) - 1]))


def _recorded(run: Simulate, values: Callable[[int], dict[str, float]]) -> Simulate:
    """`run` with each pilot's assumption values added to its record (columns `at:path`)."""
    def run_at(pairs: list[tuple[int, Scenario]], size: int, label: str,
               figures: tuple[Figure, ...] = SEARCH_FIGURES) -> list[dict[str, Any]]:
        rows = run(pairs, size, label, figures)
        return [{**r, **{AT + p: v for p, v in values(int(r["replication"])).items()}} for r in rows]
    return run_at


def assurance(scenario: Scenario, s: SearchSettings, run: Simulate, ranges: list[Range], sizes: list[float],
              target: float, say: Callable[[str], None] = lambda msg: None,
              anchor: pd.DataFrame | None = None, prior: list[dict[str, Any]] | None = None,
              central: SearchState | None = None, budget: int | None = None) -> tuple[SearchState, JointFit | None]:
    """The joint search: replication r runs with the values of the space-filling design
    (`design_values`: the same at every size), bracketed at `sizes`, then batches at the size for the
    target assurance until its interval is within the precision asked or the `budget` (default half the
    central budget) is spent; the joint fit over all its pilots and the `anchor` pilots (None if none).
    Widened (x4 batches, as the central search) only while the fit cannot place the target.

    `anchor`: pilots already run at the scenario's own values (the central search's, `central_pilots`).
    They enter the one fit at u = 0, where they pin its intercept and slope in sqrt(N); the joint pilots
    then only have to tell the assumptions' slopes d, so the joint search starts with one batch at the
    first of `sizes` (the central N*) instead of bracketing three. The joint pilots take replication
    numbers after the anchor's (their own pilot seeds, in the same worlds), so that each pilot tells the
    fit something new. `central`: the central search, left unsettled (`search_size(settle=False)`), whose
    pilots are the anchor: the size for its target power at the scenario's values is read from the same
    fit (`size_at`) and must meet the precision too; while it is the wider of the two intervals
    the next batch is the central search's, at that size (pilots at the scenario's values tell the fit
    most there), and the anchor grows with it. `prior`: the joint pilots an earlier search of the same
    world and ranges ran (design/pilot_cache.py), which it starts from."""
    values = design_values(ranges, s.seed, s.batch)
    drawn: dict[int, Scenario] = {}

    def world(rep: int) -> Scenario:
        if rep not in drawn:
            drawn[rep] = scenario.with_values(in_field_units(scenario, values(rep)))
        return drawn[rep]

    low, high = size_bounds(scenario, s)
    search = SearchState(s, lambda rep, size: at_size(world(rep), s.by, size), _recorded(run, values), low, high,
                         budget or max(3 * s.batch, s.budget // 2), say=say)
    if central is not None:
        anchor = central_pilots(central.trials.frame(), s.by)
    if anchor is not None and not anchor.empty:  # fresh pilot seeds, batch-aligned (a batch is one hypercube)
        search.trials.next_rep = -(-(int(anchor["replication"].max()) + 1) // s.batch) * s.batch
    varied = [r for r in ranges if r.high > r.low]
    anchor = at_scenario_values(anchor, ranges)
    finite = sorted({search.clip(n) for n in sizes if math.isfinite(n)}) or [search.clip(high)]
    fit = joint_fit(search, varied, anchor) if warm(search, prior) else None
    if fit is None and anchor is not None and math.isfinite(sizes[0]):
        bracket(search, 1.0, (float(search.clip(sizes[0])),))
        fit = joint_fit(search, varied, anchor)
    if fit is None:  # no anchor, or it cannot be fitted with it: a curve of the joint pilots' own
        if len(finite) < 2:  # a curve needs two sizes
            finite = [search.clip(0.7 * finite[0]), search.clip(1.4 * finite[0])]
        bracket(search, 1.0, tuple(finite))
        fit = joint_fit(search, varied, anchor)
    u_prior = prior_sample(varied, s.seed)
    if fit is None or not math.isfinite(assured_size(fit, u_prior, target, reach(search))[0]):
        widen(search)  # larger batches only while the fit cannot say where the target lies
        fit = joint_fit(search, varied, anchor)
    while fit is not None and search.room():
        n = float(assured_size(fit, u_prior, target, reach(search))[0])
        ceiling = search.ceiling()
        found = _interval(n, assured_size(fit, u_prior, target, reach(search), *fit.draws(DRAWS, s.seed)))
        if not math.isfinite(n) or found.low > ceiling:
            break
        wide = [] if found.within(s.precision) else [(_spread(found), n, None)]
        mid = size_at(fit, varied, s.power, search) if central is not None else None
        if mid is not None and mid.low <= ceiling and not mid.within(s.precision):
            wide.append((_spread(mid), mid.n_star, central))
        if not wide:
            break
        _, at, where = max(wide, key=lambda w: w[0])
        if where is None:
            search.batch_at(search.clip(min(at, ceiling)), f"refining (assurance {target:.0%} at ~{at:,.0f})")
        else:  # a batch of the central search, in replications after the joint search's, inside its budget
            where.trials.next_rep = search.trials.next_rep
            where.batch_at(search.clip(min(at, ceiling)), f"refining (N* ~ {at:,.0f}, read with the evidence)")
            search.trials.next_rep, search.budget = where.trials.next_rep, search.budget - s.batch
            anchor = at_scenario_values(central_pilots(where.trials.frame(), s.by), ranges)
        fit = joint_fit(search, varied, anchor)
    return search, fit


def _spread(found: MinimumSize) -> float:
    """An interval's half-width as a share of its size (infinite when open)."""
    return (found.high - found.low) / 2 / found.n_star if math.isfinite(found.high) else math.inf


def size_at(fit: JointFit, varied: list[Range], power: float, search: SearchState,
                   u: np.ndarray | None = None, draws: tuple[np.ndarray, np.ndarray] | None = None) -> MinimumSize | None:
    """The size where the joint fit's power at the scaled assumption values `u` (default the scenario's,
    u = 0) reaches `power`, with its 95 % interval over the fit's coefficient `draws` (default `DRAWS` of
    them); None where no size the fit is read over reaches it."""
    u = np.zeros((1, len(varied))) if u is None else u
    n = float(assured_size(fit, u, power, reach(search))[0])
    if not math.isfinite(n):
        return None
    return _interval(n, assured_size(fit, u, power, reach(search), *(draws or fit.draws(DRAWS, search.settings.seed))))


def agreement(search: SearchState, varied: list[Range], anchor: pd.DataFrame | None) -> float | None:
    """How far the joint pilots' curve, carried to the scenario's values by the fit's linear slopes, lies
    from the anchor pilots' (run there): the z (coefficient over its clustered SE) of sqrt(N) J, J = 1 for
    a joint pilot, added to the joint fit. Near 0 when the fit's linear form in the assumptions holds; a
    curve that bends over a range moves the joint pilots' mean off the anchor's, and with it the size
    the joint fit reads at the scenario's values. None where it cannot be fitted."""
    df = search.trials.frame()
    if df.empty or anchor is None or anchor.empty:
        return None
    both = pd.concat([df, anchor[[c for c in anchor.columns if c in df.columns]]], ignore_index=True)
    joint = np.r_[np.ones(len(df)), np.zeros(len(anchor))]
    fit = JointFit.of(both, np.column_stack([scaled_values(both, varied), joint]))
    if fit is None:
        return None
    var = fit.cov[-1, -1] * (fit.sigma**2 if fit.kind == "z" else 1.0)
    return float(fit.params[-1] / math.sqrt(var)) if var > 0 else None


def at_scenario_values(pilots: pd.DataFrame | None, ranges: list[Range]) -> pd.DataFrame | None:
    """Pilots run at the scenario's own values, with those values as the joint fit reads them (columns
    `at:path`; None for no pilots)."""
    return None if pilots is None or pilots.empty else pilots.assign(**{AT + r.path: r.central for r in ranges})


def central_pilots(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """The central search's pilots (its search and its accounts batch, all at the scenario's own values)
    as the joint fit reads them, with the size each reached: the anchor of the joint fit."""
    rows = fit_rows(rows)
    if by == "participants":
        return rows.assign(reached=rows["participants"].astype(float))
    return rows.assign(reached=rows["size"].astype(float))


def joint_fit(search: SearchState, varied: list[Range], anchor: pd.DataFrame | None = None) -> JointFit | None:
    """The joint fit over every pilot the joint search has run and the `anchor` pilots (at the scenario's
    values); None until their sizes reached span at least 20 % (sizes that all fill about the same places
    carry no slope in sqrt(N) to speak of)."""
    df = search.trials.frame()
    if df.empty:
        return None
    if anchor is not None:
        df = pd.concat([df, anchor[[c for c in anchor.columns if c in df.columns]]], ignore_index=True)
    filled = df.groupby("size")["reached"].mean()
    if filled.max() < 1.2 * filled.min():
        return None
    return JointFit.of(df, scaled_values(df, varied))


def assess_evidence(scenario: Scenario, s: SearchSettings, run: Simulate, ranges: list[Range], central: CentralSearch,
                    target: float, say: Callable[[str], None] = lambda msg: None,
                    prior: list[dict[str, Any]] | None = None, centre: bool = False) -> Evidence:
    """The joint search over every range at once, started at the central answer (from `prior` pilots of an
    earlier joint search of the same world, if any), and what its one fit over its own and the central
    search's pilots says: the assurance curve and the size for `target`, each range's ends, each
    assumption's share. `centre`: the central search was left unsettled (`search_size(settle=False)`); the
    joint search refines the central N* too, and `Evidence.centre` is its reading."""
    ref = central.reference
    why = central.unreachable
    n0 = central.minimum.n_star if central.minimum else (why.largest if why else ref.size)
    if why is not None and why.places_filled is not None:
        n0 = min(n0, why.places_filled)  # the central search saw the catchment fill no more
    anchor = central_pilots(central.rows, s.by)
    budget, more = max(3 * s.batch, s.budget // 2), None
    if centre:  # the central search left its refining to this one: what it did not spend comes on top
        budget += max(0, s.budget - int((central.rows["part"] != "accounts").sum()))
        more = resumed(scenario, s, run, central.rows, say)
    search, fit = assurance(scenario, s, run, ranges, [n0, 0.7 * n0, 1.4 * n0], target,
                            lambda msg: say(f"assurance: {msg}"), anchor, prior, more, budget)
    if more is not None:
        anchor = central_pilots(more.trials.frame(), s.by)
    varied = [r for r in ranges if r.high > r.low]
    ceiling = search.ceiling()
    rows = search.trials.rows
    raw = search.trials.curve()
    reading = None
    if more is not None:
        reading = _centre(fit, varied, s, search, anchor, more.trials.frame(), say) if fit is not None else \
            Centre(None, None, more.trials.frame())
    if fit is None:
        curve = [AssurancePoint(int(c["size"]), float(c["power"]), float(c["power_se"])) for _, c in raw.iterrows()]
        ends = [SizeAtValue(r.path, v, central.minimum if v == r.central else None,
                            central.status if v == r.central else "budget", 0)
                for r in ranges for v in (r.low, r.central, r.high)]
        return Evidence(ends, curve, None, target, len(rows), rows, centre=reading)
    coef, sigma = fit.draws(DRAWS, s.seed)
    u_prior = prior_sample(varied, s.seed)
    n = float(assured_size(fit, u_prior, target, reach(search))[0])
    draws = assured_size(fit, u_prior, target, reach(search), coef, sigma)
    found = _interval(n, draws) if math.isfinite(n) and n <= ceiling else None
    curve = []
    for _, c in raw.iterrows():
        at = np.full(len(u_prior), float(c["reached"]))
        fitted = float(fit.power(at, u_prior).mean())
        spread = np.sort([fit.power(at, u_prior, coef[i], sigma[i]).mean() for i in range(0, DRAWS, 2)])
        curve.append(AssurancePoint(int(c["size"]), float(c["power"]), float(c["power_se"]), fitted,
                                    float(spread[int(0.025 * spread.size)]), float(spread[int(0.975 * spread.size) - 1])))
    ends = [_end(fit, varied, r, v, s, central, search, coef, sigma) for r in ranges for v in (r.low, r.central, r.high)]
    influence = _influence(fit, varied, u_prior, target, reach(search), n, draws, coef, sigma)
    return Evidence(ends, curve, found, target, len(rows), rows, influence, fit.kind, reading)


def _centre(fit: JointFit, varied: list[Range], s: SearchSettings, search: SearchState, anchor: pd.DataFrame,
            rows: pd.DataFrame, say: Callable[[str], None]) -> Centre:
    """The central N* as the joint fit reads it at the scenario's values, with the curve there, unless
    the anchor and the joint pilots disagree (`agreement` beyond +-1.96) or the size lies beyond the places
    the catchment fills; then none (`Centre.minimum` None), and the central search refines on its own
    pilots."""
    found = size_at(fit, varied, s.power, search)
    t = agreement(search, varied, at_scenario_values(anchor, varied))
    if found is None or found.n_star > search.ceiling() or t is None or abs(t) > 1.96:
        why = "the fit places no size there" if found is None or t is None else \
            "beyond the places filled" if found.n_star > search.ceiling() else \
            f"the central and the joint pilots disagree there (z = {t:+.2f})"
        say(f"assurance: the central size is read from the central pilots alone ({why})")
        return Centre(None, None, rows)
    a, b = float(fit.params[0]), float(fit.params[1])
    pilots = len(search.trials.rows) + len(anchor)
    curve = FittedCurve(fit.kind, a, b, fit.sigma, fit.c if fit.kind == "z" else 0.0, pilots, True, t)
    return Centre(found, curve, rows)


def _end(fit: JointFit, varied: list[Range], r: Range, value: float, s: SearchSettings, central: CentralSearch,
         search: SearchState, coef: np.ndarray, sigma: np.ndarray) -> SizeAtValue:
    """The minimum size for the target power with `r` at `value` and the others at the scenario's values,
    read from the joint fit (the central value: the central search's own answer)."""
    if value == r.central:
        why = central.unreachable
        return SizeAtValue(r.path, value, central.minimum, central.status, 0,
                           places_filled=why.places_filled if why else None, itt=central.reference.itt)
    u = np.zeros((1, len(varied)))
    if r in varied:
        u[0, varied.index(r)] = float(r.scaled(value))
    itt = _itt_at(search, varied, u)
    found = size_at(fit, varied, s.power, search, u, (coef, sigma))
    n = found.n_star if found else math.inf
    ceiling = search.ceiling()
    # the most places any pilot filled, in the joint search or the central one (a larger target adds nobody)
    filled = min(most_filled(search.trials.frame()), most_filled(fit_rows(central.rows)))
    if n > min(ceiling, filled):
        short = math.isfinite(filled) and n > filled
        return SizeAtValue(r.path, value, None, "not_reachable", 0,
                           search.clip(min(search.trials.largest(), ceiling)), filled if short else None, itt)
    return SizeAtValue(r.path, value, found, "found" if found.within(s.precision) else "budget", 0, itt=itt)


def _itt_at(search: SearchState, varied: list[Range], u: np.ndarray) -> float | None:
    """The pilot's effect (ITT) at the scaled assumption values `u`, from a linear fit of the joint
    pilots' estimates on their assumption values (what an end of a range means in percentage points)."""
    df = search.trials.frame()
    if "estimate" not in df or len(df) <= len(varied) + 1:
        return None
    x = np.column_stack([np.ones(len(df)), scaled_values(df, varied)])
    y = df["estimate"].to_numpy(float)
    ok = np.isfinite(y)
    beta = np.linalg.lstsq(x[ok], y[ok], rcond=None)[0]
    return float(beta[0] + u[0] @ beta[1:])


def _influence(fit: JointFit, varied: list[Range], u_prior: np.ndarray, target: float, within: tuple[float, float], n: float,
               draws: np.ndarray, coef: np.ndarray, sigma: np.ndarray) -> list[Influence]:
    """Each varied assumption's share of the spread of the pilot's expected z across the evidence
    (d_j^2 Var(u_j) over the sum), and the size for the target assurance with its range halved around the
    scenario's value (the same draws, so the saving's interval is paired), largest share first."""
    spread = fit.params[2:] ** 2 * u_prior.var(axis=0) if varied else np.zeros(0)
    total = float(spread.sum())
    each = coef[:, 2:] ** 2 * u_prior.var(axis=0)  # the shares in each coefficient draw
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = each / each.sum(axis=1, keepdims=True)
    out = []
    for j, r in enumerate(varied):
        halved = u_prior.copy()
        halved[:, j] /= 2
        n_half = float(assured_size(fit, halved, target, within)[0])
        saving, saving_ci = None, None
        if math.isfinite(n) and math.isfinite(n_half):
            saving = n - n_half
            with np.errstate(invalid="ignore"):  # a draw that reaches the target with neither range: no saving
                paired = draws - assured_size(fit, halved, target, within, coef, sigma)
            paired = np.sort(paired[~np.isnan(paired)])
            if paired.size:
                saving_ci = (float(paired[int(0.025 * paired.size)]), float(paired[int(0.975 * paired.size) - 1]))
        ci = (float(np.nanpercentile(shares[:, j], 2.5)), float(np.nanpercentile(shares[:, j], 97.5))) \
            if np.isfinite(shares[:, j]).any() else (0.0, 0.0)
        var = fit.cov[2 + j, 2 + j]  # a clustered covariance of few worlds can have a negative diagonal:
        se = math.sqrt(var) * (fit.sigma if fit.kind == "z" else 1.0) if var > 0 else math.inf  # then not judged
        out.append(Influence(r.path, float(spread[j] / total) if total > 0 else 0.0, ci,
                             r.central - (r.central - r.low) / 2, r.central + (r.high - r.central) / 2,
                             n_half if math.isfinite(n_half) else None, saving, saving_ci,
                             bool(abs(fit.params[2 + j]) > 1.96 * se)))
    return sorted(out, key=lambda i: -i.share)

