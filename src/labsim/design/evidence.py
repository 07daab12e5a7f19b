"""The size over the evidence: the minimum size at each end of an assumption's evidence range, and the
assurance, the chance of a significant result averaged over what the evidence allows (O'Hagan and
Stevens 2001).

The ranges come from the scenario's `[[assumptions]]` table and `labsim size --vary path=low:high`; the
scenario's own value is the central one. Every search shares common random numbers with the central one:
replication r runs in the world of seed key (r,) whatever the value, and batch k of every search takes the
same replications; for the assurance, replication r draws its assumption values from a generator seeded by
(seed, r), so the same r has the same values at every size. The end searches
start from what the central one learnt: a probe batch in the worlds and at the size of the central
reference batch gives the ITT at that value (paired), and N* scales as 1/ITT^2 from the central answer,
so each end needs a probe, two bracketing batches and its refinement (half the central budget at most),
not a whole search.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsim.config.errors import LabsimError
from labsim.config.assumptions import number_at, parse_span, value_at
from labsim.config.scenario import Scenario
from labsim.design.replicate import SEARCH_FIGURES, Figure
from labsim.design.size import (
    MinimumSize, Search, Simulate, SizeAnswer, SizeSearch, bracket, most_filled, most_pilots, per_size, pool_simulator,
    refine, search_bar, search_size, size_bounds, stderr_lines, widen,
)
from labsim.design.worlds import at_size

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
        if self.low == self.high:
            return self.low
        if self.distribution == "triangular":
            return float(rng.triangular(self.low, self.central, self.high))
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class SizeAtValue:
    """The minimum size with one assumption at one value (the others at their central values)."""

    path: str
    value: float
    minimum: MinimumSize | None
    status: str
    sims: int
    largest: int = 0  # the largest size its search tried, or the places the catchment fills if fewer
    places_filled: float | None = None  # not reachable because the catchment fills no more places than this
    itt: float | None = None  # the pilot's effect (ITT) with the assumption at this value: what the value means


@dataclass(frozen=True)
class AssurancePoint:
    size: int
    assurance: float
    assurance_se: float


@dataclass
class Evidence:
    """The size at each end of each range, the assurance curve and the size reaching the target."""

    by_assumption: list[SizeAtValue]
    curve: list[AssurancePoint]
    size_for_assurance: MinimumSize | None
    target: float
    sims: int
    assurance_rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        found = self.size_for_assurance
        return {
            "minimum_size_by_assumption": [
                {"path": v.path, "value": v.value, "minimum_size": v.minimum.as_size() if v.minimum else None,
                 "minimum_size_ci": v.minimum.ci() if v.minimum else None, "status": v.status,
                 "places_filled": v.places_filled, "itt": v.itt}
                for v in self.by_assumption],
            "assurance_curve": [{"size": p.size, "assurance": p.assurance, "assurance_se": p.assurance_se}
                                for p in self.curve],
            "target_assurance": self.target,
            "size_for_assurance": found.as_size() if found else None,
            "size_for_assurance_ci": found.ci() if found else None,
        }


def ranges_of(scenario: Scenario, vary: list[str]) -> list[Range]:
    """The scenario's assumptions, with `--vary path=low:high` added (replacing one of the same path)."""
    out = {a.path: Range(a.path, a.low, float(value_at(scenario, a.path)), a.high, a.distribution, a.source)
           for a in scenario.assumptions}
    for item in vary:
        try:
            path, lo, hi = parse_span(item)
            central = number_at(scenario, path)
        except ValueError:
            raise LabsimError(f"--vary {item}: write dotted.path=low:high with a numeric scenario field, "
                              "e.g. providers.effort_effect=0.3:1.0") from None
        if not lo <= central <= hi:
            raise LabsimError(f"--vary {item}: the scenario's {path} ({central!r}) must be a number "
                              f"between low and high")
        with_value(scenario, path, lo), with_value(scenario, path, hi)  # refused here if invalid
        out[path] = Range(path, lo, float(central), hi, source="--vary")
    return list(out.values())


def with_value(scenario: Scenario, path: str, value: float) -> Scenario:
    """The scenario with the field at a dotted path set (whole-number fields rounded), validated again."""
    data = scenario.model_dump()
    node = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = round(value) if isinstance(node[last], int) else float(value)
    data["assumptions"] = [a for a in data["assumptions"] if a["path"] != path]  # this world takes the value as given
    try:
        return Scenario.model_validate(data)
    except Exception as err:  # pydantic's message, on one line
        raise LabsimError(f"{path} = {value}: not a valid value ({' '.join(str(err).split())[:200]})") from None


