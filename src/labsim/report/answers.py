"""The answer of every command, built once: a verdict in plain words and the rows behind it.

`labsim run`, `diagnose`, `size`, `sensitivity`, `calibrate`, `validation`, `plan` and a sweep's report each
answer a planner's question. The answer is built here, in the chosen language, from the same saved typed
answers (summary.json, diagnosis.json, size.json, sensitivity.json, calibration.json, validation.json,
plan.json) or tables (results.parquet), and rendered twice: as the terminal table the command prints
(`as_text`, English) and as the report's answer section (report.py). The verdict comes first: filled
or not, significant or not, enough power or not, and the next step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from labsim.config.choices import ReferralMode
from labsim.report import comparisons, plan, validation
from labsim.report.i18n import number, percent, signed, span, text
from labsim.report.levers import lever_name, lever_value
from labsim.report.plots import Z95
from labsim.results.summary import HORIZONS

if TYPE_CHECKING:
    from labsim.design.calibrate import Calibration
    from labsim.design.diagnose import Diagnosis
    from labsim.design.plan import Plan
    from labsim.design.validation import Validation
    from labsim.results.summary import Effect, RunSummary
    from labsim.design.sensitivity import Sensitivity
    from labsim.design.size_answer import MinimumSize, Overstatement, SizeAnswer, SizeAtValue

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
    return text(mode, lang).lower() if mode in ReferralMode else str(mode or "-")


def _unit(by: str | None, lang: str) -> str:
    return text(f"unit_{by or 'participants'}", lang)


# -- one run ------------------------------------------------------------------------------------------


def effect_at(summary: RunSummary, primary: int = 26) -> tuple[int, Effect] | None:
    """The horizon a run's verdict is read at: the scenario's primary horizon if observed, else the
    nearest observed one (26, 13, 52 weeks in that order)."""
    for h in (primary, *(h for h in (26, 13, 52) if h != primary)):
        e = summary.effect_at(h)
        if e is not None and _ok(e.difference) and _ok(e.se):
            return h, e
    return None


def holm(p_values: dict[int, float]) -> dict[int, float]:
    """Holm's step-down adjusted p-values (the family: every horizon shown)."""
    order = sorted(p_values, key=p_values.get)
    out, running = {}, 0.0
    for i, h in enumerate(order):
        running = max(running, min(1.0, (len(order) - i) * p_values[h]))
        out[h] = running
    return out


def run_significant(e: Effect) -> bool:
    """Whether a run's effect is significant at 5 % by the test its summary reports (the design's)."""
    return _ok(e.p_value) and e.p_value < 0.05


def _effect_range(e: Effect, lang: str) -> str:
    """The 95 % interval of a run's effect as its summary gives it (the design's test inverted; an end the
    test cannot reach is shown as infinite)."""
    lo = _pp(e.ci_low, lang, sign=False) if _ok(e.ci_low) else "-\u221e"
    hi = _pp(e.ci_high, lang, sign=False) if _ok(e.ci_high) else "\u221e"
    return span(lo, hi)


