"""The answer of every command, built once: a verdict in plain words and the rows behind it.

`labsim run`, `diagnose`, `size` and a sweep's report each answer a planner's question. The answer is
built here, in the chosen language, from the same saved figures (summary.json, diagnosis.json,
size.json, results.parquet), and rendered twice: as the terminal table the command prints
(`as_text`, English) and as the report's answer section (report.py). The verdict comes first: filled
or not, significant or not, enough power or not, and the next step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from labsim.report import comparisons
from labsim.report.sizing import near_minimum
from labsim.report.i18n import number, percent, signed, span, text
from labsim.report.levers import lever_name, lever_value
from labsim.report.plots import Z95
from labsim.results.summary import HORIZONS, flat_summary
from labsim.sweep.tables import significant

ENOUGH_POWER = 0.8  # below this a diagnosis says the pilot would not give an answer


@dataclass
class Table:
    """A table of the answer: a title, column labels and rows of formatted cells."""

    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Answer:
    """A verdict (plain sentences), the labelled rows behind it, and tables where one row is not enough."""

    verdict: list[str]
    rows: list[tuple[str, str]]
    tables: list[Table] = field(default_factory=list)


def _ok(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _pp(x: float | None, lang: str, sign: bool = True) -> str:
    """A difference of shares in percentage points (the number only)."""
    if not _ok(x):
        return "-"
    return signed(x * 100, lang, 1) if sign else number(x * 100, lang, 1)


def _pm_share(value, se, lang: str, decimals: int = 1) -> str:
    if not _ok(value):
        return "-"
    return text("n_share_se", lang, v=percent(value, lang, decimals), se=percent(se, lang, decimals)) if _ok(se) \
        else percent(value, lang, decimals)


def _pm_pp(value, se, lang: str, sign: bool = True) -> str:
    if not _ok(value):
        return "-"
    v = _pp(value, lang, sign)
    return text("pp_se", lang, v=v, se=_pp(se, lang, sign=False)) if _ok(se) else text("pp_v", lang, v=v)


def _mode(mode: str | None, lang: str) -> str:
    return text(mode, lang).lower() if mode in ("voluntary", "mandatory") else str(mode or "-")


def _unit(by: str | None, lang: str) -> str:
    return text(f"unit_{by or 'participants'}", lang)


# -- one run ------------------------------------------------------------------------------------------


def effect_at(summary: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """The horizon a run's verdict is read at: 26 weeks if observed, else 13, else 52."""
    for h in (26, 13, 52):
        e = summary.get("employment_rate", {}).get(f"{h}w")
        if e and _ok(e.get("difference")) and _ok(e.get("se")):
            return h, e
    return None


def run_significant(e: dict[str, Any]) -> bool:
    """Whether a run's effect is significant at 5 % by the test its summary reports (the design's);
    a summary from before it named its test: |difference| > 1.96 SE."""
    if "test" in e:
        return _ok(e.get("p_value")) and e["p_value"] < 0.05
    return abs(e["difference"]) > Z95 * e["se"]


def _effect_range(e: dict[str, Any], lang: str) -> str:
    """The 95 % interval of a run's effect as its summary gives it (the design's test inverted; an end the
    test cannot reach is shown as infinite), or +-1.96 SE for a summary from before it named its test."""
    d = e["difference"]
    if "test" not in e:
        lo, hi = d - Z95 * e["se"], d + Z95 * e["se"]
        return span(_pp(lo, lang, sign=False), _pp(hi, lang, sign=False))
    lo = _pp(e["ci_low"], lang, sign=False) if _ok(e.get("ci_low")) else "-\u221e"
    hi = _pp(e["ci_high"], lang, sign=False) if _ok(e.get("ci_high")) else "\u221e"
    return span(lo, hi)


