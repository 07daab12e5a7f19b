"""A run's results: the weekly series, everyone eligible's outcomes, and the headline summary.

Kept apart from the model (scikit-learn style): a `RunResult` is plain data that can be saved,
compared and summarised without the world that made it. Its summary is a frozen `RunSummary` whose
parts are objects of their own (`Participants`, `Effect`, `ProviderBooks`, ...); `RunSummary.to_json()`
is summary.json (docs/formats.md, schema `labsim.summary/1`), `RunSummary.from_json()` reads it back and
refuses another format in one line, and `RunSummary.flat()` is the one row of a sweep's results.parquet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from labsim.results.answer_file import AnswerFile, plain
from labsim.results.inference import Assignment, design_effect, saturation_spillover
from labsim.results.moments import run_moments
from labsim.world.history import outcomes_after, sustained_job_within
from labsim.config.choices import TERMS
from labsim.config.states import (
    AGE_GROUPS,
    EDUCATION_LEVELS,
    STATE_NAMES,
    WORK_FORMS,
    WORK_STATES,
    is_employed,
)
from labsim.world.accounts import break_even_clients
from labsim.world.record import RunRecord

HORIZONS = (13, 26, 52)
#: summary.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.summary/1"


@dataclass(frozen=True)
class Participants:
    """Places filled against the target, and the week the target was reached (None if never)."""

    reached: int
    target: int
    share_of_target: float
    week_target_reached: int | None


@dataclass(frozen=True)
class Arms:
    """How many were assigned to each arm (the pilot's own cohorts)."""

    pilot: int
    control: int


@dataclass(frozen=True)
class Effect:
    """Pilot and control means of an outcome in the pilot's own cohorts (None where an arm has nobody
    observed), and the design's estimate of the effect with its SE, 95 % interval and p-value by the
    design's test (None where undefined; an end the test cannot reach is None too)."""

    pilot: float | None
    n_pilot: int
    control: float | None
    n_control: int
    difference: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_value_mc_se: float | None
    clusters: int | None
    test: str | None  # the design's test (hc2 or randomisation); None where the outcome is not tested


@dataclass(frozen=True)
class Spillover:
    """A saturation design's spillover on the untreated at one horizon: the slope of the control arm's
    outcome on its market's treated share, its spread over the test's re-draws, and the randomisation
    test's p-value (with its Monte Carlo error) over the markets."""

    estimate: float | None
    se: float | None
    p_value: float | None
    p_value_mc_se: float | None
    markets: int | None
    test: str | None


@dataclass(frozen=True)
class UnemploymentStock:
    """The unemployed in the area in the first and the last week."""

    week_0: int
    last_week: int


@dataclass(frozen=True)
class ProviderBooks:
    """One provider's books over the run: clients, placements, revenue by payment term, costs, profit, the
    clients it would need to break even (None if no number does) and whether it left the market."""

    provider: int
    clients: int
    client_weeks: int
    placements: int
    revenue_eur: float
    revenue_by_term_eur: dict[str, float]
    cost_eur: float
    setup_cost_eur: float
    profit_eur: float
    break_even_clients: float | None
    exited: bool


@dataclass(frozen=True)
class RunSummary(AnswerFile):
    """The headline figures of a run (summary.json): the pilot's size, its effects at each horizon, the
    placements, the accounts and the world's moments."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "summary.json"
    COMMAND: ClassVar[str] = "run"

    scenario: str
    weeks: int
    job_seekers: int
    referral_mode: str
    design: str
    estimator: str
    inference_seed: int
    participants: Participants
    assigned: Arms
    take_up_rate: float | None
    employment_rate: dict[str, Effect]  # by horizon: "13w", "26w", "52w"
    weeks_employed_52w: Effect
    job_outcome_52w: Effect
    placements_by_form: dict[str, int]
    unemployment_stock: UnemploymentStock
    employment_share_last_week: float | None
    purchaser_paid_eur: dict[str, float]  # "total", then each payment term
    cost_per_participant_eur: float | None
    cost_per_placement_eur: float | None
    providers: tuple[ProviderBooks, ...]
    effort_by_employability_quintile: tuple[float | None, ...]
    moments: dict[str, float | None]
    spillover: dict[str, Spillover] | None = None  # saturation designs: the untreated by share, by horizon


    def flat(self) -> dict[str, Any]:
        """The summary as one flat row (`flat_summary`): a sweep's results.parquet columns (a design
        without a spillover test has no spillover columns)."""
        row = plain(self)
        if row["spillover"] is None:
            del row["spillover"]
        return flat_summary(row)

    def effect_at(self, horizon: int) -> Effect | None:
        """The employment effect `horizon` weeks after assignment (None if the run did not observe it)."""
        return self.employment_rate.get(f"{horizon}w")


@dataclass(frozen=True)
class ReplicationSummary:
    """What one replication of a diagnosis or size search summarises: the run's length, design,
    participants and accounts (as a `RunSummary` gives them)."""

    weeks: int
    design: str
    estimator: str
    participants: Participants
    purchaser_paid_eur: dict[str, float]
    cost_per_participant_eur: float | None
    cost_per_placement_eur: float | None
    providers: tuple[ProviderBooks, ...]


@dataclass
class RunResult:
    """Outputs of one simulated pilot."""

    weekly: pd.DataFrame
    individuals: pd.DataFrame
    employment_by_week: pd.DataFrame
    summary: RunSummary | ReplicationSummary
    #: how the arms were drawn, for the design's test (None for a run read back from its folder)
    assignment: Assignment | None = None

    @classmethod
    def from_record(cls, record: RunRecord) -> RunResult:
        weekly = record.weekly.copy()
        weekly["week"] = weekly["week"].astype(int)
        start = record.people["assigned_week"].astype(np.int64)
        individuals = individual_outcomes(record, start)
        curve = employment_by_week(record.timeline, start, record.people["arm"])
        return cls(weekly, individuals, curve, summarise(record, weekly, individuals), assignment_of(record))


def results_of(model) -> RunResult:
    """The results of a model run so far (a shorthand for `RunResult.from_record(model.record())`)."""
    return RunResult.from_record(model.record())


def replication_result(record: RunRecord) -> RunResult:
    """What one replication of a diagnosis or size search reads: everyone eligible's outcomes and a summary
    of the run's length, design, participants and accounts (as `summarise` gives them), without the
    headline differences, moments and weekly employment curve that only a run's own folder shows (a fifth
    of a size-search pilot's time)."""
    start = record.people["assigned_week"].astype(np.int64)
    summary = ReplicationSummary(int(record.weeks), record.scenario.design.randomisation,
                                 record.scenario.design.estimator, participants(record), **accounts_summary(record))
    return RunResult(record.weekly, individual_outcomes(record, start), pd.DataFrame(), summary,
                     assignment_of(record))


