"""A burned-in world, kept so that many pilots can start from it without drawing and burning it in again.

The estimand is conditional on the world (docs/estimand.md): a size search or a diagnosis runs pilots of
several sizes, assumptions and counterfactual kinds in the same worlds (common random numbers). The world
at week 0 (the population, vacancies, matching, the offices' counsellors and the random stream after the
burn-in) depends only on the scenario's world sections and the seed, so it is drawn and burned in once,
and each pilot starts from a copy of it. A pilot started from a copy is bit-identical to one that drew
and burned in its own world (tests/test_speed.py), since the burn-in reads no pilot setting and the copy
carries the random stream's state.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from labsim.config.scenario import Scenario
from labsim.world.market import Matching, Vacancies
from labsim.world.population import Seekers

#: Scenario sections the burn-in never reads (it runs with no pilot); every other section is the world.
PILOT_SECTIONS = ("name", "description", "weeks", "referral", "design", "providers", "payment", "pilot",
                  "assumptions")


def world_key(scenario: Scenario) -> str:
    """What the burned-in world depends on besides the seed: the scenario without its pilot sections."""
    data = scenario.model_dump(mode="json", exclude=set(PILOT_SECTIONS))
    return json.dumps(data, sort_keys=True)


@dataclass(frozen=True)
class BurnedIn:
    """The world at week 0, before any pilot. `rng_state` is the random stream after the burn-in when
    world and pilot share it (None when the world had a seed of its own)."""

    key: str
    seekers: Seekers
    vacancies: Vacancies
    matching: Matching
    counsellors: np.ndarray
    employability: np.ndarray
    rng_state: dict[str, Any] | None

    def copy(self) -> BurnedIn:
        """An independent copy (arrays copied) for one pilot to change."""
        return copy.deepcopy(self)

    def nbytes(self) -> int:
        """Memory held by its arrays (for the size of a cache of worlds)."""
        parts = (self.seekers, self.vacancies, self.matching)
        return sum(a.nbytes for p in parts for a in vars(p).values() if isinstance(a, np.ndarray)) + \
            self.employability.nbytes
