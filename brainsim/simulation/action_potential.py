"""The phases of the seed's action potential, described in words with their numbers.

The numbers are SeedNeuron's (std/seed.brain): rest, threshold, the spike's
peak, the refractory period, and the Na+ and K+ equilibrium potentials that
drive depolarisation and repolarisation.
"""

from __future__ import annotations

from enum import Enum

from brainsim.simulation.ions import IonConcentrations
from brainsim.simulation.seed_values import seed_neuron_parameters


class NeuronType(Enum):
    """Whether a neuron's synapses excite or inhibit (Dale's law; `ir.NeuronKind` in a `.brain` model)."""

    EXCITATORY = "excitatory"
    INHIBITORY = "inhibitory"


def _mv(name: str) -> str:
    return f"{seed_neuron_parameters()[name] * 1e3:+g} mV".replace("+-", "-")


class ActionPotential:
    """The five phases as text: `ActionPotential.get_depolarization()` and its siblings."""

    @staticmethod
    def get_resting_state() -> str:
        return (f"Resting State: V_m = {_mv('E_L')}; the membrane is polarised, K+ leak channels dominate "
                f"(E_K = {IonConcentrations().calculate_nernst_potential('k'):.1f} mV)")

    @staticmethod
    def get_depolarization() -> str:
        return (f"Depolarization Phase: Threshold: {_mv('V_th')}; input currents raise V_m from rest "
                f"({_mv('E_L')}) and, above threshold, Na+ channels open and drive V_m towards "
                f"E_Na = {IonConcentrations().calculate_nernst_potential('na'):.1f} mV")

    @staticmethod
    def get_spike() -> str:
        return f"Spike: V_m peaks at {_mv('V_peak')}, the all-or-none action potential"

    @staticmethod
    def get_repolarization() -> str:
        return (f"Repolarization Phase: Na+ channels inactivate and K+ channels open; V_m returns to "
                f"{_mv('V_reset')}, towards E_K = {IonConcentrations().calculate_nernst_potential('k'):.1f} mV")

    @staticmethod
    def get_refractory_period() -> str:
        t_ref = seed_neuron_parameters()["t_ref"] * 1e3
        return f"Refractory Period: {t_ref:g} ms during which the neuron cannot fire again"

    @classmethod
    def phases(cls) -> tuple[str, ...]:
        """All five descriptions, in the order they happen."""
        return (cls.get_resting_state(), cls.get_depolarization(), cls.get_spike(),
                cls.get_repolarization(), cls.get_refractory_period())
