"""The assertion that two runs agree bit for bit, shared by the backend and model tests."""

import numpy as np

from brainsim.results import compare_results


def assert_identical(a, b):
    """Results `a` and `b` agree bit for bit: spikes, counts, traces and final states."""
    comparison = compare_results(a, b)
    assert comparison.identical, comparison.format()
    for name, trains in a.spikes.items():
        assert np.array_equal(trains.times, b.spikes[name].times)
        assert np.array_equal(trains.indices, b.spikes[name].indices)
    for name, counts in a.spike_counts.items():
        assert np.array_equal(counts, b.spike_counts[name])
    for key, trace in a.traces.items():
        assert np.array_equal(trace.values, b.traces[key].values)
    for name, variables in a.final_state.items():
        for variable, values in variables.items():
            assert np.array_equal(values, b.final_state[name][variable])
