"""The chart of `labsim sensitivity`: which assumption moves the pilot's power most over its range.

One-at-a-time (`oat`): a tornado, each assumption a bar from the power at the low end of its range to the
power at the high end, the others at the scenario's values, the widest at the top. Morris: each
assumption's mu* (mean absolute elementary effect on power, in percentage points per step of 2/3 of its
range) with its 95 % bootstrap interval, and sigma (the spread of the effects: interaction or
non-linearity) beside it. Drawn from sensitivity.json alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from labsim.report.i18n import number, percent, text
from labsim.report.style import OKABE_ITO, SERIES, finish, new_figure


def sensitivity_chart(data: dict[str, Any], note: str, lang: str = "en") -> Figure | None:
    params = data.get("parameters") or []
    if not params:
        return None
    size = text("sens_at", lang, n=number(data["at_size"], lang), unit=text(f"unit_{data.get('by', 'participants')}", lang))
    labels = [p["path"] for p in params][::-1]  # the largest at the top
    y = np.arange(len(labels))
    if data["method"] == "oat":
        fig, ax = new_figure(text("sens_tornado_title", lang, at=size), note)
        lo = np.array([p["power_low"] for p in params][::-1]) * 100
        hi = np.array([p["power_high"] for p in params][::-1]) * 100
        ax.barh(y, hi - lo, left=lo, color=SERIES[0], height=0.6)  # the end labels tell the direction
        for yi, (l, h, p) in enumerate(zip(lo, hi, params[::-1])):
            ax.text(l, yi, f"{p['low']:g} ", ha="right" if l <= h else "left", va="center", fontsize=9)
            ax.text(h, yi, f" {p['high']:g}", ha="left" if h >= l else "right", va="center", fontsize=9)
        if data.get("central_power") is not None:
            ax.axvline(data["central_power"] * 100, color="0.2", linewidth=1.5,
                       label=text("sens_central", lang, p=percent(data["central_power"], lang)))
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 100)
        finish(ax, text("sens_power_x", lang), "", legend="inside")
        return fig
    fig, ax = new_figure(text("sens_morris_title", lang, at=size), note)
    mu = np.array([p["mu_star"] for p in params][::-1]) * 100
    conf = np.array([p["mu_star_conf"] for p in params][::-1]) * 100
    sigma = np.array([p["sigma"] for p in params][::-1]) * 100
    ax.barh(y, mu, xerr=conf, color=SERIES[0], height=0.6, capsize=4, label=text("sens_mu_star", lang))
    ax.plot(sigma, y, linestyle="none", marker="D", color=OKABE_ITO["vermillion"], label=text("sens_sigma", lang))
    ax.set_yticks(y, labels)
    ax.set_xlim(left=0)
    finish(ax, text("sens_mu_x", lang), "", legend="inside")
    return fig
