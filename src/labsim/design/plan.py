"""The plan: among the bundles a planner can buy, the cheapest pilot that answers, or the best one a budget buys.

A candidate is one bundle of levers (referral rule, payment model, design, estimator, treated share) laid
over the scenario. The plan runs in three steps, so that only the candidates that can win get full searches:
1. `probe`: `probe` pilots of every candidate at the scenario's own size, run to its full length, in the
   same worlds and with the same pilot seeds (common random numbers: candidates differ by their levers,
   not by the worlds drawn). They give the control rate, the ITT, the ICC, take-up and what the buyer paid
   per participant, hence the analytic size (two proportions, design effect) and its cost (`Probe`).
2. `prune`: candidates whose analytic cost at the target exceeds the cheapest's by more than `slack`
   (or, under a budget, whose analytic power at what the budget buys falls short of the best by more than
   `slack`), or whose effect is not above zero, are set aside; the rest go on, best first.
3. the frontier's size searches, until `frontier` of them have answered (`_size_candidate`, the size
   command's own search over the evidence, with
   the roll-out overstatement): the minimum size with its interval, the fitted power curve, the
   providers' break-even, whether the area fills the places, and the cost at the size with its interval.
Every candidate's probe and search is written to the plan folder as it finishes (`PlanStore`), so a plan
interrupted and run again with --resume picks up where it stopped.

Cluster allocation follows costs: for office and area designs `cheapest_allocation` chooses the offices,
people per office and share of offices to the pilot at the least cost for the target, whose optimum is the
closed forms' (`people_per_cluster`, Raudenbush 1997; `treated_share`, Liu 2003); the treated share the
costs call for is a candidate of its own unless the planner varies it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from labsim.config.errors import LabsimError
from labsim.config.payment import PRESETS
from labsim.config.scenario import CLUSTER_DESIGNS, Randomisation, ReferralMode, Scenario
from labsim.design.evidence import ranges_of
from labsim.design.power_fit import fit_rows, fitted_power
from labsim.design.rollout import Overstatement, Rollout, RolloutSize
from labsim.design.replicate import ALL_FIGURES
from labsim.design.size import SearchSettings, Simulate, most_pilots, pool_simulator, reference
from labsim.design.size_answer import analytic_power
from labsim.design.worlds import at_size
from labsim.results.answer_file import AnswerFile
from labsim.sweep.runner import ProgressBar, executor

#: The levers a plan may vary, and the values each allows (None: a share between 0 and 1).
LEVERS: dict[str, tuple[str, ...] | None] = {
    "referral.mode": tuple(ReferralMode),
    "payment.preset": tuple(sorted(PRESETS)),
    "design.randomisation": (Randomisation.INDIVIDUAL, *CLUSTER_DESIGNS),
    "design.estimator": ("difference", "adjusted"),
    "design.treatment_share": None,
}


# -- closed forms -------------------------------------------------------------------------------------------


def people_per_cluster(cost_cluster: float, cost_person: float, icc: float) -> float:
    """Cost-optimal people per cluster, n* = sqrt((c_cluster / c_person) (1 - ICC) / ICC) (Raudenbush 1997):
    infinite when the ICC is 0 (clusters cost but add nothing)."""
    if icc <= 0 or cost_person <= 0:
        return math.inf
    return math.sqrt(cost_cluster / cost_person * (1 - icc) / icc)


def treated_share(cost_treated: float, cost_control: float) -> float:
    """Cost-optimal treated share p with p / (1 - p) = sqrt(c_control / c_treated) (Liu 2003): a treatment
    9x as costly as control gets a quarter of the units."""
    if cost_treated <= 0:
        return 0.5
    r = math.sqrt(cost_control / cost_treated)
    return r / (1 + r)


@dataclass(frozen=True)
class Allocation:
    """An office or area design's allocation: the clusters (offices) it needs, the people randomised in
    each, the share of clusters to the pilot, and what that costs."""

    clusters: int
    per_cluster: int
    share: float
    cost: float


def cheapest_allocation(icc: float, sd: float, effect: float, cost_cluster: float, cost_treated: float,
                        cost_control: float, alpha: float = 0.05, power: float = 0.8,
                        most_per_cluster: int = 5_000) -> Allocation | None:
    """The cheapest allocation that gives `power` for `effect`: people per cluster n (whole numbers up to
    `most_per_cluster`) and share p of clusters to the pilot (steps of 0.01) chosen to minimise the cost of
    the clusters J the target needs, with Var = sd^2 (ICC + (1 - ICC) / n) / (J p (1 - p)) and a pilot
    cluster costing c_cluster + n c_treated, a control one c_cluster + n c_control. Its optimum is the closed
    forms' (Raudenbush 1997 for n, Liu 2003 for p) wherever the target needs more than two clusters in each
    arm (it never takes fewer); J is then rounded up to whole clusters."""
    from scipy import stats

    if not (effect > 0 and sd > 0 and icc >= 0):
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n = np.arange(1, most_per_cluster + 1, dtype=float)[:, None]
    p = np.round(np.arange(0.05, 0.951, 0.01), 2)[None, :]
    clusters = (z * sd / effect) ** 2 * (icc + (1 - icc) / n) / (p * (1 - p))  # J, not yet whole
    clusters = np.maximum(clusters, np.maximum(2 / p, 2 / (1 - p)))  # at least two clusters in each arm
    cost = clusters * (cost_cluster + n * (p * cost_treated + (1 - p) * cost_control))
    i, j = np.unravel_index(np.argmin(cost), cost.shape)
    whole = math.ceil(clusters[i, j])
    per, share = int(n[i, 0]), float(p[0, j])
    return Allocation(whole, per, share, whole * (cost_cluster + per * (share * cost_treated + (1 - share) * cost_control)))


# -- candidates ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One bundle of levers laid over the scenario: (path, value) pairs in the order the planner named them."""

    levers: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        return ", ".join(str(v) for _, v in self.levers) or "as the scenario"

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.levers, default=str).encode()).hexdigest()[:12]


