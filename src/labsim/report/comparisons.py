"""Charts that compare variants of a pilot: payment models, referral rules, treated shares.

They read a table with one row per simulated pilot: a sweep's `results.parquet` (varied parameters by
dotted path beside the flattened run summary), or the same table made from a folder of run folders or a
single run. Rows sharing the varied parameters' values are replications of one variant; intervals are
95 % intervals of the variant's mean over its replications (normal approximation, mean +- 1.96 SD / sqrt(R)),
or, for a single run, from the run's own standard error.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from labsim.report.i18n import number, text
from labsim.report.levers import lever_name, variant_label
from labsim.report.plots import Z95, profit_chart
from labsim.report.style import (
    MARKERS, SERIES, TARGET_COLOUR, YLABEL_WIDTH, finish, new_figure, note_on, plain, shared_legend,
)
from labsim.results.summary import RunSummary, flat_summary

QUINTILES = [f"effort_by_employability_quintile.{q}" for q in range(5)]


def frame_of_runs(summaries: Sequence[RunSummary], scenarios: Sequence[dict]) -> tuple[pd.DataFrame, list[str]]:
    """Runs as sweep-like rows, and the scenario fields that differ between them (the varied ones)."""
    rows = []
    for i, (summary, scenario) in enumerate(zip(summaries, scenarios)):
        params = {k: v for k, v in flat_summary(scenario).items() if "." in k}
        rows.append({"point": i, "replication": 0, **params, **summary.flat()})
    frame = pd.DataFrame(rows)
    params = [k for k in flat_summary(scenarios[0]) if "." in k] if len(scenarios) > 1 else []  # one run: none
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


#: Which lever a chart separates first: lines or bars by the first varied one, panels by the next.
PRIORITY = ("payment.preset", "referral.mode", "referral.target_participants", "design.treatment_share",
            "market.matching_efficiency", "market.congestion")
MOST_SERIES = 8  # colours and markers a chart can tell apart; beyond that, levers become panels
MOST_PANELS = 8


def layout(frame: pd.DataFrame, varied: Sequence[str]) -> tuple[list[str], str | None]:
    """(series levers, panel lever) for a sweep's chart: every lever as one series while the variants
    are few; otherwise series by the most telling lever, small multiples by the next, the rest pooled
    (their replications together), so that 100 variants still read."""
    order = sorted(varied, key=lambda p: PRIORITY.index(p) if p in PRIORITY else len(PRIORITY))
    if not order:
        return [], None
    if frame.groupby(order, dropna=False).ngroups <= MOST_SERIES and len(order) <= 2 and \
            not (len(order) == 2 and set(order) <= {"payment.preset", "referral.mode"}):
        return order, None
    panel = next((p for p in order[1:] if frame[p].nunique() <= MOST_PANELS), None)
    return [order[0]], panel


def panels(frame: pd.DataFrame, panel: str | None, lang: str) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each small multiple, titled `lever: value` (one untitled panel without a lever)."""
    if panel is None:
        return [("", frame)]
    return [(plain(variant_label({panel: v}, lang, named=True)), rows)
            for v, rows in frame.groupby(panel, sort=False, dropna=False)]


