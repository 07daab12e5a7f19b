"""Burned-in worlds kept in each worker process, so that a search burns in each world once.

A size search runs all its batches in the reference batch's worlds (each pilot with a seed of its own,
the world with a seed of its own: `PilotJob.world`), and replication r at every size, assumption and
counterfactual kind with the same seeds (common random numbers); a diagnosis runs the no-pilot and
roll-out worlds with the pilot's seed. The world at week 0 depends only on the scenario's world sections
and the world's seed (`labsim.world.burn_in`), so the first pilot in a world keeps a copy of it here and
later pilots start from a copy of that: the same numbers as burning it in again, without the cost. Each
worker process has its own cache (at most `LIMIT_BYTES` of arrays, the least recently used world dropped
first), so with W workers a world is burned in at most W times, and once where each task goes to the
worker that holds its world (`sweep.runner.Task.home`, on local processes).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from labsim.config.scenario import Scenario
from labsim.world.burn_in import BurnedIn, world_key
from labsim.world.model import PilotModel

#: Arrays of burned-in worlds one process keeps (a 60,000-seeker world holds about 6 MB).
LIMIT_BYTES = 400 * 2**20

_worlds: OrderedDict[tuple, BurnedIn] = OrderedDict()
stats = {"hits": 0, "misses": 0}


def pilot_model(scenario: Scenario, seed: np.random.SeedSequence,
                world_seed: np.random.SeedSequence | None = None) -> PilotModel:
    """`PilotModel(scenario, rng=seed, world=world_seed)`, started from this process's copy of its world
    when there is one (the world of `world_seed`, or of `seed` when world and pilot share it)."""
    drawn_from = seed if world_seed is None else world_seed
    key = (world_key(scenario), drawn_from.entropy, tuple(drawn_from.spawn_key), world_seed is None)
    world = _worlds.get(key)
    if world is not None:
        _worlds.move_to_end(key)
        stats["hits"] += 1
        return PilotModel(scenario, rng=seed, world=world_seed, burned_in=world)
    stats["misses"] += 1
    model = PilotModel(scenario, rng=seed, world=world_seed, keep_world=True)
    world, model.world_at_start = model.world_at_start, None
    _worlds[key] = world
    while sum(w.nbytes() for w in _worlds.values()) > LIMIT_BYTES and len(_worlds) > 1:
        _worlds.popitem(last=False)
    return model


def clear() -> None:
    """Forget every kept world (tests; a process that moves on to other scenarios)."""
    _worlds.clear()
    stats.update(hits=0, misses=0)
