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

A plastic projection (`ir.SynapseModel.plastic`) is never merged: its pathway
is its own synapses in projection order, with each synapse's presynaptic neuron
(`Pathway.pre`) and a column view (`Columns`): for each postsynaptic neuron its
synapses, which `on post` runs over.

Every array is padded here, once, for the step: one sentinel synapse (index
n_synapses) whose target is the group's trash column, and one empty CSR row for
padded spike lists.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.errors import DelayRoundingWarning, InvalidValueError
from brainsim.network.keys import DELAYS, SYNAPSE_STATE, SYNAPSES, host_key
from brainsim.network.pairs import PairSpace, Pairs, pair_space
from brainsim.network.values import draw

DELAY_TOLERANCE = 0.01
"""Rounding a delay to whole steps by more than this fraction of it warns."""

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
    target_offset: int = 0  # where the target population starts in its group

    @property
    def n_synapses(self) -> int:
        return len(self.post)

    @property
    def max_delay(self) -> int:
        return int(self.delay_steps.max(initial=1))


def connect(network: ir.Network, j: int, placement: Mapping[str, tuple[int, int]]) -> Connectivity:
    """Draw the synapses of projection `j`, their initial states and delays, from the seed.

    Values are made in the rule's own order (an edge list's written order) and
    then sorted by presynaptic neuron, so `ir.Values` follow the written edges.
    Raises InvalidValueError where only the drawn values show a mistake (a degree
    larger than what a condition leaves, a drawn delay under one step); warns
    with `DelayRoundingWarning` when rounding to whole steps changes a delay by more than 1%.
    """
    projection = network.projections[j]
    seed, dt = network.simulation.seed, network.simulation.dt
    space = pair_space(network, projection)
    name = projection.name
    pre, post = choose_pairs(projection, space, np.random.default_rng(host_key(seed, SYNAPSES, name)))
    order = presynaptic_order(pre, post, space.n_pre, space.n_post)
    pairs = space.pairs(pre, post)
    states = {
        state.name: draw(state.initial, len(pre), host_key(seed, SYNAPSE_STATE, name, k), pairs)[order]
        for k, state in enumerate(projection.synapse.states)
    }
    steps = delay_steps(projection, draw(projection.delay, len(pre), host_key(seed, DELAYS, name), pairs), dt)[order]
    del pairs
    group, offset = placement[projection.target]
    indptr = np.zeros(space.n_pre + 1, dtype=np.int64)
    np.cumsum(np.bincount(pre, minlength=space.n_pre), out=indptr[1:])  # rows from counts: no sorted copy of pre
    del pre
    post = post[order]
    del order
    post += offset
    return Connectivity(
        projection=projection,
        source_size=space.n_pre,
        target_group=group,
        indptr=indptr,
        post=post.astype(index_dtype(offset + space.n_post + 1)),
        delay_steps=steps,
        states=states,
        target_offset=offset,
    )


def presynaptic_order(pre: np.ndarray, post: np.ndarray, n_pre: int, n_post: int) -> np.ndarray:
    """The stable order by presynaptic, then postsynaptic neuron: `np.lexsort((post, pre))`,
    with both keys as uint16 where the populations allow, which numpy radix-sorts (2.4 s
    instead of 9.8 s for 2 * 10^7 pairs here; the full microcircuit sorts 0.3e9)."""
    if max(n_pre, n_post) <= np.iinfo(np.uint16).max + 1:
        return np.lexsort((post.astype(np.uint16), pre.astype(np.uint16)))
    return np.lexsort((post, pre))