def run_answer(summary: RunSummary, lang: str = "en", primary: int = 26) -> Answer:
    """Filled or not, significant or not at the primary horizon; then volume, take-up, effects by arm
    (the others marked secondary, with Holm-adjusted p-values), costs."""
    p = summary.participants
    reached, target = number(p.reached, lang), number(p.target, lang)
    verdict = [text("v_run_filled", lang, reached=reached, target=target, week=p.week_target_reached)
               if p.week_target_reached is not None
               else text("v_run_not_filled", lang, reached=reached, target=target)]
    found = effect_at(summary, primary)
    if found is None:
        verdict.append(text("v_run_no_effect", lang))
    else:
        h, e = found
        key = "v_run_significant" if run_significant(e) else "v_run_not_significant"
        verdict.append(text(key, lang, h=h, d=_pp(e.difference, lang), range=_effect_range(e, lang)))
        if e.test == "randomisation" and e.ci_low is None and e.ci_high is None:
            verdict.append(text("v_run_cannot_reject", lang, clusters=e.clusters))
    rows = [(text("n_participants", lang), text("n_participants_v", lang, reached=reached, target=target,
                                                 share=percent(p.share_of_target, lang)))]
    rows.append((text("n_take_up", lang), percent(summary.take_up_rate, lang, 1)))
    a = summary.assigned
    rows.append((text("n_assigned", lang), text("n_assigned_v", lang, pilot=number(a.pilot, lang),
                                                 control=number(a.control, lang))))
    shown = {h: summary.effect_at(h) for h in HORIZONS}
    shown = {h: e for h, e in shown.items() if e is not None and _ok(e.difference) and _ok(e.se) and e.se > 0}
    # the design's own p-values (the normal test's where the design's gives none: 2 x the normal tail, erfc)
    adjusted = holm({h: float(e.p_value) if _ok(e.p_value) else math.erfc(abs(e.difference / e.se) / math.sqrt(2))
                     for h, e in shown.items()})
    judged = found[0] if found else primary
    for h, e in shown.items():
        role = text("n_primary", lang) if h == judged else text("n_secondary", lang, p=number(adjusted[h], lang, 3))
        rows.append((text("n_effect", lang, h=h), text(
            "n_effect_arms_v", lang, d=_pp(e.difference, lang), range=_effect_range(e, lang),
            pilot=percent(e.pilot, lang, 1), control=percent(e.control, lang, 1)) + f" ({role})"))
    spill = (summary.spillover or {}).get(f"{judged}w")  # saturation designs: the untreated by share
    if spill is not None and _ok(spill.estimate) and _ok(spill.p_value):
        rows.append((text("n_spillover", lang, h=judged), text(
            "n_spillover_v", lang, d=_pp(spill.estimate, lang), p=number(spill.p_value, lang, 3),
            markets=spill.markets)))
    rows.append((text("n_paid", lang), text("n_paid_v", lang, total=number(summary.purchaser_paid_eur["total"], lang),
                                            per=number(summary.cost_per_participant_eur, lang))))
    cost = cost_row(pd.DataFrame([summary.flat()]), lang)
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


def diagnose_answer(d: Diagnosis, replications: pd.DataFrame | None = None, lang: str = "en") -> Answer:
    """Power and the next step first; then bias, precision and the costs over the simulated pilots."""
    target = number(d.target, lang) if d.target else "?"
    if _ok(d.power):
        key = "v_diag_ok" if d.power >= ENOUGH_POWER else "v_diag_low"
        verdict = [text(key, lang, target=target, mode=_mode(d.referral_mode, lang), power=percent(d.power, lang))]
        if d.power < ENOUGH_POWER:
            verdict.append(text("v_diag_next", lang, scenario=d.scenario))
    else:
        verdict = []
    rows = [(text("n_power", lang), _pm_share(d.power, d.power_se, lang))]
    for key, figure in (("n_mean_estimate", "mean_estimate"), ("n_pilot_effect", "pilot_effect"),
                        ("n_rollout", "rollout_effect"), ("n_bias", "bias_vs_rollout")):
        if _ok(getattr(d, figure)):
            rows.append((text(key, lang), _pm_pp(getattr(d, figure), getattr(d, f"{figure}_se"), lang)))
    if _ok(d.rmse):
        rows.append((text("n_rmse", lang), _pm_pp(d.rmse, d.rmse_se, lang, sign=False)))
    for key, figure in (("n_coverage", "coverage"), ("n_type_s", "type_s")):
        if _ok(getattr(d, figure)):
            rows.append((text(key, lang), _pm_share(getattr(d, figure), getattr(d, f"{figure}_se"), lang)))
    if _ok(d.exaggeration):
        rows.append((text("n_exaggeration", lang), text("n_exaggeration_v", lang, v=number(d.exaggeration, lang, 1))))
    if _ok(d.participants_mean):
        se = d.participants_mean_se
        v = number(d.participants_mean, lang) + (f" ± {number(se, lang)}" if _ok(se) else "")
        rows.append((text("n_participants_target", lang, target=target), v))
    if _ok(d.take_up):
        rows.append((text("n_take_up", lang), _pm_share(d.take_up, d.take_up_se, lang)))
    if _ok(d.providers_viable):
        rows.append((text("n_providers_viable", lang), _pm_share(d.providers_viable, d.providers_viable_se, lang, 0)))
    if _ok(d.purchaser_paid):
        rows.append((text("n_paid", lang), number(d.purchaser_paid, lang) + " EUR"))
    if _ok(d.cost_per_extra_job):
        se = d.cost_per_extra_job_se
        rows.append((text("n_cost_job", lang), text("n_cost_job_se", lang, v=number(d.cost_per_extra_job, lang),
                                                    se=number(se, lang)) if _ok(se) else number(d.cost_per_extra_job, lang)))
    elif replications is not None:  # no extra job to divide by: the volumes and costs over the simulated pilots
        shown = {label for label, _ in rows}
        rows += [r for r in replication_rows(replications, lang) if r[0] not in shown
                 and not (r[0] == text("n_mean_participants", lang) and _ok(d.participants_mean))]
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
    """An interval "lo–hi", "lo–no upper limit", or a lone dash when neither end is known."""
    fmt = fmt or (lambda x: number(x, lang))
    lo, hi = (list(ci or []) + [None, None])[:2]
    if lo is None and hi is None:
        return "–"
    return span(fmt(lo) if lo is not None else "-", fmt(hi) if hi is not None else text("n_no_limit", lang))


