"""Charts of a size search and a diagnosis: how large the pilot must be, and what it would report.

Drawn from `size.json`, `power_curve.csv`, `diagnosis.json` and `replications.parquet` (one row per
simulated pilot), never by simulating again.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from labsim.report.i18n import number, percent, span, text
from labsim.report.plots import Z95
from labsim.report.style import OKABE_ITO, SERIES, TARGET_COLOUR, finish, new_figure

if TYPE_CHECKING:
    from labsim.design.size_answer import SizeAnswer


def size_axis(a: SizeAnswer, lang: str) -> str:
    """The size axis names the lever the search varied (places, offices or weeks of intake)."""
    return text(f"pilot_size_{a.question.by}", lang)


def power_chart(a: SizeAnswer, curve: pd.DataFrame, note: str, lang: str = "en",
                replications: pd.DataFrame | None = None) -> Figure:
    """Simulated power at each size tried (dots, 95 % Monte Carlo bars), the fitted power curve the minimum
    size is read from (the answer's `curve`; with evidence the joint fit over every pilot, at the
    scenario's values), the analytic curve (`analytic_curve`), the target power, the minimum size with its interval (the one
    shaded band) and, where a target was larger than the catchment fills, the most places it fills."""
    from labsim.design.power_fit import fit_rows, fitted_power, most_filled, normal_cdf  # here: a run's charts need none

    q = a.question
    c = curve.sort_values("size")
    fig, ax = new_figure(text("power_title", lang), note)
    p, half = c["power"] * 100, Z95 * c["power_se"] * 100
    ax.errorbar(c["size"], p, yerr=[p - (p - half).clip(0), (p + half).clip(upper=100) - p], fmt="o",
                color=SERIES[0], ecolor=SERIES[0], elinewidth=1.5, capsize=4, markersize=6,
                label=text("simulated_power", lang))
    # both curves at the places filled: a target beyond what the catchment fills adds nobody
    cap = most_filled(fit_rows(replications)) if replications is not None else math.inf
    grid = np.linspace(max(1.0, c["size"].min() * 0.5), c["size"].max() * 1.05, 200)
    if a.curve is not None:  # the curve N* was read from (with evidence: the joint fit at the scenario's values)
        fitted = np.array([a.curve.power(min(g, cap)) for g in grid])
    elif replications is not None and {"size", "reject"} <= set(replications):  # a folder made before 2026-12-07
        fitted = fitted_power(replications, grid, normal_cdf)
    else:
        fitted = None
    if fitted is not None:
        joint = a.curve is not None and a.curve.joint
        central = sum(p.sims for p in a.power_curve)
        label = text("fitted_power_joint", lang, k=number(a.curve.pilots, lang),
                     j=number(a.curve.pilots - central, lang)) if joint else text("fitted_power", lang)
        ax.plot(grid, fitted * 100, color=SERIES[0], linewidth=2.2, label=label)
    n, formula = analytic_curve(a, cap)
    label = text("analytic_power", lang) if not math.isfinite(n) else \
        text("analytic_minimum", lang, n=number(math.ceil(n), lang))
    ax.plot(grid, [formula(g) * 100 for g in grid], color=SERIES[1], linestyle="--", linewidth=2, label=label)
    if math.isfinite(cap):  # why both curves go flat there
        ax.axvline(cap, color=OKABE_ITO["black"], linestyle="-.", linewidth=1.2,
                   label=text("most_filled", lang, n=number(cap, lang)))
    ax.axhline(q.target_power * 100, color=TARGET_COLOUR, linestyle=":", linewidth=2,
               label=text("target_power", lang, p=percent(q.target_power, lang)))
    _mark_minimum(ax, a, lang)
    ax.set_ylim(0, 102)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(lambda v, _: number(v, lang))
    finish(ax, size_axis(a, lang), text("power_y", lang), legend="outside")
    return fig


def analytic_curve(a: SizeAnswer, cap: float = math.inf):
    """The two-sample formula the answer prints beside N*: its size and its power at each size drawn. From
    the pilots nearest N* (`a.analytic`: their pooled effect and spread, the SE falling as 1/sqrt(places
    filled)), so that the dashed line crosses the target power at the size the text gives; from the
    reference batch where there are none (an unreachable answer, a folder made before issue 25). Beyond `cap`
    places, flat."""
    an, alpha = a.analytic, a.question.alpha
    if an is None or not an.usable():
        from labsim.design.power_fit import normal_cdf

        return a.reference.analytic_size, lambda g: a.reference.analytic_power(min(g, cap), alpha, normal_cdf)
    return an.size, lambda g: an.power(min(g, cap), alpha)


def _mark_minimum(ax, a: SizeAnswer, lang: str) -> None:
    """The headline size as a vertical line, its interval shaded."""
    head = a.headline()
    if head.size is None:
        return
    lo, hi = head.size_ci
    if lo is not None and hi is not None:
        ax.axvspan(lo, hi, color=OKABE_ITO["green"], alpha=0.15, linewidth=0)
    ax.axvline(head.size, color=OKABE_ITO["green"], linewidth=2,
               label=text("minimum_size", lang, n=number(head.size, lang),
                          range=span(number(lo, lang), number(hi, lang) if hi is not None else "∞")))


def mde_chart(a: SizeAnswer, curve: pd.DataFrame, note: str, lang: str = "en") -> Figure:
    """Minimum detectable effect, (z_{1-alpha/2} + z_power) x SE, against pilot size, with the effect the
    headline sizes for, named as the question and the answer name it: the curves cross near the size."""
    q = a.question
    c = curve.sort_values("size")
    z = NormalDist().inv_cdf
    mde = (z(1 - q.alpha / 2) + z(q.target_power)) * c["mean_se"] * 100
    fig, ax = new_figure(text("mde_title", lang), note)
    ax.plot(c["size"], mde, color=SERIES[0], marker="o", linewidth=2,
            label=text("mde_label", lang, p=percent(q.target_power, lang), a=number(q.alpha, lang, 2)))
    head = a.headline()
    if np.isfinite(head.effect):
        ax.axhline(head.effect * 100, color=TARGET_COLOUR, linestyle=":", linewidth=2,
                   label=text(f"effect_{head.estimand}", lang, e=number(head.effect * 100, lang, 1)))
    _mark_minimum(ax, a, lang)
    ax.set_xlim(left=0)
    ax.xaxis.set_major_formatter(lambda v, _: number(v, lang))
    finish(ax, size_axis(a, lang), text("mde_y", lang), legend="outside", zero=True)
    return fig


def rollout_effect(replications: pd.DataFrame | None) -> float | None:
    """The mean roll-out effect over the saved pilots, or None when it was not simulated (as in a size search)."""
    if replications is None or "rollout_effect" not in replications:
        return None
    value = pd.to_numeric(replications["rollout_effect"], errors="coerce").mean()
    return None if np.isnan(value) else float(value)


def estimates_chart(replications: pd.DataFrame, note: str, lang: str = "en") -> Figure | None:
    """The distribution of the effect estimate over simulated pilots, significant ones apart, against
    the roll-out effect: bias, spread and power at a glance."""
    r = replications.dropna(subset=["estimate"])
    if r.empty:
        return None
    fig, ax = new_figure(text("estimates_title", lang), note)
    est = r["estimate"] * 100
    bins = np.histogram_bin_edges(est, bins=min(30, max(8, int(np.sqrt(len(r))))))
    reject = r["reject"].fillna(False).astype(bool) if "reject" in r else pd.Series(False, index=r.index)
    ax.hist([est[reject], est[~reject]], bins=bins, stacked=True, color=[SERIES[2], "0.7"],
            label=[text("significant", lang), text("not_significant", lang)])
    effect = rollout_effect(r)
    if effect is not None:
        ax.axvline(effect * 100, color=TARGET_COLOUR, linestyle=":", linewidth=2.2,
                   label=text("rollout_effect", lang, e=number(effect * 100, lang, 1)))
    ax.axvline(est.mean(), color=SERIES[0], linewidth=2,
               label=text("mean_estimate", lang, e=number(est.mean(), lang, 1)))
    ax.axvline(0, color="0.2", linewidth=1)
    finish(ax, text("estimate_pp", lang), text("pilots", lang), legend="outside")
    return fig


def near_minimum(a: SizeAnswer, replications: pd.DataFrame | None) -> pd.DataFrame | None:
    """The replications at the simulated size nearest the minimum size (all of them if no size column)."""
    if replications is None or replications.empty:
        return None
    if "size" not in replications or a.minimum_size is None:
        return replications
    sizes = replications["size"].unique()
    nearest = sizes[np.argmin(np.abs(sizes - a.minimum_size))]
    return replications[replications["size"] == nearest]
