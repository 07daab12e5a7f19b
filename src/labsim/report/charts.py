"""Every chart an output folder calls for, drawn from its saved files.

`write_charts_for(folder)` is what each command calls at the end (`labsim run`, `size`, `diagnose`,
`sweep`) and what `labsim plot DIR` calls to redraw without simulating: it reads the folder, decides
from its files which charts apply, and writes each as PNG and SVG into `folder/charts/`.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from labsim.config.scenario import ReferralMode
from labsim.report import comparisons, plots, sensitivity, sizing
from labsim.report.i18n import number, text
from labsim.report.saved import Saved, load, varied_parameters
from labsim.report.style import footnote, localise_ticks, save


def detail(saved: Saved, lang: str) -> str:
    """The footnote's second half: which seed, how many simulated pilots."""
    t = saved.tables
    if saved.kind == "run":
        mode = t["summary"].get("referral_mode")
        seed = text("seed", lang, seed=saved.manifest.get("seed", "?"))
        return f"{seed}, {text(mode, lang).lower()}" if mode in ReferralMode else seed
    if saved.kind in ("size", "diagnose"):
        reps = t.get("replications")
        if saved.kind == "size" and "sims" in t["curve"]:
            return text("sims_detail", lang, sims=number(int(t["curve"]["sims"].max()), lang))
        return text("sims_detail_diagnose", lang, sims=number(0 if reps is None else len(reps), lang))
    if saved.kind == "sensitivity":
        d = t["sensitivity"]
        return text("sens_detail", lang, sims=number(d["sims"], lang), points=number(len(d.get("points", [])), lang))
    if saved.kind == "sweep":
        r = t["results"]
        return text("sweep_detail", lang, points=r["point"].nunique(), reps=r["replication"].nunique())
    return text("runs_detail", lang, n=len(saved.runs))


def figures_for(saved: Saved, lang: str = "en") -> dict[str, Figure]:
    """The folder's charts by file name (without extension), in reading order."""
    note = footnote(saved.scenario_name, detail(saved, lang), lang)
    figs: dict[str, Figure | None] = {}
    t = saved.tables
    if saved.kind == "run":
        result = saved.result
        frame, _ = comparisons.frame_of_runs([result.summary], [saved.scenario])
        label = text(result.summary["referral_mode"], lang)
        figs["volume"] = plots.volume_chart([(label, result.weekly, result.summary["participants"]["target"])], note, lang)
        figs["stocks"] = plots.stocks_chart(result, note, lang)
        if result.employment_by_week is not None:
            figs["employment_by_arm"] = plots.employment_chart(result, note, lang)
        figs["survival_by_arm"] = plots.survival_chart(result, note, lang)
        lines = plots.provider_lines(result.summary)
        if lines:
            names = [text("provider_n", lang, n=line["provider"] + 1) for line in lines]
            figs["provider_profit"] = plots.profit_chart(lines, names, note, lang)
        figs["effort_by_employability"] = comparisons.effort_chart(frame, ["payment.preset"], note, lang)
        figs["cost_per_extra_job"] = comparisons.cost_chart(frame, ["payment.preset"], note, lang)
    elif saved.kind == "runs":
        if not saved.runs:
            return {}
        frame, varied = comparisons.frame_of_runs([r.tables["summary"] for r in saved.runs],
                                                  [r.scenario for r in saved.runs])
        panels = [(_run_label(r, lang), r.tables["weekly"], r.tables["summary"]["participants"]["target"])
                  for r in saved.runs]
        figs["volume"] = plots.volume_chart(panels, note, lang)
        figs.update(_comparisons(frame, varied, note, lang))
    elif saved.kind == "sweep":
        results = t["results"]
        figs.update(_comparisons(results, varied_parameters(results), note, lang))
    elif saved.kind == "size":
        figs["power_curve"] = sizing.power_chart(t["size"], t["curve"], note, lang, t["replications"])
        figs["minimum_detectable_effect"] = sizing.mde_chart(t["size"], t["curve"], note, lang)
        reps = sizing.near_minimum(t["size"], t["replications"])
        if reps is not None and "estimate" in reps:
            figs["estimates"] = sizing.estimates_chart(reps, note, lang)
    elif saved.kind == "diagnose":
        reps = t["replications"]
        if reps is not None and "estimate" in reps:
            figs["estimates"] = sizing.estimates_chart(reps, note, lang)
    elif saved.kind == "sensitivity":
        figs["sensitivity"] = sensitivity.sensitivity_chart(t["sensitivity"], note, lang)
    for fig in figs.values():
        if fig is not None:
            localise_ticks(fig, lang)
    return {name: fig for name, fig in figs.items() if fig is not None}


def _comparisons(frame, varied, note: str, lang: str) -> dict[str, Figure | None]:
    return {
        "volume_by_referral": comparisons.referral_volume_chart(frame, varied, note, lang),
        "effort_by_employability": comparisons.effort_chart(frame, varied, note, lang),
        "provider_profit": comparisons.profit_comparison_chart(frame, varied, note, lang),
        "cost_per_extra_job": comparisons.cost_chart(frame, varied, note, lang),
        "displacement": comparisons.displacement_chart(frame, varied, note, lang),
    }


def _run_label(run: Saved, lang: str) -> str:
    mode = run.tables["summary"].get("referral_mode")
    name = text(mode, lang) if mode in ReferralMode else run.path.name
    return f"{name} ({run.path.name})"


def write_charts_for(folder: Path, lang: str = "en", out: Path | None = None) -> list[Path]:
    """Draw every chart the folder calls for into `out` (default `folder/charts/`), PNG and SVG;
    return the files written."""
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "charts"
    paths: list[Path] = []
    for name, fig in figures_for(load(folder), lang).items():
        paths += save(fig, out, name)
    return paths