def size_answer(a: SizeAnswer, lang: str = "en") -> Answer:
    """The headline size and its interval first (the evidence range before it, both sizes after it where
    the pilot's estimate and the roll-out effect differ); then the effect it is sized for, the formula's
    size, the precision, intake, costs, break-even, the type-I check and power by size."""
    q, ref, unit = a.question, a.reference, _unit(a.question.by, lang)
    head, h = a.headline(), q.horizon_weeks
    if head.size is not None:
        verdict = [text(f"v_size_found_{head.estimand}", lang, n=number(head.size, lang), unit=unit,
                        range=_interval(head.size_ci, lang), power=percent(q.target_power, lang),
                        effect=_pp(head.effect, lang, sign=False), h=h)]
    else:
        largest = max((p.size for p in a.power_curve), default=None)
        verdict = [text("v_size_not_found", lang, n=number(largest, lang), unit=unit, power=percent(q.target_power, lang))]
    verdict = _range_verdict(a, unit, lang) + verdict + _both_sizes(a, unit, lang)
    rows = [(text("n_minimum_size", lang),
             text("n_minimum_size_v", lang, n=number(a.minimum_size, lang), unit=unit,
                  range=_interval(a.minimum_size_ci, lang)) if a.minimum_size is not None else text("n_not_found", lang))]
    if _ok(ref.itt):
        half = Z95 * ref.itt_se
        rows.append((text("n_effect_sized", lang), text(
            "n_effect_sized_v", lang, d=_pp(ref.itt, lang), h=h, size=number(ref.size, lang), unit=unit,
            range=span(_pp(ref.itt - half, lang, sign=False), _pp(ref.itt + half, lang, sign=False)))))
    if a.analytic is not None and math.isfinite(a.analytic.size):
        rows.append((text("n_analytic", lang), text(
            "n_analytic_near_v", lang, n=number(math.ceil(a.analytic.size), lang), range=_interval(
                [math.floor(x) if math.isfinite(x) else None for x in a.analytic.ci], lang),
            k=a.analytic.pilots, ratio=number(a.minimum.n_star / a.analytic.size, lang, 2) if a.minimum else "-")))
    rows.append((text("n_precision", lang), text(
        "n_precision_v", lang, asked=percent(q.precision, lang, 0), reached=_reached(a.minimum, lang),
        sims=number(a.sims_total, lang), batch=q.batch)))
    if a.curve is not None and a.minimum is not None:
        central = sum(p.sims for p in a.power_curve)
        rows.append((text("n_fit", lang), text(
            "n_fit_joint_v", lang, k=number(a.curve.pilots, lang), c=number(central, lang),
            j=number(a.curve.pilots - central, lang), z=number(a.curve.agreement, lang, 2),
            limit=number(1.96, lang, 2)) if a.curve.joint else text("n_fit_central_v", lang, k=number(central, lang))))
    acc = a.accounts
    for key, value in (("n_eligible", acc.eligible_needed), ("n_intake_weeks", acc.intake_weeks_needed)):
        if value is not None:
            rows.append((text(key, lang), number(value, lang, 1 if key == "n_intake_weeks" else 0)))
    if acc.break_even_clients is not None:
        rows.append((text("n_break_even", lang), text("n_break_even_v", lang, n=number(acc.break_even_clients, lang))))
    if a.type_i is not None:
        t = a.type_i
        rows.append((text("n_type_i", lang), text(
            "n_type_i_v", lang, rate=percent(t.rate, lang, 1), n=t.sims, size=number(t.size, lang),
            range=_interval(t.ci, lang, lambda x: percent(x, lang, 1)))))
        if t.placebo is not None:
            rows.append((text("n_placebo", lang), text(
                "n_placebo_v", lang, rate=percent(t.placebo.rate, lang, 1), n=number(t.placebo.sims, lang),
                range=_interval(t.placebo.ci, lang, lambda x: percent(x, lang, 1)))))
    rows += accounts_rows(a, unit, lang)
    if a.status == "budget":
        rows.append((text("n_note", lang), text("n_budget", lang)))
    elif a.unreachable is not None:
        rows.append((text("n_note", lang), unreachable_text(a, unit, lang)))
    rows += _uncertainty_rows(a, lang)
    return Answer(verdict + _overstatement_words(a, lang), rows, _size_tables(a, lang))


