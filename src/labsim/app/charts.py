"""The live charts: Solara components redrawn from the model's DataCollectors whenever Mesa's
visualisation counter (`mesa.visualization.utils.update_counter`) moves, as SolaraViz's plot
components are. They draw their own axes so that every label follows the page's language."""

from __future__ import annotations

import textwrap

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization.utils import update_counter

from labsim.app.live import LiveModel
from labsim.config.states import WORK_FORMS
from labsim.report.i18n import number, text
from labsim.report.style import SERIES, TARGET_COLOUR, localise_ticks

STOCKS = ("unemployed", "with_provider", "activation", "employed", "studies", "inactive")  # employed: all forms


def _figure(title: str) -> tuple[Figure, object]:
    fig = Figure(figsize=(5.2, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.set_title(textwrap.fill(title, 60), fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    return fig, ax


def _finish(ax, lang: str, ylabel: str) -> None:
    """Axis labels, and tick labels in the page's numbers (0,05 and 1 000 in fi and sv)."""
    ax.set_xlabel(text("week", lang), fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, loc="best")
    localise_ticks(ax.figure, lang)


@solara.component
def ParticipantsChart(model: LiveModel, lang: str):
    """Participants started against the places bought, and those with a provider each week."""
    update_counter.get()
    weekly, _ = model.frames()
    target = model.settings.referral.target_participants
    started = weekly["referrals"].cumsum()
    fig, ax = _figure(text("volume_title", lang))
    ax.plot(weekly["week"], started, color=SERIES[0], linewidth=2, label=text("started_cum", lang))
    ax.plot(weekly["week"], weekly["participants"], color=SERIES[1], label=text("participants_now", lang))
    ax.axhline(target, color=TARGET_COLOUR, linestyle=":", label=text("target", lang, n=number(target, lang)))
    ax.set_xlim(0, max(model.settings.weeks, 1))
    _finish(ax, lang, text("people", lang))
    with solara.Column(classes=["labsim-participants"]):
        solara.FigureMatplotlib(fig, format="png")
        solara.Text(text("app_started", lang, n=number(int(started.iloc[-1]), lang), target=number(target, lang)),
                    classes=["labsim-started"])


@solara.component
def StocksChart(model: LiveModel, lang: str):
    """Where the job seekers are, week by week."""
    update_counter.get()
    weekly, _ = model.frames()
    fig, ax = _figure(text("stocks_title", lang))
    for i, name in enumerate(STOCKS):
        series = sum(weekly[f"stock_{f}"] for f in WORK_FORMS) if name == "employed" else weekly[f"stock_{name}"]
        ax.plot(weekly["week"], series, color=SERIES[i], label=text(f"stock_{name}", lang))
    ax.set_xlim(0, max(model.settings.weeks, 1))
    _finish(ax, lang, text("people", lang))
    with solara.Column(classes=["labsim-stocks"]):
        solara.FigureMatplotlib(fig, format="png")


@solara.component
def ArmsChart(model: LiveModel, lang: str):
    """Share employed now among those assigned to each arm so far."""
    update_counter.get()
    _, arms = model.frames()
    weeks = np.arange(len(arms))
    fig, ax = _figure(text("app_arms_title", lang))
    ax.plot(weeks, 100 * arms["employed_pilot"], color=SERIES[0], linewidth=2, label=text("pilot_arm", lang))
    ax.plot(weeks, 100 * arms["employed_control"], color=SERIES[1], linewidth=2, label=text("control_arm", lang))
    ax.set_xlim(0, max(model.settings.weeks, 1))
    ax.set_ylim(bottom=0)
    _finish(ax, lang, text("share_employed", lang))
    with solara.Column(classes=["labsim-arms"]):
        solara.FigureMatplotlib(fig, format="png")
