"""Host-side construction of a network: every array a backend starts from.

`build(network)` turns an `ir.Network` into a `HostNetwork` of numpy arrays,
identically for every backend: initial states, connectivity, stimulus schedules
and record indices. Nothing here depends on the backend, so both backends start
from the very same numbers.

Populations whose neuron models are equal (same equations and parameter values)
are simulated together as one `Group`: elementwise arithmetic gives the same
bits on a concatenated array as on its pieces, so grouping changes only speed.

Randomness comes from numpy generators keyed by the network seed and by what is
drawn, so adding a population does not change the draws of another:

    initial value of state k of population i   default_rng([seed, 0, i, k])
    synapses of projection j                     default_rng([seed, 1, j])
    initial value of synapse state k of j        default_rng([seed, 2, j, k])
    delays of projection j                       default_rng([seed, 3, j])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.integrators import Integration, integrate

_NEVER = 2**62  # "stop" step of a stimulus that never stops


@dataclass(frozen=True, eq=False)
class Group:
    """Populations sharing one neuron model, simulated as one array of `size` neurons.

    Population `populations[k]` holds elements offsets[k] : offsets[k] + sizes[k].
    """

    model: ir.NeuronModel
    integration: Integration
    populations: tuple[str, ...]
    offsets: tuple[int, ...]
    sizes: tuple[int, ...]
    refractory_steps: int
    initial: Mapping[str, np.ndarray]

    @property
    def size(self) -> int:
        return sum(self.sizes)


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

    @property
    def uniform_delay(self) -> int | None:
        """The delay of every synapse, if they all share one."""
        delays = self.delay_steps
        return int(delays[0]) if len(delays) and np.all(delays == delays[0]) else None


@dataclass(frozen=True, eq=False)
class Schedule:
    """A stimulus in whole steps: adds `amplitude` (one value per neuron of the group,
    zero outside the stimulated population) to input `variable` in step n when
    start <= n < stop and (n - start) mod period < width."""

    group: int
    variable: str
    amplitude: np.ndarray
    start: int
    stop: int
    period: int
    width: int


@dataclass(frozen=True, eq=False)
class Record:
    """Variable `variable` of the neurons `indices` (within the population), sampled after every step."""

    population: str
    variable: str
    group: int
    indices: np.ndarray
    group_indices: np.ndarray


@dataclass(frozen=True, eq=False)
class HostNetwork:
    """Everything a backend needs, as plain numpy arrays; `placement` maps a population
    to (group index, offset within the group)."""

    network: ir.Network
    dt: float
    groups: tuple[Group, ...]
    placement: Mapping[str, tuple[int, int]]
    projections: tuple[Connectivity, ...]
    schedules: tuple[Schedule, ...]
    records: tuple[Record, ...]

    def steps(self, duration: float) -> int:
        """`duration` (s) as a whole number of steps; InvalidValueError if it is not one."""
        steps = round(duration / self.dt)
        if steps < 1 or abs(steps * self.dt - duration) > 1e-9 * max(duration, self.dt):
            raise InvalidValueError(
                f"the duration {duration!r} s is not a positive whole number of steps of {self.dt!r} s"
            )
        return steps


def build(network: ir.Network) -> HostNetwork:
    """Construct every array of `network` on the host, from its seed.

    Raises InvalidValueError for what a backend cannot run: unknown names, a
    stimulus of something that is not an input, delays shorter than one step, ...
    """
    dt = network.simulation.dt
    if not dt > 0:
        raise InvalidValueError(f"dt must be positive, not {dt!r}", network.simulation.span)
    groups, placement = _groups(network, dt)
    return HostNetwork(
        network=network,
        dt=dt,
        groups=groups,
        placement=placement,
        projections=tuple(_connect(network, j, placement) for j in range(len(network.projections))),
        schedules=tuple(_schedule(network, s, placement, groups) for s in network.stimuli),
        records=tuple(_record(network, r, placement) for r in network.state_records),
    )


# --------------------------------------------------------------------------- populations


def _groups(network: ir.Network, dt: float) -> tuple[tuple[Group, ...], dict[str, tuple[int, int]]]:
    members: dict[ir.NeuronModel, list[int]] = {}
    for i, population in enumerate(network.populations):
        if population.size < 1:
            raise InvalidValueError(f"population {population.name} has no neurons", population.span)
        members.setdefault(population.model, []).append(i)
    seed = network.simulation.seed
    groups, placement = [], {}
    for model, indices in members.items():
        populations = [network.populations[i] for i in indices]
        sizes = tuple(p.size for p in populations)
        offsets = tuple(int(o) for o in np.cumsum((0,) + sizes[:-1]))
        initial = {
            state.name: np.concatenate([_draw(state.initial, p.size, [seed, 0, i, k]) for i, p in zip(indices, populations)])
            for k, state in enumerate(model.states)
        }
        for population, offset in zip(populations, offsets):
            placement[population.name] = (len(groups), offset)
        groups.append(Group(
            model=model,
            integration=integrate(model, dt),
            populations=tuple(p.name for p in populations),
            offsets=offsets,
            sizes=sizes,
            refractory_steps=max(0, round(model.refractory / dt)),
            initial=initial,
        ))
    return tuple(groups), placement


def _draw(initial: ir.Initializer, size: int, key: list[int]) -> np.ndarray:
    match initial:
        case ir.Constant(value):
            return np.full(size, value, dtype=np.float64)
        case ir.Uniform(low, high):
            return np.random.default_rng(key).uniform(low, high, size)
    raise TypeError(f"not an initializer: {initial!r}")


def _population(network: ir.Network, name: str, span) -> ir.Population:
    try:
        return network.population(name)
    except KeyError:
        raise InvalidValueError(f"no population named {name!r}", span) from None


# --------------------------------------------------------------------------- projections


def _connect(network: ir.Network, j: int, placement) -> Connectivity:
    projection = network.projections[j]
    seed, dt = network.simulation.seed, network.simulation.dt
    source = _population(network, projection.source, projection.span)
    target = _population(network, projection.target, projection.span)
    target_states = {s.name for s in target.model.states}
    for assignment in projection.synapse.on_pre:
        if assignment.variable not in target_states:
            raise InvalidValueError(
                f"on pre of {projection.synapse.name} changes `{assignment.variable}`, "
                f"which is not a state variable of {target.model.name}",
                assignment.span or projection.span,
            )
        if assignment.op not in (ir.AssignOp.ADD, ir.AssignOp.SUB):
            raise InvalidValueError("on pre may only add to or subtract from a variable", assignment.span)
    self_projection = projection.source == projection.target and not projection.allow_autapses
    pre, post = _pairs(projection, source.size, target.size, self_projection, np.random.default_rng([seed, 1, j]))
    n_synapses = len(pre)
    states = {
        state.name: _draw(state.initial, n_synapses, [seed, 2, j, k]) for k, state in enumerate(projection.synapse.states)
    }
    delays = np.rint(_draw(projection.delay, n_synapses, [seed, 3, j]) / dt).astype(np.int64)
    if n_synapses and delays.min() < 1:
        raise InvalidValueError(
            f"projection {projection.name} has a delay shorter than one step ({dt!r} s); the shortest delay is dt",
            projection.span,
        )
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
    projection: ir.Projection, n_pre: int, n_post: int, no_autapses: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) index arrays of the synapses, sorted by pre then post."""
    match projection.rule:
        case ir.AllToAll():
            flat = np.arange(n_pre * n_post, dtype=np.int64)
        case ir.OneToOne():
            if n_pre != n_post:
                raise InvalidValueError(
                    f"one-to-one projection {projection.name} joins populations of different sizes ({n_pre} and {n_post})",
                    projection.span,
                )
            flat = np.arange(n_pre, dtype=np.int64) * (n_post + 1)
        case ir.FixedProbability(p):
            if not 0.0 <= p <= 1.0:
                raise InvalidValueError(f"connection probability must be in [0, 1], not {p!r}", projection.rule.span)
            flat = _bernoulli_positions(n_pre * n_post, p, rng)
        case rule:
            raise TypeError(f"not a connection rule: {rule!r}")
    pre, post = np.divmod(flat, n_post)
    if no_autapses:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


