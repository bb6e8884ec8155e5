"""A simulation keeps its state between runs: `run(a)` then `run(b)` is `run(a + b)`, bit for
bit, on both backends; `stream` hands out the same steps chunk by chunk; `record ... every`
samples at multiples of its interval however a run is cut."""

from pathlib import Path

import numpy as np
import pytest

import brainsim
from backends.identity import assert_identical
from brainsim.errors import BrainsimError, InvalidValueError
from brainsim.results import Results

MODELS = Path(__file__).resolve().parents[2] / "models"
BACKENDS = ("numpy", "jax")


def model(name: str, **replacements: str) -> brainsim.Model:
    text = (MODELS / f"{name}.brain").read_text()
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    return brainsim.loads(text, f"{name}.brain")


def cuba(record: str = "record v of Cortex.exc[0:5]", spikes: str = "record spikes of Cortex") -> brainsim.Model:
    return model("cuba", **{"duration = 1 s": "duration = 60 ms", "record v of Cortex.exc[0:5]": record,
                            "record spikes of Cortex": spikes})


# Static synapses with two delays; plasticity with Poisson inputs drawn at run time
# (Song 2000); a seed-API-style learning model with synapse snapshots at 50 and 100 ms.
CASES = {
    "cuba": lambda: cuba(),
    "song2000": lambda: model("stdp_song2000", **{"duration = 100 s": "duration = 40 ms"}),
    "learning": lambda: model("visual_pathway_learning", **{"at [50 ms, 100 ms, 150 ms]": "at [0 ms, 5 ms, 12 ms]",
                                                            "duration = 150 ms": "duration = 20 ms"}),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_continued_equals_one_run_of_the_whole_time(case, backend):
    brain = CASES[case]()
    whole = brain.compile(backend=backend).run()
    simulation = brain.compile(backend=backend)
    dt = simulation.host.dt
    steps = simulation.host.steps(whole.duration)
    first = simulation.run(steps // 3 * dt)
    assert simulation.steps_done == steps // 3 and first.start == 0.0
    second = simulation.run((steps - steps // 3) * dt)
    assert second.start == pytest.approx(steps // 3 * dt) and simulation.time == pytest.approx(whole.duration)
    assert_identical(whole, Results.joined([first, second]))


@pytest.mark.parametrize("case", CASES)
def test_continued_runs_are_identical_across_backends(case):
    def halves(backend):
        simulation = CASES[case]().compile(backend=backend)
        half = simulation.host.steps(simulation.network.simulation.duration) // 2 * simulation.host.dt
        return Results.joined([simulation.run(half), simulation.run(half)])

    assert_identical(halves("numpy"), halves("jax"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_hands_out_each_chunk_and_together_they_are_the_run(backend):
    brain = cuba()
    whole = brain.compile(backend=backend).run()
    simulation = brain.compile(backend=backend, chunk_steps=170)
    chunks = list(simulation.stream())
    assert [c.n_steps for c in chunks] == [170, 170, 170, 90]
    assert [round(c.start / simulation.host.dt) for c in chunks] == [0, 170, 340, 510]
    for chunk in chunks:  # each chunk holds its own steps only
        times = chunk.traces[("Cortex.exc", "v")].times
        assert times[0] == pytest.approx(chunk.start + simulation.host.dt)
        assert times[-1] == pytest.approx(chunk.start + chunk.duration)
    assert_identical(whole, Results.joined(chunks))


@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_goes_back_to_the_initial_state(backend):
    simulation = cuba().compile(backend=backend)
    first = simulation.run()
    simulation.run(5e-3)
    simulation.reset()
    assert simulation.steps_done == 0
    assert_identical(first, simulation.run())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_record_every_k_steps_holds_the_samples_at_multiples_of_k(backend):
    every_step = cuba().compile(backend=backend).run().traces[("Cortex.exc", "v")]
    sampled_model = cuba("record v of Cortex.exc[0:5] every 0.7 ms")
    simulation = sampled_model.compile(backend=backend, chunk_steps=37)  # chunks not aligned to 7 steps
    parts = [simulation.run(11e-3), simulation.run(49e-3)]
    sampled = Results.joined(parts).traces[("Cortex.exc", "v")]
    k = np.arange(1, 600 // 7 + 1) * 7  # steps after which a sample is taken
    np.testing.assert_array_equal(np.rint(sampled.times / 1e-4).astype(int), k)
    np.testing.assert_array_equal(sampled.values, every_step.values[k - 1])


def test_sampled_records_are_identical_across_backends():
    runs = [cuba("record v of Cortex.exc[0:5] every 1 ms").compile(backend=b, chunk_steps=45).run() for b in BACKENDS]
    assert runs[0].traces[("Cortex.exc", "v")].values.shape == (60, 5)
    assert_identical(*runs)


def test_a_jax_chunk_holds_only_its_samples():
    """The compiled chunk returns ceil(length / k) rows for a record sampled every k steps."""
    simulation = cuba("record v of Cortex.exc every 1 ms").compile(backend="jax", chunk_steps=300)
    simulation.run()
    compiled = simulation._compiled[(300, simulation.bounds.key())]
    shapes = [leaf.shape for leaf in __import__("jax").tree_util.tree_leaves(compiled.run.out_info[5])]
    assert shapes == [(30, 3200)]


@pytest.mark.parametrize(
    ("spikes", "record", "message"),
    [
        ("record spikes of Cortex every 1 ms", "record v of Cortex.exc[0:5]", "spikes are recorded as they happen"),
        ("record spikes of Cortex", "record v of Cortex.exc[0:5] every 0.15 ms", "positive whole number of steps"),
        ("record spikes of Cortex", "record v of Cortex.exc[0:5] every -1 ms", "positive whole number of steps"),
        ("record spikes of Cortex", "record v of Cortex.exc[0:5] every 1 mV", "dimension"),
    ],
)
def test_a_bad_sampling_interval_is_an_error_at_its_place(spikes, record, message):
    with pytest.raises(BrainsimError, match=message) as caught:
        cuba(record, spikes)
    assert "cuba.brain:4" in str(caught.value)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("duration, words", [
    ("10 mV", "'10 mV' is not a time"), (-1e-3, "must be a positive time, not -0.001"),
    (0.15e-4, "1.5e-05 s is not a positive whole number of steps"), (float("nan"), "must be a finite time, not nan"),
    (True, "not True"),
])
def test_a_bad_duration_is_an_error_that_names_it(backend, duration, words):
    simulation = cuba().compile(backend=backend)
    with pytest.raises(InvalidValueError) as caught:
        simulation.run(duration)
    assert words in str(caught.value)
    assert simulation.steps_done == 0


def test_a_duration_with_its_unit_is_the_same_run():
    """`run("10 ms")` reads the duration as `--duration 10ms` does (brainsim.arguments)."""
    assert_identical(cuba().compile().run(0.01), cuba().compile().run("10 ms"))


@pytest.mark.parametrize("chunk_steps", [0, -5, 2.5, "100"])
def test_a_bad_chunk_length_is_an_error(chunk_steps):
    with pytest.raises(InvalidValueError, match="chunk_steps"):
        cuba().compile(backend="numpy", chunk_steps=chunk_steps)
