"""The seed's `SimulatedNeuron`: one SeedNeuron, stepped on brainsim's engine.

    >>> from brain_simulation import SimulatedNeuron, NeuronType
    >>> neuron = SimulatedNeuron(0, NeuronType.EXCITATORY, region="Hippocampus")
    >>> neuron.add_synaptic_input(15.0)          # nA into the synaptic current
    >>> spiked = neuron.update(dt_ms=0.1)

The neuron is a one-neuron network of std/seed.brain's `SeedNeuron` (the
model `.brain` files of the seed use), built as `.brain` text and stepped by
`brainsim.backends.stepping.Stepper` at the dt of its first `update`:
`add_synaptic_input(current)` adds `current` nA to its synaptic current I_syn,
which decays with tau_syn = 5 ms; `update(dt_ms)` advances one step and says
whether it spiked. The voltage follows the seed: -70 mV at rest, a spike when
it crosses -55 mV, shown as +30 mV in the step of the spike, then -70 mV and
no spike for 2 ms.
"""

from __future__ import annotations

import math

from brainsim.backends.stepping import Stepper
from brainsim.simulation.action_potential import NeuronType
from brainsim.simulation.drive import check_current, nanoamperes_in_si
from brainsim.simulation.errors import SeedValueError, is_number
from brainsim.simulation.ions import IonConcentrations
from brainsim.simulation.seed_values import seed_neuron_parameters

_POPULATION = "Neuron.cell"


def check_dt(dt_ms) -> float:
    """`dt_ms` as a float, which must be a positive, finite number of milliseconds."""
    if not is_number(dt_ms) or not (dt_ms > 0 and math.isfinite(dt_ms)):
        raise SeedValueError(f"dt_ms must be a positive number of milliseconds, but it is {dt_ms!r}")
    return float(dt_ms)


def neuron_text(dt_ms: float, kind: NeuronType) -> str:
    """The `.brain` text of one SeedNeuron of `kind`, stepped at `dt_ms`."""
    return (
        f"simulation {{ dt = {dt_ms!r} ms  duration = {dt_ms!r} ms }}\n"
        "import seed from std\n"
        f"region Neuron {{ {kind.value} cell = SeedNeuron[1] }}\n"
    )


class SimulatedNeuron:
    """A stateful neuron: `voltage_mv`, `spike_times` (ms), `add_synaptic_input`, `update`."""

    def __init__(self, neuron_id: int = 0, neuron_type: NeuronType = NeuronType.EXCITATORY, region: str = "default"):
        if not isinstance(neuron_type, NeuronType):
            raise SeedValueError(f"neuron_type must be a NeuronType (EXCITATORY or INHIBITORY), but it is {neuron_type!r}")
        values = seed_neuron_parameters()
        self.neuron_id = neuron_id
        self.neuron_type = neuron_type
        self.region = region
        self.ion_concentrations = IonConcentrations()
        self.threshold_mv = values["V_th"] * 1e3
        self.refractory_period_ms = values["t_ref"] * 1e3
        self.spike_times: list[float] = []
        self._resting_mv = values["E_L"] * 1e3
        self._pending_na = 0.0  # synaptic input added before the first update builds the stepper
        self._stepper: Stepper | None = None
        self._dt_ms: float | None = None

    @property
    def voltage_mv(self) -> float:
        """The membrane potential now, in mV."""
        if self._stepper is None:
            return self._resting_mv
        return float(self._stepper.state(_POPULATION, "v")[0]) * 1e3

    @property
    def time_ms(self) -> float:
        """The time simulated so far, in ms."""
        return 0.0 if self._stepper is None else self._stepper.n * self._dt_ms

    def add_synaptic_input(self, current: float) -> None:
        """Add `current` (nA) to the synaptic current, which then decays with tau_syn."""
        current = check_current(current)
        if self._stepper is None:
            self._pending_na += current
        else:
            self._stepper.add_to_state(_POPULATION, "I_syn", 0, nanoamperes_in_si(current))

    def update(self, dt_ms: float = 0.1) -> bool:
        """Advance by `dt_ms` (the same at every call); True if the neuron spiked in this step.

        Raises:
            SeedValueError: dt_ms is not positive, or differs from the first update's.
        """
        dt_ms = check_dt(dt_ms)
        if self._stepper is None:
            import brainsim

            self._stepper = Stepper(brainsim.loads(neuron_text(dt_ms, self.neuron_type), "<SimulatedNeuron>").network)
            self._dt_ms = dt_ms
            self.add_synaptic_input(self._pending_na)
        elif dt_ms != self._dt_ms:
            raise SeedValueError(
                f"this neuron steps with dt_ms = {self._dt_ms!r} (its first update's); it cannot change to {dt_ms!r}"
            )
        spiked = len(self._stepper.step()[_POPULATION]) > 0
        if spiked:
            self.spike_times.append(self.time_ms)
        return spiked
