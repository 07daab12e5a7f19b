"""The size search's two power fits (design/power_fit.py) against independent computations, on pilots
drawn directly from their models (fast: no search; the searches against stubs are in test_size.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from labsim.design.power_fit import ProbitFit, ZFit, fit_kind, mu_for_power, power_fit, two_sided_power

C = stats.norm.ppf(0.975)
A, B, SIGMA = 0.3, 0.06, 1.2  # the z model of these tests: power 80 % at n_true()


def z_power(n: float, sign: float = 1.0) -> float:
    mu = sign * (A + B * math.sqrt(n))
    return stats.norm.sf((C - mu) / SIGMA) + stats.norm.cdf((-C - mu) / SIGMA)


def n_true(sign: float = 1.0) -> float:
    return optimize.brentq(lambda n: z_power(n, sign) - 0.8, 1, 1e6)


def z_pilots(seed: int, sizes=(600, 1500, 2500), each: int = 100, sign: float = 1.0) -> pd.DataFrame:
    """Pilots whose z ~ N(sign (A + B sqrt(N)), SIGMA^2), tested against C."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.asarray(sizes, float), each)
    z = sign * (A + B * np.sqrt(n)) + SIGMA * rng.standard_normal(n.size)
    se = np.sqrt(0.84 / n)
    return pd.DataFrame({"size": n, "estimate": z * se, "se": se, "reject": np.abs(z) > C, "z_critical": C})


def test_the_z_fit_is_least_squares_with_the_residual_spread_and_the_two_sided_power():
    df = z_pilots(1, sign=-1.0)
    fit = power_fit(df)
    assert isinstance(fit, ZFit) and fit.c == C and fit.dof == len(df) - 2
    x, z = np.sqrt(df["size"]), df["estimate"] / df["se"]
    b, a = np.polyfit(x, z, 1)
    s = math.sqrt(((z - a - b * x) ** 2).sum() / (len(z) - 2))
    np.testing.assert_allclose([*fit.params, fit.sigma], [a, b, s], rtol=1e-10)
    sizes = np.array([100.0, 1000.0, 4000.0])
    mu = a + b * np.sqrt(sizes)
    np.testing.assert_allclose(fit.power(sizes), stats.norm.cdf((mu - C) / s) + stats.norm.cdf((-mu - C) / s),
                               rtol=1e-12)
    n_star = fit.n_star(0.8)  # where that power is the target, found here by brentq on N
    assert n_star == pytest.approx(optimize.brentq(lambda n: fit.power(np.array([n]))[0] - 0.8, 10, 1e6), rel=1e-8)


@pytest.mark.parametrize("power, sigma", [(0.8, 1.0), (0.9, 1.3), (0.2, 0.8), (0.06, 1.0)])
def test_mu_for_power_inverts_the_two_sided_power(power, sigma):
    mu = mu_for_power(power, np.array([sigma]), C)
    assert mu[0] > 0 and two_sided_power(mu, sigma, C)[0] == pytest.approx(power, abs=1e-9)


def test_a_spread_that_alone_reaches_the_target_needs_no_effect():
    """sigma 3: 2 Phi(-1.96 / 3) = 51 % rejects with mu = 0, so 50 % power needs mu = 0."""
    assert mu_for_power(0.5, np.array([3.0]), C)[0] == 0.0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_z_fit_interval_holds_the_true_size_at_about_the_nominal_rate(sign):
    """200 sets of 300 pilots: the 95 % interval holds N* in >= 90 % (binomial SE of 95 % over 200 is
    1.5 pp: 3 SE), and not in all (an interval too wide would)."""
    from labsim.design.size import minimum_size

    truth = n_true(sign)
    found = [minimum_size(z_pilots(seed, sign=sign), 0.8, seed) for seed in range(200)]
    covered = np.mean([m.low <= truth <= m.high for m in found])
    assert 0.90 <= covered < 1.0, covered
    n = np.array([m.n_star for m in found])
    assert abs(n.mean() - truth) < 3 * n.std(ddof=1) / math.sqrt(n.size), (n.mean(), truth)


