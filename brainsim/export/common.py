"""What the file formats share: the run's time span, spikes split per neuron, a trace's sampling.

Times are float64 seconds counted from t = 0 of the simulation (`brainsim.results`). The
end of the run is computed as spike times are, `(step + 1) * dt`, so a spike in the last
step lies exactly on it and no reader finds a spike past the end of its recording.
"""

from __future__ import annotations

import numpy as np

from brainsim.results import Results, SpikeTrains, SynapseTrace, Trace


def time_span(results: Results) -> tuple[float, float]:
    """(start, end) of the run, s."""
    return results.first_step * results.dt, (results.first_step + results.n_steps) * results.dt


def by_neuron(trains: SpikeTrains) -> tuple[np.ndarray, np.ndarray]:
    """The spike times of a population ordered by neuron, then time, and the spike count
    of each neuron 0 .. size - 1."""
    order = np.argsort(trains.indices, kind="stable")  # stable: each neuron's spikes stay in time order
    return trains.times[order], np.bincount(trains.indices, minlength=trains.size)


def per_neuron(trains: SpikeTrains) -> list[np.ndarray]:
    """The spike times of each neuron 0 .. size - 1 of a population, each in time order."""
    times, counts = by_neuron(trains)
    return np.split(times, np.cumsum(counts)[:-1])


def sampling_period(trace: Trace | SynapseTrace, dt: float) -> float | None:
    """The interval between a trace's samples (s), a whole number of steps; None if the
    samples are not evenly spaced (synapse snapshots at chosen times) or are too few to say."""
    steps = np.rint(np.diff(trace.times) / dt).astype(np.int64)
    if len(steps) == 0 or np.any(steps != steps[0]):
        return None
    return int(steps[0]) * dt
