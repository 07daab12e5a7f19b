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

from jinja2 import Environment, FileSystemLoader, select_autoescape

from labsim import __version__
from labsim.config.choices import ReferralMode
from labsim.report import sizing
from labsim.report.i18n import LANGS, day, has, lines, number, percent, span, text
from labsim.report.levers import lever_value
from labsim.report.saved import Saved, load
from labsim.report.style import laid_out
from labsim.results.summary import flat_summary

TEMPLATES = Path(__file__).parent / "templates"
REPORT_DPI = 100  # the charts embedded in the page: 1,000 pixels wide (the files of `labsim plot`: style.DPI)


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True)
    )


def png_data_uri(fig) -> str:
    """A figure as an embedded PNG (a data: URI: no file, no request), drawn once."""
    buf = io.BytesIO()
    with laid_out(fig, REPORT_DPI):
        fig.savefig(buf, format="png", dpi=REPORT_DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


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
        ("a_referral", text("a_referral_v", lang, mode=text(mode, lang) if mode in ReferralMode else mode,
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


def all_fields(scenario: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, "-" if v is None else str(v)) for k, v in flat_summary(scenario).items()]


def reading_key(chart: str, saved: Saved) -> str:
    """The caption of a chart; charts that compare with the roll-out effect say so only when it was simulated."""
    key = f"read_{chart}"
    if has(f"{key}_no_rollout") and sizing.rollout_effect(saved.replications) is None:
        return f"{key}_no_rollout"
    return key


def render(folder: Path, lang: str = "en") -> str:
    """The report of an output folder as one HTML page."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    saved = load(folder)
    scenario = saved.scenario
    answer = saved.answer(lang)
    charts = [
        {"src": png_data_uri(fig), "title": fig.get_suptitle(), "read": text(reading_key(name, saved), lang)}
        for name, fig in saved.figures(lang).items()
    ]
    created = saved.manifest.get("created_utc") or datetime.now(UTC).isoformat(timespec="seconds")
    return _env().get_template("report.html").render(
        lang=lang,
        t=lambda key, **kw: text(key, lang, **kw),
        title=saved.title(lang),
        made=text("r_made", lang, version=__version__, folder=Path(folder).name, date=day(created, lang)),
        question=saved.question(lang),
        assumptions=assumptions(scenario, lang),
        all_fields=all_fields(scenario),
        verdict=answer.verdict,
        answer=answer.rows,
        tables=answer.tables,
        varies=saved.varies(lang),
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
