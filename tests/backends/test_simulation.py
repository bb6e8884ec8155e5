"""Whole runs: analytic answers, the documented time convention, and numpy == jax bit for bit."""

import math
import sys

import numpy as np
import pytest

from brainsim.backends import compile_network
from brainsim.errors import InvalidValueError, SimulationError
from brainsim.results import SynapseTable, compare_results

from . import networks as nets
from .identity import assert_identical

DT = 0.1e-3


def run(network, backend="numpy", duration=None, **options):
    return compile_network(network, backend=backend, **options).run(duration)


# --------------------------------------------------------------------------- known answers


def test_a_driven_lif_fires_when_the_analytic_membrane_crosses_threshold():
    """v(t) = E_L + R I (1 - e^(-t/tau)) crosses V_th at T = tau ln(R I / (R I - (V_th - E_L)));
    after each spike v is held at V_reset = E_L for t_ref, so every interval is t_ref + T
    (each rounded up to the step grid)."""
    current, tau, t_ref = 2e-9, 10e-3, 2e-3
    results = run(nets.single_lif(current, duration=0.2, t_ref=t_ref))
    crossing = tau * math.log(20e-3 / (20e-3 - 15e-3))
    times = results.spikes["Solo.lif"].times
    assert len(times) > 5
    assert crossing < times[0] <= crossing + DT
    intervals = np.diff(times)
    assert np.all((intervals > t_ref + crossing) & (intervals <= t_ref + crossing + DT + 1e-12))
    trace = results.traces[("Solo.lif", "v")]
    before = trace.times < times[0]
    analytic = -70e-3 + 20e-3 * (1 - np.exp(-trace.times[before] / tau))
    np.testing.assert_allclose(trace.values[before, 0], analytic, rtol=1e-12)
    assert np.all(results.traces[("Solo.lif", "I_ext")].values == current)


@pytest.mark.parametrize("refractory_steps", [0, 1, 5, 20])
def test_under_strong_drive_the_interval_is_the_refractory_period_plus_one_step(refractory_steps):
    """A neuron that spikes at t_{n+1} is held during steps n+1 .. n+R (R = round(t_ref / dt))
    and integrates again in step n+R+1, where a strong drive crosses at once."""
    results = run(nets.single_lif(1e-6, duration=10e-3, t_ref=refractory_steps * DT))
    steps = np.rint(results.spikes["Solo.lif"].times / DT).astype(int)
    assert steps[0] == 1
    assert np.all(np.diff(steps) == refractory_steps + 1)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("delay_steps", [1, 3, 7])
def test_an_event_with_a_delay_of_d_steps_arrives_at_the_start_of_step_n_plus_1_plus_d(backend, delay_steps):
    """The driver fires in step n = 10 (stamped t_11); its event is added to the probe's
    I_syn at the start of step 11 + d, so the first non-zero sample is the one after that
    step (which has already decayed for one step)."""
    results = run(nets.delay_probe(delay_steps * DT, pulse_start=10 * DT), backend)
    assert np.array_equal(np.rint(results.spikes["Probe.driver"].times / DT), [11])
    samples = results.traces[("Probe.probe", "I_syn")].values[:, 0]
    assert np.flatnonzero(samples)[0] == 11 + delay_steps
    assert samples[11 + delay_steps] == pytest.approx(1e-15 * math.exp(-DT / 5e-3), rel=1e-14, abs=0)


def test_stimulus_pulses_follow_the_step_schedule():
    results = run(nets.mixed())
    drive = results.traces[("Mixed.exp", "I_ext")].values[:, 0]
    steps = np.arange(len(drive))
    on = (steps >= 50) & (steps < 400) & ((steps - 50) % 70 < 20)
    constant, pulse = 1.6 * nets.nA, 1 * nets.nA
    assert np.array_equal(drive, np.where(on, constant + pulse, constant))


# --------------------------------------------------------------------------- numpy == jax


@pytest.fixture(scope="module")
def cuba_runs():
    network = nets.cuba_small()
    return run(network), run(network, "jax"), run(network, "jax", spike_capacity=1)


