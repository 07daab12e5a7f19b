"""Employer services: a provider's network brings some new vacancies to its own clients first."""

from __future__ import annotations

import numpy as np

from labsim.world.model import PilotModel
from labsim.results.summary import results_of

from conftest import small_scenario

COMMON = ["referral.mode=mandatory", "referral.no_show=0", "area.job_seekers=8000",
          "referral.target_participants=5000", "providers.capacity=2000", "providers.effort=0.5",
          "weeks=20"]


def arm_outcome(network_share: float, arm: str) -> np.ndarray:
    values = []
    for seed in (1, 2, 3):
        sc = small_scenario(*COMMON, f"providers.network_share={network_share}")
        model = PilotModel(sc, rng=seed)
        model.run_for(sc.weeks)
        ind = results_of(model).individuals
        values.append(ind.loc[(ind["arm"] == arm) & ind["took_up"] if arm == "pilot"
                              else ind["arm"] == arm, "employed_13w"].dropna().to_numpy(float))
    return np.concatenate(values)


def gap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    return a.mean() - b.mean(), np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)


def test_network_raises_participants_job_finding():
    diff, se = gap(arm_outcome(0.4, "pilot"), arm_outcome(0.0, "pilot"))
    assert diff > 3 * se, (diff, se)
