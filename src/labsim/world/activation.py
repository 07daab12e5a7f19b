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

import numpy as np


def entry_chance(employability: np.ndarray, rate: float, selection: float) -> np.ndarray:
    """Weekly chance of starting a service for each idle seeker (same order as `employability`): rate
    times the relative weight, with the weights scaled so the pool's mean chance is `rate` even where a
    chance would pass 1 (those go with certainty and the scale rises for the rest)."""
    if employability.size == 0 or selection == 0.0:
        return np.full(employability.size, rate)
    weight = (employability / employability.mean()) ** selection
    weight /= weight.mean()
    if rate * weight.max() <= 1.0:
        return rate * weight
    low, high = rate, 1.0 / weight.min()  # mean(min(c w, 1)) rises with c from below rate to 1
    for _ in range(60):  # bisection on the scale: a few passes over the pool, only when chances clip
        mid = 0.5 * (low + high)
        low, high = (mid, high) if np.minimum(mid * weight, 1.0).mean() < rate else (low, mid)
    return np.minimum(high * weight, 1.0)
