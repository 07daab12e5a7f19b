"""The planner's report: one self-contained HTML file drawn from an output folder.

The question, the scenario's assumptions, the answer (minimum size with its interval, volumes, costs),
the charts (PNG embedded as data: URIs) and the caveats, in English, Finnish or Swedish. The page loads
nothing from anywhere (a Content-Security-Policy forbids it, and it has no scripts), so it can be mailed
and opened offline. Every text that comes from a scenario file is escaped by Jinja2's autoescaping: a
description holding `<script>` shows as text.
"""

from __future__ import annotations

import base64
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from labsim import __version__
from labsim.report import answers, comparisons, sizing
from labsim.report.answers import Answer
from labsim.report.charts import figures_for
from labsim.report.i18n import LANGS, TEXTS, day, lines, number, percent, span, text
from labsim.report.levers import lever_name, lever_value
from labsim.report.saved import Saved, load, varied_parameters
from labsim.results.summary import flat_summary

TEMPLATES = Path(__file__).parent / "templates"


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True)
    )


def png_data_uri(fig) -> str:
    """A figure as an embedded PNG (a data: URI: no file, no request)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def question(saved: Saved, lang: str) -> str:
    sc, t = saved.scenario, saved.tables
    if saved.kind == "size":
        q = t["size"].question
        return text(f"q_size_{q.estimand}", lang, power=percent(q.target_power, lang), alpha=number(q.alpha, lang, 2))
    if saved.kind == "run":
        mode = sc.get("referral", {}).get("mode", t["summary"].get("referral_mode"))
        return text("q_run", lang, target=number(t["summary"]["participants"]["target"], lang),
                    mode=text(mode, lang).lower() if mode in ("voluntary", "mandatory") else mode)
    if saved.kind == "diagnose":
        return text("q_diagnose", lang)
    if saved.kind == "sensitivity":
        return text("q_sensitivity", lang)
    if saved.kind == "sweep":
        names = [lever_name(p, lang) for p in varied_parameters(t["results"])]
        return text("q_sweep", lang, varied=", ".join(names) or "-")
    return text("q_runs", lang, names=", ".join(r.path.name for r in saved.runs))


def assumptions(scenario: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The scenario's main assumptions as (label, value) rows, in the planner's words."""
    if not scenario:
        return []
    g = scenario.get
    area, ref, des, prov, pay = (g(k) or {} for k in ("area", "referral", "design", "providers", "payment"))
    elig = ref.get("eligibility", {})
    mode = ref.get("mode")
    rand = des.get("randomisation")
    preset = pay.get("preset")
    rows = [
        ("a_description", str(g(f"description_{lang}") or g("description", ""))),
        ("a_area", text("a_area_v", lang, seekers=number(area.get("job_seekers"), lang), n=area.get("offices"))),
        ("a_eligible", text("a_eligible_v", lang, range=span(str(elig.get("min_weeks_unemployed")),
                                                             str(elig.get("max_weeks_unemployed"))))),
        ("a_referral", text("a_referral_v", lang, mode=text(mode, lang) if mode in ("voluntary", "mandatory") else mode,
                            weeks=ref.get("intake_weeks"), target=number(ref.get("target_participants"), lang))),
        ("a_design", text("a_design_v", lang, randomisation=text(rand, lang) if rand in ("individual", "office") else rand,
                          share=percent(des.get("treatment_share"), lang))),
        ("a_providers", text("a_providers_v", lang, n=prov.get("count"), capacity=number(prov.get("capacity"), lang),
                             weeks=prov.get("service_weeks"))),
        ("a_payment", text("a_payment_v", lang, preset=lever_value("payment.preset", preset, lang),
                           attach=number(pay.get("attachment_fee_eur"), lang),
                           outcome=number((pay.get("outcome") or {}).get("fee_eur"), lang))),
        ("a_market", text("a_market_on" if (g("market") or {}).get("congestion", True) else "a_market_off", lang)),
        ("a_weeks", str(g("weeks", "-"))),
    ]
    return [(text(key, lang), value) for key, value in rows]


