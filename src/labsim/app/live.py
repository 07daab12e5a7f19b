"""The world as the page runs it: the pilot model, plus employment by arm recorded week by week."""

from __future__ import annotations

import threading

import mesa
import numpy as np

from labsim.config.scenario import Scenario
from labsim.config.states import is_employed
from labsim.world.model import PilotModel

ARMS = {"pilot": 1, "control": 0}  # codes of Seekers.arm (-1: never assigned)


def _employed_share(model: PilotModel, code: int) -> float:
    """Share employed now among those assigned to the arm so far (NaN before anyone is)."""
    s = model.seekers
    in_arm = s.arm == code
    return float(np.mean(is_employed(s.state[in_arm]))) if in_arm.any() else float("nan")


class LiveModel(PilotModel):
    """`PilotModel` with a second DataCollector, `arms`: the share employed in each arm, weekly (the
    model's own DataCollector keeps the stocks and flows). `lock` is held while a week runs, so a chart
    drawn meanwhile (from another thread) reads whole weeks."""

    def __init__(self, scenario: Scenario, rng=None) -> None:
        self.lock = threading.Lock()
        super().__init__(scenario, rng=rng)
        self.arms = mesa.DataCollector(
            model_reporters={f"employed_{arm}": (lambda m, c=code: _employed_share(m, c)) for arm, code in ARMS.items()}
        )
        self.arms.collect(self)

    def step(self) -> None:
        with self.lock:
            super().step()
            self.arms.collect(self)

    def frames(self):
        """The weekly stocks and flows and the employment by arm so far (whole weeks only)."""
        with self.lock:
            return self.datacollector.get_model_vars_dataframe(), self.arms.get_model_vars_dataframe()

    @property
    def finished(self) -> bool:
        return self.week >= self.settings.weeks