def delay_steps(projection: ir.Projection, delays: np.ndarray, dt: float) -> np.ndarray:
    """`delays` (s) in whole steps, rounded to the nearest (halves to even, as `groups.steps`).

    Raises InvalidValueError if one rounds below one step (a constant delay is
    `brainsim.validate`'s to reject; this catches drawn ones); warns once per
    projection, with the largest change, if rounding moves a written or computed (not a
    randomly drawn) delay by more than 1%.
    """
    steps = np.rint(delays / dt).astype(np.int64)
    where = f"{projection.delay.span}: " if projection.delay.span else ""
    if len(steps) and steps.min() < 1:
        k = int(np.argmin(steps))
        raise InvalidValueError(
            f"a delay of {projection.name} is {delays[k]:g} s, which rounds to {steps[k]} steps; a delay must be "
            f"at least one step (dt = {dt:g} s) after rounding",
            projection.delay.span or projection.span,
        )
    # A random delay is quantised by design; a written or computed one that is off the grid is a surprise.
    random = isinstance(projection.delay, ir.Uniform | ir.Normal | ir.ClippedNormal | ir.LogNormal)
    if not random and len(steps):
        with np.errstate(all="ignore"):
            change = np.abs(steps * dt - delays) / delays
        if change.max() > DELAY_TOLERANCE:
            k = int(np.argmax(change))
            warnings.warn(DelayRoundingWarning(
                f"{where}rounding the delays of {projection.name} to whole steps of dt = {dt:g} s changes "
                f"{delays[k]:g} s to {steps[k] * dt:g} s ({change[k]:.1%}); choose delays that are multiples of dt, "
                "or a smaller dt"
            ), stacklevel=2)
    return steps.astype(step_dtype(int(steps.max(initial=1))))


def step_dtype(longest: int) -> type:
    """The smallest of int16, int32 and int64 that holds delays of up to `longest` steps:
    2 bytes per synapse for every delay under 3.2 s at dt = 0.1 ms, instead of 8."""
    for dtype in (np.int16, np.int32):
        if longest <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def choose_pairs(projection: ir.Projection, space: PairSpace, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) index arrays of the synapses of `projection`, in the rule's order."""
    rule, condition = projection.rule, projection.condition
    no_autapses = projection.source == projection.target and not projection.allow_autapses
    candidates = Candidates(space, condition, no_autapses)
    match rule:
        case ir.EdgeList(pre, post):
            return np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
        case ir.OneToOne():
            pairs = space.pairs(np.arange(space.n_pre), np.arange(space.n_post))
            keep = candidates.mask(pairs)
            return pairs.pre[keep], pairs.post[keep]
        case ir.FixedProbability(float() as p) if condition is None:
            pre, post = np.divmod(bernoulli_positions(space.n_pre * space.n_post, p, rng), space.n_post)
            keep = pre != post if no_autapses else slice(None)
            return pre[keep], post[keep]
        case ir.AllToAll() | ir.FixedProbability():
            return _kept(rule, candidates, rng)
        case ir.FixedIndegree(n):
            return _by_neuron(n, space.n_post, candidates.of_post, rng, projection, "postsynaptic", swap=True)
        case ir.FixedOutdegree(n):
            return _by_neuron(n, space.n_pre, candidates.of_pre, rng, projection, "presynaptic", swap=False)
        case ir.FixedTotalNumber(n):
            return _total(n, candidates, rng, projection)
    raise TypeError(f"not a connection rule: {rule!r}")


@dataclass(frozen=True, eq=False)
class Candidates:
    """The pairs a projection may connect: those where `condition` holds, without autapses if excluded."""

    space: PairSpace
    condition: ir.Expr | None
    no_autapses: bool

    def mask(self, pairs: Pairs) -> np.ndarray:
        keep = np.ones(len(pairs.pre), dtype=bool)
        if self.no_autapses:
            keep &= pairs.pre != pairs.post
        if self.condition is not None:
            keep &= pairs.compute(self.condition) != 0.0
        return keep

    def of_pre(self, i: int) -> np.ndarray:
        """The postsynaptic candidates of presynaptic neuron `i`, ascending."""
        pairs = self.space.row(i)
        return pairs.post[self.mask(pairs)]

    def of_post(self, j: int) -> np.ndarray:
        """The presynaptic candidates of postsynaptic neuron `j`, ascending."""
        pairs = self.space.column(j)
        return pairs.pre[self.mask(pairs)]