def parse_levers(vary: list[str]) -> dict[str, list[Any]]:
    """`--vary path=v1,v2,...` items as lever -> values; an unknown lever or value is one clear error."""
    out: dict[str, list[Any]] = {}
    for item in vary:
        path, eq, text = item.partition("=")
        path = path.strip()
        if not eq or path not in LEVERS:
            raise LabsimError(f"--vary {item}: the plan's levers are {', '.join(LEVERS)}, "
                              "written lever=value1,value2 (e.g. referral.mode=voluntary,mandatory)")
        values: list[Any] = [v.strip() for v in text.split(",") if v.strip()]
        allowed = LEVERS[path]
        if allowed is None:
            try:
                values = [float(v) for v in values]
            except ValueError:
                values = []
            if not values or not all(0 < v < 1 for v in values):
                raise LabsimError(f"--vary {item}: {path} takes shares between 0 and 1, exclusive, e.g. 0.3,0.5")
        elif not values or not set(values) <= set(allowed):
            raise LabsimError(f"--vary {item}: {path} takes {', '.join(allowed)}")
        out[path] = list(dict.fromkeys(values))
    return out


def candidates(levers: dict[str, list[Any]]) -> list[Candidate]:
    """Every combination of the levers' values (one candidate, the scenario itself, when none are varied)."""
    paths = list(levers)
    return [Candidate(tuple(zip(paths, combo))) for combo in itertools.product(*(levers[p] for p in paths))]


def apply(scenario: Scenario, cand: Candidate) -> Scenario:
    """The scenario with the candidate's levers set (a payment preset replaces the scenario's contract)."""
    return scenario.with_values(dict(cand.levers), f"candidate {cand.label}")


# -- settings, probes and the frontier's answers ------------------------------------------------------------


