"""The covariate-adjusted ITT: regression adjustment for what the register observes (Lin 2013).

The outcome is regressed on the arm, the register's covariates centred at their sample means, and the
arm times each centred covariate; the arm's coefficient is the ITT. With the interactions the adjusted
estimator is never less precise than the difference in means asymptotically, and with HC2 standard
errors (or cluster-robust ones when offices are randomised) its test keeps its size (Lin 2013, Annals of
Applied Statistics 7(1)). The required size shrinks by about (1 - R^2), R^2 the share of the outcome's
variance the covariates explain (docs/plan.md measures it).

The covariates are what a TE office's register holds at assignment: age group, education, weeks
unemployed, sector. Never the latent employability or motivation, which no evaluator sees. Earlier
spells are not kept in a run's individual records, so they are not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labsim.results.estimate import NAN_ESTIMATE, ClusterTest, Estimate, _fit

#: Register-observable covariates at assignment (categorical ones enter as indicators, one level left out).
REGISTER_COVARIATES = ("age_group", "education", "weeks_unemployed_at_assignment", "sector")


def covariate_matrix(df: pd.DataFrame) -> np.ndarray:
    """The register covariates as columns (indicators for categories, the first level dropped; levels
    absent from `df` give no column), centred at their sample means."""
    cols = []
    for name in REGISTER_COVARIATES:
        x = df[name]
        if isinstance(x.dtype, pd.CategoricalDtype) and (codes := x.cat.codes.to_numpy()).min(initial=0) >= 0:
            # the indicators get_dummies gives of the levels' text (sorted, the first dropped), from the codes
            names = [str(c) for c in x.cat.categories]
            present = sorted((names[c], c) for c in np.unique(codes))
            cols.extend((codes == c).astype(float) for _, c in present[1:])
        elif isinstance(x.dtype, pd.CategoricalDtype) or x.dtype == object:
            dummies = pd.get_dummies(x.astype(str), drop_first=True, dtype=float)
            cols.extend(dummies[c].to_numpy() for c in dummies.columns)
        else:
            cols.append(x.to_numpy(float))
    if not cols:
        return np.zeros((len(df), 0))
    z = np.column_stack(cols)
    z = z[:, z.std(axis=0) > 0]  # a covariate constant in this sample adds nothing
    return z - z.mean(axis=0)


def adjusted_itt(individuals: pd.DataFrame, outcome: str, cluster: str | None = None, alpha: float = 0.05,
                 test: ClusterTest = "auto") -> Estimate:
    """ITT on `outcome` adjusted for the register covariates with arm interactions (Lin 2013): HC2
    standard errors for individual designs, cluster-robust ones (as `itt`) when `cluster` is given."""
    df = individuals.loc[individuals[outcome].notna()]
    x = lin_design(df)
    if x is None:
        return NAN_ESTIMATE
    if cluster is not None:
        return _fit(df, outcome, x, 1, cluster, alpha, test)
    return hc2_fit(df[outcome].to_numpy(float), x, 1, alpha)


def lin_design(df: pd.DataFrame) -> np.ndarray | None:
    """Lin's regressors for the people of `df`: 1, the arm, the centred covariates and the arm times each
    (just 1 and the arm when there are more columns than people); None with fewer than 2 in an arm."""
    treated = (df["arm"] == "pilot").to_numpy(float)
    if treated.sum() < 2 or (1 - treated).sum() < 2:
        return None
    z = covariate_matrix(df)
    x = np.column_stack([np.ones_like(treated), treated, z, treated[:, None] * z])
    if x.shape[1] >= treated.size:  # more columns than people: no adjustment possible
        x = x[:, :2]
    return x


def adjusted_reader(individuals: pd.DataFrame, alpha: float = 0.05):
    """`adjusted_itt` of an individual design for outcome after outcome of the same people, as a function
    of the outcome (and whether it is tested, which changes nothing here): outcomes observed for the same
    people share one design matrix and its pseudo-inverse, so each costs a product, and every figure is the
    one `adjusted_itt` gives."""
    kept: dict[bytes, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]] | None] = {}
    people = individuals[["arm", *REGISTER_COVARIATES]]  # what the design reads (a copy of these only)

    def effect(outcome: str, tested: bool = True) -> Estimate:
        observed = individuals[outcome].notna().to_numpy()
        key = np.packbits(observed).tobytes()
        if key not in kept:
            x = lin_design(people.loc[observed])
            kept[key] = None if x is None else (x, hc2_parts(x))
        if kept[key] is None:
            return NAN_ESTIMATE
        x, parts = kept[key]
        return hc2_fit(individuals[outcome].to_numpy(float)[observed], x, 1, alpha, parts)
    return effect


def hc2_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-inverse of least squares on `x` (k x n, from the k x k cross-products: an SVD of x is
    slower) and each observation's leverage: what HC2 needs of the regressors, whatever the outcome."""
    pinv = np.linalg.pinv(x.T @ x) @ x.T
    return pinv, np.einsum("ij,ji->i", x, pinv)


def hc2_fit(y: np.ndarray, x: np.ndarray, coef: int, alpha: float,
            parts: tuple[np.ndarray, np.ndarray] | None = None) -> Estimate:
    """Least squares with HC2 standard errors, the leverages from the pseudo-inverse: O(n k^2), where
    statsmodels' HC2 forms an n x n matrix (seconds for a pilot of 6,000 people and 20 columns). `parts`:
    `hc2_parts(x)`, when already computed for another outcome."""
    from scipy import stats

    pinv, leverage = hc2_parts(x) if parts is None else parts
    beta = pinv @ y
    resid = y - x @ beta
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = resid**2 / (1 - leverage)
    row = pinv[coef]
    b, se = float(beta[coef]), float(np.sqrt(np.sum(row**2 * weight)))
    if not np.isfinite(se) or se == 0:
        return Estimate(b, se, np.nan, np.nan, np.nan, int(y.size), None)
    z = stats.norm.ppf(1 - alpha / 2)
    return Estimate(b, se, float(b - z * se), float(b + z * se), float(2 * stats.norm.sf(abs(b / se))), int(y.size), None,
                    "hc2", 0.0)
