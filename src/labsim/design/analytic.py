"""The classical sample-size arithmetic a planner would do by hand, printed beside the simulated answer.

Two proportions (Cohen's h with the normal approximation, statsmodels, imported when used), the design
effect of cluster randomisation, DEFF = 1 + ((1 + CV^2) m - 1) ICC for mean cluster size m and coefficient
of variation CV of cluster sizes, and the one-way intra-cluster correlation. Take-up dilution needs no formula of its
own: the ITT used here is already the diluted effect (ITT = take-up difference x effect on participants).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np


def pilot_arm_needed(control_rate: float, itt: float, alpha: float, power: float, ratio: float = 1.0) -> float:
    """People needed in the pilot arm (the control arm is `ratio` times as large) to detect `itt` on a
    share `control_rate` with a two-sided test; inf when there is no positive effect to detect."""
    treated_rate = min(max(control_rate + itt, 1e-9), 1 - 1e-9)
    if not np.isfinite(itt) or itt <= 0 or not 0 < control_rate < 1:
        return math.inf
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = proportion_effectsize(treated_rate, control_rate)
    return float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio))


def two_proportion_power(control_rate: float, itt: float, n_pilot: float, n_control: float, alpha: float,
                         cdf: Callable[[np.ndarray], np.ndarray] | None = None) -> float:
    """Power of the two-sided two-proportion test for arms of these sizes (statsmodels'). With `cdf`, a
    normal CDF such as `power_fit.normal_cdf`, the same normal approximation written out, within 1e-13 of
    statsmodels' and without importing it or scipy: for a chart."""
    if n_pilot < 2 or n_control < 2 or not np.isfinite(itt):
        return float("nan")
    treated_rate = min(max(control_rate + itt, 1e-9), 1 - 1e-9)
    control = min(max(control_rate, 1e-9), 1 - 1e-9)
    if cdf is not None:  # Cohen's h over the SE of the two arms: P(|z| > crit)
        d = 2 * (math.asin(math.sqrt(treated_rate)) - math.asin(math.sqrt(control))) \
            * math.sqrt(1 / (1 / n_pilot + 1 / n_control))
        crit = NormalDist().inv_cdf(1 - alpha / 2)
        return float(cdf(np.array([d - crit, -crit - d])).sum())
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = proportion_effectsize(treated_rate, control)
    return float(NormalIndPower().power(effect_size=h, nobs1=n_pilot, alpha=alpha, ratio=n_control / n_pilot))


def normal_power(m: np.ndarray, s: np.ndarray, z: float) -> np.ndarray:
    """Power of a two-sided z test at critical value `z` for an effect `m` with standard error `s`,
    Phi(|m| / s - z) (the far tail left out). A zero SE (a tiny pilot whose arms all end alike) rejects
    any nonzero estimate and not 0; NaN stays NaN."""
    from scipy.special import ndtr  # norm.cdf's own function

    m, s = np.asarray(m, float), np.asarray(s, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        power = ndtr(np.abs(m) / s - z)
    return np.where(s == 0, np.where(np.isnan(m), np.nan, (m != 0).astype(float)), power)


def design_effect(mean_cluster_size: float, icc: float, cv: float = 0.0) -> float:
    """Variance inflation of a cluster-randomised design over an individual one."""
    return 1.0 + ((1.0 + cv**2) * mean_cluster_size - 1.0) * max(icc, 0.0)
