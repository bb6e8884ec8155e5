"""benchmarks/seed_objects.py, the per-object baseline that benchmarks/seed_api_speed.py times
`BrainSimulation` against: it must be a correct implementation of the seed for the
comparison to mean anything (the seed's spike shape and refractory period, its Hebbian
numbers, the delay queue, a network that propagates spikes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _baseline():
    spec = importlib.util.spec_from_file_location("seed_objects", ROOT / "benchmarks" / "seed_objects.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


seed = _baseline()
DT = 0.1


def test_the_baseline_imports_nothing_of_brainsim():
    text = (ROOT / "benchmarks" / "seed_objects.py").read_text()
    assert "import brain" not in text and "from brain" not in text


def test_a_neuron_rises_from_rest_through_threshold_to_the_peak_then_holds_rest_for_2_ms():
    neuron = seed.SeedNeuron(0)
    neuron.add_synaptic_input(15.0)  # the seed's own example
    trace = [neuron.voltage_mv]
    while not neuron.update(DT):
        trace.append(neuron.voltage_mv)
    assert trace[0] == -70.0 and all(a < b for a, b in zip(trace, trace[1:]))
    assert -70.0 < trace[-1] <= -55.0 and neuron.voltage_mv == 30.0
    assert neuron.spike_times == [pytest.approx(len(trace) * DT)]
    after = [(neuron.update(DT), neuron.voltage_mv) for _ in range(21)]
    assert after[:20] == [(False, -70.0)] * 20  # round(2 ms / 0.1 ms) steps at rest, no spike
    assert after[20][1] > -70.0  # integrating again


def test_a_strong_drive_fires_once_every_refractory_period_plus_one_step():
    neuron = seed.SeedNeuron(0)
    for _ in range(200):
        neuron.i_ext = 1000.0  # enough to cross threshold in one step
        neuron.update(DT)
    intervals = [b - a for a, b in zip(neuron.spike_times, neuron.spike_times[1:])]
    assert len(intervals) >= 8 and intervals == pytest.approx([2.0 + DT] * len(intervals))


@pytest.mark.parametrize(("pre", "post", "weight", "expected"), [
    (True, True, 2.0, 2.0 + 0.01 * (10.0 - 2.0)),    # LTP: 2.08
    (True, False, 2.0, 2.0 - 0.01 * 0.005 * 2.0),    # LTD: 1.9999
    (False, True, 2.0, 2.0),
    (False, False, 2.0, 2.0),
    (True, True, 10.0, 10.0),
    (True, False, 0.0, 0.0),
])
def test_the_hebbian_rule_is_the_seeds_two_lines(pre, post, weight, expected):
    synapse = seed.SeedSynapse(seed.SeedNeuron(0), seed.SeedNeuron(1), initial_weight=weight)
    assert synapse.apply_hebbian_learning(pre, post) == expected
    assert synapse.weight == expected


def test_the_hebbian_numbers():
    synapse = seed.SeedSynapse(seed.SeedNeuron(0), seed.SeedNeuron(1), initial_weight=2.0)
    assert synapse.apply_hebbian_learning(True, True) == pytest.approx(2.08, abs=1e-15)
    assert synapse.apply_hebbian_learning(True, False) == pytest.approx(2.08 * (1 - 5e-5), abs=1e-15)


def test_the_delay_queue_delivers_each_spike_with_its_weight_at_sent_time_plus_delay():
    post = seed.SeedNeuron(1)
    synapse = seed.SeedSynapse(seed.SeedNeuron(0), post, initial_weight=2.0, delay_ms=1.0)
    assert synapse.transmit(10.0, pre_spiked=True) == 0.0
    synapse.weight = 3.0
    assert synapse.transmit(10.5, pre_spiked=True) == 0.0
    assert synapse.transmit(10.9, pre_spiked=False) == 0.0
    assert synapse.transmit(11.0, pre_spiked=False) == 2.0 and post.i_syn == 2.0
    assert synapse.transmit(11.4, pre_spiked=False) == 0.0
    assert synapse.transmit(11.5, pre_spiked=False) == 3.0 and post.i_syn == 5.0
    assert not synapse.in_flight


def test_a_tiny_network_propagates_spikes_after_the_delay():
    network = seed.SeedNetwork(dt_ms=DT)
    for neuron_id, region in enumerate(["In", "Mid", "Out"]):
        assert network.add_neuron(neuron_id, seed.NeuronType.EXCITATORY, region=region) == neuron_id
    network.connect_neurons(0, 1, weight=10.0, delay_ms=1.5)
    network.connect_neurons(1, 2, weight=10.0, delay_ms=1.0)
    totals = dict.fromkeys(network.neuron_groups, 0)
    felt_at = None
    for _ in range(300):
        network.stimulate_region("In", current=3.0)
        for region, count in network.simulate_step(enable_learning=True).items():
            totals[region] += count
        if felt_at is None and network.neurons[1].i_syn > 0:
            felt_at = network.current_time_ms
    first = network.neurons[0].spike_times[0]
    assert felt_at == pytest.approx(first + 1.5)
    assert totals == {region: len(network.neurons[i].spike_times) for i, region in enumerate(["In", "Mid", "Out"])}
    assert totals["In"] >= 1 and totals["Mid"] >= 1 and totals["Out"] >= 1
    assert network.neurons[1].spike_times[0] > first + 1.5
    # Only LTD happened on 0 -> 1 (never both in one step): one factor (1 - 5e-5) per presynaptic spike.
    assert network.synapses[0].weight == pytest.approx(10.0 * (1 - 5e-5) ** totals["In"])


def test_inject_current_lasts_one_step():
    network = seed.SeedNetwork(dt_ms=DT)
    network.add_neuron(0)
    network.inject_current(0, 10.0)
    network.simulate_step()
    kicked = network.neurons[0].voltage_mv
    assert kicked == pytest.approx(-70.0 + DT * 100.0 / 10.0)
    network.simulate_step()
    assert network.neurons[0].voltage_mv == pytest.approx(kicked + DT * (-70.0 - kicked) / 10.0)
