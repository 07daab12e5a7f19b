"""The classical sample-size arithmetic a planner would do by hand, printed beside the simulated answer.

Two proportions (Cohen's h with the normal approximation, statsmodels), the design effect of cluster
randomisation, DEFF = 1 + ((1 + CV^2) m - 1) ICC for mean cluster size m and coefficient of variation CV
of cluster sizes, and the one-way intra-cluster correlation. Take-up dilution needs no formula of its
own: the ITT used here is already the diluted effect (ITT = take-up difference x effect on participants).
"""

from __future__ import annotations

import math

import numpy as np
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize


def pilot_arm_needed(control_rate: float, itt: float, alpha: float, power: float, ratio: float = 1.0) -> float:
    """People needed in the pilot arm (the control arm is `ratio` times as large) to detect `itt` on a
    share `control_rate` with a two-sided test; inf when there is no positive effect to detect."""
    treated_rate = min(max(control_rate + itt, 1e-9), 1 - 1e-9)
    if not np.isfinite(itt) or itt <= 0 or not 0 < control_rate < 1:
        return math.inf
    h = proportion_effectsize(treated_rate, control_rate)
    return float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=ratio))


def two_proportion_power(control_rate: float, itt: float, n_pilot: float, n_control: float, alpha: float) -> float:
    """Power of the two-sided two-proportion test for arms of these sizes."""
    if n_pilot < 2 or n_control < 2 or not np.isfinite(itt):
        return float("nan")
    treated_rate = min(max(control_rate + itt, 1e-9), 1 - 1e-9)
    h = proportion_effectsize(treated_rate, min(max(control_rate, 1e-9), 1 - 1e-9))
    return float(NormalIndPower().power(effect_size=h, nobs1=n_pilot, alpha=alpha, ratio=n_control / n_pilot))


def design_effect(mean_cluster_size: float, icc: float, cv: float = 0.0) -> float:
    """Variance inflation of a cluster-randomised design over an individual one."""
    return 1.0 + ((1.0 + cv**2) * mean_cluster_size - 1.0) * max(icc, 0.0)
