"""The states a job seeker can be in, and the groups a planner counts them by.

Each seeker is in exactly one state, held as a small integer in one array, so no one can be in two.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class State(IntEnum):
    """Where a job seeker is this week."""

    UNEMPLOYED = 0
    WITH_PROVIDER = 1
    ACTIVATION = 2
    PERMANENT_FULL_TIME = 3
    PERMANENT_PART_TIME = 4
    TEMPORARY_FULL_TIME = 5
    TEMPORARY_PART_TIME = 6
    ENTREPRENEURSHIP = 7
    GIG_WORK = 8
    LIGHT_ENTREPRENEURSHIP = 9
    STUDIES = 10
    INACTIVE = 11


N_STATES = len(State)
STATE_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in State)

#: The forms of work named in the seeds (salaried, entrepreneurship, gig work, light entrepreneurship).
WORK_FORMS: tuple[str, ...] = (
    "permanent_full_time",
    "permanent_part_time",
    "temporary_full_time",
    "temporary_part_time",
    "entrepreneurship",
    "gig_work",
    "light_entrepreneurship",
)
WORK_STATES = np.array([State[f.upper()] for f in WORK_FORMS], dtype=np.int8)
#: Seekers who look for work through the matching market this week.
SEARCHING_STATES = np.array([State.UNEMPLOYED, State.WITH_PROVIDER, State.ACTIVATION], dtype=np.int8)

AGE_GROUPS: tuple[str, ...] = ("under_25", "age_25_54", "over_55")
EDUCATION_LEVELS: tuple[str, ...] = ("basic", "secondary", "tertiary")


# plain ints: numpy compares a plain int with int8 arrays in place (an IntEnum member costs ~8x more),
# and read once here rather than through the member's .value at every call
_FIRST_WORK, _LAST_WORK = State.PERMANENT_FULL_TIME.value, State.LIGHT_ENTREPRENEURSHIP.value
_LAST_SEARCHING = State.ACTIVATION.value


def is_employed(state: np.ndarray) -> np.ndarray:
    """True where the state is any form of work."""
    return (state >= _FIRST_WORK) & (state <= _LAST_WORK)


def is_searching(state: np.ndarray) -> np.ndarray:
    """True where the seeker is on the register looking for work (alone, with a provider or in a service)."""
    return state <= _LAST_SEARCHING
