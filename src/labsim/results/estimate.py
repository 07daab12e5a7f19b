"""Estimators of a pilot's effect from one run's individual outcomes, with honest standard errors.

The intention-to-treat (ITT) effect is the difference in an outcome between those randomised to the pilot
arm and to the control arm, whether or not they took part. It is estimated by least squares of the outcome
on the arm, with heteroskedasticity-robust (HC2) standard errors when individuals are randomised, and
cluster-robust ones when whole clusters (offices, markets) are, so that the interval reflects how the
design assigned people (statsmodels).

With clusters `test` chooses the test: "t" compares the cluster-robust t statistic with t(G - 1); "wild"
takes the p-value from a wild cluster bootstrap-t with the null imposed and Webb's six-point weights
(Cameron, Gelbach and Miller 2008; Webb 2023), its draws seeded per pilot, and the interval by inverting
that test (as boottest does). Which test a design's pilot gets, in every output, is chosen in one place:
`labsim.results.inference.design_effect` (docs/evaluation.md, "The design's test").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Estimate:
    """One estimated effect: the number, its standard error, 95 % interval and two-sided p-value."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    clusters: int | None = None
    #: the test the p-value and interval come from: "hc2" (normal), "t" (t(G - 1)), "wild" or
    #: "randomisation"; None: not tested (only the estimate and its SE were asked)
    test: str | None = None
    #: Monte Carlo standard error of a resampled p-value (0 when every assignment was enumerated)
    p_value_mc_se: float | None = None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, np.nan, np.nan, 0, None)

#: With `test="auto"`, clusters fewer than this are tested by the wild cluster bootstrap, more by t(G - 1).
WILD_BELOW = 20
#: Draws of the wild cluster bootstrap: the p-value's Monte Carlo SE is at most 0.0022 at p = 0.05.
WILD_DRAWS = 9_999
#: Webb's six-point weights: +-sqrt(1/2), +-1, +-sqrt(3/2), each with probability 1/6 (mean 0, variance 1);
#: with G clusters they give 6^G distinct draws where Rademacher's +-1 give only 2^G.
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])

ClusterTest = Literal["auto", "t", "wild", "none"]


def itt(individuals: pd.DataFrame, outcome: str, cluster: str | None = None, alpha: float = 0.05,
        test: ClusterTest = "auto", seed: int = 0) -> Estimate:
    """ITT effect on `outcome` (pilot minus control) among those with the outcome observed.

    `cluster` names the column of the randomisation unit for cluster designs (None: individuals, HC2
    and the normal test); with clusters `test` is "t" (t(G - 1)), "wild" (the wild cluster bootstrap
    seeded by `seed`), "auto" (the bootstrap below `WILD_BELOW` clusters, else t) or "none" (estimate
    and SE only).
    """
    df = individuals.loc[individuals[outcome].notna()]
    treated = (df["arm"] == "pilot").to_numpy(float)
    if treated.sum() < 2 or (1 - treated).sum() < 2:
        return NAN_ESTIMATE
    if cluster is None:
        return _difference(df[outcome].to_numpy(float), treated.astype(bool), alpha, test)
    x = np.column_stack([np.ones_like(treated), treated])
    return _fit(df, outcome, x, 1, cluster, alpha, test, seed)


def _difference(y: np.ndarray, treated: np.ndarray, alpha: float, test: ClusterTest) -> Estimate:
    """The individual design's ITT: the difference of the arms' means, which is least squares of y on
    [1, arm], and its HC2 SE, which for that regression is exactly sqrt(s1^2 / n1 + s0^2 / n0) with each
    arm's variance over n - 1 (each observation's leverage is 1 / n of its arm); the normal test. A tenth
    of the time of the general fit (`_fit`), which a size search pays for every outcome of every pilot."""
    y1, y0 = y[treated], y[~treated]
    b = float(y1.mean() - y0.mean())
    se = float(np.sqrt(y1.var(ddof=1) / y1.size + y0.var(ddof=1) / y0.size))
    if test == "none" or not np.isfinite(se) or se == 0:
        return Estimate(b, se, np.nan, np.nan, np.nan, int(y.size), None)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    p = float(math.erfc(abs(b / se) / math.sqrt(2)))
    return Estimate(b, se, b - z * se, b + z * se, p, int(y.size), None, "hc2")


