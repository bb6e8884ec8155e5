"""What the fuzz tests found, each as a plain test of the input that showed it (named in the
test's docstring), so that it stays fixed whatever the strategies draw."""

import pytest

import brainsim
from backends.identity import assert_identical
from brainsim.validate import MAX_TIME_STEPS
from fuzz.properties import assert_located
from tiny_lif import tiny_model

DRIVEN = "region R { a = LIF[2] }\nstimulus R { I_ext += 2 nA }\nrecord spikes of R\n"
SYNAPSE = "synapse S { state { w = 1 mV }  on pre { v += w }  on post { w += 0 mV } }\n"


def refused(text: str) -> brainsim.BrainsimError:
    """The error `text` is refused with, checked to point into it with its caret."""
    with pytest.raises(brainsim.BrainsimError) as caught:
        model = brainsim.loads(text, "finding.brain")
        for backend in ("numpy", "jax"):
            model.compile(backend=backend).run()
    assert_located(caught.value, text)
    return caught.value


def at(error: brainsim.BrainsimError, text: str, fragment: str) -> None:
    """The error's span starts where `fragment` first stands in `text`."""
    before, _, _ = text.partition(fragment)
    assert (error.span.line, error.span.column) == (before.count("\n") + 1, len(before.split("\n")[-1]) + 1), str(error)


# --------------------------------------------------------------------------- times of more than 2^62 steps


@pytest.mark.parametrize("dt", ["1e-320 s", "1e-320 ms", "5e-324 s"])
def test_a_step_so_small_that_the_duration_has_no_step_count_is_refused_at_the_duration(dt):
    """`simulation { dt = 1e-320 s ... }`: the duration's step count overflowed (OverflowError in whole_steps)."""
    text = tiny_model(DRIVEN).replace("dt = 0.1 ms", f"dt = {dt}")
    error = refused(text)
    assert isinstance(error, brainsim.InvalidValueError) and "more than 2^62 steps" in error.message
    at(error, text, "20 ms  seed")


@pytest.mark.parametrize("duration", ["1e308 ms", "1e20 s", "4.7e14 s"])
def test_a_duration_of_more_than_2_to_the_62_steps_is_refused_at_it(duration):
    """`duration = 1e308 ms` raised OverflowError (1e305 s / 0.1 ms is inf steps); 1e20 s passed the front end."""
    text = tiny_model(DRIVEN, duration=duration)
    error = refused(text)
    assert "`duration` is" in error.message and "2^62 steps" in error.message
    at(error, text, duration)


def test_a_duration_just_below_2_to_the_62_steps_passes_the_front_end():
    """The bound is the step count, not a time: 4.6e14 s at 0.1 ms is 4.6e18 < 2^62 steps (it
    is then too long a run to start, a ResourceError of its own)."""
    model = brainsim.loads(tiny_model(DRIVEN, duration="4.6e14 s"))
    assert model.network.simulation.duration / model.network.simulation.dt < MAX_TIME_STEPS


@pytest.mark.parametrize(("statement", "fragment"), [
    ("record v of R every 1e308 ms", "1e308 ms"),     # OverflowError in whole_steps
    ("record v of R every 1e20 s", "1e20 s"),         # jax: an int64 argument overflowed
])
def test_a_sampling_interval_of_more_than_2_to_the_62_steps_is_refused(statement, fragment):
    text = tiny_model(DRIVEN + statement + "\n")
    error = refused(text)
    assert "the sampling interval `every` is" in error.message
    at(error, text, fragment)


@pytest.mark.parametrize("waveform", [
    "pulses(period = 1e20 s, width = 1 ms, amplitude = 1 nA)",                 # jax: OverflowError
    "pulses(period = 2 ms, width = 1 ms, amplitude = 1 nA, start = 1e20 s)",    # jax: OverflowError
    "pulses(period = 2 ms, width = 1 ms, amplitude = 1 nA, stop = 1e20 s)",
    "steps(times = [1e20 s], amplitudes = [1 nA])",                             # a ResourceError without a position
    "sinusoid(amplitude = 1 nA, frequency = 10 Hz, stop = 1e20 s)",             # a ResourceError without a position
    "sinusoid(amplitude = 1 nA, frequency = 10 Hz, start = 1e20 s)",
])
def test_a_stimulus_time_of_more_than_2_to_the_62_steps_is_refused_at_the_waveform(waveform):
    text = tiny_model(DRIVEN.replace("2 nA", waveform))
    error = refused(text)
    assert isinstance(error, brainsim.InvalidValueError) and "2^62 steps" in error.message
    at(error, text, waveform)