def _reached(found: MinimumSize | None, lang: str) -> str:
    """The precision N*'s interval reached: its half width as a share of N* ("-" without N*)."""
    if found is None:
        return "-"
    if not math.isfinite(found.high):
        return text("n_no_limit", lang)
    return "±" + percent((found.high - found.low) / 2 / found.n_star, lang, 0)


def accounts_rows(a: SizeAnswer, unit: str, lang: str) -> list[tuple[str, str]]:
    """Volumes and costs at the size the accounts batch ran (N*), from the answer's accounts part."""
    acc = a.accounts

    def label(key: str) -> str:
        return text("n_at_size", lang, label=text(key, lang), size=f"{number(acc.size, lang)} {unit}")

    rows = [(label("n_mean_participants"), number(acc.participants, lang))]
    if acc.purchaser_paid is not None:
        rows.append((label("n_paid"), text("n_paid_v", lang, total=number(acc.purchaser_paid, lang),
                                           per=number(acc.paid_per_participant, lang))))
    if acc.providers_viable_share is not None:
        rows.append((label("n_providers_viable"), percent(acc.providers_viable_share, lang, 0)))
    return rows


def _places_filled(a: SizeAnswer) -> float | None:
    """The most places the area filled in the central search, where some target was larger than it fills."""
    short = [p.reached for p in a.power_curve if p.reached < 0.99 * p.size]
    return max(p.reached for p in a.power_curve) if short and a.question.by == "participants" else None


def _beyond_places(a: SizeAnswer, size: int | None, lang: str) -> str:
    """"; more than the area can fill (at most N places)" where `size` is beyond what the area fills."""
    cap = _places_filled(a)
    if size is None or cap is None or size <= cap:
        return ""
    return text("n_beyond_places", lang, cap=number(cap, lang))


def _both_sizes(a: SizeAnswer, unit: str, lang: str) -> list[str]:
    """Where the overstatement's interval excludes 1, the size for each effect and which is the headline."""
    r, o = a.rollout, a.rollout.overstatement
    if not r.differs():
        return []
    return [text("v_size_both", lang, itt=_pp(o.itt, lang, sign=False), rollout=_pp(o.rollout, lang, sign=False),
                 n_itt=number(a.minimum_size, lang) if a.minimum_size is not None else "–",
                 r_itt=_interval(a.minimum_size_ci, lang), n_rollout=number(r.size.size, lang)
                 if r.size.size is not None else "–", r_rollout=_interval(r.size.size_ci, lang), unit=unit,
                 beyond=_beyond_places(a, r.size.size, lang), headline=text(f"headline_{a.question.estimand}", lang))]


