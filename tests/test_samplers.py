"""The samplers (labsim/samplers.py): each design's defining property, and the same seed the same points."""

from __future__ import annotations

import numpy as np
import pytest

from labsim import samplers


@pytest.mark.parametrize("draw", [samplers.latin_hypercube, samplers.sobol, samplers.halton])
def test_unit_samplers_fill_the_cube_and_repeat_with_their_seed(draw):
    points = draw(3, 16, [7, 1])
    assert points.shape == (16, 3) and ((points >= 0) & (points < 1)).all()
    assert np.array_equal(points, draw(3, 16, [7, 1])) and not np.array_equal(points, draw(3, 16, [7, 2]))


def test_latin_hypercube_puts_one_point_in_each_slice_of_every_range():
    points = samplers.latin_hypercube(4, 10, 3)
    for column in points.T:
        assert sorted(np.floor(column * 10).astype(int)) == list(range(10))


def test_one_at_a_time_moves_one_range_to_each_end():
    rows = samplers.one_at_a_time([0.5, 10.0], [(0.2, 1.0), (0.0, 20.0)])
    assert rows.tolist() == [[0.5, 10.0], [0.2, 10.0], [1.0, 10.0], [0.5, 0.0], [0.5, 20.0]]


def test_morris_trajectories_move_one_range_a_step_at_a_time_on_the_grid():
    bounds = [(0.0, 1.0), (100.0, 300.0)]
    points = samplers.morris(bounds, trajectories=5, levels=4, seed=2)
    assert points.shape == (5 * 3, 2)
    for t in points.reshape(5, 3, 2):
        steps = np.diff(t, axis=0)
        assert ((steps != 0).sum(axis=1) == 1).all()  # each step moves exactly one range
    grid = [np.linspace(low, high, 4) for low, high in bounds]
    assert all(np.isclose(points[:, j, None], grid[j]).any(axis=1).all() for j in range(2))
