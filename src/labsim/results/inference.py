"""The design's test: one function that, given how a pilot was randomised, picks the estimator and the
test every output reports (run summary and headline, report, page, sweep tables, diagnose, size,
sensitivity).

- `individual`: least squares of the outcome on the arm, HC2 SE, normal test (`estimate.itt`).
- `office`: the same, SE clustered by office; the p-value from **randomisation inference**: the
  cluster-robust t statistic of every re-assignment of the design's own draw (the same number of pilot
  offices) under the sharp null, all of them when there are at most `ENUMERATE_UP_TO`, else
  `RI_DRAWS` random ones; the interval by inverting that test.
- `area`: difference in differences (`estimate.did`), SE clustered by office, the same randomisation
  test over which offices form the pilot area.
- `saturation`: the ITT inside the markets that have both arms, SE clustered by market, the
  randomisation test re-drawing the markets' treated shares and then the individuals within them, as
  the design does.

A randomisation test is exact in level whatever the dependence between offices or markets (they share
labour markets, which is why t(G - 1) and the wild cluster bootstrap over-reject with 6 offices: issue
33, docs/evaluation.md "The design's test"). Its draws are seeded per pilot from the run's seed. With few
clusters it may be unable to reject at all: `smallest_p` says how small its p-value can be, so that a
size search can refuse such a design with that reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from labsim.config.errors import LabsimError
from labsim.results.estimate import Estimate, did, invert, itt, mc_se

#: The column a design's randomised unit is recorded in (None: individuals).
CLUSTER_OF = {"individual": None, "office": "office", "saturation": "sector", "area": "office"}
#: Random re-assignments of a randomisation test when there are more than `ENUMERATE_UP_TO`: the p-value's
#: Monte Carlo SE is at most 0.0022 at p = 0.05.
RI_DRAWS = 9_999
ENUMERATE_UP_TO = 20_000
#: The test each design's pilots get (docs/evaluation.md).
TEST_OF = {"individual": "hc2", "office": "randomisation", "area": "randomisation", "saturation": "randomisation"}


@dataclass(frozen=True)
class Assignment:
    """How a pilot's arms were drawn, as a randomisation test re-draws them: the design, its units
    (offices or markets), the treated share the design spreads over them by a random permutation
    (1/0 per office for office and area designs; `saturation_shares` over markets), and the seed of
    the test's draws (the run's own, so replications are independent and a pilot's p-value repeats)."""

    design: str
    unit_shares: tuple[float, ...]
    seed: int

    @classmethod
    def of(cls, scenario, seed: int) -> Assignment:
        d = scenario.design
        if d.randomisation in ("office", "area"):
            treated, control = d.offices_per_arm(scenario.area.offices)
            shares = (1.0,) * treated + (0.0,) * control
        elif d.randomisation == "saturation":
            shares = tuple(float(x) for x in np.resize(np.array(d.saturation_shares, float),
                                                       len(scenario.market.sectors)))
        else:
            shares = ()
        return cls(d.randomisation, shares, int(seed))

    @property
    def test(self) -> str:
        return TEST_OF[self.design]


def smallest_p(design: str, clusters: int, treated: int | None = None) -> float:
    """The smallest p-value the design's test can give with `clusters` offices (`treated` of them in
    the pilot arm; default half, rounded) whatever the effect: 2 / C(G, G1) for an office or area design
    whose arms are equal (an assignment and its mirror give the same |t|), 1 / C(G, G1) otherwise, and
    1 / (RI_DRAWS + 1) when there are too many assignments to enumerate; 0 for the individual design
    (normal test). A design whose smallest p is above alpha cannot reach significance at any effect."""
    if TEST_OF.get(design) != "randomisation":
        return 0.0
    if design == "saturation":
        return 1 / (RI_DRAWS + 1)
    g1 = round(clusters / 2) if treated is None else treated
    count = math.comb(clusters, g1)
    if count > ENUMERATE_UP_TO:
        return 1 / (RI_DRAWS + 1)
    return (2 if 2 * g1 == clusters else 1) / count


def reachable_offices(design, offices: int, alpha: float, refuse: bool = True) -> bool:
    """Whether a design (`config.scenario.Design`) with `offices` offices can give a p-value below
    `alpha` at any effect; if not and `refuse`, a `LabsimError` saying so (what a size search answers
    for a design that no size of the pilot can make significant)."""
    if design.randomisation not in ("office", "area"):
        return True
    treated = design.offices_per_arm(offices)[0]
    p = smallest_p(design.randomisation, offices, treated)
    if p <= alpha or not refuse:
        return p <= alpha
    raise LabsimError(
        f"area.offices: with {offices} offices ({treated} in the pilot arm) the {design.randomisation} design's "
        f"randomisation test cannot give a p-value below {p:.3g} whatever the effect, so no pilot size reaches "
        f"significance at {alpha}: use more offices (--by offices searches for them)")


