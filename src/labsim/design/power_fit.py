"""The power curve a size search reads its minimum size N* from, fitted to the pilots it simulated.

Both fits share the form a + b sqrt(N) and give N* where the fitted power equals the target, with draws of
N* from a parametric bootstrap of their coefficients for its 95 % interval (docs/evaluation.md, item 4).
N is the size each pilot reached (`reached`: the places it filled when places are the lever), not the
size it aimed at: beyond what the catchment fills in the intake window a larger target adds nobody, and
fitted on the targets such a pilot would bend the line and flatten its slope at N*.

- `ZFit`, where every pilot tested its z statistic (estimate / SE) against the normal critical value c
  (individual randomisation, HC2 SEs; the record's `z_critical`): z ~ N(mu(N), sigma^2) with
  mu(N) = a + b sqrt(N), least squares of z on sqrt(N), sigma from the residuals (a spread other than 1,
  e.g. from an SE that is off, is carried as it is); power(N) = Phi((mu - c) / sigma) + Phi((-mu - c) /
  sigma), two-sided, so a negative effect is sized like a positive one. A rejection, |z| > c, carries
  only phi(z_p)^2 / (p (1 - p)) of z's information about mu (0.49 at 80 % power), so the same interval
  takes about half the pilots.
- `ProbitFit` elsewhere (t(G - 1) or the wild cluster bootstrap with clusters, the assurance's mixture
  over the evidence, pilots without a finite z): P(reject) = Phi(a + b sqrt(N)).

The fits import scipy and statsmodels where they need them, not with the module: a size folder's chart of
a z fit (report/sizing.py) fits and draws it with numpy and the standard library (`normal_cdf`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

#: Parametric-bootstrap draws of the coefficients behind N*'s interval.
DRAWS = 2000


Cdf = Callable[[np.ndarray], np.ndarray]


def _norm():
    """scipy's normal distribution, imported when first needed (the search's fits and their draws)."""
    from scipy.stats import norm

    return norm


def _phi(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF as scipy's `norm.cdf` computes it (its `ndtr`, the same floats), without
    the distribution object's checks: a tenth of the time on the small arrays the fits' bisections pass."""
    from scipy.special import ndtr

    return ndtr(x)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF elementwise from the standard library's erfc: within 1e-13 of scipy's, for
    drawing a fitted curve without importing scipy (the search's own figures keep scipy's)."""
    return 0.5 * np.vectorize(math.erfc, otypes=[float])(-np.asarray(x, float) / math.sqrt(2))


def most_filled(df: pd.DataFrame) -> float:
    """The most places a pilot filled on average at any size tried, if some size's pilots left places
    empty (filled under 99 % of their target on average); infinite while every size filled."""
    if df.empty or "reached" not in df:
        return math.inf
    g = df.groupby("size")["reached"].mean()
    return float(g.max()) if (g < 0.99 * g.index).any() else math.inf


def fit_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The pilots a central search's fit reads (replications.parquet, column `part`): its batches
    ("search") and the accounts batch ("accounts"), which runs in replications of its own and joins the
    fit; an accounts batch that repeats the search's replications (size folders written before
    2026-12-06 ran it in the reference batch's) repeats those pilots and is left out."""
    if "part" not in df:
        return df
    search, accounts = df["part"] == "search", df["part"] == "accounts"
    if "replication" in df:
        accounts &= ~df["replication"].isin(df.loc[search, "replication"])
    return df.loc[search | accounts]


def fitted_power(df: pd.DataFrame, sizes: np.ndarray, cdf: Cdf | None = None) -> np.ndarray | None:
    """The fitted power at `sizes` (z fit or probit): the curve the minimum size is read from (None if it
    cannot be fitted), over the pilots the search's fit reads (`fit_rows`). A target beyond the places the
    catchment fills gets the power of those. `cdf` is the normal CDF (scipy's unless given; a chart passes
    `normal_cdf`)."""
    df = fit_rows(df)
    fit = power_fit(df)
    return None if fit is None else fit.power(np.minimum(sizes, most_filled(df)), cdf)


