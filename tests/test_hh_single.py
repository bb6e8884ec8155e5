"""models/hh_single.brain: one Hodgkin-Huxley neuron fires repetitively during a current step.

The reference is Brian2 running the same equations with the same method (forward
Euler) and step (10 us), tests/data/make_brian2_hh_single.py. Same arithmetic in
another order, so the spike times agree to a few steps, not bit for bit. The
classic value checks the model itself: at 10 uA/cm^2 the squid axon fires at
about 68 Hz (a period near 14.6 ms; Brian2's fourth-order Runge-Kutta run of
tests/data/brian2_hodgkin_huxley.json gives 14.64 ms).
"""

import json
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
REFERENCE = np.array(json.loads((ROOT / "tests" / "data" / "brian2_hh_single.json").read_text())["spike_times_s"])
STEP_ON, STEP_OFF = 0.020, 0.170


@pytest.fixture(scope="module")
def results():
    return brainsim.load(ROOT / "models" / "hh_single.brain").compile(backend="numpy").run()


def test_spikes_only_during_the_step(results):
    times = results.spikes["Axon.cell"].times
    assert len(times) > 5
    assert times[0] > STEP_ON and times[-1] < STEP_OFF + 0.003   # the last spike may start as the step ends


def test_spike_times_match_brian2(results):
    times = results.spikes["Axon.cell"].times
    assert len(times) == len(REFERENCE), f"{len(times)} spikes, Brian2 {len(REFERENCE)}"
    assert np.max(np.abs(times - REFERENCE)) <= 0.05e-3


def test_rate_is_the_known_68_hz(results):
    """The steady period after the first spike: 14.6 ms, within 0.2 ms (Euler's error at 10 us)."""
    period = np.mean(np.diff(results.spikes["Axon.cell"].times)[1:])
    assert period == pytest.approx(14.64e-3, abs=0.2e-3)
    assert 1 / period == pytest.approx(68.3, abs=1.0)


def test_recorded_voltage_rests_then_spikes(results):
    """v stays near the -65 mV rest before the step and overshoots 0 mV by tens of mV in each spike."""
    trace = results.traces[("Axon.cell", "v")]
    v = trace.values[:, 0]
    before = trace.times < STEP_ON
    assert np.max(np.abs(v[before] + 65e-3)) < 0.5e-3
    assert np.max(v[~before]) > 30e-3
