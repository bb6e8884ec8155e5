"""Ion concentrations and their Nernst potentials, as the seed's `IonConcentrations` has them.

    >>> from brain_simulation import IonConcentrations
    >>> round(IonConcentrations().calculate_nernst_potential("na"), 1)
    66.6

The default concentrations and temperature are std/seed.brain's (`SeedNeuron`),
so the potentials are the ones a `.brain` model of the seed's neuron uses:
E_ion = R T / (z F) ln([ion]_out / [ion]_in), with the CODATA constants of
`brainsim.units`, in mV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from brainsim.errors import did_you_mean
from brainsim.simulation.errors import SeedKeyError, SeedValueError, is_number
from brainsim.simulation.seed_values import seed_neuron_parameters
from brainsim.units import physical_constant

VALENCES = {"na": 1, "k": 1, "ca": 2, "cl": -1}
"""The ions the seed knows, by the names `calculate_nernst_potential` takes, and their charge."""


def _seed(name: str) -> float:
    return seed_neuron_parameters()[name]


def _default(name: str):
    return field(default_factory=lambda: _seed(name))


@dataclass
class IonConcentrations:
    """Concentrations inside and outside the membrane, in mM, and the temperature in K."""

    na_inside: float = _default("Na_in")
    na_outside: float = _default("Na_out")
    k_inside: float = _default("K_in")
    k_outside: float = _default("K_out")
    ca_inside: float = _default("Ca_in")
    ca_outside: float = _default("Ca_out")
    cl_inside: float = _default("Cl_in")
    cl_outside: float = _default("Cl_out")
    temperature_k: float = _default("T")

    def calculate_nernst_potential(self, ion: str) -> float:
        """The equilibrium potential of `ion` ('na', 'k', 'ca' or 'cl'; any case), in mV.

        Raises:
            SeedKeyError: `ion` is not one of those four.
            SeedValueError: a concentration of that ion, or the temperature, is not above 0.
        """
        key = ion.lower() if isinstance(ion, str) else ion
        if key not in VALENCES:
            raise SeedKeyError(
                f"unknown ion {ion!r}; the ions are {', '.join(map(repr, VALENCES))}",
                hint=did_you_mean(str(key), VALENCES),
            )
        gas, _ = physical_constant("R")
        faraday, _ = physical_constant("F")
        inside, outside = getattr(self, f"{key}_inside"), getattr(self, f"{key}_outside")
        for name, value in ((f"{key}_inside", inside), (f"{key}_outside", outside), ("temperature_k", self.temperature_k)):
            if not (is_number(value) and value > 0 and math.isfinite(value)):
                raise SeedValueError(f"{name} must be a positive number (mM, or K for the temperature), but it is {value!r}")
        volts = gas * self.temperature_k / (VALENCES[key] * faraday) * math.log(outside / inside)
        return volts * 1e3