def test_cuba_with_random_weights_and_delays_is_bit_identical(cuba_runs):
    numpy_run, jax_run, _ = cuba_runs
    assert sum(int(c.sum()) for c in numpy_run.spike_counts.values()) > 200
    assert_identical(numpy_run, jax_run)


def test_a_spike_capacity_that_overflows_grows_and_drops_nothing(cuba_runs):
    numpy_run, _, tiny_capacity_run = cuba_runs
    assert_identical(numpy_run, tiny_capacity_run)


@pytest.mark.parametrize("batch", [1, 48])
def test_synapses_delivered_in_small_batches_drop_nothing(cuba_runs, batch):
    """A batch of one piece (16 slots) holds the synapses of at most one spiking neuron,
    so most steps loop over several batches; the sums still run in the same order."""
    numpy_run = cuba_runs[0]
    simulation = compile_network(nets.cuba_small(), backend="jax", event_batch=batch)
    assert simulation.event_batches == [16, 16] if batch == 1 else [48, 48]
    assert_identical(numpy_run, simulation.run())
    assert simulation.event_batches == ([16, 16] if batch == 1 else [48, 48])


def test_capacities_grow_are_reported_and_are_kept_for_later_runs():
    # Seed 4: both populations have a step with 2 or more spikes in these 20 ms (measured;
    # with the default seed 3 the inhibitory one fires at most once per step).
    simulation = compile_network(nets.cuba_small(duration=0.02, seed=4), backend="jax", spike_capacity=1)
    first = simulation.run()
    grown = dict(simulation.capacities)
    assert all(capacity > 1 for capacity in grown.values())
    assert simulation.bounds.growths and "grown to" in simulation.bounds.growths[0]
    assert first.compile_seconds > 0 and first.run_seconds > 0
    reported = len(simulation.bounds.growths)
    simulation.reset()
    second = simulation.run()
    assert simulation.capacities == grown and second.compile_seconds == 0.0
    assert len(simulation.bounds.growths) == reported
    assert_identical(first, second)
    assert_identical(run(nets.cuba_small(duration=0.02, seed=4)), second)


def test_estimated_capacities_need_no_recompile_for_cuba():
    """The bounds estimated from the model hold CUBA's spikes: one compilation, no growth."""
    simulation = compile_network(nets.cuba_small(duration=0.05), backend="jax")
    simulation.run()
    assert simulation.bounds.growths == [] and len(simulation._compiled) == 1


def test_the_visual_pathway_with_pulses_is_bit_identical_and_chunking_changes_nothing():
    network = nets.visual_pathway()
    numpy_run = run(network)
    assert_identical(numpy_run, run(network, "jax"))
    assert_identical(numpy_run, run(network, "jax", chunk_steps=400))  # chunks of 400, 400, 400, 300


def test_a_short_last_chunk_runs_in_the_program_of_the_full_ones():
    """Chunks of 400, 400, 400, 300 steps compile one program of 400 steps: the last chunk
    skips its extra 100 steps (no spikes, no samples from them), and a later run of 250
    steps (its chunk program: 256 steps) continues bit for bit."""
    network = nets.visual_pathway()
    numpy_simulation = compile_network(network)
    simulation = compile_network(network, backend="jax", chunk_steps=400)
    assert_identical(numpy_simulation.run(), simulation.run())
    assert [steps for steps, _ in simulation._compiled] == [400]
    assert_identical(numpy_simulation.run(250 * DT), simulation.run(250 * DT))
    assert [steps for steps, _ in simulation._compiled] == [400, 256]


def test_euler_with_exp_and_division_is_bit_identical():
    network = nets.mixed()
    numpy_run = run(network)
    assert numpy_run.spike_counts["Mixed.exp"].sum() > 10 and numpy_run.spike_counts["Mixed.seed"].sum() > 0
    assert_identical(numpy_run, run(network, "jax"))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_state_that_becomes_infinite_stops_the_run_naming_population_variable_and_time(backend):
    with pytest.raises(SimulationError) as error:
        run(nets.runaway(), backend)
    message = str(error.value)
    assert "v of Lab.runaway" in message and "became nan or inf in step" in message
    step = int(message.split("in step ")[1].split(",")[0])
    assert 5 < step < 60
    # Both backends stop at the same step.
    other = "jax" if backend == "numpy" else "numpy"
    with pytest.raises(SimulationError, match=f"in step {step},"):
        run(nets.runaway(), other)


