"""The names of a sweep's levers and their values in the planner's language.

A lever is a scenario field by dotted path (`payment.preset`); its name comes from the catalogue key
`lever_<path with _ for .>` and a preset's from `preset_<name>`. A path without a translation is
shown as it is, so a new lever still reads, if less kindly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labsim.config.choices import ReferralMode
from labsim.report.i18n import has, number, percent, text

#: Matching efficiency per week at or below which the market is slack, at or above which it is tight
#: (the bundled experiments use 0.012, the calibrated 0.024 and 0.05; docs/model.md).
SLACK, TIGHT = 0.015, 0.04


def _key(path: str) -> str:
    return "lever_" + path.replace(".", "_")


def lever_name(path: str, lang: str) -> str:
    """`payment.preset` -> "payment model" (or the path itself when the catalogue has no name)."""
    return text(_key(path), lang) if has(_key(path)) else path


def lever_value(path: str, value: Any, lang: str) -> str:
    """A lever's value as a planner reads it: referral rules and presets translated, shares as %."""
    if isinstance(value, np.generic):
        value = value.item()
    if path == "referral.mode" and value in ReferralMode:
        return text(value, lang).lower()
    if path == "payment.preset" and has(f"preset_{value}"):
        return text(f"preset_{value}", lang)
    if isinstance(value, bool):
        return text("yes" if value else "no", lang)
    if path == "design.treatment_share" or path.endswith(("_share", ".no_show")):
        return percent(float(value), lang)
    if path == "market.matching_efficiency":
        market = "market_slack" if value <= SLACK else "market_tight" if value >= TIGHT else "market_middling"
        return f"{number(float(value), lang, 3)} ({text(market, lang)})"
    if isinstance(value, int | float):
        return number(value, lang, 0 if float(value).is_integer() else 2)
    return str(value)


def variant_label(values: dict[str, Any], lang: str, named: bool | None = None) -> str:
    """A short readable name for a variant: `lever: value` pairs (the bare value when only one lever
    varies and its value says what it is)."""
    if named is None:
        named = len(values) > 1 or any(isinstance(v, bool | np.bool_) for v in values.values())
    parts = [f"{lever_name(p, lang)}: {lever_value(p, v, lang)}" if named else lever_value(p, v, lang)
             for p, v in values.items()]
    return ", ".join(parts) or "-"
