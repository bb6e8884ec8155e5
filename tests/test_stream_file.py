"""Recordings streamed to an HDF5 file chunk by chunk (`brainsim.export.stream`, issue 11 item 3):
the file read back with h5py (and its spikes with libsonata) equals an in-memory run
exactly, and the sink holds one chunk at a time."""

import gc
import math
import weakref

import h5py
import libsonata
import numpy as np
import pytest

import brainsim
from brainsim.cli import main
from brainsim.errors import SimulationError
from brainsim.export.stream import StreamFile, stream_to_file
from tiny_lif import tiny_model

MODEL = tiny_model("""\
synapse Plastic {
    parameters { A = 0.1 mV }
    state { w = 4 mV }
    on pre { v += w  w += A }
}
region R { a = LIF[4]  b = LIF[3] }
stimulus R.a { I_ext += 2 nA }
connect R.a -> R.b with Plastic { rule = all_to_all  delay = 1 ms }
record spikes of R
record v of R.a[0:3]
record v of R.b every 0.5 ms
record w of R.a -> R.b[0:5]
""", duration="30 ms")
STEPS, CHUNK = 300, 7


@pytest.fixture(params=["numpy", "jax"])
def backend(request):
    return request.param


def streamed(backend, path, **options):
    simulation = brainsim.loads(MODEL).compile(backend=backend, chunk_steps=CHUNK)
    return stream_to_file(simulation, path, **options)


def test_the_file_holds_exactly_what_an_in_memory_run_records(backend, tmp_path):
    path = tmp_path / "run.h5"
    summary = streamed(backend, path, description="a test")
    memory = brainsim.loads(MODEL).compile(backend=backend).run()
    with h5py.File(path, "r") as file:
        assert file.attrs["format"] == "brainsim-stream" and file.attrs["complete"]
        assert file.attrs["steps"] == STEPS and file.attrs["dt"] == memory.dt and file.attrs["backend"] == backend
        for name, trains in memory.spikes.items():
            assert len(trains.times) > 0
            np.testing.assert_array_equal(file[f"spikes/{name}/timestamps"][()], trains.times * 1e3)
            np.testing.assert_array_equal(file[f"spikes/{name}/node_ids"][()], trains.indices)
        for (population, variable), trace in memory.traces.items():
            group = file[f"traces/{population}/{variable}"]
            np.testing.assert_array_equal(group["times"][()], trace.times)
            np.testing.assert_array_equal(group["values"][()], trace.values)
            np.testing.assert_array_equal(group["indices"][()], trace.indices)
            assert group["values"].attrs["unit"] == trace.unit
        (projection, variable), trace = next(iter(memory.synapse_traces.items()))
        np.testing.assert_array_equal(file[f"synapse_traces/{projection}/{variable}/values"][()], trace.values)
        for name, counts in memory.spike_counts.items():
            np.testing.assert_array_equal(file[f"spike_counts/{name}"][()], counts)
        for population, variables in memory.final_state.items():
            for variable, values in variables.items():
                np.testing.assert_array_equal(file[f"final_state/{population}/{variable}"][()], values)
    # What stays in memory: no recordings, the counts and the final state of the whole run.
    assert summary.spikes == {} and summary.traces == {} and summary.n_steps == STEPS
    np.testing.assert_array_equal(summary.spike_counts["R.b"], memory.spike_counts["R.b"])
    np.testing.assert_array_equal(summary.synapses["R.a->R.b"].states["w"], memory.synapses["R.a->R.b"].states["w"])


def test_the_spikes_are_a_sonata_spike_file(tmp_path):
    path = tmp_path / "run.h5"
    streamed("numpy", path)
    memory = brainsim.loads(MODEL).compile().run()
    reader = libsonata.SpikeReader(str(path))
    assert sorted(reader.get_population_names()) == ["R.a", "R.b"]
    ids, times = zip(*reader["R.a"].get()) if reader["R.a"].get() else ((), ())
    np.testing.assert_array_equal(times, memory.spikes["R.a"].times * 1e3)
    np.testing.assert_array_equal(ids, memory.spikes["R.a"].indices)


def test_the_sink_takes_one_chunk_at_a_time_and_keeps_none(tmp_path):
    simulation = brainsim.loads(MODEL).compile(chunk_steps=CHUNK)
    sink = StreamFile(tmp_path / "run.h5", simulation)
    # At most, per step: v of three neurons of R.a and of R.b with their times, w of five
    # synapses with its time, and each of the seven neurons firing (a time and an id).
    most_per_step = (3 + 1) + (3 + 1) + (5 + 1) + 7 * 2
    alive = []
    for chunk in simulation.stream():
        alive.append(weakref.ref(chunk.traces[("R.a", "v")].values))
        sink.append(chunk)
        assert chunk.n_steps <= CHUNK and sink.written[-1] <= chunk.n_steps * most_per_step
        del chunk
    gc.collect()
    assert not any(ref() is not None for ref in alive)  # nothing of a chunk outlived its append
    sink.close()
    assert len(sink.written) == math.ceil(STEPS / CHUNK)


def test_streaming_to_a_file_holds_one_chunk_at_a_time(tmp_path):
    simulation = brainsim.loads(MODEL).compile(chunk_steps=CHUNK)
    stream, alive = simulation.stream, []

    def watched(duration=None):
        for chunk in stream(duration):
            gc.collect()
            assert all(ref() is None for ref in alive)  # the chunks before are gone, the summary's too
            alive.append(weakref.ref(chunk.traces[("R.a", "v")].values))
            yield chunk
            del chunk

    simulation.stream = watched
    summary = stream_to_file(simulation, tmp_path / "run.h5")
    gc.collect()
    assert len(alive) == math.ceil(STEPS / CHUNK) and all(ref() is None for ref in alive)
    assert summary.synapses["R.a->R.b"].states["w"].shape == (12,)


def test_a_run_that_fails_leaves_every_step_before_the_fault(tmp_path):
    runaway = tiny_model("""\
neuron Runaway { state { v = 1 mV }  equations { dv/dt = v / 1 ms } }
region R { p = Runaway[2] }
record v of R.p
""", duration="2000 ms")
    simulation = brainsim.loads(runaway).compile(chunk_steps=1000)
    path = tmp_path / "run.h5"
    with pytest.raises(SimulationError) as error:
        stream_to_file(simulation, path)
    with h5py.File(path, "r") as file:
        assert not file.attrs["complete"]
        done = int(file.attrs["steps"])
        assert done == error.value.step and done % 1000 != 0  # the last chunk's steps before the fault too
        values = file["traces/R.p/v/values"]
        assert values.shape == (done, 2) and np.isfinite(values[()]).all()


def test_the_command_line_streams_with_stream(tmp_path, capsys):
    model, path = tmp_path / "m.brain", tmp_path / "run.h5"
    model.write_text(MODEL)
    assert main(["run", str(model), "--output", str(path), "--stream", "--quiet"]) == 0
    assert f"recordings streamed to {path}" in capsys.readouterr().out
    with h5py.File(path, "r") as file:
        assert file.attrs["complete"] and file["traces/R.a/v/values"].shape == (STEPS, 3)


@pytest.mark.parametrize("output", [[], ["--output", "run.npz"]])
def test_stream_needs_an_h5_output(tmp_path, capsys, output):
    model = tmp_path / "m.brain"
    model.write_text(MODEL)
    assert main(["run", str(model), "--stream", *output]) == 2
    assert "--stream writes the recordings to an HDF5 file" in capsys.readouterr().err
