"""What a compiled network's synapses occupy: bytes per pathway, from the arrays a backend holds.

Counted from the program's own arrays (`kernel.Arrays.pathways`, and the synapse
states and last-update steps of `kernel.Carry`), not from a formula, so that a
change of layout shows up here: the bound of docs/decisions.md ("A static
synapse is 12 bytes") is tested against these figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from brainsim.network import HostNetwork


@dataclass(frozen=True, slots=True)
class PathwayMemory:
    """The arrays of one pathway: `bytes` in all (per-synapse arrays, the CSR row
    pointers and layout, the synapse states), for `synapses` synapses of the
    projections `projections`; `plastic` pathways also hold presynaptic indices
    and a column view."""

    projections: tuple[str, ...]
    synapses: int
    bytes: int
    plastic: bool

    @property
    def per_synapse(self) -> float:
        """Bytes per synapse, everything the pathway holds included."""
        return self.bytes / max(1, self.synapses)


def synapse_memory(host: HostNetwork, arrays, carry) -> tuple[PathwayMemory, ...]:
    """Each pathway's memory in `arrays` (a `kernel.Arrays`) and `carry` (a `kernel.Carry`), in pathway order."""
    names = [p.name for p in host.network.projections]
    return tuple(
        PathwayMemory(
            projections=tuple(names[j] for j in pathway.projections),
            synapses=pathway.n_synapses,
            bytes=_nbytes(arrays.pathways[c]) + _nbytes(carry.synapses[c]) + _nbytes(carry.updated[c]),
            plastic=pathway.plastic,
        )
        for c, pathway in enumerate(host.pathways)
    )


def _nbytes(tree) -> int:
    """The bytes of every array in a tree of tuples and dicts (scalars count too; None is nothing)."""
    match tree:
        case None:
            return 0
        case dict():
            return sum(_nbytes(v) for v in tree.values())
        case tuple():
            return sum(_nbytes(v) for v in tree)
    return int(tree.nbytes)
