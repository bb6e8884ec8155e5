"""The seed's object API (issue 8, first part): ions, Nernst potentials, neuron types,
the action potential's phases, and errors that are also ValueError / KeyError."""

from __future__ import annotations

import re

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


def test_the_example_of_docs_seed_api_runs(tmp_path, monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(tmp_path)  # the examples write files (`to_brain`)
    text = (Path(__file__).resolve().parent.parent / "docs" / "seed_api.md").read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(compile(block, "docs/seed_api.md", "exec"), {})


# --------------------------------------------------------------------------- SimulatedNeuron


def trajectory(neuron, steps: int, dt_ms: float = 0.1) -> tuple[list[float], list[bool]]:
    voltages, spikes = [], []
    for _ in range(steps):
        spikes.append(neuron.update(dt_ms=dt_ms))
        voltages.append(neuron.voltage_mv)
    return voltages, spikes


@pytest.mark.parametrize("current", [10.0, 15.0])
def test_a_neuron_goes_from_rest_through_threshold_to_the_peak_then_rests_refractory(current):
    """The seed's action potential: -70 mV, above -55 mV, +30 mV in the spike's step, then -70 mV for 2 ms."""
    from brain_simulation import NeuronType, SimulatedNeuron

    neuron = SimulatedNeuron(neuron_id=0, neuron_type=NeuronType.EXCITATORY, region="Hippocampus")
    assert neuron.voltage_mv == -70.0 and neuron.threshold_mv == -55.0 and neuron.refractory_period_ms == 2.0
    assert neuron.ion_concentrations.calculate_nernst_potential("k") == pytest.approx(-97.74, abs=0.01)
    neuron.add_synaptic_input(current)
    rising = []
    while not neuron.update(dt_ms=0.1):  # 10 nA once does not reach threshold; the seed keeps adding it
        rising.append(neuron.voltage_mv)
        if current == 10.0:
            neuron.add_synaptic_input(current)
        assert len(rising) < 200, "no spike"
    # Up from rest, below threshold until the step that crosses it, which shows the +30 mV peak.
    assert -70.0 < rising[0] < rising[-1] <= -55.0 and rising[-1] > -57.0
    assert all(a < b for a, b in zip(rising, rising[1:]))
    assert neuron.voltage_mv == 30.0
    assert neuron.spike_times == [pytest.approx(neuron.time_ms)]
    # Refractory: 2 ms at rest whatever the input, then it may fire again.
    neuron.add_synaptic_input(1000.0)
    voltages, spikes = trajectory(neuron, 20)
    assert not any(spikes) and voltages[0] == pytest.approx(-70.0, abs=1e-9)
    assert all(v == pytest.approx(-70.0, abs=1e-9) for v in voltages[:19])
    assert any(trajectory(neuron, 5)[1])


def test_the_neuron_is_the_standard_librarys_seed_neuron_bit_for_bit():
    """One input at t = 0 into I_syn: the same voltages as a `.brain` run of SeedNeuron with I_syn = 15 nA at t = 0."""
    from brain_simulation import SimulatedNeuron

    neuron = SimulatedNeuron()
    neuron.add_synaptic_input(15.0)
    voltages, _ = trajectory(neuron, 100)
    text = SEED_NEURON.replace("duration = 0.1 ms", "duration = 10 ms").replace(
        "cell = SeedNeuron[1]", "cell = SeedNeuron[1] { I_syn = 15 nA }") + "record v of R.cell\n"
    trace = brainsim.loads(text).compile("numpy").run().traces[("R.cell", "v")]
    assert [v * 1e3 for v in trace.values[:, 0]] == voltages


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan"), "0.1", True])
def test_a_step_that_is_not_a_positive_number_is_a_value_error(dt):
    from brain_simulation import SimulatedNeuron

    with pytest.raises(ValueError) as caught:
        SimulatedNeuron().update(dt_ms=dt)
    assert isinstance(caught.value, SeedValueError) and repr(dt) in caught.value.message


def test_a_neuron_keeps_the_step_of_its_first_update():
    from brain_simulation import SimulatedNeuron

    neuron = SimulatedNeuron()
    neuron.update(dt_ms=0.1)
    with pytest.raises(SeedValueError, match="dt_ms = 0.1 .* cannot change to 0.05"):
        neuron.update(dt_ms=0.05)


def test_a_stepper_that_failed_refuses_to_step_again():
    """A state that becomes inf stops that step with the population and variable, and every later one."""
    from brainsim.backends.stepping import Stepper
    from brainsim.errors import SimulationError

    stepper = Stepper(brainsim.loads(SEED_NEURON).network)
    stepper.add_to_state("R.cell", "I_syn", 0, float("inf"))
    with pytest.raises(SimulationError, match="of R.cell became nan or inf in step 0"):
        stepper.step()
    with pytest.raises(SimulationError, match="cannot step again"):
        stepper.step()


def test_an_input_set_between_steps_holds_for_one_step():
    from brainsim.backends.stepping import Stepper

    stepper = Stepper(brainsim.loads(SEED_NEURON).network)
    stepper.set_input("R.cell", "I_ext", [10e-9])
    stepper.step()
    after_one = stepper.state("R.cell", "v")[0]
    stepper.step()
    # dv = dt / tau_m * R_m * I = 0.1 ms / 10 ms * 10 Mohm * 10 nA = 1 mV, then the leak pulls back.
    assert after_one == pytest.approx(-0.069, abs=1e-6) and stepper.state("R.cell", "v")[0] < after_one


def test_the_seeds_neuron_snippets_run_verbatim(capsys):
    from brain_simulation import NeuronType, SimulatedNeuron

    neuron = SimulatedNeuron(
        neuron_id=0,
        neuron_type=NeuronType.EXCITATORY,
        region="Hippocampus"
    )
    neuron.add_synaptic_input(15.0)
    spiked = neuron.update(dt_ms=0.1)
    if spiked:
        print(f"Neuron spiked at {neuron.voltage_mv} mV!")
    neuron = SimulatedNeuron(0)
    neuron.add_synaptic_input(10.0)
    spiked = neuron.update(dt_ms=0.1)
    # One step of 0.1 ms moves the membrane, but not yet to threshold: nothing printed, no spike.
    assert not spiked and capsys.readouterr().out == "" and -70.0 < neuron.voltage_mv < -55.0


# --------------------------------------------------------------------------- Synapse


def test_the_seeds_synapse_snippet_runs_verbatim():
    from brain_simulation import NeuronType, SimulatedNeuron, Synapse

    pre = SimulatedNeuron(0, NeuronType.EXCITATORY)
    post = SimulatedNeuron(1, NeuronType.EXCITATORY)
    synapse = Synapse(pre, post, initial_weight=2.0, delay_ms=1.0)
    synapse.transmit(current_time_ms=10.0, pre_spiked=True)
    synapse.apply_hebbian_learning(pre_spiked=True, post_spiked=True)
    assert synapse.weight > 2.0 and synapse.learning_rate == 0.01 and synapse.delay_ms == 1.0


def test_hebbian_learning_is_the_seeds_formula_bit_for_bit():
    """Random pre/post patterns: the weights equal the seed's two lines, as the seed computes them."""
    import random

    from brain_simulation import SimulatedNeuron, Synapse

    rng = random.Random(7)
    for learning_rate in (0.01, 0.2):
        synapse = Synapse(SimulatedNeuron(0), SimulatedNeuron(1), initial_weight=9.5, learning_rate=learning_rate)
        weight = 9.5
        for _ in range(2000):
            pre_spiked, post_spiked = rng.random() < 0.5, rng.random() < 0.3
            if pre_spiked and post_spiked:
                weight += learning_rate * (10.0 - weight)
            elif pre_spiked and not post_spiked:
                weight -= learning_rate * 0.005 * weight
            weight = min(max(weight, 0.0), 10.0)
            assert synapse.apply_hebbian_learning(pre_spiked, post_spiked) == weight
        assert 0.0 <= synapse.weight <= 10.0


def test_a_transmitted_spike_reaches_the_postsynaptic_neuron_after_the_delay():
    from brain_simulation import SimulatedNeuron, Synapse

    post = SimulatedNeuron(1)
    synapse = Synapse(SimulatedNeuron(0), post, initial_weight=3.0, delay_ms=1.0)
    assert synapse.transmit(10.0, pre_spiked=True) == 0.0
    assert synapse.transmit(10.9, pre_spiked=False) == 0.0
    assert synapse.transmit(11.0, pre_spiked=False) == 3.0
    post.update(0.1)
    assert post.voltage_mv > -70.0  # 3 nA of synaptic current: 0.1 ms / 10 ms * 10 Mohm * 3 nA ~ 0.3 mV


@pytest.mark.parametrize("arguments, fragment", [({"initial_weight": 10.5}, "initial_weight must be a number in [0, 10]"),
                                                 ({"initial_weight": -1}, "but it is -1"),
                                                 ({"delay_ms": -1.0}, "delay_ms"),
                                                 ({"learning_rate": float("nan")}, "learning_rate")])
def test_a_synapse_refuses_values_outside_the_seeds_ranges(arguments, fragment):
    from brain_simulation import SimulatedNeuron, Synapse

    with pytest.raises(ValueError, match=re.escape(fragment)) as caught:
        Synapse(SimulatedNeuron(0), SimulatedNeuron(1), **arguments)
    assert isinstance(caught.value, SeedValueError)


def test_a_synapse_connects_neurons_only():
    from brain_simulation import SimulatedNeuron, Synapse

    with pytest.raises(SeedValueError, match="presynaptic neuron must be a SimulatedNeuron, but it is 0"):
        Synapse(0, SimulatedNeuron(1))
