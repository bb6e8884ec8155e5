"""models/izhikevich.brain: the 1000-neuron network of Izhikevich (2003) fires in rhythms.

The paper's Fig. 3 shows the excitatory population firing in volleys at alpha
(about 10 Hz) and gamma (about 40 Hz) frequencies. Here: the spectrum of the
whole network's spike count in 1 ms bins (tests/brunel_signatures.py) has its
largest peak between 5 and 80 Hz, standing well above the spectrum's median, and
the neurons fire at a cortical rate.
"""

from pathlib import Path

import numpy as np
import pytest

import brainsim
from brunel_signatures import BIN, dominant_frequency, population_counts

MODEL = Path(__file__).parent.parent / "models" / "izhikevich.brain"
WINDOW = (0.2, 1.0)   # after the first volley of the uniform start


@pytest.fixture(scope="module")
def network():
    """All spikes of the run, as (times, indices) over the 1000 neurons (E first)."""
    results = brainsim.load(MODEL).compile(backend="numpy").run()
    excitatory, inhibitory = results.spikes["Cortex.E"], results.spikes["Cortex.I"]
    times = np.concatenate([excitatory.times, inhibitory.times])
    indices = np.concatenate([excitatory.indices, inhibitory.indices + 800])
    return times, indices


def test_population_rate_has_an_alpha_or_gamma_peak(network):
    times, indices = network
    frequency = dominant_frequency(times, indices, WINDOW)
    assert 5.0 <= frequency <= 80.0, f"dominant frequency {frequency} Hz"
    counts = population_counts(times, indices, WINDOW)
    power = np.abs(np.fft.rfft(counts - counts.mean())) ** 2
    frequencies = np.fft.rfftfreq(len(counts), BIN)
    band = (frequencies >= 5.0) & (frequencies <= 80.0)
    assert power[band].max() > 10 * np.median(power[frequencies > 5.0])


def test_neurons_fire_at_a_cortical_rate(network):
    times, _ = network
    rate = np.count_nonzero((times >= WINDOW[0]) & (times < WINDOW[1])) / (1000 * (WINDOW[1] - WINDOW[0]))
    assert 2.0 < rate < 40.0, f"{rate:.1f} Hz"
