"""The house style of labsim's charts: one look for every memo and slide.

Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), a bold title, labelled
axes with units, type large enough to read on a projected slide (the figure is drawn at 10 x 5.6 in,
16:9), a light grid, the legend outside the data, and a footnote naming the source and the scenario.
Figures are built without pyplot's global state (the Agg backend, no window), so charts can be drawn in
worker processes and tests, and every chart function returns its `Figure` for inspection.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter, ScalarFormatter  # noqa: E402

from labsim import __version__  # noqa: E402
from labsim.report.i18n import number, text  # noqa: E402

#: Okabe & Ito (2008), "Color Universal Design": black first, then the eight hues in their order.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
#: Colours in the order series take them (yellow last: it is faint on white).
SERIES = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
ARM_COLOURS = {"pilot": OKABE_ITO["orange"], "control": OKABE_ITO["blue"]}
TARGET_COLOUR = OKABE_ITO["vermillion"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]  # a second cue beside colour

FIGSIZE = (10, 5.6)  # inches; 16:9 like a slide
TITLE_WIDTH = 78  # characters of the bold title per line before it wraps
YLABEL_WIDTH = 36  # characters of a y-axis label per line: longer ones would outgrow the axes' height
LEGEND_WIDTH = 34  # characters of a legend entry per line: a long one would squeeze the panels
DPI = 110
RC = {
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # SVG text stays text: searchable, small, translatable
}
matplotlib.rcParams.update(RC)


def plain(label: str) -> str:
    """A label from a scenario file as literal text: a '$' would otherwise start matplotlib's maths."""
    return str(label).replace("$", r"\$")


def footnote(scenario: str, detail: str, lang: str) -> str:
    """The source line under every chart: labsim's version, the scenario, and the run's detail."""
    return text("footnote", lang, version=__version__, scenario=plain(scenario), detail=detail).strip()


def new_figure(title: str, note: str, ncols: int = 1, width_ratios: list[float] | None = None, nrows: int = 1,
               **subplots):
    """A titled figure with `nrows` x `ncols` axes and the footnote at the bottom left (taller per extra row)."""
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] + 3.2 * (nrows - 1)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # drawn by Agg from the start: the text its layout measured serves its PNG too
    fig.get_layout_engine().set(rect=(0, 0.075, 1, 0.925))  # room for the reading note and footnote
    fig.suptitle(textwrap.fill(title, TITLE_WIDTH), fontsize=15, fontweight="bold", x=0.01, ha="left")
    fig.text(0.01, 0.012, note, ha="left", va="bottom", fontsize=9, color="0.3")
    axes = fig.subplots(nrows, ncols, gridspec_kw={"width_ratios": width_ratios} if width_ratios else None,
                        **subplots)
    return fig, axes


def shared_legend(fig: Figure, title: str | None = None, last: tuple[str, ...] = ()) -> None:
    """One legend for every panel, right of the panels (never over the data); a label shown once, the
    `last` ones (e.g. what a whisker means) after the series."""
    seen: dict[str, object] = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    seen = {k: seen[k] for k in sorted(seen, key=lambda k: k in last)}
    if seen:
        labels = [textwrap.fill(label, LEGEND_WIDTH) for label in seen]
        fig.legend(list(seen.values()), labels, loc="outside right center", frameon=False, title=title)


def finish(ax: Axes, xlabel: str, ylabel: str, legend: str | None = "outside", zero: bool = False) -> None:
    """Label the axes, add the light grid and the legend (`outside` right, `inside` best, None)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(textwrap.fill(ylabel, YLABEL_WIDTH))
    if zero:
        ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if legend == "outside":  # entries wrapped, so that a long one does not squeeze the data
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles, [textwrap.fill(label, LEGEND_WIDTH) for label in labels], loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), frameon=False)
    elif legend == "inside":
        ax.legend(loc="best", frameon=False)


def note_on(ax: Axes, note: str) -> None:
    """A reading note (how to read the chart) on the line above the footnote, clear of the data."""
    ax.figure.text(0.01, 0.042, note, ha="left", va="bottom", fontsize=9.5, color="0.2", style="italic")


class LocalNumbers(Formatter):
    """Tick labels written as `lang` writes numbers (decimal comma, thin-space thousands in fi and sv),
    with as many decimals as the tick spacing needs."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.decimals = 0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        locs = np.asarray(locs, dtype=float)
        scale = max(np.abs(locs).max(initial=0.0), 1e-12)
        self.decimals = next((d for d in range(6) if np.allclose(np.round(locs, d), locs, rtol=0, atol=1e-9 * scale)), 6)

    def __call__(self, x, pos=None) -> str:
        return number(x, self.lang, self.decimals).replace("-", "\N{MINUS SIGN}")


def localise_ticks(fig: Figure, lang: str) -> None:
    """Write every numeric axis's default tick labels in `lang` (English keeps matplotlib's own)."""
    if lang == "en":
        return
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:  # not categories or our own labels
                axis.set_major_formatter(LocalNumbers(lang))


@contextmanager
def laid_out(fig: Figure, dpi: float) -> Iterator[Figure]:
    """The figure laid out once for output at `dpi`, without a layout engine while inside, so that each
    format saved in it is drawn once. (With an engine, even a placeholder, matplotlib's savefig first draws
    the whole figure without output, then draws it; the layout alone gives the same picture.)"""
    engine, own_dpi = fig.get_layout_engine(), fig.dpi
    fig.set_dpi(dpi)  # the layout measures the text as the output draws it
    if engine is not None:
        engine.execute(fig)
        with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)  # None, not "none": no placeholder engine left
    try:
        yield fig
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
        fig.set_dpi(own_dpi)


def save(fig: Figure, folder: Path, name: str, svg: bool = False) -> list[Path]:
    """Write the figure as `name.png` into `folder`, and with `svg` as `name.svg` too (laid out once for
    both); return the paths written. SVG is drawn only when asked (it costs a third of the PNG's drawing);
    without it an SVG of the chart left by an earlier drawing is removed, as it would no longer match."""
    folder.mkdir(parents=True, exist_ok=True)
    png, vector = folder / f"{name}.png", folder / f"{name}.svg"
    with laid_out(fig, DPI):
        fig.savefig(png, dpi=DPI)
        if svg:
            fig.savefig(vector, dpi=DPI, metadata={"Date": None})
    if not svg:
        vector.unlink(missing_ok=True)
    return [png, vector] if svg else [png]