def assignment_of(record: RunRecord) -> Assignment:
    """How the run's arms were drawn, and the seed of its analysis' draws (labsim.results.inference)."""
    return Assignment.of(record.scenario, record.inference_seed)


def employment_by_week(
    timeline: np.ndarray, start: np.ndarray, arm: np.ndarray, weeks: int = max(HORIZONS)
) -> pd.DataFrame:
    """Share employed k = 0..weeks weeks after assignment, by arm, among those observed at k."""
    k = np.arange(weeks + 1)
    col = start[:, None] + k[None, :]
    seen = col < timeline.shape[1]
    employed = is_employed(timeline[np.arange(start.size)[:, None], np.minimum(col, timeline.shape[1] - 1)])
    rows = []
    for code, name in ((1, "pilot"), (0, "control")):
        mine = arm == code
        n = seen[mine].sum(axis=0)
        share = np.divide((employed & seen)[mine].sum(axis=0), n, out=np.full(k.size, np.nan), where=n > 0)
        rows.append(pd.DataFrame({"weeks_since_assignment": k, "arm": name, "share_employed": share, "n": n}))
    return pd.concat(rows, ignore_index=True)


def individual_outcomes(record: RunRecord, start: np.ndarray) -> pd.DataFrame:
    """One row per seeker ever assigned to the pilot or control arm, with outcomes after assignment."""
    p, timeline = record.people, record.timeline
    out = outcomes_after(timeline, start, HORIZONS)
    out.update(counted_employment(record, start))
    sectors = [sec.name for sec in record.scenario.market.sectors]
    first_form = np.full(record.person.size, "", dtype=object)
    seen = out["first_job_seen"]
    if seen.any():
        week = start[seen] + out["weeks_to_first_job"][seen].astype(np.int64)
        codes = timeline[np.flatnonzero(seen), week]
        first_form[seen] = np.array(STATE_NAMES, dtype=object)[codes]
    df = pd.DataFrame(
        {
            "person": record.person,
            "office": p["office"],
            "sector": pd.Categorical.from_codes(p["sector"], sectors),
            "age_group": pd.Categorical.from_codes(p["age_group"], AGE_GROUPS),
            "education": pd.Categorical.from_codes(p["education"], EDUCATION_LEVELS),
            "motivation": p["motivation"],
            "employability_at_assignment": p["assigned_employability"],
            "weeks_unemployed_at_assignment": p["assigned_duration"],
            "arm": pd.Categorical.from_codes(p["arm"], ["control", "pilot"]),
            "assigned_week": p["assigned_week"],
            "offered": p["offer_week"] >= 0,
            "accepted": p["accepted"],
            "recruited_by_provider": p["recruited"],
            "took_up": p["start_week"] >= 0,
            "start_week": p["start_week"],
            "no_show": p["no_show"],
            "before_pilot": p["before_pilot"],
            "provider": p["served_by"],
            **{k: v for k, v in out.items()},
            "first_job_form": first_form,
        }
    )
    return df


