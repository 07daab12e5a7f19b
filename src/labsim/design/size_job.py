"""The one size job: `labsim size`, the page's quick answer and the report all ask it, and all read the
one typed answer it returns.

`run_size(scenario, request)` runs the central search (design/size.py), the evidence over the scenario's
assumption ranges (design/evidence.py: the size at each end and the assurance), the roll-out worlds
(design/rollout.py: the overstatement and the size to detect the roll-out effect), and reads the type-I
check and the accounts batch at N*. It returns a `SizeAnswer`, frozen, its parts frozen objects of their
own, and every simulated pilot (`SizeRun.rows`). A caller may ask for lower precision (the page does:
smaller batches and budget, a wider stated interval), never for less of the answer: every part is always
computed, and the answer states the precision it was asked and reached.

The answer's classes live in design/size_answer.py, apart from the search, so that reading a size folder
imports none of it. `SizeAnswer.to_json()` is size.json; `SizeAnswer.from_json()` reads it back, refusing a
file of another format with one clear line (docs/formats.md publishes the format). `SizeAnswer.verdict()` says whether the
places planned are enough, green only when the answer at its stated precision and across the evidence
says so, and otherwise what stands in the way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from labsim.config.errors import LabsimError
from labsim.config.scenario import Design, Scenario, parse_scenario
from labsim.design.evidence import Range, assess_evidence
from labsim.design.pilot_cache import PILOT, PilotCache, search_key
from labsim.design.replicate import shorter_horizons
from labsim.design.rollout import ESTIMANDS, rollout_part
from labsim.design.size import (
    CentralSearch, Simulate, SearchSettings, most_pilots, pool_simulator, search_bar, search_size, settle_central,
    size_bounds, stderr_lines,
)
from labsim.design.size_answer import Accounts, Evidence, Question, Rollout, SizeAnswer, SizeAtValue
from labsim.design.worlds import at_size, size_of
from labsim.results.inference import TEST_OF, reachable_offices, smallest_p
from labsim.results.pilot import ESTIMATORS

@dataclass(frozen=True)
class SizeRequest:
    """What the planner asks: the search's settings, the evidence ranges, the target assurance (default
    the target power) and the estimand the headline sizes for (`itt`, the pilot's own estimate, or
    `rollout`, the effect a full roll-out would have)."""

    search: SearchSettings
    ranges: tuple[Range, ...] = ()
    assurance: float | None = None
    estimand: str = "itt"

    def check(self) -> None:
        self.search.check()
        if not 0 < self.target_assurance < 1:
            raise LabsimError(f"--assurance must lie between 0 and 1, exclusive (got {self.target_assurance})")
        if self.estimand not in ESTIMANDS:
            raise LabsimError(f"--estimand must be one of {', '.join(ESTIMANDS)} (got {self.estimand!r})")

    @property
    def target_assurance(self) -> float:
        return self.search.power if self.assurance is None else self.assurance


@dataclass(frozen=True)
class SizeRun:
    """The answer and every simulated pilot behind it (replications.parquet)."""

    answer: SizeAnswer
    rows: pd.DataFrame


# -- the job ----------------------------------------------------------------------------------------------


def admissible(scenario: Scenario, design: str, source: str, alpha: float = 0.05) -> tuple[Scenario, str]:
    """The scenario under a cluster `design` with offices as the lever: as it is when its offices give
    every arm two and the design's randomisation test can reach significance at `alpha`, else its area
    grown (as `--by offices` grows it) to the fewest offices that do, with a sentence saying so. The search
    then starts there instead of refusing the question."""
    data = scenario.model_dump()
    data["design"]["randomisation"] = design
    wanted, offices = Design.model_validate(data["design"]), scenario.area.offices

    def ok(g: int) -> bool:
        return wanted.clusters_ok(g) and reachable_offices(wanted, g, alpha, refuse=False)

    if ok(offices):
        return parse_scenario(data, source), ""
    low = next(g for g in range(2, 10_000) if ok(g))
    grown = at_size(scenario, "offices", low).model_dump()
    grown["design"]["randomisation"] = design
    treated = wanted.offices_per_arm(low)[0]
    note = (f"the search starts at {low} offices ({treated} in the pilot arm): with the scenario's {offices} the "
            f"{design} design's randomisation test cannot give a p-value below {alpha:g} whatever the effect "
            f"(smallest attainable p {smallest_p(design, offices, wanted.offices_per_arm(offices)[0]):.3g}; "
            f"with {low}: {smallest_p(design, low, treated):.3g})")
    return parse_scenario(grown, source), note


def search_pilots(request: SizeRequest) -> int:
    """The most pilots the job's searches simulate (its progress bar's total): the central search, and
    the joint search over the evidence (half a budget, at least three batches, however many ranges, and
    what the central search leaves of its own, which the joint search spends for it), and the three
    batches the central search may still refine alone if its pilots and the joint ones disagree
    (`settle_central`). The roll-out worlds come on top (`rollout_worlds`)."""
    s, ranges = request.search, request.ranges
    return most_pilots(s) + (max(3 * s.batch, s.budget // 2) + 3 * s.batch if ranges else 0)


def rollout_worlds(s: SearchSettings) -> int:
    """The roll-out's world runs: a no-pilot and a roll-out run for each of the reference batch's worlds."""
    return 2 * s.batch


def run_size(scenario: Scenario, request: SizeRequest, *, run: Simulate | None = None, pool: Any = None,
             start: str = "", counterfactuals: Callable[..., Rollout] | None = None,
             on_pilot: Callable[[], None] | None = None, cache: PilotCache | None = None) -> SizeRun:
    """The whole answer: central search, evidence, roll-out, type-I check and accounts (on `run` if given,
    else real pilots on `pool` or a pool of its own). `start` is the note `admissible` gave, if any;
    `on_pilot` is called as each search pilot finishes (the page's progress bar); `counterfactuals` runs
    the roll-out worlds (default `rollout_part`; tests pass a stub); `cache` keeps the pilots for the next
    answer and hands this one those it already has (design/pilot_cache.py: the page)."""
    request.check()
    counterfactuals = counterfactuals or rollout_part
    s = request.search
    size_bounds(scenario, s)  # refuses a --max-size below the smallest admissible size before any work
    if run is not None:
        return _run(scenario, request, _kept(counted(run, on_pilot), cache, s), stderr_lines(s.progress), pool,
                    start, counterfactuals, cache)
    with s.pool() if pool is None else nullcontext(pool) as pool:
        with search_bar(s, search_pilots(request)) as (bar, say):
            # with a cache (the page) every pilot runs to the longest horizon and reads itself under each
            # estimator and at each shorter horizon, so that switching the estimator or moving the horizon
            # re-reads the pilots kept; `labsim size` pays nothing for it
            ran_to = s.horizon if cache is None else cache.run_to(s.horizon)
            simulator = pool_simulator(s, bar, pool) if cache is None else \
                pool_simulator(replace(s, horizon=ran_to), bar, pool, ESTIMATORS, shorter_horizons(ran_to))
            with simulator as pool_run:
                return _run(scenario, request, _kept(counted(pool_run, on_pilot), cache, s, ran_to), say, pool,
                            start, counterfactuals, cache)


def _kept(run: Simulate, cache: PilotCache | None, s: SearchSettings, ran_to: int | None = None) -> Simulate:
    """`run`, or with a cache the cache's wrap of it (its pilots run to `ran_to`, read at the horizon)."""
    return run if cache is None else cache.wrap(run, horizon=s.horizon, alpha=s.alpha, seed=s.seed, ran_to=ran_to)


def counted(run: Simulate, on_pilot: Callable[[], None] | None) -> Simulate:
    """`run`, calling `on_pilot` once for each pilot it returns (itself when there is nothing to call)."""
    if on_pilot is None:
        return run

    def each(pairs, size, label, *figures):
        rows = run(pairs, size, label, *figures)
        for _ in rows:
            on_pilot()
        return rows
    return each


def _run(scenario: Scenario, request: SizeRequest, run: Simulate, say: Callable[[str], None], pool: Any,
         start: str, counterfactuals: Callable[..., Rollout], cache: PilotCache | None = None) -> SizeRun:
    s = request.search
    started = time.perf_counter()
    if start:
        say(start)
    central_key = search_key("central", scenario, s.by, s.seed, s.batch)
    reading = scenario.design.estimator
    # with evidence ranges the central search stops before refining: the joint search refines the central
    # N* and the assurance together, every pilot in the one fit (design/evidence.py)
    central = search_size(scenario, s, run=run, say=say, settle=not request.ranges,
                          prior=cache.prior(central_key, s.alpha, reading, s.horizon) if cache else None)
    evidence = None
    if request.ranges:
        joint_key = search_key("joint", scenario, s.by, s.seed, s.batch, request.ranges)
        ev = assess_evidence(scenario, s, run, list(request.ranges), central, request.target_assurance, say,
                             cache.prior(joint_key, s.alpha, reading, s.horizon) if cache else None,
                             centre=central.minimum is not None)
        if cache is not None:
            cache.keep(joint_key, ev.assurance_rows)
        central = settle_central(scenario, central, run, say, ev.centre)
        top = ev.dominant()
        evidence = Evidence(tuple(settled_ends(ev.by_assumption, request.ranges, central)), tuple(ev.curve), ev.target,
                            ev.size_for_assurance, ev.sims, ev.fit, tuple(ev.influence), top.path if top else None)
    if cache is not None:
        cache.keep(central_key, central.rows.to_dict("records"))  # the accounts batch too: it is in the fit
    say(f"roll-out: the reference batch's {s.batch} worlds with no pilot and rolled out")
    rollout = counterfactuals(central.rows, scenario, base=central.reference.size, power=s.power, alpha=s.alpha,
                              horizon=s.horizon, seed=s.seed, workers=s.workers, by=s.by, progress=s.progress, pool=pool,
                              cache=cache)
    question = Question(scenario.name, s.by, s.power, s.alpha, s.horizon, s.precision, s.batch, s.budget,
                        s.type_i_sims, s.seed, scenario.design.randomisation, scenario.referral.mode, request.estimand,
                        request.target_assurance, size_of(scenario, s.by), start,
                        TEST_OF[scenario.design.randomisation])
    answer = SizeAnswer(
        question, central.status, central.message, central.fit, central.minimum, central.reference, central.analytic,
        central.power_curve, central.unreachable, central.type_i, accounts(central, scenario), evidence, rollout,
        central.sims + (evidence.sims if evidence else 0) + rollout.sims,
        round(time.perf_counter() - started, 1), central.curve)
    return SizeRun(answer, central.rows.drop(columns=PILOT, errors="ignore"))


def settled_ends(ends: list[SizeAtValue], ranges: tuple[Range, ...], central: CentralSearch) -> list[SizeAtValue]:
    """Each range's ends, the one at the scenario's own value being the central answer as settled."""
    value = {r.path: r.central for r in ranges}
    return [replace(e, minimum=central.minimum, status=central.status) if e.value == value[e.path] else e
            for e in ends]


def accounts(central: CentralSearch, scenario: Scenario) -> Accounts:
    """What the planner needs at N*: eligible to randomise, intake weeks, costs and providers' break-even,
    from the accounts batch at N* (without a minimum size: intake figures at the largest size tried)."""
    rows, s = central.rows, central.settings
    at = rows.loc[rows["part"] == "accounts"]
    if at.empty:
        at = rows.loc[rows["size"] == rows["size"].max()]
    near = int(at["size"].iloc[0])
    n_star = central.minimum.as_size() if central.minimum else None
    eligible = float(at["assigned"].mean()) / near * n_star if n_star else None
    filled = float(at["week_target_reached"].notna().mean()) if "week_target_reached" in at else 0.0
    weeks = None
    if n_star and s.by == "participants" and filled > 0.5:
        spent = (at["week_target_reached"] - scenario.referral.start_week + 1).mean()
        weeks = float(spent / near * n_star)
    elif n_star and s.by == "intake-weeks":
        weeks = float(n_star)
    people = float(at["participants"].mean())
    paid = _mean(at, "purchaser_paid")
    return Accounts(near, int(len(at)), round(eligible) if eligible else None, round(weeks, 1) if weeks else None,
                    filled, people, _mean(at, "break_even_clients"), _mean(at, "providers_viable"), paid,
                    paid / people if paid is not None and people else None, _mean(at, "cost_per_extra_job"))


def _mean(rows: pd.DataFrame, column: str) -> float | None:
    """The mean of a column over the pilots that have it (None where none does)."""
    if column not in rows or not rows[column].notna().any():
        return None
    return float(rows[column].mean())

