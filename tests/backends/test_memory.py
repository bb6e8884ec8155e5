"""Memory per static synapse, measured from the arrays each backend holds (issue 9, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

import brainsim
from brainsim.network.connectivity import SLOT_ALIGNMENT, index_dtype, ring_targets, slot_width

CUBA_LIKE = """
simulation { dt = 0.1 ms  duration = 2 ms  seed = 3 }
neuron N {
    parameters { tau = 10 ms }
    state { v = uniform(0 mV, 1 mV)  g = 0 mV }
    equations { dv/dt = (g - v) / tau  dg/dt = -g / tau }
    spike when v > 0.9 mV
    reset { v = 0 mV }
}
synapse E { state { w = 0.5 mV }  on pre { g += w } }
region R { excitatory a = N[400]  excitatory b = N[100] }
connect R.a -> R with E { p = 0.1  delay = 0.1 ms }
connect R.b -> R with E { p = 0.1  delay = 0.1 ms }
"""

# A weight and a delay drawn for every synapse: the delay travels packed with the target.
PER_SYNAPSE = CUBA_LIKE.replace("delay = 0.1 ms", "weight = uniform(0.1 mV, 0.5 mV)  delay = uniform(0.1 ms, 3 ms)")


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("text", [CUBA_LIKE, PER_SYNAPSE], ids=["cuba_like", "per_synapse_weight_and_delay"])
def test_a_static_synapse_takes_at_most_16_bytes_in_float64(text, backend):
    simulation = brainsim.loads(text).compile(backend=backend)
    memory = simulation.synapse_memory()
    if text is PER_SYNAPSE:  # not the uniform case in disguise
        pathway = simulation.host.pathways[0]
        assert pathway.uniform_delay is None and len(np.unique(pathway.states["w"])) > 1000
    assert [m.projections for m in memory] == [("R.a->R.a", "R.a->R.b"), ("R.b->R.a", "R.b->R.b")]  # merged per source
    for m in memory:
        assert m.synapses > 3000 and not m.plastic
        # 4 (target, int32) + 8 (w, float64) per synapse, plus the row pointers of 400 or 100 neurons
        assert 12 <= m.per_synapse <= 16


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("text", [CUBA_LIKE, PER_SYNAPSE], ids=["cuba_like", "per_synapse_weight_and_delay"])
def test_a_static_synapse_takes_8_bytes_in_float32(text, backend):
    simulation = brainsim.loads(text).compile(backend=backend, dtype="float32")
    for m, pathway in zip(simulation.synapse_memory(), simulation.host.pathways):
        rows = len(pathway.indptr)  # the row pointers: per presynaptic neuron, not per synapse
        # 4 (target, int32) + 4 (w, float32) per synapse; beyond that only the row pointers
        # and a layout of under 1 kB (the slot table, one spare synapse)
        assert 0 < m.bytes - 8 * m.synapses <= 8 * rows + 1024


def test_the_ring_target_lands_where_post_and_delay_say():
    width, length = 7, 5
    post, delay = np.array([0, 6, 3, 2]), np.array([1, 4, 2, 3])
    pathway = type("P", (), {"post": post, "delay_steps": delay})()
    size = length * width
    target = ring_targets(pathway, width, size)
    assert target.dtype == np.int32
    for n in range(3 * length):
        index = target + np.int32(((n + 1) % length) * width)
        index = np.where(index >= size, index - size, index)
        assert list(index) == list(((n + 1 + delay) % length) * width + post)


@pytest.mark.parametrize("size", [1, 6, 7, 8, 500, 51200, 64000])
def test_a_ring_slot_holds_the_group_and_its_trash_column_and_starts_on_a_cache_line(size):
    width = slot_width(size)
    assert width % SLOT_ALIGNMENT == 0 and SLOT_ALIGNMENT * 8 == 64
    assert size + 1 <= width < size + 1 + SLOT_ALIGNMENT


def test_indices_are_int32_only_where_they_fit():
    assert index_dtype(2**31 - 1) is np.int32
    assert index_dtype(2**31) is np.int64
    pathway = type("P", (), {"post": np.array([5]), "delay_steps": np.array([1])})()
    assert ring_targets(pathway, 2**20, 2**30).dtype == np.int64  # a 2^30-value ring buffer: the sum needs 2^31
    assert ring_targets(pathway, 2**20, 2**30 - 1).dtype == np.int32