def counted_employment(record: RunRecord, start: np.ndarray) -> dict[str, np.ndarray]:
    """`employed_counted_<h>w`: in a form of work the contract pays an outcome fee for (its
    `payment.outcome.forms` weight above 0), h weeks after assignment (NaN when the run ended first);
    `job_outcome_52w`: the contract's job outcome (`payment.outcome.after_weeks` consecutive weeks in
    such work) reached within 52 weeks of assignment."""
    forms = record.scenario.payment.outcome.forms
    counted = np.array([int(WORK_STATES[i]) for i, f in enumerate(WORK_FORMS) if forms.get(f, 0.0) > 0])
    rows, weeks = np.arange(start.size), record.timeline.shape[1]
    out = {}
    for h in HORIZONS:
        at, ok = start + h, start + h < weeks
        value = np.full(start.size, np.nan)
        value[ok] = np.isin(record.timeline[rows[ok], at[ok]], counted)
        out[f"employed_counted_{h}w"] = value
    is_counted = np.isin(record.timeline, counted)
    out["job_outcome_52w"] = sustained_job_within(is_counted, start, record.scenario.payment.outcome.after_weeks)
    return out


def difference(df: pd.DataFrame, column: str, assignment: Assignment, alpha: float = 0.05) -> Effect:
    """Pilot and control means of an outcome in the pilot's own cohorts, and the design's estimate of the
    effect (`difference`: the ITT; for an area design the difference in differences, for a saturation
    design the ITT inside markets with both arms) with its standard error, 95 % interval and p-value by
    the design's test (`labsim.results.inference.design_effect`, the same as every other output's;
    the estimand: docs/estimand.md). `df` holds everyone assigned, "before" cohorts included."""
    res: dict[str, Any] = {}
    own = df.loc[~df["before_pilot"]]
    for arm in ("pilot", "control"):
        x = own.loc[own["arm"] == arm, column].dropna().to_numpy(float)
        res[arm] = _num(x.mean()) if x.size else None
        res[f"n_{arm}"] = int(x.size)
    e = design_effect(df, column, assignment, alpha)
    res["difference"] = _num(e.estimate)
    for key in ("se", "ci_low", "ci_high", "p_value", "p_value_mc_se"):
        res[key] = _num(getattr(e, key))
    res["clusters"] = e.clusters
    res["test"] = e.test
    return Effect(**res)


def spillover(df: pd.DataFrame, column: str, assignment: Assignment) -> Spillover:
    """A saturation design's spillover on the untreated (`estimate`: the slope of the control arm's
    outcome on its market's treated share; `se`: its spread over the test's re-draws) and the p-value of
    its randomisation test (`labsim.results.inference.saturation_spillover`)."""
    e = saturation_spillover(df, column, assignment)
    return Spillover(_num(e.estimate), _num(e.se), _num(e.p_value), _num(e.p_value_mc_se), e.clusters, e.test)


def summarise(record: RunRecord, weekly: pd.DataFrame, ind: pd.DataFrame) -> RunSummary:
    """Headline figures of a run (what `summary.json` holds)."""
    cfg = record.scenario
    a = assignment_of(record)
    everyone, ind = ind, ind.loc[~ind["before_pilot"]]  # an area design's "before" cohorts are not in the pilot
    pilot = ind["arm"] == "pilot"
    return RunSummary(
        scenario=cfg.name,
        weeks=int(record.weeks),
        job_seekers=int(record.job_seekers),
        referral_mode=cfg.referral.mode,
        design=cfg.design.randomisation,
        estimator=cfg.design.estimator,
        inference_seed=a.seed,
        participants=participants(record),
        assigned=Arms(int(pilot.sum()), int((~pilot).sum())),
        take_up_rate=_num(ind.loc[pilot, "took_up"].mean()) if pilot.any() else None,
        employment_rate={f"{h}w": difference(everyone, f"employed_{h}w", a) for h in HORIZONS},
        spillover=({f"{h}w": spillover(everyone, f"employed_{h}w", a) for h in HORIZONS}
                   if a.design == "saturation" else None),
        weeks_employed_52w=difference(everyone, "weeks_employed_52w", a),
        job_outcome_52w=difference(everyone, "job_outcome_52w", a),
        placements_by_form={f: int(weekly[f"placements_{f}"].sum()) for f in WORK_FORMS},
        unemployment_stock=UnemploymentStock(int(weekly["stock_unemployed"].iloc[0]),
                                             int(weekly["stock_unemployed"].iloc[-1])),
        employment_share_last_week=_num(record.employed_share_last_week),
        **accounts_summary(record),
        effort_by_employability_quintile=effort_by_quintile(record),
        moments={k: _num(v) for k, v in run_moments(record).as_dict().items()},
    )


