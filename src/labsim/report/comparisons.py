"""Charts that compare variants of a pilot: payment models, referral rules, treated shares.

They read a table with one row per simulated pilot: a sweep's `results.parquet` (varied parameters by
dotted path beside the flattened run summary), or the same table made from a folder of run folders or a
single run. Rows sharing the varied parameters' values are replications of one variant; intervals are
95 % intervals of the variant's mean over its replications (normal approximation, mean +- 1.96 SD / sqrt(R)),
or, for a single run, from the run's own standard error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from labsim.report.i18n import number, text
from labsim.report.levers import lever_name, variant_label
from labsim.report.plots import Z95, profit_chart
from labsim.report.style import MARKERS, SERIES, TARGET_COLOUR, finish, new_figure, note_on, plain
from labsim.results.summary import flat_summary

QUINTILES = [f"effort_by_employability_quintile.{q}" for q in range(5)]


def frame_of_runs(summaries: Sequence[dict], scenarios: Sequence[dict]) -> tuple[pd.DataFrame, list[str]]:
    """Runs as sweep-like rows, and the scenario fields that differ between them (the varied ones)."""
    rows = []
    for i, (summary, scenario) in enumerate(zip(summaries, scenarios)):
        params = {k: v for k, v in flat_summary(scenario).items() if "." in k}
        rows.append({"point": i, "replication": 0, **params, **flat_summary(summary)})
    frame = pd.DataFrame(rows)
    params = [k for k in flat_summary(scenarios[0]) if "." in k] if scenarios else []
    varied = [p for p in params if p in frame and frame[p].astype(str).nunique() > 1]
    return frame, varied


def variants(frame: pd.DataFrame, varied: Sequence[str], lang: str) -> list[tuple[str, pd.DataFrame]]:
    """The rows grouped by the varied parameters' values, with each group's label, in sweep order."""
    if not varied:
        return [("-", frame)]
    out = []
    for key, rows in frame.groupby(list(varied), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append((plain(variant_label(dict(zip(varied, key)), lang)), rows))
    return out


def legend_title(varied: Sequence[str], lang: str) -> str | None:
    """The legend's title when one lever varies: its name, capitalised."""
    if len(varied) == 1:
        name = lever_name(varied[0], lang)
        return name[:1].upper() + name[1:]
    return None


def mean_interval(x: pd.Series) -> tuple[float, float]:
    """Mean of the replications and the half-width of its 95 % interval (NaN with one replication)."""
    x = pd.to_numeric(x, errors="coerce").dropna()
    if x.empty:
        return np.nan, np.nan
    half = Z95 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else np.nan
    return float(x.mean()), float(half)


def effort_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Providers' counselling effort per client-week by fifth of client employability, a line per
    variant: rising lines are cream-skimming, a low first fifth is parking."""
    if not set(QUINTILES) <= set(frame.columns) or frame[QUINTILES].isna().all().all():
        return None
    fig, ax = new_figure(text("effort_title", lang), note)
    x = np.arange(1, 6)
    for i, (label, rows) in enumerate(variants(frame, varied, lang)):
        stats = np.array([mean_interval(rows[q]) for q in QUINTILES])
        colour = SERIES[i % len(SERIES)]
        ax.plot(x, stats[:, 0], color=colour, marker=MARKERS[i % len(MARKERS)], linewidth=2, label=label)
        ax.fill_between(x, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1], color=colour, alpha=0.18,
                        linewidth=0)
    ax.set_xticks(x, [text("fifth_n", lang, n=q) for q in x])
    ax.set_ylim(0, 1.05)
    finish(ax, text("employability_fifth", lang), text("effort_y", lang), legend=None)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title=legend_title(varied, lang))
    note_on(ax, text("effort_note", lang))
    return fig


def cost_per_extra_job(rows: pd.DataFrame, horizon: int) -> tuple[float, float, float]:
    """The purchaser's cost per extra job of a variant and its 95 % interval (inf: no upper bound).

    Extra jobs = (pilot minus control employment at `horizon`) x people in the pilot arm. The interval
    comes from the interval of the extra jobs (cost varies far less between replications than the
    effect): cost / upper and cost / lower end; NaN when the effect is not above zero."""
    diff = pd.to_numeric(rows[f"employment_rate.{horizon}w.difference"], errors="coerce")
    extra = diff * rows["assigned.pilot"]
    cost, _ = mean_interval(rows["purchaser_paid_eur.total"])
    if len(rows) > 1:
        e, half = mean_interval(extra)
    else:
        e = float(extra.iloc[0])
        half = Z95 * float(rows[f"employment_rate.{horizon}w.se"].iloc[0]) * float(rows["assigned.pilot"].iloc[0])
    if not e > 0:
        return np.nan, np.nan, np.nan
    low_jobs, high_jobs = e - half, e + half
    return cost / e, cost / high_jobs, (cost / low_jobs if low_jobs > 0 else np.inf)


def observed_horizon(frame: pd.DataFrame, column: str = "employment_rate.{h}w.difference") -> int | None:
    """26 weeks if the runs observe it, else the first horizon they do (13, then 52)."""
    for h in (26, 13, 52):
        col = column.format(h=h)
        if col in frame and pd.to_numeric(frame[col], errors="coerce").notna().any():
            return h
    return None


def cost_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Cost per extra job by variant (payment model), bars with 95 % intervals."""
    h = observed_horizon(frame)
    if h is None or "purchaser_paid_eur.total" not in frame:
        return None
    groups = variants(frame, varied, lang)
    stats = np.array([cost_per_extra_job(rows, h) for _, rows in groups])
    by_payment = list(varied) == ["payment.preset"]
    fig, ax = new_figure(text("cost_title" if by_payment else "cost_title_plain", lang), note)
    x = np.arange(len(groups))
    finite_top = np.nanmax(np.where(np.isfinite(stats), stats, np.nan)) if np.isfinite(stats).any() else 1.0
    top = finite_top * 1.25
    for i, ((label, _), (est, lo, hi)) in enumerate(zip(groups, stats)):
        colour = SERIES[i % len(SERIES)]
        if np.isnan(est):
            ax.bar(i, 0, color=colour, label=f"{label}: {text('no_effect', lang)}")
            ax.text(i, top * 0.03, text("no_effect", lang), ha="center", va="bottom", fontsize=10, rotation=90)
            continue
        ax.bar(i, est, color=colour, alpha=0.85, width=0.6, label=f"{label}: {number(est, lang)} EUR")
        upper = min(hi, top * 0.97)
        ax.errorbar(i, est, yerr=[[est - lo], [upper - est]], color="0.15", capsize=6, linewidth=1.8)
        if not np.isfinite(hi):
            ax.annotate("", xy=(i, top), xytext=(i, upper - top * 0.05),
                        arrowprops={"arrowstyle": "->", "color": "0.15", "linewidth": 1.8})
            ax.text(i + 0.08, top * 0.9, text("open_upper", lang), fontsize=9, color="0.3")
    ax.set_xticks(x, [label for label, _ in groups])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(0, top)
    finish(ax, legend_title(varied, lang) or text("payment_model", lang), text("cost_y", lang), legend=None)
    ax.grid(False, axis="x")
    ax.yaxis.set_major_formatter(lambda v, _: number(v, lang))
    if not np.isfinite(stats[:, 0]).any():
        ax.set_yticks([])  # no variant created extra jobs: an axis of euros would show only rounded 0s and 1s
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    note_on(ax, text("cost_note", lang, h=h))
    if len(groups) > 3:
        ax.tick_params(axis="x", labelrotation=20)
    return fig