def test_the_probit_is_statsmodels_probit_of_rejection_on_root_size():
    import statsmodels.api as sm

    df = z_pilots(2).drop(columns="z_critical")
    fit = power_fit(df)
    assert isinstance(fit, ProbitFit) and fit.kind == "probit"
    ref = sm.Probit(df["reject"].astype(float), sm.add_constant(np.sqrt(df["size"]))).fit(disp=0)
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-6)
    a, b = fit.params
    assert fit.n_star(0.8) == pytest.approx(((stats.norm.ppf(0.8) - a) / b) ** 2, rel=1e-12)
    np.testing.assert_allclose(fit.power(np.array([900.0])), stats.norm.cdf(a + b * 30), rtol=1e-12)


def test_a_probit_whose_power_falls_with_size_gives_no_size():
    """Fitted to rejections that fall with size: no curve; a draw with a falling slope (98 % at N = 0)
    crosses the target only on its way down, which is no minimum size: N* inf."""
    n = np.repeat([400.0, 900, 1600], 30)
    rng = np.random.default_rng(0)
    falling = pd.DataFrame({"size": n, "reject": rng.random(n.size) < np.interp(n, [400, 1600], [0.7, 0.3])})
    assert ProbitFit.of(falling) is None
    fit = ProbitFit(np.array([2.0, -0.01]), np.eye(2) * 1e-12)
    assert np.isinf(fit.n_star(0.8)) and np.isinf(fit.n_star_draws(0.8, 0)).all()


def test_the_z_fit_needs_a_residual_degree_of_freedom():
    df = z_pilots(5, sizes=(400, 900), each=2)
    assert power_fit(df.iloc[:3]) is not None and power_fit(df.iloc[1:3]) is None


def test_the_z_fit_only_where_every_pilot_tested_a_finite_z_against_one_normal_value():
    df = z_pilots(3)
    assert fit_kind(df) == "z"
    assert fit_kind(df.drop(columns="z_critical")) == "probit"  # records from before issue 18
    assert fit_kind(df.assign(z_critical=np.where(df.index == 0, np.nan, C))) == "probit"  # a cluster design
    assert fit_kind(df.assign(z_critical=np.where(df.index == 0, 1.64, C))) == "probit"  # two alphas
    assert fit_kind(df.assign(se=np.where(df.index == 0, 0.0, df["se"]))) == "probit"  # no finite z
    assert power_fit(df.loc[df["size"] == 600]) is None  # one size: no slope


def test_both_fits_read_the_size_each_pilot_reached():
    """A pilot whose target the catchment could not fill reached fewer places (`reached`): the fits are
    the least squares of z and the probit of rejection on sqrt(reached), not on sqrt(target)."""
    import statsmodels.api as sm

    df = z_pilots(6)
    df["reached"] = np.minimum(df["size"], 1800.0)  # the 2,500 target filled 1,800 places
    df["size"] = df["size"].where(df["size"] < 2000, 2500.0)
    z = df["estimate"] / df["se"]
    b, a = np.polyfit(np.sqrt(df["reached"]), z, 1)
    np.testing.assert_allclose(ZFit.of(df).params, [a, b], rtol=1e-10)
    assert not np.allclose(ZFit.of(df.drop(columns="reached")).params, [a, b], rtol=1e-3)
    probit = sm.Probit(df["reject"].astype(float), sm.add_constant(np.sqrt(df["reached"]))).fit(disp=0)
    np.testing.assert_allclose(ProbitFit.of(df.drop(columns="z_critical")).params, probit.params, rtol=1e-6)