def what_varies(frame: pd.DataFrame, varied: list[str], lang: str) -> list[tuple[str, str]]:
    """A sweep's levers by name, with the values they take, in the planner's words."""
    out = []
    for path in varied:
        values = pd.unique(frame[path].dropna())
        name = lever_name(path, lang)
        out.append((name[:1].upper() + name[1:], ", ".join(lever_value(path, v, lang) for v in values)))
    return out


def answer_of(saved: Saved, lang: str) -> Answer:
    """The folder's answer, built by the same code as the command's terminal table."""
    t = saved.tables
    if saved.kind == "size":
        return answers.size_answer(t["size"], lang)
    if saved.kind == "diagnose":
        return answers.diagnose_answer(t["diagnosis"], t["replications"], lang)
    if saved.kind == "sensitivity":
        return answers.sensitivity_answer(t["sensitivity"], lang)
    if saved.kind == "run":
        primary = (saved.scenario.get("design") or {}).get("primary_horizon_weeks", 26)  # folders before it: 26
        return answers.run_answer(t["summary"], lang, primary)
    if saved.kind == "sweep":
        return answers.variants_answer(t["results"], varied_parameters(t["results"]), lang)
    frame, varied = comparisons.frame_of_runs([r.tables["summary"] for r in saved.runs], [r.scenario for r in saved.runs])
    return answers.variants_answer(frame, varied, lang)  # runs of one scenario pool as replications


def all_fields(scenario: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, "-" if v is None else str(v)) for k, v in flat_summary(scenario).items()]


def reading_key(chart: str, saved: Saved) -> str:
    """The caption of a chart; charts that compare with the roll-out effect say so only when it was simulated."""
    key = f"read_{chart}"
    if f"{key}_no_rollout" in TEXTS and sizing.rollout_effect(saved.tables.get("replications")) is None:
        return f"{key}_no_rollout"
    return key


def _title(saved: Saved, lang: str) -> str:
    """A sweep is titled by its experiment (not its folder), anything else by its scenario."""
    if saved.kind == "sweep" and saved.manifest.get("name"):
        return text("r_sweep_title", lang, name=saved.manifest["name"])
    return text("r_title", lang, scenario=saved.scenario_name)


def render(folder: Path, lang: str = "en") -> str:
    """The report of an output folder as one HTML page."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    saved = load(folder)
    scenario = saved.scenario or (saved.runs[0].scenario if saved.runs else {})
    answer = answer_of(saved, lang)
    varies = what_varies(saved.tables["results"], varied_parameters(saved.tables["results"]), lang) \
        if saved.kind == "sweep" else []
    charts = [
        {"src": png_data_uri(fig), "title": fig.get_suptitle(), "read": text(reading_key(name, saved), lang)}
        for name, fig in figures_for(saved, lang).items()
    ]
    created = saved.manifest.get("created_utc") or datetime.now(UTC).isoformat(timespec="seconds")
    return _env().get_template("report.html").render(
        lang=lang,
        t=lambda key, **kw: text(key, lang, **kw),
        title=_title(saved, lang),
        made=text("r_made", lang, version=__version__, folder=Path(folder).name, date=day(created, lang)),
        question=question(saved, lang),
        assumptions=assumptions(scenario, lang),
        all_fields=all_fields(scenario),
        verdict=answer.verdict,
        answer=answer.rows,
        tables=answer.tables,
        varies=varies,
        charts=charts,
        caveats=lines("caveats", lang),
    )


def write_report(folder: Path, lang: str = "en", out: Path | None = None) -> Path:
    """Write the report (default `folder/report-<lang>.html`) atomically; return its path."""
    out = Path(out) if out is not None else Path(folder) / f"report-{lang}.html"
    html = render(folder, lang)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
