"""Tests written to kill mutants that survived `bash scripts/mutation.sh` (docs/testing.md lists them):
each pins one piece of the statistical core's arithmetic against an independent computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from labsim.results.estimate import itt


def _two_arms(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "pilot", "control")
    y = rng.random(n) < np.where(arm == "pilot", 0.45, 0.35)
    return pd.DataFrame({"arm": arm, "y": y.astype(float)})


def test_individual_interval_and_p_value_are_the_normal_ones_at_the_asked_alpha():
    df = _two_arms()
    e = itt(df, "y", alpha=0.1)
    z = stats.norm.ppf(0.95)
    assert e.ci_low == pytest.approx(e.estimate - z * e.se)
    assert e.ci_high == pytest.approx(e.estimate + z * e.se)
    assert e.p_value == pytest.approx(2 * stats.norm.sf(abs(e.estimate / e.se)))
    assert e.n == len(df) and e.clusters is None
