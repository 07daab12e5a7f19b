"""The chart of `labsim sensitivity`: which assumption moves the pilot's power most over its range.

One-at-a-time (`oat`): a tornado, each assumption a bar from the power at the low end of its range to the
power at the high end, the others at the scenario's values, the widest at the top, with the 95 % interval
of the power at each end as whiskers; a bar whose swing is not distinguishable from noise (its interval
covers 0) is drawn hatched and pale. Morris: each assumption's mu* (mean absolute elementary effect on
power, in percentage points per step of 2/3 of its range) and sigma (the spread of the effects:
interaction or non-linearity), each with its 95 % interval. Drawn from sensitivity.json alone (`Sensitivity`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from labsim.report.i18n import number, percent, span, text
from labsim.report.style import OKABE_ITO, SERIES, finish, new_figure

if TYPE_CHECKING:
    from labsim.design.sensitivity import Sensitivity


def sensitivity_chart(data: Sensitivity, note: str, lang: str = "en") -> Figure | None:
    params = data.parameters
    if not params:
        return None
    size = text("sens_at", lang, n=number(data.at_size, lang), unit=text(f"unit_{data.by}", lang))
    labels = [p.path for p in params][::-1]  # the largest at the top
    y = np.arange(len(labels))
    if data.method == "oat":
        fig, ax = new_figure(text("sens_tornado_title", lang, at=size), note)
        lo = np.array([p.power_low for p in params][::-1]) * 100
        hi = np.array([p.power_high for p in params][::-1]) * 100
        noise = np.array([not p.distinguishable for p in params][::-1])
        ax.barh(y[~noise], (hi - lo)[~noise], left=lo[~noise], color=SERIES[0], height=0.6)  # end labels tell the direction
        if noise.any():
            ax.barh(y[noise], (hi - lo)[noise], left=lo[noise], color=SERIES[0], alpha=0.35, hatch="//",
                    height=0.6, label=text("sens_noise", lang).lstrip("; ").capitalize())
        for at, ci in ((lo, [p.power_low_ci for p in params]), (hi, [p.power_high_ci for p in params])):
            ci = np.array(ci[::-1]) * 100  # the 95 % interval of the power at each end
            ax.errorbar(at, y, xerr=[at - ci[:, 0], ci[:, 1] - at], fmt="none", ecolor="0.2", capsize=3, linewidth=1)
        for yi, (l, h, p) in enumerate(zip(lo, hi, params[::-1])):
            ax.text(l, yi, f"{p.low:g} ", ha="right" if l <= h else "left", va="center", fontsize=9)
            ax.text(h, yi, f" {p.high:g}", ha="left" if h >= l else "right", va="center", fontsize=9)
        if data.central_power is not None and data.central_power_ci is not None:
            ci = data.central_power_ci
            label = text("sens_central_ci", lang, p=percent(data.central_power, lang),
                         ci=span(percent(ci[0], lang), percent(ci[1], lang)))
            ax.axvline(data.central_power * 100, color="0.2", linewidth=1.5, label=label)
            ax.axvspan(ci[0] * 100, ci[1] * 100, color="0.2", alpha=0.08, linewidth=0)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 100)
        finish(ax, text("sens_power_x", lang), "", legend="inside")
        return fig
    fig, ax = new_figure(text("sens_morris_title", lang, at=size), note)
    mu = np.array([p.mu_star for p in params][::-1]) * 100
    sigma = np.array([p.sigma for p in params][::-1]) * 100
    mu_ci = np.array([p.mu_star_ci for p in params][::-1]) * 100
    sigma_ci = np.array([p.sigma_ci for p in params][::-1]) * 100
    mu_err = [np.clip(mu - mu_ci[:, 0], 0, None), np.clip(mu_ci[:, 1] - mu, 0, None)]
    sigma_err = [np.clip(sigma - sigma_ci[:, 0], 0, None), np.clip(sigma_ci[:, 1] - sigma, 0, None)]
    ax.barh(y, mu, xerr=mu_err, color=SERIES[0], height=0.6, capsize=4, label=text("sens_mu_star", lang))
    ax.errorbar(sigma, y, xerr=sigma_err, linestyle="none", marker="D", color=OKABE_ITO["vermillion"], capsize=3,
                label=text("sens_sigma", lang))
    ax.set_yticks(y, labels)
    ax.set_xlim(left=0)
    finish(ax, text("sens_mu_x", lang), "", legend="inside")
    return fig
