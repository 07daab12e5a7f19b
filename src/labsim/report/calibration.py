"""The calibration chart: each target's published range and figure beside the simulated mean and its
95 % interval, on one scale (the distance in units of the target's SD, z), so that moments measured in
weeks and in shares sit side by side."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from labsim.report.i18n import text
from labsim.report.style import ARM_COLOURS, TARGET_COLOUR, finish, footnote, new_figure, note_on, plain, save

if TYPE_CHECKING:
    from labsim.design.calibrate import Calibration


def calibration_figure(cal: Calibration, note: str, lang: str = "en") -> Figure:
    """Target against simulated, in SDs of each target (0 = the published figure; ±1.96 = its range)."""
    rows = cal.targets
    fig, ax = new_figure(text("calibration_title", lang), note)
    y = np.arange(len(rows))[::-1]
    sd = np.array([(r.range[1] - r.range[0]) / (2 * 1.96) for r in rows])
    z = np.array([r.z for r in rows])
    half = np.array([1.96 * np.nan_to_num(r.simulated_se) for r in rows]) / sd
    ax.barh(y, 2 * 1.96, left=-1.96, height=0.6, color=TARGET_COLOUR, alpha=0.18,
            label=text("calibration_range", lang))
    ax.scatter(np.zeros(len(rows)), y, marker="|", s=300, color=TARGET_COLOUR, label=text("calibration_published", lang))
    ax.errorbar(z, y, xerr=half, fmt="o", color=ARM_COLOURS["control"], capsize=4,
                label=text("calibration_simulated", lang))
    reach = np.nanmax(np.abs(np.concatenate([z - half, z + half, [1.96]])))
    ax.set_xlim(-reach - 0.5, reach + 0.5)
    ax.set_yticks(y, [plain(r.name) + (" *" if r.unverified else "") for r in rows])
    finish(ax, text("calibration_x", lang), "", legend="outside")
    note_on(ax, text("calibration_note", lang))
    return fig


def write_calibration_chart(cal: Calibration, folder: Path, lang: str = "en") -> list[Path]:
    """calibration.png in `folder`, footnoted with the scenario and the runs."""
    note = footnote(cal.scenario, text("calibration_detail", lang, runs=cal.runs), lang)
    return save(calibration_figure(cal, note, lang), folder, "calibration")
