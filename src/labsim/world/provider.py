"""A provider's weekly choice of counselling effort for each client, under its contract.

For every client the provider picks the effort level e that maximises

    p(e) · V + q · e · F − c(e),   p(e) = 1 − exp(−r · w · (1 + k · e)),   c(e) = c0 + c1 · e

where r is last week's job-finding rate per unit of search in the client's market (plus the provider's
employer network), w the client's search effort times the employability the provider observes (the true
one times lognormal noise), k the effect of effort on search, V the contract's expected payment for a job
start for the client's group, q the weekly chance of a training or work-trial referral at full effort and
F the progress fee (until paid). Levels below the contract's service norm are not allowed. Nothing says
"favour the easy": with outcome pay, p(e)·V grows fastest with effort for the most employable, so effort
goes to them (cream-skimming) and the hardest get the minimum (parking); with a fixed fee there is no
marginal payment and everyone gets the service norm.
"""

from __future__ import annotations

import numpy as np

def effort_levels(grid: list[float], service_norm: float) -> np.ndarray:
    """The levels open under a contract: the provider's grid (`providers.effort_levels`, 0 = the least
    the contract allows, 1 = intensive), with everything below the norm raised to it."""
    return np.unique(np.maximum(np.asarray(grid, float), service_norm))


def choose_effort(
    rate: np.ndarray,
    search: np.ndarray,
    job_value: np.ndarray,
    progress_value: np.ndarray,
    *,
    levels: np.ndarray,
    effort_effect: float,
    progress_rate: float,
    effort_cost: float,
) -> np.ndarray:
    """Expected-profit-maximising effort for each client among `levels` (all arrays are per client)."""
    gain = weekly_gain(rate, search, job_value, progress_value, levels, effort_effect, progress_rate, effort_cost)
    return levels[np.argmax(gain, axis=0)]


def weekly_gain(rate, search, job_value, progress_value, levels, effort_effect, progress_rate, effort_cost):
    """Expected payment less effort cost, per effort level (rows) and client (columns).

    Laid out level by level so that each operation runs along the clients (along a handful of levels,
    numpy's cost per row was most of the choice's time); p V is taken as -(expm1(-x) V), the same
    floats as -expm1(-x) times V.
    """
    minus_p_value = np.multiply.outer(1.0 + effort_effect * levels, -(rate * search))  # -x, x = r w (1 + k e)
    np.expm1(minus_p_value, out=minus_p_value)
    minus_p_value *= job_value
    gain = np.multiply.outer(progress_rate * levels, progress_value)
    gain -= minus_p_value
    gain -= (effort_cost * levels)[:, None]
    return gain


def value_of_client(
    rate: np.ndarray,
    search: np.ndarray,
    job_value: np.ndarray,
    progress_value: np.ndarray,
    *,
    levels: np.ndarray,
    attachment_fee: float,
    weeks: int,
    running_cost: float,
    effort_effect: float,
    progress_rate: float,
    effort_cost: float,
) -> np.ndarray:
    """Expected profit of taking a client on, used when a provider recruits: the attachment fee plus,
    at the best effort, each week's gain less running cost for as long as the client is expected to
    stay (up to `weeks`, shortened by the chance p of placement each week: (1 - (1 - p)^weeks) / p)."""
    gain = weekly_gain(rate, search, job_value, progress_value, levels, effort_effect, progress_rate, effort_cost)
    best = np.argmax(gain, axis=0)
    p = -np.expm1(-rate * search * (1.0 + effort_effect * levels[best]))
    expected_weeks = np.where(p > 0, -np.expm1(weeks * np.log1p(-np.minimum(p, 1 - 1e-12))) / np.maximum(p, 1e-12), weeks)
    return attachment_fee + expected_weeks * (gain[best, np.arange(best.size)] - running_cost)