def _kept(rule: ir.AllToAll | ir.FixedProbability, candidates: Candidates, rng: np.random.Generator):
    """All candidate pairs (all_to_all), or each kept with its probability, block by block of pre neurons.

    A uniform number is drawn for every pair of a block, candidate or not, so the
    draws of a pair do not depend on the condition's value elsewhere.
    """
    kept_pre, kept_post = [], []
    for pairs in candidates.space.blocks():
        keep = candidates.mask(pairs)
        if isinstance(rule, ir.FixedProbability):
            p = rule.p
            if not isinstance(p, float):
                p = pairs.compute(p)
                _check_probability(p, pairs, rule)
            keep &= rng.random(len(pairs.pre)) < p
        kept_pre.append(pairs.pre[keep])
        kept_post.append(pairs.post[keep])
    return np.concatenate(kept_pre or [np.zeros(0, np.int64)]), np.concatenate(kept_post or [np.zeros(0, np.int64)])


def _check_probability(p, pairs: Pairs, rule: ir.FixedProbability) -> None:
    """p = exp(-distance / 100 um) * 2     (above 1 for close pairs)"""
    bad = np.flatnonzero(~((p >= 0.0) & (p <= 1.0)))
    if bad.size:
        k = bad[0]
        raise InvalidValueError(
            f"the connection probability is {float(p[k]):g} for the pair i = {pairs.pre[k]}, j = {pairs.post[k]}; "
            "a probability must be between 0 and 1",
            rule.span,
        )


def _by_neuron(n, count, candidates_of, rng, projection, side: str, swap: bool):
    """`n` synapses per neuron of one side (`count` neurons), the other end drawn from its candidates."""
    ends = []
    for k in range(count):
        pool = candidates_of(k)
        ends.append(pool[_choose(rng, len(pool), n, projection, f"{side} neuron {k}")])
    own = np.repeat(np.arange(count, dtype=np.int64), n)
    other = np.concatenate(ends) if ends else np.zeros(0, np.int64)
    return (other, own) if swap else (own, other)


def _total(n: int, candidates: Candidates, rng: np.random.Generator, projection: ir.Projection):
    """`n` synapses drawn among all candidate pairs; without a condition, never listing all pairs."""
    space = candidates.space
    if candidates.condition is None:
        width = space.n_post - 1 if candidates.no_autapses else space.n_post
        flat = _choose(rng, space.n_pre * width, n, projection, "the projection")
        pre, post = np.divmod(flat, max(width, 1))
        if candidates.no_autapses:
            post = post + (post >= pre)  # skip the diagonal
        return pre, post
    pre, post = _kept(ir.AllToAll(), candidates, rng)
    chosen = _choose(rng, len(pre), n, projection, "the projection")
    return pre[chosen], post[chosen]


def _choose(rng: np.random.Generator, count: int, n: int, projection: ir.Projection, whose: str) -> np.ndarray:
    """`n` indices into range(count): with repeats if multapses are allowed, else distinct.

    Rejects (B.b has 100 neurons)::

        connect A -> B with S { indegree = 200  multapses = false }
        connect A -> B with S { indegree = 5  condition = i == j + 1000 }   (no candidates)
    """
    if n and (count == 0 or (n > count and not projection.allow_multapses)):
        raise InvalidValueError(
            f"{projection.name} needs {n} distinct synapses for {whose}, but only {count} candidate pairs are there"
            + (" (after the condition)" if projection.condition is not None else ""),
            projection.rule.span or projection.span,
            "allow repeated pairs with `multapses = true`, or ask for fewer" if count else None,
        )
    if projection.allow_multapses:
        return rng.integers(0, count, n) if n else np.zeros(0, np.int64)
    return np.sort(rng.choice(count, n, replace=False))


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
        room = total - last
        gaps = np.minimum(rng.geometric(p, size=int(expected + 5 * np.sqrt(expected) + 16)), room)
        # Sum only up to the first position past the end: p = 1e-73 draws gaps of 10^73 (capped
        # at `room` above), and the sums of the gaps after it would pass 2^63 and wrap around.
        past = np.flatnonzero(np.cumsum(gaps, dtype=np.float64) >= room)
        positions = last + np.cumsum(gaps[:past[0] + 1] if past.size else gaps)
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
    `projections[origin[0][k]]` (`origin` is computed where the pathway is one
    projection in its own order, `merged_origin` None: no 6 bytes per synapse held for it).

    A plastic pathway (one projection, in its order) also has `pre`, each synapse's
    presynaptic neuron within the source population (sentinel: source_size), and
    `columns`, its synapses by postsynaptic neuron of the target population, which
    starts at `target_offset` of the group; others have None.
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
    merged_origin: tuple[np.ndarray, np.ndarray] | None
    slots: np.ndarray
    pre: np.ndarray | None = None
    columns: "Columns | None" = None
    target_offset: int = 0

    @property
    def plastic(self) -> bool:
        return self.synapse.plastic

    @property
    def origin(self) -> tuple[np.ndarray, np.ndarray]:
        """(projection, synapse within it) of each synapse (class docstring)."""
        if self.merged_origin is not None:
            return self.merged_origin
        return np.full(self.n_synapses, self.projections[0], dtype=np.int64), np.arange(self.n_synapses)

    @property
    def event_driven(self) -> bool:
        """True if the synapse states relax between events (the step keeps each synapse's last update)."""
        return self.plastic and bool(self.synapse.equations) and not self.synapse.clock_driven

    @property
    def n_synapses(self) -> int:
        return len(self.post) - 1

    @property
    def max_delay(self) -> int:
        return int(self.delay_steps[:-1].max(initial=1))


