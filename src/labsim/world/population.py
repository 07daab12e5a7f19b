"""The job seekers' numbers, one array entry per person, drawn from the scenario.

Each person in the model is a `JobSeeker` agent; the agent is a view, and this table holds what it
knows, so that the weekly step updates everyone at once with array operations.
"""

from __future__ import annotations

import numpy as np

from labsim.config.scenario import Scenario
from labsim.config.states import AGE_GROUPS, EDUCATION_LEVELS, WORK_FORMS, WORK_STATES, State


class Seekers:
    """Struct of arrays: every job seeker's characteristics, state and pilot record."""

    def __init__(self, n: int) -> None:
        self.n = n
        # who they are
        self.office = np.zeros(n, np.int32)
        self.sector = np.zeros(n, np.int32)
        self.market = np.zeros(n, np.int32)
        self.age_group = np.zeros(n, np.int8)
        self.education = np.zeros(n, np.int8)
        self.base_employability = np.ones(n)
        self.motivation = np.full(n, 0.5)
        self.earnings_related = np.zeros(n, bool)
        # where they are
        self.state = np.zeros(n, np.int8)
        self.duration = np.zeros(n, np.int32)  # weeks in the current unemployment spell
        self.state_weeks = np.zeros(n, np.int32)  # weeks in the current state
        self.employer = np.full(n, -1, np.int32)
        self.provider = np.full(n, -1, np.int32)  # current provider (-1: none)
        self.served_by = np.full(n, -1, np.int32)  # provider that served them in the pilot
        self.effort = np.zeros(n)  # provider's counselling effort this week
        self.sanctioned = np.zeros(n, bool)
        # the pilot record
        self.arm = np.full(n, -1, np.int8)  # -1 never assigned, 0 control, 1 pilot
        self.assigned_week = np.full(n, -1, np.int32)
        self.assigned_duration = np.full(n, -1, np.int32)
        self.assigned_employability = np.full(n, np.nan)
        self.to_offer = np.zeros(n, bool)
        self.offer_week = np.full(n, -1, np.int32)
        self.accepted = np.zeros(n, bool)
        self.recruited = np.zeros(n, bool)  # won over by a provider after declining the offer
        self.no_show = np.zeros(n, bool)
        self.start_week = np.full(n, -1, np.int32)
        # the provider's view and the contract's record
        self.seen_noise = np.ones(n)  # provider's observed / true employability
        self.pay_group = np.zeros(n, np.int8)  # payment group at start (easiest 0)
        self.progress_paid = np.zeros(n, bool)
        self.placed_week = np.full(n, -1, np.int32)  # start of a job found while with a provider
        self.placed_form = np.full(n, -1, np.int8)  # its form (index into WORK_FORMS)
        self.effort_sum = np.zeros(n)  # counselling effort summed over client-weeks
        self.client_weeks = np.zeros(n, np.int32)

    @classmethod
    def draw(cls, scenario: Scenario, rng: np.random.Generator) -> Seekers:
        """Draw the area's job seekers: composition from the scenario, states near the steady state."""
        n = scenario.area.job_seekers
        pop, market = scenario.population, scenario.market
        s = cls(n)
        s.office[:] = rng.integers(0, scenario.area.offices, n)
        shares = np.array([sec.seeker_share for sec in market.sectors])
        s.sector[:] = rng.choice(len(shares), n, p=shares / shares.sum())
        s.market[:] = s.sector
        s.age_group[:] = _draw_group(rng, n, pop.age_shares, AGE_GROUPS)
        s.education[:] = _draw_group(rng, n, pop.education_shares, EDUCATION_LEVELS)
        z = rng.standard_normal(n)
        # log-employability shifts by age group and education (relative; the scale is set by matching)
        age_shift = np.array([pop.age_employability[a] for a in AGE_GROUPS])
        education_shift = np.array([pop.education_employability[e] for e in EDUCATION_LEVELS])
        log_emp = age_shift[s.age_group] + education_shift[s.education]
        s.base_employability[:] = np.exp(log_emp + pop.employability_sd * z)
        a = pop.motivation_mean * pop.motivation_concentration
        b = (1 - pop.motivation_mean) * pop.motivation_concentration
        s.motivation[:] = rng.beta(a, b, n)
        s.earnings_related[:] = rng.random(n) < pop.earnings_related_benefit_share

        shares, exit_rate = steady_state_shares(scenario, s.base_employability.mean())
        codes = np.concatenate([[State.UNEMPLOYED], WORK_STATES, [State.STUDIES, State.INACTIVE]])
        s.state[:] = codes[rng.choice(codes.size, n, p=shares)]
        unemployed = s.state == State.UNEMPLOYED
        s.duration[unemployed] = rng.geometric(exit_rate, unemployed.sum()) - 1
        s.state_weeks[unemployed] = s.duration[unemployed]
        return s

    def employability(self, decay_per_year: float, floor: float) -> np.ndarray:
        """Latent employability this week: the person's base, falling with the spell's length."""
        # exp of a whole-week duration from a small table (same values as exp over everyone, faster)
        decay = np.exp(-decay_per_year * np.arange(int(self.duration.max(initial=0)) + 1) / 52.0)
        out = np.take(decay, self.duration)
        out *= self.base_employability
        return np.maximum(out, floor, out=out)


def _draw_group(rng: np.random.Generator, n: int, shares: dict[str, float], order: tuple[str, ...]):
    p = np.array([shares.get(k, 0.0) for k in order])
    return rng.choice(len(order), n, p=p / p.sum()).astype(np.int8)


def steady_state_shares(scenario: Scenario, mean_employability: float) -> tuple[np.ndarray, float]:
    """Approximate steady-state shares of (unemployed, each work form, studies, inactive).

    Solves the aggregate flow balance with the matching function's job-finding rate, so that the
    world starts close to its steady state and the burn-in only has to settle the details.
    Returns the shares and the weekly rate of leaving unemployment (for drawing spell lengths).
    """
    m, n = scenario.market, scenario.area.job_seekers
    form = np.array([m.work_forms[f] for f in WORK_FORMS])
    sep = np.array([m.separation[f] for f in WORK_FORMS])
    inflow = sum(s.vacancies_per_100_seekers * s.seeker_share for s in m.sectors) / 100.0 * n
    u_share, vacancies = 0.5, inflow / max(m.vacancy_expiry, 1e-9)
    for _ in range(50):
        search = 0.7 * mean_employability * u_share * n  # effort ~1, employability falls with duration
        hires = min(m.matching_efficiency * search**m.elasticity * vacancies ** (1 - m.elasticity), vacancies)
        f = hires / (u_share * n)
        vacancies = max(inflow - hires, 0.0) / max(m.vacancy_expiry, 1e-9) + hires
        ratio = np.concatenate([f * form / sep, [m.to_studies / m.from_studies, m.to_inactivity / m.from_inactivity]])
        u_share = 0.5 * u_share + 0.5 / (1.0 + ratio.sum())
    shares = np.concatenate([[1.0], ratio]) / (1.0 + ratio.sum())
    return shares, min(1.0, f + m.to_studies + m.to_inactivity)