def panel_axes(title: str, note: str, count: int, **kw):
    """A figure with `count` panels, at most four a row, sharing their axes; unused cells hidden."""
    ncols = min(count, 4)
    nrows = -(-count // ncols)
    fig, axes = new_figure(title, note, ncols=ncols, nrows=nrows, squeeze=False, **kw)
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def panel_title(ax, title: str, count: int) -> None:
    """A panel's title, wrapped at word breaks to its panel's width so that neighbours never touch."""
    width = {1: 80, 2: 22, 3: 16}.get(min(count, 4), 12)
    ax.set_title(textwrap.fill(title, width, break_long_words=False), fontsize=11)


def panels_xlabel(axes, label: str) -> None:
    """The x label of side-by-side panels (they share their x axis) once, under the first panel and
    running on from its left edge: one under each would run into the next."""
    axes[0].set_xlabel(textwrap.fill(label, 34 if len(axes) == 1 else 60), loc="left" if len(axes) > 1 else "center")


def mean_interval(x: pd.Series) -> tuple[float, float]:
    """Mean of the replications and the half-width of its 95 % interval (NaN with one replication)."""
    x = pd.to_numeric(x, errors="coerce").dropna()
    if x.empty:
        return np.nan, np.nan
    half = Z95 * x.std(ddof=1) / np.sqrt(x.size) if x.size > 1 else np.nan
    return float(x.mean()), float(half)


def effort_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Providers' counselling effort per client-week by fifth of client employability, a line per
    payment model (or variant), a panel per value of the next lever: rising lines are cream-skimming,
    a low first fifth is parking."""
    if not set(QUINTILES) <= set(frame.columns) or frame[QUINTILES].isna().all().all():
        return None
    series, panel = layout(frame, varied)
    groups = panels(frame, panel, lang)
    fig, axes = panel_axes(text("effort_title", lang), note, len(groups), sharey=True)
    x = np.arange(1, 6)
    for ax, (title, part) in zip(axes, groups):
        for i, (label, rows) in enumerate(variants(part, series, lang)):
            stats = np.array([mean_interval(rows[q]) for q in QUINTILES])
            colour = SERIES[i % len(SERIES)]
            ax.plot(x, stats[:, 0], color=colour, marker=MARKERS[i % len(MARKERS)], linewidth=2, label=label)
            ax.fill_between(x, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1], color=colour, alpha=0.18,
                            linewidth=0)
        ax.set_xticks(x, [text("fifth_n", lang, n=q) for q in x])
        ax.set_ylim(0, 1.05)
        panel_title(ax, title, len(axes))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(textwrap.fill(text("effort_y", lang), YLABEL_WIDTH))
    panels_xlabel(axes, text("employability_fifth", lang))
    shared_legend(fig, legend_title(series, lang))
    note_on(axes[0], text("effort_note", lang))
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
    else:  # one replication: its own standard error, when the run had one at this horizon
        e = float(extra.iloc[0])
        se = pd.to_numeric(rows[f"employment_rate.{horizon}w.se"], errors="coerce").iloc[0]
        half = Z95 * float(se) * float(rows["assigned.pilot"].iloc[0])
    if not e > 0:
        return np.nan, np.nan, np.nan
    if not np.isfinite(half):  # no interval to give: the estimate alone
        return cost / e, np.nan, np.nan
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
    """Cost per extra job, a horizontal bar per payment model (or variant) with its 95 % interval,
    grouped by a further lever's values (a bar colour each) and a panel per value of the next."""
    h = observed_horizon(frame)
    if h is None or "purchaser_paid_eur.total" not in frame:
        return None
    series, panel = layout(frame, varied)
    rest = [v for v in varied if v not in series and v != panel]
    hue = rest[:1] if rest and frame.groupby(rest[:1]).ngroups <= 4 else []
    groups = panels(frame, panel, lang)
    by_payment = series == ["payment.preset"]
    fig, axes = panel_axes(text("cost_title" if by_payment else "cost_title_plain", lang), note, len(groups),
                           sharey=True, sharex=True)
    parts = [[(label, variants(rows, hue, lang) if hue else [("", rows)]) for label, rows in variants(part, series, lang)]
             for _, part in groups]
    stats = [[[cost_per_extra_job(r, h) for _, r in bars] for _, bars in part] for part in parts]
    flat = np.array([c for part in stats for bars in part for c in bars], dtype=float).reshape(-1, 3)
    finite = flat[np.isfinite(flat)]
    # the axis ends a little beyond the largest estimate's interval, but at most 2.5 times the largest
    # estimate: an interval reaching further (or open) ends in an arrow, and every bar stays readable
    estimates = flat[:, 0][np.isfinite(flat[:, 0])]
    top = min(finite.max(), 2.5 * estimates.max()) * 1.15 if estimates.size else 1.0
    scale, unit = (1e6, "cost_y_millions") if top >= 5e6 else (1e3, "cost_y_thousands") if top >= 5e4 else (1, "cost_y")
    hues = [name for name, _ in parts[0][0][1]]
    height = 0.8 / max(len(hues), 1)
    for ax, (title, _), part, part_stats in zip(axes, groups, parts, stats):
        for i, ((label, bars), costs) in enumerate(zip(part, part_stats)):
            for j, ((name, _), (est, lo, hi)) in enumerate(zip(bars, costs)):
                y = i - 0.4 + height * (j + 0.5)
                colour = SERIES[j % len(SERIES)] if hue else SERIES[i % len(SERIES)]
                if np.isnan(est):
                    ax.plot([0], [y], marker="x", color="0.3", markersize=8, linestyle="none",
                            label=text("no_effect", lang))
                    continue
                ax.barh(y, est, height=height * 0.9, color=colour, alpha=0.85, label=name or None)
                upper = min(hi, top)
                ax.errorbar(est, y, xerr=[[est - lo], [upper - est]], color="0.15", capsize=3, linewidth=1.4,
                            label=text("interval_95", lang))
                if not hi < top:
                    ax.plot([top], [y], marker=">", color="0.15", markersize=7, linestyle="none",
                            label=text("open_upper", lang))
        ax.set_yticks(range(len(part)), [label for label, _ in part])
        ax.set_xlim(0, top * 1.03)
        panel_title(ax, title, len(axes))
        ax.grid(alpha=0.3, axis="x")
        ax.xaxis.set_major_formatter(lambda v, _, s=scale: number(v / s, lang, 1 if s > 1 and v % s else 0))
        ax.xaxis.set_major_locator(MaxNLocator(3, prune="upper") if len(axes) > 1 else MaxNLocator(5))
        if not finite.size:
            ax.set_xticks([])  # no variant created extra jobs: an axis of euros would show only rounded 0s and 1s
    panels_xlabel(axes, text(unit, lang))
    axes[0].invert_yaxis()  # the first variant on top (once: the panels share their y axis)
    name = legend_title(series, lang) if series else None
    axes[0].set_ylabel(name or text("payment_model", lang))
    shared_legend(fig, legend_title(hue, lang) if hues and hues[0] else None,
                  last=(text("interval_95", lang), text("open_upper", lang), text("no_effect", lang)))
    note_on(axes[0], text("cost_note", lang, h=h))
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
    for i, (_, rows) in enumerate(variants(frame, others, lang)):
        label = plain(variant_label(dict(zip(others, rows[others].iloc[0])), lang, named=True)) if others else "-"
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
    """Participants reached by each simulated pilot under each referral rule, against the target: a
    group per rule (other levers pooled), a panel per number of places bought, each with its target."""
    if "referral.mode" not in varied or "participants.reached" not in frame:
        return None
    size = "referral.target_participants"
    groups = panels(frame, size if size in varied else None, lang)
    fig, axes = panel_axes(text("volume_mode_title", lang), note, len(groups), sharey=True)
    jitter = np.random.default_rng(0)  # fixed: the same folder always gives the same picture
    for ax, (title, part) in zip(axes, groups):
        modes = variants(part, ["referral.mode"], lang)
        for i, (label, rows) in enumerate(modes):
            y = rows["participants.reached"].to_numpy(float)
            colour = SERIES[i % len(SERIES)]
            ax.scatter(i + jitter.uniform(-0.18, 0.18, y.size), y, color=colour, alpha=0.5, s=22,
                       marker=MARKERS[i % len(MARKERS)], label=label)
            ax.hlines(y.mean(), i - 0.3, i + 0.3, color="0.1", linewidth=3)
        target = float(part["participants.target"].max())
        ax.axhline(target, color=TARGET_COLOUR, linestyle=":", linewidth=2,
                   label=text("target", lang, n=number(target, lang)))
        # the rules by name under the dots where two panels or fewer leave room; else the legend names them
        names = [textwrap.fill(label, 11, break_long_words=False) for label, _ in modes] if len(axes) <= 2 else []
        ax.set_xticks(range(len(modes)), names or [""] * len(modes))
        ax.set_xlim(-0.6, len(modes) - 0.4)
        ax.set_ylim(0, max(frame["participants.target"].max(), frame["participants.reached"].max()) * 1.1)
        panel_title(ax, title, len(axes))
        ax.set_xlabel(text("referral_rule", lang))
        ax.grid(alpha=0.3, axis="y")
        ax.yaxis.set_major_formatter(lambda v, _: number(v, lang))
    axes[0].set_ylabel(textwrap.fill(text("participants_reached", lang), YLABEL_WIDTH))
    shared_legend(fig)
    note_on(axes[0], text("dots_note", lang))
    return fig


def profit_comparison_chart(frame: pd.DataFrame, varied: Sequence[str], note: str, lang: str = "en") -> Figure | None:
    """Provider profit against clients, a line per variant from its providers' pooled revenue and cost
    per client, every provider of every replication as a dot, and the pooled break-even marked."""
    cols = [c for c in frame.columns if c.startswith("providers.") and c.endswith(".clients")]
    if not cols:
        return None
    series, _ = layout(frame, varied)  # a line per payment model (other levers pooled): lines stay few
    lines, labels = [], []
    for label, rows in variants(frame, series, lang):
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
    return profit_chart(lines, labels, note, lang, legend_title(series, lang))