def run_answer(summary: dict[str, Any], lang: str = "en") -> Answer:
    """Filled or not, significant or not at the horizon; then volume, take-up, effects by arm, costs."""
    p = summary["participants"]
    reached, target = number(p["reached"], lang), number(p["target"], lang)
    verdict = [text("v_run_filled", lang, reached=reached, target=target, week=p["week_target_reached"])
               if p.get("week_target_reached") is not None
               else text("v_run_not_filled", lang, reached=reached, target=target)]
    found = effect_at(summary)
    if found is None:
        verdict.append(text("v_run_no_effect", lang))
    else:
        h, e = found
        key = "v_run_significant" if run_significant(e) else "v_run_not_significant"
        verdict.append(text(key, lang, h=h, d=_pp(e["difference"], lang), range=_effect_range(e, lang)))
        if e.get("test") == "randomisation" and e.get("ci_low") is None and e.get("ci_high") is None:
            verdict.append(text("v_run_cannot_reject", lang, clusters=e.get("clusters")))
    rows = [(text("n_participants", lang), text("n_participants_v", lang, reached=reached, target=target,
                                                 share=percent(p["share_of_target"], lang)))]
    rows.append((text("n_take_up", lang), percent(summary.get("take_up_rate"), lang, 1)))
    a = summary.get("assigned", {})
    if a:
        rows.append((text("n_assigned", lang), text("n_assigned_v", lang, pilot=number(a.get("pilot"), lang),
                                                     control=number(a.get("control"), lang))))
    for h in HORIZONS:
        e = summary["employment_rate"].get(f"{h}w", {})
        if not (_ok(e.get("difference")) and _ok(e.get("se"))):
            continue
        rows.append((text("n_effect", lang, h=h), text(
            "n_effect_arms_v", lang, d=_pp(e["difference"], lang), range=_effect_range(e, lang),
            pilot=percent(e.get("pilot"), lang, 1), control=percent(e.get("control"), lang, 1))))
    paid = summary.get("purchaser_paid_eur", {}).get("total")
    if paid is not None:
        rows.append((text("n_paid", lang), text("n_paid_v", lang, total=number(paid, lang),
                                                per=number(summary.get("cost_per_participant_eur"), lang))))
    cost = cost_row(pd.DataFrame([flat_summary(summary)]), lang)
    if cost:
        rows.append(cost)
    return Answer(verdict, rows)


def cost_row(rows: pd.DataFrame, lang: str) -> tuple[str, str] | None:
    """Cost per extra job with its 95 % interval (no upper end when the effect may be zero)."""
    h = comparisons.observed_horizon(rows)
    if h is None or "purchaser_paid_eur.total" not in rows:
        return None
    est, lo, hi = comparisons.cost_per_extra_job(rows, h)
    if np.isnan(est):
        return text("n_cost_job", lang), text("no_effect", lang)
    return text("n_cost_job", lang), text("n_cost_job_v", lang, c=number(est, lang),
                                          range=span(number(lo, lang), number(hi, lang)))


# -- a diagnosis --------------------------------------------------------------------------------------


def diagnose_answer(d: dict[str, Any], replications: pd.DataFrame | None = None, lang: str = "en",
                    scenario: str | None = None, mode: str | None = None, target: int | None = None) -> Answer:
    """Power and the next step first; then bias, precision and the costs over the simulated pilots
    (`scenario`, `mode` and `target` where diagnosis.json does not hold them)."""
    name = scenario or d.get("scenario") or "SCENARIO"
    mode = mode or d.get("referral_mode")
    power = d.get("power")
    target = number(d.get("target") or target, lang) if d.get("target") or target else "?"
    if _ok(power):
        key = "v_diag_ok" if power >= ENOUGH_POWER else "v_diag_low"
        verdict = [text(key, lang, target=target, mode=_mode(mode, lang), power=percent(power, lang))]
        if power < ENOUGH_POWER:
            verdict.append(text("v_diag_next", lang, scenario=name))
    else:
        verdict = []
    rows = [(text("n_power", lang), _pm_share(power, d.get("power_se"), lang))]
    for key, figure in (("n_mean_estimate", "mean_estimate"), ("n_pilot_effect", "pilot_effect"),
                       ("n_rollout", "rollout_effect"), ("n_bias", "bias_vs_rollout")):
        if _ok(d.get(figure)):
            rows.append((text(key, lang), _pm_pp(d[figure], d.get(f"{figure}_se"), lang)))
    if _ok(d.get("rmse")):
        rows.append((text("n_rmse", lang), _pm_pp(d["rmse"], d.get("rmse_se"), lang, sign=False)))
    for key, figure in (("n_coverage", "coverage"), ("n_type_s", "type_s")):
        if _ok(d.get(figure)):
            rows.append((text(key, lang), _pm_share(d[figure], d.get(f"{figure}_se"), lang)))
    if _ok(d.get("exaggeration")):
        rows.append((text("n_exaggeration", lang), text("n_exaggeration_v", lang, v=number(d["exaggeration"], lang, 1))))
    if _ok(d.get("participants_mean")):
        se = d.get("participants_mean_se")
        v = number(d["participants_mean"], lang) + (f" ± {number(se, lang)}" if _ok(se) else "")
        rows.append((text("n_participants_target", lang, target=target), v))
    if _ok(d.get("take_up")):
        rows.append((text("n_take_up", lang), _pm_share(d["take_up"], d.get("take_up_se"), lang)))
    if _ok(d.get("providers_viable")):
        rows.append((text("n_providers_viable", lang), _pm_share(d["providers_viable"], d.get("providers_viable_se"), lang, 0)))
    if _ok(d.get("purchaser_paid")):
        rows.append((text("n_paid", lang), number(d["purchaser_paid"], lang) + " EUR"))
    if _ok(d.get("cost_per_extra_job")):
        se = d.get("cost_per_extra_job_se")
        rows.append((text("n_cost_job", lang), text("n_cost_job_se", lang, v=number(d["cost_per_extra_job"], lang),
                                                    se=number(se, lang)) if _ok(se) else number(d["cost_per_extra_job"], lang)))
    elif replications is not None:  # what diagnosis.json lacks, from the simulated pilots
        shown = {label for label, _ in rows}
        rows += [r for r in replication_rows(replications, lang) if r[0] not in shown
                 and not (r[0] == text("n_mean_participants", lang) and _ok(d.get("participants_mean")))]
    rows += _uncertainty_rows(d, lang)
    return Answer(verdict + _overstatement_words(d, lang), rows)


