"""Host-side construction: connectivity rules and their statistics, delays, initial values, schedules."""

import dataclasses
import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.errors import DelayRoundingWarning, InvalidValueError
from brainsim.network import build
from brainsim.network.connectivity import bernoulli_positions, presynaptic_order
from brainsim.validate import validate

from . import networks as nets

MS = 1e-3


def projection(rule, source="A.a", target="B.b", delay=ir.Constant(0.1 * MS), autapses=False) -> ir.Projection:
    synapse = nets.current_synapse("S", "I_syn", ir.Uniform(1.0, 2.0))
    return ir.Projection("p", source, target, synapse, rule, delay, allow_autapses=autapses)


def two_populations(n_a: int, n_b: int, *projections: ir.Projection, seed: int = 7) -> ir.Network:
    model = nets.seed_neuron()
    return ir.Network(
        simulation=nets.settings(10 * MS, seed=seed),
        regions=(ir.Region("A", ("A.a",)), ir.Region("B", ("B.b",))),
        populations=(ir.Population("A.a", "A", n_a, model), ir.Population("B.b", "B", n_b, model)),
        projections=projections,
        stimuli=(),
        spike_records=(),
        state_records=(),
    )


def pairs(connectivity) -> tuple[np.ndarray, np.ndarray]:
    pre = np.repeat(np.arange(connectivity.source_size), np.diff(connectivity.indptr))
    return pre, connectivity.post


@pytest.mark.parametrize("p", [0.02, 0.3])
def test_fixed_probability_has_the_expected_number_of_synapses(p):
    host = build(two_populations(300, 400, projection(ir.FixedProbability(p))))
    count = host.projections[0].n_synapses
    expected = p * 300 * 400
    assert abs(count - expected) < 5 * math.sqrt(expected * (1 - p))


def test_fixed_probability_rows_have_binomial_in_degree_and_out_degree():
    p, n = 0.1, 500
    host = build(two_populations(n, n, projection(ir.FixedProbability(p))))
    connectivity, offset = host.projections[0], host.placement["B.b"][1]
    for degree in (np.diff(connectivity.indptr), np.bincount(connectivity.post - offset, minlength=n)):
        variance = p * (1 - p) * n  # binomial
        assert abs(degree.mean() - p * n) < 5 * math.sqrt(variance / n)
        assert degree.var() == pytest.approx(variance, rel=0.25)


def test_a_population_connected_to_itself_has_no_autapses_unless_allowed():
    network = two_populations(200, 10, projection(ir.FixedProbability(0.5), source="A.a", target="A.a"))
    pre, post = pairs(build(network).projections[0])
    assert len(pre) > 0 and not np.any(pre == post)
    allowed = dataclasses.replace(network, projections=(projection(ir.AllToAll(), "A.a", "A.a", autapses=True),))
    pre, post = pairs(build(allowed).projections[0])
    assert len(pre) == 200 * 200 and np.sum(pre == post) == 200


def test_all_to_all_and_one_to_one():
    host = build(two_populations(4, 6, projection(ir.AllToAll())))
    pre, post = pairs(host.projections[0])
    offset = host.placement["B.b"][1]
    assert list(zip(pre, post - offset)) == [(i, j) for i in range(4) for j in range(6)]
    host = build(two_populations(5, 5, projection(ir.OneToOne())))
    pre, post = pairs(host.projections[0])
    assert np.array_equal(pre, np.arange(5)) and np.array_equal(post - host.placement["B.b"][1], np.arange(5))
    with pytest.raises(InvalidValueError, match="different sizes"):
        validate(two_populations(5, 6, projection(ir.OneToOne())))


def test_csr_rows_are_sorted_by_presynaptic_then_postsynaptic_neuron():
    connectivity = build(two_populations(50, 60, projection(ir.FixedProbability(0.2)))).projections[0]
    pre, post = pairs(connectivity)
    order = np.lexsort((post, pre))
    assert np.array_equal(order, np.arange(len(pre)))
    assert connectivity.indptr[0] == 0 and connectivity.indptr[-1] == len(post)


