"""Rare events among many: who, of n people each with a chance of at most p this week, has the event.

A uniform per person compared with p costs a draw for everyone, and most of a week's people have no
event (2 % of the register leave it, 8 % of the gig workers lose their work). The positions whose
uniform falls below p are those of a Bernoulli(p) sequence, whose gaps are geometric; so they are drawn
as geometric gaps (by inversion), and each one's uniform, given that it fell below p, as p times a fresh
uniform. The result has exactly the distribution of `u = rng.random(n); (u < p).nonzero()[0]` with those
u, for a draw per event instead of a draw per person. Chances that differ by person but are mostly small
are drawn by thinning: the rare events at a cap, each kept when its uniform is below the person's own
chance, and a uniform each for the few above the cap (matching's hires, `CAP`).
"""

from __future__ import annotations

import math

import numpy as np

#: Matching's cap: searchers whose chance of a hire is above it (about 1 in 300) draw a uniform each; the
#: rest are thinned from the rare events at it (world/market.py `Matching.hired`).
CAP = 0.1
#: At or above this chance a uniform per person is cheaper than the gaps (a gap costs about two and a
#: half uniforms, and there is one a person at chance p, so the two break even near p = 0.3).
DENSE = 0.2


def rare_events(rng: np.random.Generator, n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions (increasing) among `n` whose uniform falls below `p`, and those uniforms."""
    if n <= 0 or p <= 0.0:
        return np.zeros(0, np.int64), np.zeros(0)
    if p >= DENSE:
        u = rng.random(n)
        at = (u < p).nonzero()[0]
        return at, u.take(at)
    mean, scale = n * p, 1.0 / math.log1p(-p)
    ends = _gaps(rng, int(mean + 6.0 * math.sqrt(mean) + 16.0), scale).cumsum()
    while ends[-1] <= n:  # not yet past the last person: more gaps (about once in a billion weeks)
        ends = np.concatenate([ends, ends[-1] + _gaps(rng, int(mean + 16.0), scale).cumsum()])
    at = ends[: ends.searchsorted(n, side="right")] - 1  # a gap of g ends at the g-th person after the last
    return at, p * rng.random(at.size)


def _gaps(rng: np.random.Generator, k: int, scale: float) -> np.ndarray:
    """k geometric gaps (1, 2, ...) of chance p by inversion, scale = 1 / log(1 - p): the gap is g when
    (1 - p)^g < 1 - U <= (1 - p)^(g - 1). Whole-array, where numpy's `geometric` is a scalar loop."""
    return (np.log(1.0 - rng.random(k)) * scale).astype(np.int64) + 1
