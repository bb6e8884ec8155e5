"""A network advanced one step at a time, its inputs set and its state changed between steps.

The seed's object API (`brainsim.simulation`) is imperative: a user injects a
current, advances one step, reads the voltage. `Stepper` gives that on either
backend's own step (`Simulation.stepping`), the very step a `.brain` run takes:
the same host arrays, the same kernel, the same carry; only the loop is the
caller's. An input set with `set_input` holds for the next step only (the
seed's `inject_current` is a current during one step); a state changed with
`add_to_state` stays changed.
"""

from __future__ import annotations

import numpy as np

from brainsim import ir
from brainsim.backends import compile_network
from brainsim.backends.kernel import nonfinite_error
from brainsim.errors import SimulationError
from brainsim.network import located


class Stepper:
    """`network` ready to step on `backend` ("numpy" or "jax"); `n` steps done so far, each of `dt` seconds."""

    def __init__(self, network: ir.Network, backend: str = "numpy"):
        self._simulation = compile_network(network, backend)
        self._steps = self._simulation.stepping()
        self._carry = self._steps.carry
        self._inputs: dict[tuple[int, str], np.ndarray] = {}
        self._failure: SimulationError | None = None
        self.dt = self._simulation.host.dt
        self.n = 0

    @property
    def network(self) -> ir.Network:
        return self._simulation.network

    def set_input(self, population: str, name: str, values: np.ndarray) -> None:
        """Input `name` of `population`'s neurons is `values` (SI) during the next step, then its default again."""
        g, offset = self._simulation.host.placement[population]
        if (g, name) not in self._inputs:
            default = self._steps.arrays.groups[g].scalars[name]
            self._inputs[(g, name)] = np.full(self._simulation.host.groups[g].size, default, dtype=np.float64)
        self._inputs[(g, name)][offset : offset + len(values)] = values

    def state(self, population: str, variable: str) -> np.ndarray:
        """The current values of state `variable` of `population` (a copy, SI)."""
        g, k, inside = self._where(population, variable)
        return np.array(self._carry.groups[g].variables[k][inside])

    def add_to_state(self, population: str, variable: str, index: int, amount: float) -> None:
        """State `variable` of neuron `index` of `population` += `amount` (SI), now."""
        g, k, inside = self._where(population, variable)
        group = self._carry.groups[g]
        variables = list(group.variables)
        variables[k] = self._steps.add(variables[k], np.array([inside.start + index]), np.float64(amount))
        groups = list(self._carry.groups)
        groups[g] = group._replace(variables=tuple(variables))
        self._carry = self._carry._replace(groups=tuple(groups))

    def synapse_state(self, projection: str, variable: str) -> np.ndarray:
        """The current values of synapse state `variable` of `projection`, in projection order (a copy, SI).

        An event-driven state is as its synapse's last event left it (not brought to now).
        """
        j = [p.name for p in self.network.projections].index(projection)
        c, positions = located(self._simulation.host.pathways, j)
        names = [s.name for s in self._simulation.host.pathways[c].synapse.states]
        return np.asarray(self._carry.synapses[c][names.index(variable)])[positions]

    def step(self) -> dict[str, np.ndarray]:
        """Advance one step; the indices of each population's neurons that spiked in it.

        Raises:
            SimulationError: a state became nan or inf (this step), or an earlier step did.
        """
        if self._failure is not None:
            raise SimulationError(f"this simulation cannot step again: an earlier step failed ({self._failure.message})")
        arrays = self._steps.arrays
        if self._inputs:
            groups = list(arrays.groups)
            for (g, name), values in self._inputs.items():
                groups[g] = groups[g]._replace(scalars={**groups[g].scalars, name: values})
            arrays = arrays._replace(groups=tuple(groups))
            self._inputs = {}
        carry, out = self._steps.advance(self._carry, arrays, self.n)
        for flags in out.finite:
            if not np.all(flags):
                self._failure = nonfinite_error(self._simulation.host, out.finite, self.n)
                raise self._failure
        self._carry = carry
        self.n += 1
        populations = self.network.populations
        return {p.name: indices for p, (indices, _) in zip(populations, out.spikes)}

    def _where(self, population: str, variable: str) -> tuple[int, int, slice]:
        """(group, state index, the population's slice of the group) of `variable` of `population`."""
        g, offset = self._simulation.host.placement[population]
        names = [s.name for s in self._simulation.host.groups[g].model.states]
        return g, names.index(variable), slice(offset, offset + self.network.population(population).size)
