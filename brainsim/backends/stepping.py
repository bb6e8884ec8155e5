"""A network advanced one step at a time, its inputs set and its state changed between steps.

The seed's object API (`brainsim.simulation`) is imperative: a user injects a
current, advances one step, reads the voltage. `Stepper` gives that on the
numpy backend's step, the very step a `.brain` run takes: the same host
arrays, the same kernel, the same carry; only the loop is the caller's. An
input set with `set_input` holds for the next step only (the seed's
`inject_current` is a current during one step); a state changed with
`add_to_state` stays changed.
"""

from __future__ import annotations

import numpy as np

from brainsim import ir
from brainsim.backends.kernel import nonfinite_error
from brainsim.backends.numpy_backend import NumpySimulation, copied_carry, flush_subnormals
from brainsim.errors import SimulationError


class Stepper:
    """`network` ready to step; `n` steps done so far, each of `dt` seconds."""

    def __init__(self, network: ir.Network):
        self._simulation = NumpySimulation(network)
        self._program = self._simulation.program
        self._carry = copied_carry(self._program.carry)
        self._inputs: dict[tuple[int, str], np.ndarray] = {}
        self._failure: SimulationError | None = None
        self.dt = self._simulation.host.dt
        self.n = 0

    def set_input(self, population: str, name: str, values: np.ndarray) -> None:
        """Input `name` of `population`'s neurons is `values` (SI) during the next step, then its default again."""
        g, offset = self._simulation.host.placement[population]
        if (g, name) not in self._inputs:
            default = self._program.arrays.groups[g].scalars[name]
            self._inputs[(g, name)] = np.full(self._simulation.host.groups[g].size, default, dtype=np.float64)
        self._inputs[(g, name)][offset : offset + len(values)] = values

    def state(self, population: str, variable: str) -> np.ndarray:
        """The current values of state `variable` of `population` (a copy, SI)."""
        g, offset = self._simulation.host.placement[population]
        names = [s.name for s in self._simulation.host.groups[g].model.states]
        size = self._simulation.network.population(population).size
        return self._carry.groups[g].variables[names.index(variable)][offset : offset + size].copy()

    def add_to_state(self, population: str, variable: str, index: int, amount: float) -> None:
        """State `variable` of neuron `index` of `population` += `amount` (SI), now."""
        g, offset = self._simulation.host.placement[population]
        names = [s.name for s in self._simulation.host.groups[g].model.states]
        self._carry.groups[g].variables[names.index(variable)][offset + index] += amount

    def step(self) -> dict[str, np.ndarray]:
        """Advance one step; the indices of each population's neurons that spiked in it.

        Raises:
            SimulationError: a state became nan or inf (this step), or an earlier step did.
        """
        if self._failure is not None:
            raise SimulationError(f"this simulation cannot step again: an earlier step failed ({self._failure.message})")
        arrays = self._program.arrays
        if self._inputs:
            groups = list(arrays.groups)
            for (g, name), values in self._inputs.items():
                groups[g] = groups[g]._replace(scalars={**groups[g].scalars, name: values})
            arrays = arrays._replace(groups=tuple(groups))
            self._inputs = {}
        with np.errstate(all="ignore"), flush_subnormals():
            self._carry, out = self._program.step(self._carry, arrays, self.n)
        for flags in out.finite:
            if not np.all(flags):
                self._failure = nonfinite_error(self._simulation.host, out.finite, self.n)
                raise self._failure
        self.n += 1
        populations = self._simulation.network.populations
        return {p.name: np.asarray(indices) for p, (indices, _) in zip(populations, out.spikes)}
