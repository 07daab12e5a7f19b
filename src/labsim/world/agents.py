"""The model's agents: job seekers, employers, private providers and TE offices.

Job seekers and employers are many, so their numbers live in arrays (`Seekers`, `Vacancies`) that the
weekly step updates in bulk; each agent here is the person's or firm's face onto its entry, for
inspection, the interactive page and tests. Providers and offices are few and act each week.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from labsim.config.states import AGE_GROUPS, EDUCATION_LEVELS, State, is_searching

if TYPE_CHECKING:
    from labsim.world.model import PilotModel


class JobSeeker(mesa.Agent):
    """A person on the job-seeker register; reads and writes its row of `model.seekers`."""

    def __init__(self, model: PilotModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def state(self) -> State:
        return State(int(self.model.seekers.state[self.index]))

    @property
    def weeks_unemployed(self) -> int:
        return int(self.model.seekers.duration[self.index])

    @property
    def employability(self) -> float:
        return float(self.model.employability()[self.index])

    @property
    def motivation(self) -> float:
        return float(self.model.seekers.motivation[self.index])

    @property
    def age_group(self) -> str:
        return AGE_GROUPS[self.model.seekers.age_group[self.index]]

    @property
    def education(self) -> str:
        return EDUCATION_LEVELS[self.model.seekers.education[self.index]]

    @property
    def sector(self) -> str:
        return self.model.settings.market.sectors[self.model.seekers.sector[self.index]].name

    @property
    def arm(self) -> str | None:
        return {-1: None, 0: "control", 1: "pilot"}[int(self.model.seekers.arm[self.index])]

    def spell_history(self) -> list[tuple[int, str]]:
        """(week, state) for every change of state since week 0."""
        person, week, state = self.model.history.log()
        mine = person == self.index
        return [(int(w), State(int(s)).name.lower()) for w, s in zip(week[mine], state[mine])]


class Employer(mesa.Agent):
    """A firm in one sector; its open vacancies are its entry in `model.vacancies`."""

    def __init__(self, model: PilotModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def sector(self) -> str:
        return self.model.settings.market.sectors[self.model.vacancies.sector[self.index]].name

    @property
    def open_vacancies(self) -> int:
        return int(self.model.vacancies.open[self.index])

    @property
    def workers(self) -> int:
        """Job seekers from the register now working here."""
        return int(np.count_nonzero(self.model.seekers.employer == self.index))


class Provider(mesa.Agent):
    """A private provider: serves pilot clients up to its capacity and spends counselling effort on
    each where the contract's expected payment beats the cost (`provider.py`; the model's
    `_providers_serve` applies that choice to every provider's clients at once); may exit at a loss."""

    def __init__(self, model: PilotModel, index: int, capacity: int) -> None:
        super().__init__(model)
        self.index = index
        self.capacity = capacity
        self.active = True
        self.clients = 0
        self.placements = 0

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.clients) if self.active else 0

    def exit(self) -> None:
        """Leave the pilot: current clients return to the office; no new clients."""
        s = self.model.seekers
        mine = np.flatnonzero((s.state == State.WITH_PROVIDER) & (s.provider == self.index))
        s.state[mine] = State.UNEMPLOYED
        s.provider[mine] = -1
        s.effort[mine] = 0.0
        self.active = False
        self.clients = 0


class TEOffice(mesa.Agent):
    """A public employment office: its counsellors, their weekly time for pilot offers, and its caseload."""

    def __init__(self, model: PilotModel, index: int, counsellors: int, offers_per_week: int) -> None:
        super().__init__(model)
        self.index = index
        self.counsellors = counsellors
        self.offers_per_week = offers_per_week

    @property
    def caseload(self) -> int:
        """Register customers of this office searching for work now (counted when asked, not weekly)."""
        s = self.model.seekers
        return int(np.count_nonzero(is_searching(s.state) & (s.office == self.index)))

    @property
    def caseload_per_counsellor(self) -> float:
        return self.caseload / max(self.counsellors, 1)
