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
- `saturation`: two estimands (Crepon et al. 2013). The **effect on the assigned**: pilot arm against
  control arm within the same market, averaged over the markets that have both arms (weighted by their
  people), Neyman SE; its p-value from re-randomising the individuals within each market and intake week
  at the counts drawn (exact under the sharp null given the markets' shares, so a target of places that
  closes the intake earlier when large markets draw high shares does not bias it), the interval by
  inverting it. The **spillover on the untreated** (`saturation_spillover`): the slope of the control
  arm's outcome on its market's treated share, tested by re-drawing the markets' shares and the
  individuals within them, as the design does.

A randomisation test is exact in level whatever the dependence between offices or markets (they share
labour markets, which is why t(G - 1) and the wild cluster bootstrap over-reject with 6 offices: issue
33, docs/evaluation.md "The design's test"). Its draws are seeded per pilot from the run's seed. With few
clusters it may be unable to reject at all: `smallest_p` says how small its p-value can be, so that a
size search can refuse such a design with that reason. `placebo_test` is the individual design's test
on the control arm split in two at random: the size answer's placebo check of the test's level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from labsim.config.errors import LabsimError
from labsim.results.estimate import NAN_ESTIMATE, Estimate, did, invert, itt, mc_se

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
    1 / (RI_DRAWS + 1) when there are too many assignments to enumerate and for the saturation design's
    effect on the assigned (its re-drawn individuals are many); 0 for the individual design (normal
    test). A design whose smallest p is above alpha cannot reach significance at any effect."""
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
    if design == "saturation":
        df = df.loc[df.groupby(cluster, observed=True)["arm"].transform(lambda a: a.nunique() == 2)]
        if test in ("t", "wild"):  # the pooled ITT over mixed markets, clustered by market (for comparison)
            return itt(df, outcome, cluster, alpha, test, assignment.seed)
        return _within_markets(df, outcome, alpha, assignment.seed, test == "randomisation")
    if test != "randomisation":
        return itt(df, outcome, cluster, alpha, test, assignment.seed)
    est = itt(df, outcome, cluster, alpha, "none")
    return _randomised(df, outcome, est, assignment, np.zeros(len(df), int), alpha)


def _within_markets(df: pd.DataFrame, outcome: str, alpha: float, seed: int, tested: bool) -> Estimate:
    """The saturation design's effect on the assigned (`df`: the markets with both arms) and, if `tested`,
    its randomisation test within markets (`_WithinMarkets`)."""
    pilot = int((df["arm"] == "pilot").sum())
    if pilot < 2 or len(df) - pilot < 2:
        return NAN_ESTIMATE
    t = _WithinMarkets(df, outcome, seed, RI_DRAWS if tested else 0)
    b, se = t.estimate(0.0)
    n, g = int(len(df)), int(t.markets)
    if not (tested and np.isfinite(b) and np.isfinite(se) and se > 0):
        return Estimate(b, se, np.nan, np.nan, np.nan, n, g)
    p = t.p_value(0.0)
    lo, hi = invert(t.p_value, b, se, alpha)
    return Estimate(b, se, lo, hi, p, n, g, "randomisation", mc_se(p, RI_DRAWS))


class _WithinMarkets:
    """The saturation design's effect on the assigned and its randomisation test.

    Estimate: the difference between the arms within each market with both arms, averaged with weights
    proportional to the market's people; SE: the Neyman SE of that stratified difference, sum_j w_j^2
    (s1_j^2 / n1_j + s0_j^2 / n0_j). Test: given the markets' drawn shares, the design assigns each person
    independently at their market's share, so given how many of each market's newly eligible in each
    intake week went to the pilot arm, every choice of which of them did is equally likely. The test
    draws `RI_DRAWS` such re-assignments (within each market and intake week, at its counts) and compares
    the observed |t| with theirs: exact under the sharp null whatever the markets' shocks, and the intake
    (a target of places filled week by week) is the same in every re-assignment, as it is under the null.
    Under a null tau the outcomes are y - tau (observed pilot arm) + tau (re-drawn pilot arm); a cell's
    re-drawn pilot arm is summarised by how many of each kind (outcome, observed arm) it holds, drawn
    as a multivariate hypergeometric, so a draw costs O(cells x kinds), not O(people)."""

    def __init__(self, df: pd.DataFrame, outcome: str, seed: int, draws: int = RI_DRAWS) -> None:
        market = (df["sector"].cat.codes if hasattr(df["sector"], "cat") else pd.factorize(df["sector"])[0])
        market = np.asarray(market, np.int64)
        week = np.asarray(df["assigned_week"], np.int64) if "assigned_week" in df else np.zeros(len(df), np.int64)
        y = df[outcome].to_numpy(float)
        a = (df["arm"] == "pilot").to_numpy(int)
        codes = np.unique(market, return_inverse=True)[1]
        g = self.markets = int(codes.max()) + 1 if codes.size else 0
        size = np.bincount(codes, minlength=g).astype(float)
        self.w = size / size.sum() if g else size
        rng = np.random.default_rng(seed)
        # per draw and market: counts and sums of the re-drawn pilot arm (k: 1, y, y^2, a, a y)
        self.sums = np.zeros((draws + 1, g, 5))
        observed = np.stack([np.bincount(codes, weights=v, minlength=g) for v in (a, a * y, a * y * y, a, a * y)], 1)
        self.sums[0] = observed
        cell = pd.factorize(pd.Series(codes) * 100_000 + pd.Series(week))[0]
        kinds_y, kind = np.unique(np.column_stack([y, a]), axis=0, return_inverse=True)
        kind = kind.ravel()
        value = np.column_stack([np.ones(len(kinds_y)), kinds_y[:, 0], kinds_y[:, 0] ** 2, kinds_y[:, 1],
                                 kinds_y[:, 1] * kinds_y[:, 0]])
        for c in range(int(cell.max()) + 1 if cell.size and draws else 0):
            mine = cell == c
            treated = int(a[mine].sum())
            if treated in (0, mine.sum()):  # a cell with one arm only: the same in every re-assignment
                self.sums[1:, codes[mine][0]] += value[kind[mine]].sum(0) if treated else 0.0
                continue
            colors = np.bincount(kind[mine], minlength=len(kinds_y))
            draw = rng.multivariate_hypergeometric(colors, treated, size=draws, method="count")
            self.sums[1:, codes[mine][0]] += draw @ value
        self.totals = np.stack([np.bincount(codes, weights=v, minlength=g) for v in (np.ones_like(y), y, y * y, a, a * y)], 1)

    def estimate(self, tau: float, draws: slice = slice(0, 1)) -> tuple[np.ndarray, np.ndarray]:
        """The stratified difference and its Neyman SE under the sharp null tau, for the draws asked
        (default: the observed assignment only, as two floats)."""
        n1, sy1, syy1, sa1, say1 = np.moveaxis(self.sums[draws], 2, 0)
        n0, sy0, syy0, sa0, say0 = np.moveaxis(self.totals[None] - self.sums[draws], 2, 0)
        # outcomes under tau: the re-drawn pilot arm gets y + tau (1 - a), the re-drawn control arm y - tau a
        z1, zz1 = sy1 + tau * (n1 - sa1), syy1 + 2 * tau * (sy1 - say1) + tau * tau * (n1 - sa1)
        z0, zz0 = sy0 - tau * sa0, syy0 - 2 * tau * say0 + tau * tau * sa0
        with np.errstate(divide="ignore", invalid="ignore"):
            m1, m0 = z1 / n1, z0 / n0
            v1 = (zz1 - n1 * m1 * m1) / (n1 - 1)
            v0 = (zz0 - n0 * m0 * m0) / (n0 - 1)
            b = (self.w * (m1 - m0)).sum(-1)
            se = np.sqrt((self.w**2 * (np.maximum(v1, 0) / n1 + np.maximum(v0, 0) / n0)).sum(-1))
        if draws == slice(0, 1):
            return float(b[0]), float(se[0])
        return b, se

    def p_value(self, tau: float) -> float:
        """Share of the re-assignments (the observed one among them) whose |t| under the sharp null tau
        is at least the observed |t|."""
        b, se = self.estimate(tau, slice(None))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.abs((b - tau) / se)
        t_obs, t = t[0], t[np.isfinite(t)]
        return float((t >= t_obs * (1 - 1e-9)).mean()) if t.size and np.isfinite(t_obs) else math.nan


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
    observed."""

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
        self._prepare(n)

    def _prepare(self, n: np.ndarray) -> None:
        """Everything of the t statistics that does not depend on the sharp null tau. The outcomes under
        tau are affine in tau (tau taken from the observed treated after the intake opened, given to the
        re-drawn ones), so each draw's estimate and unit scores are too: b = b0 + tau b1, score = u0 +
        tau u1, and the variance is a quadratic in tau."""
        after = np.zeros(n.shape[1])
        after[self.after] = 1.0
        arms = ((self.n0, self.s0, -self.c0), (self.n1, self.s1, self.n1 * after - self.c1))
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