def pathways(network: ir.Network, connectivities: list[Connectivity], group_sizes: list[int]) -> tuple[Pathway, ...]:
    """The pathways of the projections: merged where that changes no sum (module docstring).

    A projection that is a pathway of its own is replaced in `connectivities` by views into
    the pathway's arrays as soon as that is built, so that its synapses are held once (and
    the builder's peak holds at most one pathway twice).

    Projections are taken in the order of their names, not of the file: the step adds the
    pathways' events into a target's ring buffer in pathway order, and float addition is
    not associative, so a target of several projections gets the same bits whichever the
    file declares first (docs/semantics.md, "Determinism")."""
    populations = [p.name for p in network.populations]
    bins: list[list[int]] = []
    open_bins: dict[tuple, int] = {}
    for j in sorted(range(len(connectivities)), key=lambda j: connectivities[j].projection.name):
        connectivity = connectivities[j]
        synapse = connectivity.projection.synapse
        key = (connectivity.projection.source, connectivity.target_group, synapse.on_pre, synapse.parameters,
               tuple(s.name for s in synapse.states))
        if synapse.plastic:
            key = (j,)  # a plastic pathway's synapses change: never shared with another projection's
        b = open_bins.get(key)
        if b is not None and all(connectivities[i].projection.target != connectivity.projection.target for i in bins[b]):
            bins[b].append(j)
        else:
            open_bins[key] = len(bins)
            bins.append([j])
    built = []
    for members in bins:
        pathway = _pathway([connectivities[j] for j in members], tuple(members), populations, group_sizes, network)
        if len(members) == 1:
            n = pathway.n_synapses
            connectivities[members[0]] = dataclasses.replace(
                connectivities[members[0]], post=pathway.post[:n], delay_steps=pathway.delay_steps[:n],
                states={name: values[:n] for name, values in pathway.states.items()})
        built.append(pathway)
    return tuple(built)


