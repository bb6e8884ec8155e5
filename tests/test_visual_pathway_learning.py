"""models/visual_pathway_learning.brain: the seed's pathway learns with the seed's rule.

Retina -> V1 synapses whose two neurons spiked in the same step (correlated
activity) are potentiated; those whose presynaptic spikes never met a spike of
their target are depressed, and so, on V1 -> Visual_Association, is every
synapse that never carried a coincidence. The final weights (results.synapses)
are compared with the initial ones (0.5 nA and 0.7 nA, as the connect
statements set them) and with a replay of the seed's rule on the recorded
spikes; both backends give the same weights bit for bit.
"""

from pathlib import Path

import numpy as np
import pytest

import brainsim
from backends.identity import assert_identical
from hebbian_replay import replay

MODEL = Path(__file__).parent.parent / "models" / "visual_pathway_learning.brain"
PROJECTIONS = {  # name -> (source, target, initial weight)
    "Retina.photoreceptors->V1.simple": ("Retina.photoreceptors", "V1.simple", 0.5e-9),
    "V1.simple->Visual_Association.out": ("V1.simple", "Visual_Association.out", 0.7e-9),
}


@pytest.fixture(scope="module")
def runs():
    model = brainsim.load(MODEL)
    return {backend: model.compile(backend=backend).run() for backend in ("numpy", "jax")}


def test_backends_agree_on_the_learned_weights(runs):
    assert_identical(runs["numpy"], runs["jax"])
    for name in PROJECTIONS:
        a, b = runs["numpy"].synapses[name], runs["jax"].synapses[name]
        assert np.array_equal(a.states["w"], b.states["w"]), name


@pytest.mark.parametrize("name", PROJECTIONS)
def test_weights_are_the_seeds_rule_replayed_on_the_spikes(runs, name):
    source, target, w0 = PROJECTIONS[name]
    results = runs["numpy"]
    w = results.synapses[name].states["w"]
    expected, _ = replay(results, name, source, target, np.full(len(w), w0))
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=0)


def test_correlated_retina_to_v1_synapses_grow_and_the_rest_shrink(runs):
    results = runs["numpy"]
    name = "Retina.photoreceptors->V1.simple"
    source, target, w0 = PROJECTIONS[name]
    w = results.synapses[name].states["w"]
    _, together = replay(results, name, source, target, np.full(len(w), w0))
    correlated = together > 0
    assert np.count_nonzero(correlated) >= 5, "too few Retina -> V1 synapses carried correlated activity"
    assert np.count_nonzero(~correlated) >= 5
    assert np.all(w[correlated] > w0)
    # every other Retina -> V1 synapse carried Retina spikes (the Retina fires in every flash)
    assert np.all(w[~correlated] < w0)


def test_uncorrelated_v1_to_association_synapses_shrink(runs):
    results = runs["numpy"]
    name = "V1.simple->Visual_Association.out"
    source, target, w0 = PROJECTIONS[name]
    w = results.synapses[name].states["w"]
    pre_spiked = results.spike_counts[source][results.synapses[name].pre] > 0
    _, together = replay(results, name, source, target, np.full(len(w), w0))
    quiet = (together == 0) & pre_spiked
    assert np.count_nonzero(quiet) >= 5
    assert np.all(w[quiet] < w0)
    assert np.all(w[together > 0] > w0)


def test_snapshots_are_the_rule_replayed_up_to_their_times(runs):
    """`record w of Retina -> V1 at [50 ms, 100 ms, 150 ms]`: each snapshot is the
    seed's rule replayed on the spikes of the steps up to its time; the last is the
    final weights."""
    results = runs["numpy"]
    name = "Retina.photoreceptors->V1.simple"
    source, target, w0 = PROJECTIONS[name]
    trace = results.synapse_traces[(name, "w")]
    np.testing.assert_allclose(trace.times, [0.05, 0.1, 0.15])
    for time, values in zip(trace.times, trace.values):
        expected, _ = replay(results, name, source, target, np.full(values.shape, w0), end=time)
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
    assert np.array_equal(trace.values[-1], results.synapses[name].states["w"])
    assert np.array_equal(trace.values, runs["jax"].synapse_traces[(name, "w")].values)
