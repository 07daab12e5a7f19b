"""The pilot's referral policy: who is eligible, randomisation, offers or assignment, and starts.

Each week of the intake window the TE offices randomise the newly eligible into pilot and control.
Under *voluntary* referral counsellors offer the pilot to part of the pilot arm, as their weekly time
allows, and each seeker accepts with a probability that rises with motivation and employability.
Under *mandatory* referral everyone in the pilot arm is assigned; some do not show up and are
sanctioned. Those who accept (or show up) start with a provider when a place is free, until the
target is reached or intake closes. Everything is done for all seekers at once, with masks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from labsim.world.population import Register, Seekers
from labsim.config.scenario import CLUSTER_DESIGNS, Randomisation, ReferralMode, Scenario
from labsim.config.states import AGE_GROUPS, State


_UNEMPLOYED = State.UNEMPLOYED.value  # a plain int, read once (not through .value each week)


@dataclass
class ReferralWeek:
    """What the offices did this week."""

    assigned: int = 0
    offers: int = 0
    accepted: int = 0
    no_shows: int = 0
    recruited: int = 0
    starts: int = 0


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each group value, in the given order (for per-office quotas)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    first = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(groups.size, np.int64)
    rank[order] = np.arange(groups.size) - first
    return rank


def waiting_for_place(s: Seekers) -> np.ndarray:
    """Indices of those who accepted (or showed up) and, still unemployed, wait for a provider's place."""
    return (s.accepted & (s.start_week < 0) & (s.state == _UNEMPLOYED)).nonzero()[0]


