"""Static bounds for backends with static shapes, estimated from the model before the first compile.

A compiled step with static shapes lists at most `capacity` spikes per step of
each population. The capacity is estimated from what the model says:

* a `SpikeTimes` source: its largest number of spikes in one step (exact);
* a `PoissonSource`: the upper tail of its spike count per step, from its rates;
* a neuron population: the upper tail of the spike count at `ASSUMED_PEAK_RATE`
  per neuron (a rate is not known before the run).

The tail is mean + 6 sqrt(mean) + 8, rounded up to a power of two: a Poisson
count of that mean exceeds it in fewer than 1 step in 10^8. A chunk that
overflows a capacity anyway stops at the step that overflowed, grows the
capacity (to a power of two at least four times the old one and at least the
count seen), is recompiled and rerun from its start state, so nothing is ever
dropped; each growth is recorded in `growths`, and the run reports it. Four
times, not twice: the count seen is that of the first step over the capacity,
and a population that passes an estimate usually passes it by more later
(models/brunel.brain's first volleys: 139 spikes of Brunel.E in one step over
a capacity of 128, then 281 over 256, two recompiles where growing four times
needs one).

Synaptic events cannot overflow: each pathway delivers its synapses in batches
of `batches[c]` slots, as many batches as a step's spikes need. The batch size
only sets speed: slots beyond a step's events are wasted work, and one more
batch costs one more iteration of a while loop, which is cheaper. So batches
are the expected slots of a step at a low `TYPICAL_RATE` (2.5 Hz), and a
population firing faster takes several. Measured on one core, 0.3 s of CUBA,
runs of the same model interleaved: batches for 2.5 Hz against 10 Hz ran
0.205-0.215 s against 0.234 s at 16 000 neurons, 4.65-5.08 s against 5.27-5.99 s
at 256 000, and 2.71-2.93 s against 2.98-3.06 s on Brunel (`taskset -c 0 python
benchmarks/batch_rate.py 16000 10 2.5`, and 256000, brunel).
"""

from __future__ import annotations

import math

import numpy as np

from brainsim import arguments, ir
from brainsim.network import HostNetwork, PoissonDrive, SpikeSchedule

ASSUMED_PEAK_RATE = 50.0  # Hz: the mean rate a neuron population is assumed to stay below, for its capacity
TYPICAL_RATE = 2.5  # Hz: the rate a neuron population's pathway batches are sized for


def tail(mean: float) -> int:
    """A count a Poisson variable of this mean exceeds with probability below 1e-8, as a power of two."""
    return 2 ** math.ceil(math.log2(mean + 6.0 * math.sqrt(mean) + 8.0))


def grown(bound: int, peak: int, limit: int) -> int:
    """The power of two at least four times `bound` and at least `peak`, but at most `limit`."""
    return min(limit, 2 ** math.ceil(math.log2(max(4 * bound, peak))))