def unreachable_text(a: SizeAnswer, unit: str, lang: str) -> str:
    """Why no size reached the target power (size.json `unreachable`), in the report's language."""
    u = a.unreachable
    said = text("n_unreachable", lang, n=number(u.largest, lang), unit=unit,
                power=percent(a.question.target_power, lang), best=percent(u.best_power, lang),
                se=percent(u.best_power_se, lang))
    if u.places_filled is not None:
        said += text("n_unreachable_catchment", lang, n=number(u.places_filled, lang))
    elif u.no_effect:
        said += text("n_unreachable_no_effect", lang)
    return said


def _status(status: str | None, lang: str, places_filled: float | None = None) -> str:
    """A search's status (found, not_reachable, budget) in the reader's words; not reachable because the
    area fills no more places, where that is why."""
    if status == "not_reachable" and places_filled is not None:
        return text("status_catchment", lang, n=number(places_filled, lang))
    return text(f"status_{status}", lang) if status in ("found", "not_reachable", "budget") else str(status or "")


def _range_verdict(a: SizeAnswer, unit: str, lang: str) -> list[str]:
    """The honest range first, where the scenario has assumptions with an evidence range: the size at their
    ends, and the size that gives the target chance of a significant result across them (assurance)."""
    if a.evidence is None or not a.evidence.by_assumption:
        return []
    by = a.evidence.by_assumption
    what = ", ".join(lever_name(p, lang) for p in dict.fromkeys(str(v.path) for v in by))
    known = [v.minimum.as_size() for v in by if v.minimum is not None]
    lo = number(min(known), lang) if known else "–"
    found, target = a.evidence.size_for_assurance, percent(a.evidence.target, lang)
    if found is None:
        key = "v_size_range_none" if known else "v_size_range_nowhere"  # no end found: no smallest size to name
        return [text(key, lang, what=what, a=target, lo=lo, unit=unit)]
    key = "v_size_range" if len(known) == len(by) else "v_size_range_open"
    filled = [v.places_filled for v in by if v.places_filled is not None]
    if filled and key == "v_size_range_open":  # the unfavourable end needs more than the area can fill
        key = "v_size_range_catchment"
    return [text(key, lang, lo=lo, hi=number(max(known), lang) if known else "–", unit=unit, what=what,
                 n=number(found.as_size(), lang), a=target, cap=number(max(filled), lang) if filled else "–")] + _pin_first(a, unit, lang)


def _pin_first(a: SizeAnswer, unit: str, lang: str) -> list[str]:
    """Which assumption to pin down first (the largest share of the spread across the evidence), and the
    size a range half as wide would need for the same assurance (design/evidence.py `Influence`)."""
    ev = a.evidence
    top = next((i for i in ev.influence if i.path == ev.pin_down_first), None)
    if top is None or len(ev.influence) < 2:
        return []
    fields = {"what": lever_name(top.path, lang), "share": percent(top.share, lang), "unit": unit,
              "a": percent(ev.target, lang)}
    d, ci = top.saving, top.saving_ci or (None, None)
    if d is None or top.size_if_halved is None:
        return [text("v_pin_first", lang, **fields)]
    lo, hi = (lever_value(top.path, x, lang) for x in (top.halved_low, top.halved_high))
    return [text("v_pin_first_costs" if d < 0 else "v_pin_first_saves", lang, **fields, lo=lo, hi=hi,
                 n=number(math.ceil(top.size_if_halved), lang), d=number(abs(round(d)), lang),
                 d_lo=number(round(ci[0]), lang) if ci[0] is not None else "–",
                 d_hi=number(round(ci[1]), lang) if ci[1] is not None else "–")]