def _bernoulli_positions(total: int, p: float, rng: np.random.Generator) -> np.ndarray:
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


# --------------------------------------------------------------------------- stimuli and records


def _schedule(network: ir.Network, stimulus: ir.Stimulus, placement, groups) -> Schedule:
    population = _population(network, stimulus.population, stimulus.span)
    inputs = [i.name for i in population.model.inputs]
    if stimulus.variable not in inputs:
        raise InvalidValueError(
            f"a stimulus can only drive an input of {population.model.name} ({', '.join(inputs) or 'it has none'}), "
            f"not `{stimulus.variable}`",
            stimulus.span,
        )
    group, offset = placement[stimulus.population]
    amplitude = np.zeros(groups[group].size)
    dt = network.simulation.dt
    match stimulus.waveform:
        case ir.ConstantCurrent(value):
            amplitude[offset : offset + population.size] = value
            start, stop, period, width = 0, _NEVER, 1, 1
        case ir.PulseTrain(period=period_s, width=width_s, amplitude=value, start=start_s, stop=stop_s):
            amplitude[offset : offset + population.size] = value
            period, width, start = round(period_s / dt), round(width_s / dt), round(start_s / dt)
            stop = _NEVER if stop_s == float("inf") else round(stop_s / dt)
            if period < 1 or not 0 <= width <= period or start < 0:
                raise InvalidValueError(
                    "pulses need period >= dt, 0 <= width <= period and start >= 0", stimulus.waveform.span
                )
        case waveform:
            raise TypeError(f"not a waveform: {waveform!r}")
    return Schedule(group, stimulus.variable, amplitude, start, stop, period, width)


def _record(network: ir.Network, record: ir.StateRecord, placement) -> Record:
    population = _population(network, record.population, record.span)
    model = population.model
    names = [s.name for s in model.states] + [i.name for i in model.inputs]
    if record.variable not in names:
        raise InvalidValueError(
            f"{model.name} has no state variable or input `{record.variable}` to record", record.span
        )
    indices = np.asarray(record.indices, dtype=np.int64)
    if len(indices) and (indices.min() < 0 or indices.max() >= population.size):
        raise InvalidValueError(
            f"record indices must be in [0, {population.size}) for {population.name}", record.span
        )
    group, offset = placement[record.population]
    return Record(record.population, record.variable, group, indices, indices + offset)

