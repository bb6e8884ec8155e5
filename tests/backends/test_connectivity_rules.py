"""Every connection rule on the host: exact degree counts, probability statistics, conditions,
multapse and autapse switches, distance-dependent rules on positions, and both backends
giving the same bits for a network that uses every rule."""

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.errors import DelayRoundingWarning, InvalidValueError
from brainsim.network import build
from brainsim.validate import validate

from . import networks as nets
from brainsim.backends import compile_network

from .identity import assert_identical

MS = 1e-3
I, J = ir.Var("i"), ir.Var("j")


def network(n_pre, n_post, rule, same=False, positions=None, **options) -> ir.Network:
    model = nets.seed_neuron()
    synapse = nets.current_synapse("S", "I_syn", ir.Constant(1e-12))
    target = "A.a" if same else "B.b"
    projection = ir.Projection("p", "A.a", target, synapse, rule, ir.Constant(0.1 * MS), **options)
    populations = [ir.Population("A.a", "A", n_pre, model, positions=positions)]
    regions = [ir.Region("A", ("A.a",))]
    if not same:
        populations.append(ir.Population("B.b", "B", n_post, model, positions=positions))
        regions.append(ir.Region("B", ("B.b",)))
    return ir.Network(nets.settings(10 * MS, seed=5), tuple(regions), tuple(populations), (projection,), (), (), ())


def edges(net) -> tuple[np.ndarray, np.ndarray]:
    host = build(net)
    connectivity = host.projections[0]
    pre = np.repeat(np.arange(connectivity.source_size), np.diff(connectivity.indptr))
    return pre, connectivity.post - host.placement[connectivity.projection.target][1]


def test_fixed_indegree_gives_every_target_exactly_n_sources():
    pre, post = edges(network(50, 30, ir.FixedIndegree(7)))
    assert np.array_equal(np.bincount(post, minlength=30), np.full(30, 7))
    assert np.all(np.diff(pre) >= 0)  # sorted by pre, as the pathways need


def test_fixed_outdegree_gives_every_source_exactly_n_targets():
    pre, post = edges(network(30, 50, ir.FixedOutdegree(4)))
    assert np.array_equal(np.bincount(pre, minlength=30), np.full(30, 4))


def test_fixed_total_number_is_exact():
    pre, post = edges(network(30, 40, ir.FixedTotalNumber(500)))
    assert len(pre) == 500 and post.max() < 40


def test_without_multapses_no_pair_repeats_and_with_them_some_do():
    for rule in (ir.FixedIndegree(18), ir.FixedOutdegree(18), ir.FixedTotalNumber(350)):
        pre, post = edges(network(20, 20, rule, allow_multapses=False))
        assert len(set(zip(pre.tolist(), post.tolist()))) == len(pre)
        pre, post = edges(network(20, 20, rule, allow_multapses=True))
        assert len(set(zip(pre.tolist(), post.tolist()))) < len(pre)


def test_autapses_are_excluded_from_the_candidates_unless_allowed():
    pre, post = edges(network(20, 20, ir.FixedIndegree(19), same=True, allow_multapses=False))
    assert not np.any(pre == post) and len(pre) == 20 * 19
    pre, post = edges(network(20, 20, ir.FixedIndegree(20), same=True, allow_multapses=False, allow_autapses=True))
    assert np.sum(pre == post) == 20


def test_too_many_distinct_synapses_are_rejected_before_drawing():
    with pytest.raises(InvalidValueError, match="asks for 21 distinct synapses onto each postsynaptic neuron"):
        validate(network(20, 5, ir.FixedIndegree(21), allow_multapses=False))
    with pytest.raises(InvalidValueError, match="must not be negative"):
        validate(network(20, 5, ir.FixedOutdegree(-1)))


def test_a_condition_leaving_too_few_candidates_is_reported_when_drawn():
    net = network(10, 10, ir.FixedIndegree(3), allow_multapses=False, condition=ir.Binary(ir.BinaryOp.LT, I, J))
    with pytest.raises(InvalidValueError, match=r"postsynaptic neuron 0, but only 0 candidate pairs .*condition"):
        build(net)


def test_a_condition_keeps_only_the_pairs_where_it_holds():
    pre, post = edges(network(30, 30, ir.AllToAll(), condition=ir.Binary(ir.BinaryOp.NE, I, J)))
    assert len(pre) == 30 * 29 and not np.any(pre == post)
    pre, post = edges(network(40, 30, ir.FixedIndegree(5), condition=ir.Binary(ir.BinaryOp.GT, I, J)))
    assert np.all(pre > post) and np.array_equal(np.bincount(post, minlength=30), np.full(30, 5))


def binomial_bound(n: int, p: float) -> float:
    return 5 * math.sqrt(n * p * (1 - p))


