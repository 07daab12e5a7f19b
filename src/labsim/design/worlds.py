"""The scenario variants a diagnosis compares: the pilot at a given size, the same world with no pilot,
with the pilot rolled out to everyone eligible, and with providers that do nothing (zero help).

Each variant is a scenario with a few fields overridden, so that it runs through the same model; the
variant of a size search changes one planner's lever (`participants`, `offices` or `intake-weeks`).
"""

from __future__ import annotations

import math
from typing import Any

from labsim.config.errors import LabsimError
from labsim.config.scenario import Scenario

SIZE_LEVERS = ("participants", "offices", "intake-weeks")


def _with(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """The scenario with fields of its sections (or top-level values) replaced, validated again. A field
    the variant sets leaves its evidence range behind (zero help sets no-shows to 0 whatever the range)."""
    data = scenario.model_dump()
    for key, value in changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    changed = {f"{key}.{f}" for key, value in changes.items() if isinstance(value, dict) for f in value} | set(changes)
    data["assumptions"] = [a for a in data["assumptions"] if a["path"] not in changed]
    return Scenario.model_validate(data)


def _unbounded(scenario: Scenario) -> dict[str, dict]:
    """Places and target that never bind: everyone the rule refers can start."""
    n = scenario.area.job_seekers
    return {
        "referral": {"target_participants": n},
        "providers": {"capacity": max(scenario.providers.capacity, math.ceil(n / scenario.providers.count))},
    }


def no_pilot(scenario: Scenario) -> Scenario:
    """The same world with nobody referred: the counterfactual for every effect."""
    changes = _unbounded(scenario)
    changes["design"] = {"randomisation": "individual", "treatment_share": 0.0}
    return _with(scenario, changes)


def roll_out(scenario: Scenario) -> Scenario:
    """The same world with the pilot's referral rule applied to every eligible seeker, with places for
    all: what a national roll-out would do, and what the pilot is meant to predict."""
    changes = _unbounded(scenario)
    changes["design"] = {"randomisation": "individual", "treatment_share": 1.0}
    return _with(scenario, changes)


def zero_help(scenario: Scenario) -> Scenario:
    """Providers that do nothing and a referral that changes nothing: every effect must vanish (used to
    check the type-I error of the design)."""
    return _with(scenario, {
        "providers": {"effort": 0.0, "network_share": 0.0, "recruitment": 0.0},
        "referral": {"no_show": 0.0, "sanction_effort_gain": 0.0, "sanction_to_inactivity": 0.0},
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
        return _with(scenario, {
            "referral": {"target_participants": int(size)},
            "providers": {"capacity": max(p.capacity, math.ceil(size / p.count))},
        })
    if by == "intake-weeks":
        changes = _unbounded(scenario)
        changes["referral"] = {**changes["referral"], "intake_weeks": int(size)}
        changes["pilot"] = {"end_week": max(scenario.pilot.end_week, r.start_week + int(size))}
        changes["weeks"] = max(scenario.weeks, r.start_week + int(size) + 52)  # outcomes a year on
        return _with(scenario, changes)
    if by == "offices":
        scale = size / a.offices
        return _with(scenario, {
            "area": {"offices": int(size), "job_seekers": max(1, round(a.job_seekers * scale))},
            "referral": {"target_participants": max(1, round(r.target_participants * scale))},
            "providers": {"capacity": max(1, math.ceil(p.capacity * scale))},
        })
    raise LabsimError(f"--by must be one of {', '.join(SIZE_LEVERS)} (got {by!r})")


def size_of(scenario: Scenario, by: str) -> int:
    """The scenario's own pilot size on the lever `by`."""
    return {
        "participants": scenario.referral.target_participants,
        "intake-weeks": scenario.referral.intake_weeks,
        "offices": scenario.area.offices,
    }[by]
