"""Charts of one run for a planner: where the job seekers are, whether the pilot fills, what it shows.

Each function takes a `RunResult` and writes one PNG. Figures are built without pyplot's global state
(the Agg backend, no window), so charts can be drawn in worker processes and tests.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from labsim.results.summary import HORIZONS, RunResult  # noqa: E402
from labsim.config.states import WORK_FORMS  # noqa: E402

ARM_COLOURS = {"pilot": "tab:orange", "control": "tab:blue"}
Z95 = 1.959964


def _figure(title: str, subtitle: str) -> Figure:
    fig = Figure(figsize=(9, 5.2), layout="constrained")
    fig.get_layout_engine().set(rect=(0, 0.04, 1, 0.96))  # leave room for the subtitle below
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.text(0.5, 0.01, subtitle, ha="center", va="bottom", fontsize=8, color="0.35")
    return fig


def _subtitle(result: RunResult) -> str:
    s = result.summary
    return f"Scenario: {s.get('scenario', '?')}, {s.get('job_seekers', '?'):,} job seekers followed"


def _finish_people_axes(ax, xlabel: str) -> None:
    """Counts of people by week: labels, a zero floor, a light grid, the legend outside on the right."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("People")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def plot_stocks(result: RunResult, path: Path) -> None:
    """Weekly stocks of job seekers by state group (all forms of work summed as 'employed')."""
    w = result.weekly
    groups = {
        "Unemployed": w["stock_unemployed"],
        "With a provider (pilot)": w["stock_with_provider"],
        "In an activation service": w["stock_activation"],
        "Employed (any form of work)": sum(w[f"stock_{f}"] for f in WORK_FORMS),
        "In studies": w["stock_studies"],
        "Inactive": w["stock_inactive"],
    }
    fig = _figure("Where the job seekers are, week by week", _subtitle(result))
    ax = fig.add_subplot()
    for label, series in groups.items():
        ax.plot(w["week"], series, label=label, linewidth=1.8)
    _finish_people_axes(ax, "Week of the pilot (0 = end of the burn-in, before the pilot opens)")
    fig.savefig(path, dpi=120)


def plot_intake(result: RunResult, path: Path) -> None:
    """Cumulative starts with providers against the target, and the participants in service each week."""
    w = result.weekly
    target = result.summary["participants"]["target"]
    fig = _figure("Does the pilot fill? Intake against the target", _subtitle(result))
    ax = fig.add_subplot()
    ax.plot(w["week"], w["assigned"].cumsum(), label="Assigned (pilot and control arms)", color="0.55")
    ax.plot(w["week"], w["referrals"].cumsum(), label="Started with a provider (cumulative)", linewidth=2.2)
    ax.plot(w["week"], w["participants"], label="With a provider this week", linestyle="--")
    ax.axhline(target, color="tab:red", linestyle=":", linewidth=1.8, label=f"Target: {target:,} participants")
    reached = result.summary["participants"]["reached"]
    ax.set_title(f"Reached {reached:,} of {target:,} ({reached / target:.0%})", fontsize=10)
    _finish_people_axes(ax, "Week of the pilot")
    fig.savefig(path, dpi=120)


def plot_employment_by_arm(result: RunResult, path: Path) -> None:
    """Share employed each week after assignment by arm (95 % bands), and the difference at 13, 26 and
    52 weeks with 95 % CIs. Weeks and horizons that the run is too short to observe are left empty.
    """
    fig = _figure("Employment after assignment: pilot against control", _subtitle(result))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    curve = result.employment_by_week
    for arm in ("pilot", "control"):
        c = curve[(curve["arm"] == arm) & (curve["n"] > 1)]
        k, p = c["weeks_since_assignment"], c["share_employed"] * 100
        half = Z95 * np.sqrt(c["share_employed"] * (1 - c["share_employed"]) / c["n"]) * 100
        left.plot(k, p, color=ARM_COLOURS[arm], label=f"{arm.capitalize()} arm")
        left.fill_between(k, p - half, p + half, color=ARM_COLOURS[arm], alpha=0.2, linewidth=0)
    left.set_ylabel("Share employed (%)")
    left.set_xlabel("Weeks since assignment")
    left.set_title("Employment rate by arm (95 % band)", fontsize=10)
    left.legend(frameon=False)
    left.grid(alpha=0.3)
    x = np.arange(len(HORIZONS))
    rates = result.summary["employment_rate"]
    diff = np.array([np.nan if rates[f"{h}w"]["difference"] is None else rates[f"{h}w"]["difference"] for h in HORIZONS])
    se = np.array([np.nan if rates[f"{h}w"]["se"] is None else rates[f"{h}w"]["se"] for h in HORIZONS])
    right.errorbar(x, diff * 100, yerr=Z95 * se * 100, fmt="s", capsize=4, color="tab:green")
    right.axhline(0, color="0.3", linewidth=1)
    right.set_ylabel("Pilot minus control (percentage points)")
    right.set_title("Effect estimate (95 % CI)", fontsize=10)
    right.set_xticks(x, [f"{h} weeks" for h in HORIZONS])
    right.set_xlim(-0.5, len(HORIZONS) - 0.5)
    right.set_xlabel("Time since assignment")
    right.grid(alpha=0.3, axis="y")
    unseen = [h for h, d in zip(HORIZONS, diff) if np.isnan(d)]
    if unseen:
        note = ", ".join(f"{h}" for h in unseen)
        right.text(0.5, 0.02, f"not observed in this run: {note} weeks", transform=right.transAxes,
                   ha="center", fontsize=8, color="0.4")
    fig.savefig(path, dpi=120)


CHARTS = {
    "stocks.png": plot_stocks,
    "intake.png": plot_intake,
    "employment_by_arm.png": plot_employment_by_arm,
}


def write_charts(result: RunResult, folder: Path) -> list[Path]:
    """Draw every chart into `folder` (created if needed); return the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in CHARTS.items():
        draw(result, folder / name)
        paths.append(folder / name)
    return paths
