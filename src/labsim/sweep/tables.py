"""A sweep's results by point: means and intervals of the headline figures (`labsim results`).

For each point and figure: the mean over replications with the 95 % confidence interval of that mean
(Student t: how precisely the sweep pins the point down; narrows with more replications), and the
middle 95 % of single runs (2.5th to 97.5th percentile: what one pilot of this design might show;
does not narrow). A share stays within 0-100 %: the share of runs with a significant effect (the
power, a count of 0/1 outcomes) gets the Wilson interval, and the mean of shares and rates an interval
cut at 0 and 1. Replications that failed, or whose figure is undefined (e.g. a 52-week rate in a
shorter run), are left out of that figure's `n`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from labsim.config.choices import Randomisation
from labsim.sweep.store import Store

#: Figures shown by default, when the sweep kept them: volume, then employment by arm, the effect and
#: the power (share of runs whose difference is significant at 5 %) at each horizon, then costs.
HEADLINE = (
    "participants.share_of_target",
    "take_up_rate",
    *(f"employment_rate.{h}w.{k}" for h in (13, 26, 52) for k in ("pilot", "control", "difference", "significant")),
    "purchaser_paid_eur.total",
    "cost_per_participant_eur",
)
Z95 = 1.959963984540054
#: Said of a table whose cluster-design rows were stored before each run was tested by its design's test.
OLD_RULE = ("significance of office, area and saturation runs used the old rule (|difference| > 1.96 x an "
            "individual-level SE, which overstates their power); run the sweep again for the design's test")


def significant(rows: pd.DataFrame, h: int) -> pd.Series:
    """1 where a run's effect at `h` weeks is significant at 5 % by the test its summary reports (its
    design's: `employment_rate.<h>w.p_value` < 0.05), else 0; empty where undefined. Rows stored before
    the summaries named their test (no `employment_rate.<h>w.test`) keep the old rule |difference| >
    1.96 SE, right for individual designs only (`old_rule`)."""
    d = pd.to_numeric(rows.get(f"employment_rate.{h}w.difference"), errors="coerce")
    if f"employment_rate.{h}w.test" in rows:
        p = pd.to_numeric(rows[f"employment_rate.{h}w.p_value"], errors="coerce")
        return (p < 0.05).astype(float).where(p.notna() & d.notna())
    se = pd.to_numeric(rows.get(f"employment_rate.{h}w.se"), errors="coerce")
    return (d.abs() > Z95 * se).astype(float).where(d.notna() & se.notna())


def old_rule(rows: pd.DataFrame) -> bool:
    """Whether the rows hold cluster-design runs whose significance can only be read by the old rule."""
    tested = any(f"employment_rate.{h}w.test" in rows for h in (13, 26, 52))
    return not tested and "design" in rows and bool((rows["design"].astype(str) != Randomisation.INDIVIDUAL).any())


def with_significance(table: pd.DataFrame) -> pd.DataFrame:
    """Add `employment_rate.<h>w.significant` (`significant`): its mean over a point's runs is the
    point's power."""
    for h in (13, 26, 52):
        if f"employment_rate.{h}w.difference" in table and (
                f"employment_rate.{h}w.se" in table or f"employment_rate.{h}w.p_value" in table):
            table[f"employment_rate.{h}w.significant"] = significant(table, h)
    return table
STATS = ("mean", "ci_low", "ci_high", "sd", "p2_5", "p97_5", "n")
NOT_FIGURES = ("point", "replication", "seed_key", "error")


@dataclass(frozen=True)
class PointTable:
    """One row per point: its varied fields, replications, failures and each figure's statistics."""

    name: str
    factors: list[str]
    figures: list[str]
    frame: pd.DataFrame
    chunks_done: int | None  # None once the sweep has finished
    chunks_total: int
    runs: pd.DataFrame | None = None  # one row per run: point, replication, varied fields, figures
    note: str | None = None  # `OLD_RULE` when the stored rows predate the design's test


def is_share(figure: str) -> bool:
    """A figure that is a share or a rate (0-1): employment by arm, power, places filled, take-up."""
    return figure.endswith((".pilot", ".control", ".significant", "share_of_target", "_rate"))


