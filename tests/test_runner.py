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
