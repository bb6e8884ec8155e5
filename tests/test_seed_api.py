"""The seed's object API (issue 8, first part): ions, Nernst potentials, neuron types,
the action potential's phases, and errors that are also ValueError / KeyError."""

from __future__ import annotations

import pytest

import brainsim
from brainsim.simulation import ActionPotential, IonConcentrations, NeuronType, SeedKeyError, SeedValueError

SEED_NEURON = """\
simulation { dt = 0.1 ms  duration = 0.1 ms }
import seed from std
region R { cell = SeedNeuron[1] }
"""


def test_the_seed_module_name_exports_the_same_objects():
    import brain_simulation

    assert brain_simulation.IonConcentrations is IonConcentrations
    assert set(brain_simulation.__all__) >= {"IonConcentrations", "NeuronType", "ActionPotential"}


def test_the_seeds_nernst_snippet_runs_verbatim(capsys):
    from brain_simulation import IonConcentrations

    ions = IonConcentrations()
    e_na = ions.calculate_nernst_potential('na')
    e_k = ions.calculate_nernst_potential('k')
    print(f"Sodium equilibrium: {e_na:.2f} mV")
    print(f"Potassium equilibrium: {e_k:.2f} mV")
    assert capsys.readouterr().out == "Sodium equilibrium: 66.60 mV\nPotassium equilibrium: -97.74 mV\n"


@pytest.mark.parametrize("ion, seed_says, parameter", [("na", 66, "E_Na"), ("k", -98, "E_K"), ("ca", 132, "E_Ca"),
                                                      ("cl", -89, "E_Cl")])
def test_potentials_are_the_seeds_and_the_standard_librarys(ion, seed_says, parameter):
    """About the seed's numbers, and the same (to rounding) as SeedNeuron's `nernst(...)` parameters."""
    potential = IonConcentrations().calculate_nernst_potential(ion)
    assert abs(potential - seed_says) < 1.0
    (population,) = brainsim.loads(SEED_NEURON).network.populations
    values = {p.name: p.value for p in population.model.parameters}
    assert potential * 1e-3 == pytest.approx(values[parameter], rel=1e-14)


def test_the_potential_follows_the_concentrations_and_the_temperature():
    """Ten times the outside concentration: + R T ln(10) / F, 61.5 mV at 37 degrees C for Na+."""
    base = IonConcentrations()
    tenfold = IonConcentrations(na_outside=base.na_outside * 10)
    assert tenfold.calculate_nernst_potential("NA") - base.calculate_nernst_potential("na") == pytest.approx(61.54, abs=0.01)
    colder = IonConcentrations(temperature_k=base.temperature_k / 2)
    assert colder.calculate_nernst_potential("k") == pytest.approx(base.calculate_nernst_potential("k") / 2, rel=1e-12)


def test_an_unknown_ion_is_a_key_error_that_names_it_and_suggests_one():
    with pytest.raises(KeyError) as caught:
        IonConcentrations().calculate_nernst_potential("Cl-")
    error = caught.value
    assert isinstance(error, SeedKeyError) and isinstance(error, brainsim.BrainsimError)
    assert "unknown ion 'Cl-'" in str(error) and "'na', 'k', 'ca', 'cl'" in str(error)
    assert "cl" in IonConcentrations.calculate_nernst_potential.__doc__
    with pytest.raises(SeedKeyError, match="unknown ion 'sodium'"):
        IonConcentrations().calculate_nernst_potential("sodium")


@pytest.mark.parametrize("ion, name, value", [("k", "k_inside", 0.0), ("ca", "ca_outside", -2.0),
                                              ("na", "temperature_k", 0.0), ("na", "na_inside", float("nan"))])
def test_a_concentration_or_temperature_not_above_zero_is_a_value_error(ion, name, value):
    with pytest.raises(ValueError) as caught:
        IonConcentrations(**{name: value}).calculate_nernst_potential(ion)
    assert isinstance(caught.value, SeedValueError)
    assert name in caught.value.message and repr(value) in caught.value.message


def test_neuron_types_and_the_action_potentials_phases_carry_the_seeds_numbers():
    assert {t.name for t in NeuronType} >= {"EXCITATORY", "INHIBITORY"}
    assert ActionPotential.get_depolarization().startswith("Depolarization Phase: Threshold: -55 mV")
    resting, depolarization, spike, repolarization, refractory = ActionPotential.phases()
    assert "-70 mV" in resting and "+30 mV" in spike and "-70 mV" in repolarization
    assert "2 ms" in refractory and "66.6 mV" in depolarization and "-97.7 mV" in repolarization


def test_the_example_of_docs_seed_api_runs():
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "seed_api.md").read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/seed_api.md", "exec"), {})