def wilson(successes: float, n: int) -> tuple[float, float]:
    """The Wilson 95 % interval of a proportion: within 0-1 however few the runs (the normal one is not)."""
    p, z2 = successes / n, Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def describe(x: np.ndarray, share: bool = False) -> dict[str, float | int | None]:
    """Mean, its 95 % t-interval, sd, the middle 95 % of values and n (None where undefined). For a
    `share`, 0/1 outcomes get the Wilson interval and other shares the t-interval cut at 0 and 1."""
    from scipy import stats

    n = int(x.size)
    if n == 0:
        return {k: (0 if k == "n" else None) for k in STATS}
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
    ci = (mean - half, mean + half)
    if share and np.isin(x, (0.0, 1.0)).all():
        ci = wilson(float(x.sum()), n)
    elif share:
        ci = (max(ci[0], 0.0), min(ci[1], 1.0))
    low, high = np.percentile(x, [2.5, 97.5])
    out = {"mean": mean, "ci_low": ci[0], "ci_high": ci[1], "sd": sd,
           "p2_5": float(low), "p97_5": float(high), "n": n}
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def point_table(store: Store, figures: list[str] | None = None) -> PointTable:
    """The sweep's statistics by point (finished or not: an unfinished sweep shows what is in)."""
    manifest = store.manifest()
    store.check()
    factors = list(manifest.get("factors", []))
    names = store.columns()
    derived = {f"employment_rate.{h}w.{k}" for h in (13, 26, 52) for k in ("difference", "se", "p_value", "test")
               } & set(names) | ({"design"} & set(names))
    if figures is None:
        known = {*names, *(c.replace(".difference", ".significant") for c in derived if c.endswith(".difference")
                           if c.replace(".difference", ".se") in derived)}
        figures = [f for f in HEADLINE if f in known] or [
            n for n in names if n not in NOT_FIGURES and n not in factors
        ]
    stored = [f for f in figures if f in names]
    table = with_significance(store.read(columns=list(dict.fromkeys([*NOT_FIGURES, *factors, *stored, *derived])))
                              .to_pandas())
    records = []
    if len(table):
        for point, rows in table.groupby("point", sort=True):
            rec: dict[str, Any] = {"point": int(point)}
            rec.update({f: rows[f].iloc[0] for f in factors})
            rec["replications"] = len(rows)
            rec["failed"] = int(rows["error"].notna().sum()) if "error" in rows else 0
            for fig in figures:
                x = pd.to_numeric(rows[fig], errors="coerce").dropna().to_numpy(float) if fig in rows \
                    else np.empty(0)
                rec.update({f"{fig}.{k}": v for k, v in describe(x, is_share(fig)).items()})
            records.append(rec)
    done = None if store.finished() else len(list(store.parts.glob("p*.parquet")))
    if "point" not in table:  # nothing stored yet (a sweep just started, its parts and log gone)
        table = pd.DataFrame(columns=["point", "replication", *factors, *figures])
    runs = table[[c for c in ("point", "replication", *factors, "error", *figures) if c in table]]
    return PointTable(manifest.get("name", store.folder.name), factors, figures, pd.DataFrame(records),
                      done, int(manifest.get("chunks", 0)), runs.sort_values(["point", "replication"]),
                      OLD_RULE if old_rule(table) else None)


def _plain(x: Any) -> Any:
    if hasattr(x, "item"):
        x = x.item()
    return None if isinstance(x, float) and math.isnan(x) else x


def table_json(t: PointTable) -> dict[str, Any]:
    """The table as plain data: a record per point with its values and each figure's statistics."""
    points = []
    for rec in t.frame.to_dict("records"):
        points.append({
            "point": int(rec["point"]),
            "values": {f: _plain(rec[f]) for f in t.factors},
            "replications": int(rec["replications"]),
            "failed": int(rec["failed"]),
            "figures": {fig: {k: _plain(rec[f"{fig}.{k}"]) for k in STATS} for fig in t.figures},
        })
    return {"name": t.name, "finished": t.chunks_done is None, "factors": t.factors, "points": points,
            "note": t.note}