def saturation_spillover(individuals: pd.DataFrame, outcome: str, assignment: Assignment) -> Estimate:
    """The saturation design's spillover on the untreated: the slope of the control arm's outcome on its
    market's treated share (per 100 percentage points of share; markets fully treated have no control
    arm), with the p-value of a randomisation test that re-draws the markets' shares (a permutation of
    the design's shares) and the individuals within them at those shares, as the design does:
    `RI_DRAWS` draws, the observed among them. Exact under the sharp null when who is analysed does not
    depend on the draw (an intake by weeks, no cap on places); with a target of places a draw that puts
    high shares in large markets closes the intake earlier, which the test does not re-draw. No interval:
    a sharp null about the spillover says nothing of the treated's outcomes under other shares."""
    ind = individuals.loc[~individuals["before_pilot"] & individuals[outcome].notna()]
    shares = np.array(assignment.unit_shares, float)
    market = np.asarray(ind["sector"].cat.codes if hasattr(ind["sector"], "cat") else ind["sector"], np.int64)
    g = shares.size
    y = ind[outcome].to_numpy(float)
    a = (ind["arm"] == "pilot").to_numpy(int)
    if (1 - a).sum() < 2 or a.sum() < 2:
        return Estimate(np.nan, np.nan, np.nan, np.nan, np.nan, int((1 - a).sum()), None)
    n = np.bincount(market, minlength=g).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawn = np.bincount(market, weights=a, minlength=g) / n
    observed = np.empty(g)
    observed[np.argsort(np.nan_to_num(drawn, nan=-1.0), kind="stable")] = np.sort(shares)  # each market's share
    kinds, kind = np.unique(y, return_inverse=True)
    counts = np.stack([np.bincount(market[kind.ravel() == k], minlength=g) for k in range(kinds.size)], 1)  # g x kinds
    rng = np.random.default_rng(np.random.SeedSequence(assignment.seed, spawn_key=(1,)))
    s = rng.permuted(np.tile(shares, (RI_DRAWS + 1, 1)), axis=1)
    s[0] = observed
    n0 = rng.binomial(n.astype(np.int64)[None], 1 - s)  # re-drawn control arm per draw and market
    n0[0] = n - np.bincount(market, weights=a, minlength=g)
    sy0 = np.zeros(n0.shape)
    left, left_n = np.broadcast_to(n, n0.shape).astype(np.int64), n0.astype(np.int64)
    for k in range(kinds.size):  # the control arm's outcomes: sequential hypergeometric draws by kind
        c = np.broadcast_to(counts[:, k], n0.shape).astype(np.int64)
        take = rng.hypergeometric(c, np.maximum(left - c, 0), np.minimum(left_n, left)) if k < kinds.size - 1 else left_n
        sy0 += take * kinds[k]
        left, left_n = left - c, left_n - take
    sy0[0] = np.bincount(market, weights=(1 - a) * y, minlength=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_s = (n0 * s).sum(1, keepdims=True) / n0.sum(1, keepdims=True)
        sxx = (n0 * (s - mean_s) ** 2).sum(1)
        slope = ((s - mean_s) * sy0).sum(1) / sxx
    b = float(slope[0])
    ok = np.isfinite(slope)
    p = float((np.abs(slope[ok]) >= abs(b) * (1 - 1e-9)).mean()) if np.isfinite(b) else math.nan
    se = float(np.std(slope[1:][ok[1:]], ddof=1)) if ok[1:].sum() > 1 else math.nan  # the slope's spread under the null
    return Estimate(b, se, np.nan, np.nan, p, int((1 - a).sum()), int((observed < 1).sum()), "randomisation",
                    mc_se(p, RI_DRAWS) if np.isfinite(p) else None)


def placebo_test(individuals: pd.DataFrame, outcome: str, assignment: Assignment, alpha: float = 0.05) -> Estimate:
    """The individual design's test on a placebo split of the control arm: its people (own cohorts, outcome
    observed) re-randomised into two placebo arms, each at the pilot arm's observed share, seeded from
    the run's seed. Nobody in either placebo arm was referred, so the test must reject at its level: a
    check, at no extra simulation, that its SE and reference distribution are honest for this outcome
    and the dependence between the control arm's people (shared markets, cohorts, offices). It cannot
    see what differs between the real arms (a referral that changes outcomes under zero help, an intake
    that depends on the arm): the zero-help pilots check that. NaN for cluster designs, whose
    randomisation test is exact by construction."""
    if assignment.design != "individual":
        return NAN_ESTIMATE
    own = individuals.loc[~individuals["before_pilot"] & individuals[outcome].notna()]
    control = own.loc[own["arm"] != "pilot"]
    share = float((own["arm"] == "pilot").mean()) if len(own) else math.nan
    if not 0 < share < 1:
        return NAN_ESTIMATE
    rng = np.random.default_rng(np.random.SeedSequence(assignment.seed, spawn_key=(2,)))
    placebo = control.assign(arm=np.where(rng.random(len(control)) < share, "pilot", "control"))
    return itt(placebo, outcome, None, alpha)