@dataclass
class PlanSettings:
    """What the planner asks: a budget (`max_cost`) or a target assurance, and how hard to search."""

    max_cost: float | None = None
    assurance: float = 0.8
    alpha: float = 0.05
    horizon: int = 26
    probe: int = 20
    batch: int = 40
    budget: int = 800
    precision: float = 0.10
    frontier: int = 3
    slack: float = 0.5
    seed: int = 1
    workers: int | None = None
    engine: str = "local"
    scheduler: str | None = None  # the Dask scheduler's address (default $DASK_SCHEDULER_ADDRESS)
    progress: bool = False

    def search(self) -> SearchSettings:
        return SearchSettings(power=self.assurance, alpha=self.alpha, horizon=self.horizon, batch=self.batch,
                          budget=self.budget, precision=self.precision, type_i_sims=self.batch, seed=self.seed,
                          workers=self.workers)

    def check(self) -> None:
        if self.max_cost is not None and not (math.isfinite(self.max_cost) and self.max_cost > 0):
            raise LabsimError(f"--max-cost must be a positive amount in euros (got {self.max_cost})")
        if not 0 < self.assurance < 1:
            raise LabsimError(f"--assurance must lie between 0 and 1, exclusive (got {self.assurance})")
        if self.probe < 5 or self.frontier < 1:
            raise LabsimError(f"--probe must be 5 or more and --frontier 1 or more (got {self.probe}, {self.frontier})")
        self.search().check()


@dataclass
class Cost:
    """How a candidate's cost grows with its size: fees per participant (simulated, with their spread over
    pilots), people randomised per participant, and the fixed costs of its offices, area and evaluation."""

    paid_per_participant: float
    paid_range: tuple[float, float]  # 2.5 and 97.5 percentiles over the probe's pilots
    people_per_participant: float
    fixed: float
    per_person: float

    def at(self, n: float, paid: float | None = None) -> float:
        """The buyer's cost of a pilot of `n` participants."""
        fee = self.paid_per_participant if paid is None else paid
        return n * (fee + self.people_per_participant * self.per_person) + self.fixed

    def size_for(self, money: float) -> float:
        """The participants `money` buys (0 if it does not cover the fixed costs)."""
        return max(0.0, (money - self.fixed) / (self.paid_per_participant + self.people_per_participant * self.per_person))


@dataclass
class Probe:
    """What the probe pilots of one candidate say: the reference (as the size search's) and the cost."""

    reference: dict[str, Any]
    cost: Cost
    offices: int
    icc: float
    take_up: float
    filled_share: float  # share of the probe's pilots that filled the scenario's places in the intake weeks
    places_reached: float  # participants they reached on average

    def can_fill(self, n: float) -> bool:
        """Whether the area's eligible can fill `n` places in the intake weeks, as far as the probe saw: the
        probe's pilots filled theirs, or `n` is no more than they reached."""
        return self.filled_share >= 0.5 or n <= self.places_reached

    def analytic_size(self) -> float:
        return float(self.reference["analytic_size"])

    def power(self, n: float, alpha: float) -> float:
        return float(analytic_power(self.reference, max(n, 1.0), alpha))


@dataclass
class CandidateSize:
    """A candidate's full search: its minimum size over the evidence and what comes with it (what the
    lead's size job returns; `_size_candidate` adapts today's functions to it)."""

    status: str
    minimum: int | None
    minimum_ci: tuple[int | None, int | None]
    places_filled: float | None
    intake_weeks_needed: float | None
    break_even_clients: float | None
    providers_viable_share: float
    overstatement: dict[str, Any]
    paid_per_participant: float | None
    curve: list[tuple[float, float]]  # (size, fitted power) over the sizes tried
    sims: int
    evidence_sizes: tuple[int | None, int | None] = (None, None)  # least and most over the evidence ranges' ends


@dataclass
class Row:
    """One candidate in the plan's table: its probe, its search (frontier only) and the figures at its size."""

    candidate: Candidate
    scenario: Scenario
    probe: Probe | None = None
    size: CandidateSize | None = None
    pruned: str = ""  # why it got no full search ("" on the frontier)

    def size_to_cost(self) -> int | None:
        """The size the plan prices: the searched minimum, else the analytic one."""
        if self.size is not None:
            return self.size.minimum
        n = self.probe.analytic_size() if self.probe else math.inf
        return math.ceil(n) if math.isfinite(n) else None

    def power_at(self, n: float, alpha: float) -> float:
        """Power (assurance) at `n` participants: the search's fitted curve, else the analytic formula."""
        if self.size is not None and len(self.size.curve) >= 2:
            return curve_power(self.size.curve, n)
        return self.probe.power(n, alpha) if self.probe else 0.0


