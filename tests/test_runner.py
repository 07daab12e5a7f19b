"""The replication runner: a task's result depends on the root seed and its key only."""

from __future__ import annotations

import numpy as np

from labsim.sweep.runner import Task, executor, run_tasks, seed_for


def draw(task: Task, seed: np.random.SeedSequence) -> float:
    return float(np.random.default_rng(seed).standard_normal() + task.payload)


def test_results_do_not_depend_on_workers_or_order():
    tasks = [Task((point, rep), payload=point) for point in range(3) for rep in range(4)]
    serial = dict(run_tasks(draw, tasks, root_seed=7))
    with executor("local", workers=2) as pool:
        parallel = dict(run_tasks(draw, reversed(tasks), root_seed=7, pool=pool))
    assert serial == parallel
    assert len(set(serial.values())) == len(tasks)  # every key its own stream


def test_seed_depends_on_root_and_key():
    draws = {
        (root, key): np.random.default_rng(seed_for(root, key)).random()
        for root in (1, 2) for key in ((0, 0), (0, 1), (1, 0))
    }
    assert len(set(draws.values())) == len(draws)
    assert np.random.default_rng(seed_for(1, (0, 1))).random() == draws[(1, (0, 1))]


def test_flat_summary_joins_keys_and_positions():
    from labsim.results.summary import flat_summary

    row = flat_summary({"a": {"b": 1, "c": [2, {"d": None}]}, "e": "x"})
    assert row == {"a.b": 1, "a.c.0": 2, "a.c.1.d": None, "e": "x"}


def where(task: Task, seed: np.random.SeedSequence) -> int:
    import os

    return os.getpid()


def test_tasks_of_one_home_run_on_one_worker_and_the_others_on_both():
    """A task's home sends it to one local worker (which keeps that world burned in): every task of a home
    ran in the same process, the homes spread over both workers, and tasks without a home use both."""
    homed = [Task((i,), home=i % 4) for i in range(40)]
    loose = [Task((100 + i,)) for i in range(40)]
    with executor("local", workers=2) as pool:
        by_home: dict[int, set[int]] = {}
        for task, pid in run_tasks(where, homed, root_seed=1, pool=pool):
            by_home.setdefault(task.home, set()).add(pid)
        free = {pid for _, pid in run_tasks(where, loose, root_seed=1, pool=pool)}
    assert all(len(pids) == 1 for pids in by_home.values()), by_home
    assert len(set().union(*by_home.values())) == 2
    assert len(free) == 2