def _pathway(parts: list[Connectivity], members: tuple[int, ...], populations: list[str], group_sizes: list[int],
             network: ir.Network) -> Pathway:
    """One CSR holding the synapses of `parts`: per presynaptic neuron, part by part.

    Built in place: each part's synapses are written straight to their positions
    (row i of part k starts after row i of parts 0..k-1), so no array of the whole
    pathway is made twice and nothing is sorted; the order is that of a stable sort
    by presynaptic neuron of the parts one after the other."""
    first = parts[0]
    counts = np.array([np.diff(c.indptr) for c in parts], dtype=np.int64).reshape(len(parts), first.source_size)
    indptr = np.zeros(first.source_size + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0), out=indptr[1:])
    n_synapses = int(indptr[-1])
    plastic = first.projection.synapse.plastic
    size = group_sizes[first.target_group]
    post = np.empty(n_synapses + 1, dtype=index_dtype(size + 1))
    longest = max(int(c.delay_steps.max(initial=1)) for c in parts)
    delays = np.empty(n_synapses + 1, dtype=np.int64 if plastic else step_dtype(longest))
    states = {name: np.empty(n_synapses + 1, dtype=np.float64) for name in first.states}
    merged = len(parts) > 1
    if merged:
        part = np.empty(n_synapses, dtype=index_dtype(max(members) + 1))
        within = np.empty(n_synapses, dtype=index_dtype(max(c.n_synapses for c in parts)))
    row_start = indptr[:-1].copy()
    for k, c in enumerate(parts):
        dest = np.repeat(row_start - c.indptr[:-1], counts[k])
        dest += np.arange(c.n_synapses, dtype=np.int64)
        post[dest] = c.post
        delays[dest] = c.delay_steps
        for name in states:
            states[name][dest] = c.states[name]
        if merged:
            part[dest] = members[k]
            within[dest] = np.arange(c.n_synapses, dtype=within.dtype)
        del dest
        row_start += counts[k]
    post[n_synapses], delays[n_synapses] = size, 1
    for name in states:
        states[name][n_synapses] = 0.0
    body = delays[:n_synapses]
    uniform = int(body[0]) if n_synapses and np.all(body == body[0]) else None
    target = network.population(first.projection.target)
    return Pathway(
        direction="pre",
        synapse=first.projection.synapse,
        projections=members,
        source=populations.index(first.projection.source),
        source_size=first.source_size,
        target_group=first.target_group,
        indptr=np.append(indptr, n_synapses),
        post=post,
        delay_steps=delays,
        uniform_delay=uniform,
        states=states,
        merged_origin=(part, within) if len(parts) > 1 else None,
        slots=slots(indptr),
        pre=np.append(np.repeat(np.arange(first.source_size), counts[0]), first.source_size) if plastic else None,
        columns=columns(first, target.size) if plastic else None,
        target_offset=first.target_offset if plastic else 0,
    )


