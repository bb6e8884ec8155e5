"""Stimulus waveforms, step by step: the recorded input against a hand computation,
on both backends and bit-identical between them (docs/semantics.md, "One step").

A recorded input in step n is the value used during step n, so trace row n is the
waveform's value in step n (t_n = n dt, dt = 0.1 ms here).
"""

import math

import numpy as np
import pytest

import brainsim
from brainsim.backends import random
from brainsim.backends.numpy_backend import NumpyNumerics
from brainsim.errors import InvalidValueError

from .identity import assert_identical

DT = 1e-4
PROBE = """
simulation {{ dt = 0.1 ms  duration = {duration}  seed = 7 }}
neuron Probe {{ inputs {{ I = 0 nA }} }}
region R {{ probe = Probe[{size}] }}
stimulus R.probe {{ {inputs} }}
record I of R.probe
"""


def both(model, duration=None):
    numpy_results = model.compile("numpy").run(duration)
    jax_results = model.compile("jax").run(duration)
    assert_identical(numpy_results, jax_results)
    return numpy_results


def drive(inputs: str, duration: str = "3 ms", size: int = 1, run_for=None, path=None) -> np.ndarray:
    """The input I of every probe neuron in every step (rows: steps), from both backends."""
    text = PROBE.format(duration=duration, size=size, inputs=inputs)
    if path is None:
        model = brainsim.loads(text, "probe.brain")
    else:
        path.write_text(text)
        model = brainsim.load(path)
    return both(model, run_for).traces[("R.probe", "I")].values


def test_steps_hold_each_amplitude_from_its_time_on_rounded_to_whole_steps():
    """0.5 ms is step 5, 1.26 ms rounds to step 13; the last amplitude holds past the table."""
    values = drive("I += steps(times = [0.5 ms, 1.26 ms], amplitudes = [1 nA, -2 nA])")[:, 0]
    n = np.arange(30)
    assert np.array_equal(values, np.where(n < 5, 0.0, np.where(n < 13, 1e-9, -2e-9)))


def test_a_sinusoid_follows_its_formula_between_start_and_stop():
    """offset + amplitude sin(2 pi f (n - 5) dt + phase) for 5 <= n < 20, else 0."""
    values = drive(
        "I += sinusoid(amplitude = 1 nA, frequency = 250 Hz, phase = 0.5, offset = 0.2 nA, start = 0.5 ms, stop = 2 ms)"
    )[:, 0]
    for n, value in enumerate(values):
        expected = 0.2e-9 + 1e-9 * math.sin(2 * math.pi * 250 * (n - 5) * DT + 0.5) if 5 <= n < 20 else 0.0
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-24), n


def test_a_sinusoid_with_stop_runs_longer_than_the_file_and_one_without_is_refused():
    stopped = drive("I += sinusoid(amplitude = 1 nA, frequency = 250 Hz, stop = 1 ms)", run_for=5e-3)[:, 0]
    assert stopped.shape == (50,) and np.all(stopped[10:] == 0.0) and np.any(stopped[:10] != 0.0)
    model = brainsim.loads(PROBE.format(duration="3 ms", size=1,
                                        inputs="I += sinusoid(amplitude = 1 nA, frequency = 250 Hz)"), "probe.brain")
    with pytest.raises(InvalidValueError, match="longer than the model's duration") as caught:
        model.compile("numpy").run(5e-3)
    assert caught.value.span.line == 5  # the stimulus


CURRENT = "# a current trace\nt [ms], I [nA]\n0.2, 1\n0.5, 4\n0.9, 2\n"


@pytest.mark.parametrize("interpolation, expected_na", [
    # n: 0  1  2  3  4  5  6    7  8    9  10 ...
    ("linear", [0, 0, 1, 2, 3, 4, 3.5, 3, 2.5, 2, 0, 0]),
    ("previous", [0, 0, 1, 1, 1, 4, 4, 4, 4, 2, 0, 0]),
])
def test_a_current_from_a_file_is_the_series_at_the_start_of_each_step(tmp_path, interpolation, expected_na):
    """Samples at 0.2, 0.5, 0.9 ms (steps 2, 5, 9): 0 before the first and after the last."""
    (tmp_path / "current.csv").write_text(CURRENT)
    values = drive(f'I += from_file("current.csv", interpolation = {interpolation})', path=tmp_path / "m.brain")[:, 0]
    expected = np.zeros(30)
    expected[: len(expected_na)] = np.array(expected_na) * 1e-9
    assert values == pytest.approx(expected, rel=1e-12, abs=1e-24)


