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

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from labsim import __version__
from labsim.report import comparisons, sizing
from labsim.report.charts import figures_for
from labsim.report.i18n import LANGS, TEXTS, number, percent, text
from labsim.report.plots import Z95
from labsim.report.saved import Saved, load, varied_parameters
from labsim.results.summary import HORIZONS, flat_summary

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
        power, alpha = sizing.targets(t["size"])
        return text("q_size", lang, power=percent(power, lang), alpha=number(alpha, lang, 2))
    if saved.kind == "run":
        mode = sc.get("referral", {}).get("mode", t["summary"].get("referral_mode"))
        return text("q_run", lang, target=number(t["summary"]["participants"]["target"], lang),
                    mode=text(mode, lang).lower() if mode in ("voluntary", "mandatory") else mode)
    if saved.kind == "diagnose":
        return text("q_diagnose", lang)
    if saved.kind == "sensitivity":
        return text("q_sensitivity", lang)
    if saved.kind == "sweep":
        return text("q_sweep", lang, varied=", ".join(varied_parameters(t["results"])) or "-")
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
    rows = [
        ("a_description", str(g("description", ""))),
        ("a_area", text("a_area_v", lang, seekers=number(area.get("job_seekers"), lang), offices=area.get("offices"))),
        ("a_eligible", text("a_eligible_v", lang, lo=elig.get("min_weeks_unemployed"), hi=elig.get("max_weeks_unemployed"))),
        ("a_referral", text("a_referral_v", lang, mode=text(mode, lang) if mode in ("voluntary", "mandatory") else mode,
                            weeks=ref.get("intake_weeks"), target=number(ref.get("target_participants"), lang))),
        ("a_design", text("a_design_v", lang, randomisation=text(rand, lang) if rand in ("individual", "office") else rand,
                          share=percent(des.get("treatment_share"), lang))),
        ("a_providers", text("a_providers_v", lang, count=prov.get("count"), capacity=number(prov.get("capacity"), lang),
                             weeks=prov.get("service_weeks"))),
        ("a_payment", text("a_payment_v", lang, preset=pay.get("preset"), attach=number(pay.get("attachment_fee_eur"), lang),
                           outcome=number((pay.get("outcome") or {}).get("fee_eur"), lang))),
        ("a_market", text("a_market_on" if (g("market") or {}).get("congestion", True) else "a_market_off", lang)),
        ("a_weeks", str(g("weeks", "-"))),
    ]
    return [(text(key, lang), value) for key, value in rows]


def _pp(x: float | None, lang: str, sign: bool = True) -> str:
    if x is None or np.isnan(x):
        return "-"
    s = number(x * 100, lang, 1)
    return ("+" + s) if sign and x > 0 else s


def _cost_row(rows: pd.DataFrame, lang: str) -> tuple[str, str] | None:
    h = comparisons.observed_horizon(rows)
    if h is None or "purchaser_paid_eur.total" not in rows:
        return None
    est, lo, hi = comparisons.cost_per_extra_job(rows, h)
    if np.isnan(est):
        return text("n_cost_job", lang), text("no_effect", lang)
    high = number(hi, lang) if np.isfinite(hi) else "∞"
    return text("n_cost_job", lang), text("n_cost_job_v", lang, c=number(est, lang), lo=number(lo, lang), hi=high)


