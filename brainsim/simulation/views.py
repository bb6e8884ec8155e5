"""The neurons and synapses of a `BrainSimulation`, seen one at a time as the seed's objects.

`sim.neurons[3].spike_times` and `sim.synapses[0].weight` read the engine's
arrays when asked; they hold no state of their own, so stepping the network
costs nothing per neuron or synapse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brainsim.simulation.action_potential import NeuronType
from brainsim.simulation.ions import IonConcentrations
from brainsim.simulation.seed_values import seed_neuron_parameters

if TYPE_CHECKING:
    from brainsim.simulation.network import BrainSimulation


class NetworkNeuron:
    """Neuron `neuron_id` of `simulation`: `voltage_mv`, `spike_times` (ms), `region`, ..."""

    def __init__(self, simulation: "BrainSimulation", neuron_id: int, neuron_type: NeuronType, region: str):
        values = seed_neuron_parameters()
        self._simulation = simulation
        self.neuron_id = neuron_id
        self.neuron_type = neuron_type
        self.region = region
        self.threshold_mv = values["V_th"] * 1e3
        self.refractory_period_ms = values["t_ref"] * 1e3
        self.ion_concentrations = IonConcentrations()

    @property
    def voltage_mv(self) -> float:
        """The membrane potential now, in mV."""
        return self._simulation.voltage_mv(self.neuron_id)

    @property
    def spike_times(self) -> list[float]:
        """The times of its spikes so far (ms, the end of each spike's step)."""
        return self._simulation.get_spike_times(self.neuron_id)

    def add_synaptic_input(self, current: float) -> None:
        """Add `current` (nA) to its synaptic current, which then decays with tau_syn (as `SimulatedNeuron`)."""
        self._simulation.add_synaptic_input(self.neuron_id, current)

    def __repr__(self) -> str:
        return f"<neuron {self.neuron_id} ({self.neuron_type.value}) of {self.region}>"


class NetworkSynapse:
    """Synapse `index` of `simulation`, in the order made: `pre_id`, `post_id`, `weight` (nA), `delay_ms`."""

    def __init__(self, simulation: "BrainSimulation", index: int, pre_id: int, post_id: int, delay_ms: float,
                 learning_rate: float):
        self._simulation = simulation
        self._index = index
        self.pre_id, self.post_id = pre_id, post_id
        self.delay_ms = delay_ms
        self.learning_rate = learning_rate

    @property
    def weight(self) -> float:
        """The weight now (nA): the current a presynaptic spike adds to the target."""
        return self._simulation.synapse_weight_na(self._index)

    def __repr__(self) -> str:
        return f"<synapse {self.pre_id} -> {self.post_id}, weight {self.weight:.4g} nA, delay {self.delay_ms:g} ms>"