def replication_rows(reps: pd.DataFrame | None, lang: str, at: str | None = None,
                     with_take_up: bool = True) -> list[tuple[str, str]]:
    """Volumes and costs as means over simulated pilots; `at` names the size they were simulated at."""
    if reps is None or reps.empty:
        return []
    def label(key: str) -> str:
        return text("n_at_size", lang, label=text(key, lang), size=at) if at else text(key, lang)

    rows = []
    if "participants" in reps:
        rows.append((label("n_mean_participants"), number(reps["participants"].mean(), lang)))
    if with_take_up and "take_up" in reps:
        rows.append((label("n_take_up"), percent(reps["take_up"].mean(), lang, 1)))
    if "purchaser_paid" in reps:
        paid = reps["purchaser_paid"].mean()
        people = reps["participants"].mean() if "participants" in reps else 0
        rows.append((label("n_paid"), text("n_paid_v", lang, total=number(paid, lang),
                                           per=number(paid / people if people else None, lang))))
    if "providers_viable" in reps:
        rows.append((label("n_providers_viable"), percent(reps["providers_viable"].mean(), lang, 0)))
    return rows


# -- a size search ------------------------------------------------------------------------------------


def _interval(ci, lang: str, fmt=None) -> str:
    fmt = fmt or (lambda x: number(x, lang))
    lo, hi = (list(ci or []) + [None, None])[:2]
    return span(fmt(lo) if lo is not None else "-", fmt(hi) if hi is not None else text("n_no_limit", lang))


