"""Synapses: each projection's connectivity drawn from the seed, and the pathways the step runs.

A `Connectivity` is one projection's synapses in CSR order, as drawn. A
`Pathway` is what the kernel runs: the synapses that carry a source
population's spikes into one target group, in one direction ("pre": a
presynaptic spike acts on the postsynaptic neuron). Projections that share a
source population, a synapse model and a target group (but not a target
population) are merged into one pathway, which halves the work per spike for a
population that projects to several populations of a group (CUBA's exc -> exc
and exc -> inh). Their targets are disjoint, so every target's events are
summed in the same order as unmerged. `Pathway.origin` keeps the permutation
back to each projection's own synapses (plasticity needs it).

Every array is padded here, once, for the step: one sentinel synapse (index
n_synapses) whose target is the group's trash column, and one empty CSR row for
padded spike lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.network.groups import draw

_PIECE = 16  # slots per piece of a row in the static-shape layout (see `Pathway.slots`)


@dataclass(frozen=True, eq=False)
class Connectivity:
    """The synapses of one projection in CSR order (sorted by presynaptic neuron).

    The synapses of presynaptic neuron i (index within the source population) are
    indptr[i] : indptr[i + 1]; `post` is the target's index within the target
    *group*; `delay_steps` are whole steps, at least 1.
    """

    projection: ir.Projection
    source_size: int
    target_group: int
    indptr: np.ndarray
    post: np.ndarray
    delay_steps: np.ndarray
    states: Mapping[str, np.ndarray]

    @property
    def n_synapses(self) -> int:
        return len(self.post)

    @property
    def max_delay(self) -> int:
        return int(self.delay_steps.max(initial=1))


def connect(network: ir.Network, j: int, placement: Mapping[str, tuple[int, int]]) -> Connectivity:
    """Draw the synapses of projection `j`, their initial states and delays, from the seed."""
    projection = network.projections[j]
    seed, dt = network.simulation.seed, network.simulation.dt
    source = network.population(projection.source)
    target = network.population(projection.target)
    self_projection = projection.source == projection.target and not projection.allow_autapses
    pre, post = _pairs(projection.rule, source.size, target.size, self_projection, np.random.default_rng([seed, 1, j]))
    n_synapses = len(pre)
    states = {
        state.name: draw(state.initial, n_synapses, [seed, 2, j, k]) for k, state in enumerate(projection.synapse.states)
    }
    # np.rint rounds halves to even, as `groups.steps` does for scalars.
    delays = np.rint(draw(projection.delay, n_synapses, [seed, 3, j]) / dt).astype(np.int64)
    group, offset = placement[projection.target]
    return Connectivity(
        projection=projection,
        source_size=source.size,
        target_group=group,
        indptr=np.searchsorted(pre, np.arange(source.size + 1)).astype(np.int64),
        post=post + offset,
        delay_steps=delays,
        states=states,
    )


def _pairs(
    rule: ir.ConnectionRule, n_pre: int, n_post: int, no_autapses: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) index arrays of the synapses, sorted by pre then post."""
    match rule:
        case ir.AllToAll():
            flat = np.arange(n_pre * n_post, dtype=np.int64)
        case ir.OneToOne():
            flat = np.arange(n_pre, dtype=np.int64) * (n_post + 1)
        case ir.FixedProbability(p):
            flat = bernoulli_positions(n_pre * n_post, p, rng)
        case _:
            raise TypeError(f"not a connection rule: {rule!r}")
    pre, post = np.divmod(flat, n_post)
    if no_autapses:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


