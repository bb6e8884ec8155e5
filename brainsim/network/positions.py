"""Where each neuron of a population is: the host computation of its position rule.

`positions(population, seed)` is the one place positions are made; the
per-neuron formulas (`brainsim.network.values`) and the pair expressions of
connectivity read them. A population without a position rule sits at the
origin: every neuron at (0, 0, 0).
"""

from __future__ import annotations

import numpy as np

from brainsim import ir
from brainsim.network.keys import POSITIONS, host_key


def positions(population: ir.Population, seed: int) -> np.ndarray:
    """The (x, y, z) of every neuron of `population`, in m, as an array of shape (size, 3);
    a random rule draws from the generator keyed by its name (`keys.POSITIONS`)."""
    size = population.size
    match population.positions:
        case None:
            return np.zeros((size, 3))
        case ir.Grid(shape, spacing, origin):
            # x fastest: neuron k sits at the multi-index unravel(k) of the reversed shape.
            counts = tuple(shape) + (1,) * (3 - len(shape))
            z, y, x = np.unravel_index(np.arange(size), counts[::-1])
            return np.stack([x, y, z], axis=1) * spacing + np.asarray(origin)
        case ir.RandomBox(low, high):
            return np.random.default_rng(host_key(seed, POSITIONS, population.name)).uniform(low, high, (size, 3))
        case ir.Placed(points):
            return np.array(points, dtype=np.float64).reshape(size, 3)
    raise TypeError(f"not a position rule: {population.positions!r}")
