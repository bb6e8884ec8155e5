"""The Python API takes the same care as model files (issue 11, item 10): durations are read as
the command line reads them, a region name selects its populations, and every mistake a user
can make in a call is a BrainsimError that names the value and what is wanted (or what exists,
with a did-you-mean), never a raw TypeError, KeyError, AttributeError or ValueError.

Each case names the call, the error class and the words its message (with its hint) must hold.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim import arguments
from brainsim.backends import compile_network
from brainsim.errors import (
    BrainsimError, ExportError, InvalidValueError, NotRecordedError, ResourceError, UnknownKeyError, UnknownNameError,
)
from brainsim.plotting import psth_counts
from brainsim.results import compare_results
from brainsim.simulation.errors import SeedValueError
from brainsim.simulation.network import BrainSimulation

sys.path.insert(0, str(Path(__file__).parent))
from tiny_lif import tiny_model  # noqa: E402

BODY = """
synapse S { state { w = 1 nA }  on pre { v += w * 1 Mohm } }
region Cortex { exc = LIF[4]  inh = LIF[2] }
region In { drive = PoissonSource[3] { rate = 300 Hz } }
connect In -> Cortex with S { p = 1  delay = 1 ms }
stimulus Cortex { I_ext += 1.6 nA }
record spikes of Cortex
record v of Cortex.exc[0:2]
"""


@pytest.fixture(scope="module")
def model():
    return brainsim.loads(tiny_model(BODY, duration="20 ms"))


@pytest.fixture(scope="module")
def results(model):
    return model.compile().run()


def message(error: BaseException) -> str:
    return str(error)


def check(call, error_class, *words):
    with pytest.raises(BrainsimError) as caught:
        call()
    assert type(caught.value) is error_class, f"{type(caught.value).__name__}: {caught.value}"
    for word in words:
        assert word in message(caught.value), (word, message(caught.value))
    return caught.value


# --------------------------------------------------------------------------- durations


GOOD_DURATIONS = [0.002, 2e-3, np.float64(0.002), "2 ms", "2ms", "0.002s", " 2000 us ", "2e-3 s", "+2 ms"]


@pytest.mark.parametrize("value", GOOD_DURATIONS, ids=repr)
def test_a_duration_is_seconds_or_a_text_with_a_time_unit(model, value):
    simulation = model.compile()
    assert simulation.run(value).n_steps == 20
    assert arguments.duration(value) == pytest.approx(0.002, rel=1e-12)


def test_a_pint_quantity_is_a_duration_in_any_registry_and_unit():
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    assert arguments.duration(2 * ureg.ms) == pytest.approx(0.002, rel=1e-12)
    assert arguments.duration(ureg.Quantity(0.5, "minute")) == 30.0
    check(lambda: arguments.duration(2 * ureg.mV), InvalidValueError, "the duration", "millivolt", "not a time")
    check(lambda: arguments.duration(ureg.Quantity(np.array([1.0, 2.0]), "s")), InvalidValueError, "not one number")


BAD_DURATIONS = [
    ("200 mV", ["'200 mV'", "not a time", "dimension V", "200 ms"]),
    ("abc", ["'abc'", "not a time such as 200ms"]),
    ("3 mms", ["'3 mms'", "'mms' is not a unit"]),
    ("", ["''", "not a time"]),
    ("1e400 s", ["'1e400 s'", "too large"]),
    (-1, ["-1", "positive"]),
    (0, ["0", "positive"]),
    ("-5 ms", ["-5 ms", "positive"]),
    (math.nan, ["nan", "finite"]),
    (math.inf, ["inf", "finite"]),
    (True, ["True", "(bool)", "number of seconds"]),
    ([0.1], ["[0.1]", "(list)", "number of seconds"]),
    ({"duration": 1}, ["(dict)", "number of seconds"]),
    (b"2 ms", ["b'2 ms'", "(bytes)"]),
    (1j, ["1j", "(complex)"]),
]


@pytest.mark.parametrize("value, words", BAD_DURATIONS, ids=[repr(v) for v, _ in BAD_DURATIONS])
def test_a_duration_that_is_no_positive_time_is_a_value_error_naming_it(model, value, words):
    simulation = model.compile()
    for call in (lambda: simulation.run(value), lambda: list(simulation.stream(value)),
                 lambda: simulation.run_batch([{}], duration=value)):
        check(call, InvalidValueError, *words)
    assert simulation.steps_done == 0


def test_a_duration_that_is_not_whole_steps_says_so(model):
    check(lambda: model.compile().run("0.05 ms"), InvalidValueError, "not a positive whole number of steps")


def test_the_command_line_reads_durations_with_the_same_parser(capsys):
    from brainsim.cli import main

    for text in ("200 mV", "abc"):
        with pytest.raises(SystemExit) as exit_:
            main(["run", "models/cuba.brain", "--duration", text])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --duration: the duration {text!r}" in err and "not a time" in err
        with pytest.raises(InvalidValueError, match="not a time"):  # the very words of the Python API
            arguments.duration(text)


def test_the_seed_api_takes_milliseconds_or_a_time_with_its_unit():
    simulation = BrainSimulation()
    simulation.create_simple_network(2, 2, 1)
    assert simulation.run("2 ms")["simulation_time_ms"] == pytest.approx(2.0)
    assert simulation.run(1.0)["simulation_time_ms"] == pytest.approx(3.0)
    check(lambda: simulation.run("2 mV"), SeedValueError, "duration_ms '2 mV'", "not a time")
    error = check(lambda: simulation.run([2]), SeedValueError, "duration_ms", "milliseconds", "[2]")
    assert isinstance(error, ValueError)


def test_a_bin_width_is_a_duration_too(results):
    edges, _ = psth_counts(results, ["Cortex.exc"], "5 ms")
    assert np.allclose(np.diff(edges), 5e-3)
    check(lambda: psth_counts(results, ["Cortex.exc"], "5 mV"), InvalidValueError, "bin_width '5 mV'", "not a time")
    check(lambda: psth_counts(results, ["Cortex.exc"], True), InvalidValueError, "bin_width", "True")


# --------------------------------------------------------------------------- a region's spikes


def test_a_region_s_spikes_are_its_populations_merged_with_their_parts(results):
    region = results.spikes["Cortex"]
    exc, inh = results.spikes["Cortex.exc"], results.spikes["Cortex.inh"]
    assert len(exc.times) > 0 and len(inh.times) > 0
    assert region.population == "Cortex" and region.size == 6
    assert region.parts == (("Cortex.exc", 0, 4), ("Cortex.inh", 4, 2))
    assert len(region.times) == len(exc.times) + len(inh.times)
    assert np.all(np.diff(region.times) >= 0)
    for part, trains in zip(region.parts, (exc, inh)):
        mine = (region.indices >= part.offset) & (region.indices < part.offset + part.size)
        assert np.array_equal(region.times[mine], trains.times)
        assert np.array_equal(region.indices[mine] - part.offset, trains.indices)
    assert region.parts[0].population == "Cortex.exc" and exc.parts == ()


def test_a_region_stands_for_its_populations_in_spike_counts(results):
    counts = results.spike_counts["Cortex"]
    assert np.array_equal(counts, np.concatenate([results.spike_counts["Cortex.exc"], results.spike_counts["Cortex.inh"]]))


def test_the_mappings_list_and_contain_the_recorded_keys_only(results):
    assert list(results.spikes) == ["Cortex.exc", "Cortex.inh"]
    assert "Cortex" not in results.spikes and "Cortex.exc" in results.spikes and ["x"] not in results.spikes
    assert results.spikes.get("In.drive") is None and results.spikes.get("Cortex").size == 6
    assert dict(results.spikes).keys() == {"Cortex.exc", "Cortex.inh"}
    assert set(results.spike_counts) == {"Cortex.exc", "Cortex.inh", "In.drive"}


# --------------------------------------------------------------------------- keys of the results


KEY_CASES = [
    ("spikes", "Cortex.ex", UnknownKeyError, ["no population or region 'Cortex.ex'", "Cortex.exc, Cortex.inh, In.drive",
                                             "did you mean `Cortex.exc`?"]),
    ("spikes", "In.drive", NotRecordedError, ["spikes of In.drive were not recorded", "record spikes of In.drive"]),
    ("spikes", "In", NotRecordedError, ["region In were not all recorded", "In.drive", "record spikes of In"]),
    ("spikes", 3, UnknownKeyError, ["keyed by population name", "not 3 (int)"]),
    ("spikes", ["Cortex"], UnknownKeyError, ["keyed by population name", "['Cortex'] (list)"]),
    ("spikes", "cortex.exc", UnknownKeyError, ["did you mean `Cortex.exc`? (names are case-sensitive)"]),
    ("spike_counts", "Cortx", UnknownKeyError, ["no population or region 'Cortx'", "did you mean `Cortex`?"]),
    ("spike_counts", None, UnknownKeyError, ["keyed by population name", "None"]),
    ("traces", ("Cortex.exc", "V"), UnknownKeyError, ["Cortex.exc has no state variable 'V'", "its state variables: v",
                                                      "did you mean `v`?"]),
    ("traces", ("Cortex.inh", "v"), NotRecordedError, ["v of Cortex.inh was not recorded", "recorded: v of Cortex.exc",
                                                       "record v of Cortex.inh"]),
    ("traces", ("Cortex.inh", "I_ext"), UnknownKeyError, ["Cortex.inh has no state variable 'I_ext'",
                                                          "if I_ext is an input of Cortex.inh",
                                                          "record I_ext of Cortex.inh"]),
    ("traces", ("Cortex.exk", "v"), UnknownKeyError, ["no population 'Cortex.exk'", "did you mean `Cortex.exc`?"]),
    ("traces", "v", UnknownKeyError, ["keyed by (population, variable)", "('Cortex.exc', 'v')", "not 'v'"]),
    ("traces", ("Cortex.exc", "v", 0), UnknownKeyError, ["keyed by (population, variable)"]),
    ("traces", {"Cortex.exc"}, UnknownKeyError, ["keyed by (population, variable)"]),
    ("final_state", "Cortex", UnknownKeyError, ["Cortex is a region", "per population", "Cortex.exc, Cortex.inh"]),
    ("final_state", "Cortex.exd", UnknownKeyError, ["no population or region 'Cortex.exd'", "did you mean `Cortex.exc`?"]),
    ("synapses", "In.drive->Cortex.ex", UnknownKeyError, ["no projection 'In.drive->Cortex.ex'",
                                                         "did you mean `In.drive->Cortex.exc`?"]),
    ("synapses", 0, UnknownKeyError, ["keyed by projection name", "not 0"]),
    ("synapse_traces", ("In.drive->Cortex.exc", "w"), NotRecordedError, ["w of In.drive->Cortex.exc was not recorded",
                                                                         "record w of In.drive->Cortex.exc"]),
    ("synapse_traces", ("In.drive->Cortex.exc", "ww"), UnknownKeyError, ["has no state variable 'ww'",
                                                                          "did you mean `w`?"]),
    ("synapse_traces", ("In->Cortex", "w"), UnknownKeyError, ["no projection 'In->Cortex'"]),
    ("regions", "Cortx", UnknownKeyError, ["no region 'Cortx'", "Cortex, In", "did you mean `Cortex`?"]),
]


@pytest.mark.parametrize("field, key, error_class, words", KEY_CASES,
                         ids=[f"{field}[{key!r}]" for field, key, _, _ in KEY_CASES])
def test_a_key_the_results_do_not_hold_names_what_they_do(results, field, key, error_class, words):
    error = check(lambda: getattr(results, field)[key], error_class, *words)
    assert isinstance(error, KeyError)  # code that catches KeyError (or calls .get) keeps working


def test_a_population_s_final_state_explains_a_variable_it_does_not_have(results):
    check(lambda: results.final_state["Cortex.exc"]["vv"], UnknownKeyError, "Cortex.exc has no state variable 'vv'",
          "did you mean `v`?")
    check(lambda: results.final_state["In.drive"]["v"], UnknownKeyError, "In.drive is a spike source",
          "no state variables")
    assert set(results.final_state["Cortex.exc"]) == {"v"}


def test_a_projection_s_synapse_states_explain_a_state_they_do_not_have(results):
    synapses = results.synapses["In.drive->Cortex.exc"]
    assert len(synapses.states["w"]) == 12
    check(lambda: synapses.states["W"], UnknownKeyError, "projection In.drive->Cortex.exc has no state variable 'W'",
          "did you mean `w`? (names are case-sensitive)")


def test_results_joined_and_replaced_keep_their_explaining_mappings(model):
    simulation = model.compile(chunk_steps=7)
    joined = simulation.run("2 ms")  # three chunks joined
    check(lambda: joined.spikes["In.drive"], NotRecordedError, "spikes of In.drive were not recorded")
    assert joined.spikes["Cortex"].size == 6


# --------------------------------------------------------------------------- options and values


def options_cases(model):
    simulation = model.compile()
    return [
        (lambda: model.compile(backend="nmpy"), InvalidValueError, ["unknown backend 'nmpy'", "numpy, jax",
                                                                    "did you mean `numpy`?"]),
        (lambda: model.compile(backend=3), InvalidValueError, ["unknown backend 3", "numpy, jax"]),
        (lambda: model.compile(backend=["jax"]), InvalidValueError, ["unknown backend ['jax']"]),
        (lambda: model.compile(dtype="float16"), InvalidValueError, ["unknown dtype 'float16'", "float64, float32"]),
        (lambda: model.compile(dtype=np.float32), InvalidValueError, ["unknown dtype", "float64, float32"]),
        (lambda: model.compile(chunk_steps="x"), InvalidValueError, ["chunk_steps", "positive whole number", "'x'"]),
        (lambda: model.compile(chunk_steps=0), InvalidValueError, ["chunk_steps", "not 0"]),
        (lambda: model.compile(chunk_steps=True), InvalidValueError, ["chunk_steps", "not True"]),
        (lambda: model.compile(chunk_step=10), InvalidValueError, ["takes no option chunk_step", "chunk_steps",
                                                                   "did you mean `chunk_steps`?"]),
        (lambda: model.compile(backend="jax", spike_capacty=4), InvalidValueError, [
            "the jax backend takes no option spike_capacty", "did you mean `spike_capacity`?"]),
        (lambda: model.compile(max_memory="abc"), InvalidValueError, ["memory limit", "'abc'"]),
        (lambda: model.compile(max_memory="1 kB"), ResourceError, ["1 kB"]),
        (lambda: simulation.run(progress=3), InvalidValueError, ["progress is True", "not 3"]),
        (lambda: simulation.run(progress="yes"), InvalidValueError, ["progress", "'yes'"]),
        (lambda: simulation.set({"Cortex.exc.tauu": "5 ms"}), UnknownNameError, ["tauu", "did you mean `tau`?"]),
        (lambda: simulation.set({"Cortx.exc.tau": "5 ms"}), UnknownNameError, ["Cortx"]),
        (lambda: simulation.set({"Cortex.exc.tau": "5 mV"}), BrainsimError, ["tau"]),
        (lambda: simulation.set(["seed", 3]), InvalidValueError, ["a dict of name -> value", "list", "['seed', 3]"]),
        (lambda: simulation.set("seed=3"), InvalidValueError, ["a dict of name -> value", "str"]),
        (lambda: simulation.run_batch({"seed": 1}), InvalidValueError, ["a list of sets of values", "dict"]),
        (lambda: simulation.run_batch("seed"), InvalidValueError, ["a list of sets of values", "str"]),
        (lambda: simulation.run_batch(3), InvalidValueError, ["a list of sets of values", "int 3"]),
        (lambda: simulation.run_batch([]), InvalidValueError, ["at least one set of values"]),
        (lambda: simulation.run_batch([{"seed": 1}, 2]), InvalidValueError, ["a dict of name -> value", "int 2"]),
        (lambda: simulation.run_batch([{"sed": 1}]), UnknownNameError, ["'sed'", "seed"]),
        (lambda: model.with_seed("3"), InvalidValueError, ["seed is a non-negative integer", "'3'"]),
        (lambda: model.with_seed(-1), InvalidValueError, ["seed is a non-negative integer", "-1"]),
        (lambda: model.with_seed(True), InvalidValueError, ["seed is a non-negative integer", "True"]),
        (lambda: model.with_values(3), InvalidValueError, ["a dict of name -> value", "int 3"]),
        (lambda: model.with_values({"seeds": 3}), UnknownNameError, ["'seeds'", "seed"]),
        (lambda: brainsim.loads(3), InvalidValueError, ["loads takes the model's text", "int 3", "brainsim.load"]),
        (lambda: brainsim.loads(b"simulation {}"), InvalidValueError, ["loads takes the model's text", "bytes"]),
        (lambda: brainsim.loads("", filename=3), InvalidValueError, ["a file name is a str", "int 3"]),
        (lambda: brainsim.loads("", include=3), InvalidValueError, ["include is a list of folders", "3"]),
        (lambda: brainsim.loads("", include=[None]), InvalidValueError, ["include is a list of folders", "[None]"]),
        (lambda: brainsim.load(3), InvalidValueError, ["load takes the path of a .brain file", "int 3",
                                                       "brainsim.loads"]),
        (lambda: brainsim.load("no/such/model.brain"), BrainsimError, ["no/such/model.brain"]),
        (lambda: compile_network(model.network, backend="torch"), InvalidValueError, ["unknown backend 'torch'"]),
        (lambda: model.compile(backend="jax", spike_capacity="x"), InvalidValueError, [
            "spike_capacity is a positive whole number", "'x'"]),
        (lambda: model.compile(backend="jax", event_batch=0), InvalidValueError, ["event_batch", "not 0"]),
        (lambda: model.with_values({3: 4}), InvalidValueError, ["names as text", "{3: 4}"]),
        (lambda: simulation.set({3: 1}), InvalidValueError, ["names as text", "{3: 1}"]),
    ]


def results_cases(results):
    return [
        (lambda: results.save(3), ExportError, ["a path is a str or pathlib.Path", "3"]),
        (lambda: results.plot_raster(populations=3), InvalidValueError, ["populations is a name or a list", "3"]),
        (lambda: results.plot_raster(populations=["Cortex.exk"]), UnknownNameError, ["did you mean `Cortex.exc`?"]),
        (lambda: compare_results(results, 3), InvalidValueError, ["compares two Results", "3"]),
        (lambda: brainsim.Results.joined([]), InvalidValueError, ["one or more Results", "[]"]),
        (lambda: brainsim.Results.joined([results, "x"]), InvalidValueError, ["one or more Results"]),
    ]


def test_every_mistake_with_results_is_a_brainsim_error_naming_it(results):
    for call, error_class, words in results_cases(results):
        with pytest.raises(BrainsimError) as caught:
            call()
        assert isinstance(caught.value, error_class), f"{type(caught.value).__name__}: {caught.value}"
        for word in words:
            assert word in str(caught.value), (word, str(caught.value))


def test_every_option_and_value_mistake_is_a_brainsim_error_naming_it(model):
    cases = options_cases(model)
    assert len(cases) >= 40
    for call, error_class, words in cases:
        with pytest.raises(BrainsimError) as caught:
            call()
        assert isinstance(caught.value, error_class), f"{type(caught.value).__name__}: {caught.value}"
        for word in words:
            assert word in str(caught.value), (word, str(caught.value))


def test_an_unknown_key_error_prints_as_a_brainsim_error_not_as_a_key_error_s_repr():
    error = UnknownKeyError("there is no population 'x'", hint="did you mean `y`?")
    assert str(error) == "unknown key: there is no population 'x'\nhint: did you mean `y`?"
    assert isinstance(error, KeyError) and isinstance(error, BrainsimError)
    assert brainsim.UnknownKeyError is UnknownKeyError


def test_streaming_to_a_file_reads_its_duration_before_the_file_is_made(model, tmp_path):
    pytest.importorskip("h5py")
    from brainsim.export.stream import stream_to_file

    path = tmp_path / "run.h5"
    check(lambda: stream_to_file(model.compile(), path, "5 mV"), InvalidValueError, "'5 mV'", "not a time")
    assert not path.exists()
    assert stream_to_file(model.compile(), path, "2 ms").n_steps == 20