class ReferralPolicy:
    """Eligibility, randomisation and referral of job seekers into the pilot."""

    def __init__(self, scenario: Scenario) -> None:
        r = scenario.referral
        self.mode = r.mode
        self.start_week = r.start_week
        self.end_intake = min(r.start_week + r.intake_weeks, scenario.pilot.end_week + 1)
        self.target = r.target_participants
        self.offer_share = r.offer_share if r.mode is ReferralMode.VOLUNTARY else 1.0
        self.take_up = r.take_up
        self.no_show = r.no_show
        self.sanction_to_inactivity = r.sanction_to_inactivity
        self.design = scenario.design
        self.treatment_share = scenario.design.treatment_share
        self._units = len(scenario.market.sectors) if scenario.design.randomisation is Randomisation.SATURATION else (
            scenario.area.offices
        )
        self._unit_share: np.ndarray | None = None  # treated share per office or market, once drawn
        e = r.eligibility
        self.min_weeks, self.max_weeks = e.min_weeks_unemployed, e.max_weeks_unemployed
        names = [s.name for s in scenario.market.sectors]
        wanted = e.sectors if e.sectors is not None else names
        # lookup tables (code -> eligible?) instead of np.isin over everyone each week
        self._age_ok = np.array([a in e.age_groups for a in AGE_GROUPS])
        self._sector_ok = np.array([n in wanted for n in names])
        segments = scenario.market.segments.names
        self._segment_ok = np.array([e.segments is None or g in e.segments for g in segments])
        self._every_age, self._every_sector, self._every_segment = (
            bool(ok.all()) for ok in (self._age_ok, self._sector_ok, self._segment_ok))
        self.started = 0
        self.week_target_reached: int | None = None

    def intake_open(self, week: int) -> bool:
        return self.start_week <= week < self.end_intake and self.started < self.target

    def closed_after(self, week: int) -> bool:
        """Whether nobody can be assigned or start after `week` (the intake has closed for good)."""
        return week + 1 >= self.end_intake or self.started >= self.target

    def eligible_index(self, s: Seekers) -> np.ndarray:
        """Indices of the eligible, in increasing order: unemployed, in the duration band, of an eligible
        age, sector and segment, not assigned before (looked up for the few left)."""
        who = self._in_band(s.state, s.duration, s.arm).nonzero()[0]
        if not self._every_age:
            who = who[self._age_ok[s.age_group[who]]]
        if not self._every_sector:
            who = who[self._sector_ok[s.sector[who]]]
        if not self._every_segment:
            who = who[self._segment_ok[s.segment[who]]]
        return who

    def eligible_count(self, s: Seekers, register: Register | None = None) -> int:
        """How many are eligible (counted without listing them when every age, sector and segment is;
        among `register`'s, those looking for work now, if given)."""
        if self._every_age and self._every_sector and self._every_segment:
            if register is None:
                return int(np.count_nonzero(self._in_band(s.state, s.duration, s.arm)))
            r = register
            return int(np.count_nonzero(self._in_band(r.state, r.duration, s.arm.take(r.index))))
        return int(self.eligible_index(s).size)

    def _in_band(self, state: np.ndarray, duration: np.ndarray, arm: np.ndarray) -> np.ndarray:
        """Unemployed, not assigned before, in the duration band: a mask over the people these arrays
        describe (everyone, or the register's)."""
        return (state == _UNEMPLOYED) & (arm < 0) & (duration >= self.min_weeks) & (duration <= self.max_weeks)

    def share_of(self, s: Seekers, who: np.ndarray, rng: np.random.Generator) -> np.ndarray | float:
        """Each newly eligible seeker's chance of the pilot arm under the design.

        Offices (cluster design) and markets (saturation design) get their treated share once, at the
        first intake week, by a random permutation, so the pilot arm's units are fixed for the pilot."""
        d = self.design
        if d.randomisation is Randomisation.INDIVIDUAL:
            return self.treatment_share
        if self._unit_share is None:
            n = self._units
            if d.randomisation in CLUSTER_DESIGNS:
                treated = d.offices_per_arm(n)[0]
                shares = (np.arange(n) < treated).astype(float)
            else:
                shares = np.resize(np.array(d.saturation_shares, float), n)
            self._unit_share = shares[rng.permutation(n)]
        unit = s.sector if d.randomisation is Randomisation.SATURATION else s.office
        return self._unit_share[unit[who]]

    @property
    def unit_shares(self) -> np.ndarray | None:
        """Each office's or market's treated share under a cluster or saturation design, once drawn."""
        return None if self._unit_share is None else self._unit_share.copy()

    def as_places_allow(self, s: Seekers, new: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Under mandatory referral with individual randomisation, the offices randomise no more of the
        eligible than the places left can take: a random sample, the rest staying eligible for later
        weeks. Otherwise a target smaller than the eligible stock would fill the pilot arm with people
        who never get a place and dilute the effect the pilot measures."""
        if self.mode is not ReferralMode.MANDATORY or self.design.randomisation is not Randomisation.INDIVIDUAL:
            return new
        places = self.target - self.started - waiting_for_place(s).size
        shows = (1.0 - self.no_show) * self.treatment_share
        enough = int(np.ceil(max(places, 0) / shows)) if shows > 0 else new.size
        return new if new.size <= enough else np.sort(rng.choice(new, enough, replace=False))

    def take_up_probability(self, motivation: np.ndarray, employability: np.ndarray) -> np.ndarray:
        t = self.take_up
        z = t.intercept + t.motivation * motivation + t.employability * employability
        return 1.0 / (1.0 + np.exp(-z))

    def week(
        self,
        s: Seekers,
        week: int,
        employability: np.ndarray,
        offers_per_office: np.ndarray,
        free_places: int,
        rng: np.random.Generator,
        recruit: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> tuple[ReferralWeek, np.ndarray]:
        """Run one week of referral; returns the counts and the indices of those who start now.

        Under voluntary referral, `recruit(declined)` may win over some who declined the office's
        offer (providers recruiting among the offered); it returns a mask over `declined`.
        """
        out = ReferralWeek()
        before = self.design.randomisation is Randomisation.AREA and 1 <= week < self.start_week
        if not (self.intake_open(week) or before):
            return out, np.zeros(0, np.int64)
        self._randomise(s, week, employability, rng, out, before)
        if before:
            return out, np.zeros(0, np.int64)
        self._offer(s, week, employability, offers_per_office, rng, recruit, out)
        return out, self._start(s, week, free_places, rng, out)

    def _randomise(self, s: Seekers, week: int, employability: np.ndarray, rng: np.random.Generator,
                   out: ReferralWeek, before: bool) -> None:
        """Randomise the newly eligible and mark the pilot arm's to be offered a place (before the intake
        of an area design: record them as the "before" cohort, refer nobody)."""
        new = self.eligible_index(s)
        if not before:
            new = self.as_places_allow(s, new, rng)
        arm = (rng.random(new.size) < self.share_of(s, new, rng)).astype(np.int8)
        s.arm[new] = arm
        s.assigned_week[new] = week
        s.assigned_duration[new] = s.duration[new]
        s.assigned_employability[new] = employability[new]
        out.assigned = new.size
        if before:
            s.before_pilot[new] = True
            return
        s.to_offer[new] = (arm == 1) & (rng.random(new.size) < self.offer_share)

    def _offer(self, s: Seekers, week: int, employability: np.ndarray, offers_per_office: np.ndarray,
               rng: np.random.Generator, recruit: Callable[[np.ndarray], np.ndarray] | None,
               out: ReferralWeek) -> None:
        """Offers as counsellors' time allows (voluntary: some accept, providers may win over some who
        declined) or assignment letters (mandatory: some do not show up, and are sanctioned)."""
        waiting = (s.to_offer & (s.offer_week < 0) & (s.state == _UNEMPLOYED)).nonzero()[0]
        if self.mode is ReferralMode.VOLUNTARY:
            waiting = waiting[rng.permutation(waiting.size)]
            waiting = waiting[rank_within(s.office[waiting]) < offers_per_office[s.office[waiting]]]
            yes = rng.random(waiting.size) < self.take_up_probability(
                s.motivation[waiting], employability[waiting]
            )
            if recruit is not None:
                declined = (~yes).nonzero()[0]
                won = recruit(waiting[declined])
                yes[declined[won]] = True
                s.recruited[waiting[declined[won]]] = True
                out.recruited = int(won.sum())
        else:
            yes = rng.random(waiting.size) >= self.no_show
            missed = waiting[~yes]
            s.no_show[missed] = True
            s.sanctioned[missed] = True
            leave = missed[rng.random(missed.size) < self.sanction_to_inactivity]
            s.state[leave] = State.INACTIVE
            out.no_shows = missed.size
        s.offer_week[waiting] = week
        s.accepted[waiting[yes]] = True
        out.offers, out.accepted = waiting.size, int(yes.sum())

    def _start(self, s: Seekers, week: int, free_places: int, rng: np.random.Generator,
               out: ReferralWeek) -> np.ndarray:
        """Starts: accepted seekers still unemployed, as places and the target allow; their indices."""
        ready = waiting_for_place(s)
        places = min(free_places, self.target - self.started)
        if ready.size > places:
            ready = rng.choice(ready, places, replace=False)
        s.start_week[ready] = week
        out.starts = ready.size
        self.started += ready.size
        if self.started >= self.target and self.week_target_reached is None:
            self.week_target_reached = week
        return ready