def test_pilots_in_shared_worlds_get_the_covariance_clustered_by_world():
    """With a `world` column the z fit's coefficient covariance (sigma^2 `shape`) is statsmodels' OLS
    covariance clustered by world (CR1); without it, sigma^2 (X'X)^-1. Here every world's pilots share a
    world effect of SD 0.8, so the fitted mean z at a size (what N* is read from) is less certain clustered
    (the slope, compared within each world across sizes, is not)."""
    import statsmodels.api as sm

    df = z_pilots(7, each=40)
    df["world"] = np.tile(np.arange(40), 3)
    world_effect = np.random.default_rng(1).normal(0, 0.8, 40)[df["world"]]
    df["estimate"] = (df["estimate"] / df["se"] + world_effect) * df["se"]
    z, x = df["estimate"] / df["se"], sm.add_constant(np.sqrt(df["size"]))
    ols = sm.OLS(z, x).fit(cov_type="cluster", cov_kwds={"groups": df["world"]})
    fit = ZFit.of(df)
    np.testing.assert_allclose(fit.sigma**2 * fit.shape, ols.cov_params(), rtol=1e-8)
    plain = ZFit.of(df.drop(columns="world"))
    np.testing.assert_allclose(plain.sigma**2 * plain.shape, sm.OLS(z, x).fit().cov_params(), rtol=1e-8)
    two = df.assign(world=df["world"] % 2)  # two worlds: CR1's G / (G - 1) is 2
    ols2 = sm.OLS(z, x).fit(cov_type="cluster", cov_kwds={"groups": two["world"]})
    fit2 = ZFit.of(two)
    np.testing.assert_allclose(fit2.sigma**2 * fit2.shape, ols2.cov_params(), rtol=1e-8)
    at = np.array([1.0, math.sqrt(1500)])
    assert at @ fit.shape @ at > 1.3 * at @ plain.shape @ at  # 1 + (3 - 1) 0.64 / 2.08 = 1.6 expected


def test_the_probit_of_pilots_in_shared_worlds_is_clustered_by_world():
    """The assurance's probit over pilots in shared worlds: statsmodels' probit with its covariance
    clustered by world; the same coefficients as without."""
    import statsmodels.api as sm

    df = z_pilots(8, each=40).drop(columns="z_critical")
    df["world"] = np.tile(np.arange(40), 3)
    x = sm.add_constant(np.sqrt(df["size"]))
    ref = sm.Probit(df["reject"].astype(float), x).fit(disp=0, cov_type="cluster", cov_kwds={"groups": df["world"]})
    fit = ProbitFit.of(df)
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-6)
    np.testing.assert_allclose(fit.cov, ref.cov_params(), rtol=1e-6)
    assert not np.allclose(fit.cov, ProbitFit.of(df.drop(columns="world")).cov, rtol=1e-3)


def test_the_probit_interval_draws_its_coefficients_from_their_fitted_normal():
    """N*'s draws of the probit: (a, b) from N(params, cov) (numpy's multivariate normal with the same seed),
    each giving ((z_power - a) / b)^2, or no size where its slope is not positive."""
    fit = ProbitFit.of(z_pilots(9).drop(columns="z_critical"))
    d = np.random.default_rng(4).multivariate_normal(fit.params, fit.cov, 2000)
    root = (stats.norm.ppf(0.8) - d[:, 0]) / d[:, 1]
    expected = np.where((d[:, 1] > 0) & (root > 0), root**2, np.inf)
    np.testing.assert_allclose(fit.n_star_draws(0.8, 4), expected, rtol=1e-12)


def test_with_few_pilots_the_interval_carries_the_uncertainty_of_sigma():
    """400 sets of 4 pilots (one at each of 600, 1,500, 2,500 and 4,000 places: 2 residual degrees of
    freedom, so sigma itself is uncertain): the 95 % interval holds N* in >= 92 % (3 binomial SE of 1.1 pp
    below 95 %; 96 % measured). Drawn the wrong way round, sigma = s sqrt(chi2 / dof), it held 85 %."""
    from labsim.design.size import minimum_size

    truth = n_true()
    found = [minimum_size(z_pilots(seed, sizes=(600, 1500, 2500, 4000), each=1), 0.8, seed) for seed in range(400)]
    covered = np.mean([m.low <= truth <= m.high for m in found])
    assert covered >= 0.92, covered


def test_one_size_tried_gives_no_curve_even_if_its_pilots_filled_different_places():
    df = z_pilots(10, sizes=(600,), each=40)
    df["reached"] = np.random.default_rng(0).integers(280, 300, len(df)).astype(float)
    assert power_fit(df) is None and power_fit(df.drop(columns="z_critical")) is None
