"""What a compiled network occupies: bytes by kind and per pathway, from the arrays a backend holds.

Counted from the program's own arrays (`kernel.Arrays` and `kernel.Carry`; for
synapses `kernel.Arrays.pathways` and the synapse states and last-update steps
of the carry), not from a formula, so that a change of layout shows up here:
the bound of docs/decisions.md ("A static synapse is 12 bytes") is tested
against these figures. Only what a run records is estimated ahead of it
(`recording_bytes`), since the spikes are not known before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True, slots=True)
class NetworkMemory:
    """The bytes of a compiled network's arrays by what they hold: neuron `state` (state
    variables, refractory counters), `synapses` per pathway, the ring `buffers` of
    synaptic events, and `other` (parameters, propagators, stimulus tables, spike
    sources, record indices, spike history)."""

    state: int
    synapses: tuple[PathwayMemory, ...]
    buffers: int
    other: int

    @property
    def synapse_bytes(self) -> int:
        return sum(m.bytes for m in self.synapses)

    @property
    def total(self) -> int:
        return self.state + self.synapse_bytes + self.buffers + self.other


def network_memory(host: HostNetwork, arrays, carry) -> NetworkMemory:
    """The memory of `arrays` (a `kernel.Arrays`) and `carry` (a `kernel.Carry`) by kind; the
    kinds add up to every byte of both."""
    synapses = synapse_memory(host, arrays, carry)
    state, buffers = _nbytes(carry.groups), _nbytes(carry.buffers)
    everything = _nbytes(arrays) + _nbytes(carry)
    return NetworkMemory(state, synapses, buffers, everything - state - buffers - sum(m.bytes for m in synapses))


def recording_bytes(host: HostNetwork, n_steps: int, dtype: str = "float64") -> int:
    """The bytes a run of `n_steps` steps from t = 0 records in its `Results`: sampled state
    values and synapse values (in `dtype`; snapshots in float64), each sample with its
    time. Spikes are left out: 16 bytes each (time and index), and only the run knows
    how many."""
    item = np.dtype(dtype).itemsize
    total = sum((n_steps // r.every) * (len(r.indices) * item + 8) for r in host.records)
    for r in host.synapse_records:
        if r.steps is None:
            total += n_steps * (len(r.indices) * item + 8)
        else:
            total += int(np.count_nonzero(r.steps <= n_steps)) * (len(r.indices) * 8 + 8)
    return total


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
