"""The labour market: employers' vacancies and the weekly matching of seekers to them.

Within each labour market (area x sector) a constant-returns Cobb-Douglas matching function of
effective search S and vacancies V gives the week's hires, H = A S^a V^(1-a), capped by V. The hires
are shared among seekers in proportion to search effort x employability: one seeker's extra effort
lowers everyone else's chance, which is where displacement comes from. With congestion switched off
each seeker's chance is their own effective search times the market's job-finding rate per unit of
search frozen at the start of the pilot, so nobody's effort affects anybody else.
"""

from __future__ import annotations

import numpy as np

from labsim.config.scenario import Market


class Vacancies:
    """Employers' open vacancies, one entry per employer, grouped by labour market."""

    def __init__(self, market: Market, seekers_by_sector: np.ndarray, rng: np.random.Generator):
        sizes, sector = [], []
        for k, sec in enumerate(market.sectors):
            w = rng.lognormal(0.0, 1.0, sec.employers)
            sizes.append(w / w.sum())
            sector.append(np.full(sec.employers, k, np.int32))
        self.size_share = np.concatenate(sizes)
        self.market = np.concatenate(sector)
        self.n_markets = len(market.sectors)
        inflow = np.array([s.vacancies_per_100_seekers / 100.0 for s in market.sectors])
        self.inflow = inflow[self.market] * seekers_by_sector[self.market] * self.size_share
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
        weights = np.maximum(self.open[self.order], 0).astype(float)
        cum = np.cumsum(weights)
        first, last = self.first[markets], self.first[markets + 1] - 1  # each market's employers
        lo = np.where(first > 0, cum[first - 1], 0.0)
        hi = cum[last]
        # markets with no open vacancy left fall back to employer size
        empty = hi <= lo
        u = lo + rng.random(markets.size) * (hi - lo)
        idx = np.searchsorted(cum, u, side="right")
        idx = np.clip(idx, first, last)
        if empty.any():
            span = last[empty] + 1 - first[empty]
            idx[empty] = first[empty] + (rng.random(empty.sum()) * span).astype(int)
        return self.order[idx].astype(np.int32)

    def fill(self, employers: np.ndarray) -> None:
        self.open -= np.bincount(employers, minlength=self.open.size)
        np.maximum(self.open, 0, out=self.open)


class Matching:
    """Constant-returns matching per labour market, with or without congestion."""

    def __init__(self, market: Market, n_markets: int) -> None:
        self.efficiency = market.matching_efficiency
        self.elasticity = market.elasticity
        self.congestion = market.congestion
        self.n_markets = n_markets
        self.rate_per_search: np.ndarray | None = None  # frozen rates when congestion is off
        self.last_rate = np.zeros(n_markets)  # last week's hires per unit of search, per market

    def hires(self, search: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
        """Expected hires per market from effective search and vacancies."""
        a = self.elasticity
        h = self.efficiency * np.power(search, a) * np.power(vacancies, 1.0 - a)
        return np.minimum(h, vacancies)

    def freeze(self, search: np.ndarray, vacancies: np.ndarray) -> None:
        """Fix each market's hires per unit of search at today's value (used without congestion)."""
        h = self.hires(search, vacancies)
        self.rate_per_search = np.divide(h, search, out=np.zeros_like(h), where=search > 0)

    def job_finding(
        self, weight: np.ndarray, market: np.ndarray, vacancies: np.ndarray
    ) -> np.ndarray:
        """Each searcher's probability of being hired this week.

        `weight` is search effort x employability for the searchers, `market` their labour market.
        """
        # as float even when nobody searches (bincount of nothing is an integer array)
        search = np.bincount(market, weights=weight, minlength=self.n_markets).astype(float)
        if self.congestion or self.rate_per_search is None:
            rate = np.divide(
                self.hires(search, vacancies), search, out=np.zeros_like(search), where=search > 0
            )
        else:
            rate = self.rate_per_search
        self.last_rate = rate
        p = rate[market]  # -expm1(-(rate * weight)) in place: the same floats, no temporaries
        p *= weight
        np.negative(p, out=p)
        np.expm1(p, out=p)
        return np.negative(p, out=p)