def fit_kind(df: pd.DataFrame) -> str:
    """"z" when every pilot tested its finite z against one normal critical value, else "probit"."""
    if "z_critical" not in df or df.empty:
        return "probit"
    crit = df["z_critical"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = df["estimate"].to_numpy(float) / df["se"].to_numpy(float)
    same = np.isfinite(crit).all() and np.unique(crit).size == 1
    return "z" if same and np.isfinite(z).all() else "probit"


def power_fit(df: pd.DataFrame) -> ZFit | ProbitFit | None:
    """The fit `fit_kind` chooses over these pilots (None if it cannot be fitted: fewer than two sizes
    tried, or reached; one size's pilots filling a few places more or fewer carry no slope to speak of)."""
    if df.empty or df["size"].nunique() < 2 or np.unique(reached(df)).size < 2:
        return None
    return ZFit.of(df) if fit_kind(df) == "z" else ProbitFit.of(df)


def reached(df: pd.DataFrame) -> np.ndarray:
    """The size each pilot reached (column `reached`; the size it aimed at where there is none)."""
    return df["reached" if "reached" in df else "size"].to_numpy(float)


def _size_at(mu: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The size where a + b sqrt(N) reaches +-mu on the side its slope heads to (inf where it never does)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # slope 0: root +-inf or NaN, so N* inf
        root = (np.sign(b) * mu - a) / b
        return np.where(root > 0, root**2, np.inf)


@dataclass(frozen=True)
class ProbitFit:
    """P(reject) = Phi(a + b sqrt(N)) over each pilot's rejection (`params` = a, b; `cov` their covariance,
    clustered by world where the pilots ran in shared worlds)."""

    params: np.ndarray
    cov: np.ndarray
    kind: ClassVar[str] = "probit"

    @classmethod
    def of(cls, df: pd.DataFrame) -> ProbitFit | None:
        """None if the probit cannot be fitted (every trial agrees, separation) or its slope is not positive."""
        y = df["reject"].to_numpy(float)
        if y.min() == y.max():
            return None
        import statsmodels.api as sm

        x = sm.add_constant(np.sqrt(reached(df)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                # pilots that share worlds (column `world`): the covariance clustered by world
                shared = {"cov_type": "cluster", "cov_kwds": {"groups": df["world"].to_numpy()}} \
                    if "world" in df else {}
                fit = sm.Probit(y, x).fit(disp=0, **shared)
            except Exception:  # perfect separation or no convergence: no curve
                return None
        params = np.asarray(fit.params, float)
        if not np.all(np.isfinite(params)) or params[1] <= 0:
            return None
        return cls(params, np.asarray(fit.cov_params(), float))

    def power(self, sizes: np.ndarray, cdf: Cdf | None = None) -> np.ndarray:
        a, b = self.params
        return (cdf or _phi)(a + b * np.sqrt(np.asarray(sizes, float)))

    def n_star(self, power: float) -> float:
        return float(self._size_for(power, *self.params))

    def n_star_draws(self, power: float, seed: int) -> np.ndarray:
        draws = np.random.default_rng(seed).multivariate_normal(self.params, self.cov, DRAWS)
        return self._size_for(power, draws[:, 0], draws[:, 1])

    @staticmethod
    def _size_for(power: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Where Phi(a + b sqrt(N)) = power; inf where the slope is not positive (power never rises)."""
        return np.where(b > 0, _size_at(np.asarray(_norm().ppf(power)), a, b), np.inf)


@dataclass(frozen=True)
class ZFit:
    """z = estimate / SE ~ N(a + b sqrt(N), sigma^2), tested two-sided against `c` (`params` = a, b;
    `shape` = their covariance over sigma^2: (X'X)^-1 of the least squares, or, where the pilots ran in
    shared worlds (column `world`), the covariance clustered by world (CR1) over sigma^2; `dof` = pilots - 2).
    """

    params: np.ndarray
    sigma: float
    shape: np.ndarray
    dof: int
    c: float
    kind: ClassVar[str] = "z"

    @classmethod
    def of(cls, df: pd.DataFrame) -> ZFit | None:
        """None with fewer than three pilots or z's that lie exactly on a line (no spread to carry)."""
        z = df["estimate"].to_numpy(float) / df["se"].to_numpy(float)
        x = np.column_stack([np.ones(z.size), np.sqrt(reached(df))])
        dof = z.size - 2
        if dof < 1:
            return None
        params, *_ = np.linalg.lstsq(x, z, rcond=None)
        rss = float(((z - x @ params) ** 2).sum())
        if not rss > 0:
            return None
        sigma, xtx_inv = float(np.sqrt(rss / dof)), np.linalg.inv(x.T @ x)
        if "world" in df:  # pilots in shared worlds
            shape = clustered(x, z - x @ params, df["world"].to_numpy(), xtx_inv) / sigma**2
        else:
            shape = xtx_inv
        return cls(params, sigma, shape, dof, float(df["z_critical"].iloc[0]))

    def power(self, sizes: np.ndarray, cdf: Cdf | None = None) -> np.ndarray:
        a, b = self.params
        return two_sided_power(a + b * np.sqrt(np.asarray(sizes, float)), self.sigma, self.c, cdf)

    def n_star(self, power: float) -> float:
        mu = mu_for_power(power, np.array(self.sigma), self.c)
        return float(_size_at(mu, *self.params))

    def n_star_draws(self, power: float, seed: int) -> np.ndarray:
        """sigma^2 from dof s^2 / chi2(dof), then (a, b) ~ N(a, b fitted, sigma^2 `shape`): with independent
        pilots the usual posterior of a normal regression with flat priors, which carries the uncertainty of
        sigma too."""
        rng = np.random.default_rng(seed)
        sigma = self.sigma * np.sqrt(self.dof / rng.chisquare(self.dof, DRAWS))
        ab = self.params + sigma[:, None] * (rng.standard_normal((DRAWS, 2)) @ np.linalg.cholesky(self.shape).T)
        return _size_at(mu_for_power(power, sigma, self.c), ab[:, 0], ab[:, 1])


def clustered(x: np.ndarray, resid: np.ndarray, cluster: np.ndarray, xtx_inv: np.ndarray) -> np.ndarray:
    """The least squares' covariance clustered by `cluster` (CR1: G / (G - 1) (n - 1) / (n - k)), for
    pilots that share worlds: (X'X)^-1 (sum over clusters of X_g'e_g e_g'X_g) (X'X)^-1."""
    _, g = np.unique(cluster, return_inverse=True)
    scores = np.zeros((g.max() + 1, x.shape[1]))
    np.add.at(scores, g, x * resid[:, None])
    n, k, groups = x.shape[0], x.shape[1], scores.shape[0]
    factor = groups / max(groups - 1, 1) * (n - 1) / (n - k)
    return factor * xtx_inv @ (scores.T @ scores) @ xtx_inv


def two_sided_power(mu: np.ndarray, sigma: np.ndarray | float, c: float, cdf: Cdf | None = None) -> np.ndarray:
    """P(|z| > c) for z ~ N(mu, sigma^2), with `cdf` the normal CDF (scipy's unless given)."""
    cdf = cdf or _phi
    return cdf((mu - c) / sigma) + cdf((-mu - c) / sigma)


def mu_for_power(power: float, sigma: np.ndarray, c: float) -> np.ndarray:
    """The |mu| >= 0 where the two-sided power reaches `power`, for each sigma (bisection: the power rises
    with |mu|; 0 where even mu = 0 reaches it, i.e. the spread alone rejects that often)."""
    sigma = np.asarray(sigma, float)
    lo = np.zeros_like(sigma)
    hi = c + sigma * max(_norm().ppf(power), 0.0)  # Phi((hi - c) / sigma) alone reaches `power`
    for _ in range(60):
        mid = (lo + hi) / 2
        below = two_sided_power(mid, sigma, c) < power
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(two_sided_power(np.zeros_like(sigma), sigma, c) >= power, 0.0, (lo + hi) / 2)


@dataclass(frozen=True)
class JointFit:
    """One fit over every pilot of the joint evidence (design/evidence.py): the size and the assumption
    values as covariates. Each pilot's linear predictor is eta = a + sqrt(N) (b + d . u), u the pilot's
    assumption values centred on the scenario's and scaled by their range's width: the effect each
    assumption allows scales the slope in sqrt(N), as an effect scales z = effect / SE. Where every pilot
    tested its finite z against one normal critical value (`kind` "z") z ~ N(eta, sigma^2) by least
    squares, power two-sided as `ZFit`; otherwise (`kind` "probit") P(reject) = Phi(eta). The covariance is
    clustered by world where the pilots ran in shared worlds. `params` = (a, b, d_1..d_k)."""

    kind: str
    params: np.ndarray
    cov: np.ndarray  # of params (for "z": over sigma^2, as ZFit.shape)
    sigma: float = 1.0
    dof: int = 0
    c: float = 0.0

    @staticmethod
    def design(sizes: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The columns 1, sqrt(N), sqrt(N) u_1 .. sqrt(N) u_k."""
        root = np.sqrt(np.asarray(sizes, float))
        return np.column_stack([np.ones(root.size), root, root[:, None] * np.asarray(u, float).reshape(root.size, -1)])

    @classmethod
    def of(cls, df: pd.DataFrame, u: np.ndarray) -> JointFit | None:
        """The fit over these pilots with assumption values `u` (a row per pilot); None if it cannot be
        fitted (fewer than two sizes reached, too few pilots, every pilot agrees, no convergence)."""
        if df.empty or np.unique(reached(df)).size < 2:
            return None
        x = cls.design(reached(df), u)
        if np.linalg.matrix_rank(x) < x.shape[1] or len(df) < x.shape[1] + 2:
            return None
        shared = df["world"].to_numpy() if "world" in df else None
        if fit_kind(df) == "z":
            z = df["estimate"].to_numpy(float) / df["se"].to_numpy(float)
            params, *_ = np.linalg.lstsq(x, z, rcond=None)
            dof = z.size - x.shape[1]
            rss = float(((z - x @ params) ** 2).sum())
            if not rss > 0:
                return None
            sigma, xtx_inv = float(np.sqrt(rss / dof)), np.linalg.inv(x.T @ x)
            shape = xtx_inv if shared is None else clustered(x, z - x @ params, shared, xtx_inv) / sigma**2
            return cls("z", params, shape, sigma, dof, float(df["z_critical"].iloc[0]))
        y = df["reject"].to_numpy(float)
        if y.min() == y.max():
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                import statsmodels.api as sm

                kw = {} if shared is None else {"cov_type": "cluster", "cov_kwds": {"groups": shared}}
                fit = sm.Probit(y, x).fit(disp=0, **kw)
            except Exception:  # perfect separation or no convergence: no curve
                return None
        params = np.asarray(fit.params, float)
        cov = np.asarray(fit.cov_params(), float)
        if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
            return None
        return cls("probit", params, cov)

    def power(self, sizes: np.ndarray, u: np.ndarray, params: np.ndarray | None = None,
              sigma: np.ndarray | float | None = None) -> np.ndarray:
        """The fitted power at each (size, u) row (with other coefficients if given: a draw)."""
        eta = self.design(sizes, u) @ (self.params if params is None else params)
        if self.kind == "z":
            return two_sided_power(eta, self.sigma if sigma is None else sigma, self.c)
        return _phi(eta)

    def draws(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient draws (n x k) and sigma draws (n): for "z" sigma^2 from dof s^2 / chi2(dof), then the
        coefficients from N(params, sigma^2 cov), as `ZFit.n_star_draws`; for "probit" N(params, cov)."""
        rng = np.random.default_rng(seed)
        if self.kind == "z":
            sigma = self.sigma * np.sqrt(self.dof / rng.chisquare(self.dof, n))
            root = np.linalg.cholesky(self.cov + 1e-12 * np.eye(len(self.params)))
            coef = self.params + sigma[:, None] * (rng.standard_normal((n, len(self.params))) @ root.T)
            return coef, sigma
        return rng.multivariate_normal(self.params, self.cov, n), np.ones(n)
