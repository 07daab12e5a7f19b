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


def test_sweep_benchmark_times_one_and_two_workers():
    from benchmarks.run import BASELINE, bench_sweep

    out = bench_sweep(BASELINE, 1, ["area.job_seekers=1000", "area.burn_in_weeks=2", "weeks=4"], 1, 10_000)
    assert out["runs"] == 2  # two points, one replication each
    assert out["seconds_1"] > 0 and out["seconds_2"] > 0
    assert out["speedup"] == out["seconds_1"] / out["seconds_2"] and len(out["ceiling_range"]) == 2


def test_step_profile_times_each_mechanism():
    from benchmarks.step_profile import profile

    shares = profile(weeks=3, seeds=1, with_cprofile=False, seekers=1_000)
    assert {"_hire", "_count", "_search_weight", "entry_chance", "datacollector"} <= set(shares)
    assert all(s > 0 for s in shares.values()) and shares["_search_weight"] < shares["_hire"]


def test_plan_benchmark_is_issue_27s_plan():
    """benchmarks.plan runs `labsim plan` on fi_2019 over 2 referral rules x 3 payment models x 2 designs x
    2 estimators (24 candidates), at reduced precision only when asked."""
    from benchmarks.plan import REDUCED, command

    from labsim.design.plan import candidates, parse_levers

    full, reduced = command(False, False, Path("out")), command(True, True, Path("out"))
    levers = parse_levers([full[i + 1] for i, a in enumerate(full) if a == "--vary"])
    assert len(candidates(levers)) == 24 and "fi_2019_growth_services" in full
    assert not set(REDUCED) & {"--probe", "--frontier"} & set(full) and reduced[-len(REDUCED) - 1:-1] == REDUCED
    assert full[-1] == "--force" and reduced[-1] == "--resume"