def bernoulli_positions(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """The positions in range(total) kept by independent Bernoulli(p) trials, ascending.

    Drawn as geometric gaps between kept positions, so memory and time scale with
    the number kept, not with `total`.
    """
    if p == 0.0 or total == 0:
        return np.zeros(0, dtype=np.int64)
    if p == 1.0:
        return np.arange(total, dtype=np.int64)
    chunks, last = [], -1
    while last < total:
        expected = (total - last) * p
        gaps = rng.geometric(p, size=int(expected + 5 * np.sqrt(expected) + 16))
        positions = last + np.cumsum(gaps)
        chunks.append(positions[positions < total])
        last = int(positions[-1])
    return np.concatenate(chunks)


# --------------------------------------------------------------------------- pathways


@dataclass(frozen=True, eq=False)
class Pathway:
    """Synapses carrying the spikes of population `source` (network index) to group `target_group`.

    `direction` is "pre" (presynaptic spikes act on postsynaptic variables).
    Arrays are padded for the step: `indptr` has an extra, empty row (len =
    source_size + 2), `post`, `delay_steps` and every state have a sentinel
    synapse at the end (target: the group's trash column). `slots` is the layout
    of the longest row for static-shape backends: pieces of P slots,
    `slots[j, i] = j P + i` (P = 16, or the longest row's power of two if shorter).
    Synapse k of this pathway is synapse `origin[1][k]` of projection
    `projections[origin[0][k]]`.
    """

    direction: str
    synapse: ir.SynapseModel
    projections: tuple[int, ...]
    source: int
    source_size: int
    target_group: int
    indptr: np.ndarray
    post: np.ndarray
    delay_steps: np.ndarray
    uniform_delay: int | None
    states: Mapping[str, np.ndarray]
    origin: tuple[np.ndarray, np.ndarray]
    slots: np.ndarray

    @property
    def n_synapses(self) -> int:
        return len(self.post) - 1

    @property
    def max_delay(self) -> int:
        return int(self.delay_steps[:-1].max(initial=1))


def pathways(network: ir.Network, connectivities: tuple[Connectivity, ...], group_sizes: list[int]) -> tuple[Pathway, ...]:
    """The pathways of the projections: merged where that changes no sum (module docstring)."""
    populations = [p.name for p in network.populations]
    bins: list[list[int]] = []
    open_bins: dict[tuple, int] = {}
    for j, connectivity in enumerate(connectivities):
        synapse = connectivity.projection.synapse
        key = (connectivity.projection.source, connectivity.target_group, synapse.on_pre, synapse.parameters,
               tuple(s.name for s in synapse.states))
        b = open_bins.get(key)
        if b is not None and all(connectivities[i].projection.target != connectivity.projection.target for i in bins[b]):
            bins[b].append(j)
        else:
            open_bins[key] = len(bins)
            bins.append([j])
    return tuple(_pathway([connectivities[j] for j in members], tuple(members), populations, group_sizes) for members in bins)


def _pathway(parts: list[Connectivity], members: tuple[int, ...], populations: list[str], group_sizes: list[int]) -> Pathway:
    """One CSR holding the synapses of `parts`: per presynaptic neuron, part by part."""
    first = parts[0]
    pre = np.concatenate([np.repeat(np.arange(c.source_size), np.diff(c.indptr)) for c in parts])
    order = np.argsort(pre, kind="stable")
    part = np.concatenate([np.full(c.n_synapses, k, dtype=np.int64) for k, c in enumerate(parts)])
    within = np.concatenate([np.arange(c.n_synapses, dtype=np.int64) for c in parts])
    indptr = np.searchsorted(pre[order], np.arange(first.source_size + 1)).astype(np.int64)
    delays = np.concatenate([c.delay_steps for c in parts])[order]
    n_synapses = len(order)
    uniform = int(delays[0]) if n_synapses and np.all(delays == delays[0]) else None
    longest = max(1, int(np.diff(indptr).max(initial=1)))
    piece = min(_PIECE, 2 ** math.ceil(math.log2(longest)))
    return Pathway(
        direction="pre",
        synapse=first.projection.synapse,
        projections=members,
        source=populations.index(first.projection.source),
        source_size=first.source_size,
        target_group=first.target_group,
        indptr=np.append(indptr, n_synapses),
        post=np.append(np.concatenate([c.post for c in parts])[order], group_sizes[first.target_group]),
        delay_steps=np.append(delays, 1),
        uniform_delay=uniform,
        states={name: np.append(np.concatenate([c.states[name] for c in parts])[order], 0.0) for name in first.states},
        origin=(np.asarray(members, dtype=np.int64)[part[order]], within[order]),
        slots=np.arange(-(-longest // piece) * piece).reshape(-1, piece),
    )


@dataclass(frozen=True, slots=True)
class Buffer:
    """The ring buffer of synaptic events for one variable of one group.

    Flat, `length` slots of `width` = group size + 1 values; the last value of a
    slot is a trash column that padded (non-existent) events are added to. The
    events due in step m are in slot m mod length; length = longest delay + 1.
    """

    group: int
    variable: str
    length: int
    width: int


def buffers(all_pathways: tuple[Pathway, ...], group_sizes: list[int]) -> tuple[Buffer, ...]:
    """One ring buffer per (group, variable) that some `on pre` effect changes."""
    lengths: dict[tuple[int, str], int] = {}
    for pathway in all_pathways:
        for assignment in pathway.synapse.on_pre:
            key = (pathway.target_group, assignment.variable)
            lengths[key] = max(lengths.get(key, 0), pathway.max_delay + 1)
    return tuple(Buffer(g, name, length, group_sizes[g] + 1) for (g, name), length in lengths.items())