def test_bernoulli_positions_scale_without_a_dense_matrix():
    rng = np.random.default_rng(0)
    positions = bernoulli_positions(10**10, 1e-6, rng)  # a 100 000 x 100 000 matrix
    assert abs(len(positions) - 10**4) < 5 * 100
    assert np.all(np.diff(positions) > 0) and positions[-1] < 10**10


def test_delays_are_rounded_to_whole_steps_of_at_least_one():
    network = two_populations(30, 30, projection(ir.AllToAll(), delay=ir.Uniform(1 * MS, 3 * MS)))
    delays = build(network).projections[0].delay_steps
    assert delays.min() >= 10 and delays.max() <= 30 and len(np.unique(delays)) > 10
    network = two_populations(3, 3, projection(ir.AllToAll(), delay=ir.Constant(0.26 * MS)))
    with pytest.warns(DelayRoundingWarning, match=r"rounding the delays of p .* changes 0.00026 s to 0.0003 s \(15.4%\)"):
        build(network)
    network = two_populations(3, 3, projection(ir.AllToAll(), delay=ir.Constant(0.04 * MS)))
    with pytest.raises(InvalidValueError, match="shorter than one step"):
        validate(network)


def test_initial_values_and_connectivity_come_from_the_seed_alone():
    network = nets.cuba(n=500, duration=0.01)
    a, b = build(network), build(network)
    assert np.array_equal(a.groups[0].initial["v"], b.groups[0].initial["v"])
    for x, y in zip(a.projections, b.projections):
        assert np.array_equal(x.post, y.post) and np.array_equal(x.states["w"], y.states["w"])
    other = build(nets.cuba(n=500, duration=0.01, seed=43))
    assert not np.array_equal(a.groups[0].initial["v"], other.groups[0].initial["v"])
    v = a.groups[0].initial["v"]
    assert v.min() >= -60e-3 and v.max() < -50e-3


def test_populations_with_equal_models_share_a_group():
    host = build(nets.cuba(n=500, duration=0.01))
    assert len(host.groups) == 1
    assert host.groups[0].populations == ("Cortex.exc", "Cortex.inh")
    assert host.placement == {"Cortex.exc": (0, 0), "Cortex.inh": (0, 400)}


def test_pulse_trains_become_whole_steps():
    (schedule,) = build(nets.visual_pathway()).schedules
    assert (schedule.start, schedule.period, schedule.width) == (0, 200, 100)
    assert schedule.stop > 10**15
    assert np.count_nonzero(schedule.amplitude) == 10


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda n: dataclasses.replace(n, state_records=(ir.StateRecord("V1.simple", "v", (20,)),)), "record indices"),
        (lambda n: dataclasses.replace(n, state_records=(ir.StateRecord("V1.simple", "u", (0,)),)), "no state variable"),
        (lambda n: dataclasses.replace(n, stimuli=(ir.Stimulus("V1.simple", "v", ir.ConstantCurrent(1.0)),)), "input"),
        (lambda n: dataclasses.replace(n, stimuli=(ir.Stimulus("V9.x", "I_ext", ir.ConstantCurrent(1.0)),)), "no population"),
    ],
)
def test_what_a_backend_cannot_run_is_a_clear_error(change, message):
    with pytest.raises(InvalidValueError, match=message):
        validate(change(nets.visual_pathway()))


@pytest.mark.parametrize("n_pre, n_post", [(3, 5), (65536, 200), (200, 65536), (65537, 40), (40, 70000)])
def test_the_presynaptic_order_is_lexsorts_with_narrow_keys_or_wide(n_pre, n_post):
    """Stable among repeated pairs (a multapse's weights follow their drawing order), whichever key type sorts."""
    rng = np.random.default_rng(n_pre + n_post)
    pre = rng.integers(0, n_pre, 50_000).astype(np.int64)
    post = rng.integers(0, min(n_post, 30), 50_000).astype(np.int64) * (n_post // 30 or 1)
    pre[:3], post[:3] = n_pre - 1, n_post - 1  # the largest indices, repeated
    assert np.array_equal(presynaptic_order(pre, post, n_pre, n_post), np.lexsort((post, pre)))