def did(individuals: pd.DataFrame, outcome: str, cluster: str = "office", alpha: float = 0.05,
        test: ClusterTest = "auto", seed: int = 0) -> Estimate:
    """Difference in differences of pilot and non-pilot areas, before and after the intake opens: the
    coefficient of area x period in y = a + b area + c after + d area x after, SEs clustered by `cluster`
    (the offices that make up the areas)."""
    df = individuals.loc[individuals[outcome].notna()]
    area = (df["arm"] == "pilot").to_numpy(float)
    after = (~df["before_pilot"].to_numpy(bool)).astype(float)
    if min(((area == a) & (after == b)).sum() for a in (0, 1) for b in (0, 1)) < 2:
        return NAN_ESTIMATE
    x = np.column_stack([np.ones_like(area), area, after, area * after])
    return _fit(df, outcome, x, 3, cluster, alpha, test, seed)


def _fit(df: pd.DataFrame, outcome: str, x: np.ndarray, coef: int, cluster: str | None, alpha: float,
         test: ClusterTest = "auto", seed: int = 0) -> Estimate:
    """Least squares with robust (HC2) or cluster-robust SEs; the estimate is coefficient `coef`."""
    from scipy import stats  # imported here: 2 s that reading or plotting saved results never needs
    from statsmodels.regression.linear_model import OLS

    y = df[outcome].to_numpy(float)
    if cluster is None:
        fit = OLS(y, x).fit(cov_type="HC2")
        dist, clusters, name = stats.norm, None, "hc2"
    else:
        groups = pd.factorize(df[cluster])[0]
        clusters = int(groups.max()) + 1
        if clusters < 2:
            return NAN_ESTIMATE
        fit = OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
        dist, name = stats.t(df=clusters - 1), "t"
    b, se = float(fit.params[coef]), float(fit.bse[coef])
    if test == "none" or not np.isfinite(se) or se == 0:
        return Estimate(b, se, np.nan, np.nan, np.nan, int(y.size), clusters)
    if clusters is not None and (test == "wild" or (test == "auto" and clusters < WILD_BELOW)):
        boot = WildBootstrap(y, x, coef, groups, webb_weights(clusters, seed))
        p = boot.p_value(b / se)
        lo, hi = invert(lambda tau: boot.p_value((b - tau) / se, tau), b, se, alpha)
        return Estimate(b, se, lo, hi, p, int(y.size), clusters, "wild", mc_se(p, WILD_DRAWS))
    z = dist.ppf(1 - alpha / 2)
    p = float(2 * dist.sf(abs(b / se)))
    return Estimate(b, se, b - z * se, b + z * se, p, int(y.size), clusters, name)


def mc_se(p: float, draws: int) -> float:
    """Monte Carlo SE of a p-value from `draws` random draws: sqrt(p (1 - p) / draws)."""
    return float(np.sqrt(p * (1 - p) / draws))


def webb_weights(clusters: int, seed: int, draws: int = WILD_DRAWS) -> np.ndarray:
    """`draws` x `clusters` Webb weights from the pilot's own seed (so replications are independent,
    and one pilot's data always give the same p-value)."""
    return np.random.default_rng(seed).choice(WEBB, size=(draws, clusters))


def wild_p(y: np.ndarray, x: np.ndarray, coef: int, groups: np.ndarray, w: np.ndarray, t: float,
           null: float = 0.0) -> float:
    """The wild cluster bootstrap's p-value of the t statistic `t` for coefficient `coef` = `null`:
    the share of bootstrap |t*| at least |t| (symmetric, as boottest's default)."""
    return WildBootstrap(y, x, coef, groups, w).p_value(t, null)


def invert(p_of, b: float, se: float, alpha: float, tol: float = 0.005) -> tuple[float, float]:
    """The interval of nulls a test does not reject at `alpha`, by bisection of its p-value `p_of(null)`
    on each side of the estimate `b` to within `tol` SEs (boottest's inversion); an end the test cannot
    reach within 64 SEs is infinite (the test cannot exclude any effect on that side)."""
    ends = []
    for side in (-1.0, 1.0):
        inside, step = 0.0, 2.0
        while p_of(b + side * step * se) > alpha:
            inside, step = step, 2 * step
            if step > 64:
                break
        if step > 64:
            ends.append(side * np.inf)
            continue
        outside = step
        while outside - inside > tol:
            mid = (inside + outside) / 2
            inside, outside = (mid, outside) if p_of(b + side * mid * se) > alpha else (inside, mid)
        ends.append(b + side * (inside + outside) / 2 * se)
    return ends[0], ends[1]