def curve_power(curve: list[tuple[float, float]], n: float) -> float:
    """The power at `n` from a search's fitted curve, also beyond the sizes it tried: Phi(a + b sqrt(N)),
    the form of the search's own fit (design/power_fit.py), through the curve's points in the probit scale."""
    from scipy import stats

    sizes, powers = np.array(curve, float).T
    z = stats.norm.ppf(np.clip(powers, 1e-4, 1 - 1e-4))
    b, a = np.polyfit(np.sqrt(sizes), z, 1)
    return float(stats.norm.cdf(a + b * math.sqrt(max(n, 0.0))))


def probe(scenario: Scenario, s: PlanSettings, run: Simulate) -> Probe:
    """`probe` pilots at the scenario's size, run to its full length (for what the buyer paid), in the
    replications every candidate shares."""
    size = scenario.referral.target_participants
    rows = run([(rep, at_size(scenario, "participants", size)) for rep in range(s.probe)], size,
               "probe", ALL_FIGURES)
    search = s.search()
    ref = reference(rows, scenario, search, size)
    df = pd.DataFrame(rows)
    reached = df["participants"].clip(lower=1)
    paid = (df["purchaser_paid"] / reached).to_numpy(float)
    costs = scenario.costs
    cost = Cost(float(np.nanmean(paid)), (float(np.nanpercentile(paid, 2.5)), float(np.nanpercentile(paid, 97.5))),
                float((df["assigned"] / reached).mean()), costs.fixed(scenario.area.offices),
                costs.evaluation_per_person.value)
    filled = float(df["week_target_reached"].notna().mean())
    return Probe({**asdict(ref), "analytic_size_range": list(ref.analytic_size_range)}, cost,
                 scenario.area.offices, float(df["icc"].mean()) if df["icc"].notna().any() else 0.0,
                 float(df["take_up"].mean()), filled, float(df["participants"].mean()))


def _size_candidate(scenario: Scenario, s: SearchSettings, assurance: float, run: Simulate, pool: Any,
                    rollout: bool = True) -> CandidateSize:
    """A candidate's full search through the one size job (design/size_job.py), the same answer `labsim
    size` gives: over the evidence, with the roll-out overstatement (skipped with `rollout` False, for
    stub simulators that have no worlds to roll out)."""
    from labsim.design.size_job import SizeRequest, run_size

    ranges = tuple(ranges_of(scenario, []))
    request = SizeRequest(s, ranges, assurance, "itt")
    done = run_size(scenario, request, run=run, pool=pool,
                    counterfactuals=None if rollout else _no_rollout)
    a, rows = done.answer, done.rows
    minimum, ci, status = a.minimum_size, a.minimum_size_ci or [None, None], a.status
    found = a.evidence.size_for_assurance if a.evidence else None
    if ranges and found is not None:  # the assurance over the evidence decides
        minimum, ci = found.as_size(), found.ci()
    elif ranges and minimum:  # the assurance search did not settle: the central size, marked as such
        status = "budget"
    acc = rows.loc[rows["part"] == "accounts"] if "part" in rows else rows.iloc[:0]
    paid = float((acc["purchaser_paid"] / acc["participants"].clip(lower=1)).mean()) if len(acc) else None
    tried = np.array(sorted(fit_rows(rows)["size"].unique()), float)
    fitted = fitted_power(rows, tried)
    curve = [(float(n), float(p)) for n, p in zip(tried, fitted)] if fitted is not None else []
    ends = [e.minimum.as_size() for e in (a.evidence.by_assumption if a.evidence else ()) if e.minimum]
    o = a.rollout.overstatement if rollout else None
    return CandidateSize(status, minimum, (ci[0], ci[1]), a.unreachable.places_filled if a.unreachable else None,
                         a.accounts.intake_weeks_needed, a.accounts.break_even_clients,
                         a.accounts.providers_viable_share, o.as_dict() if o else {}, paid, curve, a.sims_total,
                         (min(ends), max(ends)) if ends else (None, None))


def _no_rollout(rows: pd.DataFrame, scenario: Scenario, **_: Any) -> Rollout:
    """No roll-out worlds (a stub simulator has none): an empty part, NaN effects, no size."""
    nan = math.nan
    return Rollout(Overstatement(nan, nan, nan, nan, nan, (None, None), 0),
                   RolloutSize(None, (None, None), None, None, ()), 0)


# -- the store -----------------------------------------------------------------------------------------------


