"""The ITT estimator: robust and cluster-robust standard errors behave as their theory says."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