def _overstatement_words(a: SizeAnswer | Diagnosis, lang: str) -> list[str]:
    """When the overstatement's interval excludes 1, the verdict says it in words."""
    o = _overstatement_of(a)
    if o is None:
        return []
    lo, hi = o.ratio_ci
    if _ok(o.ratio) and lo is not None and hi is not None and not lo <= 1 <= hi:
        return [text("n_overstatement_words", lang, r=number(o.ratio, lang, 1))]
    return []


def _overstatement_of(a: SizeAnswer | Diagnosis) -> Overstatement | None:
    return a.rollout.overstatement if _is_size(a) else a.overstatement


def _is_size(a: SizeAnswer | Diagnosis) -> bool:
    from labsim.design.size_answer import SizeAnswer  # here: a run's report needs none of it

    return isinstance(a, SizeAnswer)


def _uncertainty_rows(a: SizeAnswer | Diagnosis, lang: str) -> list[tuple[str, str]]:
    """Assurance and the pilot's overstatement of the roll-out effect (a size answer, or a diagnosis's
    overstatement)."""
    rows = []
    sized = _is_size(a)
    if sized and a.evidence is not None:
        ev = a.evidence
        if ev.assurance_curve:
            rows.append((text("n_assurance", lang), ", ".join(
                text("n_assurance_point", lang, n=number(p.size, lang), fit=percent(p.fitted, lang),
                     lo=percent(p.fitted_low, lang), hi=percent(p.fitted_high, lang), raw=percent(p.assurance, lang))
                if p.fitted is not None else f"{number(p.size, lang)}: {percent(p.assurance, lang)}"
                for p in ev.assurance_curve)))
        if ev.size_for_assurance is not None:
            rows.append((text("n_size_for_assurance", lang), text(
                "n_minimum_size_v", lang, n=number(ev.size_for_assurance.as_size(), lang),
                unit=_unit(a.question.by, lang), range=_interval(ev.size_for_assurance.ci(), lang))))
    o = _overstatement_of(a)
    if o is not None:  # "-" where the roll-out effect is too small to divide by
        rows.append((text("n_overstatement", lang), text(
            "n_overstatement_v", lang, ratio=number(o.ratio, lang, 2), itt=_pp(o.itt, lang),
            rollout=_pp(o.rollout, lang), n=o.worlds,
            range=_interval(o.ratio_ci, lang, lambda x: number(x, lang, 2)))))
    if sized and a.rollout.size.size is not None:
        rows.append((text("n_rollout_size", lang), text(
            "n_minimum_size_v", lang, n=number(a.rollout.size.size, lang), unit=_unit(a.question.by, lang),
            range=_interval(a.rollout.size.size_ci, lang)) + _beyond_places(a, a.rollout.size.size, lang)))
    return rows


def sensitivity_answer(d: Sensitivity, lang: str = "en") -> Answer:
    """Each assumption's effect on the power at the planned size, largest first."""
    def as_written(x: float) -> str:  # as the scenario writes it (0.012, not 0.012000), with the language's comma
        return f"{x:g}" if lang == "en" else f"{x:g}".replace(".", ",")

    def share(ci: tuple[float, float]) -> str:
        return _interval(ci, lang, lambda x: percent(x, lang))

    def points(ci: tuple[float, float]) -> str:
        return _interval([x * 100 for x in ci], lang, lambda x: number(x, lang, 1))

    rows = []
    for p in d.parameters:
        if d.method == "oat":
            value = text("n_sens_oat_ci_v", lang, lo=percent(p.power_low, lang), lo_ci=share(p.power_low_ci),
                         hi=percent(p.power_high, lang), hi_ci=share(p.power_high_ci),
                         swing=number(p.swing * 100, lang, 1), swing_ci=points(p.swing_ci),
                         a=as_written(p.low), b=as_written(p.high))
        else:
            value = text("n_sens_morris_ci_v", lang, mu=number(p.mu_star * 100, lang, 1), mu_ci=points(p.mu_star_ci),
                         sigma=number(p.sigma * 100, lang, 1), sigma_ci=points(p.sigma_ci),
                         a=as_written(p.low), b=as_written(p.high))
        if not p.distinguishable:
            value += text("sens_noise", lang)
        rows.append((lever_name(p.path, lang), value))
    return Answer(_sensitivity_verdict(d, lang), rows)


