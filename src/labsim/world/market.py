"""The labour market: employers' vacancies and the weekly matching of seekers to them.

Within each labour market (area x sector) a constant-returns Cobb-Douglas matching function of
effective search S and vacancies V gives the week's hires, H = A S^a V^(1-a), capped by V. The hires
are shared among seekers in proportion to search effort x employability: one seeker's extra effort
lowers everyone else's chance, which is where displacement comes from. With congestion switched off
each seeker's chance is their own effective search times the market's job-finding rate per unit of
search frozen at the start of the pilot, so nobody's effort affects anybody else.

With segments (`market.segments`: e.g. education groups) each sector's market is split into cells,
sector x segment, and each vacancy belongs to one. A share `within_share` (theta) of a seeker's search
competes only in their own cell; the rest spreads over the sector's cells in proportion to their
vacancies. Cell c's effective search is E_c = theta S_c + (1 - theta) pi_c S_sector (pi_c its share of
the sector's vacancies), its hires H_c = min(A E_c^a V_c^(1-a), V_c), and a seeker in c finds work at
theta r_c + (1 - theta) sum_c' pi_c' r_c' per unit of search, r = H / E: theta 0 is the pooled market
exactly, theta 1 separate markets. Whoever is hired takes a vacancy of the cell their hire came from.

With `market.matching_function = "urn_ball"` a cell's hires are H = min(J (1 - exp(-E / (q J))), V), the
jobs on offer J = j A V filled when an application reaches them: the elasticity on search falls as
applications per job rise, so in a slack market the treated mostly take jobs others would have had.
j and q make it equal the Cobb-Douglas in level and elasticity at the calibrated market
(`market.urn_ball`; docs/model.md, "Matching"). The hires are shared among searchers as above.
"""

from __future__ import annotations

import math

import numpy as np

from labsim.config.scenario import Market
from labsim.world.rare import CAP, rare_events