class PlanStore:
    """The plan's folder as it fills: `plan-identity.json` (scenario, levers, settings) and one JSON per
    candidate's probe and search, each written whole (temporary name, then renamed); --resume reads them."""

    def __init__(self, folder: Path, identity: dict[str, Any], resume: bool) -> None:
        self.folder = folder / "candidates"
        self.folder.mkdir(parents=True, exist_ok=True)
        marker = folder / "plan-identity.json"
        text = json.dumps(identity, sort_keys=True, default=str)
        if resume and marker.exists() and marker.read_text() != text:
            raise LabsimError(f"--resume {folder}: that plan was run with another scenario, levers or settings")
        marker.write_text(text)

    def get(self, cand: Candidate, step: str) -> dict[str, Any] | None:
        path = self.folder / f"{cand.key()}-{step}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def put(self, cand: Candidate, step: str, value: dict[str, Any]) -> None:
        path = self.folder / f"{cand.key()}-{step}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, default=_plain))
        tmp.replace(path)


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, np.floating | np.integer) else str(value)


def _probe_from(d: dict[str, Any]) -> Probe:
    cost = Cost(**{**d["cost"], "paid_range": tuple(d["cost"]["paid_range"])})
    return Probe(d["reference"], cost, d["offices"], d["icc"], d["take_up"], d["filled_share"], d["places_reached"])


def _size_from(d: dict[str, Any]) -> CandidateSize:
    return CandidateSize(**{**d, "minimum_ci": tuple(d["minimum_ci"]), "curve": [tuple(p) for p in d["curve"]],
                            "evidence_sizes": tuple(d["evidence_sizes"])})


# -- the plan -----------------------------------------------------------------------------------------------


@dataclass
class PlanSearch:
    """The plan as it is worked out: every candidate with its probe (and search, on the frontier), and the
    settings they answer; `answer()` is the typed `Plan`."""

    scenario: str
    settings: PlanSettings
    rows: list[Row]
    sims: int = 0

    def priced(self) -> list[tuple[Row, int, float, tuple[float, float]]]:
        """The candidates with a size: (row, size, cost, cost interval), cheapest first. The interval
        joins the size's interval with the spread of fees per participant over pilots."""
        out = []
        for r in self.rows:
            n = r.size_to_cost()
            if n is None or r.probe is None or (r.size is not None and r.size.status == "not_reachable"):
                continue
            c = r.probe.cost
            if r.size is not None and r.size.paid_per_participant is not None:
                c = Cost(**{**asdict(c), "paid_per_participant": r.size.paid_per_participant})
            lo_n, hi_n = r.size.minimum_ci if r.size else (n, n)
            lo = c.at(lo_n or n, c.paid_range[0])
            hi = c.at(hi_n or n, c.paid_range[1])
            out.append((r, n, c.at(n), (min(lo, c.at(n)), max(hi, c.at(n)))))
        return sorted(out, key=lambda t: (t[0].size is None, t[2]))

    def best(self) -> dict[str, Any] | None:
        """The answer: the cheapest searched candidate reaching the target, or under a budget the
        candidate with the highest power at what the budget buys (and what 10 % more would add)."""
        s = self.settings
        searched = [t for t in self.priced() if t[0].size is not None]
        if s.max_cost is None:
            if not searched:
                return None
            r, n, cost, ci = searched[0]
            return {"row": r, "size": n, "cost": cost, "cost_ci": ci, "power": s.assurance}
        options = []
        for r in self.rows:
            if r.probe is None or (r.size is not None and r.size.status == "not_reachable"):
                continue
            n = r.probe.cost.size_for(s.max_cost)
            if n >= 1:
                more = r.probe.cost.size_for(1.1 * s.max_cost)
                options.append({"row": r, "size": math.floor(n), "cost": r.probe.cost.at(math.floor(n)),
                                "power": r.power_at(n, s.alpha), "power_more": r.power_at(more, s.alpha),
                                "searched": r.size is not None})
        if not options:
            return None
        return max(options, key=lambda o: (o["searched"], o["power"]))

    def answer(self) -> Plan:
        """The typed answer (plan.json): the settings, the candidate to buy and every candidate's row."""
        s, best = self.settings, self.best()
        priced = {id(t[0]): t for t in self.priced()}
        choice = None
        if best is not None:
            ci = best.get("cost_ci")
            choice = PlanChoice(best["row"].candidate.label, best["size"], best["cost"], best["power"],
                                (round(ci[0]), round(ci[1])) if ci else None, best.get("power_more"),
                                best.get("searched"))
        return Plan(self.scenario, s.max_cost, s.assurance, s.alpha, s.horizon, choice,
                    tuple(_candidate_of(r, priced.get(id(r))) for r in self.rows), self.sims)