def displacement_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Employment of the untreated (control arm) and the treated against the pilot arm's share of the
    eligible in their market, a line per other variant (e.g. congestion on and off)."""
    share = "design.treatment_share"
    h = observed_horizon(frame, "employment_rate.{h}w.control")
    if share not in varied or h is None:
        return None
    others = [v for v in varied if v != share]
    fig, ax = new_figure(text("displacement_title", lang), note)
    for i, (label, rows) in enumerate(variants(frame, others, lang)):
        for arm, style in (("control", "-"), ("pilot", "--")):
            points = [(s * 100, *mean_interval(r[f"employment_rate.{h}w.{arm}"])) for s, r in rows.groupby(share)]
            x, m, half = (np.array(v, dtype=float) for v in zip(*points))
            colour = SERIES[i % len(SERIES)]
            name = text("untreated" if arm == "control" else "treated", lang)
            ax.plot(x, m * 100, style, color=colour, marker=MARKERS[i % len(MARKERS)], linewidth=2,
                    label=name if label == "-" else f"{name}, {label}")
            ax.fill_between(x, (m - half) * 100, (m + half) * 100, color=colour, alpha=0.18, linewidth=0)
    finish(ax, text("treated_share", lang), text("employed_at", lang, h=h), legend="outside")
    note_on(ax, text("interval_note", lang))
    return fig


def referral_volume_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Participants reached by each simulated pilot under each referral rule, against the target."""
    if "referral.mode" not in varied or "participants.reached" not in frame:
        return None
    groups = variants(frame, varied, lang)
    fig, ax = new_figure(text("volume_mode_title", lang), note)
    jitter = np.random.default_rng(0)  # fixed: the same folder always gives the same picture
    for i, (label, rows) in enumerate(groups):
        y = rows["participants.reached"].to_numpy(float)
        colour = SERIES[i % len(SERIES)]
        ax.scatter(i + jitter.uniform(-0.15, 0.15, y.size), y, color=colour, alpha=0.6, s=30,
                   marker=MARKERS[i % len(MARKERS)], label=label)
        ax.hlines(y.mean(), i - 0.3, i + 0.3, color=colour, linewidth=3)
    target = float(frame["participants.target"].max())
    ax.axhline(target, color=TARGET_COLOUR, linestyle=":", linewidth=2, label=text("target", lang, n=number(target, lang)))
    ax.set_xticks(range(len(groups)), [label for label, _ in groups])
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylim(0, max(target, frame["participants.reached"].max()) * 1.1)
    finish(ax, legend_title(varied, lang) or text("referral_rule", lang), text("participants_reached", lang),
           legend="outside")
    ax.grid(False, axis="x")
    note_on(ax, text("dots_note", lang))
    return fig


def profit_comparison_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Provider profit against clients, a line per variant from its providers' pooled revenue and cost
    per client, every provider of every replication as a dot, and the pooled break-even marked."""
    cols = [c for c in frame.columns if c.startswith("providers.") and c.endswith(".clients")]
    if not cols:
        return None
    lines, labels = [], []
    for label, rows in variants(frame, varied, lang):
        books = pd.concat(
            [rows[[c.replace(".clients", f".{k}") for k in ("clients", "revenue_eur", "cost_eur", "setup_cost_eur", "profit_eur")]]
             .set_axis(["clients", "revenue", "cost", "setup", "profit"], axis=1) for c in cols]
        ).dropna()
        books = books[books["clients"] > 0]
        if books.empty:
            continue
        setup = float(books["setup"].mean())
        margin = float((books["revenue"] - books["cost"] + books["setup"]).sum() / books["clients"].sum())
        lines.append({"margin": margin, "setup": setup, "x": books["clients"].tolist(), "y": books["profit"].tolist(),
                      "break_even": setup / margin if margin > 0 else None})
        labels.append(label)
    if not lines:
        return None
    return profit_chart(lines, labels, note, lang, legend_title(varied, lang))