def wild_cluster_t(y: np.ndarray, x: np.ndarray, coef: int, groups: np.ndarray, w: np.ndarray,
                   null: float = 0.0) -> np.ndarray:
    """Bootstrap t statistics (b* - null) / se* of coefficient `coef` under its null (= `null`)."""
    return WildBootstrap(y, x, coef, groups, w).t_stats(null)


class WildBootstrap:
    """The restricted wild cluster bootstrap-t of coefficient `coef` (WCR, Cameron, Gelbach and Miller
    2008): the restricted model's fitted values plus its residuals times one weight per cluster (a row
    of `w`, e.g. Webb's), each draw refitted with the cluster-robust (CR1) SE. Everything reduces to
    per-cluster sums (X'X, X'fit, X'residual), so the draws cost O(draws x clusters), not
    O(draws x people); and under the null coef = tau the restricted fit, each draw's estimate and its
    scores are affine in tau, so the t statistics of any null cost O(draws) once prepared (what
    inverting the test into an interval needs)."""

    def __init__(self, y: np.ndarray, x: np.ndarray, coef: int, groups: np.ndarray, w: np.ndarray) -> None:
        k, g = x.shape[1], int(groups.max()) + 1
        xr = x[:, [j for j in range(k) if j != coef]]
        project = lambda v: xr @ np.linalg.lstsq(xr, v, rcond=None)[0]  # noqa: E731
        # restricted fit under coef = tau: fitted = f0 + tau f1, residuals = y - fitted
        f0 = project(y)
        f1 = x[:, coef] - project(x[:, coef])
        sums = lambda v: np.stack([np.bincount(groups, weights=x[:, j] * v, minlength=g) for j in range(k)], 1)  # noqa: E731
        xx_g = np.stack([sums(x[:, j]) for j in range(k)], 2)  # G x k x k: each cluster's X'X
        inv = np.linalg.inv(xx_g.sum(0))
        parts = []
        for fit_g, res_g in ((sums(f0), sums(y - f0)), (sums(f1), -sums(f1))):  # tau^0 and tau^1 parts
            beta = (fit_g.sum(0)[None, :] + w @ res_g) @ inv  # draws x k (inv is symmetric)
            scores = fit_g[None] + w[:, :, None] * res_g[None] - np.einsum("gjk,dk->dgj", xx_g, beta)
            parts.append((beta[:, coef], np.einsum("j,dgj->dg", inv[coef], scores)))
        (self.b0, u0), (self.b1, u1) = parts
        n = y.size
        scale = g / (g - 1) * (n - 1) / (n - k)  # statsmodels' CR1 small-sample factor
        self.v0, self.v1, self.v2 = scale * (u0 * u0).sum(1), scale * 2 * (u0 * u1).sum(1), scale * (u1 * u1).sum(1)

    def t_stats(self, null: float = 0.0) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):  # a draw with SE 0 (two clusters) has no t
            var = self.v0 + null * self.v1 + null * null * self.v2
            return (self.b0 + null * self.b1 - null) / np.sqrt(np.maximum(var, 0.0))

    def p_value(self, t: float, null: float = 0.0) -> float:
        return float((np.abs(self.t_stats(null)) >= abs(t) * (1 - 1e-12)).mean())


def icc_oneway(y: np.ndarray, groups: np.ndarray) -> float:
    """One-way ANOVA estimate of the intra-cluster correlation of `y` within `groups` (0 if negative)."""
    y = np.asarray(y, float)
    codes = np.unique(groups, return_inverse=True)[1]
    counts = np.bincount(codes)
    k, n = counts.size, y.size
    if k < 2 or n <= k:
        return 0.0
    means = np.bincount(codes, weights=y) / counts
    ss_between = float((counts * (means - y.mean()) ** 2).sum())
    ss_within = float(((y - means[codes]) ** 2).sum())
    ms_between, ms_within = ss_between / (k - 1), ss_within / (n - k)
    m0 = (n - (counts**2).sum() / n) / (k - 1)
    denom = ms_between + (m0 - 1) * ms_within
    return max(0.0, (ms_between - ms_within) / denom) if denom > 0 else 0.0
