"""std/stp (Tsodyks-Markram short-term plasticity) against its steady state.

For a regular presynaptic train of interval T, write u_n, x_n for the values
the n-th spike uses (after its facilitation step, before its depletion). Between
spikes u decays to 0 and x recovers to 1, exactly, so with a = exp(-T/tau_f),
b = exp(-T/tau_d):

    u_{n+1} = a u_n + U (1 - a u_n)           x_{n+1} = 1 - b (1 - (1 - u_n) x_n)

from u_1 = U, x_1 = 1. Both are affine maps with slopes below 1, so they settle
at their fixed points

    u* = U / (1 - (1 - U) a)                  x* = (1 - b) / (1 - (1 - u*) b)

and the response to each spike, w u x, settles at w u* x* (Tsodyks & Markram
1997, eq. 3 for u* = U; Markram, Wang & Tsodyks 1998 with facilitation). The
test drives one synapse per rate into a `Puppet` whose I_syn only sums what
arrives, takes each spike's response from the steps of its I_syn trace, and
checks it against the recursion at every spike and against w u* x* at the last.
"""

import numpy as np
import pytest

from plastic_puppets import PUPPET, assert_synapses_identical, run, spike_times

DT = 1e-3
DURATION = 10.0
RATES = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0)  # Hz; whole-millisecond intervals
WEIGHT = 100e-12  # A: TsodyksMarkram's w
SETS = {  # name: (U, tau_d, tau_f, the connect settings that choose it)
    "depressing": (0.5, 0.8, 1e-3, ""),
    "facilitating": (0.03, 0.13, 0.53, "U = 0.03  tau_d = 130 ms  tau_f = 530 ms"),
}


def trains() -> list[np.ndarray]:
    """One regular train per rate, from one interval after 0 until 10 ms before the end."""
    result = []
    for rate in RATES:
        interval = round(1 / (rate * DT))
        result.append(np.arange(interval, round((DURATION - 10e-3) / DT) + 1, interval) * DT)
    return result


def recursion(U: float, tau_d: float, tau_f: float, interval: float, spikes: int) -> np.ndarray:
    """u_n x_n for n = 1..spikes, by the recursion of the module docstring."""
    a, b = np.exp(-interval / tau_f), np.exp(-interval / tau_d)
    u, x, efficacies = U, 1.0, []
    for _ in range(spikes):
        efficacies.append(u * x)
        u, x = a * u + U * (1 - a * u), 1 - b * (1 - (1 - u) * x)
    return np.array(efficacies)


def steady_state(U: float, tau_d: float, tau_f: float, interval: float) -> float:
    """u* x*, the fixed point of the recursion."""
    a, b = np.exp(-interval / tau_f), np.exp(-interval / tau_d)
    u = U / (1 - (1 - U) * a)
    return u * (1 - b) / (1 - (1 - u) * b)


def model() -> str:
    sources = spike_times(trains(), DT)
    size = len(RATES)
    connects = "\n".join(
        f"connect Train.{name} -> Sink.{name} with TsodyksMarkram {{ rule = one_to_one  {settings} }}"
        for name, (*_, settings) in SETS.items()
    )
    return f"""
simulation {{ dt = 1 ms  duration = {DURATION * 1e3:.0f} ms }}
import stp from std
{PUPPET}
region Train {{ depressing = SpikeTimes[{size}] {{ {sources} }}  facilitating = SpikeTimes[{size}] {{ {sources} }} }}
region Sink {{ depressing = Puppet[{size}]  facilitating = Puppet[{size}] }}
{connects}
record I_syn of Sink
"""


@pytest.fixture(scope="module")
def runs():
    text = model()
    return {backend: run(text, backend, "stp_rates.brain") for backend in ("numpy", "jax")}


def responses(results, name: str) -> list[np.ndarray]:
    """Per rate, the response (units of w) to each spike: the steps of the sink's I_syn."""
    trace = results.traces[(f"Sink.{name}", "I_syn")]
    steps = np.diff(trace.values, axis=0, prepend=0.0)
    return [steps[steps[:, k] != 0, k] / WEIGHT for k in range(len(RATES))]


@pytest.mark.parametrize("name", SETS)
def test_every_response_follows_the_recursion(runs, name):
    U, tau_d, tau_f, _ = SETS[name]
    for rate, train, measured in zip(RATES, trains(), responses(runs["numpy"], name)):
        assert len(measured) == len(train)
        assert np.allclose(measured, recursion(U, tau_d, tau_f, 1 / rate, len(train)), rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", SETS)
def test_steady_state_response_matches_the_formula(runs, name):
    U, tau_d, tau_f, _ = SETS[name]
    for rate, train, measured in zip(RATES, trains(), responses(runs["numpy"], name)):
        expected = steady_state(U, tau_d, tau_f, 1 / rate)
        # 1e-7: the trains are long enough for the recursion itself to have settled that
        # far (the slowest, facilitation at 2 Hz, is within 1e-8 after its 19 spikes)
        assert recursion(U, tau_d, tau_f, 1 / rate, len(train))[-1] == pytest.approx(expected, rel=1e-7)
        assert measured[-1] == pytest.approx(expected, rel=1e-7)


def test_depression_weakens_and_facilitation_strengthens_with_rate(runs):
    depressing = [r[-1] for r in responses(runs["numpy"], "depressing")]
    facilitating = [r[-1] for r in responses(runs["numpy"], "facilitating")]
    assert np.all(np.diff(depressing) < 0) and depressing[0] < 0.5  # below U from 2 Hz on
    # facilitation wins up to 20 Hz (u grows from 0.03 towards 1), depression beyond
    peak = int(np.argmax(facilitating))
    assert facilitating[0] > 0.03 and RATES[peak] == 20.0


def test_backends_identical(runs):
    assert_synapses_identical(runs["numpy"], runs["jax"])
    for key, trace in runs["numpy"].traces.items():
        assert np.array_equal(trace.values, runs["jax"].traces[key].values)