#: plan.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.plan/1"


@dataclass(frozen=True)
class OfficeAllocation:
    """An office or area design's allocation the costs call for (`cheapest_allocation`): people per office,
    the share of offices to the pilot, the offices that makes at the candidate's size, and the offices and
    cost the formula's target needs (None where the probe gave no effect to size for)."""

    people_per_office: int | None
    offices: int | None
    share: float | None
    icc: float
    offices_for_target: int | None = None
    cost_for_target_eur: int | None = None


@dataclass(frozen=True)
class PlannedCandidate:
    """One candidate in plan.json: its levers and what they make of the scenario, whether it was searched
    (else why it was set aside: `pruned`), its sizes (analytic from the probe; searched, with interval and
    over the evidence, on the frontier), its cost with interval, the probe's figures, the search's
    volumes and break-even, the roll-out overstatement, the office allocation and the fitted power curve
    as (size, power) pairs."""

    candidate: str
    levers: dict[str, Any]
    referral_mode: str
    payment: str
    design: str
    estimator: str
    treatment_share: float
    searched: bool
    pruned: str | None
    status: str | None
    analytic_size: int | None
    minimum_size: int | None
    minimum_size_ci: tuple[int | None, int | None] | None
    size_over_evidence: tuple[int | None, int | None] | None
    cost_eur: int | None
    cost_ci_eur: tuple[int, int] | None
    paid_per_participant_eur: float | None
    fixed_eur: float | None
    itt: float | None
    control_rate: float | None
    take_up: float | None
    icc: float | None
    filled_share: float | None
    cannot_fill: bool
    places_reached: float | None
    places_filled: float | None
    intake_weeks_needed: float | None
    break_even_clients: float | None
    providers_viable_share: float | None
    overstatement: float | None
    overstatement_ci: tuple[float | None, float | None] | None
    allocation: OfficeAllocation | None
    curve: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PlanChoice:
    """The candidate to buy: the cheapest searched one reaching the target (with its cost's interval), or
    under a budget the one with the most power at what the budget buys (with the power 10 % more would
    buy, and whether it was searched)."""

    candidate: str
    size: int
    cost: float
    power: float
    cost_ci: tuple[int, int] | None = None
    power_more: float | None = None
    searched: bool | None = None


