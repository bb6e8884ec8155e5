"""Host-side construction of a network: every array a backend starts from, built in one room.

`build(network)` turns a valid `ir.Network` (`brainsim.validate` has checked
it) into a `HostNetwork` of numpy arrays, identically for every backend:
groups of neuron populations with their initial states (`groups`),
connectivity and the pathways the step runs, with their padding and ring
buffers (`connectivity`), stimulus schedules, spike sources and records
(`drive`). Nothing here depends on the backend, so both backends start from
the very same numbers, and the kernel never builds an array.

Randomness comes from numpy generators keyed by the network seed, by what is
drawn and by the name of what it belongs to (`keys.host_key`; H(name) is a
64-bit hash of the name, `keys.name_hash`), never by declaration order, so
reordering the file, or adding a population, does not change the draws of another:

    initial value of state k of population P      host_key(seed, INITIAL_STATE, P, k)
    synapses of projection J                       host_key(seed, SYNAPSES, J)
    initial value of synapse state k of J          host_key(seed, SYNAPSE_STATE, J, k)
    delays of projection J                         host_key(seed, DELAYS, J)
    rates of Poisson source population P           host_key(seed, RATES, P)
    heterogeneous parameter k of population P      host_key(seed, PARAMETERS, P, k)
    positions of population P                      host_key(seed, POSITIONS, P)

Runtime randomness (Poisson spikes, noise) comes from the counter-based
generator, `brainsim.backends.random`, inside the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.network.connectivity import (
    Buffer, Connectivity, Pathway, SynapseRecord, buffers, connect, located, pathways, synapse_record,
)
from brainsim.network.drive import (
    NoiseCurrent, PoissonDrive, Record, Schedule, SpikeSchedule, record, schedules, spike_source,
)
from brainsim.network.groups import Group, build_groups


@dataclass(frozen=True, eq=False)
class HostNetwork:
    """Everything a backend needs, as plain numpy arrays; `placement` maps a neuron
    population to (group index, offset within the group); `sources` are the spike
    source populations."""

    network: ir.Network
    dt: float
    groups: tuple[Group, ...]
    placement: Mapping[str, tuple[int, int]]
    projections: tuple[Connectivity, ...]
    pathways: tuple[Pathway, ...]
    buffers: tuple[Buffer, ...]
    schedules: tuple[Schedule | NoiseCurrent, ...]
    sources: tuple[PoissonDrive | SpikeSchedule, ...]
    records: tuple[Record, ...]
    synapse_records: tuple[SynapseRecord, ...] = ()

    def steps(self, duration: float, start: int = 0) -> int:
        """`duration` (s) as a whole number of steps, run after `start` steps; InvalidValueError
        if it is not one, or if the run would pass the end of a stimulus table (a sinusoid
        without `stop`)."""
        number = isinstance(duration, (int, float, np.integer, np.floating)) and not isinstance(duration, bool)
        steps = round(duration / self.dt) if number and duration == duration and abs(duration) < 1e300 else 0
        if steps < 1 or abs(steps * self.dt - duration) > 1e-9 * max(duration, self.dt):
            raise InvalidValueError(
                f"the duration {duration!r} s is not a positive whole number of steps of {self.dt!r} s"
            )
        for stimulus in self.schedules:
            match stimulus:
                case Schedule(horizon=int() as horizon, span=span) if start + steps > horizon:
                    raise InvalidValueError(
                        f"a run to t = {(start + steps) * self.dt:.12g} s is longer than the model's duration, "
                        f"for which this stimulus is tabulated ({horizon * self.dt!r} s)",
                        span,
                        "give the sinusoid a `stop`, or set the longer `duration` in the `simulation` block",
                    )
        return steps


def build(network: ir.Network) -> HostNetwork:
    """Construct every array of the valid `network` on the host, from its seed."""
    groups, placement = build_groups(network)
    sizes = [g.size for g in groups]
    drawn = [connect(network, j, placement) for j in range(len(network.projections))]
    all_pathways = pathways(network, drawn, sizes)  # replaces a lone projection by views into its pathway
    projections = tuple(drawn)
    del drawn
    return HostNetwork(
        network=network,
        dt=network.simulation.dt,
        groups=groups,
        placement=placement,
        projections=projections,
        pathways=all_pathways,
        buffers=buffers(all_pathways, sizes),
        schedules=schedules(network, placement, sizes),
        sources=tuple(
            spike_source(network, i) for i, p in enumerate(network.populations) if not isinstance(p.model, ir.NeuronModel)
        ),
        records=tuple(record(r, placement, network.simulation.dt) for r in network.state_records),
        synapse_records=tuple(synapse_record(network, r, all_pathways, projections) for r in network.synapse_records),
    )


__all__ = [
    "Buffer", "Connectivity", "Group", "HostNetwork", "NoiseCurrent", "Pathway", "PoissonDrive", "Record", "Schedule",
    "SpikeSchedule", "SynapseRecord", "build", "located",
]
