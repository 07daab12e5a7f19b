"""The ITT estimator: robust and cluster-robust standard errors behave as their theory says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labsim.results.estimate import itt


def frame(rng, n, effect, cluster_sd=0.0, clusters=40):
    arm_of_cluster = rng.random(clusters) < 0.5
    c = rng.integers(0, clusters, n)
    shock = rng.normal(0, cluster_sd, clusters)[c]
    treated = arm_of_cluster[c] if cluster_sd else rng.random(n) < 0.5
    y = (rng.random(n) < 0.3 + effect * treated + shock).astype(float)
    return pd.DataFrame({"arm": np.where(treated, "pilot", "control"), "y": y, "office": c})


def test_robust_se_matches_two_proportions_formula():
    rng = np.random.default_rng(3)
    df = frame(rng, 4000, 0.05)
    e = itt(df, "y")
    g = df.groupby("arm")["y"]
    p, n = g.mean(), g.size()
    neyman = np.sqrt((p * (1 - p) / (n - 1)).sum())  # HC2 equals the Neyman variance for a binary arm
    assert abs(e.estimate - (p["pilot"] - p["control"])) < 1e-12
    assert abs(e.se - neyman) < 1e-9
    assert e.ci_low < e.estimate < e.ci_high


def test_the_individual_design_s_difference_is_statsmodels_hc2_least_squares():
    """The two-arm shortcut gives statsmodels' OLS with HC2 and the normal test: estimate, SE, interval
    and p-value to rounding, over binary and continuous outcomes, unequal arms and alpha 0.05 and 0.1."""
    from scipy import stats
    from statsmodels.regression.linear_model import OLS

    rng = np.random.default_rng(8)
    for i in range(60):
        n = int(rng.integers(20, 8000))
        treated = rng.random(n) < rng.uniform(0.1, 0.9)
        y = (rng.random(n) < rng.uniform(0.05, 0.9)).astype(float) if i % 2 else rng.normal(size=n)
        alpha = (0.05, 0.1)[i % 3 == 0]
        df = pd.DataFrame({"arm": np.where(treated, "pilot", "control"), "y": y})
        e = itt(df, "y", alpha=alpha)
        fit = OLS(y, np.column_stack([np.ones(n), treated.astype(float)])).fit(cov_type="HC2")
        b, se = fit.params[1], fit.bse[1]
        z = stats.norm.ppf(1 - alpha / 2)
        assert e.estimate == pytest.approx(b, rel=1e-9, abs=1e-15)
        assert e.se == pytest.approx(se, rel=1e-12)
        assert (e.ci_low, e.ci_high) == pytest.approx((b - z * se, b + z * se), rel=1e-9, abs=1e-15)
        assert e.p_value == pytest.approx(2 * stats.norm.sf(abs(b / se)), rel=1e-9, abs=1e-300)
        assert (e.test, e.n, e.clusters) == ("hc2", n, None)


def test_cluster_robust_intervals_cover_under_clustered_assignment():
    # 300 simulated pilots with office-level shocks: a 95 % interval should cover the true 0.05 about
    # 95 % of the time; the binomial SD of coverage over 300 is 1.3 pp, so 89 % is 4.6 SD below 95 %.
    rng = np.random.default_rng(5)
    cover_cluster, cover_naive = [], []
    for _ in range(300):
        df = frame(rng, 2000, 0.05, cluster_sd=0.08, clusters=40)
        c, naive = itt(df, "y", cluster="office"), itt(df, "y")
        cover_cluster.append(c.ci_low <= 0.05 <= c.ci_high)
        cover_naive.append(naive.ci_low <= 0.05 <= naive.ci_high)
    assert np.mean(cover_cluster) > 0.89
    assert np.mean(cover_naive) < 0.85  # ignoring the clusters is overconfident here


def test_did_recovers_the_interaction_not_the_area_gap_or_the_trend():
    # an area gap of 5 pp, a time trend of 8 pp and a pilot effect of 3 pp: the DiD estimate is the 3 pp
    # within 3 SE, and its interval is wider than ignoring the 20 office clusters would make it
    from labsim.results.estimate import did

    rng = np.random.default_rng(11)
    n = 40_000
    office = rng.integers(0, 20, n)
    area = office < 10
    after = rng.random(n) < 0.5
    p = 0.3 + 0.05 * area + 0.08 * after + 0.03 * (area & after) + rng.normal(0, 0.01, 20)[office]
    df = pd.DataFrame({"arm": np.where(area, "pilot", "control"), "before_pilot": ~after,
                       "y": (rng.random(n) < p).astype(float), "office": office})
    e = did(df, "y")
    assert abs(e.estimate - 0.03) < 3 * e.se
    assert e.clusters == 20 and e.ci_low < 0.03 < e.ci_high


def _null_offices(rng, offices=6, per_office=100):
    """No effect; offices differ (ICC about 0.01); half the offices in each arm."""
    c = np.repeat(np.arange(offices), per_office)
    treated = np.isin(c, rng.permutation(offices)[: offices // 2])
    p = 0.3 + rng.normal(0, 0.05, offices)[c]
    y = (rng.random(c.size) < p).astype(float)
    return pd.DataFrame({"arm": np.where(treated, "pilot", "control"), "y": y, "office": c})


def test_few_clusters_reject_near_alpha_with_t_of_g_minus_1_and_the_wild_bootstrap():
    """6 offices (3 per arm), no effect, 1,000 pilots: t(G-1) rejects about 8 % of the time, the wild
    cluster bootstrap about 8 % (docs/evaluation.md); a normal reference would reject about 16 %. With
    rate ~0.08 the binomial SE over 1,000 is 0.9 pp, so 0.11 is 3 SE above it and 5 SE below 0.16."""
    rng = np.random.default_rng(11)
    t_rej, wild_rej = [], []
    for _ in range(1000):
        df = _null_offices(rng)
        t_rej.append(itt(df, "y", cluster="office", test="t").p_value < 0.05)
        wild = itt(df, "y", cluster="office", seed=len(t_rej))  # "auto": 6 clusters are below WILD_BELOW
        wild_rej.append(wild.p_value < 0.05)
        assert (wild.ci_low > 0 or wild.ci_high < 0) == (wild.p_value < 0.05) or abs(wild.p_value - 0.05) < 0.01
    assert 0.02 < np.mean(t_rej) < 0.11, np.mean(t_rej)
    assert 0.02 < np.mean(wild_rej) < 0.11, np.mean(wild_rej)


def test_wild_bootstrap_t_equals_refitting_each_draw():
    """The per-cluster shortcut gives the t statistic of least squares refitted on each bootstrap
    outcome (fitted values under the null plus residuals times the cluster's Webb weight)."""
    import statsmodels.api as sm

    from labsim.results.estimate import webb_weights, wild_cluster_t

    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(6), 50)
    area, after = (g < 3).astype(float), (rng.random(g.size) < 0.5).astype(float)
    x = np.column_stack([np.ones_like(area), area, after, area * after])
    y = (rng.random(g.size) < 0.3).astype(float)
    w = webb_weights(6, seed=3, draws=3)
    xr = x[:, [0, 1, 2]]
    for null in (0.0, 0.04):  # the null coefficient imposed: its t statistics are (b* - null) / se*
        t = wild_cluster_t(y, x, 3, g, w, null)
        y0 = y - null * x[:, 3]
        fitted = xr @ np.linalg.lstsq(xr, y0, rcond=None)[0] + null * x[:, 3]
        for d in range(3):
            fit = sm.OLS(fitted + w[d][g] * (y - fitted), x).fit(cov_type="cluster", cov_kwds={"groups": g})
            assert t[d] == pytest.approx((fit.params[3] - null) / fit.bse[3], rel=1e-9)


