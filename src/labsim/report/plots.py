"""Charts of one run for a planner: where the job seekers are, whether the pilot fills, what it shows,
and whether the providers break even.

Every function draws from saved results (a `RunResult` read back from a run folder, or plain numbers
taken from one) and returns its matplotlib `Figure`; `charts.write_charts_for` saves them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from labsim.config.states import WORK_FORMS
from labsim.report.i18n import number, percent, text
from labsim.report.style import ARM_COLOURS, MARKERS, SERIES, TARGET_COLOUR, finish, new_figure, note_on
from labsim.results.summary import HORIZONS, RunResult, RunSummary

Z95 = 1.959964
ARMS = ("pilot", "control")


def _arm_label(arm: str, lang: str) -> str:
    return text(f"{arm}_arm", lang)


def stocks_chart(result: RunResult, note: str, lang: str = "en") -> Figure:
    """Weekly stocks of job seekers by state group (all forms of work summed as 'employed')."""
    w = result.weekly
    groups = {
        "stock_unemployed": w["stock_unemployed"],
        "stock_with_provider": w["stock_with_provider"],
        "stock_activation": w["stock_activation"],
        "stock_employed": sum(w[f"stock_{f}"] for f in WORK_FORMS),
        "stock_studies": w["stock_studies"],
        "stock_inactive": w["stock_inactive"],
    }
    fig, ax = new_figure(text("stocks_title", lang), note)
    for (key, series), colour in zip(groups.items(), SERIES):
        ax.plot(w["week"], series, label=text(key, lang), color=colour, linewidth=2)
    finish(ax, text("week", lang), text("people", lang), zero=True)
    return fig


def volume_chart(panels: Sequence[tuple[str, pd.DataFrame, int]], note: str, lang: str = "en") -> Figure:
    """Offers, acceptances and starts (cumulative), participants in service, and the target, week by
    week: one panel per run (e.g. voluntary and mandatory referral side by side, same scale)."""
    fig, axes = new_figure(text("volume_title", lang), note, ncols=len(panels))
    axes = np.atleast_1d(axes)
    top = max(max(w["offers"].sum(), target) for _, w, target in panels) * 1.08
    for ax, (label, w, target) in zip(axes, panels):
        ax.plot(w["week"], w["offers"].cumsum(), label=text("offered_cum", lang), color=SERIES[0], linewidth=2)
        ax.plot(w["week"], w["referrals"].cumsum(), label=text("started_cum", lang), color=SERIES[2],
                linewidth=4)  # wide and under the acceptances, which it often equals
        ax.plot(w["week"], w["accepted"].cumsum(), label=text("accepted_cum", lang), color=SERIES[1], linewidth=1.8)
        ax.plot(w["week"], w["participants"], label=text("participants_now", lang), color=SERIES[4],
                linestyle="--", linewidth=2)
        ax.axhline(target, color=TARGET_COLOUR, linestyle=":", linewidth=2,
                   label=text("target", lang, n=number(target, lang)))
        reached = int(w["referrals"].sum())
        share = percent(reached / target, lang) if target else "-"
        ax.set_title(f"{label}\n" + text("reached", lang, reached=number(reached, lang),
                                          target=number(target, lang), share=share), fontsize=11)
        ax.set_ylim(0, top)
        finish(ax, text("week", lang), text("people", lang), legend=None)
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def employment_chart(result: RunResult, note: str, lang: str = "en") -> Figure:
    """Share employed each week after assignment by arm (95 % bands), and the difference at 13, 26 and
    52 weeks with 95 % CIs. Weeks and horizons that the run is too short to observe are left empty."""
    fig, (left, right) = new_figure(text("employment_title", lang), note, ncols=2, width_ratios=[3, 2])
    curve = result.employment_by_week
    for arm in ARMS:
        c = curve[(curve["arm"] == arm) & (curve["n"] > 1)]
        k, p = c["weeks_since_assignment"], c["share_employed"] * 100
        half = Z95 * np.sqrt(c["share_employed"] * (1 - c["share_employed"]) / c["n"]) * 100
        left.plot(k, p, color=ARM_COLOURS[arm], label=_arm_label(arm, lang), linewidth=2)
        left.fill_between(k, p - half, p + half, color=ARM_COLOURS[arm], alpha=0.2, linewidth=0)
    left.set_title(text("employment_rate_band", lang), fontsize=11)
    finish(left, text("weeks_since_assignment", lang), text("share_employed", lang), legend="inside", zero=True)
    x = np.arange(len(HORIZONS))
    rates = result.summary.employment_rate
    diff = np.array([_nan(rates[f"{h}w"].difference) for h in HORIZONS])
    se = np.array([_nan(rates[f"{h}w"].se) for h in HORIZONS])
    right.errorbar(x, diff * 100, yerr=Z95 * se * 100, fmt="s", capsize=5, color=SERIES[2], markersize=8,
                   label=text("effect_ci", lang))
    right.axhline(0, color="0.3", linewidth=1)
    right.set_title(text("effect_ci", lang), fontsize=11)
    right.set_xticks(x, [text("weeks_n", lang, h=h) for h in HORIZONS])
    right.set_xlim(-0.5, len(HORIZONS) - 0.5)
    finish(right, text("time_since_assignment", lang), text("effect_pp", lang), legend=None)
    right.grid(alpha=0.3, axis="y")
    right.grid(False, axis="x")
    unseen = [str(h) for h, d in zip(HORIZONS, diff) if np.isnan(d)]
    if unseen:
        note_on(right, text("not_observed", lang, h=", ".join(unseen)))
    return fig


def survival_chart(result: RunResult, note: str, lang: str = "en", horizon: int = max(HORIZONS)) -> Figure:
    """Kaplan-Meier share not yet in work by weeks since assignment, by arm, with 95 % bands.

    A seeker without a job when the run ends is censored at their follow-up time rather than counted
    as unemployed, so late assignments do not bias the curve; follow-up is cut at `horizon` weeks."""
    fig, ax = new_figure(text("survival_title", lang), note)
    ind = result.individuals
    weeks = int(result.summary.weeks)
    for arm in ARMS:
        mine = ind[ind["arm"] == arm]
        seen = mine["first_job_seen"].to_numpy(bool)
        time = np.where(seen, mine["weeks_to_first_job"].fillna(0), weeks - mine["assigned_week"]).astype(float)
        status = seen & (time <= horizon)
        time = np.minimum(time, horizon)
        if time.size < 2:
            continue
        times, surv, se = kaplan_meier(time, status)
        lo, hi = km_band(surv, se)
        t = np.concatenate([[0], times])
        s = np.concatenate([[1], surv]) * 100
        ax.step(t, s, where="post", color=ARM_COLOURS[arm], linewidth=2,
                label=f"{_arm_label(arm, lang)} (n = {number(time.size, lang)})")
        ax.fill_between(t, np.concatenate([[1], lo]) * 100, np.concatenate([[1], hi]) * 100, step="post",
                        color=ARM_COLOURS[arm], alpha=0.2, linewidth=0)
    ax.set_xlim(0, horizon)
    ax.set_ylim(0, 102)
    finish(ax, text("weeks_since_assignment", lang), text("survival_y", lang), legend="inside")
    note_on(ax, text("censored_note", lang))
    return fig


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each time with an event, and its Greenwood standard error (NaN where
    everyone at risk had the event): statsmodels' `SurvfuncRight` without its import (1.3 s of a
    `labsim plot`); tests/test_speed.py checks the two agree."""
    times, rank = np.unique(time, return_inverse=True)
    d = np.bincount(rank, weights=event, minlength=times.size)
    n = np.cumsum(np.bincount(rank, minlength=times.size)[::-1])[::-1]
    keep = np.flatnonzero(d > 0)
    d, n, times = d[keep], n[keep], times[keep]
    sp = 1 - d / n.astype(np.float64)
    zero = sp < 1e-16
    sp[zero] = 1e-16
    sp = np.exp(np.cumsum(np.log(sp)))
    sp[zero] = 0
    se = d / np.clip(n * (n - d), 1e-12, np.inf).astype(np.float64)
    se[(n == d) | (n == 0)] = np.nan
    se = np.sqrt(np.cumsum(se))
    finite = np.isfinite(se) | (sp != 0)
    se[finite] *= sp[finite]
    se[~finite] = np.nan
    return times, sp, se


