"""Numeric faults keep what was recorded (issue 11, item 2): a state that goes nan or inf stops the
run with a SimulationError whose `results` are the steps before the bad one, bit for bit a run of
exactly those steps, on both backends alike (and with the numpy backend's compiled loops, which
change the state in place), however the run is cut into chunks."""

import h5py
import numpy as np
import pytest

import brainsim
from brainsim.errors import SimulationError
from brainsim.export.stream import stream_to_file
from brainsim.cli import EXIT_USER_ERROR, main
from tests.backends.identity import assert_identical
from tiny_lif import tiny_model

# x' = x / 0.2 ms from x = 1 (exact integration: x_n = e^(n dt / tau)) passes the largest float
# (e^709.78) in step 1419; the LIF cells beside it spike all along, and v and x are recorded.
BAD_STEP = 1419
BLOWS_UP = tiny_model("""\
neuron Runaway { parameters { tau = 0.2 ms }  state { x = 1 }  equations { dx/dt = x / tau } }
region R { a = LIF[20]  b = Runaway[3] }
stimulus R.a { I_ext += 2 nA }
record spikes of R.a
record v of R.a[0:3] every 0.5 ms
record x of R.b
""", duration="200 ms")


def _fault(backend: str, **options) -> tuple[SimulationError, brainsim.Simulation]:
    simulation = brainsim.loads(BLOWS_UP).compile(backend=backend, **options)
    with pytest.raises(SimulationError) as error:
        simulation.run()
    return error.value, simulation


@pytest.mark.parametrize("backend, options", [("numpy", {}), ("jax", {}), ("numpy", {"compiled_updates": True}),
                                              ("jax", {"compiled_updates": True})],
                         ids=["numpy", "jax", "numpy-compiled", "jax-compiled"])
def test_the_results_before_the_bad_step_are_a_run_of_exactly_those_steps(backend, options):
    fault, simulation = _fault(backend, **options)
    assert fault.step == BAD_STEP and f"x of R.b became nan or inf in step {BAD_STEP}" in str(fault)
    kept = fault.results
    assert kept.n_steps == BAD_STEP and kept.backend == backend
    assert kept.spike_counts["R.a"].sum() > 100
    x = kept.traces[("R.b", "x")]
    assert x.values.shape == (BAD_STEP, 3) and np.isfinite(x.values).all() and x.values[-1, 0] > 1e307
    assert kept.traces[("R.a", "v")].values.shape == (BAD_STEP // 5, 3)
    assert np.array_equal(kept.final_state["R.b"]["x"], x.values[-1])  # the state after the last good step
    assert_identical(kept, brainsim.loads(BLOWS_UP).compile(backend=backend, **options).run(BAD_STEP * 1e-4))
    # The simulation stands after the last good step: running on repeats the bad one.
    assert simulation.steps_done == BAD_STEP
    with pytest.raises(SimulationError, match=f"in step {BAD_STEP},"):
        simulation.run(1e-3)


def test_numpy_and_jax_keep_the_same_bits_in_chunks_of_any_length():
    whole = _fault("numpy")[0].results
    for backend, chunk_steps, compiled in (("numpy", 100, False), ("numpy", 1000, False), ("jax", 100, False),
                                           ("jax", 1000, False), ("numpy", 100, True), ("jax", 100, True)):
        fault, _ = _fault(backend, chunk_steps=chunk_steps, **({"compiled_updates": True} if compiled else {}))
        assert fault.step == BAD_STEP
        assert_identical(whole, fault.results)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_fault_in_the_first_step_keeps_a_run_of_no_steps(backend):
    text = BLOWS_UP.replace("state { x = 1 }", "state { x = 1e308 }").replace("tau = 0.2 ms", "tau = 0.01 ms")
    simulation = brainsim.loads(text).compile(backend=backend)
    with pytest.raises(SimulationError, match="in step 0,") as error:
        simulation.run()
    kept = error.value.results
    assert kept.n_steps == 0 and kept.traces[("R.b", "x")].values.shape == (0, 3)
    assert kept.final_state["R.b"]["x"].tolist() == [1e308] * 3
    assert "R.a" in kept.format_table()  # rates of no time are unknown, not a division by zero
    assert np.isnan(kept.statistics()[0].rate)


def test_a_continued_run_keeps_the_steps_of_its_own_run():
    simulation = brainsim.loads(BLOWS_UP).compile()
    first = simulation.run(0.1)
    with pytest.raises(SimulationError) as error:
        simulation.run(0.1)
    kept = error.value.results
    assert first.n_steps == 1000 and kept.first_step == 1000 and kept.n_steps == BAD_STEP - 1000
    assert kept.traces[("R.b", "x")].times[0] == pytest.approx(0.1001)


def test_a_stream_hands_out_the_steps_before_the_fault_then_raises(tmp_path):
    chunks = []
    with pytest.raises(SimulationError):
        for chunk in brainsim.loads(BLOWS_UP).compile(chunk_steps=500).stream():
            chunks.append(chunk.n_steps)
    assert chunks == [500, 500, BAD_STEP - 1000]
    path = tmp_path / "run.h5"
    with pytest.raises(SimulationError) as error:
        stream_to_file(brainsim.loads(BLOWS_UP).compile(backend="jax", chunk_steps=500), path)
    assert error.value.results.n_steps == BAD_STEP and error.value.results.spikes == {}
    with h5py.File(path, "r") as file:
        assert not file.attrs["complete"] and int(file.attrs["steps"]) == BAD_STEP
        assert file["traces/R.b/x/values"].shape == (BAD_STEP, 3)
        assert np.array_equal(file["final_state/R.b/x"][()], file["traces/R.b/x/values"][-1])


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_the_command_line_prints_the_error_and_what_was_kept_and_writes_it(tmp_path, capsys, backend):
    model, output = tmp_path / "blows_up.brain", tmp_path / "kept.npz"
    model.write_text(BLOWS_UP)
    assert main(["run", str(model), "--backend", backend, "--output", str(output), "--quiet"]) == EXIT_USER_ERROR
    captured = capsys.readouterr()
    assert f"simulation error: x of R.b became nan or inf in step {BAD_STEP}" in captured.err
    assert "Traceback" not in captured.err
    assert f"141.9 ms of 200 ms simulated in {BAD_STEP} steps" in captured.out and "R.a" in captured.out
    assert f"results written to {output}" in captured.out
    with np.load(output) as saved:
        assert saved["traces/R.b/x/values"].shape == (BAD_STEP, 3)
