"""The job seekers' numbers, one array entry per person, drawn from the scenario.

Each person in the model is a `JobSeeker` agent; the agent is a view, and this table holds what it
knows, so that the weekly step updates everyone at once with array operations.
"""

from __future__ import annotations

import numpy as np

from labsim.config.scenario import Area, Scenario
from labsim.config.states import AGE_GROUPS, EDUCATION_LEVELS, WORK_FORMS, WORK_STATES, State

_LAST_SEARCHING = State.ACTIVATION.value  # states 0..this look for work (config.states.is_searching)


class Seekers:
    """Struct of arrays: every job seeker's characteristics, state and pilot record."""

    def __init__(self, n: int) -> None:
        self.n = n
        # who they are
        self.office = np.zeros(n, np.int32)
        self.sector = np.zeros(n, np.int32)
        self.segment = np.zeros(n, np.int32)  # segment of the sector's market (market.segments)
        self.market = np.zeros(n, np.int32)  # where one competes: sector x segment
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
        self.before_pilot = np.zeros(n, bool)  # a "before" cohort of a difference-in-differences design
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
        s.age_group[:] = _draw_group(rng, n, pop.age_shares, AGE_GROUPS)
        s.education[:] = _draw_group(rng, n, pop.education_shares, EDUCATION_LEVELS)
        by = market.segments.by
        if by != "none":
            s.segment[:] = s.education if by == "education" else s.age_group
        s.market[:] = s.sector * len(market.segments.names) + s.segment
        z = rng.standard_normal(n)
        # log-employability shifts by age group and education (relative; the scale is set by matching)
        age_shift = np.array([pop.age_employability[a] for a in AGE_GROUPS])
        education_shift = np.array([pop.education_employability[e] for e in EDUCATION_LEVELS])
        log_emp = age_shift[s.age_group] + education_shift[s.education]
        s.base_employability[:] = np.exp(log_emp + pop.employability_sd * z)
        if scenario.area.office_spread > 0:
            local = office_factors(scenario.area, rng)[s.office]
            s.base_employability *= local / local.mean()
        a = pop.motivation_mean * pop.motivation_concentration
        b = (1 - pop.motivation_mean) * pop.motivation_concentration
        s.motivation[:] = rng.beta(a, b, n)
        s.earnings_related[:] = rng.random(n) < pop.earnings_related_benefit_share

        steady = SteadyState(scenario, s)
        codes = np.concatenate([[State.UNEMPLOYED], WORK_STATES, [State.STUDIES, State.INACTIVE]])
        u = rng.random(n)
        pick = (u[:, None] > np.cumsum(steady.state_p, axis=1)[steady.kind]).sum(axis=1)
        s.state[:] = codes[np.minimum(pick, codes.size - 1)]
        unemployed = (s.state == State.UNEMPLOYED).nonzero()[0]
        s.duration[unemployed] = steady.draw_duration(steady.kind[unemployed], rng)
        s.state_weeks[unemployed] = s.duration[unemployed]
        return s

    def employability(self, decay_per_year: float, floor: float) -> np.ndarray:
        """Latent employability this week: the person's base, falling with the spell's length."""
        return Employability(self, decay_per_year, floor).of_everyone()