class StaticBounds:
    """Spike capacities per population (network index) and synapse batch sizes per pathway.

    `spike_capacity` / `event_batch` override the estimates (for every population /
    pathway), e.g. to test growth and batching.
    """

    def __init__(self, host: HostNetwork, spike_capacity: int | None = None, event_batch: int | None = None):
        for name, value in (("spike_capacity", spike_capacity), ("event_batch", event_batch)):
            if value is not None:
                arguments.count(value, name)
        self._host = host
        populations = host.network.populations
        self.capacities = [
            max(1, min(p.size, spike_capacity if spike_capacity else self._capacity(i)))
            for i, p in enumerate(populations)
        ]
        self.batches = []
        for pathway in host.pathways:
            piece = pathway.slots.shape[1]
            rows = np.diff(pathway.indptr[:-1])
            padded = -(-rows // piece) * piece  # each row's slots, its last piece padded
            if event_batch:
                wanted = event_batch
            else:
                mean_row = float(padded.mean()) if len(padded) else 0.0
                wanted = 2 ** math.ceil(math.log2(max(1.0, self._expected_spikes(pathway.source, TYPICAL_RATE) * mean_row)))
            # No step needs more than every row at once, or than its spikes on the longest rows.
            wanted = min(wanted, int(padded.sum()), self.capacities[pathway.source] * pathway.slots.size)
            self.batches.append(max(piece, -(-int(wanted) // piece) * piece))
        self.column_batches = [self._column_batch(pathway, event_batch) for pathway in host.pathways]
        self.growths: list[str] = []

    def _column_batch(self, pathway, event_batch: int | None) -> int | None:
        """Slots of a plastic pathway's `on post` at once: as `batches`, for the target's spikes
        over the columns (None: no `on post`)."""
        if pathway.columns is None or not pathway.synapse.on_post:
            return None
        target = [p.name for p in self._host.network.populations].index(
            self._host.network.projections[pathway.projections[0]].target)
        columns = pathway.columns
        piece = columns.slots.shape[1]
        padded = -(-np.diff(columns.indptr[:-1]) // piece) * piece
        if event_batch:
            wanted = event_batch
        else:
            mean = float(padded.mean()) if len(padded) else 0.0
            wanted = 2 ** math.ceil(math.log2(max(1.0, self._expected_spikes(target, TYPICAL_RATE) * mean)))
        wanted = min(wanted, int(padded.sum()), self.capacities[target] * columns.slots.size)
        return max(piece, -(-int(wanted) // piece) * piece)

    def _expected_spikes(self, i: int, neuron_rate: float) -> float:
        """The expected spikes per step of population i (for neurons: at `neuron_rate`)."""
        population, dt = self._host.network.populations[i], self._host.dt
        if isinstance(population.model, ir.NeuronModel):
            return population.size * neuron_rate * dt
        match self._source(i):
            case PoissonDrive(probability=None):
                return population.size * min(1.0, ASSUMED_PEAK_RATE * dt)  # a rate that changes in time: assumed
            case PoissonDrive(probability=probability):
                return float(np.minimum(probability, 1.0).sum())
            case SpikeSchedule(most=most):
                return float(most)
        raise TypeError(f"not a population: {population!r}")

    def _source(self, i: int):
        return next(s for s in self._host.sources if s.population == i)

    def _capacity(self, i: int) -> int:
        if isinstance(self._host.network.populations[i].model, ir.SpikeTimes):
            return self._source(i).most
        return tail(self._expected_spikes(i, ASSUMED_PEAK_RATE))

    def at_least(self, old: "StaticBounds") -> "StaticBounds":
        """These bounds raised to `old`'s where the network has the same populations and pathways
        (after new values: the old program then fits, and what `old` learned by growing is kept)."""
        if len(old.capacities) == len(self.capacities):
            self.capacities = [max(new, was) for new, was in zip(self.capacities, old.capacities)]
            self.growths = list(old.growths)
        if len(old.batches) == len(self.batches):
            self.batches, self.column_batches = list(old.batches), list(old.column_batches)
        return self

    def key(self) -> tuple:
        """What a compiled chunk depends on."""
        return tuple(self.capacities), tuple(self.batches), tuple(self.column_batches)

    def grow(self, peaks: np.ndarray, start_step: int) -> bool:
        """Raise every capacity a chunk overflowed (`peaks`: the most spikes of each
        population in one step); True if any grew."""
        grew = False
        populations = self._host.network.populations
        for i, peak in enumerate(peaks):
            if peak > self.capacities[i]:
                new = grown(self.capacities[i], int(peak), populations[i].size)
                self.growths.append(f"{populations[i].name}: {int(peak)} spikes in one step (in the chunk from step "
                                    f"{start_step}) > capacity {self.capacities[i]}; grown to {new}, recompiled")
                self.capacities[i], grew = new, True
        return grew

    def describe(self) -> str:
        names = [p.name for p in self._host.network.populations]
        return (f"capacities {dict(zip(names, self.capacities))}, batches {self.batches}, "
                f"{len(self.growths)} growth(s)")
