"""The seed's object API (brain_simulation.py), on brainsim's engine: also importable as `brain_simulation`.

Built so far (issue 8): `IonConcentrations` with the seed's Nernst potentials,
`NeuronType`, `ActionPotential`'s phase descriptions, `SimulatedNeuron` stepped
on the engine, `Synapse` with the seed's Hebbian rule, and the errors, which are
brainsim errors and also the ValueError / KeyError the seed's users catch.
Every number comes from std/seed.brain's `SeedNeuron`, the neuron a `.brain`
model of the seed uses.
"""

from brainsim.simulation.action_potential import ActionPotential, NeuronType
from brainsim.simulation.errors import SeedKeyError, SeedValueError
from brainsim.simulation.ions import IonConcentrations
from brainsim.simulation.network import BrainSimulation
from brainsim.simulation.neuron import SimulatedNeuron
from brainsim.simulation.synapse import Synapse

__all__ = ["ActionPotential", "BrainSimulation", "IonConcentrations", "NeuronType", "SeedKeyError", "SeedValueError", "SimulatedNeuron",
           "Synapse"]
