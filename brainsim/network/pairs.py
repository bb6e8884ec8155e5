"""Pair expressions on the host: what a connection probability, a condition or a
per-synapse formula sees, evaluated once in numpy.

A pair expression reads the names of `ir.PAIR_NAMES` (the presynaptic index
`i`, the postsynaptic index `j`, the two population sizes, both positions and
their `distance`) and the synapse's own parameters. The host evaluates it in
numpy before any backend runs, so both backends start from the very same
synapses, weights and delays; `brainsim.network.values` evaluates it, with
`Pairs` as the environment. All pairs of a 10^4 x 10^4 projection are never
held at once: `PairSpace.blocks` walks the presynaptic neurons in blocks of at
most `BLOCK_PAIRS` pairs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from brainsim import ir
from brainsim.network.positions import positions
from brainsim.network.values import compute

BLOCK_PAIRS = 2**20
"""Pairs per block of presynaptic neurons: a few tens of MB per name an expression reads."""

@dataclass(frozen=True, eq=False)
class PairSpace:
    """The neurons a projection joins: sizes, positions (m) and the synapse's parameters."""

    n_pre: int
    n_post: int
    pre_positions: np.ndarray
    post_positions: np.ndarray
    parameters: Mapping[str, float]

    def pairs(self, pre: np.ndarray, post: np.ndarray) -> "Pairs":
        """The names a pair expression reads, for the pairs (pre[k], post[k])."""
        return Pairs(self, pre, post)

    def row(self, i: int) -> "Pairs":
        """Presynaptic neuron `i` with every postsynaptic neuron, in order."""
        return self.pairs(np.full(self.n_post, i), np.arange(self.n_post))

    def column(self, j: int) -> "Pairs":
        """Every presynaptic neuron, in order, with postsynaptic neuron `j`."""
        return self.pairs(np.arange(self.n_pre), np.full(self.n_pre, j))

    def blocks(self) -> Iterator["Pairs"]:
        """Every pair, sorted by pre then post, in blocks of whole rows of at most
        `BLOCK_PAIRS` pairs (at least one row)."""
        rows = max(1, BLOCK_PAIRS // max(self.n_post, 1))
        for start in range(0, self.n_pre, rows):
            stop = min(start + rows, self.n_pre)
            pre, post = np.divmod(np.arange(start * self.n_post, stop * self.n_post, dtype=np.int64), self.n_post)
            yield self.pairs(pre, post)


def pair_space(network: ir.Network, projection: ir.Projection) -> PairSpace:
    """The pair space of `projection`: its two populations' positions and its synapse's parameters."""
    source, target = network.population(projection.source), network.population(projection.target)
    seed = network.simulation.seed
    return PairSpace(
        n_pre=source.size,
        n_post=target.size,
        pre_positions=positions(source, seed),
        post_positions=positions(target, seed),
        parameters={p.name: p.value for p in projection.synapse.parameters if isinstance(p.value, float)},
    )


class Pairs(Mapping):
    """The environment of a pair expression over the pairs (pre[k], post[k]): each
    name's array is computed when first read, so an expression pays only for what it reads."""

    def __init__(self, space: PairSpace, pre: np.ndarray, post: np.ndarray):
        self.space, self.pre, self.post = space, pre, post
        self._arrays: dict[str, "float | np.ndarray"] = {}

    def __len__(self) -> int:
        return len(ir.PAIR_NAMES) + len(self.space.parameters)

    def __iter__(self) -> Iterator[str]:
        yield from ir.PAIR_NAMES
        yield from self.space.parameters

    def __getitem__(self, name: str):
        if name not in self._arrays:
            self._arrays[name] = self._array(name)
        return self._arrays[name]

    def _array(self, name: str):
        space = self.space
        axes = {"x": 0, "y": 1, "z": 2}
        match name:
            case "i":
                return self.pre.astype(np.float64)
            case "j":
                return self.post.astype(np.float64)
            case "N_pre":
                return float(space.n_pre)
            case "N_post":
                return float(space.n_post)
            case "distance":
                d = space.pre_positions[self.pre] - space.post_positions[self.post]
                return np.sqrt(d[:, 0] ** 2 + d[:, 1] ** 2 + d[:, 2] ** 2)
            case _ if name[:1] in axes and name[1:] == "_pre":
                return space.pre_positions[self.pre, axes[name[0]]]
            case _ if name[:1] in axes and name[1:] == "_post":
                return space.post_positions[self.post, axes[name[0]]]
        return space.parameters[name]

    def compute(self, expr: ir.Expr) -> np.ndarray:
        """`expr` for every pair, as a float64 array (a boolean condition gives 0 and 1)."""
        return compute(expr, self, len(self.pre))