def slots(indptr: np.ndarray) -> np.ndarray:
    """The static-shape layout of the longest row of `indptr` (`Pathway.slots`)."""
    longest = max(1, int(np.diff(indptr).max(initial=1)))
    piece = min(_PIECE, 2 ** math.ceil(math.log2(longest)))
    return np.arange(-(-longest // piece) * piece).reshape(-1, piece)


def index_dtype(bound: int) -> type:
    """int32 if every index below `bound` (and `bound` itself) fits in it, else int64:
    half the memory, and cheaper gathers, wherever the values allow."""
    return np.int32 if bound <= np.iinfo(np.int32).max else np.int64


def ring_targets(pathway: Pathway, width: int, size: int) -> np.ndarray:
    """Each synapse's event position relative to the current ring-buffer slot: delay * width + post.

    A static pathway keeps this one array per synapse instead of post and delay
    (docs/decisions.md, "A static synapse is 12 bytes"): an event of synapse k sent
    in step n lands at ((n + 1) * width + target[k]) mod `size` (the buffer's
    length * width), which is ((n + 1 + delay) mod length) * width + post because
    post < width. int32 wherever twice `size` fits (the kernel adds two positions below
    `size` before reducing), which covers ring buffers up to 8 GB of float64.
    """
    dtype = index_dtype(2 * size)
    target = pathway.delay_steps.astype(dtype)  # widened before the product, which a narrow delay type would wrap
    target *= width
    target += pathway.post
    return target


@dataclass(frozen=True, eq=False)
class Columns:
    """A plastic pathway's synapses by postsynaptic neuron (CSC), for `on post`.

    The synapses of neuron j of the target population are
    `synapses[indptr[j] : indptr[j + 1]]`, ascending (so by presynaptic neuron);
    `indptr` has an extra, empty row (len = target size + 2), and `synapses` ends
    with the sentinel synapse (n_synapses) at position indptr[-1], which padded
    slots name. `slots` is the layout of the longest column, like `Pathway.slots`.
    """

    indptr: np.ndarray
    synapses: np.ndarray
    slots: np.ndarray


def columns(connectivity: Connectivity, target_size: int) -> Columns:
    """The column view of one projection's synapses (in projection order)."""
    post = connectivity.post - connectivity.target_offset
    order = np.argsort(post, kind="stable")
    indptr = np.searchsorted(post[order], np.arange(target_size + 1)).astype(np.int64)
    n_synapses = connectivity.n_synapses
    return Columns(np.append(indptr, n_synapses), np.append(order.astype(np.int64), n_synapses), slots(indptr))


@dataclass(frozen=True, slots=True)
class Buffer:
    """The ring buffer of synaptic events for one variable of one group.

    Flat, `length` slots of `width` values (`slot_width`): the group's neurons, then
    a trash column that padded (non-existent) events are added to, then padding that
    nothing writes. The events due in step m are in slot m mod length; length =
    longest delay + 1.
    """

    group: int
    variable: str
    length: int
    width: int


def buffers(all_pathways: tuple[Pathway, ...], group_sizes: list[int]) -> tuple[Buffer, ...]:
    """One ring buffer per (group, variable) that some `on pre` effect changes."""
    lengths: dict[tuple[int, str], int] = {}
    for pathway in all_pathways:
        for assignment in pathway.synapse.effects():
            key = (pathway.target_group, assignment.variable)
            lengths[key] = max(lengths.get(key, 0), pathway.max_delay + 1)
    return tuple(Buffer(g, name, length, slot_width(group_sizes[g])) for (g, name), length in lengths.items())


SLOT_ALIGNMENT = 8  # values: 64 bytes of float64, a cache line


def slot_width(group_size: int) -> int:
    """The values of one ring-buffer slot of a group of `group_size`: its neurons and the
    trash column, rounded up to a multiple of `SLOT_ALIGNMENT`. Every slot then starts on a
    cache line where the buffer does, so a step's delivery reads and clears whole lines
    with whole vectors; with a slot of group size + 1, every other slot was one value off,
    and each vector load and store of it straddled two lines (docs/performance.md)."""
    return -(-(group_size + 1) // SLOT_ALIGNMENT) * SLOT_ALIGNMENT


def located(all_pathways: tuple[Pathway, ...], j: int) -> tuple[int, np.ndarray]:
    """(pathway, positions): where the synapses of projection `j` are, in projection order."""
    for c, pathway in enumerate(all_pathways):
        if j in pathway.projections:
            if pathway.merged_origin is None:
                return c, np.arange(pathway.n_synapses)
            mine = np.flatnonzero(pathway.origin[0] == j)
            positions = np.empty(len(mine), dtype=np.int64)
            positions[pathway.origin[1][mine]] = mine
            return c, positions
    raise KeyError(j)


@dataclass(frozen=True, eq=False)
class SynapseRecord:
    """State `variable` (index `state` in the synapse model) of projection `projection`
    (network index): its synapses `indices` (projection order), at `positions` in
    pathway `pathway`; after every step (`steps` None) or after the steps `steps`."""

    projection: int
    variable: str
    state: int
    pathway: int
    indices: np.ndarray
    positions: np.ndarray
    steps: np.ndarray | None


def synapse_record(network: ir.Network, record: ir.SynapseRecord, all_pathways: tuple[Pathway, ...],
                   projections: tuple[Connectivity, ...]) -> SynapseRecord:
    """Where the synapses of `record` are, and the steps of its snapshots.

    Rejects an index past the projection's last synapse (only the drawn
    connectivity knows how many there are)::

        connect A -> B with S { rule = one_to_one }   (3 synapses)
        record w of A -> B[5]
    """
    j = [p.name for p in network.projections].index(record.projection)
    c, positions = located(all_pathways, j)
    count = projections[j].n_synapses
    indices = np.arange(count) if record.indices is None else np.asarray(record.indices, np.int64)
    if len(indices) and indices.max() >= count:
        raise InvalidValueError(
            f"the record asks for synapse {int(indices.max())} of {record.projection}, which has {count} synapse(s) "
            f"(indices 0 to {count - 1})" if count else f"the record asks for synapses of {record.projection}, which has none",
            record.span,
        )
    steps = None
    if record.times is not None:
        steps = np.rint(np.asarray(record.times) / network.simulation.dt).astype(np.int64)
    states = [s.name for s in network.projections[j].synapse.states]
    return SynapseRecord(j, record.variable, states.index(record.variable), c, indices, positions[indices], steps)
