"""The levers the page offers: which scenario field each moves, its range, its unit and its source.

A planner moves these in a meeting ("what if referral were mandatory?"). Each lever names the dotted
scenario field it sets, so the edited scenario is the original file with those fields replaced. Ranges
hold what a planner would try; a scenario whose value lies outside a range widens it. Provider effort's
range is the scenario's evidence range (`[[assumptions]]`) where it states one. Labels, units and
sources are catalogue keys, so the page shows them in the planner's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labsim.config.assumptions import Assumption, value_at
from labsim.config.payment import PaymentPreset
from labsim.config.scenario import ReferralMode
from labsim.config.scenario import Scenario

PLANNERS_CHOICE = "app_planner"  # source: the planner decides it (no evidence needed)


@dataclass(frozen=True)
class Lever:
    """One control: the field it sets and how it is shown (label and unit are i18n keys)."""

    path: str
    label: str
    unit: str | None  # None: a choice of names, no unit
    source: str  # the catalogue key of its citation, or PLANNERS_CHOICE
    choices: tuple[str, ...] = ()  # a select's values; empty for a slider
    low: float = 0.0
    high: float = 1.0
    step: float = 1.0

    @property
    def whole(self) -> bool:
        """A slider of whole numbers (people, weeks, offices)."""
        return not self.choices and float(self.step).is_integer()


LEVERS: tuple[Lever, ...] = (
    Lever("referral.mode", "lever_mode", None, "src_referral_mode",
          choices=tuple(m.value for m in ReferralMode)),
    Lever("payment.preset", "lever_preset", None, "src_payment_preset", choices=tuple(p.value for p in PaymentPreset)),
    Lever("referral.target_participants", "lever_places", "unit_people", PLANNERS_CHOICE, low=50, high=10_000, step=50),
    Lever("design.treatment_share", "lever_share", "unit_share", PLANNERS_CHOICE, low=0.1, high=0.9, step=0.05),
    Lever("referral.intake_weeks", "lever_intake", "unit_weeks", PLANNERS_CHOICE, low=4, high=104, step=1),
    Lever("market.matching_efficiency", "lever_slack", "unit_efficiency", "src_matching_efficiency",
          low=0.010, high=0.040, step=0.001),
    Lever("providers.effort_effect", "lever_effort", "unit_effort", "src_effort_effect", low=0.0, high=2.0, step=0.05),
    Lever("area.offices", "lever_offices", None, "src_offices", low=1, high=20, step=1),  # the label names the unit
)


@dataclass(frozen=True)
class Shown:
    """A lever as it is shown for one scenario: its range there and where its value comes from (the
    scenario's own evidence range, when it states one, else the lever's citation)."""

    lever: Lever
    value: Any
    low: float
    high: float
    evidence: Assumption | None = None


def shown_for(scenario: Scenario) -> list[Shown]:
    """Each lever with the scenario's value, a range that holds it, and its source (the scenario's
    evidence range and source where its `[[assumptions]]` table states one)."""
    ranges = {a.path: a for a in scenario.assumptions}
    out = []
    for lever in LEVERS:
        value = value_at(scenario, lever.path)
        evidence = ranges.get(lever.path)
        low, high = (evidence.low, evidence.high) if evidence else (lever.low, lever.high)
        if not lever.choices:
            low, high = min(low, value), max(high, value)
        out.append(Shown(lever, value, low, high, evidence))
    return out
