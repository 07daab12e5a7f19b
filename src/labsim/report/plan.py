"""The plan's answer for a planner: the verdict first, the Pareto chart of assurance against cost, the
table of every candidate, and a workbook; in English, Finnish and Swedish (locales `plan_*`).

Everything is read from the typed answer (`labsim.design.plan.Plan`, plan.json), so the command line, the
report, the page and the workbook give the same figures.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from labsim.report.i18n import number, percent, span, text
from labsim.report.levers import lever_value

if TYPE_CHECKING:
    from labsim.design.plan import Plan, PlannedCandidate


def bundle(c: PlannedCandidate, lang: str) -> str:
    """A candidate in words: referral rule, payment, design, analysis, and the treated share."""
    parts = [lever_value("referral.mode", c.referral_mode, lang), lever_value("payment.preset", c.payment, lang),
             text(f"plan_design_{c.design}", lang), text(f"plan_estimator_{c.estimator}", lang),
             text("plan_share", lang, share=percent(c.treatment_share, lang))]
    return ", ".join(parts)


def letter(i: int) -> str:
    """The mark of the i-th candidate on the chart and in the table: A-Z, then AA, AB, ..."""
    return chr(65 + i) if i < 26 else letter(i // 26 - 1) + chr(65 + i % 26)


def short(c: PlannedCandidate, lang: str) -> str:
    """A candidate by the levers the plan varied only (the chart's label)."""
    words = []
    for path, v in c.levers.items():
        if path == "design.randomisation":
            words.append(text(f"plan_design_{v}", lang))
        elif path == "design.estimator":
            words.append(text(f"plan_estimator_{v}", lang))
        elif path == "design.treatment_share":
            words.append(text("plan_share", lang, share=percent(v, lang)))
        else:
            words.append(lever_value(path, v, lang))
    return ", ".join(words) or text("plan_as_scenario", lang)


def _euros(x: float, lang: str) -> str:
    return text("plan_meur", lang, m=number(x / 1e6, lang, 1 if x < 1e7 else 0))


def verdict(answer: Plan, lang: str = "en") -> list[str]:
    """The plan's answer in sentences: what to buy (or that nothing answers), then who cannot reach it."""
    cands = {c.candidate: c for c in answer.candidates}
    best, out = answer.answer, []
    target = percent(answer.target_assurance, lang)
    if answer.max_cost_eur is None:
        if best is None:
            out.append(text("plan_verdict_none", lang, a=target))
        else:
            c = cands[best.candidate]
            out.append(text("plan_verdict", lang, a=target, bundle=bundle(c, lang), n=number(best.size, lang),
                            where=_where(c, lang), cost=_euros(best.cost, lang),
                            ci=span(number(best.cost_ci[0] / 1e6, lang, 1), number(best.cost_ci[1] / 1e6, lang, 1))))
    elif best is None:
        out.append(text("plan_verdict_budget_none", lang, budget=_euros(answer.max_cost_eur, lang)))
    else:
        c = cands[best.candidate]
        out.append(text("plan_verdict_budget", lang, budget=_euros(answer.max_cost_eur, lang), bundle=bundle(c, lang),
                        n=number(best.size, lang), p=percent(best.power, lang), p2=percent(best.power_more, lang)))
    for c in answer.candidates:
        if c.status == "not_reachable":
            key = "plan_cannot_fill" if c.places_filled else "plan_cannot_reach"
            out.append(text(key, lang, bundle=bundle(c, lang), filled=number(c.places_filled or 0, lang), a=target))
        elif c.cannot_fill:  # not searched: the probe at the scenario's size already left places empty
            out.append(text("plan_cannot_fill", lang, bundle=bundle(c, lang), filled=number(c.places_reached, lang),
                            a=target))
    return out


def _where(c: PlannedCandidate, lang: str) -> str:
    """Intake weeks and, for office designs, the allocation the costs call for: offices, people in each and
    the share of offices to the pilot ("" when unknown)."""
    parts = []
    if c.intake_weeks_needed:
        parts.append(text("plan_over_weeks", lang, w=number(c.intake_weeks_needed, lang)))
    a = c.allocation
    if a is not None and a.offices and a.people_per_office:
        parts.append(text("plan_in_offices", lang, k=number(a.offices, lang), m=number(a.people_per_office, lang),
                          s=percent(a.share, lang)))
    return "".join(" " + p for p in parts)


def table(answer: Plan, lang: str = "en") -> pd.DataFrame:
    """Every candidate, one row each, with headings in `lang`."""
    rows = []
    for i, c in enumerate(answer.candidates):
        ci = c.minimum_size_ci or (None, None)
        ev = c.size_over_evidence or (None, None)
        rows.append({
            text("plan_col_candidate", lang): f"{letter(i)}: {bundle(c, lang)}",
            text("plan_col_state", lang): text(f"plan_state_{c.status or c.pruned or 'probed'}", lang),
            text("plan_col_analytic", lang): c.analytic_size,
            text("plan_col_size", lang): c.minimum_size,
            text("plan_col_size_ci", lang): span(number(ci[0], lang), number(ci[1], lang)) if ci[0] else "",
            text("plan_col_evidence", lang): span(number(ev[0], lang), number(ev[1], lang)) if ev[0] else "",
            text("plan_col_cost", lang): c.cost_eur,
            text("plan_col_cost_ci", lang): span(number(c.cost_ci_eur[0], lang), number(c.cost_ci_eur[1], lang))
            if c.cost_ci_eur else "",
            text("plan_col_paid", lang): None if c.paid_per_participant_eur is None else round(c.paid_per_participant_eur),
            text("plan_col_itt", lang): c.itt,
            text("plan_col_take_up", lang): c.take_up,
            text("plan_col_overstatement", lang): c.overstatement,
            text("plan_col_break_even", lang): c.break_even_clients,
            text("plan_col_viable", lang): c.providers_viable_share,
            text("plan_col_weeks", lang): c.intake_weeks_needed,
        })
    return pd.DataFrame(rows)


def cell(x: object, lang: str) -> str:
    """A value of the candidates' table as `lang` writes it (blank where missing)."""
    if x is None or (isinstance(x, float) and x != x):
        return ""
    if isinstance(x, bool):
        return text("yes" if x else "no", lang)
    if isinstance(x, int):
        return number(x, lang)
    if isinstance(x, float):
        return number(x, lang, 3 if abs(x) < 1 else 1 if abs(x) < 100 else 0)
    return str(x)


def _curve(c: PlannedCandidate) -> tuple[np.ndarray, np.ndarray] | None:
    """A candidate's (cost, power) curve: the search's fitted power over the sizes tried, priced."""
    if not c.curve or c.cost_eur is None or not c.minimum_size:
        return None
    n, p = np.array(c.curve, float).T
    fixed = c.fixed_eur or 0.0
    per = (c.cost_eur - fixed) / c.minimum_size
    return fixed + per * n, p


def frontier(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The non-dominated (cost, assurance) points, cheapest first: each buys more assurance than every
    cheaper point. Drawn as steps, it is the most assurance the money buys at each cost."""
    out: list[tuple[float, float]] = []
    for cost, power in sorted(points, key=lambda t: (t[0], -t[1])):
        if not out or power > out[-1][1]:
            out.append((cost, power))
    return out


def _points(c: PlannedCandidate, target: float) -> list[tuple[float, float]]:
    """What a candidate buys, as (cost, assurance): its searched curve, and its price at the target."""
    curve = _curve(c)
    pts = list(zip(*curve)) if curve is not None else []
    return pts + ([(c.cost_eur, target)] if c.cost_eur is not None else [])


def detail(answer: Plan, lang: str) -> str:
    """The Pareto chart's footnote after the scenario: the candidates and the pilots simulated."""
    return text("plan_chart_detail", lang, n=len(answer.candidates), sims=number(answer.sims_total, lang))


def pareto_chart(answer: Plan, folder: Path, lang: str = "en") -> list[Path]:
    """The Pareto chart (`pareto_figure`) written into `folder` as plan_pareto[_<lang>].png."""
    from labsim.report.style import footnote, localise_ticks, save

    fig = pareto_figure(answer, footnote(answer.scenario, detail(answer, lang), lang), lang)
    localise_ticks(fig, lang)
    return save(fig, folder, f"plan_pareto_{lang}" if lang != "en" else "plan_pareto")


def pareto_figure(answer: Plan, note: str, lang: str = "en") -> Figure:
    """Assurance against cost: each searched candidate's fitted curve, each candidate marked with its
    letter at its price; the frontier (non-dominated points) drawn as steps; candidates off it greyed."""
    from labsim.report.style import finish, new_figure, note_on

    fig, ax = new_figure(text("plan_chart_title", lang), note)
    target = answer.target_assurance
    points = {i: _points(c, target) for i, c in enumerate(answer.candidates)}
    front = frontier([p for pts in points.values() for p in pts])
    on_front = {i for i, pts in points.items() if any(p in front for p in pts)}
    palette = iter(["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c"])
    costs = [p[0] for pts in points.values() for p in pts if p[0] > 0]
    log = bool(costs) and max(costs) / min(costs) > 10  # an order of magnitude apart: a log scale keeps both readable
    spread = (math.log(max(costs) / min(costs)) if log else max(costs) - min(costs)) if costs else 0.0
    placed: list[float] = []  # the prices labelled so far: labels within 7 % of the axis are stacked
    greyed = False
    for i, c in enumerate(answer.candidates):
        if c.cost_eur is None:
            continue
        colour = next(palette, "#1b6ca8") if i in on_front else "0.65"
        # the legend names the candidates on the frontier; the dominated ones share one grey entry
        label = f"{letter(i)}: {short(c, lang)}" if i in on_front else None
        if label is None and not greyed:
            label, greyed = text("plan_dominated_legend", lang), True
        at = (c.cost_eur / 1e6, target)
        curve = _curve(c)
        if curve is not None:
            ax.plot(curve[0] / 1e6, curve[1], "-", color=colour, lw=1.6 if i in on_front else 1.0, label=label)
            ax.plot(*at, "o", color=colour, ms=7, zorder=4)
            mark = f"{letter(i)} ({number(c.minimum_size, lang)})"
        else:  # priced from the analytic size only
            ax.plot(*at, "x", color=colour, ms=7, mew=1.5, ls="none", label=label)
            mark = letter(i)
        level = sum(abs(math.log(c.cost_eur / x) if log else c.cost_eur - x) <= 0.07 * spread for x in placed)
        placed.append(c.cost_eur)
        ax.annotate(mark, at, xytext=(0, 8 + 10 * level), textcoords="offset points", fontsize=8.5,
                    color=colour if i in on_front else "0.45", ha="center", zorder=5)
    if any(c.cost_eur is not None and _curve(c) is None for c in answer.candidates):
        ax.plot([], [], "x", color="0.3", mew=1.5, ls="none", label=text("plan_not_searched", lang))
    if front:
        xs, ys = np.array(front).T
        right = max(p[0] for pts in points.values() for p in pts)
        ax.step(np.append(xs, right) / 1e6, np.append(ys, ys[-1]), where="post", color="black", lw=2.5,
                alpha=0.45, zorder=3, label=text("plan_frontier", lang))
    ax.axhline(target, color="0.4", ls=":", lw=1, label=text("plan_target", lang))
    if answer.max_cost_eur:
        ax.axvline(answer.max_cost_eur / 1e6, color="#d1495b", ls="--", lw=1, label=text("plan_budget", lang))
    ax.set_ylim(0, 1.05)
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: number(x, lang, 1 if x < 1 else 0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
    finish(ax, text("plan_cost_axis", lang), text("plan_power_axis", lang))
    note_on(ax, text("plan_chart_read", lang))
    return fig


def write_workbook(answer: Plan, path: Path, lang: str = "en") -> None:
    """plan.xlsx: the verdict, then the table of every candidate."""
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame({text("plan_col_verdict", lang): verdict(answer, lang)}).to_excel(
            xl, sheet_name=text("plan_sheet_verdict", lang)[:31], index=False)
        table(answer, lang).to_excel(xl, sheet_name=text("plan_sheet_candidates", lang)[:31], index=False)


def write_plan_report(answer: Plan, folder: Path, langs: tuple[str, ...] = ("en", "fi", "sv")) -> None:
    """plan_<lang>.md (verdict, chart, table), plan.xlsx and the Pareto chart for each language."""
    for lang in langs:
        suffix = "" if lang == "en" else f"_{lang}"
        pareto_chart(answer, folder, lang)
        write_workbook(answer, folder / f"plan{suffix}.xlsx", lang)
        lines = [f"# {text('plan_report_title', lang, scenario=answer.scenario)}", ""]
        lines += verdict(answer, lang) + ["", f"![](plan_pareto{suffix}.png)", ""]
        lines += _markdown(table(answer, lang))
        (folder / f"plan{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _markdown(df: pd.DataFrame) -> list[str]:
    """A table as Markdown lines (blank cells for missing values)."""
    cell = lambda x: "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else (  # noqa: E731
        f"{x:.3g}" if isinstance(x, float) else str(x))
    return ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)] + [
        "| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]


def plan_text(answer: Plan, out: Path, lang: str = "en") -> str:
    """What the command prints: the verdict, then one line per candidate, then where the files are."""
    lines = verdict(answer, lang) + [""]
    for c in answer.candidates:
        state = text(f"plan_state_{c.status or c.pruned or 'probed'}", lang)
        cost = _euros(c.cost_eur, lang) if c.cost_eur is not None else "-"
        size = number(c.minimum_size or c.analytic_size, lang) if (c.minimum_size or c.analytic_size) else "-"
        lines.append(f"  {bundle(c, lang)}: {size}, {cost} ({state})")
    lines.append("")
    lines.append(text("plan_written", lang, out=str(out)))
    return "\n".join(lines)