class Employability:
    """This week's latent employability, worked out for those asked about (`[who]`, `.take(who)`), not
    for everyone: the week needs it for the searchers and a few others. The same floats as
    `Seekers.employability()` at the same positions; valid until base employability or spell lengths
    change (the week makes one after services end and uses it before the clocks advance)."""

    def __init__(self, s: Seekers, decay_per_year: float, floor: float) -> None:
        self.seekers, self.floor = s, floor
        # exp of a whole-week duration from a small table (same values as exp over everyone, faster)
        self.decay = np.exp(-decay_per_year * np.arange(int(s.duration.max(initial=0)) + 1) / 52.0)

    def of(self, who: np.ndarray, duration: np.ndarray | None = None) -> np.ndarray:
        """Employability of the seekers indexed by `who` (`duration`: their spell lengths, if gathered)."""
        s = self.seekers
        out = self.decay.take(s.duration.take(who) if duration is None else duration)
        out *= s.base_employability.take(who)
        return np.maximum(out, self.floor, out=out)

    def of_everyone(self) -> np.ndarray:
        out = self.decay.take(self.seekers.duration)  # half the time of decay[duration] (numpy 2.5, int32)
        out *= self.seekers.base_employability
        return np.maximum(out, self.floor, out=out)

    take = of

    def __getitem__(self, who: np.ndarray) -> np.ndarray:
        who = np.asarray(who)
        return self.of(who.nonzero()[0] if who.dtype == bool else who)


class Register:
    """The register's customers looking for work (states 0-2: unemployed, with a provider, in a service)
    as the week starts, in increasing order, with their states and spell lengths gathered once.

    The week's passes over them (services ending, the idle who may start one, the providers' clients,
    the searchers' weights, the weekly counts) read these compact arrays, about a third of everyone,
    instead of each passing over everyone's states. Made at the end of a week (`PilotModel._advance_clocks`)
    for the counts and the next week; `move` keeps `state` up to date as the week moves them among
    states 0-2 until hiring (spell lengths change only as a week ends). Only the mandatory referral's
    no-shows leave the register before hiring; `refresh` gathers the states again after it."""

    def __init__(self, s: Seekers, searching: np.ndarray | None = None) -> None:
        """`searching`: the mask of states 0-2 over everyone, if already made."""
        self.seekers = s
        self.index = (s.state <= _LAST_SEARCHING if searching is None else searching).nonzero()[0]
        self.state = s.state.take(self.index)
        self.duration = s.duration.take(self.index)
        self.all_searching = True  # none has left the register since it was made

    def move(self, at: np.ndarray, state: int) -> None:
        """Those at positions `at` move to `state` (one of states 0-2)."""
        self.seekers.state[self.index.take(at)] = state
        self.state[at] = state

    def positions(self, who: np.ndarray) -> np.ndarray:
        """The positions of seekers `who` (all in the register) in it."""
        return self.index.searchsorted(who)

    def refresh(self) -> None:
        """Gather the states again (after moves made elsewhere, which may take some off the register)."""
        self.state = self.seekers.state.take(self.index)
        self.all_searching = bool((self.state <= _LAST_SEARCHING).all())


def office_factors(area: Area, rng: np.random.Generator) -> np.ndarray:
    """Each office's factor on its seekers' employability: the local labour market and the counsellors'
    practice make an office's seekers find work faster or slower than the area's average (which
    `Seekers.draw` keeps, by scaling the factors to a mean of 1 over seekers), so that outcomes cluster
    by office as they do between real offices."""
    return np.exp(area.office_spread * rng.standard_normal(area.offices))


def _draw_group(rng: np.random.Generator, n: int, shares: dict[str, float], order: tuple[str, ...]):
    p = np.array([shares.get(k, 0.0) for k in order])
    return rng.choice(len(order), n, p=p / p.sum()).astype(np.int8)


