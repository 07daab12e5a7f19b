"""The world's labour-market moments, measured the way the published Finnish figures are, from a run record.

Each moment is computed twice: at the start (stocks at week 0, flows over weeks 1..`window`) and at the
end (stocks in the last week, flows over the last `window` weeks), so that a calibration can be checked
both for level (inside the published range at week 0) and for steadiness (no drift without a pilot).
`PUBLISHED` holds the published figure behind each moment, its range and where it comes from; how
each is measured in the model is said in docs/model.md ("Calibrated moments").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from labsim.config.states import STATE_NAMES, WORK_STATES, is_employed
from labsim.world.record import RunRecord


@dataclass(frozen=True)
class Published:
    """A published figure: its value, the range a calibrated world should give, and its source."""

    value: float
    low: float
    high: float
    source: str


#: The published figures (FACTS.md) the bundled Finnish scenarios are calibrated to.
PUBLISHED: dict[str, Published] = {
    "long_term_share": Published(
        0.307, 0.26, 0.34, "unemployed 52+ weeks / unemployed: 30.7 % end-2017 (Statistics Finland), "
        "27.3 % Oct 2019 (TEM bulletin)"),
    "monthly_outflow_share": Published(
        0.16, 0.15, 0.17, "unemployment spells ended a month / unemployed stock: 46,000-52,000 a month "
        "(Työpoliittinen aikakauskirja 1/2018) over ~300,000 unemployed"),
    "ended_spells_into_work": Published(
        0.46, 0.41, 0.51, "share of ended job-search spells that ended in open-market jobs, 2016 (TEM)"),
    "mean_elapsed_weeks": Published(
        61.0, 50.0, 72.0, "mean job-search duration 2016 (TEM), read as the mean elapsed duration of the "
        "unemployed stock"),
    "mean_completed_weeks": Published(
        27.0, 25.0, 29.0, "unemployed stock / spells started a week (Little's law), implied by the "
        "15-17 % monthly outflow"),
    "employed_13w_after_services": Published(
        0.22, 0.15, 0.29, "in open-market jobs 3 months after active services, 2016 (TEM-analyyseja 88/2018)"),
    "employed_26w_after_services": Published(
        0.25, 0.18, 0.32, "in open-market jobs 6 months after active services, 2016 (TEM-analyyseja 88/2018)"),
}

WEEKS_PER_MONTH = 52.0 / 12.0


def moments(record: RunRecord, window: int = 13) -> pd.DataFrame:
    """The moments at the start and at the end of a run: one row per moment, columns `start`, `end`,
    `published`, `low`, `high` (the end window is the last `window` weeks; needs a run of that length)."""
    weekly = record.weekly
    if record.weeks < window:
        raise ValueError(f"a run of {record.weeks} weeks is shorter than the window of {window} weeks")
    start = _window_moments(weekly, 0, slice(1, window + 1))
    end = _window_moments(weekly, record.weeks, slice(record.weeks - window + 1, record.weeks + 1))
    after = employed_after_services(record)
    start.update(after)
    end.update(after)  # one figure over the whole run: too few leavers to split it
    rows = [
        {"moment": k, "start": start[k], "end": end[k], "published": p.value, "low": p.low, "high": p.high}
        for k, p in PUBLISHED.items()
    ]
    rows.append({"moment": "unemployed", "start": start["unemployed"], "end": end["unemployed"],
                 "published": np.nan, "low": np.nan, "high": np.nan})
    return pd.DataFrame(rows).set_index("moment")


def _window_moments(weekly: pd.DataFrame, stock_week: int, flows: slice) -> dict[str, float]:
    """Stock moments in `stock_week`, flow moments over the weeks in `flows` (rows of `weekly`)."""
    now = weekly.iloc[stock_week]
    w = weekly.iloc[flows]
    stock = w["unemployed"].mean()
    work = sum(w[f"inflow_{STATE_NAMES[k]}"].sum() for k in WORK_STATES)
    other = w["inflow_studies"].sum() + w["inflow_inactive"].sum()
    return {
        "unemployed": float(now["unemployed"]),
        "long_term_share": float(now["unemployed_52w_plus"] / now["unemployed"]),
        "mean_elapsed_weeks": float(now["unemployed_mean_weeks"]),
        "monthly_outflow_share": float(w["unemployment_ended"].mean() * WEEKS_PER_MONTH / stock),
        "ended_spells_into_work": float(work / (work + other)) if work + other else np.nan,
        "mean_completed_weeks": float(stock / w["unemployment_started"].mean()),
    }


def employed_after_services(record: RunRecord) -> dict[str, float]:
    """Share in work 13 and 26 weeks after leaving an activation service, among leavers seen that long."""
    out = {}
    tl, left = record.services_timeline, record.services_left_week
    for h in (13, 26):
        seen = left + h < tl.shape[1] if tl.size else np.zeros(0, bool)
        rows = np.flatnonzero(seen)
        employed = is_employed(tl[rows, left[rows] + h]) if rows.size else np.zeros(0, bool)
        out[f"employed_{h}w_after_services"] = float(employed.mean()) if rows.size else np.nan
    return out


@dataclass(frozen=True)
class RunMoments:
    """The moments a calibration fits (`summary.json` "moments"; `targets/*.toml` name them): stocks at
    week 0 and flows over weeks 1-13 (fewer in a shorter run), employment after activation over the run."""

    monthly_outflow: float
    exits_to_work_share: float
    long_term_share: float
    mean_elapsed_weeks: float
    vacancies_per_unemployed: float
    employed_13w_after_activation: float
    employed_26w_after_activation: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


#: The names of the moments a target may name.
MOMENT_NAMES: tuple[str, ...] = tuple(RunMoments.__dataclass_fields__)


def run_moments(record: RunRecord, window: int = 13) -> RunMoments:
    """The calibrated moments of a run, at its start (a run of 0 weeks has no flows, a world with nobody
    unemployed no shares: NaN)."""
    weekly = record.weekly
    w = min(window, record.weeks)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = _window_moments(weekly, 0, slice(1, w + 1)) if w > 0 else {
            "long_term_share": float(weekly["unemployed_52w_plus"].iloc[0] / weekly["unemployed"].iloc[0]),
            "mean_elapsed_weeks": float(weekly["unemployed_mean_weeks"].iloc[0]),
            "monthly_outflow_share": np.nan, "ended_spells_into_work": np.nan}
    after = employed_after_services(record)
    now = weekly.iloc[0]
    return RunMoments(
        monthly_outflow=at["monthly_outflow_share"],
        exits_to_work_share=at["ended_spells_into_work"],
        long_term_share=at["long_term_share"],
        mean_elapsed_weeks=at["mean_elapsed_weeks"],
        vacancies_per_unemployed=float(now["vacancies"] / now["unemployed"]) if now["unemployed"] else np.nan,
        employed_13w_after_activation=after["employed_13w_after_services"],
        employed_26w_after_activation=after["employed_26w_after_services"],
    )


__all__ = ["MOMENT_NAMES", "PUBLISHED", "Published", "RunMoments", "moments", "run_moments",
           "employed_after_services"]
