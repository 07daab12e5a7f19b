"""A sweep's results by point as a spreadsheet a planner can use (`labsim results --xlsx`), and as the
table `labsim results` prints, both in the planner's language.

Four sheets: the means by point with their 95 % confidence intervals, the spread of single runs by
point (sd, percentiles, n), every single run (a row each), and one explaining every column. Columns are
labelled in the chosen language with their unit in the header; every value is stored as a number (a
lever's too, where it is one): shares as fractions formatted as percentages, effects in percentage
points, money in euros; the header row and the point's columns stay frozen, and columns are wide
enough to read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from labsim.report.i18n import has, number, percent, span, text
from labsim.report.levers import lever_name, lever_value
from labsim.sweep.tables import PointTable, is_share

MEAN_STATS = ("mean", "ci_low", "ci_high")
SPREAD_STATS = ("sd", "p2_5", "p97_5", "n")
FORMATS = {"share": "0.0%", "pp": "0.00", "eur": "#,##0", "count": "0", "number": "0.000"}


def figure_kind(figure: str) -> str:
    """How a figure is shown: a share (as %), a difference in percentage points, euros, or a number."""
    if figure.endswith(".difference"):
        return "pp"
    if is_share(figure):
        return "share"
    if "_eur" in figure:
        return "eur"
    return "number"


def figure_label(figure: str, lang: str) -> str:
    """`employment_rate.26w.pilot` -> "Employed 26 weeks after assignment, pilot arm" (else the path)."""
    m = re.fullmatch(r"employment_rate\.(\d+)w\.(pilot|control|difference|significant)", figure)
    if m:
        return text(f"x_{m.group(2)}", lang, h=m.group(1))
    key = "x_" + figure.replace(".", "_")
    return text(key, lang) if has(key) else figure


def _unit(kind: str, lang: str) -> str:
    return {"share": "u_share", "pp": "u_pp", "eur": "u_eur"}.get(kind, "")


def _header(figure: str, stat: str, lang: str) -> str:
    kind = "count" if stat == "n" else figure_kind(figure)
    unit = _unit(kind, lang)
    head = f"{figure_label(figure, lang)}: {text(f's_{stat}', lang)}"
    return f"{head} ({text(unit, lang)})" if unit else head


def _value(figure: str, stat: str, x):
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return None
    return float(x) * 100 if stat != "n" and figure_kind(figure) == "pp" else x


def lever_kind(path: str, value) -> str:
    """How a lever's values are stored: numbers as numbers (shares as %), names as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "text"
    if path == "design.treatment_share" or path.endswith(("_share", ".no_show")):
        return "share"
    return "count" if float(value).is_integer() else "number"


def lever_cell(path: str, value, lang: str):
    """A lever's value in a cell: the number itself, or the value's name in `lang`."""
    if hasattr(value, "item"):
        value = value.item()
    return value if lever_kind(path, value) != "text" else lever_value(path, value, lang)


def _lever_columns(table: PointTable, lang: str) -> list[tuple[str, str, str]]:
    first = table.frame.iloc[0] if len(table.frame) else {}
    return [(lever_name(f, lang)[:1].upper() + lever_name(f, lang)[1:],
             lever_kind(f, first[f].item() if hasattr(first.get(f), "item") else first.get(f)),
             text("e_lever", lang, path=f)) for f in table.factors]


def write_workbook(table: PointTable, path: Path, lang: str = "en") -> None:
    """Write the table as an .xlsx workbook at `path`."""
    wb = Workbook()
    explained: list[tuple[str, str, str]] = []
    sheets = [(text("sh_summary", lang), MEAN_STATS), (text("sh_spread_points", lang), SPREAD_STATS)]
    for i, (title, stats) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title[:31]
        columns = [(text("x_point", lang), "count", text("e_point", lang))]
        columns += _lever_columns(table, lang)
        columns += [(f"{text('x_replications', lang)} ({text('u_count', lang)})", "count", text("e_replications", lang)),
                    (f"{text('x_failed', lang)} ({text('u_count', lang)})", "count", text("e_failed", lang))]
        cells = []
        for fig in table.figures:
            for stat in stats:
                kind = "count" if stat == "n" else figure_kind(fig)
                columns.append((_header(fig, stat, lang), kind,
                                text(f"e_{stat}", lang, figure=figure_label(fig, lang))))
                cells.append((fig, stat))
        ws.append([c[0] for c in columns])
        for rec in table.frame.to_dict("records"):
            row = [int(rec["point"])]
            row += [lever_cell(f, rec[f], lang) for f in table.factors]
            row += [int(rec["replications"]), int(rec["failed"])]
            row += [_value(fig, stat, rec.get(f"{fig}.{stat}")) for fig, stat in cells]
            ws.append(row)
        _style(ws, columns, frozen=1 + len(table.factors))  # the point and its levers stay in view
        explained += [(name, ws.title, meaning) for name, _, meaning in columns]
    if table.runs is not None:
        explained += _runs_sheet(wb, table, lang)
    ws = wb.create_sheet(text("sh_columns", lang)[:31])
    columns = [(text("c_column", lang), "text", ""), (text("c_sheet", lang), "text", ""),
               (text("c_meaning", lang), "text", "")]
    ws.append([c[0] for c in columns])
    for row in explained:
        ws.append(list(row))
    _style(ws, columns, frozen=1, widest=90)
    wb.save(path)


