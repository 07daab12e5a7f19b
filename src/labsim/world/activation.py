"""Who the offices send to activation services: counsellors pick the more employable.

Published employment after services (22 % in open-market jobs 3 months after, ~25 % after 6; TEM-
analyyseja 88/2018) is about twice what the services' eligible pool finds on its own, because the
services select: counsellors send those they judge suitable and likely to benefit (labour-market
training and work trials take applicants after a suitability assessment). Here each idle seeker's weekly
chance of entering a service is the scenario's rate times (employability / the pool's mean
employability) ** `activation_selection`, so the pool's mean rate, and with it the flow into services,
stays at `activation_rate` whatever the selection (0 = everyone alike). Counsellors see employability
with noise in reality; the exponent stands for how sharply they select net of that noise.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np


def entry_chance(weight: np.ndarray, rate: float) -> np.ndarray:
    """Weekly chance of starting a service for each idle seeker, from their weights employability **
    `activation_selection` (in any common scale; overwritten): rate times the relative weight, with the
    weights scaled so the pool's mean chance is `rate` even where a chance would pass 1 (those go with
    certainty and the scale rises for the rest)."""
    if weight.size == 0:
        return weight
    weight /= weight.sum() / weight.size  # a mean as sum / size: .mean()'s float without its wrapper
    if rate * weight.max() <= 1.0:
        return rate * weight
    weight *= clipped_scale(weight, rate)  # the scale c, then min(c w, 1)
    return np.minimum(weight, 1.0, out=weight)


def clipped_scale(weight: np.ndarray, rate: float) -> float:
    """The scale c with mean(min(c w, 1)) = rate, by 60 halvings of [rate, 1 / min w] (mean(min(c w, 1))
    rises with c from below rate to 1).

    Each halving compares mean(min(c w, 1)), summed over the pool, with rate. With m ~ rate n or more
    weights clipped the mean is above rate for certain. Otherwise the sum is read off the m largest
    weights, sorted, and the sum of the rest (the unclipped times c, plus one per clipped); where that
    is further from rate than any rounding of either sum could take it, the comparison's answer is
    certain, and only otherwise (rarely, at the last halvings) is the pool summed as before. So c is
    the same float as with the pool summed at every halving, at a fraction of the cost.
    """
    n = weight.size
    m = min(n, int(rate * n * 1.001) + 2)  # m or more clipped: the mean is above rate
    first = n - m
    top, rest = _largest(weight, m)
    bounds, running = top.tolist(), [0.0, *top.cumsum().tolist()]
    slack = 4.0 * (m + 64) * _EPS  # relative: rounding of the sums, with room
    low, high = rate, 1.0 / float(weight.min())
    # j, of the m largest the number not clipped at c, falls as c rises: once it is the same at both
    # ends of the interval it is that at every halving, and only the interval between is searched
    j_low, j_high = bisect_left(bounds, 1.0 / low), bisect_left(bounds, 1.0 / high)
    for _ in range(60):
        mid = 0.5 * (low + high)
        j = j_low if j_low == j_high else bisect_left(bounds, 1.0 / mid, j_high, j_low)
        if j == 0 and first > 0:
            below = False
        else:
            approx = (mid * (rest + running[j]) + (m - j)) / n
            gap, room = approx - rate, slack * approx
            if gap > room or gap < -room:  # abs(gap) > room, without the call
                below = approx < rate
            else:  # too close to call from the sorted weights: summed over the pool
                below = np.minimum(mid * weight, 1.0).mean() < rate
        if below:
            low, j_low = mid, j
        else:
            high, j_high = mid, j
    return high


def _largest(weight: np.ndarray, m: int) -> tuple[np.ndarray, float]:
    """The m largest weights, sorted, and the sum of the others. In a large pool they are found among
    those at or above a threshold read off every 8th weight (where about 2 m are expected: partitioning
    the sample costs a fraction of partitioning the pool); otherwise, or where fewer than m are above
    it, by a partition of the pool."""
    n = weight.size
    if n >= max(2048, 16 * m):
        sample = weight[::8]
        k = sample.size - (2 * m) // 8 - 1
        above = weight >= np.partition(sample, k)[k]
        if np.count_nonzero(above) >= m:
            candidates = np.sort(weight[above])
            return candidates[-m:], float(np.where(above, 0.0, weight).sum() + candidates[:-m].sum())
    parted = np.partition(weight, n - m) if m < n else weight  # the m largest last
    return np.sort(parted[n - m:]), float(parted[:n - m].sum())


_EPS = float(np.finfo(float).eps)