@dataclass(frozen=True)
class Plan(AnswerFile):
    """The plan's answer (plan.json): the budget or target assurance it answers, the candidate to buy (None
    when none answers) and every candidate, with the pilots simulated in all."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "plan.json"
    COMMAND: ClassVar[str] = "plan"

    scenario: str
    max_cost_eur: float | None
    target_assurance: float
    alpha: float
    horizon_weeks: int
    answer: PlanChoice | None
    candidates: tuple[PlannedCandidate, ...]
    sims_total: int



def most_plan_pilots(levers: dict[str, list[Any]], s: PlanSettings) -> int:
    """The most pilots a plan simulates besides its roll-out worlds (its progress bar's total): every
    candidate's probe (and its cost-optimal twin's, unless the share is varied), then the frontier's searches
    with their type-I check and accounts."""
    n = len(candidates(levers)) * (1 if "design.treatment_share" in levers else 2)
    return n * s.probe + min(s.frontier, n) * (most_pilots(s.search()) + 2 * s.batch)


def plan(scenario: Scenario, levers: dict[str, list[Any]], s: PlanSettings, out: Path, resume: bool = False,
         run: Simulate | None = None, on_pilot: Callable[[], None] | None = None) -> PlanSearch:
    """Probe every candidate, prune, search the frontier; each step stored in `out` as it finishes.
    `on_pilot` is called as each pilot finishes (the page's progress bar)."""
    s.check()
    if scenario.costs is None:
        raise LabsimError(f"scenario {scenario.name}: no [costs] table; labsim plan needs one (docs/plan.md)")
    cands = candidates(levers)
    identity = {"scenario": scenario.model_dump(mode="json"), "levers": levers,
                **{k: v for k, v in asdict(s).items() if k not in ("workers", "engine", "scheduler", "progress")}}
    store = PlanStore(out, identity, resume)
    with _simulator(s, most_plan_pilots(levers, s), run, on_pilot) as (sim, pool, say):
        rows = [Row(c, apply(scenario, c)) for c in cands]
        for r in rows:
            say(f"plan: probing {r.candidate.label}")
            got = store.get(r.candidate, "probe")
            r.probe = _probe_from(got) if got else probe(r.scenario, s, sim)
            if not got:
                store.put(r.candidate, "probe", asdict(r.probe))
        rows += cost_optimal_shares(scenario, rows, levers, s, sim, store)
        result = PlanSearch(scenario.name, s, rows, sims=len(rows) * s.probe)
        answered = 0
        for r in prune(result):  # best first, until `frontier` searches have answered
            if answered >= s.frontier:
                r.pruned = "beyond_frontier"
                continue
            say(f"plan: searching {r.candidate.label}")
            got = store.get(r.candidate, "size")
            r.size = _size_from(got) if got else _size_candidate(
                r.scenario, s.search(), s.assurance, sim, pool, rollout=run is None)
            if not got:
                store.put(r.candidate, "size", asdict(r.size))
            result.sims += r.size.sims
            answered += r.size.status != "not_reachable"
    return result


def cost_optimal_shares(scenario: Scenario, rows: list[Row], levers: dict[str, list[Any]], s: PlanSettings,
                        sim: Simulate, store: PlanStore) -> list[Row]:
    """Unless the planner varies the treated share: for each candidate, one more at the share its costs call
    for (Liu 2003: a treated person costs the fees and the register data, a control only the data), where it
    differs from the scenario's by 0.05 or more; probed like the others."""
    if "design.treatment_share" in levers:
        return []
    extra = []
    for r in list(rows):
        c = r.probe.cost
        share = r.scenario.design.treatment_share
        per_treated = c.paid_per_participant / max(c.people_per_participant * share, 1e-9)  # fees over the pilot arm
        p = round(treated_share(per_treated + c.per_person, c.per_person), 2)
        p = min(max(p, 0.05), 0.95)
        if abs(p - r.scenario.design.treatment_share) < 0.05:
            continue
        cand = Candidate(r.candidate.levers + (("design.treatment_share", p),))
        try:
            new = Row(cand, apply(scenario, cand))
        except LabsimError:  # e.g. too few offices in an arm at this share
            continue
        got = store.get(cand, "probe")
        new.probe = _probe_from(got) if got else probe(new.scenario, s, sim)
        if not got:
            store.put(cand, "probe", asdict(new.probe))
        extra.append(new)
    return extra


def prune(p: PlanSearch) -> list[Row]:
    """The frontier's candidates, best first: those whose analytic figures put them within `slack` of the
    best (cost at the target, or power at what the budget buys); the others say why not."""
    s = p.settings
    score: dict[int, float] = {}
    for i, r in enumerate(p.rows):
        if not r.probe.reference["itt"] > 0:
            r.pruned = "no_effect"
        elif s.max_cost is None:
            n = r.probe.analytic_size()
            score[i] = r.probe.cost.at(n) if math.isfinite(n) else math.inf
        else:
            score[i] = -r.probe.power(r.probe.cost.size_for(s.max_cost), s.alpha)
    finite = [v for v in score.values() if math.isfinite(v)]
    if not finite:
        return []
    best = min(finite)
    keep = [i for i, v in sorted(score.items(), key=lambda t: t[1])
            if (v <= best * (1 + s.slack) if s.max_cost is None else v <= best + s.slack)]
    for i in score:
        if i not in keep:
            p.rows[i].pruned = "dominated"
    return [p.rows[i] for i in keep]


@contextmanager
def _simulator(s: PlanSettings, total: int, run: Simulate | None, on_pilot: Callable[[], None] | None = None
               ) -> Iterator[tuple[Simulate, Any, Callable[[str], None]]]:
    """The pilots' simulator with one progress bar (time left) over the whole plan, on the engine asked;
    `on_pilot` called for each pilot it returns."""
    from labsim.design.size_job import counted

    if run is not None:
        yield counted(run, on_pilot), None, lambda msg: None
        return
    bar = ProgressBar(total, "plan", enabled=s.progress) if s.progress else None
    say = bar.status if bar else (lambda msg: None)
    search = s.search()
    try:
        with executor(s.engine, s.workers, s.scheduler) as pool, pool_simulator(search, bar, pool) as sim:
            yield counted(sim, on_pilot), pool, say
        if bar is not None:
            bar.finish()
    finally:
        if bar is not None:
            bar.close()


def _candidate_of(r: Row, priced: tuple[Row, int, float, tuple[float, float]] | None) -> PlannedCandidate:
    """One candidate's row of plan.json: its levers, its probe's figures, and its search's on the frontier."""
    probe, size = r.probe, r.size
    ref = probe.reference if probe else {}
    analytic = probe.analytic_size() if probe else math.inf
    o = size.overstatement if size else {}
    return PlannedCandidate(
        candidate=r.candidate.label, levers=dict(r.candidate.levers), referral_mode=r.scenario.referral.mode,
        payment=r.scenario.payment.preset, design=r.scenario.design.randomisation,
        estimator=r.scenario.design.estimator, treatment_share=r.scenario.design.treatment_share,
        searched=size is not None, pruned=r.pruned or None, status=size.status if size else None,
        analytic_size=math.ceil(analytic) if math.isfinite(analytic) else None,
        minimum_size=size.minimum if size else None, minimum_size_ci=size.minimum_ci if size else None,
        size_over_evidence=size.evidence_sizes if size else None,
        cost_eur=round(priced[2]) if priced else None,
        cost_ci_eur=(round(priced[3][0]), round(priced[3][1])) if priced else None,
        paid_per_participant_eur=probe.cost.paid_per_participant if probe else None,
        fixed_eur=probe.cost.fixed if probe else None, itt=ref.get("itt"), control_rate=ref.get("control_rate"),
        take_up=probe.take_up if probe else None, icc=probe.icc if probe else None,
        filled_share=probe.filled_share if probe else None,
        cannot_fill=size is None and probe is not None and math.isfinite(analytic) and not probe.can_fill(analytic),
        places_reached=probe.places_reached if probe else None,
        places_filled=size.places_filled if size else None,
        intake_weeks_needed=size.intake_weeks_needed if size else None,
        break_even_clients=size.break_even_clients if size else None,
        providers_viable_share=size.providers_viable_share if size else None,
        overstatement=o.get("ratio") if size else None,
        overstatement_ci=tuple(o["ratio_ci"]) if size and o.get("ratio_ci") is not None else None,
        allocation=allocation(r), curve=tuple(size.curve) if size else ())


def allocation(r: Row) -> OfficeAllocation | None:
    """For an office or area design, the allocation the costs call for (`cheapest_allocation`), at the ICC,
    control rate and effect the probe measured: people per office, the share of offices to the pilot, the
    offices that makes at the candidate's size, and the offices and cost the formula's target needs. A
    person in a pilot office costs the fees and the register data, one in a control office the data, and
    each office `costs.per_office`."""
    if r.probe is None or r.scenario.design.randomisation not in CLUSTER_DESIGNS or r.scenario.costs is None:
        return None
    c, ref = r.probe.cost, r.probe.reference
    fee = c.paid_per_participant / max(c.people_per_participant * r.scenario.design.treatment_share, 1e-9)
    rate = float(ref.get("control_rate") or 0.0)
    a = cheapest_allocation(r.probe.icc, math.sqrt(rate * (1 - rate)), float(ref.get("itt") or 0.0),
                            r.scenario.costs.per_office.value, fee + c.per_person, c.per_person)
    if a is None:
        return OfficeAllocation(None, None, None, r.probe.icc)
    size = r.size_to_cost()  # the offices at the candidate's size, else those the formula's target needs
    offices = math.ceil(size * c.people_per_participant / a.per_cluster) if size else a.clusters
    return OfficeAllocation(a.per_cluster, offices, a.share, r.probe.icc, a.clusters, round(a.cost))
