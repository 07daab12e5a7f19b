"""The benchmark harness runs: its numpy reference loop and a tiny model (structure only, no timing)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run import bench_step_quick, reference_loop  # noqa: E402


def test_reference_loop_keeps_states_valid():
    state = reference_loop(500, 5, seed=1)
    assert state.shape == (500,)
    assert set(np.unique(state)) <= {0, 1}
    np.testing.assert_array_equal(state, reference_loop(500, 5, seed=1))


def test_quick_step_benchmark_reports_both_costs():
    out = bench_step_quick(None)  # defaults scenario, 2,000 seekers, a few weeks
    assert out["seekers"] == 2000
    assert set(out) >= {"model_ns", "reference_ns", "ratio"}
    assert np.isfinite(out["model_ns"]) and np.isfinite(out["reference_ns"])
