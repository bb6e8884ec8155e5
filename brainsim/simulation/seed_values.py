"""The numbers of the seed's neuron, read from the standard library's `SeedNeuron`.

The object API (`brainsim.simulation`) and `import seed from std` must describe
the same neuron, so the API holds no copy of its numbers: it lowers
brainsim/std/seed.brain once and reads the parameter values (SI units) from
there, and a change to that file changes both.
"""

from __future__ import annotations

from functools import cache

import brainsim
from brainsim import ir

_PROBE = """\
simulation { dt = 0.1 ms  duration = 0.1 ms }
import seed from std
region Probe { cell = SeedNeuron[1] }
"""


@cache
def seed_neuron_parameters() -> dict[str, float]:
    """SeedNeuron's parameters by name, in SI units (V, s, ohm, K, mol/m^3 = mM)."""
    model = brainsim.loads(_PROBE, "<seed neuron>")
    (population,) = model.network.populations
    return {parameter.name: parameter.value for parameter in population.model.parameters}


_SYNAPSE_PROBE = """\
simulation {{ dt = 0.1 ms  duration = 0.1 ms }}
import seed from std
region Probe {{ a = SeedNeuron[1]  b = SeedNeuron[1]  gate = LearningGate[1] }}
connect Probe.a -> Probe.b with {name} {{ modulator = Probe.gate }}
"""


@cache
def seed_synapse_model(name: str) -> ir.SynapseModel:
    """std/seed.brain's synapse model `name`, as lowered (connected through a modulator, which
    the gated ones need and the others ignore)."""
    model = brainsim.loads(_SYNAPSE_PROBE.format(name=name), "<seed synapse>")
    (projection,) = model.network.projections
    return projection.synapse


def seed_synapse_parameters(name: str) -> dict[str, float]:
    """The parameters of std/seed.brain's synapse model `name`, in SI units."""
    return {parameter.name: parameter.value for parameter in seed_synapse_model(name).parameters}