def _sensitivity_verdict(d: Sensitivity, lang: str) -> list[str]:
    """The central power with its interval, and how many pilots per point it took (or that more are needed)."""
    said = []
    if d.central_power is not None and d.central_power_ci is not None:
        said.append(text("sens_central_ci", lang, p=percent(d.central_power, lang),
                         ci=_interval(d.central_power_ci, lang, lambda x: percent(x, lang))))
    r = number(d.resolution * 100, lang)
    said.append(text("sens_pilots", lang, sims=number(d.sims, lang), first=number(d.sims_first, lang), r=r))
    if not d.resolved:
        said.append(text("sens_unresolved", lang, sims=number(d.sims, lang), r=r))
    return said


def calibration_answer(cal: Calibration, lang: str = "en") -> Answer:
    """How many targets the fit reproduces, each fitted value with its interval, then each target beside
    its simulation."""
    def num(x: float | int) -> str:  # a whole-number field as a whole number
        return number(x, lang) if isinstance(x, int) else number(x, lang, 3 if abs(x) < 1 else 1)

    inside = sum(t.matches for t in cal.targets)
    verdict = [text("cal_verdict", lang, inside=inside, n=len(cal.targets), j=number(cal.objective, lang, 2))]
    rows = [(lever_name(p.path, lang), text("cal_value_v", lang, value=num(p.value), range=_interval(p.interval, lang, num)))
            for p in cal.parameters]
    rows += [(t.name, text("cal_target_v", lang, published=num(t.published), range=_interval(t.range, lang, num),
                           simulated=num(t.simulated), se=num(t.simulated_se), z=number(t.z, lang, 2))
              + ("" if t.matches else text("cal_outside", lang))) for t in cal.targets]
    return Answer(verdict, rows)


def validation_answer(v: Validation, lang: str = "en") -> Answer:
    """How many published claims the simulation matches, then the table of every claim (report/validation.py)."""
    verdicts = [c.verdict for c in v.claims]
    said = text("val_verdict", lang, matches=verdicts.count("match"), n=len(verdicts),
                inconclusive=verdicts.count("inconclusive"))
    return Answer([said], [], [Table("", [text(k, lang) for k in validation.COLUMNS], validation.rows(v.claims, lang))])


def plan_answer(p: Plan, lang: str = "en") -> Answer:
    """The plan's verdict (what to buy, who cannot reach the target), then the table of every candidate."""
    df = plan.table(p, lang)
    cells = [[plan.cell(x, lang) for x in row] for row in df.itertuples(index=False)]
    return Answer(plan.verdict(p, lang), [], [Table("", list(df.columns), cells)])


def _value_and_effect(r: SizeAtValue, lang: str) -> str:
    """An assumption's value with what it means for the pilot: the employment effect (percentage points)
    found there; the bare value where the answer has no such figure."""
    value = lever_value(str(r.path), r.value, lang)
    if not _ok(r.itt):
        return value
    return text("t_value_effect", lang, value=value, effect=_pp(r.itt, lang))


def _size_tables(a: SizeAnswer, lang: str) -> list[Table]:
    tables = []
    curve = a.power_curve
    if curve:
        # the places filled, where some target was larger than the catchment fills (else they equal the size)
        short = a.question.by == "participants" and any(p.reached < 0.99 * p.size for p in curve)
        head = [text("t_size", lang), *([text("t_places_filled", lang)] if short else []), text("t_power", lang),
                text("t_power_se", lang), text("t_sims", lang), text("t_analytic_power", lang)]
        tables.append(Table(text("r_power_table", lang), head,
                            [[number(p.size, lang), *([number(p.reached, lang)] if short else []),
                              percent(p.power, lang), percent(p.power_se, lang, 1),
                              number(p.sims, lang), percent(p.analytic_power, lang)] for p in curve]))
    by = a.evidence.by_assumption if a.evidence is not None else ()
    if by:
        tables.append(Table(text("r_by_assumption", lang),
                            [text("t_assumption", lang), text("t_value", lang), text("t_minimum", lang),
                             text("t_interval", lang), text("t_status", lang)],
                            [[lever_name(str(r.path), lang), _value_and_effect(r, lang),
                              number(r.minimum.as_size() if r.minimum else None, lang),
                              _interval(r.minimum.ci() if r.minimum else None, lang),
                              _status(r.status, lang, r.places_filled)]
                             for r in {(r.path, r.value): r for r in by}.values()]))  # an end at the central value once
    return tables


