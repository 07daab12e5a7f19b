"""The scenario variants a diagnosis compares: the pilot at a given size, the same world with no pilot,
with the pilot rolled out to everyone eligible, and with providers that do nothing (zero help).

Each variant is a scenario with a few fields overridden, so that it runs through the same model; the
variant of a size search changes one planner's lever (`participants`, `offices` or `intake-weeks`).
"""

from __future__ import annotations

import math
from typing import Any

from labsim.config.errors import LabsimError
from labsim.config.scenario import Randomisation, Scenario

SIZE_LEVERS = ("participants", "offices", "intake-weeks")


def _unbounded(scenario: Scenario) -> dict[str, Any]:
    """Places and target that never bind: everyone the rule refers can start."""
    n = scenario.area.job_seekers
    return {
        "referral.target_participants": n,
        "providers.capacity": max(scenario.providers.capacity, math.ceil(n / scenario.providers.count)),
    }


def no_pilot(scenario: Scenario) -> Scenario:
    """The same world with nobody referred: the counterfactual for every effect."""
    return scenario.with_values({**_unbounded(scenario), "design.randomisation": Randomisation.INDIVIDUAL,
                                 "design.treatment_share": 0.0})


def roll_out(scenario: Scenario) -> Scenario:
    """The same world with the pilot's referral rule applied to every eligible seeker, with places for
    all: what a national roll-out would do, and what the pilot is meant to predict."""
    return scenario.with_values({**_unbounded(scenario), "design.randomisation": Randomisation.INDIVIDUAL,
                                 "design.treatment_share": 1.0})


def zero_help(scenario: Scenario) -> Scenario:
    """Providers that do nothing and a referral that changes nothing: every effect must vanish (used to
    check the type-I error of the design)."""
    return scenario.with_values({
        "providers.effort": 0.0, "providers.network_share": 0.0, "providers.recruitment": 0.0,
        "referral.no_show": 0.0, "referral.sanction_effort_gain": 0.0, "referral.sanction_to_inactivity": 0.0,
    })


def at_size(scenario: Scenario, by: str, size: int) -> Scenario:
    """The scenario with the pilot's size set by one lever.

    `participants`: places bought (the target), with providers' capacity raised so places do not bind
    earlier; `intake-weeks`: weeks of intake with no cap on places (everyone referred in that time starts);
    `offices`: TE offices in the pilot area, each the size of the scenario's offices (register, target and
    capacity scale with them).
    """
    if size < 1:
        raise LabsimError(f"a pilot size must be 1 or more (got {size})")
    p, r, a = scenario.providers, scenario.referral, scenario.area
    if by == "participants":
        return scenario.with_values({
            "referral.target_participants": int(size),
            "providers.capacity": max(p.capacity, math.ceil(size / p.count)),
        })
    if by == "intake-weeks":
        return scenario.with_values({
            **_unbounded(scenario),
            "referral.intake_weeks": int(size),
            "pilot.end_week": max(scenario.pilot.end_week, r.start_week + int(size)),
            "weeks": max(scenario.weeks, r.start_week + int(size) + 52),  # outcomes a year on
        })
    if by == "offices":
        scale = size / a.offices
        return scenario.with_values({
            "area.offices": int(size), "area.job_seekers": max(1, round(a.job_seekers * scale)),
            "referral.target_participants": max(1, round(r.target_participants * scale)),
            "providers.capacity": max(1, math.ceil(p.capacity * scale)),
        })
    raise LabsimError(f"--by must be one of {', '.join(SIZE_LEVERS)} (got {by!r})")


def size_of(scenario: Scenario, by: str) -> int:
    """The scenario's own pilot size on the lever `by`."""
    return {
        "participants": scenario.referral.target_participants,
        "intake-weeks": scenario.referral.intake_weeks,
        "offices": scenario.area.offices,
    }[by]
