"""One row of the validation (`labsim validation`): a published claim beside its simulation, and the
intervals the claims use. The claims themselves are simulated in `labsim.design.validation` and its
`validation_*` modules."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from labsim.sweep.tables import Z95


@dataclass(frozen=True)
class Claim:
    """One published claim beside the simulation. `low`/`high` bound the published range (-inf/inf for a
    one-sided claim); `simulated_low`/`simulated_high` the simulated figure's 95 % interval."""

    claim: int
    name: str
    source: str
    published: float
    low: float
    high: float
    simulated: float
    simulated_low: float
    simulated_high: float
    matches: bool
    unverified: bool = False


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean over replications and its 95 % interval (± 1.96 SE); NaNs dropped."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return (float(v.mean()) if v.size else math.nan), math.nan, math.nan
    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))
    return m, m - Z95 * se, m + Z95 * se


def share_interval(hits: int, n: int) -> tuple[float, float, float]:
    """A share of n trials (e.g. pilots that reject) and its 95 % Wilson interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    low, high = proportion_confint(hits, n, alpha=0.05, method="wilson")
    return hits / n, float(low), float(high)


def one_sided(claim: int, name: str, source: str, published: float, side: str, bound: float,
              sim: tuple[float, float, float], unverified: bool = False) -> Claim:
    """A claim that a figure lies above (`side` ">") or below ("<") `bound`: it matches when the whole
    simulated 95 % interval lies on that side."""
    m, lo, hi = sim
    if side == ">":
        return Claim(claim, name, source, published, bound, math.inf, m, lo, hi, bool(lo > bound), unverified)
    return Claim(claim, name, source, published, -math.inf, bound, m, lo, hi, bool(hi < bound), unverified)