def size_answer(s: dict[str, Any], replications: pd.DataFrame | None = None, lang: str = "en") -> Answer:
    """The minimum size and its interval first; then the effect it is sized for, the formula's size,
    intake, providers' break-even, the type-I check, figures at the minimum size and power by size."""
    unit, power = _unit(s.get("by"), lang), s.get("target_power", s.get("power", 0.8))
    ref = s.get("reference") or {}
    h = s.get("horizon_weeks", 26)
    n = s.get("minimum_size")
    curve = s.get("power_curve") or []
    if n is not None:
        verdict = [text("v_size_found", lang, n=number(n, lang), unit=unit, range=_interval(s.get("minimum_size_ci"), lang),
                        power=percent(power, lang), effect=_pp(ref.get("itt"), lang, sign=False), h=h)]
    else:
        largest = max((p["size"] for p in curve), default=None)
        verdict = [text("v_size_not_found", lang, n=number(largest, lang), unit=unit, power=percent(power, lang))]
    verdict = _range_verdict(s, unit, lang) + verdict
    rows = [(text("n_minimum_size", lang),
             text("n_minimum_size_v", lang, n=number(n, lang), unit=unit, range=_interval(s.get("minimum_size_ci"), lang))
             if n is not None else text("n_not_found", lang))]
    if _ok(ref.get("itt")):
        half = Z95 * ref.get("itt_se", math.nan)
        rows.append((text("n_effect_sized", lang), text(
            "n_effect_sized_v", lang, d=_pp(ref["itt"], lang), h=h, size=number(ref.get("size"), lang), unit=unit,
            range=span(_pp(ref["itt"] - half, lang, sign=False), _pp(ref["itt"] + half, lang, sign=False)))))
    if s.get("analytic_size") is not None:
        value = number(s["analytic_size"], lang)
        if (s.get("analytic_size_ci") or [None])[0] is not None:
            value = text("n_analytic_v", lang, n=value, range=_interval(s["analytic_size_ci"], lang))
        rows.append((text("n_analytic", lang), value))
    for key, name in (("n_eligible", "eligible_needed"), ("n_intake_weeks", "intake_weeks_needed")):
        if s.get(name) is not None:
            rows.append((text(key, lang), number(s[name], lang, 1 if name == "intake_weeks_needed" else 0)))
    if s.get("break_even_clients") is not None:
        rows.append((text("n_break_even", lang), text("n_break_even_v", lang, n=number(s["break_even_clients"], lang))))
    t = s.get("type_i_error")
    if t:
        rows.append((text("n_type_i", lang), text(
            "n_type_i_v", lang, rate=percent(t["rate"], lang, 1), n=t["sims"], size=number(t.get("size"), lang),
            range=_interval(t.get("ci"), lang, lambda x: percent(x, lang, 1)))))
    at = near_minimum(s, replications)
    if at is not None:
        size = at["size"].iloc[0] if "size" in at else None
        rows += replication_rows(at, lang, at=f"{number(size, lang)} {unit}" if size is not None else None)
    if s.get("status") == "budget":
        rows.append((text("n_note", lang), text("n_budget", lang)))
    elif s.get("not_reachable"):
        rows.append((text("n_note", lang), unreachable_text(s, unit, lang)))
    rows += _uncertainty_rows(s, lang)
    return Answer(verdict + _overstatement_words(s, lang), rows, _size_tables(s, lang))


def unreachable_text(s: dict[str, Any], unit: str, lang: str) -> str:
    """Why no size reached the target power (size.json `not_reachable`), in the report's language."""
    u = s["not_reachable"]
    said = text("n_unreachable", lang, n=number(u["largest"], lang), unit=unit,
                power=percent(s.get("target_power", 0.8), lang), best=percent(u["best_power"], lang),
                se=percent(u["best_power_se"], lang))
    if u.get("places_filled") is not None:
        said += text("n_unreachable_catchment", lang, n=number(u["places_filled"], lang))
    elif u.get("no_effect"):
        said += text("n_unreachable_no_effect", lang)
    return said


def _status(status: str | None, lang: str, places_filled: float | None = None) -> str:
    """A search's status (found, not_reachable, budget) in the reader's words; not reachable because the
    area fills no more places, where that is why."""
    if status == "not_reachable" and places_filled is not None:
        return text("status_catchment", lang, n=number(places_filled, lang))
    return text(f"status_{status}", lang) if status in ("found", "not_reachable", "budget") else str(status or "")


def _range_verdict(s: dict[str, Any], unit: str, lang: str) -> list[str]:
    """The honest range first, where the scenario has assumptions with an evidence range: the size at their
    ends, and the size that gives the target chance of a significant result across them (assurance)."""
    by = s.get("minimum_size_by_assumption") or []
    if not by:
        return []
    what = ", ".join(lever_name(p, lang) for p in dict.fromkeys(str(v["path"]) for v in by))
    known = [v["minimum_size"] for v in by if v["minimum_size"] is not None]
    lo = number(min(known), lang) if known else "–"
    n, a = s.get("size_for_assurance"), percent(s.get("target_assurance", s.get("target_power")), lang)
    if n is None:
        return [text("v_size_range_none", lang, what=what, a=a, lo=lo, unit=unit)]
    key = "v_size_range" if len(known) == len(by) else "v_size_range_open"
    filled = [v["places_filled"] for v in by if v.get("places_filled") is not None]
    if filled and key == "v_size_range_open":  # the unfavourable end needs more than the area can fill
        key = "v_size_range_catchment"
    return [text(key, lang, lo=lo, hi=number(max(known), lang) if known else "–", unit=unit, what=what,
                 n=number(n, lang), a=a, cap=number(max(filled), lang) if filled else "–")]