def test_an_unknown_backend_names_the_choices():
    with pytest.raises(InvalidValueError, match="numpy, jax"):
        compile_network(nets.visual_pathway(), backend="torch")


@pytest.mark.parametrize("duration, words", [(0.05e-3, "whole number of steps"), (1.25e-4, "whole number of steps"),
                                             (-1.0, "must be a positive time"), (0.0, "must be a positive time")])
def test_a_duration_must_be_a_positive_whole_number_of_steps(duration, words):
    with pytest.raises(InvalidValueError, match=words):
        run(nets.visual_pathway(), duration=duration)


# --------------------------------------------------------------------------- results


def test_results_cover_every_population_and_print_a_table():
    results = run(nets.visual_pathway(), duration=30e-3)
    assert results.duration == 30e-3 and results.n_steps == 300
    assert set(results.spike_counts) == {"Retina.photoreceptors", "V1.simple", "Visual_Association.out"}
    trains = results.spikes["Retina.photoreceptors"]
    order = np.lexsort((trains.indices, trains.times))
    assert np.array_equal(order, np.arange(len(order)))
    assert trains.times.dtype == np.float64 and trains.indices.dtype == np.int64
    trace = results.traces[("V1.simple", "v")]
    assert trace.values.shape == (300, 3) and trace.times[0] == DT and trace.times[-1] == pytest.approx(30e-3)
    rows = {(row.name, row.kind): row for row in results.statistics()}
    retina = rows[("Retina.photoreceptors", "population")]
    assert retina.spikes == len(trains.times) and retina.rate == pytest.approx(retina.spikes / (10 * 30e-3))
    assert rows[("V1", "region")].neurons == 20
    table = results.format_table()
    assert "Retina.photoreceptors" in table and "CV ISI" in table and len(table.splitlines()) == 2 + len(rows)


def test_cv_of_interspike_intervals():
    regular = run(nets.single_lif(2e-9, duration=0.2))
    (row,) = [r for r in regular.statistics() if r.kind == "population"]
    assert row.cv_isi == pytest.approx(0.0, abs=1e-9)
    silent = run(nets.single_lif(0.0, duration=0.01))
    assert math.isnan(silent.statistics()[0].cv_isi) and silent.format_table().splitlines()[2].endswith("0.00")


def test_comparison_reports_the_first_difference():
    a, b = run(nets.cuba_small(duration=0.05, seed=3)), run(nets.cuba_small(duration=0.05, seed=4))
    comparison = compare_results(a, b)
    assert not comparison.identical
    assert comparison.first_difference is not None and comparison.first_difference >= 0
    text = comparison.format()
    assert "DIFFERENT" in text and "Cortex.exc" in text
    same = compare_results(a, a)
    assert same.identical and "identical" in same.format() and same.first_difference is None


def test_a_comparison_builds_each_projections_synapses_once_and_keeps_none():
    """A table that `compare_results` has read still holds nothing built: with every projection
    kept, the full microcircuit's two tables would take 14 GB on top of both networks."""
    a, b = run(nets.cuba_small(duration=0.02, seed=3)), run(nets.cuba_small(duration=0.02, seed=3))
    built = []
    for results in (a, b):
        builders = {name: (lambda name=name, table=results.synapses: built.append(name) or table[name])
                    for name in results.synapses}
        object.__setattr__(results, "synapses", SynapseTable(builders))
    assert compare_results(a, b).identical
    assert sorted(built) == sorted([*a.synapses] * 2)
    assert compare_results(a, b).identical and len(built) == 4 * len(a.synapses)
    a.synapses[next(iter(a.synapses))]  # read as a user reads it: built once, kept, and the next comparison reads the kept one
    assert compare_results(a, b).identical and len(built) == 6 * len(a.synapses)


def test_jax_missing_is_an_error_that_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now raises ImportError
    with pytest.raises(InvalidValueError, match="pip install jax"):
        compile_network(nets.cuba_small(), backend="jax")