def answer(saved: Saved, lang: str) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
    """The answer as (label, value) rows, and a table of variants where the folder compares several."""
    t = saved.tables
    rows: list[tuple[str, str]] = []
    if saved.kind == "size":
        s = t["size"]
        n = s.get("minimum_size")
        if n is None:
            rows.append((text("n_minimum_size", lang), text("n_not_found", lang)))
        else:
            lo, hi = (s.get("minimum_size_ci") or [n, n])[:2]
            rows.append((text("n_minimum_size", lang),
                         text("n_minimum_size_v", lang, n=number(n, lang), lo=number(lo, lang), hi=number(hi, lang),
                              unit=text(f"unit_{s.get('by', 'participants')}", lang))))
        if s.get("analytic_size") is not None:
            rows.append((text("n_analytic", lang), _analytic_value(s, lang)))
        for key, field in (("n_eligible", "eligible_needed"), ("n_intake_weeks", "intake_weeks_needed")):
            if s.get(field) is not None:
                rows.append((text(key, lang), number(s[field], lang)))
        rows += _replication_rows(sizing.near_minimum(s, t["replications"]), lang)
        rows += _overstatement_rows(s, lang)
    elif saved.kind == "diagnose":
        d = t["diagnosis"]
        for key, field, pp in (("n_power", "power", False), ("n_bias", "bias_vs_rollout", True),
                               ("n_rmse", "rmse", True), ("n_coverage", "coverage", False), ("n_type_s", "type_s", False)):
            if d.get(field) is None:
                continue
            se = d.get(f"{field}_se")
            if pp:
                value = text("n_pp_se", lang, v=_pp(d[field], lang), se=_pp(se, lang, sign=False))
            else:
                value = text("n_share_se", lang, v=percent(d[field], lang, 1), se=percent(se, lang, 1))
            rows.append((text(key, lang), value))
        rows += _replication_rows(t["replications"], lang)
        rows += _overstatement_rows(d, lang)
    elif saved.kind == "sensitivity":
        rows += _sensitivity_rows(t["sensitivity"], lang)
    elif saved.kind == "run":
        s = t["summary"]
        p = s["participants"]
        rows.append((text("n_participants", lang), text("n_participants_v", lang, reached=number(p["reached"], lang),
                                                        target=number(p["target"], lang), share=percent(p["share_of_target"], lang))))
        rows.append((text("n_take_up", lang), percent(s.get("take_up_rate"), lang, 1)))
        for h in HORIZONS:
            e = s["employment_rate"][f"{h}w"]
            if e["difference"] is None or e["se"] is None:
                continue
            d, half = e["difference"], Z95 * e["se"]
            rows.append((text("n_effect", lang, h=h), text("n_effect_v", lang, d=_pp(d, lang), lo=_pp(d - half, lang),
                                                           hi=_pp(d + half, lang))))
        paid = s.get("purchaser_paid_eur", {}).get("total")
        if paid is not None:
            rows.append((text("n_paid", lang), text("n_paid_v", lang, total=number(paid, lang),
                                                    per=number(s.get("cost_per_participant_eur"), lang))))
        cost = _cost_row(pd.DataFrame([flat_summary(s)]), lang)
        if cost:
            rows.append(cost)
    if saved.kind == "sweep":
        return rows, variants_table(t["results"], varied_parameters(t["results"]), lang)
    if saved.kind == "runs":
        frame, varied = comparisons.frame_of_runs([r.tables["summary"] for r in saved.runs], [r.scenario for r in saved.runs])
        return rows, variants_table(frame, varied, lang)  # runs of one scenario pool as replications
    return rows, None


