"""The pilot world as a Mesa model: one step is one week of the labour market and the pilot."""

from __future__ import annotations

import math
from itertools import chain

import mesa
import numpy as np

from labsim.world.agents import Employer, JobSeeker, Provider, TEOffice
from labsim.world.burn_in import BurnedIn, world_key
from labsim.world.history import History
from labsim.world.market import Matching, Vacancies, vacancy_shares
from labsim.world.contract import Contract
from labsim.world.population import Employability, Register, Seekers
from labsim.world.rare import rare_events
from labsim.world.provider import choose_effort, effort_levels, value_of_client
from labsim.world.record import CLIENT_FIELDS, PEOPLE_FIELDS, RunRecord
from labsim.world.referral import ReferralPolicy, ReferralWeek
from labsim.config.scenario import Scenario
from labsim.config.states import (
    N_STATES,
    STATE_NAMES,
    WORK_FORMS,
    WORK_STATES,
    State,
    is_employed,
    is_searching,
)
from labsim.world.accounts import Accounts
from labsim.world.activation import entry_chance


#: Last element of the seed key of a run's analysis draws (below the pilot's own key).
INFERENCE = 0x494E46


class PilotModel(mesa.Model):
    """A labour market with TE offices, employers and providers, and a pilot randomised in it.

    `PilotModel(scenario, rng=seed)` draws the population and runs the scenario's burn-in weeks (the
    world without a pilot, so that stocks and durations settle); week 0 is the end of the burn-in.
    Then `run_for(weeks)` runs the pilot weeks and `record()` hands the run over as plain data
    (`labsim.results` computes every figure from it).

    `world=seed` draws the world (population, employers, burn-in) from its own seed and leaves `rng` to
    the pilot (randomisation and every later draw): one world with many pilot seeds replicates the
    pilot in one fixed area (docs/estimand.md). Without it, world and pilot share `rng`.

    `keep_world=True` keeps a copy of the world at week 0 (`world_at_start`); `burned_in=` that copy
    starts a pilot of any scenario with the same world sections from it, bit-identical to drawing and
    burning in the world again with the same `rng` and `world` (world/burn_in.py).
    """

    def __init__(self, scenario: Scenario, rng=None, world=None, burned_in: BurnedIn | None = None,
                 keep_world: bool = False) -> None:
        super().__init__(rng=rng)
        pilot_rng = self.rng
        # the analysis' seed: a child key of the pilot's seed, which draws nothing from the pilot's stream
        seq = pilot_rng.bit_generator.seed_seq
        self.inference_seed = int(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, INFERENCE))
                                  .generate_state(1, np.uint64)[0] >> np.uint64(1))  # int64 for tables
        self.settings = scenario
        self.week = 0
        counsellors = self._draw_world(scenario, world) if burned_in is None else self._start_from(
            burned_in, scenario, world)
        s = self.seekers
        self._own_effort = scenario.population.base_search_effort + s.motivation  # search effort of one's own
        # each seeker's market cell as numpy's index type: the searchers' cells gathered, counted and looked
        # up each week without a cast from int32 (a fifth less time; the same cells)
        self._market = s.market.astype(np.intp)
        self._base_power = s.base_employability ** scenario.services.activation_selection  # _selection_weight's
        self._meeting = np.zeros(0)  # effort's factor by spell length (_meeting_factor)
        self._register_moves(scenario)
        self.referral = ReferralPolicy(scenario)
        self.history = History()
        self._work_forms(scenario)
        self._faces = False  # job seekers' and employers' agents: made when first looked at
        self._providers_and_offices(scenario, counsellors)
        self._prev_state = s.state.copy()  # states at the start of the week
        self.register = Register(s)  # those looking for work as the week starts (remade as each week ends)
        self.counts: dict[str, float] = {}
        self.world_at_start: BurnedIn | None = None
        if burned_in is None:
            self._employability = self.employability()
            for _ in range(scenario.area.burn_in_weeks):
                self._week(pilot=False)
            if keep_world:  # a copy, for later pilots in the same world (world/burn_in.py)
                self.world_at_start = BurnedIn(
                    world_key(scenario), s, self.vacancies, self.matching, np.asarray(counsellors),
                    self._employability, None if world is not None else self.rng.bit_generator.state,
                ).copy()
        elif world is None:  # world and pilot share the stream: continue it where the burn-in left it
            pilot_rng = self.rng
        self._freeze_market()
        self.rng = pilot_rng
        self.contract = Contract(scenario.payment, self._profiling_cuts())
        self._effort_levels = effort_levels(scenario.providers.effort_levels, self.contract.service_norm)
        self.job_value = self.contract.job_value(self._form_p, self._separation[WORK_STATES])
        self.history.record(0, np.arange(s.n), s.state)
        self._stock = np.bincount(s.state, minlength=N_STATES)  # then kept up to date from the flows
        self._count(np.zeros((N_STATES, N_STATES), np.int64), ReferralWeek(), np.zeros(len(WORK_FORMS)))
        self.datacollector = WeeklySeries(model_reporters={k: _reporter(k) for k in self.counts})
        self.datacollector.collect(self)  # the weekly series, a row a week

    def _draw_world(self, scenario: Scenario, world) -> np.ndarray:
        """Draw the job seekers, the market and the employers' vacancies (from `world`'s own stream if
        given); returns the offices' counsellors."""
        if world is not None:
            self.rng = np.random.default_rng(world)
        n_sectors = len(scenario.market.sectors)
        self.seekers = Seekers.draw(scenario, self.rng)
        by_sector = np.bincount(self.seekers.sector, minlength=n_sectors)
        self.matching = Matching(scenario.market, n_sectors)
        self.vacancies = Vacancies(scenario.market, by_sector, self.rng,
                                   vacancy_shares(scenario.market, self._search_by_cell(scenario)))
        return self._counsellors(scenario)

    def _work_forms(self, scenario: Scenario) -> None:
        """Each form of work's weekly separation rate, and the shares in which new jobs take each form."""
        self._separation = np.zeros(N_STATES)
        for form, code in zip(WORK_FORMS, WORK_STATES):
            self._separation[code] = scenario.market.separation[form]
        self._highest_separation = self._separation.max()
        self._form_p = np.array([scenario.market.work_forms[f] for f in WORK_FORMS])
        self._form_p /= self._form_p.sum()
        cdf = self._form_p.cumsum()
        self._form_cdf = cdf / cdf[-1]  # as rng.choice(p=) makes it

    def _register_moves(self, scenario: Scenario) -> None:
        """The weekly rates of coming back to the register by state (from studies, from inactivity), and
        the highest rate of any move on or off the register."""
        m = scenario.market
        self._back_rate = np.zeros(N_STATES)
        self._back_rate[State.STUDIES], self._back_rate[State.INACTIVE] = m.from_studies, m.from_inactivity
        self._highest_register_rate = max(self._back_rate.max(), m.to_studies + m.to_inactivity)

    def _providers_and_offices(self, scenario: Scenario, counsellors: np.ndarray) -> None:
        """The providers (with their books) and the TE offices (with the offers their counsellors make)."""
        p = scenario.providers
        # a tuple, iterated several times a week (an AgentSet's weak references cost about 5 us a pass)
        self.providers = tuple(Provider.create_agents(self, p.count, index=list(range(p.count)), capacity=p.capacity))
        self.accounts = Accounts(p.count, self.seekers.n, p.setup_cost_eur)
        self.network_rate = np.zeros((p.count, self.matching.n_markets))  # job finding per search via networks
        self.offices = TEOffice.create_agents(
            self,
            scenario.area.offices,
            index=list(range(scenario.area.offices)),
            counsellors=list(counsellors),
            offers_per_week=[
                math.floor(c * scenario.referral.offers_per_counsellor_week) for c in counsellors
            ],
        )
        self._offers_per_office = np.array([o.offers_per_week for o in self.offices])

    def _search_by_cell(self, scenario: Scenario) -> np.ndarray:
        """Effective search (own effort x employability of those searching) per market cell at the draw,
        which sets each segment's share of vacancies (`market.vacancy_shares`)."""
        s, pop = self.seekers, scenario.population
        weight = (pop.base_search_effort + s.motivation) * s.employability(
            pop.employability_decay_per_year, pop.employability_floor)
        return np.bincount(s.market, weights=weight * is_searching(s.state), minlength=self.matching.n_markets)

    def _start_from(self, burned_in: BurnedIn, scenario: Scenario, world) -> np.ndarray:
        """Take a copy of a burned-in world (instead of drawing and burning in one); returns the
        offices' counsellors."""
        if burned_in.key != world_key(scenario) or (burned_in.rng_state is None) != (world is not None):
            raise ValueError("a burned-in world starts only pilots of the same world sections and seeding")
        w = burned_in.copy()
        self.seekers, self.vacancies, self.matching = w.seekers, w.vacancies, w.matching
        self._employability = w.employability
        if w.rng_state is not None:
            self.rng.bit_generator.state = w.rng_state
        return w.counsellors

    # -- the people and firms as Mesa agents -----------------------------------------------------------

    def _make_faces(self) -> None:
        """Create the job seekers' and employers' agents (views onto their array entries) the first time
        the model's agents are looked at: a run never needs them, and at 7 us each they were a third
        of a 60,000-seeker pilot's time."""
        if not self._faces:
            self._faces = True
            JobSeeker.create_agents(self, self.seekers.n, index=list(range(self.seekers.n)))
            n = self.vacancies.open.size
            Employer.create_agents(self, n, index=list(range(n)))

    @property
    def agents(self):
        self._make_faces()
        return super().agents

    @property
    def agents_by_type(self):
        self._make_faces()
        return super().agents_by_type

    @property
    def agent_types(self):
        self._make_faces()
        return super().agent_types

    # -- the week ---------------------------------------------------------------------------------

    def step(self) -> None:
        """One week of the pilot: the world's week, then its record."""
        self.week += 1
        before = self._prev_state  # states at the start of the week (the week keeps this copy)
        referral, placements, changed = self._week(pilot=True)
        self.history.record(self.week, changed, self.seekers.state[changed])
        flows = np.bincount(
            before[changed].astype(np.int64) * N_STATES + self.seekers.state[changed],
            minlength=N_STATES * N_STATES,
        ).reshape(N_STATES, N_STATES)
        self._count(flows, referral, placements)
        self.datacollector.collect(self)

    def _week(self, pilot: bool) -> tuple[ReferralWeek, np.ndarray, np.ndarray]:
        """The story of a week, for everyone at once; returns the referral counts, placements by form
        of work and who changed state."""
        rng = self.rng
        self._end_services()
        # the pilot's weeks work employability out only for those they look at; the burn-in's keeps it
        # for everyone (a burned-in world carries it, and the profiling cuts read it)
        pop = self.settings.population
        self._this_week = Employability(self.seekers, pop.employability_decay_per_year, pop.employability_floor)
        self._employability = self._this_week if pilot else self._this_week.of_everyone()
        self.vacancies.post_and_expire(rng)
        self._routine_services()
        referral, starts = ReferralWeek(), np.zeros(0, np.int64)
        if pilot:
            referral, starts = self.referral.week(
                self.seekers,
                self.week,
                self._employability,
                self._offers_per_office,
                sum(p.free_places for p in self.providers),
                rng,
                self._recruit if self.settings.providers.recruitment > 0 else None,
            )
            if referral.no_shows:  # some may have left the register (sanctions)
                self.register.refresh()
            self._start_with_providers(starts)
            self._providers_serve()
        placements = self._hire()
        self._separate()
        if pilot:
            self._pay_results()
            self._review_providers()
        self._enter_and_leave_register()
        changed = self._advance_clocks()
        return referral, placements, changed

    def _end_services(self) -> None:
        """Activation services and provider spells that have run their time end; clients return."""
        s, cfg, r = self.seekers, self.settings, self.register
        # the few in a state first (found among the register's), then their weeks in it (not everyone's weeks)
        at = (r.state == _ACTIVATION).nonzero()[0]
        at = at[s.state_weeks[r.index.take(at)] >= cfg.services.activation_weeks]
        done = r.index.take(at)
        s.base_employability[done] *= 1.0 + cfg.services.activation_employability_gain
        self._base_power[done] = s.base_employability[done] ** cfg.services.activation_selection
        r.move(at, _UNEMPLOYED)
        at = (r.state == _WITH_PROVIDER).nonzero()[0]
        if self.week <= cfg.pilot.end_week:
            at = at[s.state_weeks[r.index.take(at)] >= cfg.providers.service_weeks]
        back = r.index.take(at)
        r.move(at, _UNEMPLOYED)
        s.provider[back] = -1
        s.effort[back] = 0.0

    def _routine_services(self) -> None:
        """The office's own services: some unemployed start an activation service, pilot clients as
        everyone else (a client who starts one leaves the provider, as on leaving the register)."""
        svc, r = self.settings.services, self.register
        # the unemployed (states 0 and 1) idle long enough, found among the register's
        at = ((r.state <= _WITH_PROVIDER) & (r.duration >= svc.activation_after_weeks)).nonzero()[0]
        idle = r.index.take(at)  # .take: two thirds of []'s time
        chance = entry_chance(self._selection_weight(idle), svc.activation_rate)
        go = self.rng.random(idle.size) < chance
        self._leave_provider(idle[go])
        r.move(at[go], _ACTIVATION)

    def _selection_weight(self, who: np.ndarray) -> np.ndarray:
        """employability ** `activation_selection` for `who`, as max(base * decay, floor) ** s =
        max(base ** s * decay ** s, floor ** s): base ** s kept per seeker, decay ** s from a table by
        spell length. The same weights as powering each employability but for the last bits, without a
        pow per idle seeker a week (libm's pow, where numpy has no vectorised one, was a tenth of the week)."""
        pop, power = self.settings.population, self.settings.services.activation_selection
        duration = self.seekers.duration.take(who)
        weeks = np.arange(int(duration.max(initial=0)) + 1)
        decay = np.exp(-power * pop.employability_decay_per_year * weeks / 52.0)
        weight = self._base_power.take(who)
        weight *= decay.take(duration)
        return np.maximum(weight, pop.employability_floor ** power, out=weight)

    def _leave_provider(self, who: np.ndarray) -> None:
        """Those of `who` who are a provider's clients stop being served (they leave for a service,
        studies or inactivity); their provider is paid nothing more for them."""
        s = self.seekers
        s.provider[who] = -1
        s.effort[who] = 0.0

    def _start_with_providers(self, starts: np.ndarray) -> None:
        """New participants go to providers with free places, each place equally likely."""
        if starts.size == 0:
            return
        free = np.array([p.free_places for p in self.providers])
        slots = np.arange(free.size).repeat(free)
        chosen = slots[self.rng.choice(slots.size, starts.size, replace=False)]
        s = self.seekers
        self.register.move(self.register.positions(starts), _WITH_PROVIDER)  # the unemployed are on it
        s.provider[starts] = chosen
        s.served_by[starts] = chosen
        new_clients = np.bincount(chosen, minlength=free.size)
        for p in self.providers:
            p.clients += int(new_clients[p.index])
        cfg = self.settings.providers
        if cfg.effort is None:  # providers choose effort from what they see of each client
            s.seen_noise[starts] = self.rng.lognormal(0.0, cfg.observation_noise, starts.size)
        s.pay_group[starts] = self.contract.group(s.duration[starts], self._employability[starts])
        self.accounts.pay("attachment", chosen, starts, self.contract.attachment(starts.size))

    def _recruit(self, declined: np.ndarray) -> np.ndarray:
        """Providers pitch the pilot to those who declined the office's offer, but only to those
        worth taking on under the contract; a pitch wins with probability `providers.recruitment`."""
        s, cfg, contract = self.seekers, self.settings.providers, self.contract
        group = contract.group(s.duration[declined], self._employability[declined])
        seen = self._seen_by_providers(declined, self.rng.lognormal(0.0, cfg.observation_noise, declined.size))
        levels = np.array([cfg.effort]) if cfg.effort is not None else self._effort_levels
        value = value_of_client(
            self.matching.last_rate[s.market[declined]],
            seen,
            self.job_value[group],
            contract.progress(group),
            levels=levels,
            attachment_fee=contract.terms.attachment_fee_eur,
            weeks=cfg.service_weeks,
            running_cost=cfg.cost_per_client_week_eur,
            effort_effect=cfg.effort_effect,
            progress_rate=cfg.progress_rate,
            effort_cost=cfg.effort_cost_per_client_week_eur,
        )
        return (value > 0) & (self.rng.random(declined.size) < cfg.recruitment)

    def _providers_serve(self) -> None:
        """Providers set each client's counselling effort and pay for the week's service; some clients
        reach training or a work trial."""
        s, cfg, r = self.seekers, self.settings.providers, self.register
        clients = r.index.take((r.state == _WITH_PROVIDER).nonzero()[0])
        who = s.provider[clients]
        effort = self._effort_chosen(clients, who)
        s.effort[clients] = effort
        s.effort_sum[clients] += effort
        s.client_weeks[clients] += 1
        cost = cfg.cost_per_client_week_eur + cfg.effort_cost_per_client_week_eur * effort
        self.accounts.spend(who, clients, cost)
        caseload = np.bincount(who, minlength=len(self.providers))
        for p in self.providers:
            p.clients = int(caseload[p.index])
        if self.contract.terms.progress.fee_eur > 0:
            open_ = clients[~s.progress_paid[clients]]
            chance = self.settings.providers.progress_rate * s.effort[open_]
            event = open_[self.rng.random(open_.size) < chance]
            s.progress_paid[event] = True
            fee = self.contract.progress(s.pay_group[event])
            self.accounts.pay("progress", s.provider[event], event, fee)

    def _effort_chosen(self, clients: np.ndarray, provider: np.ndarray) -> np.ndarray:
        """The effort each client's provider chooses this week: the scenario's fixed level, or the
        level that pays best under the contract (provider.py; every provider weighs a client alike)."""
        s, cfg, contract = self.seekers, self.settings.providers, self.contract
        if cfg.effort is not None:
            return np.full(clients.size, cfg.effort)
        market = s.market.take(clients)
        rate = self.matching.last_rate.take(market)  # .take: half the time of [] with int32 cells
        if cfg.network_share > 0:  # the employer networks' rate (0 everywhere without them)
            rate += self.network_rate[provider, market]
        seen = self._seen_by_providers(clients, s.seen_noise.take(clients))
        group = s.pay_group.take(clients)
        return choose_effort(
            rate,
            seen,
            self.job_value.take(group),
            np.where(s.progress_paid[clients], 0.0, contract.progress(group)),
            levels=self._effort_levels,
            effort_effect=cfg.effort_effect,
            progress_rate=cfg.progress_rate,
            effort_cost=cfg.effort_cost_per_client_week_eur,
        )

    def _seen_by_providers(self, who: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """A seeker's effective search (effort x employability) as a provider sees it: with noise. Those a
        provider sees are its clients or the unemployed it recruits among, none of them in a service."""
        duration = self.seekers.duration.take(who)
        seen = self._effort_before_help(who, duration, None)
        seen *= self._this_week.of(who, duration)
        seen *= noise
        return seen

    def _search_weight(self, searching: np.ndarray, duration: np.ndarray, state: np.ndarray) -> np.ndarray:
        """Effective search of `searching` (in increasing order): `search_effort` x employability, the
        same floats as each worked out alone, from the searchers' spell lengths and states (the register's).
        The provider's help, x (1 + effect x help), is applied only to the clients (state 1): everyone
        else's help is 0 (it is reset on leaving a provider), whose factor is exactly 1."""
        s = self.seekers
        effort = self._effort_before_help(searching, duration, state)
        clients = (state == _WITH_PROVIDER).nonzero()[0]
        if clients.size:
            effort[clients] *= 1.0 + self.settings.providers.effort_effect * s.effort.take(searching.take(clients))
        effort *= self._this_week.of(searching, duration)
        return effort

    def search_effort(self, who: np.ndarray | None = None) -> np.ndarray:
        """This week's job-search effort: motivation, office meetings, sanctions, services and provider
        help (for everyone, or for the seekers indexed by `who`)."""
        help_ = self.seekers.effort if who is None else self.seekers.effort.take(who)  # 0 without a provider
        effort = self.base_search_effort(who)
        effort *= 1.0 + self.settings.providers.effort_effect * help_  # x * (1 + effect * 0) is x
        return effort

    def base_search_effort(self, who: np.ndarray | None = None) -> np.ndarray:
        """Job-search effort before any provider's help (for everyone, or for `who`). Factors of 1 are
        not multiplied (x * 1.0 is x): only those of the few sanctioned and of those in a service."""
        s = self.seekers
        if who is None:
            return self._effort_before_help(None, s.duration, s.state)
        return self._effort_before_help(who, s.duration.take(who), s.state.take(who))

    def _effort_before_help(self, who: np.ndarray | None, duration: np.ndarray, state: np.ndarray | None
                            ) -> np.ndarray:
        """`base_search_effort(who)` from the spell lengths and states of `who` (everyone's if None); `state`
        None when none of `who` is in a service (a provider's clients, the unemployed it recruits among)."""
        s, svc, cfg = self.seekers, self.settings.services, self.settings
        # meeting weeks from a table by duration (integer % over everyone is slow)
        meeting = self._meeting_factor(int(duration.max(initial=0)))
        own = self._own_effort if who is None else self._own_effort.take(who)
        effort = own * meeting.take(duration)  # .take: float tables, int indices (half the time of [])
        if s.sanctioned.any():
            sanctioned = s.sanctioned if who is None else s.sanctioned.take(who)
            effort[sanctioned.nonzero()[0]] *= 1.0 + cfg.referral.sanction_effort_gain
        if state is not None:
            effort[(state == _ACTIVATION).nonzero()[0]] *= svc.activation_search_share
        return effort

    def _meeting_factor(self, longest: int) -> np.ndarray:
        """Search effort's factor by spell length, for 0..`longest` weeks at least: the meeting's gain in
        a meeting week (every `meeting_interval_weeks`), 1 otherwise; made again only as spells grow."""
        if self._meeting.size <= longest:
            svc = self.settings.services
            weeks = np.arange(2 * longest + 2)
            self._meeting = np.where(weeks % svc.meeting_interval_weeks == 0, 1.0 + svc.meeting_effort_gain, 1.0)
        return self._meeting

    def _hire(self) -> np.ndarray:
        """Matching: searchers are hired in proportion to effort x employability; returns pilot
        placements by form of work this week."""
        s, rng, r = self.seekers, self.rng, self.register
        searching, duration, state = r.index, r.duration, r.state  # the register's, all still searching
        if not r.all_searching:  # but for some sanctioned no-shows who left it this week
            at = (r.state <= _ACTIVATION).nonzero()[0]
            searching, duration, state = searching[at], duration[at], state[at]
        weight = self._search_weight(searching, duration, state)
        first = self._network_hires(searching, weight)
        vacancies = self.vacancies.by_market()
        if first.size:  # those hired through networks are among the searching, both in increasing order
            rest = np.ones(searching.size, bool)
            rest[np.searchsorted(searching, first)] = False  # a tenth of np.isin's time
            searching, weight = searching[rest], weight[rest]
            vacancies = np.maximum(vacancies - np.bincount(s.market[first], minlength=self.matching.n_markets), 0)
        matched = searching[self.matching.hired(weight, self._market.take(searching), vacancies, rng)]
        hired = np.concatenate([first, matched])
        # the form of work: rng.choice(len(WORK_FORMS), hired.size, p=self._form_p) without its checks
        form = self._form_cdf.searchsorted(rng.random(hired.size), side="right")
        from_pilot = s.state[hired] == _WITH_PROVIDER
        placed = hired[from_pilot]
        s.placed_week[placed] = self.week
        s.placed_form[placed] = form[from_pilot]
        placements = np.bincount(form[from_pilot], minlength=len(WORK_FORMS))
        by_provider = np.bincount(s.provider[placed], minlength=len(self.providers))
        for p in self.providers:
            p.placements += int(by_provider[p.index])
        cells = np.concatenate([s.market[first], self.matching.job_cells(self._market.take(matched), rng)])
        employers = self.vacancies.pick_employers(cells, rng)
        work = WORK_STATES[form]
        own_firm = work == _ENTREPRENEURSHIP
        employers[own_firm] = -1
        self.vacancies.fill(employers[~own_firm])
        s.state[hired] = work
        s.employer[hired] = employers
        s.provider[hired] = -1
        s.effort[hired] = 0.0
        return placements

    def _network_hires(self, searching: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Employer services: a share of each market's new vacancies goes first to providers' clients.

        Each active provider hears of `network_share / count` of the new vacancies in every market
        and fills them among its own clients there with the matching function; returns who is hired.
        """
        s, share = self.seekers, self.settings.providers.network_share
        n_p, n_m = self.network_rate.shape
        self.network_rate[:] = 0.0
        if share == 0:
            return np.zeros(0, np.int64)
        mine = s.state[searching] == _WITH_PROVIDER
        if not mine.any():
            return np.zeros(0, np.int64)
        clients, w = searching[mine], weight[mine]
        cell = s.provider[clients] * n_m + s.market[clients]
        search = np.bincount(cell, weights=w, minlength=n_p * n_m)
        active = np.array([p.active for p in self.providers], float)
        posted = share / n_p * active[:, None] * self.vacancies.posted_by_market()[None, :]
        hires = self.matching.cobb_douglas(search, posted.ravel())
        rate = np.divide(hires, search, out=np.zeros(search.shape), where=search > 0)
        self.network_rate[:] = rate.reshape(n_p, n_m)
        return clients[self.rng.random(clients.size) < -np.expm1(-rate[cell] * w)]

    def _pay_results(self) -> None:
        """Outcome and sustainment fees for clients who reach a milestone in a job found with a provider.

        A job counts while the person stays in it; the fee goes to the provider that served them,
        unless it has left the pilot.
        """
        if not self.contract.pays_for_jobs:
            return
        s = self.seekers
        placed = (s.placed_week >= 0).nonzero()[0]
        kept = s.state[placed] == WORK_STATES[s.placed_form[placed]]
        s.placed_week[placed[~kept]] = -1
        placed = placed[kept]
        active = np.array([p.active for p in self.providers])
        placed = placed[active[s.served_by[placed]]]
        outcome, sustained = self.contract.due(self.week - s.placed_week[placed])
        for term, due in (("outcome", outcome), ("sustainment", sustained)):
            who = placed[due]
            fee = getattr(self.contract, term)(s.placed_form[who], s.pay_group[who])
            self.accounts.pay(term, s.served_by[who], who, fee)

    def _review_providers(self) -> None:
        """A provider whose losses exceed the tolerance, after the review week, leaves the pilot."""
        cfg = self.settings
        tolerance = cfg.providers.exit_loss_eur
        if tolerance is None or not cfg.providers.exit_review_week <= self.week <= cfg.pilot.end_week:
            return
        profit = self.accounts.profit()
        for p in self.providers:
            if p.active and profit[p.index] < -tolerance:
                p.exit()

    def _profiling_cuts(self) -> np.ndarray:
        """Employability at the tier boundaries of the register's unemployed now, highest first."""
        tiers = len(self.settings.payment.groups.multipliers)
        unemployed = self.seekers.state == _UNEMPLOYED
        share = 1.0 - np.arange(1, tiers) / tiers
        pool = self._employability[unemployed] if unemployed.any() else self._employability
        return np.quantile(pool, share)

    def _separate(self) -> None:
        """Employment spells end at rates set by the form of work; the person returns to the register."""
        s = self.seekers
        # every form of work has a separation rate above 0 (config): all jobs held since the week began,
        # which nothing before this in the week changes (hires are of searchers): those in work at its start
        working = (self._prev_state.view(np.uint8) - _FIRST_WORK <= _WORK_SPAN).nonzero()[0]
        # a job ends when its uniform is below its form's rate: only those below the highest rate are drawn
        few, u = rare_events(self.rng, working.size, self._highest_separation)
        maybe = working.take(few)
        ends = maybe[u < self._separation.take(s.state.take(maybe))]
        s.state[ends] = State.UNEMPLOYED
        s.employer[ends] = -1

    def _enter_and_leave_register(self) -> None:
        """Register customers (unemployed, with a provider or in a service: the same rates for all) leave
        for studies or inactivity; others come back to the register. Only those who were in the state
        at the start of the week move (a job that ended this week is not left the same week)."""
        s, m, rng = self.seekers, self.settings.market, self.rng
        out_rate = m.to_studies + m.to_inactivity
        # every move below needs a uniform below the highest rate: only those few are drawn (world/rare.py)
        few, u = rare_events(rng, s.n, self._highest_register_rate)
        state, prev = s.state[few], self._prev_state[few]
        back = (self._back_rate[state] > u) & (state == prev)
        # exits fall with the spell's length (market.exit_decay_per_year): compare u / exp(-decay·d)
        scaled = u * np.exp(m.exit_decay_per_year * s.duration[few] / 52.0)
        leave = is_searching(state) & is_searching(prev) & (scaled < out_rate)
        to_studies = leave & (scaled < m.to_studies)
        leavers = few[leave]
        self._leave_provider(leavers)
        s.state[leavers] = State.INACTIVE
        s.state[few[to_studies]] = State.STUDIES
        s.state[few[back]] = State.UNEMPLOYED

    def _advance_clocks(self) -> np.ndarray:
        """A week passes: spell lengths grow; a new unemployment spell starts at zero. Returns who
        changed state this week."""
        s = self.seekers
        prev = self._prev_state
        changed = (s.state != prev).nonzero()[0]
        searching = is_searching(s.state)
        s.duration += searching
        new_spell = changed[is_searching(s.state[changed]) & ~is_searching(prev[changed])]
        s.duration[new_spell] = 0
        s.sanctioned[new_spell] = False
        s.state_weeks += 1
        s.state_weeks[changed] = 0
        self._prev_state = s.state.copy()
        self.register = Register(s, searching)  # those looking for work as the next week starts
        return changed

    def _freeze_market(self) -> None:
        """At week 0, fix job finding per unit of search (used when congestion is switched off)."""
        s = self.seekers
        searching = is_searching(s.state)
        weight = np.where(searching, self.search_effort() * self.employability(), 0.0)
        search = np.bincount(s.market, weights=weight, minlength=self.matching.n_markets)
        self.matching.freeze(search, self.vacancies.by_market())

    # -- what is known about the world -----------------------------------------------------------------

    def employability(self) -> np.ndarray:
        pop = self.settings.population
        return self.seekers.employability(pop.employability_decay_per_year, pop.employability_floor)

    def _count(self, flows: np.ndarray, referral: ReferralWeek, placements: np.ndarray) -> None:
        s = self.seekers
        stay = flows.diagonal()
        inflow, outflow = flows.sum(axis=0) - stay, flows.sum(axis=1) - stay
        self._stock += inflow - outflow  # a bincount of int8 states costs 10x more
        stock = self._stock
        into, out_of = inflow.tolist(), outflow.tolist()
        c: dict[str, float] = {"week": self.week}
        c.update(zip(_STOCK_KEYS, stock.tolist()))
        c.update(zip(_FLOW_KEYS, chain.from_iterable(zip(into, out_of))))  # in, out
        # the unemployed as the statistics count them: on the register, not in a service (with a
        # provider or not); their elapsed spell lengths and the spells that start and end (docs/model.md)
        # counted and summed over a mask, not gathered: the mean is the same float (an exact integer sum)
        # counted among the register's (states 0-2), made as the clocks advanced: the same counts
        r = self.register
        unemployed = r.state <= _WITH_PROVIDER  # states 0, 1
        n_unemployed = int(stock[State.UNEMPLOYED] + stock[State.WITH_PROVIDER])
        c["unemployed"] = n_unemployed
        c["unemployed_52w_plus"] = int(np.count_nonzero(unemployed & (r.duration >= 52)))
        # summed in int32 (without casting every entry to int64) while no sum of spells can pass int32's range
        wide = r.index.size * (int(r.duration.max(initial=0)) + 1) >= 2**31
        total = (r.duration * unemployed).sum(dtype=np.int64 if wide else np.int32)
        c["unemployed_mean_weeks"] = int(total) / n_unemployed if n_unemployed else 0.0
        # spells start by a move into states 0 or 1 from neither, and end by a move the other way
        between = int(flows[State.UNEMPLOYED, State.WITH_PROVIDER] + flows[State.WITH_PROVIDER, State.UNEMPLOYED])
        c["unemployment_started"] = into[State.UNEMPLOYED] + into[State.WITH_PROVIDER] - between
        c["unemployment_ended"] = out_of[State.UNEMPLOYED] + out_of[State.WITH_PROVIDER] - between
        c["vacancies"] = int(self.vacancies.open.sum())
        c["eligible_unassigned"] = self.referral.eligible_count(s, r)
        c["assigned"] = referral.assigned
        c["offers"] = referral.offers
        c["accepted"] = referral.accepted
        c["no_shows"] = referral.no_shows
        c["recruited"] = referral.recruited
        c["referrals"] = referral.starts
        c["participants"] = int(stock[State.WITH_PROVIDER])
        c.update(zip(_PLACEMENT_KEYS, np.asarray(placements, np.int64).tolist()))
        self.counts = c

    def _counsellors(self, scenario: Scenario) -> np.ndarray:
        s = self.seekers
        searching = np.bincount(s.office[is_searching(s.state)], minlength=scenario.area.offices)
        return np.maximum(1, np.ceil(searching / scenario.area.caseload_per_counsellor)).astype(int)

    def record(self, services: bool = True) -> RunRecord:
        """The run so far as plain data, for `labsim.results` (which never reads a live model). Without
        `services`, the activation services' leavers and timelines, which only a run's moments read, are
        left empty (a replication: a sort of the whole log and a timeline, about 4 ms of a 115 ms pilot)."""
        s, acc = self.seekers, self.accounts
        person = (s.arm >= 0).nonzero()[0]
        clients = (s.client_weeks > 0).nonzero()[0]
        left, left_week = self.history.left(_ACTIVATION) if services else (np.zeros(0, np.int64),) * 2
        return RunRecord(
            scenario=self.settings,
            weeks=self.week,
            job_seekers=s.n,
            weekly=self.datacollector.get_model_vars_dataframe().reset_index(drop=True),
            person=person,
            people={f: getattr(s, f)[person].copy() for f in PEOPLE_FIELDS},
            timeline=self.history.timeline(person),
            clients={f: getattr(s, f)[clients].copy() for f in CLIENT_FIELDS},
            provider_active=np.array([p.active for p in self.providers]),
            provider_placements=np.array([p.placements for p in self.providers], np.int64),
            purchaser_paid=dict(acc.purchaser),
            provider_revenue=acc.revenue.copy(),
            provider_running_cost=acc.running_cost.copy(),
            provider_setup_cost=acc.setup_cost.copy(),
            participants_reached=int(self.referral.started),
            participants_target=int(self.referral.target),
            week_target_reached=self.referral.week_target_reached,
            employed_share_last_week=float(np.mean(is_employed(s.state))),
            services_left_week=left_week,
            services_timeline=self.history.timeline(left),
            inference_seed=self.inference_seed,
        )


#: The codes of the states the week compares with, as plain ints (read once, not through .value each time).
_UNEMPLOYED, _WITH_PROVIDER, _ACTIVATION, _ENTREPRENEURSHIP = (
    s.value for s in (State.UNEMPLOYED, State.WITH_PROVIDER, State.ACTIVATION, State.ENTREPRENEURSHIP))
#: The forms of work's codes as first + 0..span, as uint8 (one comparison of a state's uint8 view less first).
_FIRST_WORK, _WORK_SPAN = np.uint8(min(WORK_STATES)), np.uint8(max(WORK_STATES) - min(WORK_STATES))
#: Names of the weekly counts by state and form of work, in the weekly series' order.
_STOCK_KEYS = tuple(f"stock_{name}" for name in STATE_NAMES)
_FLOW_KEYS = tuple(f"{way}_{name}" for name in STATE_NAMES for way in ("inflow", "outflow"))
_PLACEMENT_KEYS = tuple(f"placements_{form}" for form in WORK_FORMS)


class WeeklySeries(mesa.DataCollector):
    """Mesa's DataCollector of the weekly counts, one model reporter per count. The counts are new
    Python ints and floats every week, which nothing can change, so `collect` keeps each as it is
    instead of deep-copying it (mesa's guard against values that change later; two thirds of its time)."""

    def collect(self, model) -> None:
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        counts = model.counts  # what each reporter reads, read here without a call per count
        for var, series in self.model_vars.items():
            series.append(counts[var])


def _reporter(key: str):
    """The DataCollector's reporter of one weekly count."""
    return lambda m: m.counts[key]
