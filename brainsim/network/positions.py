"""Where each neuron of a population sits: its position rule computed on the host.

A population without a position rule has every neuron at the origin. The pair
expressions of connectivity (`brainsim.network.pairs`) read these positions.
"""

from __future__ import annotations

import numpy as np

from brainsim import ir


def positions(population: ir.Population, seed: int, index: int) -> np.ndarray:
    """The (x, y, z) of each neuron of `population` (network index `index`), m, shape (size, 3).

    A random rule draws from numpy's generator keyed by [seed, 6, index].
    """
    size = population.size
    match population.positions:
        case None:
            return np.zeros((size, 3))
        case ir.Grid(shape, spacing, origin):
            # x varies fastest: neuron k is at the multi-index of k in the reversed shape.
            full = (*shape, *(1,) * (3 - len(shape)))
            z, y, x = np.unravel_index(np.arange(size), full[::-1])
            return np.stack([x, y, z], axis=1) * spacing + np.asarray(origin, dtype=np.float64)
        case ir.RandomBox(low, high):
            return np.random.default_rng([seed, 6, index]).uniform(low, high, (size, 3))
        case ir.Placed(points):
            return np.asarray(points, dtype=np.float64).reshape(size, 3)
    raise TypeError(f"not a position rule: {population.positions!r}")