def design_effect(individuals: pd.DataFrame, outcome: str, assignment: Assignment, alpha: float = 0.05,
                  test: str | None = None) -> Estimate:
    """The design's estimate of the pilot's effect on `outcome` and its test (`test`: the design's own
    when None; "none" for the estimate and SE only; "t" or "wild" for the cluster-robust alternatives).
    `individuals` holds everyone assigned, the area design's "before" cohorts included."""
    design, cluster = assignment.design, CLUSTER_OF[assignment.design]
    test = assignment.test if test is None else test
    if design == "area":
        if test != "randomisation":
            return did(individuals, outcome, cluster, alpha, test, assignment.seed)
        df = individuals.loc[individuals[outcome].notna()]
        est = did(df, outcome, cluster, alpha, "none")
        periods = (~df["before_pilot"].to_numpy(bool)).astype(int)
        return _randomised(df, outcome, est, assignment, periods, alpha)
    ind = individuals.loc[~individuals["before_pilot"]]
    if design == "individual":
        return itt(ind, outcome, None, alpha, "none" if test == "none" else "auto")
    df = ind.loc[ind[outcome].notna()]
    if design == "saturation":  # the ITT is read inside markets that have both arms
        df = df.loc[df.groupby(cluster, observed=True)["arm"].transform(lambda a: a.nunique() == 2)]
    if test != "randomisation":
        return itt(df, outcome, cluster, alpha, test, assignment.seed)
    est = itt(df, outcome, cluster, alpha, "none")
    df = ind.loc[ind[outcome].notna()]  # re-drawn assignments mix other markets
    return _randomised(df, outcome, est, assignment, np.zeros(len(df), int), alpha)


def _randomised(df: pd.DataFrame, outcome: str, est: Estimate, a: Assignment, periods: np.ndarray,
                alpha: float) -> Estimate:
    """`est` with the p-value and interval of the randomisation test over the design's assignment."""
    if not (np.isfinite(est.estimate) and np.isfinite(est.se) and est.se > 0):
        return est
    col = CLUSTER_OF[a.design]
    unit = (df[col].cat.codes if hasattr(df[col], "cat") else df[col]).to_numpy(np.int64)
    y = df[outcome].to_numpy(float)
    arm = (df["arm"] == "pilot").to_numpy(int)
    cells = _Cells(y, unit, arm, periods, np.array(a.unit_shares), a.seed)
    t_obs = lambda tau: (est.estimate - tau) / est.se  # noqa: E731
    p = cells.p_value(t_obs(0.0), 0.0)
    lo, hi = invert(lambda tau: cells.p_value(t_obs(tau), tau), est.estimate, est.se, alpha)
    mc = 0.0 if cells.enumerated else mc_se(p, cells.draws)
    return Estimate(est.estimate, est.se, lo, hi, p, est.n, est.clusters, "randomisation", mc)


