"""Shared helpers: small worlds that run in a fraction of a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from labsim.config.scenario import Scenario, apply_overrides, parse_scenario, read_scenario_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def small_scenario(*overrides: str, base: str = "baseline") -> Scenario:
    """The named bundled scenario shrunk to a small world, with extra overrides."""
    data = read_scenario_dict(SCENARIOS / f"{base}.toml")
    shrink = ["area.job_seekers=3000", "area.burn_in_weeks=26", "weeks=60"]
    return parse_scenario(apply_overrides(data, [*shrink, *overrides], base), base)


@pytest.fixture
def small():
    return small_scenario