def test_a_refractory_period_of_more_than_2_to_the_62_steps_is_refused_at_its_model():
    """`refractory 1e20 s`: building the model raised OverflowError (an int too large for a C long)."""
    text = tiny_model(DRIVEN).replace("reset {", "refractory 1e20 s\n    reset {")
    error = refused(text)
    assert "the refractory period of `LIF` is 1e+20 s" in error.message
    at(error, text, "neuron LIF")


@pytest.mark.parametrize(("settings", "fragment"), [
    ("delay = 1e20 s", "1e20 s"),                       # a ResourceError (10^25 B of ring buffer), no position
    ("delay = uniform(1 ms, 1e20 s)", "uniform"),
    ("dendritic_delay = 1e20 s", "connect"),
])
def test_a_delay_of_more_than_2_to_the_62_steps_is_refused(settings, fragment):
    text = tiny_model(DRIVEN + SYNAPSE + f"connect R -> R with S {{ {settings} }}\n")
    error = refused(text)
    assert "2^62 steps" in error.message
    at(error, text, fragment)


def test_a_spike_time_past_a_float_step_count_is_refused_as_past_the_run():
    """`SpikeTimes[1] { times = [1e308 s] }`: its step count (inf) was rounded before it was
    compared with the duration."""
    text = tiny_model(DRIVEN + "region In { c = SpikeTimes[1] { times = [1e308 s] } }\n")
    error = refused(text)
    assert "after its end" in error.message
    at(error, text, "1e308 s")


def test_a_huge_estimate_is_written_once_as_about():
    """`steps(times = [1e14 s], ...)` at 0.1 ms: 'about about 10^19 B' in the refusal."""
    text = tiny_model(DRIVEN.replace("2 nA", "steps(times = [1e14 s], amplitudes = [1 nA])"))
    with pytest.raises(brainsim.ResourceError) as caught:
        brainsim.loads(text).compile()
    assert "about 10^" in str(caught.value) and "about about" not in str(caught.value)


# --------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("seed", [18446744073709551615, 18446744073709551614, 2**53 + 1])
def test_a_seed_above_2_to_the_53_is_read_exactly(seed):
    """`seed = 18446744073709551614` (valid: below 2^64) was read as a float, rounded to 2^64
    and refused; `2^53 + 1` was silently the seed 2^53."""
    assert brainsim.loads(tiny_model(DRIVEN, seed=seed)).network.simulation.seed == seed


def test_a_seed_above_2_to_the_53_written_as_an_expression_is_refused():
    text = tiny_model(DRIVEN).replace("seed = 1", "seed = 2 * 9007199254740993")
    error = refused(text)
    assert "plain digits" in error.hint
    at(error, text, "2 * 9007199254740993")


# --------------------------------------------------------------------------- jax events


@pytest.mark.parametrize("targets", [5, 6, 9])
def test_a_projection_shorter_than_one_piece_of_its_row_runs_on_jax(targets):
    """`SpikeTimes[1] -> LIF[5]`, all to all: the row of 5 synapses is one piece of 8 slots,
    longer than the 6 values (with the sentinel) a jax gather sliced 8 from (TypeError)."""
    text = tiny_model(f"region R {{ a = LIF[{targets}] }}\nregion In {{ s = SpikeTimes[1] {{ times = [1 ms] }} }}\n"
                      + SYNAPSE.replace("  on post { w += 0 mV }", "") + "connect In -> R with S\nrecord v of R\n")
    model = brainsim.loads(text)
    numpy, jax = (model.compile(backend=backend).run() for backend in ("numpy", "jax"))
    assert_identical(numpy, jax)
    assert numpy.traces[("R.a", "v")].values.max() > -70e-3  # the event arrived


# --------------------------------------------------------------------------- excerpts


@pytest.mark.parametrize("character", ["\f", "\r", "\u2028", "\u2029", "\x85", "\t"])
def test_the_caret_lands_under_the_mistake_on_a_line_with_a_character_the_parser_does_not_split_at(character):
    """A form feed, carriage return or Unicode line separator before the mistake on its line
    (in a comment on the line above, for the separators): Python's splitlines would count an
    extra line; the parser does not, and the excerpt follows the parser."""
    where = {"\f": "dt = 0.1 ms\f ", "\r": "dt = 0.1 ms\r ", "\t": "dt = 0.1 ms\t"}.get(character)
    if where is None:
        text = f"# a{character}b\n" + tiny_model(DRIVEN).replace("duration = 20 ms", "duration = 20 mss")
    else:
        text = tiny_model(DRIVEN).replace("dt = 0.1 ms  ", where).replace("duration = 20 ms", "duration = 20 mss")
    error = refused(text)
    at(error, text, "mss")


# --------------------------------------------------------------------------- sizes and indices


