"""A run's results: the weekly series, everyone eligible's outcomes, and the headline summary.

Kept apart from the model (scikit-learn style): a `RunResult` is plain data that can be saved,
compared and summarised without the world that made it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labsim.history import outcomes_after
from labsim.payment import TERMS
from labsim.states import AGE_GROUPS, EDUCATION_LEVELS, STATE_NAMES, WORK_FORMS, is_employed
from labsim.viability import break_even_clients

if TYPE_CHECKING:
    from labsim.model import PilotModel

HORIZONS = (13, 26, 52)


@dataclass
class RunResult:
    """Outputs of one simulated pilot."""

    weekly: pd.DataFrame
    individuals: pd.DataFrame
    employment_by_week: pd.DataFrame
    summary: dict[str, Any]

    @classmethod
    def from_model(cls, model: PilotModel) -> RunResult:
        weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        weekly["week"] = weekly["week"].astype(int)
        s = model.seekers
        who = np.flatnonzero(s.arm >= 0)
        timeline = model.history.timeline(who)
        start = s.assigned_week[who].astype(np.int64)
        individuals = individual_outcomes(model, who, timeline, start)
        curve = employment_by_week(timeline, start, s.arm[who])
        return cls(weekly, individuals, curve, summarise(model, weekly, individuals))


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


def individual_outcomes(
    model: PilotModel, who: np.ndarray, timeline: np.ndarray, start: np.ndarray
) -> pd.DataFrame:
    """One row per seeker ever assigned to the pilot or control arm, with outcomes after assignment."""
    s = model.seekers
    out = outcomes_after(timeline, start, HORIZONS)
    sectors = [sec.name for sec in model.settings.market.sectors]
    first_form = np.full(who.size, "", dtype=object)
    seen = out["first_job_seen"]
    if seen.any():
        week = start[seen] + out["weeks_to_first_job"][seen].astype(np.int64)
        codes = timeline[np.flatnonzero(seen), week]
        first_form[seen] = np.array(STATE_NAMES, dtype=object)[codes]
    df = pd.DataFrame(
        {
            "person": who,
            "office": s.office[who],
            "sector": pd.Categorical.from_codes(s.sector[who], sectors),
            "age_group": pd.Categorical.from_codes(s.age_group[who], AGE_GROUPS),
            "education": pd.Categorical.from_codes(s.education[who], EDUCATION_LEVELS),
            "motivation": s.motivation[who],
            "employability_at_assignment": s.assigned_employability[who],
            "weeks_unemployed_at_assignment": s.assigned_duration[who],
            "arm": pd.Categorical.from_codes(s.arm[who], ["control", "pilot"]),
            "assigned_week": s.assigned_week[who],
            "offered": s.offer_week[who] >= 0,
            "accepted": s.accepted[who],
            "recruited_by_provider": s.recruited[who],
            "took_up": s.start_week[who] >= 0,
            "start_week": s.start_week[who],
            "no_show": s.no_show[who],
            "provider": s.served_by[who],
            **{k: v for k, v in out.items()},
            "first_job_form": first_form,
        }
    )
    return df


def difference(df: pd.DataFrame, column: str) -> dict[str, Any]:
    """Pilot and control means of an outcome, their difference and its (Neyman) standard error."""
    res: dict[str, Any] = {}
    stats = {}
    for arm in ("pilot", "control"):
        x = df.loc[df["arm"] == arm, column].dropna().to_numpy(float)
        stats[arm] = (x.mean() if x.size else float("nan"), x.var(ddof=1) if x.size > 1 else np.nan, x.size)
        res[arm] = _num(stats[arm][0])
        res[f"n_{arm}"] = int(x.size)
    (m1, v1, n1), (m0, v0, n0) = stats["pilot"], stats["control"]
    res["difference"] = _num(m1 - m0)
    se = np.sqrt(v1 / n1 + v0 / n0) if n1 > 1 and n0 > 1 else float("nan")
    res["se"] = _num(se)
    return res


def summarise(model: PilotModel, weekly: pd.DataFrame, ind: pd.DataFrame) -> dict[str, Any]:
    """Headline figures of a run (what `summary.json` holds)."""
    ref = model.referral
    cfg = model.settings
    pilot = ind["arm"] == "pilot"
    summary: dict[str, Any] = {
        "scenario": cfg.name,
        "weeks": int(model.week),
        "job_seekers": int(model.seekers.n),
        "referral_mode": cfg.referral.mode,
        "participants": {
            "reached": int(ref.started),
            "target": int(ref.target),
            "share_of_target": round(ref.started / ref.target, 4),
            "week_target_reached": ref.week_target_reached,
        },
        "assigned": {"pilot": int(pilot.sum()), "control": int((~pilot).sum())},
        "take_up_rate": _num(ind.loc[pilot, "took_up"].mean()) if pilot.any() else None,
        "employment_rate": {f"{h}w": difference(ind, f"employed_{h}w") for h in HORIZONS},
        "weeks_employed_52w": difference(ind, "weeks_employed_52w"),
        "placements_by_form": {f: int(weekly[f"placements_{f}"].sum()) for f in WORK_FORMS},
        "unemployment_stock": {
            "week_0": int(weekly["stock_unemployed"].iloc[0]),
            "last_week": int(weekly["stock_unemployed"].iloc[-1]),
        },
        "employment_share_last_week": _num(
            np.mean(is_employed(model.seekers.state))
        ),
        **accounts_summary(model),
        "effort_by_employability_quintile": effort_by_quintile(model),
    }
    return summary


def accounts_summary(model: PilotModel) -> dict[str, Any]:
    """What the purchaser paid by term, cost per participant and placement, and each provider's books."""
    s, acc = model.seekers, model.accounts
    paid = sum(acc.purchaser.values())
    placements = sum(p.placements for p in model.providers)
    providers = []
    for p in model.providers:
        clients = int(np.count_nonzero(s.served_by == p.index))
        revenue = acc.revenue[p.index]
        per_client = (revenue.sum() / clients, acc.running_cost[p.index] / clients) if clients else (0, 0)
        even = break_even_clients(acc.setup_cost[p.index], *per_client)
        providers.append(
            {
                "provider": p.index,
                "clients": clients,
                "client_weeks": int(s.client_weeks[s.served_by == p.index].sum()),
                "placements": int(p.placements),
                "revenue_eur": round(float(revenue.sum()), 2),
                "revenue_by_term_eur": {k: round(float(v), 2) for k, v in zip(TERMS, revenue)},
                "cost_eur": round(float(acc.cost()[p.index]), 2),
                "setup_cost_eur": round(float(acc.setup_cost[p.index]), 2),
                "profit_eur": round(float(acc.profit()[p.index]), 2),
                "break_even_clients": None if math.isinf(even) else round(float(even), 1),
                "exited": not p.active,
            }
        )
    return {
        "purchaser_paid_eur": {
            "total": round(paid, 2),
            **{k: round(v, 2) for k, v in acc.purchaser.items()},
        },
        "cost_per_participant_eur": _num(paid / model.referral.started) if model.referral.started else None,
        "cost_per_placement_eur": _num(paid / placements) if placements else None,
        "providers": providers,
    }


def effort_by_quintile(model: PilotModel) -> list[float | None]:
    """Mean counselling effort per client-week in each fifth of clients' employability at assignment,
    lowest first: rising under outcome pay is cream-skimming, a low bottom fifth is parking."""
    s = model.seekers
    clients = np.flatnonzero(s.client_weeks > 0)
    if clients.size < 5:
        return [None] * 5
    emp = s.assigned_employability[clients]
    fifth = np.searchsorted(np.quantile(emp, [0.2, 0.4, 0.6, 0.8]), emp, side="right")
    effort = np.bincount(fifth, weights=s.effort_sum[clients], minlength=5)
    weeks = np.bincount(fifth, weights=s.client_weeks[clients], minlength=5)
    return [_num(e / w) if w else None for e, w in zip(effort, weeks)]


def _num(x: float) -> float | None:
    """A JSON-safe rounded number (None for NaN)."""
    x = float(x)
    return None if np.isnan(x) else round(x, 6)