def size_at_value(scenario: Scenario, s: SizeSearch, run: Simulate, central: SizeAnswer, r: Range,
                  value: float, say: Callable[[str], None] = lambda msg: None) -> SizeAtValue:
    """The minimum size with `r.path` at `value`: a probe batch in the central reference batch's worlds
    and size gives the ITT at this value (paired with the central one), N* scales as 1/ITT^2 from the
    central answer, then bracketing (x0.7, x1.4) and refinement."""
    low, high = size_bounds(scenario, s)
    search = Search(s, per_size(with_value(scenario, r.path, value), s.by), run, low, high,
                    max(3 * s.batch, s.budget // 2), say=say)
    ref = central.reference
    probe = search.batch_at(ref.size, f"{r.path} = {value:g}: probe")
    itt_v = float(np.mean([p["estimate"] for p in probe]))
    n0 = central.minimum.n_star if central.minimum else ref.analytic_size
    start = n0 * (ref.itt / itt_v) ** 2 if itt_v > 0 and ref.itt > 0 and math.isfinite(n0) else search.high
    bracket(search, start, (0.7, 1.4))
    widen(search)
    found = refine(search, s.power)
    if found is None or not math.isfinite(found.n_star) or found.n_star > search.ceiling():
        filled = most_filled(search.trials.frame())
        short = found is not None and math.isfinite(filled) and found.n_star > filled
        return SizeAtValue(r.path, value, None, "not_reachable", len(search.trials.rows),
                           search.clip(min(search.trials.largest(), search.ceiling())), filled if short else None,
                           itt=itt_v)
    status = "found" if found.within(s.precision) else "budget"
    return SizeAtValue(r.path, value, found, status, len(search.trials.rows), itt=itt_v)


def rejections_only(run: Simulate) -> Simulate:
    """`run` with each pilot's `z_critical` left out (NaN), so the assurance is fitted to rejections: its
    z statistics mix the values drawn over the evidence (their spread grows with the size), which the z
    fit's N(a + b sqrt(N), sigma^2) does not describe (design/power_fit.py)."""
    def probit_run(pairs: list[tuple[int, Scenario]], size: int, label: str,
                   figures: tuple[Figure, ...] = SEARCH_FIGURES) -> list[dict[str, Any]]:
        return [{**r, "z_critical": np.nan} for r in run(pairs, size, label, figures)]
    return probit_run


def assurance(scenario: Scenario, s: SizeSearch, run: Simulate, ranges: list[Range], sizes: list[float],
              target: float, say: Callable[[str], None] = lambda msg: None) -> tuple[Search, MinimumSize | None]:
    """The assurance search: replication r draws every assumption from its range (seeded by (seed, r),
    the same at every size) and runs the pilot at each size tried; bracketed at `sizes` (the minimum
    sizes found over the ranges) and refined to the target assurance like an ordinary search."""
    drawn: dict[int, Scenario] = {}

    def world(rep: int) -> Scenario:
        if rep not in drawn:
            rng = np.random.default_rng([s.seed, rep, 15])
            sc = scenario
            for r in ranges:
                sc = with_value(sc, r.path, r.draw(rng))
            drawn[rep] = sc
        return drawn[rep]

    low, high = size_bounds(scenario, s)
    search = Search(s, lambda rep, size: at_size(world(rep), s.by, size), rejections_only(run), low, high,
                    max(3 * s.batch, s.budget // 2), say=say)
    finite = sorted({search.clip(n) for n in sizes if math.isfinite(n)}) or [search.clip(high)]
    if len(finite) < 2:  # a probit needs two sizes
        finite = [search.clip(0.7 * finite[0]), search.clip(1.4 * finite[0])]
    bracket(search, 1.0, tuple(finite))
    widen(search)
    return search, refine(search, target)


def assess_evidence(scenario: Scenario, s: SizeSearch, run: Simulate, ranges: list[Range], central: SizeAnswer,
                    target: float, say: Callable[[str], None] = lambda msg: None) -> Evidence:
    """Each range's ends searched from the central answer, then the assurance over all ranges at once."""
    ends: list[SizeAtValue] = []
    for r in ranges:
        for value in (r.low, r.central, r.high):
            if value == r.central:
                why = central.unreachable
                ends.append(SizeAtValue(r.path, value, central.minimum, central.status, 0,
                                        places_filled=why.places_filled if why else None, itt=central.reference.itt))
            else:
                ends.append(size_at_value(scenario, s, run, central, r, value, say))
    # the assurance is bracketed at the sizes found, and where an end was not reachable at the largest size
    # its search tried or the places the catchment fills, if fewer (a larger target adds nobody)
    sizes = [e.minimum.n_star if e.minimum else e.largest for e in ends if e.minimum or e.largest] \
        or [central.reference.size]
    search, found = assurance(scenario, s, run, ranges, sizes, target, lambda msg: say(f"assurance: {msg}"))
    if found is not None and (not math.isfinite(found.n_star) or found.n_star > search.ceiling()):
        found = None
    curve = search.trials.curve()
    points = [AssurancePoint(int(c["size"]), float(c["power"]), float(c["power_se"])) for _, c in curve.iterrows()]
    return Evidence(ends, points, found, target, sum(e.sims for e in ends) + len(search.trials.rows),
                    search.trials.rows)


def size_over_evidence(scenario: Scenario, s: SizeSearch, ranges: list[Range], target: float,
                       progress: bool = False, run: Simulate | None = None, pool: Any = None) -> SizeAnswer:
    """The size search, and with ranges its answer over the evidence (keys added to size.json); its pilots
    on `pool` when given (else a pool of its own)."""
    s.check()
    s.progress = s.progress or progress
    if run is None:
        # one bar over the central search, half a budget for each end and half for the assurance
        total = most_pilots(s) + (s.budget // 2) * (2 * len(ranges) + 1 if ranges else 0)
        with search_bar(s, total) as (bar, say):
            with pool_simulator(s, bar, pool) as pool_run:
                return _over_evidence(scenario, s, ranges, target, pool_run, say)
    return _over_evidence(scenario, s, ranges, target, run, stderr_lines(s.progress))


def _over_evidence(scenario: Scenario, s: SizeSearch, ranges: list[Range], target: float, run: Simulate,
                   say: Callable[[str], None]) -> SizeAnswer:
    answer = search_size(scenario, s, run=run, say=say)
    if not ranges:
        return answer
    started = time.perf_counter()
    evidence = assess_evidence(scenario, s, run, ranges, answer, target, say)
    answer.extra.update(evidence.as_json())
    answer.sims_total += evidence.sims
    answer.seconds = round(answer.seconds + time.perf_counter() - started, 1)
    return answer

