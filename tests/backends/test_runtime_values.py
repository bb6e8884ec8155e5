"""New values without tracing again: `sim.set`, a process-wide cache of compiled programs,
and `run_batch` (many sets of values in one vmapped program), each bit-identical to a
separate run of the model written with those values."""

from pathlib import Path

import pytest

import brainsim
from backends import networks as nets
from backends.identity import assert_identical
from brainsim.backends import compile_network
from brainsim.errors import BrainsimError, InvalidValueError, UnknownNameError

CUBA = (Path(__file__).resolve().parents[2] / "models" / "cuba.brain").read_text()
DURATION = 30e-3

# Poisson inputs onto all-to-all synapses: a new seed changes the draws, not the structure.
POISSON = """
simulation { dt = 0.1 ms  duration = 30 ms  seed = 1 }
neuron LIF {
    parameters { tau = 10 ms  v_th = 10 mV }
    inputs { I = 0 mV }
    state { v = uniform(0 mV, 5 mV) }
    equations { dv/dt = (I - v) / tau }
    spike when v > v_th
    reset { v = 0 mV }
    refractory 2 ms
}
synapse Kick { state { w = 1.5 mV }  on pre { v += w } }
region In { drive = PoissonSource[40] { rate = 50 Hz } }
region Net { cells = LIF[30] }
connect In.drive -> Net.cells with Kick { rule = all_to_all  delay = 0.5 ms }
stimulus Net.cells { I += pulses(period = 10 ms, width = 5 ms, amplitude = 1 mV) }
record spikes of In, Net
record v of Net.cells[0:3]
"""


def cuba() -> brainsim.Model:
    return brainsim.loads(CUBA.replace("duration = 1 s", "duration = 30 ms"), "cuba.brain")


def poisson() -> brainsim.Model:
    return brainsim.loads(POISSON, "poisson.brain")


def reference(model: brainsim.Model, values: dict):
    return model.with_values(values).compile(backend="numpy").run()


SWEEP = [{"CubaLIF.taum": "15 ms"}, {"Cortex.exc -> Cortex.w": "2 mV"}, {"CubaLIF.Vt": "-49 mV", "CubaLIF.taue": "4 ms"}]


@pytest.mark.parametrize("values", SWEEP)
def test_set_reruns_without_tracing_and_equals_the_model_written_with_the_values(values):
    simulation = cuba().compile(backend="jax")
    simulation.run()
    traced = simulation.traces  # 1, or 0 if an earlier test compiled this structure
    simulation.set(values)
    assert simulation.steps_done == 0
    rerun = simulation.run()
    assert simulation.traces == traced
    assert_identical(reference(cuba(), values), rerun)


def test_set_on_numpy_equals_the_model_written_with_the_values():
    simulation = cuba().compile(backend="numpy")
    simulation.run(10e-3)
    simulation.set({"CubaLIF.taum": "15 ms"})
    assert_identical(reference(cuba(), {"CubaLIF.taum": "15 ms"}), simulation.run())


@pytest.mark.parametrize("values", [{"seed": 7}, {"In.drive.rate": "80 Hz"}, {"Net.cells.I.amplitude": "6 mV"},
                                    {"LIF.v": "uniform(0 mV, 9 mV)"}, {"In.drive -> Net.cells.w": "2 mV"}])
def test_seeds_rates_stimuli_initial_states_and_weights_are_runtime_inputs(values):
    simulation = poisson().compile(backend="jax")
    first = simulation.run()
    traced = simulation.traces
    simulation.set(values)
    second = simulation.run()
    assert simulation.traces == traced
    assert_identical(reference(poisson(), values), second)
    with pytest.raises(AssertionError):  # the value did change the run
        assert_identical(first, second)


def test_a_second_simulation_of_the_same_structure_reuses_the_compiled_program():
    cuba().compile(backend="jax").run()
    again = cuba().with_values({"CubaLIF.taum": "18 ms"}).compile(backend="jax")
    again.run()
    assert again.traces == 0


def test_a_value_that_changes_the_structure_compiles_the_new_one():
    simulation = cuba().compile(backend="jax")
    simulation.run()
    traced = simulation.traces
    simulation.set(seed=5)  # a new draw of p = 0.02 connections: another number of synapses
    rerun = simulation.run()
    assert simulation.traces > traced
    assert_identical(reference(cuba(), {"seed": 5}), rerun)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_batch_of_values_equals_separate_runs(backend):
    rates = [{"In.drive.rate": f"{rate} Hz", "seed": seed} for rate, seed in [(20, 1), (50, 2), (80, 3), (50, 4)]]
    simulation = poisson().compile(backend=backend)
    results = simulation.run_batch(rates)
    assert len(results) == 4 and len({int(r.spike_counts["Net.cells"].sum()) for r in results}) > 1
    for values, result in zip(rates, results):
        assert_identical(reference(poisson(), values), result)
    assert simulation.steps_done == 0  # the simulation's own state is untouched


def test_a_jax_batch_is_one_vmapped_program():
    simulation = cuba().compile(backend="jax")
    results = simulation.run_batch(SWEEP, DURATION)
    assert simulation.traces <= 1  # one trace of the vmapped chunk (none if cached)
    for values, result in zip(SWEEP, results):
        assert_identical(reference(cuba(), values), result)


@pytest.mark.parametrize(
    ("values", "error", "message"),
    [
        ({"Cortex.exc.nothing": "1 ms"}, UnknownNameError, "no parameter or state variable `nothing`"),
        ({"Nowhere.taum": "1 ms"}, UnknownNameError, "names no value of the model"),
        ({"CubaLIF.taum": "1 mV"}, BrainsimError, "dimension"),
        ({"CubaLIF.taum": "1 +* ms"}, BrainsimError, "<value of CubaLIF.taum>:1"),
        ({"CubaLIF.taum": [1, 2]}, InvalidValueError, "text in the language"),
        ({"Cortex.exc -> Cortex.inh.w": "1 mV"}, UnknownNameError, "no `connect Cortex.exc -> Cortex.inh`"),
    ],
)
def test_bad_values_are_errors_that_name_them(values, error, message):
    simulation = cuba().compile(backend="jax")
    with pytest.raises(error, match=message):
        simulation.set(values)
    with pytest.raises(error, match=message):
        simulation.run_batch([values])


def test_a_batch_that_changes_the_structure_is_refused():
    simulation = cuba().compile(backend="jax")
    with pytest.raises(InvalidValueError, match="changes the network's structure"):
        simulation.run_batch([{"seed": 1}, {"seed": 2}])


def test_an_empty_batch_and_a_network_without_text_are_refused():
    with pytest.raises(InvalidValueError, match="at least one"):
        cuba().compile(backend="numpy").run_batch([])
    with pytest.raises(InvalidValueError, match="model read from text"):
        compile_network(nets.cuba_small(), backend="numpy").set(seed=1)


@pytest.mark.parametrize("name", ["cobahh", "izhikevich", "stdp_song2000"])
def test_a_batch_divides_as_a_separate_run_does(name):
    """Under vmap an unbatched divisor was broadcast after the division's barrier, and XLA
    rewrote a / b as a * (1 / b): these models' batches differed from their runs in the last
    bit (`JaxNumerics.divide`)."""
    model = brainsim.load(Path(__file__).resolve().parents[2] / "models" / f"{name}.brain")
    same = {"seed": model.network.simulation.seed}
    separate = model.compile(backend="numpy").run(0.05)
    for result in model.compile(backend="jax").run_batch([same, same], 0.05):
        assert_identical(separate, result)