class _Cells:
    """A randomisation test's re-assignments, reduced to counts and sums by unit, arm and period, so
    that the cluster-robust t statistic of every re-assignment, under any sharp null tau (the observed
    outcomes less tau for the treated after the intake opened, plus tau for the re-drawn treated), costs
    O(draws x units).

    Office and area designs: every choice of the same number of pilot units when there are at most
    `ENUMERATE_UP_TO` (the observed one among them), else `RI_DRAWS` random permutations plus the
    observed. Saturation: `RI_DRAWS` random permutations of the market shares, each with its own draw of
    the individuals at those shares (Bernoulli, as `world/referral.py`), plus the observed."""

    def __init__(self, y: np.ndarray, unit: np.ndarray, arm: np.ndarray, period: np.ndarray,
                 shares: np.ndarray, seed: int) -> None:
        n_units, n_periods = shares.size, int(period.max()) + 1
        self.k = 2 * n_periods  # parameters of the regression (ITT: 2; difference in differences: 4)
        self.after = n_periods - 1
        rng = np.random.default_rng(seed)
        flat = unit * n_periods + period
        size = n_units * n_periods
        n = np.bincount(flat, minlength=size).reshape(n_units, n_periods).astype(float)
        s = np.bincount(flat, weights=y, minlength=size).reshape(n_units, n_periods)
        treated_after = arm * (period == self.after)
        s_t = np.bincount(flat, weights=treated_after, minlength=size).reshape(n_units, n_periods)
        self.enumerated = False
        whole = set(np.unique(shares)) <= {0.0, 1.0}
        if whole:  # whole units assigned: counts and sums by unit suffice
            observed = np.zeros(n_units)
            observed[np.unique(unit[arm == 1])] = 1.0
            g1 = int(shares.sum())
            if math.comb(n_units, g1) <= ENUMERATE_UP_TO:
                a = np.zeros((math.comb(n_units, g1), n_units))
                for i, c in enumerate(combinations(range(n_units), g1)):
                    a[i, list(c)] = 1.0
                self.enumerated = True
            else:
                a = np.vstack([observed, rng.permuted(np.tile(shares, (RI_DRAWS, 1)), axis=1)])
            # re-assigned pilot and control counts and sums by draw, unit, period: (draws, units, periods)
            self.n1, self.n0 = a[:, :, None] * n, (1 - a[:, :, None]) * n
            self.s1, self.s0 = a[:, :, None] * s, (1 - a[:, :, None]) * s
            self.c1 = a[:, :, None] * s_t  # observed treated-after among the re-drawn pilot arm
            self.c0 = (1 - a[:, :, None]) * s_t
        else:  # saturation: markets' shares permuted, then individuals drawn at their market's share
            onehot = np.zeros((y.size, size))
            onehot[np.arange(y.size), flat] = 1.0
            weights = np.column_stack([onehot, onehot * y[:, None], onehot * treated_after[:, None]])
            sums = np.zeros((RI_DRAWS + 1, 3 * size))
            for start in range(0, RI_DRAWS + 1, 500):
                rows = np.arange(start, min(start + 500, RI_DRAWS + 1))
                perm = rng.permuted(np.tile(shares, (rows.size, 1)), axis=1)
                d = (rng.random((rows.size, y.size)) < perm[:, unit]).astype(float)
                if start == 0:
                    d[0] = arm  # the observed assignment
                sums[rows] = d @ weights
            self.n1, self.s1, self.c1 = (x.reshape(-1, n_units, n_periods) for x in np.split(sums, 3, axis=1))
            self.n0, self.s0, self.c0 = n[None] - self.n1, s[None] - self.s1, s_t[None] - self.c1
        self._prepare(n, mixed_only=not whole)

    def _prepare(self, n: np.ndarray, mixed_only: bool) -> None:
        """Everything of the t statistics that does not depend on the sharp null tau. The outcomes under
        tau are affine in tau (tau taken from the observed treated after the intake opened, given to the
        re-drawn ones), so each draw's estimate and unit scores are too: b = b0 + tau b1, score = u0 +
        tau u1, and the variance is a quadratic in tau."""
        after = np.zeros(n.shape[1])
        after[self.after] = 1.0
        arms = ((self.n0, self.s0, -self.c0), (self.n1, self.s1, self.n1 * after - self.c1))
        if mixed_only:  # saturation: only markets with both arms count, as in the estimate
            keep = ((self.n0.sum(2) > 0) & (self.n1.sum(2) > 0))[:, :, None]
            arms = tuple(tuple(x * keep for x in arm) for arm in arms)
        sign = np.array([-1.0, 1.0]) if self.k == 2 else np.array([[1.0, -1.0], [-1.0, 1.0]])
        sign = sign.reshape(2, -1)
        b0, b1 = 0.0, 0.0
        u0, u1 = 0.0, 0.0
        people, present = 0.0, 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            for a, (cnt, base, slope) in enumerate(arms):
                total = cnt.sum(1)  # draws, periods
                m0, m1 = base.sum(1) / total, slope.sum(1) / total
                b0, b1 = b0 + (sign[a] * m0).sum(1), b1 + (sign[a] * m1).sum(1)
                w = sign[a] / total  # how the estimate weighs each person's residual in this arm and period
                u0 = u0 + np.nan_to_num((base - cnt * m0[:, None]) * w[:, None]).sum(2)
                u1 = u1 + np.nan_to_num((slope - cnt * m1[:, None]) * w[:, None]).sum(2)
                people, present = people + cnt.sum((1, 2)), present + cnt.sum(2)
            g = (present > 0).sum(1)
            factor = g / (g - 1) * (people - 1) / (people - self.k)  # CR1, as statsmodels
        self.b0, self.b1 = b0, b1
        self.v0, self.v1, self.v2 = (factor * (u0 * u0).sum(1), factor * 2 * (u0 * u1).sum(1),
                                     factor * (u1 * u1).sum(1))
        self.draws = self.n1.shape[0] - (0 if self.enumerated else 1)
        del self.n0, self.n1, self.s0, self.s1, self.c0, self.c1

    def t_stats(self, tau: float) -> np.ndarray:
        """Cluster-robust t statistics (b - tau) / se of every re-assignment under the sharp null tau."""
        with np.errstate(divide="ignore", invalid="ignore"):
            var = self.v0 + tau * self.v1 + tau * tau * self.v2
            return (self.b0 + tau * self.b1 - tau) / np.sqrt(np.maximum(var, 0.0))

    def p_value(self, t_obs: float, tau: float) -> float:
        """Share of re-assignments whose |t| is at least the observed |t| (undefined draws left out)."""
        t = np.abs(self.t_stats(tau))
        t = t[np.isfinite(t)]
        return float((t >= abs(t_obs) * (1 - 1e-9)).mean()) if t.size else math.nan
