"""A run record: everything the results of one simulated pilot are computed from, as plain data.

The world hands over this record (`PilotModel.record()`); every figure a planner sees is computed from
it by `labsim.results`, never from a live model. It holds only numpy arrays, a pandas frame and the
scenario, so it can be pickled to a worker's parent, saved, or rebuilt in a test without a world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from labsim.config.scenario import Scenario

#: Per-person fields kept for everyone ever assigned to the pilot or control arm.
PEOPLE_FIELDS = (
    "office", "sector", "market", "age_group", "education", "motivation", "assigned_employability",
    "assigned_duration", "arm", "assigned_week", "offer_week", "accepted", "recruited", "start_week",
    "no_show", "served_by", "before_pilot",
)
#: Per-person fields kept for everyone who was ever a provider's client (effort and money).
CLIENT_FIELDS = ("assigned_employability", "effort_sum", "client_weeks", "served_by")


@dataclass(frozen=True)
class RunRecord:
    """One run of one scenario, as plain data."""

    scenario: Scenario
    weeks: int  # pilot weeks run (week 0 is the end of the burn-in)
    job_seekers: int
    weekly: pd.DataFrame  # one row per week 0..weeks: stocks, flows, referral and placement counts
    person: np.ndarray  # indices of everyone assigned (pilot or control arm)
    people: dict[str, np.ndarray]  # PEOPLE_FIELDS for `person`
    timeline: np.ndarray  # states of `person` (rows) in weeks 0..weeks (columns)
    clients: dict[str, np.ndarray]  # CLIENT_FIELDS for everyone ever a client
    provider_active: np.ndarray  # still in the pilot at the end
    provider_placements: np.ndarray  # job starts of clients, by provider
    purchaser_paid: dict[str, float]  # by payment term
    provider_revenue: np.ndarray  # provider x payment term, euros
    provider_running_cost: np.ndarray
    provider_setup_cost: np.ndarray
    participants_reached: int
    participants_target: int
    week_target_reached: int | None
    employed_share_last_week: float
    # everyone who left an activation service during the run: the week they left and their states
    # in weeks 0..weeks (for the published "after services" employment rates; docs/model.md)
    services_left_week: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    services_timeline: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    # the seed of the analysis' own draws (randomisation test, bootstrap): from the pilot's seed, so that
    # replications are independent and one run's p-value repeats (labsim.results.inference)
    inference_seed: int = 0

    def __post_init__(self) -> None:
        if self.timeline.shape != (self.person.size, self.weeks + 1):
            raise ValueError(
                f"timeline has shape {self.timeline.shape}; expected ({self.person.size}, {self.weeks + 1})"
            )
