"""Rare events (world/rare.py): the positions and uniforms drawn as geometric gaps have the distribution of
a uniform per person compared with p. Each check is a test at level 0.001 with a fixed seed, so a correct
sampler fails it with chance 0.001 over seeds; each of the faults noted below fails it."""

import numpy as np
import pytest
from scipy import stats

from labsim.world.rare import CAP, DENSE, rare_events

N, P, REPS = 40, 0.06, 20_000


@pytest.fixture(scope="module")
def draws():
    rng = np.random.default_rng(2607)
    return [rare_events(rng, N, P) for _ in range(REPS)]


def test_every_position_has_the_chance_p(draws):
    """Each of the N positions is an event in a share p of weeks (a gap off by one leaves position 0
    out or pushes past the last)."""
    hits = np.zeros(N)
    for at, _ in draws:
        assert np.all(np.diff(at) > 0) and (at.size == 0 or (at[0] >= 0 and at[-1] < N))
        hits[at] += 1
    expected = REPS * P
    chi2 = (((hits - expected) ** 2) / (expected * (1 - P))).sum()
    assert stats.chi2.sf(chi2, N) > 0.001, hits


def test_counts_are_binomial(draws):
    """The number of events is Binomial(N, p) (too many or too few gaps drawn changes it)."""
    counts = np.bincount([at.size for at, _ in draws], minlength=N + 1)
    pmf = stats.binom.pmf(np.arange(N + 1), N, P)
    top = 8  # pool the tail so every cell expects at least a few
    observed = np.append(counts[:top], counts[top:].sum())
    expected = REPS * np.append(pmf[:top], pmf[top:].sum())
    assert stats.chisquare(observed, expected).pvalue > 0.001, (observed, expected)


def test_neighbours_are_independent(draws):
    """Two neighbours are both events in a share p^2 of weeks (gaps that cannot be 1 would make it 0)."""
    both = sum(int(np.isin(at + 1, at).sum()) for at, _ in draws)
    trials = REPS * (N - 1)
    assert stats.binomtest(both, trials, P * P).pvalue > 0.001, both / trials


def test_uniforms_are_uniform_below_p(draws):
    """An event's uniform is uniform on (0, p), as a uniform given that it fell below p."""
    u = np.concatenate([u for _, u in draws])
    assert u.min() >= 0.0 and u.max() < P
    assert stats.kstest(u / P, "uniform").pvalue > 0.001


def test_a_long_run_of_events_draws_more_gaps():
    """When the first gaps do not reach past the last person, more are drawn: a generator whose first
    uniforms are all 0 (every gap 1) makes the first positions all events and the rest are still drawn."""

    class FirstZeros:
        def __init__(self):
            self.inner, self.calls = np.random.default_rng(5), 0

        def random(self, k):
            self.calls += 1
            return np.zeros(k) if self.calls == 1 else self.inner.random(k)

    n, p = 1_000, 0.1
    at, u = rare_events(FirstZeros(), n, p)
    first = int(n * p + 6 * np.sqrt(n * p) + 16)
    assert np.array_equal(at[:first], np.arange(first))
    assert at.size > first and at[-1] < n and np.all(np.diff(at) > 0) and u.size == at.size


def test_common_chances_take_a_uniform_each():
    """At a chance of DENSE or more, the draws are a uniform per person, compared as before."""
    at, u = rare_events(np.random.default_rng(3), 500, DENSE + 0.1)
    plain = np.random.default_rng(3).random(500)
    assert np.array_equal(at, (plain < DENSE + 0.1).nonzero()[0]) and np.array_equal(u, plain[at])


def test_no_one_or_no_chance():
    assert rare_events(np.random.default_rng(0), 0, 0.05)[0].size == 0
    assert rare_events(np.random.default_rng(0), 100, 0.0)[0].size == 0


#: Chances on both sides of CAP, 0 and 1 among them.
CHANCES = np.array([0.0, 0.01, 0.03, 0.05, CAP * 0.999, CAP, 0.12, 0.3, 0.7, 1.0])


def frequencies(draw, n_reps=20_000, seed=2608):
    rng = np.random.default_rng(seed)
    hits = np.zeros(CHANCES.size)
    for _ in range(n_reps):
        at = draw(rng)
        assert np.all(np.diff(at) > 0)
        hits[at] += 1
    return hits / n_reps, n_reps


def assert_each_has_its_chance(freq, chance, n_reps):
    """Every position's share of events against its chance (exact at 0 and 1; a binomial test otherwise)."""
    assert freq[chance == 0].sum() == 0 and np.all(freq[chance == 1] == 1)
    for f, p in zip(freq, chance):
        if 0 < p < 1:
            assert stats.binomtest(round(f * n_reps), n_reps, p).pvalue > 0.001 / CHANCES.size, (f, p)


def test_matching_hires_each_searcher_at_their_chance():
    """`Matching.hired`: the few whose rate x is above the cap's (chance 1 - exp(-x) above CAP) by a uniform
    each, the rest thinned from the rare events at CAP (a chance above CAP thinned at CAP would be cut to
    CAP; one left out of either part would never happen)."""
    from labsim.world.market import Matching

    x = -np.log1p(-np.minimum(CHANCES, 1 - 1e-12))  # rates whose chances are CHANCES (1: as near as floats go)
    m = Matching.__new__(Matching)
    m.expected_hires = lambda weight, market, vacancies: weight.copy()
    freq, n = frequencies(lambda rng: m.hired(x, None, None, rng))
    chance = -np.expm1(-x)
    assert_each_has_its_chance(freq, chance, n)
