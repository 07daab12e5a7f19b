"""One engine for every heavy command (issue 28): the size job, a diagnosis and a sensitivity screen give
the same numbers on a 2-worker Dask LocalCluster as on local processes, for the same seed, since every
pilot's random numbers come from its task's key alone (sweep/runner.py), wherever it runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from labsim.config.errors import LabsimError
from labsim.sweep.runner import executor

from conftest import small_scenario

#: A small world (1,500 seekers, 50 weeks) with an effect large enough to be found in a few pilots.
TINY = ("area.job_seekers=1500", "area.burn_in_weeks=13", "weeks=50", "referral.mode=mandatory",
        "referral.target_participants=100", "referral.intake_weeks=24", "providers.effort_effect=3.0")


def without_seconds(answer: dict) -> dict:
    """An answer as JSON text's values, without the wall time it took."""
    return {k: v for k, v in json.loads(json.dumps(answer, default=str)).items() if k != "seconds"}


@pytest.fixture(scope="module")
def dask_pool():
    pytest.importorskip("distributed")
    with executor("dask", 2) as pool:  # a LocalCluster of 2 single-threaded worker processes
        yield pool


def test_the_whole_size_answer_on_a_dask_cluster_is_the_local_answer(dask_pool):
    from labsim.design.evidence import Range
    from labsim.design.size import SearchSettings
    from labsim.design.size_job import SizeRequest, run_size

    sc = small_scenario(*TINY)
    search = SearchSettings(batch=6, budget=18, type_i_sims=6, horizon=13, seed=5, workers=2, max_size=400)
    request = SizeRequest(search, (Range("providers.effort_effect", 2.0, 3.0, 4.0),))
    local = run_size(sc, request)
    dask = run_size(sc, request, pool=dask_pool)
    assert local.answer.minimum is not None  # a found size: every part of the answer was computed
    assert without_seconds(local.answer.to_json()) == without_seconds(dask.answer.to_json())
    pd.testing.assert_frame_equal(local.rows, dask.rows)


def test_diagnose_and_sensitivity_on_dask_give_the_local_numbers(dask_pool, monkeypatch):
    from labsim.design import diagnose as diagnose_module, sensitivity
    from labsim.design.diagnose import diagnose

    sc = small_scenario(*TINY)
    local, local_rows = diagnose(sc, sims=4, counterfactual_sims=2, horizon=13, seed=3, workers=2)
    # the engine asked reaches the executor: here the module's fixture cluster stands in for a new one
    asked = []

    def on_fixture(engine, workers, scheduler=None):
        asked.append((engine, workers, scheduler))
        from contextlib import nullcontext
        return nullcontext(dask_pool)
    monkeypatch.setattr(diagnose_module, "executor", on_fixture)
    dask, dask_rows = diagnose(sc, sims=4, counterfactual_sims=2, horizon=13, seed=3, workers=2, engine="dask",
                               scheduler="tcp://example:8786")
    assert asked == [("dask", 2, "tcp://example:8786")]
    assert without_seconds(local.to_json()) == without_seconds(dask.to_json())
    pd.testing.assert_frame_equal(local_rows, dask_rows)

    ranges = sensitivity.ranges_to_vary(sc, ["providers.effort_effect=2:4"])
    s = sensitivity.SensitivitySettings(method="oat", sims=3, max_sims=3, horizon=13, seed=3, workers=2)
    base = sensitivity.analyse(sc, ranges, s).to_json()
    monkeypatch.setattr(sensitivity, "executor", on_fixture)
    s.engine = "dask"
    on_dask = sensitivity.analyse(sc, ranges, s).to_json()
    assert asked[-1][0] == "dask"
    assert without_seconds(base) == without_seconds(on_dask)


def test_a_scheduler_without_the_dask_engine_is_refused_on_one_line():
    with pytest.raises(LabsimError, match="--scheduler needs --engine dask"):
        with executor("local", 2, "tcp://10.0.0.1:8786"):
            pass


@pytest.mark.parametrize("command", ["size", "diagnose", "sensitivity", "plan", "calibrate", "sweep"])
def test_every_heavy_command_takes_the_engine_and_the_scheduler(command):
    from labsim.cli import build_parser

    extra = {"calibrate": ["--targets", "x"], "sweep": ["--out", "somewhere"]}.get(command, [])
    args = build_parser().parse_args([command, "baseline", *extra, "--engine", "dask", "--scheduler", "tcp://a:1"])
    assert (args.engine, args.scheduler) == ("dask", "tcp://a:1")


def test_the_scheduler_comes_from_the_environment_when_not_given(monkeypatch):
    distributed = pytest.importorskip("distributed")
    called = []

    def unreachable(address, timeout):  # as distributed.Client does for an address nobody listens at
        called.append(address)
        raise OSError("timed out")
    monkeypatch.setattr(distributed, "Client", unreachable)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")
    with pytest.raises(LabsimError, match="tcp://127.0.0.1:9: cannot reach the Dask scheduler"):
        with executor("dask", 1):
            pass
    with pytest.raises(LabsimError, match="tcp://10.0.0.2:8786: cannot reach"):  # the flag wins
        with executor("dask", 1, "tcp://10.0.0.2:8786"):
            pass
    assert called == ["tcp://127.0.0.1:9", "tcp://10.0.0.2:8786"]


def test_a_local_clusters_workers_keep_glibcs_adaptive_malloc(dask_pool):
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which made numpy-heavy pilots slow
    (docs/performance.md, "One engine"): the local cluster's workers start without it, as local processes
    do, and otherwise with Dask's own settings (one BLAS thread); their answers are the local ones (above)."""
    import os

    from labsim.sweep.runner import DROPPED_WORKER_ENV

    seen = dask_pool._client.run(lambda: {k: os.environ.get(k) for k in (*DROPPED_WORKER_ENV, "OMP_NUM_THREADS")})
    assert len(seen) == 2
    for env in seen.values():
        assert env["MALLOC_TRIM_THRESHOLD_"] == os.environ.get("MALLOC_TRIM_THRESHOLD_")  # this process's, if any
        assert env["MALLOC_TRIM_THRESHOLD_"] is None or env["MALLOC_TRIM_THRESHOLD_"] != "65536"
        assert env["OMP_NUM_THREADS"] == "1"


def test_a_homes_tasks_run_on_one_dask_worker(dask_pool):
    """On a Dask cluster too a task's home sends it to one worker (which keeps that world burned in): every
    task of a home ran in the same process and the homes spread over both workers; tasks without a home
    still run."""
    from labsim.sweep.runner import Task, run_tasks

    from test_runner import where

    homed = [Task((i,), home=i % 6) for i in range(48)]
    by_home: dict[int, set[int]] = {}
    for task, pid in run_tasks(where, homed, root_seed=1, pool=dask_pool):
        by_home.setdefault(task.home, set()).add(pid)
    assert len(by_home) == 6 and all(len(pids) == 1 for pids in by_home.values()), by_home
    assert len(set().union(*by_home.values())) == 2
    loose = [Task((100 + i,)) for i in range(12)]
    assert len(list(run_tasks(where, loose, root_seed=1, pool=dask_pool))) == 12