class Vacancies:
    """Employers' open vacancies, one entry per employer, grouped by labour market."""

    def __init__(self, market: Market, seekers_by_sector: np.ndarray, rng: np.random.Generator,
                 cell_share: np.ndarray | None = None):
        """`cell_share`: each market cell's share of its sector's new vacancies (`vacancy_shares`); none
        without segments. Employers take the segments in turn, each segment's sizes summing to 1."""
        k = len(market.segments.names)
        sizes, sector, segment = [], [], []
        for j, sec in enumerate(market.sectors):
            w = rng.lognormal(0.0, 1.0, sec.employers)
            seg = np.arange(sec.employers) % k
            for g in range(k):
                w[seg == g] /= w[seg == g].sum()
            sizes.append(w)
            sector.append(np.full(sec.employers, j, np.int32))
            segment.append(seg.astype(np.int32))
        self.size_share = np.concatenate(sizes)
        self.sector = np.concatenate(sector)
        self.market = self.sector * k + np.concatenate(segment)
        self.n_markets = len(market.sectors) * k
        share = np.ones(self.n_markets) if cell_share is None else cell_share
        inflow = np.array([s.vacancies_per_100_seekers / 100.0 for s in market.sectors])
        self.inflow = inflow[self.sector] * seekers_by_sector[self.sector] * share[self.market] * self.size_share
        self.expiry = market.vacancy_expiry
        steady = self.inflow / max(self.expiry, 1e-9)
        self.open = rng.poisson(steady).astype(np.int64)
        self.posted = np.zeros_like(self.open)  # opened this week
        self.order = np.argsort(self.market, kind="stable")
        self.first = np.searchsorted(self.market[self.order], np.arange(self.n_markets + 1))

    def post_and_expire(self, rng: np.random.Generator) -> None:
        """New vacancies open; some close unfilled or are filled from outside the register."""
        self.open -= rng.binomial(self.open, self.expiry)
        self.posted = rng.poisson(self.inflow)
        self.open += self.posted

    def by_market(self) -> np.ndarray:
        return np.bincount(self.market, weights=self.open, minlength=self.n_markets)

    def posted_by_market(self) -> np.ndarray:
        """Vacancies opened this week, per market (what providers' employer services hear of first)."""
        return np.bincount(self.market, weights=self.posted, minlength=self.n_markets)

    def pick_employers(self, markets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An employer for each hire, chosen in its market in proportion to open vacancies."""
        weights = self.open[self.order].astype(float)  # never below 0 (`fill` keeps it so)
        cum = weights.cumsum()
        first, last = self.first[markets], self.first[markets + 1] - 1  # each market's employers
        lo = np.where(first > 0, cum[first - 1], 0.0)
        hi = cum[last]
        # markets with no open vacancy left fall back to employer size
        empty = hi <= lo
        u = lo + rng.random(markets.size) * (hi - lo)
        idx = cum.searchsorted(u, side="right")
        idx = np.minimum(np.maximum(idx, first), last)  # np.clip, without its Python wrapper
        if empty.any():
            span = last[empty] + 1 - first[empty]
            idx[empty] = first[empty] + (rng.random(empty.sum()) * span).astype(int)
        return self.order[idx].astype(np.int32)

    def fill(self, employers: np.ndarray) -> None:
        self.open -= np.bincount(employers, minlength=self.open.size)
        np.maximum(self.open, 0, out=self.open)


def urn_ball_fill(elasticity: float) -> float:
    """Applications per job z at which urn-ball hires, J (1 - exp(-z)), have the elasticity on search
    z / (e^z - 1) equal to `elasticity` (solved by bisection: the elasticity falls from 1 as z grows)."""
    lo, hi = 1e-9, 50.0
    for _ in range(100):
        z = 0.5 * (lo + hi)
        lo, hi = (z, hi) if z / np.expm1(z) > elasticity else (lo, z)
    return 0.5 * (lo + hi)


def vacancy_shares(market: Market, search_by_cell: np.ndarray) -> np.ndarray | None:
    """Each cell's share of its sector's new vacancies: its seekers' share of the sector's effective
    search (so job finding per unit of search starts equal across segments), times the segment's
    `vacancy_factor`; None without segments."""
    seg = market.segments
    k = len(seg.names)
    if k == 1:
        return None
    factor = np.array([seg.vacancy_factor.get(g, 1.0) for g in seg.names])
    w = search_by_cell.reshape(-1, k) * factor
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.full_like(w, 1.0 / k), where=total > 0).ravel()


class Matching:
    """Constant-returns matching per labour market (sector x segment), with or without congestion."""

    def __init__(self, market: Market, n_sectors: int) -> None:
        self.efficiency = market.matching_efficiency
        self.elasticity = market.elasticity
        self.congestion = market.congestion
        self.urn_ball = market.matching_function == "urn_ball"
        if self.urn_ball:  # jobs on offer per open vacancy (j A), and the effective search that makes one application (q)
            ref = market.urn_ball
            z = urn_ball_fill(self.elasticity)
            self.jobs_per_vacancy = self.efficiency * ref.reference_search_per_vacancy ** self.elasticity / -np.expm1(-z)
            self.search_per_job = ref.reference_search_per_vacancy * self.efficiency / (
                z * ref.reference_efficiency * self.jobs_per_vacancy)
        self.segments = len(market.segments.names)
        self.within = market.segments.within_share
        self.n_markets = n_markets = n_sectors * self.segments
        self.rate_per_search: np.ndarray | None = None  # frozen rates when congestion is off
        self.last_rate = np.zeros(n_markets)  # last week's hires per unit of search, per market
        # with segments: per searcher's cell, the cumulative chance that a hire's job is in each cell of
        # the sector (own cell through search within the segment, any through the rest)
        self.job_cdf = np.ones((n_markets, self.segments))
        # copied where a cell's figure has no denominator: a sector's vacancies split evenly, and a job
        # certain to be in the first cell
        self._even_split = np.full((n_sectors, self.segments), 1.0 / self.segments)
        self._certain = np.ones((n_sectors, self.segments, self.segments))
        self._own_cell = np.eye(self.segments)[None, :, :]  # a sector's cells (hirer's, job's): 1 where the same
        cells = np.arange(n_markets)
        self._sector_cell = cells - cells % self.segments  # each cell's sector's first cell

    def hires(self, search: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
        """Expected hires per market from effective search and vacancies (`market.matching_function`)."""
        if self.urn_ball:
            jobs = self.jobs_per_vacancy * np.asarray(vacancies, float)
            u = np.divide(search, self.search_per_job * jobs, out=np.zeros(jobs.shape), where=jobs > 0)
            return np.minimum(-jobs * np.expm1(-u), vacancies)
        return self.cobb_douglas(search, vacancies)

    def cobb_douglas(self, search: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
        """Expected hires from the Cobb-Douglas matching function, capped by the vacancies."""
        a = self.elasticity
        h = self.efficiency * np.power(search, a) * np.power(vacancies, 1.0 - a)
        return np.minimum(h, vacancies)

    def rates(self, search: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
        """Hires per unit of a searcher's own search, per market cell (module docstring, for segments)."""
        if self.segments == 1:
            h = self.hires(search, vacancies)
            return np.divide(h, search, out=np.zeros(h.shape), where=search > 0)
        k, th = self.segments, self.within
        s, v = search.reshape(-1, k), np.asarray(vacancies, float).reshape(-1, k)
        v_sector = v.sum(axis=1, keepdims=True)
        pi = np.divide(v, v_sector, out=self._even_split.copy(), where=v_sector > 0)
        pooled = (1.0 - th) * pi  # each cell's share of the search spread over the sector
        e = th * s + pooled * s.sum(axis=1, keepdims=True)
        r = np.divide(self.hires(e, v), e, out=np.zeros(e.shape), where=e > 0)
        spill = pooled * r  # hires per unit of search in each cell through the pooled part
        own = th * r  # and through search within the segment
        where = spill[:, None, :] + own[:, :, None] * self._own_cell
        cdf = where.cumsum(axis=2)
        total = cdf[:, :, -1:]
        self.job_cdf = np.divide(cdf, total, out=self._certain.copy(), where=total > 0).reshape(-1, k)
        return (own + spill.sum(axis=1, keepdims=True)).ravel()

    def job_cells(self, cells: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The cell whose vacancy each hire takes, for hires by searchers of `cells` (their own without
        segments; no draw then)."""
        if self.segments == 1 or cells.size == 0:
            return cells
        k = self.segments
        # the job's cell within the sector: how many of the cumulative chances the uniform reaches, counted
        # a column at a time (the same count as comparing a hires x k table and summing its rows)
        u = rng.random(cells.size)
        pick = np.zeros(cells.size, np.intp)
        for c in range(k):
            pick += u >= self.job_cdf[:, c].take(cells)
        return self._sector_cell.take(cells) + np.minimum(pick, k - 1)

    def freeze(self, search: np.ndarray, vacancies: np.ndarray) -> None:
        """Fix each market's hires per unit of search at today's value (used without congestion)."""
        self.rate_per_search = self.rates(search, vacancies)

    def job_finding(
        self, weight: np.ndarray, market: np.ndarray, vacancies: np.ndarray
    ) -> np.ndarray:
        """Each searcher's probability of being hired this week, 1 - exp(-rate x weight).

        `weight` is search effort x employability for the searchers, `market` their labour market.
        """
        return _chance(self.expected_hires(weight, market, vacancies))

    def hired(self, weight: np.ndarray, market: np.ndarray, vacancies: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        """Which searchers are hired this week (their positions, in order): each with their `job_finding`
        chance, independently."""
        x = self.expected_hires(weight, market, vacancies)
        # as rare.events: the few with a rate above _CAP_RATE (a chance above CAP) draw a uniform each, the
        # rest are thinned from the rare events at CAP; the chance 1 - exp(-x) is below x, so it is worked
        # out only where u < x (with room for its rounding). The same outcome as a uniform per searcher.
        top = (x > _CAP_RATE).nonzero()[0]
        at, u = rare_events(rng, x.size, CAP)
        xa = x.take(at)
        keep = (xa <= _CAP_RATE) & (u < xa * _ROUNDING_ROOM)
        maybe, u = at[keep], u[keep]
        low = maybe[u < _chance(x.take(maybe))]
        if top.size == 0:
            return low
        return np.sort(np.concatenate([low, top[rng.random(top.size) < _chance(x.take(top))]]))

    def expected_hires(self, weight: np.ndarray, market: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
        """Each searcher's rate of hire this week: their market's hires per unit of search x `weight`."""
        # as float even when nobody searches (bincount of nothing is an integer array)
        search = np.bincount(market, weights=weight, minlength=self.n_markets).astype(float, copy=False)
        if self.congestion or self.rate_per_search is None:
            rate = self.rates(search, vacancies)
        else:
            rate = self.rate_per_search
        self.last_rate = rate
        x = rate.take(market)  # half the time of rate[market] with int32 cells
        x *= weight
        return x


#: Slightly above 1: no rounding of 1 - exp(-x) takes it as far above x as x times this.
_ROUNDING_ROOM = 1.0 + 2.0**-40
#: The rate whose chance 1 - exp(-x) is CAP, less a hair so that a chance at or below it is below CAP.
_CAP_RATE = -math.log1p(-CAP) * (1.0 - 2.0**-40)


def _chance(x: np.ndarray) -> np.ndarray:
    """1 - exp(-x) as -expm1(-x), in place in `x`: the same floats, no temporaries."""
    np.negative(x, out=x)
    np.expm1(x, out=x)
    return np.negative(x, out=x)
