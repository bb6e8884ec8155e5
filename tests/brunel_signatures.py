"""The signatures of a Brunel (2000) regime, computed from spike trains with numpy only.

One place for the measures that tests/data/make_brian2_brunel.py applies to Brian2's
runs and tests/test_brunel.py to brainsim's, so both sides are measured alike:

* `mean_rate`: spikes per neuron per second in the window (Hz);
* `mean_cv`: the coefficient of variation of the interspike intervals, per neuron
  with at least `MIN_SPIKES` spikes in the window, averaged over those neurons
  (0 for a clock, 1 for a Poisson train);
* `fano`: the variance over the count of spikes of the whole population in
  `BIN` bins, divided by its mean. Independent Poisson neurons give 1; a
  population that fires in volleys gives far more (Brunel's "synchronous");
* `dominant_frequency`: the frequency of the largest peak of the population
  count's power spectrum above `MIN_FREQUENCY` (Welch's average of periodograms of
  `SEGMENT` long windows), the global oscillation of regimes A, B and D.

Times are in seconds, `indices` the neuron of each spike, `window` (start, stop).
"""

import numpy as np

BIN = 1e-3
MIN_SPIKES = 3
SEGMENT = 0.25
MIN_FREQUENCY = 5.0


def _in_window(times, indices, window):
    times, indices = np.asarray(times, dtype=float), np.asarray(indices)
    keep = (times >= window[0]) & (times < window[1])
    return times[keep], indices[keep]


def mean_rate(times, indices, size, window):
    """Spikes per neuron per second of `size` neurons in `window` (Hz)."""
    times, _ = _in_window(times, indices, window)
    return len(times) / (size * (window[1] - window[0]))


def mean_cv(times, indices, window):
    """Mean CV of the interspike intervals of the neurons with at least MIN_SPIKES spikes (nan if none)."""
    times, indices = _in_window(times, indices, window)
    order = np.lexsort((times, indices))
    times, indices = times[order], indices[order]
    same = indices[1:] == indices[:-1]
    intervals, owner = np.diff(times)[same], indices[1:][same]
    _, neuron, count = np.unique(owner, return_inverse=True, return_counts=True)
    mean = np.bincount(neuron, weights=intervals) / count
    std = np.sqrt(np.maximum(np.bincount(neuron, weights=intervals**2) / count - mean**2, 0.0))
    kept = count >= MIN_SPIKES - 1
    return float(np.mean(std[kept] / mean[kept])) if kept.any() else float("nan")


def population_counts(times, indices, window):
    """Spikes of the whole population per BIN in `window`."""
    times, _ = _in_window(times, indices, window)
    edges = window[0] + BIN * np.arange(round((window[1] - window[0]) / BIN) + 1)
    return np.histogram(times, bins=edges)[0].astype(float)


def fano(times, indices, window):
    """Variance over mean of the population's spike count per BIN (1 for independent Poisson neurons)."""
    counts = population_counts(times, indices, window)
    return float(np.var(counts) / np.mean(counts)) if np.mean(counts) > 0 else float("nan")


def dominant_frequency(times, indices, window):
    """The frequency (Hz) of the largest peak of the population count's spectrum above MIN_FREQUENCY."""
    counts = population_counts(times, indices, window)
    length = round(SEGMENT / BIN)
    segments = counts[: len(counts) // length * length].reshape(-1, length)
    segments = segments - segments.mean(axis=1, keepdims=True)
    power = np.mean(np.abs(np.fft.rfft(segments * np.hanning(length), axis=1)) ** 2, axis=0)
    frequencies = np.fft.rfftfreq(length, BIN)
    above = frequencies >= MIN_FREQUENCY
    return float(frequencies[above][np.argmax(power[above])])


def signatures(times, indices, size, window):
    """All four measures of one population's spikes, as a dict of floats."""
    return {
        "rate_hz": mean_rate(times, indices, size, window),
        "cv": mean_cv(times, indices, window),
        "fano": fano(times, indices, window),
        "frequency_hz": dominant_frequency(times, indices, window),
    }
