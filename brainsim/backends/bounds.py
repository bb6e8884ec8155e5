"""Static bounds for backends with static shapes: estimated from the model, grown on overflow.

A compiled step with static shapes lists at most `capacity` spikes per step of
each population and at most `budget` synapse slots per step of each pathway.
The bounds are estimated before the first compilation from what the model says:

* a `SpikeTimes` source: its largest number of spikes in one step (exact);
* a `PoissonSource`: the upper tail of its spike count per step, from its rates;
* a neuron population: the upper tail of the spike count of `ASSUMED_RATE`
  per neuron (the rate is not known before the run);
* a pathway: the expected slots of its source's spikes at the estimated count
  (mean padded row length), with the same tail margin.

The tail is mean + 6 sqrt(mean) + 8, rounded up to a power of two: for a
Poisson count that is exceeded in fewer than 1 step in 10^8. A chunk that
overflows a bound anyway grows it (to a power of two at least twice the old
one and at least the count seen, at most what can ever be needed), is
recompiled and rerun from its start state, so nothing is ever dropped; each
growth is recorded in `growths` and reported by the run.
"""

from __future__ import annotations

import math

import numpy as np

from brainsim import ir
from brainsim.network import HostNetwork, PoissonDrive, SpikeSchedule

ASSUMED_RATE = 50.0  # Hz: what a neuron population is assumed to fire at most, on average, before a run


def tail(mean: float) -> int:
    """A count a Poisson variable of this mean exceeds with probability below 1e-8, as a power of two."""
    return 2 ** math.ceil(math.log2(mean + 6.0 * math.sqrt(mean) + 8.0))


def grown(bound: int, peak: int, limit: int) -> int:
    """The power of two at least twice `bound` and at least `peak`, but at most `limit`."""
    return min(limit, 2 ** math.ceil(math.log2(max(2 * bound, peak))))


class StaticBounds:
    """Spike capacities per population (network index) and slot budgets per pathway.

    `spike_capacity` / `event_budget` override the estimates (the initial bound of
    every population / pathway), e.g. to test growth.
    """

    def __init__(self, host: HostNetwork, spike_capacity: int | None = None, event_budget: int | None = None):
        self._host = host
        populations = host.network.populations
        means = [self._expected_spikes(i) for i in range(len(populations))]
        self.capacities = [
            max(1, min(p.size, spike_capacity if spike_capacity else self._capacity(i, means[i])))
            for i, p in enumerate(populations)
        ]
        self.budgets, self.budget_limits = [], []
        for pathway in host.pathways:
            piece = pathway.slots.shape[1]
            rows = np.diff(pathway.indptr[:-1])
            padded = -(-rows // piece) * piece  # each row's slots, its last piece padded
            limit = max(piece, int(padded.sum()))
            if event_budget:
                wanted = event_budget
            else:
                wanted = tail(means[pathway.source] * float(padded.mean() if len(padded) else 0.0))
            wanted = min(wanted, self.capacities[pathway.source] * pathway.slots.size)
            self.budget_limits.append(limit)
            self.budgets.append(min(limit, max(piece, -(-int(wanted) // piece) * piece)))
        self.growths: list[str] = []

    def _expected_spikes(self, i: int) -> float:
        """The expected spikes per step of population i, at most (an estimate for neurons)."""
        population, dt = self._host.network.populations[i], self._host.dt
        match population.model:
            case ir.NeuronModel():
                return population.size * ASSUMED_RATE * dt
        source = next(s for s in self._host.sources if s.population == i)
        match source:
            case PoissonDrive(probability=None):
                return population.size * min(1.0, ASSUMED_RATE * dt)  # a rate that changes in time: assumed
            case PoissonDrive(probability=probability):
                return float(np.minimum(probability, 1.0).sum())
            case SpikeSchedule(most=most):
                return float(most)
        raise TypeError(f"not a population: {population!r}")

    def _capacity(self, i: int, mean: float) -> int:
        source = next((s for s in self._host.sources if s.population == i), None)
        return source.most if isinstance(source, SpikeSchedule) else tail(mean)

    def key(self) -> tuple:
        """What a compiled chunk depends on."""
        return tuple(self.capacities), tuple(self.budgets)

    def grow(self, peaks: np.ndarray, slots: np.ndarray, start_step: int) -> bool:
        """Raise every bound a chunk overflowed (`peaks`: spikes per population, `slots`:
        per pathway, the most seen in one step); True if any grew."""
        grew = False
        populations = self._host.network.populations
        for i, peak in enumerate(peaks):
            if peak > self.capacities[i]:
                new = grown(self.capacities[i], int(peak), populations[i].size)
                self.growths.append(f"{populations[i].name}: {int(peak)} spikes in one step (from step {start_step}) "
                                    f"> capacity {self.capacities[i]}, now {new}")
                self.capacities[i], grew = new, True
        for c, peak in enumerate(slots):
            if peak > self.budgets[c]:
                new = grown(self.budgets[c], int(peak), self.budget_limits[c])
                name = self._host.network.projections[self._host.pathways[c].projections[0]].name
                self.growths.append(f"pathway of {name}: {int(peak)} synapse slots in one step (from step {start_step}) "
                                    f"> budget {self.budgets[c]}, now {new}")
                self.budgets[c], grew = new, True
        return grew

    def describe(self) -> str:
        names = [p.name for p in self._host.network.populations]
        return (f"capacities {dict(zip(names, self.capacities))}, budgets {self.budgets}, "
                f"{len(self.growths)} growth(s)")