def _overstatement_words(s: dict[str, Any], lang: str) -> list[str]:
    """When the overstatement's interval excludes 1, the verdict says it in words."""
    o = s.get("overstatement") or {}
    lo, hi = (o.get("ratio_ci") or [None, None])[:2]
    if _ok(o.get("ratio")) and lo is not None and hi is not None and not lo <= 1 <= hi:
        return [text("n_overstatement_words", lang, r=number(o["ratio"], lang, 1))]
    return []


def _uncertainty_rows(s: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """Assurance and the pilot's overstatement of the roll-out effect, where the search saved them."""
    rows = []
    if s.get("assurance_curve"):
        rows.append((text("n_assurance", lang), ", ".join(
            f"{number(p['size'], lang)}: {percent(p['assurance'], lang)}" for p in s["assurance_curve"])))
    if s.get("size_for_assurance") is not None:
        rows.append((text("n_size_for_assurance", lang), text(
            "n_minimum_size_v", lang, n=number(s["size_for_assurance"], lang), unit=_unit(s.get("by"), lang),
            range=_interval(s.get("size_for_assurance_ci"), lang))))
    o = s.get("overstatement")
    if o:  # "-" where the roll-out effect is too small to divide by
        rows.append((text("n_overstatement", lang), text(
            "n_overstatement_v", lang, ratio=number(o["ratio"], lang, 2), itt=_pp(o.get("itt"), lang),
            rollout=_pp(o.get("rollout"), lang), n=o.get("worlds", "?"),
            range=_interval(o.get("ratio_ci"), lang, lambda x: number(x, lang, 2)))))
    r = s.get("rollout_size")
    if r and r.get("size"):
        rows.append((text("n_rollout_size", lang), text(
            "n_minimum_size_v", lang, n=number(r["size"], lang), unit=_unit(s.get("by"), lang),
            range=_interval(r.get("size_ci"), lang))))
    return rows


def sensitivity_answer(d: dict[str, Any], lang: str = "en") -> Answer:
    """Each assumption's effect on the power at the planned size, largest first."""
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
        rows.append((lever_name(p["path"], lang), value))
    return Answer([], rows)


def _size_tables(s: dict[str, Any], lang: str) -> list[Table]:
    tables = []
    curve = s.get("power_curve") or []
    if curve:
        # the places filled, where some target was larger than the catchment fills (else they equal the size)
        short = s.get("by", "participants") == "participants" and any(
            p.get("reached") is not None and p["reached"] < 0.99 * p["size"] for p in curve)
        head = [text("t_size", lang), *([text("t_places_filled", lang)] if short else []), text("t_power", lang),
                text("t_power_se", lang), text("t_sims", lang), text("t_analytic_power", lang)]
        tables.append(Table(text("r_power_table", lang), head,
                            [[number(p["size"], lang), *([number(p.get("reached"), lang)] if short else []),
                              percent(p["power"], lang), percent(p.get("power_se"), lang, 1),
                              number(p.get("sims"), lang), percent(p.get("analytic_power"), lang)] for p in curve]))
    by = s.get("minimum_size_by_assumption") or []
    if by:
        tables.append(Table(text("r_by_assumption", lang),
                            [text("t_assumption", lang), text("t_value", lang), text("t_minimum", lang),
                             text("t_interval", lang), text("t_status", lang)],
                            [[lever_name(str(r.get("path")), lang), lever_value(str(r.get("path")), r.get("value"), lang),
                              number(r.get("minimum_size"), lang), _interval(r.get("minimum_size_ci"), lang),
                              _status(r.get("status"), lang, r.get("places_filled"))] for r in by]))
    return tables


# -- variants (a sweep, or a folder of runs) -----------------------------------------------------------


def significant_share(rows: pd.DataFrame, h: int) -> float:
    """Power of a variant: the share of its runs whose effect at `h` weeks is significant by the test
    each run reports (`labsim.sweep.tables.significant`)."""
    sig = significant(rows, h).dropna()
    return float(sig.mean()) if sig.size else math.nan


def variants_answer(frame: pd.DataFrame, varied: list[str], lang: str = "en") -> Answer:
    """How many variants fill and how many answer; then one row per variant."""
    h = comparisons.observed_horizon(frame) or 26
    names = [lever_name(p, lang) for p in varied] or [text("t_variant", lang)]
    header = [*(n[:1].upper() + n[1:] for n in names), text("t_pilots", lang), text("t_reached", lang), text("t_effect", lang, h=h),
              text("t_power_col", lang), text("t_paid", lang), text("t_cost_job", lang)]
    body, powers, filled = [], [], 0
    for label, rows in comparisons.variants(frame, varied, lang):
        effect = pd.to_numeric(rows.get(f"employment_rate.{h}w.difference"), errors="coerce").mean()
        power = significant_share(rows, h)
        powers.append((power, label))
        if "participants.reached" in rows and "participants.target" in rows:
            filled += rows["participants.reached"].mean() >= 0.95 * rows["participants.target"].mean()
        levers = [lever_value(p, rows[p].iloc[0], lang) for p in varied] or [label.replace("\\$", "$")]
        body.append([
            *levers, str(len(rows)),
            number(rows["participants.reached"].mean(), lang) if "participants.reached" in rows else "-",
            _pp(effect, lang), percent(power, lang),
            number(rows["purchaser_paid_eur.total"].mean(), lang) if "purchaser_paid_eur.total" in rows else "-",
            _compact_cost(rows, h, lang),
        ])
    known = [(p, label) for p, label in powers if _ok(p)]
    verdict = [text("v_sweep", lang, points=len(body), filled=int(filled),
                    powered=sum(p >= ENOUGH_POWER for p, _ in known), power=percent(ENOUGH_POWER, lang))]
    if known:
        best = max(known, key=lambda x: x[0])
        verdict.append(text("v_sweep_best", lang, label=best[1].replace("\\$", "$"), power=percent(best[0], lang)))
    return Answer(verdict, [], [Table("", header, body)])


def _compact_cost(rows: pd.DataFrame, h: int, lang: str) -> str:
    """Cost per extra job for a table cell whose header names the unit: 20,755 (18,628–23,431)."""
    if "purchaser_paid_eur.total" not in rows:
        return "-"
    est, lo, hi = comparisons.cost_per_extra_job(rows, h)
    if np.isnan(est):
        return text("no_effect", lang)
    return f"{number(est, lang)} ({span(number(lo, lang), number(hi, lang))})"


# -- the terminal -------------------------------------------------------------------------------------


def as_text(head: str, answer: Answer, tail: str = "") -> str:
    """The answer for a terminal: the head line, the verdict, the rows aligned, each table with its
    columns aligned, then `tail`."""
    width = max((len(k) for k, _ in answer.rows), default=0)
    lines = [head, *answer.verdict, *(f"  {k:<{width}}  {v}" for k, v in answer.rows)]
    for table in answer.tables:
        cells = [table.header, *table.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(table.header))]
        lines += [table.title] if table.title else []
        lines += ["  " + "  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip()
                  for row in cells]
    return "\n".join([*lines, tail] if tail else lines)


