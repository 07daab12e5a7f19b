"""The samplers: where a study puts its points over ranges, apart from the model that runs them (EMA
Workbench's sampler/model split). Each returns points in the unit cube, a row per point and a column per
range, except the Morris and one-at-a-time designs, which are read in the ranges' own units.

- `latin_hypercube`: one point in each of n equal slices of every range (experiments' ranges, the
  evidence's batches of pilots);
- `sobol`: scrambled Sobol, a low-discrepancy sample (the points the assurance averages over);
- `halton`: scrambled Halton (the calibration's start over its bounds);
- `morris`: Morris trajectories through a grid (SALib; `labsim sensitivity --method morris`);
- `one_at_a_time`: the central point, then each range at its low and high end with the others central
  (`labsim sensitivity --method oat`, a tornado).

All take a numpy Generator (or what `np.random.default_rng` accepts), so the same seed gives the same
points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def latin_hypercube(d: int, n: int, rng: Any) -> np.ndarray:
    """n points of a Latin hypercube in d dimensions (scipy.stats.qmc)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, rng=np.random.default_rng(rng)).random(n)


def sobol(d: int, n: int, rng: Any) -> np.ndarray:
    """The first n points of a scrambled Sobol sequence in d dimensions (n a power of 2 keeps its balance)."""
    from scipy.stats import qmc

    return qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(rng)).random(n)


def halton(d: int, n: int, rng: Any) -> np.ndarray:
    """The first n points of a scrambled Halton sequence in d dimensions."""
    from scipy.stats import qmc

    return qmc.Halton(d, scramble=True, rng=np.random.default_rng(rng)).random(n)


def morris(bounds: Sequence[tuple[float, float]], trajectories: int, levels: int, seed: int) -> np.ndarray:
    """Morris trajectories over the bounds, in their units: (d + 1) points each, moving one range at a
    time on a grid of `levels` levels (SALib's `morris.sample`)."""
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": len(bounds), "names": [f"x{i}" for i in range(len(bounds))],
               "bounds": [[low, high] for low, high in bounds]}
    return morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)


def one_at_a_time(central: Sequence[float], bounds: Sequence[tuple[float, float]]) -> np.ndarray:
    """The central point, then for each range its low and its high end with the others central."""
    middle = np.asarray(central, float)
    rows = [middle]
    for i, ends in enumerate(bounds):
        for end in ends:
            row = middle.copy()
            row[i] = end
            rows.append(row)
    return np.array(rows)