def _overstatement_rows(a: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The expected overstatement ITT / roll-out, in words when its interval excludes 1, and the size that
    detects the roll-out effect when the search was asked for it (design/rollout.py)."""
    o, rows = a.get("overstatement"), []
    if not o or o.get("ratio") is None:
        return rows
    lo, hi = (o.get("ratio_ci") or [None, None])[:2]
    fmt = lambda x: number(x, lang, 2) if x is not None else text("n_no_limit", lang)  # noqa: E731
    rows.append((text("n_overstatement", lang), text("n_overstatement_v", lang, r=number(o["ratio"], lang, 2),
                                                     lo=fmt(lo), hi=fmt(hi), worlds=o["worlds"])))
    if lo is not None and hi is not None and not lo <= 1 <= hi:
        rows.append(("", text("n_overstatement_words", lang, r=number(o["ratio"], lang, 1))))
    r = a.get("rollout_size")
    if r and r.get("size"):
        lo_n, hi_n = r["size_ci"]
        rows.append((text("n_rollout_size", lang), text("n_analytic_v", lang, n=number(r["size"], lang),
                                                        lo=number(lo_n, lang) if lo_n else "-",
                                                        hi=number(hi_n, lang) if hi_n else text("n_no_limit", lang))))
    return rows


def _sensitivity_rows(d: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """Each assumption's effect on the power, largest first."""
    def as_written(x: float) -> str:  # as the scenario writes it (0.012, not 0.012000), with the language's comma
        return f"{x:g}" if lang == "en" else f"{x:g}".replace(".", ",")

    rows = []
    for p in d["parameters"]:
        if d["method"] == "oat":
            value = text("n_sens_oat_v", lang, lo=percent(p["power_low"], lang), hi=percent(p["power_high"], lang),
                         a=as_written(p["low"]), b=as_written(p["high"]))
        else:
            value = text("n_sens_morris_v", lang, mu=number(p["mu_star"] * 100, lang, 1),
                         conf=number(p["mu_star_conf"] * 100, lang, 1), sigma=number(p["sigma"] * 100, lang, 1),
                         a=as_written(p["low"]), b=as_written(p["high"]))
        rows.append((p["path"], value))
    return rows


def _replication_rows(reps: pd.DataFrame | None, lang: str) -> list[tuple[str, str]]:
    """Volumes and costs over the simulated pilots (at the minimum size for a size search)."""
    if reps is None or reps.empty:
        return []
    rows = []
    if "participants" in reps:
        rows.append((text("n_mean_participants", lang), number(reps["participants"].mean(), lang)))
    if "take_up" in reps:
        rows.append((text("n_take_up", lang), percent(reps["take_up"].mean(), lang, 1)))
    if "purchaser_paid" in reps:
        paid = reps["purchaser_paid"].mean()
        per = paid / reps["participants"].mean() if "participants" in reps and reps["participants"].mean() else None
        rows.append((text("n_paid", lang), text("n_paid_v", lang, total=number(paid, lang), per=number(per, lang))))
    if "providers_viable" in reps:
        rows.append((text("n_providers_viable", lang), percent(reps["providers_viable"].mean(), lang, 0)))
    return rows


def variants_table(frame: pd.DataFrame, varied: list[str], lang: str) -> dict[str, Any]:
    """One row per variant: pilots simulated, participants, effect, purchaser's cost, cost per extra job."""
    h = comparisons.observed_horizon(frame) or 26
    header = [text("t_variant", lang), text("t_pilots", lang), text("t_reached", lang), text("t_effect", lang, h=h),
              text("t_paid", lang), text("t_cost_job", lang)]
    body = []
    for label, rows in comparisons.variants(frame, varied, lang):
        effect = pd.to_numeric(rows.get(f"employment_rate.{h}w.difference"), errors="coerce").mean()
        cost = _cost_row(rows, lang)
        body.append([
            label, str(len(rows)),
            number(rows["participants.reached"].mean(), lang) if "participants.reached" in rows else "-",
            _pp(effect, lang),
            number(rows["purchaser_paid_eur.total"].mean(), lang) if "purchaser_paid_eur.total" in rows else "-",
            cost[1] if cost else "-",
        ])
    return {"header": header, "rows": body}


def all_fields(scenario: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, "-" if v is None else str(v)) for k, v in flat_summary(scenario).items()]


def _analytic_value(size: dict[str, Any], lang: str) -> str:
    """The formula's size, with its range over the reference effect's 95 % interval when saved."""
    n = number(size["analytic_size"], lang)
    lo, hi = (size.get("analytic_size_ci") or [None, None])[:2]
    if lo is None:
        return n
    return text("n_analytic_v", lang, n=n, lo=number(lo, lang), hi=number(hi, lang) if hi else text("n_no_limit", lang))


def reading_key(chart: str, saved: Saved) -> str:
    """The caption of a chart; charts that compare with the roll-out effect say so only when it was simulated."""
    key = f"read_{chart}"
    if f"{key}_no_rollout" in TEXTS and sizing.rollout_effect(saved.tables.get("replications")) is None:
        return f"{key}_no_rollout"
    return key


def render(folder: Path, lang: str = "en") -> str:
    """The report of an output folder as one HTML page."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    saved = load(folder)
    scenario = saved.scenario or (saved.runs[0].scenario if saved.runs else {})
    rows, table = answer(saved, lang)
    charts = [
        {"src": png_data_uri(fig), "title": fig.get_suptitle(), "read": text(reading_key(name, saved), lang)}
        for name, fig in figures_for(saved, lang).items()
    ]
    created = saved.manifest.get("created_utc") or datetime.now(UTC).isoformat(timespec="seconds")
    return _env().get_template("report.html").render(
        lang=lang,
        t=lambda key, **kw: text(key, lang, **kw),
        title=text("r_title", lang, scenario=saved.scenario_name),
        made=text("r_made", lang, version=__version__, folder=Path(folder).name, date=created[:10]),
        question=question(saved, lang),
        assumptions=assumptions(scenario, lang),
        all_fields=all_fields(scenario),
        answer=rows,
        table=table,
        charts=charts,
        caveats=text("caveats", lang).split("|"),
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
