"""What a network will occupy, estimated from its IR before anything is built.

`brainsim.backends.memory` measures the arrays of a built network; this module
says, from the model alone and in a few milliseconds, what building and running
it would take, so that a network that cannot fit is refused with the estimate
(`brainsim.resources`) instead of dying in the middle of drawing its synapses.
The parts are `NetworkMemory`'s, with the same names, plus the recordings:

    synapses      each projection's expected synapse count (from its rule: p * N_pre
                  * N_post, indegree * N_post, ...) times what one synapse holds once
                  built, and for the largest projection also the temporaries of
                  drawing it (projections are drawn one at a time)
    state         neurons, their state variables and per-neuron values
    buffers       ring buffers of synaptic events: (longest delay in steps + 1) x
                  (target group size + 1, rounded up to a multiple of 8) values, and the spike history of
                  axonal and dendritic delays
    other         stimulus tables (a sinusoid without `stop` is tabulated for
                  the whole duration, a spike source for every step up to its last spike)
    recordings    samples x recorded values (`recording_bytes` measures the same on
                  a built network)

The per-element costs are measured with tracemalloc on the numpy backend while
`compile_network` builds a network (the host draws pairs, sorts them, builds the
CSR and the pathways, then the kernel's arrays; docs/performance.md, "Memory per
synapse: the full microcircuit"). A built static synapse holds its target (int32),
delay (int16) and ring-buffer position (int32), 8 B per state on the host and, for a
plastic synapse or on a device, 8 B per state in the step's carry; drawing a projection takes up to about 50 B per
synapse more for its pairs, sort order and draws, freed before the next. Measured
peaks: 56-66 B per synapse for a network of one static projection without state
(all of it drawn at once), 95 B for one plastic projection with two states; 37 B
per synapse for the microcircuit at (1, 0.1) (63 projections, 31 * 10^6 synapses), and
at full scale a peak resident set of 17.7 B per synapse on numpy, 34.6 B on jax, against
an estimate of 44 B (docs/performance.md, "The full microcircuit on this machine");
40 B per LIF neuron (one state) and 112 B per Hodgkin-Huxley neuron (four states
and a refractory counter). tests/test_memory_limits.py checks that the measured peak
stays under the estimate, within twice of it, and within 1.5 times for the microcircuit.

Counts that depend on drawn values (a probability that is an expression, a
`condition`) are estimated from `SAMPLE_PAIRS` pairs drawn at random (from a
generator of their own: the network's draws are not changed), or bounded by
every candidate pair where the populations are too large to place cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from brainsim import ir
from brainsim.backends.memory import NetworkMemory, PathwayMemory
from brainsim.network.connectivity import Candidates, slot_width
from brainsim.network.keys import ESTIMATE, host_key
from brainsim.network.pairs import pair_space

PER_SYNAPSE = 20  # B: a built static synapse without state (target, delay, ring position, CSR, padding)
PER_PLASTIC_SYNAPSE = 48  # B: a plastic one (also presynaptic index, column view, int64 delay, last update)
PER_SYNAPSE_STATE = 16  # B more per synapse state variable (host array and the step's copy)
DRAW_PER_SYNAPSE = 52  # B more per synapse of the projection being drawn (pairs, sort order, draws)
PER_SOURCE_ROW = 16  # B per presynaptic neuron of each projection: its row pointer in the projection and the pathway
PER_NEURON = 48  # B: positions, index, the neuron's place in every array, at the build's peak
PER_NEURON_VALUE = 16  # B more per state variable, heterogeneous parameter, refractory counter or stimulus
PER_SOURCE_NEURON = 24  # B: a Poisson source's probability and channel
SAMPLE_PAIRS = 4096
"""Pairs drawn to estimate how many synapses a probability expression or a condition keeps."""
SAMPLE_NEURONS = 2_000_000
"""Above this many neurons in the two populations, a sampled rule is bounded by every candidate pair."""
NORMAL_REACH = 6.0
"""Standard deviations above the mean at which an unbounded delay distribution is taken to end."""


@dataclass(frozen=True, slots=True)
class Expected:
    """A projection's synapse count before it is drawn: `count`, and `how` it is known
    ("exact", "expected", "estimated from a sample", "at most")."""

    count: int
    how: str


@dataclass(frozen=True, slots=True)
class Estimate:
    """The memory a network needs, by part, before it is built: `memory` (the parts of
    `NetworkMemory`, each a peak; `memory.synapses` one entry per projection), the
    synapse counts `expected` (per projection, in network order), the `recordings` of a
    run of `n_steps` steps, and the float type `dtype` the run computes in."""

    memory: NetworkMemory
    expected: tuple[Expected, ...]
    recordings: int
    n_steps: int
    dtype: str

    @property
    def network(self) -> int:
        """Bytes of the network without its recordings."""
        return self.memory.total

    @property
    def total(self) -> int:
        return self.memory.total + self.recordings

    @property
    def synapses(self) -> int:
        """The synapse count the rules lead one to expect, over all projections."""
        return sum(e.count for e in self.expected)

    def parts(self) -> tuple[tuple[str, int], ...]:
        """(name, bytes) of each part, in the order `brainsim info` lists them."""
        return (("synapses", self.memory.synapse_bytes), ("neuron state", self.memory.state),
                ("ring buffers", self.memory.buffers), ("stimulus tables", self.memory.other),
                ("recordings", self.recordings))


def estimate(network: ir.Network, dtype: str = "float64", n_steps: int | None = None) -> Estimate:
    """The memory building `network` and running it for `n_steps` steps (default: its
    duration's) from t = 0 would take, by part, without building anything.

    Recorded spikes are left out (16 B each; only the run knows how many).
    """
    item = np.dtype(dtype).itemsize
    steps = network.simulation.n_steps if n_steps is None else n_steps
    expected = tuple(expected_synapses(network, j) for j in range(len(network.projections)))
    largest = max(range(len(expected)), key=lambda j: expected[j].count, default=None)
    synapses = tuple(
        PathwayMemory((p.name,), e.count, e.count * (_per_synapse(p.synapse) + DRAW_PER_SYNAPSE * (j == largest))
                      + PER_SOURCE_ROW * (network.population(p.source).size + 1), p.synapse.plastic)
        for j, (p, e) in enumerate(zip(network.projections, expected))
    )
    memory = NetworkMemory(
        state=sum(_neuron_bytes(network, p) for p in network.populations),
        synapses=synapses,
        buffers=_buffer_bytes(network, item),
        other=sum(_table_bytes(network, s.waveform) for s in network.stimuli)
        + sum(_spike_table_bytes(network, p) for p in network.populations),
    )
    return Estimate(memory, expected, _recording_bytes(network, expected, steps, item), steps, dtype)


def expected_synapses(network: ir.Network, j: int) -> Expected:
    """How many synapses projection `j`'s rule will draw, before drawing them."""
    projection = network.projections[j]
    n_pre, n_post = (network.population(name).size for name in (projection.source, projection.target))
    autapses = projection.source == projection.target and not projection.allow_autapses
    pairs = n_pre * n_post - (n_pre if autapses else 0)
    match projection.rule:
        case ir.EdgeList(pre):
            return Expected(len(pre), "exact")
        case ir.FixedIndegree(n):
            return Expected(n * n_post, "exact")
        case ir.FixedOutdegree(n):
            return Expected(n * n_pre, "exact")
        case ir.FixedTotalNumber(n):
            return Expected(n, "exact")
        case ir.OneToOne() if projection.condition is None:
            return Expected(0 if autapses else min(n_pre, n_post), "exact")
        case ir.AllToAll() if projection.condition is None:
            return Expected(pairs, "exact")
        case ir.FixedProbability(float() as p) if projection.condition is None:
            return Expected(round(p * pairs), "expected")
    return _sampled(network, j, pairs)


def _sampled(network: ir.Network, j: int, pairs: int) -> Expected:
    """The share of candidate pairs a condition or a probability expression keeps, from a sample."""
    projection = network.projections[j]
    if pairs <= SAMPLE_PAIRS or _neurons(network, projection) > SAMPLE_NEURONS:
        return Expected(pairs, "at most")
    space = pair_space(network, projection)
    rng = np.random.default_rng(host_key(network.simulation.seed, ESTIMATE, projection.name))  # not the build's
    if isinstance(projection.rule, ir.OneToOne):
        pre = rng.integers(0, min(space.n_pre, space.n_post), SAMPLE_PAIRS)
        post, share_of = pre, min(space.n_pre, space.n_post)
    else:
        pre, post = rng.integers(0, space.n_pre, SAMPLE_PAIRS), rng.integers(0, space.n_post, SAMPLE_PAIRS)
        share_of = space.n_pre * space.n_post
    sample = space.pairs(pre, post)
    no_autapses = projection.source == projection.target and not projection.allow_autapses
    kept = Candidates(space, projection.condition, no_autapses).mask(sample).astype(np.float64)
    if isinstance(projection.rule, ir.FixedProbability):
        p = projection.rule.p
        kept *= np.clip(sample.compute(p), 0.0, 1.0) if not isinstance(p, float) else p
    return Expected(round(float(kept.mean()) * share_of), "estimated from a sample")


def _neurons(network: ir.Network, projection: ir.Projection) -> int:
    """The neurons of a projection's two populations (those a sample of its pairs must place)."""
    return sum(network.population(name).size for name in (projection.source, projection.target))


def _per_synapse(synapse: ir.SynapseModel) -> int:
    base = PER_PLASTIC_SYNAPSE if synapse.plastic else PER_SYNAPSE
    return base + PER_SYNAPSE_STATE * len(synapse.states)


def _neuron_bytes(network: ir.Network, population: ir.Population) -> int:
    match population.model:
        case ir.NeuronModel(states=states, parameters=parameters, refractory=refractory):
            values = len(states) + sum(not isinstance(p.value, float) for p in parameters) + (refractory > 0)
            values += sum(s.population == population.name for s in network.stimuli)
            return population.size * (PER_NEURON + PER_NEURON_VALUE * values)
    return population.size * PER_SOURCE_NEURON


def _buffer_bytes(network: ir.Network, item: int) -> int:
    """Ring buffers per (target group, variable), a group being the populations of one
    neuron model (`brainsim.network.groups`), and the spike history of axonal and
    dendritic delays (one bool per neuron and step)."""
    dt = network.simulation.dt
    group_sizes: dict[object, int] = {}
    for population in network.populations:
        group_sizes[population.model] = group_sizes.get(population.model, 0) + population.size
    lengths: dict[tuple[object, str], int] = {}
    history = 0
    for projection in network.projections:
        for assignment in projection.synapse.effects():
            key = (network.population(projection.target).model, assignment.variable)
            lengths[key] = max(lengths.get(key, 0), _steps(longest_delay(network, projection), dt) + 1)
        if projection.synapse.plastic:
            ends = ((projection.source, projection.axonal_delay), (projection.target, projection.dendritic_delay))
            history += sum(_steps(delay, dt) * network.population(name).size for name, delay in ends)
    return sum(length * slot_width(group_sizes[model]) * item for (model, _), length in lengths.items()) + history


def longest_delay(network: ir.Network, projection: ir.Projection) -> float:
    """The longest delay (s) the projection's delay rule will draw: its bound where it has one."""
    match projection.delay:
        case ir.Constant(value):
            return value
        case ir.Uniform(high=high):
            return high
        case ir.Values(values):
            return max(values, default=0.0)
        case ir.ClippedNormal(mean, std, high=high):
            return min(high, mean + NORMAL_REACH * std)
        case ir.Normal(mean, std) | ir.LogNormal(mean, std):
            return mean + NORMAL_REACH * std
        case ir.Formula() if _neurons(network, projection) > SAMPLE_NEURONS:
            return 0.0  # too many neurons to place for a sample; their state is refused before this counts
        case ir.Formula(expr):
            space = pair_space(network, projection)
            rng = np.random.default_rng(host_key(network.simulation.seed, ESTIMATE, projection.name))
            sample = space.pairs(rng.integers(0, space.n_pre, SAMPLE_PAIRS), rng.integers(0, space.n_post, SAMPLE_PAIRS))
            values = sample.compute(expr)
            return float(np.max(values[np.isfinite(values)], initial=0.0))
    raise TypeError(f"not a delay rule: {projection.delay!r}")


def _table_bytes(network: ir.Network, waveform: ir.Waveform) -> int:
    """A stimulus's table of one value per step (`brainsim.network.drive.tabulate`), with the
    temporaries that make it."""
    settings = network.simulation
    match waveform:
        case ir.Sinusoid(stop=stop, start=start):
            end = settings.n_steps if stop == math.inf else _steps(stop, settings.dt)
            return 4 * 8 * (max(end, _steps(start, settings.dt)) + 1)
        case ir.StepCurrent(times=times):
            return 3 * 8 * (_steps(times[-1], settings.dt) + 1)
        case ir.TimeSeries(times=times):
            return 4 * 8 * (_steps(times[-1], settings.dt) + 2)
    return 0


def _spike_table_bytes(network: ir.Network, population: ir.Population) -> int:
    """A spike source's rows, one per step up to its last spike (`brainsim.network.drive.spike_source`)."""
    match population.model:
        case ir.SpikeTimes(times=times) if times:
            return 3 * 8 * (_steps(max(times), network.simulation.dt) + 2)
    return 0


def _recording_bytes(network: ir.Network, expected: tuple[Expected, ...], n_steps: int, item: int) -> int:
    """Sampled states and every-step synapse values, each sample with its time (as
    `brainsim.backends.memory.recording_bytes`), with synapse counts as expected."""
    dt = network.simulation.dt
    total = 0
    for record in network.state_records:
        every = 1 if record.every is None else max(1, _steps(record.every, dt))
        total += (n_steps // every) * (len(record.indices) * item + 8)
    names = [p.name for p in network.projections]
    for record in network.synapse_records:
        count = expected[names.index(record.projection)].count if record.indices is None else len(record.indices)
        samples = n_steps if record.times is None else len(record.times)
        total += samples * (count * (item if record.times is None else 8) + 8)
    return total


def _steps(seconds: float, dt: float) -> int:
    """Whole steps of `seconds`, for an estimate (`brainsim.network.groups.steps` without
    its overflow: a delay of 10^300 s is a count too, to refuse)."""
    if not math.isfinite(seconds / dt):
        return 2**63
    return max(0, round(seconds / dt))
