"""Estimators of a pilot's effect from one run's individual outcomes, with honest standard errors.

The intention-to-treat (ITT) effect is the difference in an outcome between those randomised to the pilot
arm and to the control arm, whether or not they took part. It is estimated by least squares of the outcome
on the arm, with heteroskedasticity-robust (HC2) standard errors when individuals are randomised, and
cluster-robust ones when whole clusters (offices, markets) are, so that the interval reflects how the
design assigned people (statsmodels).

With clusters the test uses t(G - 1). With fewer than `WILD_BELOW` clusters (about 10 per arm) even that
over-rejects, because the cluster-robust variance is too small when few clusters inform it; there the
p-value and interval come from a wild cluster bootstrap-t with the null imposed and Webb's six-point
weights (Cameron, Gelbach and Miller 2008; Webb 2023), whose rejection rate stays near alpha with as few
as 6 clusters (docs/evaluation.md, "Few clusters").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


NAN_ESTIMATE = Estimate(np.nan, np.nan, np.nan, np.nan, np.nan, 0, None)

#: Cluster designs with fewer clusters than this are tested by the wild cluster bootstrap.
WILD_BELOW = 20
#: Bootstrap draws of the wild cluster bootstrap, and the seed of its weights (fixed, so that one pilot's
#: data always give the same p-value; the weights are independent of the data).
WILD_DRAWS, WILD_SEED = 999, 20080801
#: Webb's six-point weights: +-sqrt(1/2), +-1, +-sqrt(3/2), each with probability 1/6 (mean 0, variance 1);
#: with G clusters they give 6^G distinct draws where Rademacher's +-1 give only 2^G.
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])

ClusterTest = Literal["auto", "t", "wild"]


def itt(individuals: pd.DataFrame, outcome: str, cluster: str | None = None, alpha: float = 0.05,
        test: ClusterTest = "auto") -> Estimate:
    """ITT effect on `outcome` (pilot minus control) among those with the outcome observed.

    `cluster` names the column of the randomisation unit for cluster designs (None: individuals);
    with clusters the test uses a t distribution with (clusters - 1) degrees of freedom, or (`test`
    "wild", or "auto" below `WILD_BELOW` clusters) the wild cluster bootstrap.
    """
    df = individuals.loc[individuals[outcome].notna()]
    treated = (df["arm"] == "pilot").to_numpy(float)
    if treated.sum() < 2 or (1 - treated).sum() < 2:
        return NAN_ESTIMATE
    x = np.column_stack([np.ones_like(treated), treated])
    return _fit(df, outcome, x, 1, cluster, alpha, test)


def did(individuals: pd.DataFrame, outcome: str, cluster: str = "office", alpha: float = 0.05,
        test: ClusterTest = "auto") -> Estimate:
    """Difference in differences of pilot and non-pilot areas, before and after the intake opens: the
    coefficient of area x period in y = a + b area + c after + d area x after, SEs clustered by `cluster`
    (the offices that make up the areas)."""
    df = individuals.loc[individuals[outcome].notna()]
    area = (df["arm"] == "pilot").to_numpy(float)
    after = (~df["before_pilot"].to_numpy(bool)).astype(float)
    if min(((area == a) & (after == b)).sum() for a in (0, 1) for b in (0, 1)) < 2:
        return NAN_ESTIMATE
    x = np.column_stack([np.ones_like(area), area, after, area * after])
    return _fit(df, outcome, x, 3, cluster, alpha, test)


def _fit(df: pd.DataFrame, outcome: str, x: np.ndarray, coef: int, cluster: str | None, alpha: float,
         test: ClusterTest = "auto") -> Estimate:
    """Least squares with robust (HC2) or cluster-robust SEs; the estimate is coefficient `coef`."""
    from scipy import stats  # imported here: 2 s that reading or plotting saved results never needs
    from statsmodels.regression.linear_model import OLS

    y = df[outcome].to_numpy(float)
    if cluster is None:
        fit = OLS(y, x).fit(cov_type="HC2")
        dist, clusters = stats.norm, None
    else:
        groups = pd.factorize(df[cluster])[0]
        clusters = int(groups.max()) + 1
        if clusters < 2:
            return NAN_ESTIMATE
        fit = OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
        dist = stats.t(df=clusters - 1)
    b, se = float(fit.params[coef]), float(fit.bse[coef])
    if not np.isfinite(se) or se == 0:
        return Estimate(b, se, np.nan, np.nan, np.nan, int(y.size), clusters)
    if clusters is not None and (test == "wild" or (test == "auto" and clusters < WILD_BELOW)):
        t_star = wild_cluster_t(y, x, coef, groups)
        p = float((np.abs(t_star) >= abs(b / se)).mean())
        z = float(np.quantile(np.abs(t_star), 1 - alpha))  # symmetric bootstrap-t interval
        return Estimate(b, se, b - z * se, b + z * se, p, int(y.size), clusters)
    z = dist.ppf(1 - alpha / 2)
    p = float(2 * dist.sf(abs(b / se)))
    return Estimate(b, se, b - z * se, b + z * se, p, int(y.size), clusters)


def wild_cluster_t(y: np.ndarray, x: np.ndarray, coef: int, groups: np.ndarray,
                   draws: int = WILD_DRAWS, seed: int = WILD_SEED) -> np.ndarray:
    """Bootstrap t statistics of coefficient `coef` under its null (= 0): the restricted model's fitted
    values plus its residuals times one Webb weight per cluster (WCR bootstrap-t, Cameron, Gelbach and
    Miller 2008), each refitted with the cluster-robust SE. Everything reduces to per-cluster sums
    (X'X, X'fit, X'residual), so the draws cost O(draws x clusters), not O(draws x people)."""
    k, g = x.shape[1], int(groups.max()) + 1
    keep = [j for j in range(k) if j != coef]
    xr = x[:, keep]
    fitted = xr @ np.linalg.lstsq(xr, y, rcond=None)[0]
    resid = y - fitted
    sums = lambda w: np.stack([np.bincount(groups, weights=x[:, j] * w, minlength=g) for j in range(k)], 1)  # noqa: E731
    fit_g, res_g = sums(fitted), sums(resid)  # G x k
    xx_g = np.stack([sums(x[:, j]) for j in range(k)], 2)  # G x k x k: each cluster's X'X
    inv = np.linalg.inv(xx_g.sum(0))
    w = np.random.default_rng(seed).choice(WEBB, size=(draws, g))
    xy = fit_g.sum(0)[None, :] + w @ res_g  # draws x k: X'y* summed over clusters
    beta = xy @ inv  # draws x k (inv is symmetric)
    scores = fit_g[None] + w[:, :, None] * res_g[None] - np.einsum("gjk,dk->dgj", xx_g, beta)
    n = y.size
    scale = g / (g - 1) * (n - 1) / (n - k)  # statsmodels' CR1 small-sample factor
    var = scale * np.einsum("j,dgj->dg", inv[coef], scores) ** 2
    se = np.sqrt(var.sum(1))
    with np.errstate(divide="ignore", invalid="ignore"):  # a draw with SE 0 (two clusters) has no t
        return beta[:, coef] / se


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