def run_text(summary: dict[str, Any], path: Path, seed: int, out: Path) -> str:
    """What `labsim run` prints."""
    head = (f"{summary['scenario']} ({path}), seed {seed}, {summary['weeks']} weeks; "
            f"{summary['referral_mode']} referral")
    return as_text(head, run_answer(summary), f"Written to {out}/")


def diagnosis_text(d: dict[str, Any], out: Path) -> str:
    """What `labsim diagnose` prints."""
    head = (f"{d.get('scenario', '')}: {d['sims']} simulated pilots ({d['counterfactual_sims']} with no-pilot "
            f"and roll-out worlds), design {d['design']}, employment {d['horizon_weeks']} weeks after assignment")
    return as_text(head, diagnose_answer(d), f"Written to {out}/")


def size_text(a: dict[str, Any], out: Path) -> str:
    """What `labsim size` prints."""
    head = (f"{a.get('scenario', '')}: smallest pilot ({a['by']}) for power {a['target_power']:.0%} at alpha "
            f"{a['alpha']}, design {a['design']}, {a['referral_mode']} referral")
    return as_text(head, size_answer(a), f"{a['sims_total']} simulated pilots in {a['seconds']} s. Written to {out}/")


def sensitivity_text(a: dict[str, Any], out: Path) -> str:
    """What `labsim sensitivity` prints."""
    how = "Morris elementary effects" if a["method"] == "morris" else "one at a time"
    head = (f"{a['scenario']}: which assumption moves the power most at {a['by']} = {a['at_size']:,} "
            f"({how}, {a['sims']} pilots per point)")
    answer = sensitivity_answer(a)
    if a.get("central_power") is not None:
        answer.rows.append(("", text("sens_central", "en", p=percent(a["central_power"], "en"))))
    return as_text(head, answer, f"{a['sims_total']} simulated pilots in {a['seconds']} s. Written to {out}/")