def participants(record: RunRecord) -> Participants:
    """Places filled against the target, and the week the target was reached (None if never)."""
    reached, target = record.participants_reached, record.participants_target
    return Participants(int(reached), int(target), round(reached / target, 4), record.week_target_reached)


def accounts_summary(record: RunRecord) -> dict[str, Any]:
    """What the purchaser paid by term, cost per participant and placement, and each provider's books
    (the summary's fields of those names)."""
    paid = sum(record.purchaser_paid.values())
    placements = int(record.provider_placements.sum())
    served_by, client_weeks = record.clients["served_by"], record.clients["client_weeks"]
    clients_of = np.bincount(served_by, minlength=record.provider_active.size)
    weeks_of = np.bincount(served_by, weights=client_weeks, minlength=record.provider_active.size)
    cost = record.provider_running_cost + record.provider_setup_cost
    providers = []
    for k in range(record.provider_active.size):
        clients = int(clients_of[k])
        revenue = record.provider_revenue[k]
        per_client = (revenue.sum() / clients, record.provider_running_cost[k] / clients) if clients else (0, 0)
        even = break_even_clients(record.provider_setup_cost[k], *per_client)
        providers.append(ProviderBooks(
            provider=k,
            clients=clients,
            client_weeks=int(weeks_of[k]),
            placements=int(record.provider_placements[k]),
            revenue_eur=round(float(revenue.sum()), 2),
            revenue_by_term_eur={t: round(float(v), 2) for t, v in zip(TERMS, revenue)},
            cost_eur=round(float(cost[k]), 2),
            setup_cost_eur=round(float(record.provider_setup_cost[k]), 2),
            profit_eur=round(float(revenue.sum() - cost[k]), 2),
            break_even_clients=None if math.isinf(even) else round(float(even), 1),
            exited=not bool(record.provider_active[k]),
        ))
    started = record.participants_reached
    return {
        "purchaser_paid_eur": {
            "total": round(paid, 2),
            **{k: round(v, 2) for k, v in record.purchaser_paid.items()},
        },
        "cost_per_participant_eur": _num(paid / started) if started else None,
        "cost_per_placement_eur": _num(paid / placements) if placements else None,
        "providers": tuple(providers),
    }


def effort_by_quintile(record: RunRecord) -> tuple[float | None, ...]:
    """Mean counselling effort per client-week in each fifth of clients' employability at assignment,
    lowest first: rising under outcome pay is cream-skimming, a low bottom fifth is parking."""
    c = record.clients
    if c["client_weeks"].size < 5:
        return (None,) * 5
    emp = c["assigned_employability"]
    fifth = np.searchsorted(np.quantile(emp, [0.2, 0.4, 0.6, 0.8]), emp, side="right")
    effort = np.bincount(fifth, weights=c["effort_sum"], minlength=5)
    weeks = np.bincount(fifth, weights=c["client_weeks"], minlength=5)
    return tuple(_num(e / w) if w else None for e, w in zip(effort, weeks))


def _num(x: float | None) -> float | None:
    """A JSON-safe rounded number (None for NaN, and for an infinite end of an interval: the test
    cannot exclude any effect on that side)."""
    if x is None:
        return None
    x = float(x)
    return None if not np.isfinite(x) else round(x, 6)


def flat_summary(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A summary as one flat row for tables of many runs: nested keys joined with '.', list items by
    position (e.g. `employment_rate.26w.difference`, `providers.0.profit_eur`)."""
    row: dict[str, Any] = {}
    items = summary.items() if isinstance(summary, dict) else enumerate(summary)
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict | list | tuple):
            row.update(flat_summary(value, f"{name}."))
        else:
            row[name] = value
    return row