def test_the_adjusted_reader_gives_adjusted_itts_figures_and_the_codes_the_same_indicators():
    """The page's re-reading under the adjusted estimator (results/adjusted.py: one design matrix for the
    outcomes observed for the same people; indicators from a categorical's codes) gives exactly what
    adjusted_itt gives with indicators made from the levels' text, as before."""
    import pandas as pd

    from labsim.results.adjusted import adjusted_itt, adjusted_reader, covariate_matrix

    rng = np.random.default_rng(8)
    n = 600
    ind = pd.DataFrame({
        "arm": pd.Categorical(rng.choice(["control", "pilot"], n)),
        "age_group": pd.Categorical(rng.choice(["under_25", "age_25_54", "over_55"], n),
                                    categories=["under_25", "age_25_54", "over_55", "unused"]),
        "education": pd.Categorical(rng.choice(["tertiary", "basic", "secondary"], n)),
        "weeks_unemployed_at_assignment": rng.integers(13, 27, n),
        "sector": pd.Categorical(rng.choice(["services", "ict", "other"], n)),
    })
    ind["y"] = (rng.uniform(size=n) < 0.3 + 0.1 * (ind["arm"] == "pilot")).astype(float)
    ind["y2"] = ind["y"] * rng.integers(0, 2, n)
    ind["late"] = ind["y"].where(rng.uniform(size=n) < 0.7)
    as_text = ind.assign(**{c: ind[c].astype(str).astype(object) for c in ("age_group", "education", "sector")})
    np.testing.assert_array_equal(covariate_matrix(ind), covariate_matrix(as_text))
    read = adjusted_reader(ind, 0.1)
    for col in ("y", "late", "y2", "y"):
        assert read(col, True) == adjusted_itt(as_text, col, alpha=0.1)
