"""The seed's description as plain per-object Python: the speed baseline for `BrainSimulation`.

This is NOT brainsim, and it imports nothing of it. It is how the seed's
brain_simulation.py works (../shared/seed/brain_simulation_overview.txt): one
Python object per neuron and per synapse, and a network whose `simulate_step`
loops over every neuron and then every synapse, in Python floats.
benchmarks/seed_api_speed.py runs it beside `brain_simulation.BrainSimulation`
(the same API on brainsim's compiled step) to measure what the engine gains.

The dynamics are std/seed.brain's `SeedNeuron` and `Hebbian`, in the seed's
units (mV, ms, nA; R_m = 10 Mohm, so R_m * I in nA is mV), by forward Euler:

    dv/dt     = (E_L - v + R_m (I_syn + I_ext)) / tau_m     tau_m = 10 ms, E_L = -70 mV
    dI_syn/dt = -I_syn / tau_syn                            tau_syn = 5 ms

A spike when v > -55 mV: v shows +30 mV in that step, then -70 mV, held for the
2 ms refractory period (no spike then). A synapse queues each presynaptic spike
and adds its weight (nA, in [0, 10]) to the target's I_syn `delay_ms` later;
its Hebbian rule is the seed's two lines. The step order is brainsim's
(docs/semantics.md): a spike stamped t arrives at t + delay and is felt from
the step that starts then, and the rule sees the spikes of the same step.
"""

from __future__ import annotations

import enum
from collections import deque

TAU_M, E_L, R_M = 10.0, -70.0, 10.0  # ms, mV, Mohm
TAU_SYN = 5.0  # ms
V_TH, V_PEAK, V_RESET = -55.0, 30.0, -70.0  # mV
T_REF = 2.0  # ms
W_MAX = 10.0  # nA


class NeuronType(enum.Enum):
    """The seed's two kinds of neuron (stored only: the seed's weights are all >= 0)."""

    EXCITATORY = "excitatory"
    INHIBITORY = "inhibitory"


class SeedNeuron:
    """One neuron: `voltage_mv`, `spike_times` (ms), `add_synaptic_input`, `update`."""

    def __init__(self, neuron_id: int, neuron_type: NeuronType = NeuronType.EXCITATORY, region: str = "default"):
        self.neuron_id, self.neuron_type, self.region = neuron_id, neuron_type, region
        self.voltage_mv = E_L
        self.i_syn = 0.0  # nA
        self.i_ext = 0.0  # nA, for the next step only
        self.steps = 0
        self.last_spike_ms = -1000.0
        self.spike_times: list[float] = []

    def add_synaptic_input(self, current: float) -> None:
        """Add `current` nA to the synaptic current."""
        self.i_syn += current

    def update(self, dt_ms: float = 0.1) -> bool:
        """One forward-Euler step of `dt_ms`; True if the neuron spiked in it."""
        t = self.steps * dt_ms
        # SeedNeuron's test for the refractory steps: exactly round(T_REF / dt) of them.
        refractory = t - self.last_spike_ms < T_REF - dt_ms / 2
        if refractory:
            self.voltage_mv = V_RESET
        else:
            self.voltage_mv += dt_ms * (E_L - self.voltage_mv + R_M * (self.i_syn + self.i_ext)) / TAU_M
        self.i_syn -= dt_ms * self.i_syn / TAU_SYN
        self.i_ext = 0.0
        self.steps += 1
        if refractory or self.voltage_mv <= V_TH:
            return False
        self.voltage_mv = V_PEAK
        self.last_spike_ms = self.steps * dt_ms
        self.spike_times.append(self.last_spike_ms)
        return True


class SeedSynapse:
    """A connection: `weight` (nA, in [0, 10]), `delay_ms`, `learning_rate`, a queue of spikes in flight."""

    def __init__(self, pre: SeedNeuron, post: SeedNeuron, initial_weight: float = 2.0, delay_ms: float = 1.0,
                 learning_rate: float = 0.01):
        self.pre, self.post = pre, post
        self.weight, self.delay_ms, self.learning_rate = initial_weight, delay_ms, learning_rate
        self.in_flight: deque[tuple[float, float]] = deque()  # (arrival ms, weight), oldest first

    def transmit(self, current_time_ms: float, pre_spiked: bool, tolerance_ms: float = 1e-6) -> float:
        """Queue a spike sent at `current_time_ms` (if `pre_spiked`) and add to `post` every spike
        due by then (`tolerance_ms` absorbs the rounding of times on the grid); returns the nA delivered."""
        if pre_spiked:
            self.in_flight.append((current_time_ms + self.delay_ms, self.weight))
        delivered = 0.0
        while self.in_flight and self.in_flight[0][0] <= current_time_ms + tolerance_ms:
            delivered += self.in_flight.popleft()[1]
        if delivered:
            self.post.add_synaptic_input(delivered)
        return delivered

    def apply_hebbian_learning(self, pre_spiked: bool, post_spiked: bool) -> float:
        """The seed's rule, as the seed writes it; the weight stays in [0, 10]. Returns it."""
        if pre_spiked and post_spiked:
            self.weight += self.learning_rate * (W_MAX - self.weight)  # LTP
        elif pre_spiked and not post_spiked:
            self.weight -= self.learning_rate * 0.005 * self.weight  # LTD
        self.weight = min(max(self.weight, 0.0), W_MAX)
        return self.weight


class SeedNetwork:
    """Neurons and synapses stepped together, with the seed's `BrainSimulation` methods."""

    def __init__(self, dt_ms: float = 0.1):
        self.dt_ms = dt_ms
        self.steps = 0
        self.neurons: dict[int, SeedNeuron] = {}
        self.neuron_groups: dict[str, list[int]] = {}
        self.synapses: list[SeedSynapse] = []

    @property
    def current_time_ms(self) -> float:
        return self.steps * self.dt_ms

    def add_neuron(self, neuron_id: int, neuron_type: NeuronType = NeuronType.EXCITATORY,
                   region: str = "default") -> int:
        self.neurons[neuron_id] = SeedNeuron(neuron_id, neuron_type, region)
        self.neuron_groups.setdefault(region, []).append(neuron_id)
        return neuron_id

    def connect_neurons(self, pre_id: int, post_id: int, weight: float = 2.0, delay_ms: float = 1.0) -> SeedSynapse:
        synapse = SeedSynapse(self.neurons[pre_id], self.neurons[post_id], weight, delay_ms)
        self.synapses.append(synapse)
        return synapse

    def inject_current(self, neuron_id: int, current: float) -> None:
        """Add `current` nA to the neuron's I_ext during the next step only."""
        self.neurons[neuron_id].i_ext += current

    def stimulate_region(self, region: str, current: float) -> None:
        for neuron_id in self.neuron_groups[region]:
            self.inject_current(neuron_id, current)

    def simulate_step(self, enable_learning: bool = True) -> dict[str, int]:
        """Update every neuron, then transmit (and learn) on every synapse; spikes per region."""
        spiked = {neuron_id: neuron.update(self.dt_ms) for neuron_id, neuron in self.neurons.items()}
        self.steps += 1
        now = self.current_time_ms
        for synapse in self.synapses:
            pre_spiked = spiked[synapse.pre.neuron_id]
            synapse.transmit(now, pre_spiked)
            if enable_learning:
                synapse.apply_hebbian_learning(pre_spiked, spiked[synapse.post.neuron_id])
        counts = dict.fromkeys(self.neuron_groups, 0)
        for neuron_id, fired in spiked.items():
            counts[self.neurons[neuron_id].region] += fired
        return counts