# -- variants (a sweep, or a folder of runs) -----------------------------------------------------------


def significant_share(rows: pd.DataFrame, h: int) -> float:
    """Power of a variant: the share of its runs whose effect at `h` weeks is significant by the test
    each run reports (`labsim.sweep.tables.significant`, imported here: a run's or a size's report needs none)."""
    from labsim.sweep.tables import significant

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


def run_text(summary: RunSummary, path: Path, seed: int, out: Path, primary: int = 26) -> str:
    """What `labsim run` prints, judged at the scenario's `primary` horizon."""
    head = (f"{summary.scenario} ({path}), seed {seed}, {summary.weeks} weeks; "
            f"{summary.referral_mode} referral")
    return as_text(head, run_answer(summary, primary=primary), f"Written to {out}/")


def diagnosis_text(d: Diagnosis, out: Path) -> str:
    """What `labsim diagnose` prints."""
    head = (f"{d.scenario}: {d.sims} simulated pilots ({d.counterfactual_sims} with no-pilot "
            f"and roll-out worlds), design {d.design}, employment {d.horizon_weeks} weeks after assignment")
    return as_text(head, diagnose_answer(d), f"Written to {out}/")


def size_text(a: SizeAnswer, out: Path) -> str:
    """What `labsim size` prints."""
    q = a.question
    head = (f"{q.scenario}: smallest pilot ({q.by}) for power {q.target_power:.0%} at alpha {q.alpha}, design "
            f"{q.design}, {q.referral_mode} referral")
    lines = [q.start] if q.start else []
    return as_text(head, size_answer(a), "\n".join([*lines, f"{a.sims_total} simulated pilots in {a.seconds} s. "
                                                    f"Written to {out}/"]))


def sensitivity_text(a: Sensitivity, out: Path) -> str:
    """What `labsim sensitivity` prints."""
    how = "Morris elementary effects" if a.method == "morris" else "one at a time"
    head = (f"{a.scenario}: which assumption moves the power most at {a.by} = {a.at_size:,} "
            f"({how}, {a.sims} pilots per point)")
    return as_text(head, sensitivity_answer(a), f"{a.sims_total} simulated pilots in {a.seconds} s. Written to {out}/")


def calibration_text(cal: Calibration, out: Path) -> str:
    """What `labsim calibrate` prints: the fitted values with intervals, then each target beside its simulation."""
    lines = [f"{cal.scenario}: calibrated by the simulated method of moments (J = {cal.objective:.2f}, "
             f"{cal.candidates} candidates, {cal.runs} runs in {cal.seconds:.0f} s)"]
    for p in cal.parameters:
        lo, hi = p.interval
        lines.append(f"  {p.path:<40} {p.value:>10.4g}  (95 % interval {lo:.4g} - {hi:.4g})")
    lines.append(f"  {'target':<36} {'published':>10} {'range':>17} {'simulated':>16} {'z':>6}")
    for t in cal.targets:
        se = f"{t.simulated:.3g} ± {t.simulated_se:.2g}" if math.isfinite(t.simulated_se) else f"{t.simulated:.3g}"
        lines.append(f"  {t.name[:36]:<36} {t.published:>10.4g} {t.range[0]:>8.3g}-{t.range[1]:<8.3g} "
                     f"{se:>16} {t.z:>6.2f}{'' if t.matches else '  outside'}")
    lines.append(f"Written: {out}/calibration.json, calibrated.toml, calibration.png")
    return "\n".join(lines)
