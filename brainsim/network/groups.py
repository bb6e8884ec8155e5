"""Neuron populations as groups: populations of one model simulated as one array.

Populations whose neuron models are equal (same equations and parameter values)
are simulated together as one `Group`: elementwise arithmetic gives the same
bits on a concatenated array as on its pieces, so grouping changes only speed.
Spike sources are not grouped; `brainsim.network.drive` places them.

Populations with heterogeneous parameters (`ir.Parameter.value` an
initializer) group too when their models are equal: each population draws its
own values (`brainsim.network.values`), the group holds them concatenated, and
the kernel reads them as per-neuron arrays; the exact method's propagators are
computed per distinct tuple of values, so they do not depend on the grouping
either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.integrators import Integration, integrate
from brainsim.network.values import neuron_values


@dataclass(frozen=True, eq=False)
class Group:
    """Populations sharing one neuron model, simulated as one array of `size` neurons.

    Population `populations[k]` holds elements offsets[k] : offsets[k] + sizes[k];
    `indices[k]` is its position in the network's population list. `parameters`
    holds the heterogeneous parameters (name -> one value per neuron), `initial`
    the state at t = 0.
    """

    model: ir.NeuronModel
    integration: Integration
    populations: tuple[str, ...]
    indices: tuple[int, ...]
    offsets: tuple[int, ...]
    sizes: tuple[int, ...]
    refractory_steps: int
    parameters: Mapping[str, np.ndarray]
    initial: Mapping[str, np.ndarray]

    @property
    def size(self) -> int:
        return sum(self.sizes)

    @property
    def slices(self) -> tuple[tuple[int, int], ...]:
        return tuple((offset, offset + size) for offset, size in zip(self.offsets, self.sizes))


def build_groups(network: ir.Network) -> tuple[tuple[Group, ...], dict[str, tuple[int, int]]]:
    """The groups of `network`'s neuron populations, and where each population is:
    population name -> (group index, offset within the group)."""
    members: dict[ir.NeuronModel, list[int]] = {}
    for i, population in enumerate(network.populations):
        if isinstance(population.model, ir.NeuronModel):
            members.setdefault(population.model, []).append(i)
    seed, dt = network.simulation.seed, network.simulation.dt
    groups, placement = [], {}
    for model, indices in members.items():
        populations = [network.populations[i] for i in indices]
        sizes = tuple(p.size for p in populations)
        offsets = tuple(int(o) for o in np.cumsum((0,) + sizes[:-1]))
        drawn = [neuron_values(p, seed) for p in populations]
        parameters = {name: np.concatenate([d.parameters[name] for d in drawn]) for name in drawn[0].parameters}
        initial = {s.name: np.concatenate([d.initial[s.name] for d in drawn]) for s in model.states}
        for population, offset in zip(populations, offsets):
            placement[population.name] = (len(groups), offset)
        groups.append(Group(
            model=model,
            integration=integrate(model, dt, parameters),
            populations=tuple(p.name for p in populations),
            indices=tuple(indices),
            offsets=offsets,
            sizes=sizes,
            refractory_steps=steps(model.refractory, dt),
            parameters=parameters,
            initial=initial,
        ))
    return tuple(groups), placement


def steps(seconds: float, dt: float) -> int:
    """A duration in whole steps, rounded to the nearest (halves to even), the one
    conversion every delay, period, width and refractory period goes through."""
    return round(seconds / dt)