def test_a_probability_expression_gives_the_expected_number_of_synapses():
    # p = exp(-|i - j| / 10): the expected count is the sum of p over all pairs.
    p = ir.Call(ir.Function.EXP, (ir.Binary(ir.BinaryOp.DIV, ir.Unary(ir.UnaryOp.NEG, ir.Call(ir.Function.ABS, (ir.Binary(ir.BinaryOp.SUB, I, J),))), ir.Const(10.0)),))
    pre, post = edges(network(200, 200, ir.FixedProbability(p)))
    i, j = np.meshgrid(np.arange(200), np.arange(200), indexing="ij")
    expected = np.exp(-np.abs(i - j) / 10)
    assert abs(len(pre) - expected.sum()) < 5 * math.sqrt((expected * (1 - expected)).sum())
    assert np.mean(np.abs(pre - post)) < 15


def test_distance_dependent_connectivity_on_a_grid():
    grid = ir.Grid((10, 10), 100e-6)
    near = ir.Binary(ir.BinaryOp.LE, ir.Var("distance"), ir.Const(150e-6))
    pre, post = edges(network(100, 100, ir.AllToAll(), same=True, positions=grid, condition=near))
    # On a 10 x 10 grid with spacing 100 um, the neighbours within 150 um are the 8 around (fewer at the edges).
    degree = np.bincount(pre, minlength=100)
    assert degree[11] == 8 and degree[0] == 3 and degree.sum() == 4 * 3 + 32 * 5 + 64 * 8


def test_blocks_bound_memory_but_not_the_result(monkeypatch):
    from brainsim.network import pairs
    rule = ir.FixedProbability(ir.Binary(ir.BinaryOp.DIV, I, ir.Const(100.0)))
    full = edges(network(100, 100, rule))
    monkeypatch.setattr(pairs, "BLOCK_PAIRS", 1000)
    blocked = edges(network(100, 100, rule))
    assert np.array_equal(full[0], blocked[0]) and np.array_equal(full[1], blocked[1])


def test_a_probability_expression_outside_0_and_1_is_reported():
    with pytest.raises(InvalidValueError, match="a probability must be between 0 and 1"):
        build(network(10, 10, ir.FixedProbability(ir.Binary(ir.BinaryOp.MUL, I, ir.Const(1.0)))))


def test_an_edge_list_outside_the_population_is_rejected():
    with pytest.raises(InvalidValueError, match=r"edge 1 of p has post = 12, outside `B.b`"):
        validate(network(5, 10, ir.EdgeList((0, 1), (3, 12))))


def test_every_rule_runs_bit_identically_on_both_backends():
    model = nets.seed_neuron()
    synapse = nets.current_synapse("S", "I_syn", ir.Normal(2e-10, 5e-11))
    populations = (
        ir.Population("A.a", "A", 40, model, positions=ir.RandomBox((0, 0, 0), (1e-3, 1e-3, 0))),
        ir.Population("B.b", "B", 30, model, positions=ir.Grid((6, 5), 1e-4)),
    )
    distance = ir.Var("distance")
    delay = ir.Formula(ir.Binary(ir.BinaryOp.ADD, ir.Const(0.5 * MS), ir.Binary(ir.BinaryOp.DIV, distance, ir.Const(0.3))))
    rules = [
        (ir.AllToAll(), {"condition": ir.Binary(ir.BinaryOp.LT, distance, ir.Const(4e-4))}),
        (ir.OneToOne(), {}),
        (ir.FixedProbability(ir.Call(ir.Function.EXP, (ir.Binary(ir.BinaryOp.DIV, ir.Unary(ir.UnaryOp.NEG, distance), ir.Const(3e-4)),))), {}),
        (ir.FixedIndegree(5), {"allow_multapses": False}),
        (ir.FixedOutdegree(4), {}),
        (ir.FixedTotalNumber(200), {}),
        (ir.EdgeList((0, 3, 3), (1, 2, 0)), {}),
    ]
    projections = []
    for k, (rule, options) in enumerate(rules):
        source, target = ("B.b", "B.b") if isinstance(rule, ir.OneToOne) else ("A.a", "B.b")
        projections.append(ir.Projection(f"p{k}", source, target, synapse, rule, delay, **options))
    net = ir.Network(
        nets.settings(50 * MS, seed=11),
        (ir.Region("A", ("A.a",)), ir.Region("B", ("B.b",))),
        populations,
        tuple(projections),
        (ir.Stimulus("A.a", "I_ext", ir.ConstantCurrent(10e-9)),),
        (ir.SpikeRecord("A.a"), ir.SpikeRecord("B.b")),
        (ir.StateRecord("B.b", "v", tuple(range(30))),),
    )
    with pytest.warns(DelayRoundingWarning):  # the distance-dependent delays round to whole steps
        first = compile_network(net, backend="numpy").run()
        second = compile_network(net, backend="jax").run()
    assert_identical(first, second)