def _runs_sheet(wb: Workbook, table: PointTable, lang: str) -> list[tuple[str, str, str]]:
    """Every single run, a row each: its point, levers, replication and figures (a failed run's empty)."""
    ws = wb.create_sheet(text("sh_spread", lang)[:31])
    columns = [(text("x_point", lang), "count", text("e_point", lang)), *_lever_columns(table, lang),
               (text("x_replication", lang), "count", text("e_replication", lang))]
    figures = [f for f in table.figures if f in table.runs]
    for fig in figures:
        kind = figure_kind(fig)
        unit = _unit(kind, lang)
        name = figure_label(fig, lang) + (f" ({text(unit, lang)})" if unit else "")
        columns.append((name, kind, text("e_run_value", lang, figure=figure_label(fig, lang))))
    ws.append([c[0] for c in columns])
    for rec in table.runs.to_dict("records"):
        ws.append([int(rec["point"]), *(lever_cell(f, rec[f], lang) for f in table.factors), int(rec["replication"]),
                   *(_value(fig, "mean", rec[fig]) for fig in figures)])
    _style(ws, columns, frozen=2 + len(table.factors))
    return [(name, ws.title, meaning) for name, _, meaning in columns]


def _cell_text(figure: str, x, lang: str) -> str:
    """One figure's value as `labsim results` prints it: shares in %, effects in pp, euros whole."""
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return "-"
    kind = figure_kind(figure)
    if kind == "share":
        return percent(x, lang, 1)
    if kind == "pp":
        return number(x * 100, lang, 2)
    return number(x, lang, 0 if kind == "eur" or abs(x) >= 100 else 3)


def results_text(t: PointTable, lang: str = "en") -> str:
    """The table `labsim results` prints: a block per point, every label and number in `lang`."""
    runs = int(t.frame["replications"].sum()) if len(t.frame) else 0
    failed = int(t.frame["failed"].sum()) if len(t.frame) else 0
    state = text("res_finished", lang) if t.chunks_done is None else text(
        "res_unfinished", lang, done=t.chunks_done, total=t.chunks_total)
    lines = [text("res_head", lang, name=t.name, points=text("res_points", lang, n=number(len(t.frame), lang)),
                  runs=text("runs_detail", lang, n=number(runs, lang)), failed=number(failed, lang), state=state),
             text("res_legend", lang)]
    if t.note:  # stored rows from before each design's own test: their significance used the old rule
        lines.append(text("res_old_rule", lang))
    for rec in t.frame.to_dict("records"):
        values = "; ".join(f"{lever_name(f, lang)}: {lever_value(f, rec[f], lang)}" for f in t.factors)
        lines += ["", text("res_point", lang, point=rec["point"], values=values,
                            runs=text("runs_detail", lang, n=int(rec["replications"])))]
        for fig in t.figures:
            s = {k: rec[f"{fig}.{k}"] for k in ("mean", "ci_low", "ci_high", "p2_5", "p97_5")}
            unit = _unit(figure_kind(fig), lang)
            label = figure_label(fig, lang) + (f" ({text(unit, lang)})" if unit and unit != "u_share" else "")
            lines.append("  " + text("res_line", lang, figure=label, mean=_cell_text(fig, s["mean"], lang),
                                     ci=span(_cell_text(fig, s["ci_low"], lang), _cell_text(fig, s["ci_high"], lang)),
                                     spread=span(_cell_text(fig, s["p2_5"], lang), _cell_text(fig, s["p97_5"], lang))))
    return "\n".join(lines)


def _style(ws, columns: list[tuple[str, str, str]], frozen: int, widest: int = 28) -> None:
    """Bold wrapped header, frozen header row and first columns, number formats, readable widths."""
    for j, (name, kind, _) in enumerate(columns, start=1):
        letter = get_column_letter(j)
        head = ws.cell(row=1, column=j)
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="top")
        values = [len(str(c.value)) for c in ws[letter][1:] if c.value is not None]
        ws.column_dimensions[letter].width = min(widest, max([12, min(len(name), 40) * 0.6, *(v + 2 for v in values)]))
        if kind in FORMATS:
            for cell in ws[letter][1:]:
                cell.number_format = FORMATS[kind]
    ws.row_dimensions[1].height = 64
    ws.freeze_panes = ws.cell(row=2, column=frozen + 1)