def test_a_file_column_is_chosen_by_name_and_converted_from_its_unit(tmp_path):
    (tmp_path / "two.csv").write_text("t [s], other [mV], I [pA]\n0, 5, 500\n0.0005, 5, 1500\n")
    values = drive('I += from_file("two.csv", interpolation = previous, column = "I")', path=tmp_path / "m.brain")
    assert values[:5, 0] == pytest.approx([0.5e-9] * 5, rel=1e-12)
    assert values[5, 0] == pytest.approx(1.5e-9, rel=1e-12) and np.all(values[6:, 0] == 0.0)


def test_stimuli_on_one_input_add_in_their_sorted_order():
    values = drive("I += 1 nA  I += steps(times = [1 ms], amplitudes = [0.5 nA])")[:, 0]
    assert np.array_equal(values[:10], [1e-9] * 10) and np.array_equal(values[10:], [1e-9 + 0.5e-9] * 20)


# --------------------------------------------------------------------------- Ornstein-Uhlenbeck


def test_ou_starts_at_its_mean_and_takes_the_exact_update_with_the_generator_s_normals():
    """x_0 = mean; x_{n+1} = mean + (x_n - mean) e^{-dt/tau} + std sqrt(1 - e^{-2dt/tau}) N_n,
    N_n the generator's normal for (STIMULUS stream of population R.probe, number 0, step n, neuron)."""
    mean, std, tau, size = 1e-9, 0.5e-9, 5e-3, 4
    values = drive("I += ou(mean = 1 nA, std = 0.5 nA, tau = 5 ms)", size=size)
    xp = NumpyNumerics()
    stream = random.stream_id(random.STIMULUS, "R.probe", 0)
    decay, kick = math.exp(-DT / tau), std * math.sqrt(-math.expm1(-2 * DT / tau))
    x = np.full(size, mean)
    for n in range(values.shape[0]):
        assert np.array_equal(values[n], x), n
        normal = random.normal(random.random_words(7, stream, n, np.arange(size, dtype=np.uint32), xp), xp)
        x = mean + (x - mean) * decay + kick * normal


def test_ou_has_its_mean_std_and_correlation_time():
    """1000 neurons for 200 ms with tau = 5 ms after a 25 ms warm-up: about 35 independent
    stretches of 2 tau per neuron, so 35 000 in all. The bounds are five standard errors:
    mean 5 std / sqrt(35 000) = 0.027 std, variance 5 sqrt(2 / 35 000) = 3.8%, the lag-1 ms
    autocorrelation e^-0.2 = 0.819 to 0.02."""
    mean, std, tau = 1e-9, 0.5e-9, 5e-3
    model = brainsim.loads(PROBE.format(duration="225 ms", size=1000,
                                        inputs="I += ou(mean = 1 nA, std = 0.5 nA, tau = 5 ms)"), "ou.brain")
    x = model.compile("numpy").run().traces[("R.probe", "I")].values[250:]
    assert abs(x.mean() - mean) < 0.027 * std
    assert abs(x.var() / std**2 - 1) < 0.038
    lag = 10  # 1 ms
    centred = x - x.mean()
    correlation = np.mean(centred[lag:] * centred[:-lag]) / x.var()
    assert abs(correlation - math.exp(-lag * DT / tau)) < 0.02
    # Independent between neurons: the correlation of neighbours is 0 within the same bounds.
    between = np.mean(centred[:, 1:] * centred[:, :-1]) / x.var()
    assert abs(between) < 0.02


def test_two_ou_currents_on_one_population_are_independent():
    values = drive("I += ou(std = 1 nA, tau = 5 ms)  I += ou(std = 1 nA, tau = 5 ms)", size=3)
    lone = drive("I += ou(std = 1 nA, tau = 5 ms)", size=3)
    assert not np.array_equal(values, 2 * lone)  # the second has a stream of its own
    assert np.array_equal(values[0], [0.0] * 3)
