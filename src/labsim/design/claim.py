"""One row of the validation (`labsim validation`): a published claim beside its simulation, and the
intervals the claims use. The claims themselves are simulated in `labsim.design.validation` and its
`validation_*` modules."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from labsim.sweep.tables import Z95


@dataclass(frozen=True)
class Claim:
    """One published claim beside the simulation. `low`/`high` bound the published range (-inf/inf for a
    one-sided claim); `simulated_low`/`simulated_high` the simulated figure's 95 % interval. `tolerance`
    is stated before the run: the widest half-interval at which the verdict counts; `verdict` is "match",
    "no match" or "inconclusive" (`judge`), and `matches` is True only for "match"."""

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
    tolerance: float = math.nan
    verdict: str = ""


def judge(c: Claim, own_rule: bool = False) -> Claim:
    """The claim with its verdict. Inconclusive when the simulated interval's half-width on the side that
    decides (towards the bound of a one-sided claim; the wider side of a range claim) exceeds the stated
    tolerance, or when no tolerance was stated; else a match when the whole interval lies inside the
    published range (so two claims with disjoint ranges cannot both match one figure), else no match. A
    claim with a rule of its own (`own_rule`: claim 2's formula inside the simulated interval, claim 3's
    ratio interval holding 1) keeps its `matches` as the verdict's test."""
    m, lo, hi = c.simulated, c.simulated_low, c.simulated_high
    if own_rule:
        width, inside = max(hi - m, m - lo), c.matches
    elif math.isinf(c.high) and not math.isinf(c.low):
        width, inside = m - lo, lo > c.low
    elif math.isinf(c.low) and not math.isinf(c.high):
        width, inside = hi - m, hi < c.high
    else:
        width, inside = max(hi - m, m - lo), c.low <= lo and hi <= c.high
    if not (math.isfinite(c.tolerance) and math.isfinite(width)) or width > c.tolerance:
        verdict = "inconclusive"
    else:
        verdict = "match" if inside else "no match"
    return replace(c, verdict=verdict, matches=verdict == "match")


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
              sim: tuple[float, float, float], unverified: bool = False, *, tolerance: float = math.nan) -> Claim:
    """A claim that a figure lies above (`side` ">") or below ("<") `bound`: it matches when the whole
    simulated 95 % interval lies on that side and is no wider than `tolerance` there (`judge`)."""
    m, lo, hi = sim
    if side == ">":
        c = Claim(claim, name, source, published, bound, math.inf, m, lo, hi, bool(lo > bound), unverified, tolerance)
    else:
        c = Claim(claim, name, source, published, -math.inf, bound, m, lo, hi, bool(hi < bound), unverified, tolerance)
    return judge(c)


def two_sided(claim: int, name: str, source: str, published: float, low: float, high: float,
              sim: tuple[float, float, float], unverified: bool = False, *, tolerance: float) -> Claim:
    """A claim that a figure lies in [`low`, `high`]: it matches when the whole simulated interval does and
    is no wider than `tolerance` on either side (`judge`)."""
    m, lo, hi = sim
    return judge(Claim(claim, name, source, published, low, high, m, lo, hi, bool(low <= lo and hi <= high),
                       unverified, tolerance))
