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


#: A tiny world for the page's and the engines' benchmarks (structure only, no timing).
TINY_PAGE = {"area.job_seekers": 1500, "area.burn_in_weeks": 8, "weeks": 40, "referral.mode": "mandatory",
             "referral.target_participants": 100, "referral.intake_weeks": 20, "pilot.end_week": 40}


def test_page_answer_benchmark_counts_what_each_lever_simulates():
    """benchmarks.page_answer asks the page's question, then moves each lever alone in one session: alpha
    re-reads the pilots kept (nothing new), the estimator re-reads them too (fewer new pilots than the
    first answer), a world lever runs new ones."""
    import json

    from benchmarks.page_answer import session
    from labsim.app.quick_size import quick_settings

    lines = []
    rows = session("baseline", quick_settings(1), [f"{k}={json.dumps(v)}" for k, v in TINY_PAGE.items()],
                   ["alpha 0.10", "estimator adjusted", "effect x1.25"], in_process=True, say=lines.append)
    assert [r["lever"] for r in rows] == ["first answer", "alpha 0.10", "estimator adjusted", "effect x1.25"]
    first, alpha, estimator, effect = (r["new_pilots"] for r in rows)
    assert first > 0 and alpha == 0 and estimator < first and effect > 0, rows
    assert all(r["seconds"] > 0 for r in rows) and len(lines) == 4 and "new pilots" in lines[0]


def test_engines_benchmark_pairs_dask_with_local_and_checks_the_answers():
    import pytest

    pytest.importorskip("distributed")
    from benchmarks.engines import rounds

    out = rounds("baseline", 1, True, 2, [f"{k}={v}" for k, v in TINY_PAGE.items()], say=lambda line: None)
    assert out["identical"] and len(out["ratio"]) == 1 and out["ratio"][0] > 0
    assert out["median_ratio"] == out["seconds"]["local"][0] / out["seconds"]["dask"][0]


def test_whole_answer_benchmark_reads_the_answer_and_its_pilots():
    """benchmarks.whole_answer runs `labsim size` in a fresh process and reads its pilots by part (they
    add up to the answer's total) and its N*; the busy CPU it reports is the machine's own reading."""
    from benchmarks.whole_answer import answer, busy_cpu, line
    from test_golden import COMMANDS

    size_options = COMMANDS["size"][0][2:]  # the golden size question on a tiny world
    r = answer("baseline", 1, size_options)
    assert r["pilots"] == sum(r["parts"].values()) > 0 and r["parts"]["central"] > 0
    assert r["minimum"]["low"] <= r["minimum"]["n_star"] <= r["minimum"]["high"]
    assert r["seconds"] > 0 and busy_cpu() > 0 and "pilots (central" in line(r)


def test_variance_reduction_benchmark_measures_both_correlations_with_intervals():
    """benchmarks.variance_reduction pairs each pilot with its zero-help twin (same replications, in order)
    and reads the plain and adjusted estimates of the same pilot: two correlations, each inside its Fisher
    interval, and the share of noise removed is r squared."""
    from benchmarks.variance_reduction import correlation, measure

    out = measure("baseline", 100, 8, 1, [f"{k}={v}" for k, v in TINY_PAGE.items()])
    for c in (out["twin"], out["adjusted"]):
        assert -1 <= c["low"] < c["r"] < c["high"] <= 1 and c["removed"] == c["r"] ** 2
        assert c["removed_low"] <= c["removed"] <= c["removed_high"]
    x = np.arange(20.0)
    same = correlation(x, 2 * x + 1)
    assert abs(same["r"] - 1.0) < 1e-12 and same["high"] <= 1 and same["low"] > 0.99
