"""Spike sources and white noise in the engine: rates and variances against theory, both
backends bit-identical, independent of how a run is cut into chunks."""

import numpy as np
import pytest

import brainsim
from backends.identity import assert_identical

SOURCES = """
simulation {{ duration = {duration}  seed = 7 }}
neuron Counter {{ state {{ v = 0 mV }} }}
synapse Jump {{ state {{ w = 1 mV }}  on pre {{ v += w }} }}
region In {{ {sources} }}
region N {{ n = Counter[1] }}
connect In -> N with Jump {{ delay = {delay} }}
record spikes of In
record v of N
"""


def run_both(text: str, **jax_options):
    model = brainsim.loads(text, "test.brain")
    numpy_results = model.compile("numpy").run()
    jax_results = model.compile("jax", **jax_options).run()
    assert_identical(numpy_results, jax_results)
    return numpy_results


def test_a_poisson_source_fires_at_its_rate_on_both_backends():
    """1000 channels at 20 Hz for 1 s: 20 000 spikes expected, standard error 141."""
    results = run_both(SOURCES.format(duration="1 s", sources="p = PoissonSource[1000] { rate = 20 Hz }", delay="1 ms"))
    total = int(results.spike_counts["In.p"].sum())
    assert abs(total - 20_000) < 4 * np.sqrt(20_000 * (1 - 20 * 1e-4))
    # Every channel is independent: the counts per channel have the binomial variance.
    counts = results.spike_counts["In.p"]
    assert 0.8 < counts.var() / counts.mean() < 1.2
    # The target sums every spike that arrived: stamped t, added in the step that begins
    # at t + delay, so the last step (from 1 s - 0.1 ms) still sees those stamped 1 s - 1.1 ms.
    arrived = np.count_nonzero(results.spikes["In.p"].times <= 1.0 - 1.1e-3 + 1e-9)
    assert results.final_state["N.n"]["v"][0] == pytest.approx(arrived * 1e-3, rel=1e-12)


def test_per_neuron_rates_and_a_rate_that_is_an_expression_of_time():
    sources = ("fixed = PoissonSource[3] { rate = [0 Hz, 200 Hz, 10000 Hz] }  "
               "late = PoissonSource[200] { rate = where(t >= 50 ms, 100 Hz, 0 Hz) }")
    results = run_both(SOURCES.format(duration="100 ms", sources=sources, delay="1 ms"))
    fixed = results.spike_counts["In.fixed"]
    assert fixed[0] == 0 and 5 < fixed[1] < 40 and fixed[2] == 1000  # 20 expected; rate * dt >= 1: every step
    late = results.spikes["In.late"]
    assert late.times.min() > 50e-3 and abs(len(late.times) - 1000) < 4 * np.sqrt(1000)


def test_spike_times_are_emitted_when_given_and_arrive_after_the_delay():
    sources = "cue = SpikeTimes[2] { indices = [1, 0, 1]  times = [2 ms, 3.5 ms, 3.5 ms] }"
    results = run_both(SOURCES.format(duration="10 ms", sources=sources, delay="1.5 ms"))
    trains = results.spikes["In.cue"]
    assert np.allclose(trains.times, [2e-3, 3.5e-3, 3.5e-3], rtol=0, atol=1e-12)
    assert list(trains.indices) == [1, 0, 1]
    v = results.traces[("N.n", "v")]
    steps_with_jump = np.flatnonzero(np.diff(np.concatenate([[0.0], v.values[:, 0]])))
    # A spike stamped t arrives at t + delay and shows in the sample of the step that begins then.
    assert np.allclose(v.times[steps_with_jump], [3.6e-3, 5.1e-3], rtol=0, atol=1e-12)
    assert v.values[-1, 0] == pytest.approx(3e-3, rel=1e-12)


def test_a_spike_times_source_given_no_spikes_stays_silent_on_both_backends():
    """The jax backend once indexed the empty list of spikes and failed to compile."""
    sources = "cue = SpikeTimes[2] { indices = []  times = [] }"
    results = run_both(SOURCES.format(duration="5 ms", sources=sources, delay="1 ms"))
    assert len(results.spikes["In.cue"].times) == 0
    assert results.final_state["N.n"]["v"][0] == 0.0


def test_sources_count_in_the_statistics_and_their_regions():
    results = run_both(SOURCES.format(duration="100 ms", sources="a = PoissonSource[50] { rate = 30 Hz }", delay="1 ms"))
    rows = {row.name: row for row in results.statistics()}
    assert rows["In.a"].spikes == int(results.spike_counts["In.a"].sum()) > 0
    assert rows["In"].spikes == rows["In.a"].spikes


def test_runtime_draws_do_not_depend_on_the_chunking_of_a_jax_run():
    text = SOURCES.format(duration="50 ms", sources="p = PoissonSource[100] { rate = 50 Hz }", delay="1 ms")
    model = brainsim.loads(text, "test.brain")
    assert_identical(model.compile("jax").run(), model.compile("jax", chunk_steps=37).run())


OU = """
simulation { duration = 200 ms  dt = 0.1 ms  seed = 3 }
neuron OU {
    parameters { tau = 10 ms  sigma = 2 mV }
    state { v = 0 mV }
    equations { dv/dt = -v / tau + sigma * sqrt(2 / tau) * xi }
}
region R { n = OU[4000] }
record v of R[0:3]
"""


def test_white_noise_gives_the_ornstein_uhlenbeck_variance_on_both_backends():
    """Euler–Maruyama's stationary variance for dv = -v/tau dt + sigma sqrt(2/tau) dW is
    sigma^2 * 2a / (1 - (1 - a)^2), a = dt/tau; after 20 tau the run is stationary."""
    results = run_both(OU)
    a = 0.1e-3 / 10e-3
    expected = (2e-3) ** 2 * 2 * a / (1 - (1 - a) ** 2)
    v = results.final_state["R.n"]["v"]
    # The sample variance of n normal values has a relative standard error of sqrt(2 / n).
    assert abs(v.var() / expected - 1) < 4 * np.sqrt(2 / len(v))
    assert abs(v.mean()) < 4 * np.sqrt(expected / len(v))
