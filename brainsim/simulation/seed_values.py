"""The numbers of the seed's neuron, read from the standard library's `SeedNeuron`.

The object API (`brainsim.simulation`) and `import seed from std` must describe
the same neuron, so the API holds no copy of its numbers: it lowers
brainsim/std/seed.brain once and reads the parameter values (SI units) from
there, and a change to that file changes both.
"""

from __future__ import annotations

from functools import cache

import brainsim

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