class SteadyState:
    """Where each kind of person spends their time when nothing changes, to start the world there.

    People are grouped into kinds by base employability and motivation (quantile bins). For each kind
    the weekly chance of leaving unemployment at each spell length d is worked out as the model
    does it: a job with 1 - exp(-r · effort · employability(d)), else studies or inactivity at the
    register-exit rates (falling with d); r, the hires per unit of search, solves the matching function
    at the resulting stock. A spell's survival S(d) then gives the kind's expected spell, where it ends,
    the share of time in each state (unemployment, each form of work, studies, inactivity) and the
    elapsed spell lengths of the unemployed (in proportion to S(d)), so that the long-term unemployed
    are there at the start and the burn-in only settles the details (activation services are left out).
    """

    MAX_WEEKS = 1040
    BINS = (16, 4)  # base employability x motivation

    def __init__(self, scenario: Scenario, s: Seekers) -> None:
        m, pop, svc = scenario.market, scenario.population, scenario.services
        nb, ne = self.BINS
        b_bin = _quantile_bin(s.base_employability, nb)
        e_bin = _quantile_bin(s.motivation, ne)
        self.kind = (b_bin * ne + e_bin).astype(np.int64)
        k = nb * ne
        count = np.maximum(np.bincount(self.kind, minlength=k), 1)
        base = np.bincount(self.kind, weights=s.base_employability, minlength=k) / count
        meeting = 1.0 + svc.meeting_effort_gain / svc.meeting_interval_weeks  # the average week
        motivation = np.bincount(self.kind, weights=s.motivation, minlength=k) / count
        effort = (pop.base_search_effort + motivation) * meeting
        d = np.arange(self.MAX_WEEKS)
        emp = np.maximum(base[:, None] * np.exp(-pop.employability_decay_per_year * d / 52.0)[None, :],
                         pop.employability_floor)
        out = m.to_studies + m.to_inactivity
        other = out * np.exp(-m.exit_decay_per_year * d / 52.0)
        studies = m.to_studies / out if out > 0 else 0.0  # share of non-work exits that go to studies
        weight = count / count.sum()
        form = np.array([m.work_forms[f] for f in WORK_FORMS])
        sep = np.array([m.separation[f] for f in WORK_FORMS])
        n = scenario.area.job_seekers
        inflow = sum(sec.vacancies_per_100_seekers * sec.seeker_share for sec in m.sectors) / 100.0 * n
        expiry = max(m.vacancy_expiry, 1e-9)
        rate, vacancies = 0.05, inflow / expiry
        for _ in range(60):  # hires per unit of search at the stock it gives (damped fixed point)
            work = -np.expm1(-rate * effort[:, None] * emp)
            leave = work + (1.0 - work) * other[None, :]
            survival = np.concatenate([np.ones((k, 1)), np.cumprod(1.0 - leave, axis=1)[:, :-1]], axis=1)
            spell = survival.sum(axis=1)
            ends_in_work = (survival * work).sum(axis=1)
            ends_other = (survival * (1.0 - work) * other[None, :]).sum(axis=1)
            time = np.column_stack([
                spell,
                ends_in_work[:, None] * (form / sep)[None, :],
                ends_other * studies / m.from_studies,
                ends_other * (1.0 - studies) / m.from_inactivity,
            ])
            state_p = time / time.sum(axis=1, keepdims=True)
            search = n * (weight * state_p[:, 0] * ((survival * emp).sum(axis=1) / spell) * effort).sum()
            hires = min(m.matching_efficiency * search**m.elasticity * vacancies ** (1 - m.elasticity),
                        vacancies)
            vacancies = max(inflow - hires, 0.0) / expiry + hires
            rate = 0.5 * rate + 0.5 * hires / search
        self.state_p = state_p  # kind x (unemployed, each form of work, studies, inactive)
        self._cdf = np.cumsum(survival, axis=1) / spell[:, None]

    def draw_duration(self, kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Elapsed spell lengths of unemployed people of the given kinds, from their kinds' S(d)."""
        u = rng.random(kind.size)
        out = np.empty(kind.size, np.int64)
        for k in np.unique(kind):  # a loop over the few kinds, not over seekers
            mine = kind == k
            out[mine] = np.searchsorted(self._cdf[k], u[mine], side="right")
        return np.minimum(out, self.MAX_WEEKS - 1)


def _quantile_bin(x: np.ndarray, bins: int) -> np.ndarray:
    """Each value's quantile bin 0..bins-1."""
    cuts = np.quantile(x, np.arange(1, bins) / bins)
    return np.searchsorted(cuts, x, side="right")