@pytest.mark.parametrize("written", ["1e99999999999999999999", "1e-99999999999999999999", "1e999999", "1e19"])
def test_a_population_size_with_an_enormous_exponent_is_refused_at_it(written):
    """`Izhikevich[1e99999999999999999999]` (a mutation of models/izhikevich.brain): Decimal
    raised InvalidOperation on the literal."""
    text = tiny_model(DRIVEN.replace("LIF[2]", f"LIF[{written}]"))
    error = refused(text)
    assert "below 10^19" in error.message
    at(error, text, written)


@pytest.mark.parametrize("selection", ["R[1e99999999999999999999]", "R[0:1e99999999999999999999]"])
def test_an_index_with_an_enormous_exponent_is_refused_at_it(selection):
    text = tiny_model(DRIVEN + f"record v of {selection}\n")
    error = refused(text)
    at(error, text, "1e99999999999999999999")


# --------------------------------------------------------------------------- stimuli


def test_a_sinusoid_frequency_whose_phase_overflows_is_refused_at_it():
    """`sinusoid(amplitude = 1 nA, frequency = 1e308 Hz)`: numpy warned of an invalid value in
    sin while tabulating, and the run stopped at the neuron's nan, not at the frequency."""
    text = tiny_model(DRIVEN.replace("2 nA", "sinusoid(amplitude = 1 nA, frequency = 1e308 Hz)"))
    error = refused(text)
    at(error, text, "1e308 Hz")


def test_a_sinusoid_past_float_range_stops_the_run_without_a_numpy_warning():
    """`sinusoid(amplitude = 1e308 A, offset = 1e308 A, ...)`: the sum overflowing while
    tabulating was a RuntimeWarning; now the run's own check reports the inf."""
    text = tiny_model(DRIVEN.replace("2 nA", "sinusoid(amplitude = 1e308 A, offset = 1e308 A, frequency = 100 Hz)"))
    with pytest.raises(brainsim.SimulationError):
        brainsim.loads(text).compile().run()


# --------------------------------------------------------------------------- connectivity


@pytest.mark.timeout(60)
@pytest.mark.parametrize("p", ["1.0269400952674821e-73", "1e-300", "5e-324"])
def test_a_tiny_connection_probability_draws_without_hanging(p):
    """`connect Retina -> V1 with Excitatory { p = 1.0269400952674821e-73 ... }` (a mutation of
    models/visual_pathway.brain) hung: the geometric gaps between kept pairs (about 10^73)
    overflowed int64 when summed, and the draw never reached the end."""
    text = tiny_model("region A { a = LIF[10] }\nregion B { b = LIF[20] }\n" + SYNAPSE
                      + f"connect A -> B with S {{ p = {p} }}\nrecord spikes of A\n")
    results = brainsim.loads(text).compile().run()
    assert len(results.synapses["A.a->B.b"].pre) == 0  # 200 pairs at p < 1e-72: none drawn


# --------------------------------------------------------------------------- intervals of no step


def test_a_sampling_interval_that_rounds_to_no_step_is_refused_at_it():
    """`record v of R every 1e-320 ms`: a whole number of 0.1 ms steps (none) to 1e-9, so it
    passed, and sampling every 0 steps raised ZeroDivisionError."""
    text = tiny_model(DRIVEN + "record v of R every 1e-320 ms\n")
    error = refused(text)
    assert "positive whole number of steps" in error.message
    at(error, text, "1e-320 ms")


def test_a_sampling_interval_of_no_step_in_an_ir_network_is_refused_by_validate():
    from dataclasses import replace

    network = brainsim.loads(tiny_model(DRIVEN + "record v of R every 1 ms\n")).network
    record = replace(network.state_records[0], every=1e-320)
    with pytest.raises(brainsim.InvalidValueError, match="positive whole number of steps"):
        brainsim.validate.validate(replace(network, state_records=(record,)))


def test_a_duration_that_rounds_to_no_step_is_refused_at_it():
    """`duration = 1e-320 s` passed the front end (a whole number of steps: none) and was
    refused only by `run`, without a position."""
    text = tiny_model(DRIVEN, duration="1e-320 s")
    error = refused(text)
    at(error, text, "1e-320 s")


def test_validate_refuses_a_time_of_more_than_2_to_the_62_steps_in_any_ir():
    """The rule holds for a network built in Python too, where no front end checked the duration."""
    from dataclasses import replace

    network = brainsim.loads(tiny_model(DRIVEN)).network
    huge = replace(network, simulation=replace(network.simulation, duration=1e305))
    with pytest.raises(brainsim.InvalidValueError, match="more than 2\\^62 steps"):
        brainsim.validate.validate(huge)