def km_band(surv: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95 % band of a Kaplan-Meier curve on the log(-log) scale (stays within 0-1), from the
    Greenwood standard errors; where the curve is 0 or 1 the band collapses onto it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        spread = Z95 * se / np.abs(surv * log_s)
        lo, hi = surv ** np.exp(spread), surv ** np.exp(-spread)
    flat = ~np.isfinite(spread)
    return np.where(flat, surv, lo), np.where(flat, surv, hi)


def provider_lines(summary: RunSummary) -> list[dict]:
    """Each provider's profit as a line in its number of clients (its revenue and running cost per
    client held at this run's values, set-up cost fixed), with the simulated point and break-even."""
    lines = []
    for p in summary.providers:
        if not p.clients:
            continue
        margin = (p.revenue_eur - (p.cost_eur - p.setup_cost_eur)) / p.clients
        lines.append({"margin": margin, "setup": p.setup_cost_eur, "x": [p.clients], "y": [p.profit_eur],
                      "break_even": p.break_even_clients, "provider": p.provider})
    return lines


def profit_chart(lines: Sequence[dict], labels: Sequence[str], note: str, lang: str = "en",
                 legend_title: str | None = None) -> Figure:
    """Provider profit against clients served: a line per provider (or payment model), the simulated
    outcome as dots, and the break-even caseload marked where the line crosses zero."""
    fig, ax = new_figure(text("profit_title", lang), note)
    ends = [max(line["x"]) for line in lines] + [line["break_even"] or 0 for line in lines]
    right = max(ends + [10]) * 1.3
    n = np.linspace(0, right, 200)
    for i, (line, label) in enumerate(zip(lines, labels)):
        colour, marker = SERIES[i % len(SERIES)], MARKERS[i % len(MARKERS)]
        even = line["break_even"]
        tail = text("break_even_at", lang, n=number(even, lang)) if even else text("never_breaks_even", lang)
        ax.plot(n, n * line["margin"] - line["setup"], color=colour, linewidth=2,
                label=textwrap.fill(f"{label}: {tail}", 44))
        ax.scatter(line["x"], line["y"], color=colour, marker=marker, s=50, zorder=3, edgecolor="white")
        if even:
            ax.axvline(even, color=colour, linestyle=":", linewidth=1.5)
            ax.plot([even], [0], marker="|", markersize=18, color=colour, markeredgewidth=2.5)
    ax.axhline(0, color="0.2", linewidth=1)
    ax.set_xlim(0, right)
    finish(ax, text("clients", lang), text("profit_eur", lang), legend=None)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title=legend_title)  # beside the data
    ax.yaxis.set_major_formatter(lambda v, _: number(v, lang))
    note_on(ax, text("profit_line_note", lang))
    return fig


def _nan(x: float | None) -> float:
    return np.nan if x is None else float(x)
