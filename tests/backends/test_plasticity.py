"""Plastic synapses in the engine: on_pre/on_post, exact relaxation, bounds, modulators,
synapse records and snapshots; numpy and jax bit for bit, jax with its bounds forced
small so that the padded (static-shape) paths run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.backends.jax_backend import JaxSimulation
from brainsim.backends.numpy_backend import NumpySimulation
from tests.backends import plastic_networks as pn
from tests.backends.identity import assert_identical
from tests.backends.networks import div, neg, parameters, state, var

ms = 1e-3
PROJECTION = "In.pre->Out.post"
PRE = {0: [10 * ms, 30 * ms, 45 * ms], 1: [20 * ms, 25.1 * ms], 2: [25 * ms, 60 * ms, 60.5 * ms]}
DRIVE = {0: [14.9 * ms, 40 * ms, 70 * ms], 1: [24.9 * ms, 58 * ms]}  # Out.post fires 2 steps later


def both(network: ir.Network):
    """The numpy run and the jax run (one spike per step, one piece per batch), checked identical."""
    a = NumpySimulation(network).run()
    b = JaxSimulation(network, spike_capacity=1, event_batch=1).run()
    assert_identical(a, b)
    return a


def pair_sum(pre_times, post_times, w0: float, A_pre: float, A_post: float, tau: float = 20 * ms) -> float:
    """All-to-all pair STDP: every (pre, post) pair, LTP for post at or after pre, else LTD."""
    w = w0
    for t_pre in pre_times:
        for t_post in post_times:
            if t_post >= t_pre - 1e-12:
                w += A_pre * math.exp(-(t_post - t_pre) / tau)
            else:
                w += A_post * math.exp(-(t_pre - t_post) / tau)
    return w


def test_final_weights_are_the_analytic_sum_of_exponentials():
    results = both(pn.stdp_network(PRE, DRIVE, pn.stdp()))
    post = results.spikes["Out.post"]
    assert np.allclose(post.times[post.indices == 0], [15.1 * ms, 40.2 * ms, 70.2 * ms])
    synapses = results.synapses[PROJECTION]
    assert synapses.pre.tolist() == [0, 0, 1, 1, 2, 2] and synapses.post.tolist() == [0, 1, 0, 1, 0, 1]
    for k, (i, j) in enumerate(zip(synapses.pre, synapses.post)):
        expected = pair_sum(PRE[i], post.times[post.indices == j], 0.5, 0.01, -0.0105)
        assert synapses.states["w"][k] == pytest.approx(expected, rel=0, abs=1e-14)
        # Event-driven traces are brought to the end time: the sum of the decayed kicks.
        a_pre = sum(0.01 * math.exp(-(0.1 - t) / (20 * ms)) for t in PRE[i])
        assert synapses.states["a_pre"][k] == pytest.approx(a_pre, rel=1e-12)


def test_pre_and_post_spikes_in_one_step_count_as_pre_before_post():
    """on pre { w *= 2 }, on post { w += 1 } from w = 1: pre first gives 3, post first 4."""
    synapse = ir.SynapseModel(
        name="Order", parameters=(), states=(state("w", ir.Constant(1.0)),),
        on_pre=(ir.Assignment("w", ir.AssignOp.MUL, ir.Const(2.0)),),
        on_post=(ir.Assignment("w", ir.AssignOp.ADD, ir.Const(1.0)),),
    )
    # The post neuron fires in the step ending at 20.2 ms; the pre channel spikes then too.
    results = both(pn.stdp_network({0: [20.2 * ms]}, {0: [20 * ms]}, synapse, n_pre=1, n_post=1, duration=30 * ms))
    assert results.spikes["Out.post"].times.tolist() == pytest.approx([20.2 * ms])
    assert results.synapses[PROJECTION].states["w"].tolist() == [3.0]


def test_event_driven_relaxation_equals_clock_driven_integration():
    event = both(pn.stdp_network(PRE, DRIVE, pn.stdp()))
    clock = both(pn.stdp_network(PRE, DRIVE, pn.stdp(clock_driven=True)))
    for name in ("w", "a_pre", "a_post"):
        x, y = event.synapses[PROJECTION].states[name], clock.synapses[PROJECTION].states[name]
        assert np.allclose(x, y, rtol=1e-12, atol=1e-15), name


def replayed(pre_times, post_times, w0, A_pre, A_post, low, high, tau=20 * ms) -> float:
    """The contract's STDP replayed event by event in Python floats, w clipped to [low, high]
    after each update; a pre and a post spike at the same time: pre first."""
    w, a_pre, a_post, last = w0, 0.0, 0.0, 0.0
    for t, kind in sorted([(t, 0) for t in pre_times] + [(t, 1) for t in post_times]):
        decay = math.exp(-(t - last) / tau)
        a_pre, a_post, last = a_pre * decay, a_post * decay, t
        if kind == 0:
            a_pre += A_pre
            w = min(max(w + a_post, low), high)
        else:
            a_post += A_post
            w = min(max(w + a_pre, low), high)
    return w


def test_bounds_clip_every_update():
    results = both(pn.stdp_network(PRE, DRIVE, pn.stdp(w0=0.5, bounds=(0.0, 0.51), A_pre=0.2, A_post=-0.3)))
    synapses, post = results.synapses[PROJECTION], results.spikes["Out.post"]
    w = synapses.states["w"]
    assert 0.0 in w.tolist() and 0.51 in w.tolist()
    for k, (i, j) in enumerate(zip(synapses.pre, synapses.post)):
        times = np.round(post.times[post.indices == j], 6).tolist()
        assert w[k] == pytest.approx(replayed(PRE[i], times, 0.5, 0.2, -0.3, 0.0, 0.51), abs=1e-14)


def test_a_synapse_reads_its_modulator_after_the_fire_phase():
    """on pre { w += d_mod }: d of the one-neuron modulator decays from 1 with tau_d, exactly."""
    modulator = ir.NeuronModel(
        name="Dopamine", parameters=parameters(tau_d=50 * ms), states=(state("d", ir.Constant(1.0)),), inputs=(),
        equations=(ir.Equation("d", div(neg(var("d")), var("tau_d"))),), threshold=None, reset=(), refractory=0.0,
    )
    synapse = ir.SynapseModel(
        name="Reads", parameters=(), states=(state("w", ir.Constant(0.0)),),
        on_pre=(ir.Assignment("w", ir.AssignOp.ADD, var("d_mod")),),
    )
    results = both(pn.stdp_network(PRE, DRIVE, synapse, modulator=modulator))
    synapses = results.synapses[PROJECTION]
    for k, i in enumerate(synapses.pre):
        expected = sum(math.exp(-t / (50 * ms)) for t in PRE[i])  # d at the spike's time, t_{n+1}
        assert synapses.states["w"][k] == pytest.approx(expected, rel=1e-12)


def test_records_snapshots_and_final_states_agree_on_both_backends():
    records = (
        ir.SynapseRecord(PROJECTION, "a_pre"),
        ir.SynapseRecord(PROJECTION, "a_post", (1, 4)),
        ir.SynapseRecord(PROJECTION, "w", None, (0.0, 25 * ms, 50 * ms, 100 * ms)),
    )
    results = both(pn.stdp_network(PRE, DRIVE, pn.stdp(), synapse_records=records))
    synapses = results.synapses[PROJECTION]
    snapshots = results.synapse_traces[(PROJECTION, "w")]
    assert snapshots.times.tolist() == pytest.approx([0.0, 25 * ms, 50 * ms, 100 * ms])
    assert snapshots.values[0].tolist() == [0.5] * 6
    assert np.array_equal(snapshots.values[-1], synapses.states["w"])  # the same relaxation, the same bits
    a_post = results.synapse_traces[(PROJECTION, "a_post")]
    assert a_post.values.shape == (1000, 2) and a_post.indices.tolist() == [1, 4]
    # The every-step record of an event-driven trace between events is the relaxed value.
    trace = results.synapse_traces[(PROJECTION, "a_pre")]
    assert trace.values.shape == (1000, 6)
    for k, i in enumerate(synapses.pre):
        for row in (99, 150, 299, 450, 700, 999):
            t = trace.times[row]
            expected = sum(0.01 * math.exp(-(t - s) / (20 * ms)) for s in PRE[i] if s <= t + 1e-12)
            assert trace.values[row, k] == pytest.approx(expected, rel=1e-12, abs=1e-18)
    assert np.array_equal(trace.values[-1], synapses.states["a_pre"])


def test_a_shorter_run_takes_the_snapshots_within_it():
    """A run of 40 ms of a model whose snapshots are at 25 and 50 ms reports the one at 25 ms."""
    records = (ir.SynapseRecord(PROJECTION, "w", None, (25 * ms, 50 * ms)),)
    network = pn.stdp_network(PRE, DRIVE, pn.stdp(), synapse_records=records)
    full = NumpySimulation(network).run().synapse_traces[(PROJECTION, "w")]
    short = [simulation.run(40 * ms).synapse_traces[(PROJECTION, "w")]
             for simulation in (NumpySimulation(network), JaxSimulation(network))]
    for snapshots in short:
        assert snapshots.times.tolist() == pytest.approx([25 * ms])
        assert np.array_equal(snapshots.values, full.values[:1])


def test_a_static_projection_reports_its_synapses():
    static = ir.SynapseModel("Static", (), (state("w", ir.Uniform(0.0, 1.0)),), (pn.plus("g", var("w")),))
    network = pn.stdp_network(PRE, DRIVE, static, synapse_records=(ir.SynapseRecord(PROJECTION, "w", (0, 5)),))
    results = both(network)
    w = results.synapses[PROJECTION].states["w"]
    assert len(w) == 6 and len(set(w.tolist())) == 6
    assert np.array_equal(results.synapse_traces[(PROJECTION, "w")].values, np.tile(w[[0, 5]], (1000, 1)))


def test_on_pre_reads_the_postsynaptic_neuron_after_its_fire_phase():
    """The seed's Hebbian rule, w += where(spiked_post, eta (w_max - w), -eta 0.005 w), and v_post
    (after the reset: 0 where the target fired) into a second state."""
    spiked = var("spiked_post")
    ltp = ir.Binary(ir.BinaryOp.MUL, var("eta"), ir.Binary(ir.BinaryOp.SUB, var("w_max"), var("w")))
    ltd = ir.Unary(ir.UnaryOp.NEG, ir.Binary(ir.BinaryOp.MUL, ir.Binary(ir.BinaryOp.MUL, var("eta"), ir.Const(0.005)), var("w")))
    synapse = ir.SynapseModel(
        name="Hebb", parameters=parameters(eta=0.01, w_max=10.0),
        states=(state("w", ir.Constant(5.0)), state("seen", ir.Constant(0.0))),
        on_pre=(ir.Assignment("w", ir.AssignOp.ADD, ir.Where(spiked, ltp, ltd)),
                ir.Assignment("seen", ir.AssignOp.ADD, var("v_post"))),
        bounds=(ir.Bound("w", 0.0, 10.0),),
    )
    # Channel 0 spikes with target 0 (in the step it fires) twice, channel 1 never with a target.
    pre = {0: [15.1 * ms, 40.2 * ms], 1: [12 * ms, 33 * ms, 50 * ms]}
    results = both(pn.stdp_network(pre, {0: [14.9 * ms, 40 * ms]}, synapse, n_pre=2, n_post=2))
    w = results.synapses[PROJECTION].states["w"]
    up = lambda w: w + 0.01 * (10.0 - w)  # noqa: E731
    down = lambda w: w - 0.01 * 0.005 * w  # noqa: E731
    assert w.tolist() == [up(up(5.0)), down(down(5.0)), down(down(down(5.0))), down(down(down(5.0)))]
    seen = results.synapses[PROJECTION].states["seen"]
    assert seen[0] == 0.0 and seen[1] == 0.0  # target 0 was reset; target 1 is never kicked


@pytest.mark.parametrize("axonal, dendritic", [(2 * ms, 0.0), (0.0, 3 * ms), (1 * ms, 0.5 * ms)])
def test_axonal_and_dendritic_delays_shift_when_the_rule_sees_a_spike(axonal, dendritic):
    network = pn.stdp_network(PRE, DRIVE, pn.stdp(), delay=2 * ms, axonal_delay=axonal, dendritic_delay=dendritic)
    results = both(network)
    synapses, post = results.synapses[PROJECTION], results.spikes["Out.post"]
    for k, (i, j) in enumerate(zip(synapses.pre, synapses.post)):
        pre_times = [round(t + axonal, 6) for t in PRE[i]]
        post_times = [round(t + dendritic, 6) for t in post.times[post.indices == j]]
        expected = replayed(pre_times, post_times, 0.5, 0.01, -0.0105, -math.inf, math.inf)
        assert synapses.states["w"][k] == pytest.approx(expected, abs=1e-14)


def test_clock_driven_equations_read_the_modulator_every_step():
    """Reward-modulated STDP's core: on pre { c += 1 }, dc/dt = -c / tau_c, dw/dt = c d_mod
    with d_mod = 2 held; c d_mod is not linear with constant coefficients, so the
    integrators choose Euler, which a Python replay of the steps reproduces."""
    modulator = ir.NeuronModel(
        name="Dopamine", parameters=(), states=(state("d", ir.Constant(2.0)),), inputs=(), equations=(),
        threshold=None, reset=(), refractory=0.0,
    )
    synapse = ir.SynapseModel(
        name="Eligibility", parameters=parameters(tau_c=20 * ms),
        states=(state("w", ir.Constant(0.0)), state("c", ir.Constant(0.0))),
        on_pre=(ir.Assignment("c", ir.AssignOp.ADD, ir.Const(1.0)),),
        equations=(ir.Equation("w", ir.Binary(ir.BinaryOp.MUL, var("c"), var("d_mod"))),
                   ir.Equation("c", div(neg(var("c")), var("tau_c")))),
        clock_driven=True,
    )
    pre = {0: [10 * ms], 1: [20 * ms, 30 * ms]}
    results = both(pn.stdp_network(pre, {0: [90 * ms]}, synapse, n_pre=2, n_post=1, modulator=modulator))
    synapses = results.synapses[PROJECTION]
    for k, i in enumerate(synapses.pre):
        spike_steps = {round(t / pn.DT) - 1 for t in pre[i]}
        w = c = 0.0
        for n in range(1000):
            w, c = w + pn.DT * c * 2.0, c + pn.DT * (-c / (20 * ms))  # phase 3, from the old values
            c += 1.0 if n in spike_steps else 0.0  # phase 6
        assert synapses.states["c"][k] == pytest.approx(c, rel=1e-12)
        assert synapses.states["w"][k] == pytest.approx(w, rel=1e-12)
        # and close to the exact solution, within Euler's error O(dt / tau_c)
        assert w == pytest.approx(sum(2 * 20 * ms * (1 - math.exp(-(0.1 - t) / (20 * ms))) for t in pre[i]), rel=1e-2)


def test_scatter_set_writes_and_drops_past_the_end_alike():
    import jax.numpy as jnp

    from brainsim.backends.jax_backend import JaxNumerics
    from brainsim.backends.numpy_backend import NumpyNumerics

    flat = np.arange(5.0)
    assert NumpyNumerics().scatter_set(flat.copy(), np.array([3, 0]), np.array([7.0, 8.0])).tolist() == [8, 1, 2, 7, 4]
    jax_flat = JaxNumerics().scatter_set(jnp.asarray(flat), jnp.array([3, 0, 5, 6]), jnp.array([7.0, 8.0, 9.0, 9.0]))
    assert np.asarray(jax_flat).tolist() == [8, 1, 2, 7, 4]


def test_a_plastic_pathway_is_one_projection_with_its_columns():
    from brainsim.network import build

    network = pn.stdp_network(PRE, DRIVE, pn.stdp(), n_pre=3, n_post=2)
    host = build(network)
    (kick, plastic) = host.pathways
    assert not kick.plastic and kick.pre is None and kick.columns is None
    assert plastic.plastic and plastic.event_driven and plastic.projections == (1,)
    assert plastic.pre.tolist() == [0, 0, 1, 1, 2, 2, 3]  # + the sentinel's
    columns = plastic.columns
    assert columns.indptr.tolist() == [0, 3, 6, 6] and columns.synapses.tolist() == [0, 2, 4, 1, 3, 5, 6]
    # Two plastic projections from one source into one group stay two pathways.
    twin = ir.Population("Out.twin", "Out", 2, pn.target_neuron())
    extra = ir.Projection("In.pre->Out.twin", "In.pre", "Out.twin", pn.stdp(), ir.AllToAll(), ir.Constant(pn.DT))
    doubled = build(ir.Network(
        network.simulation, network.regions, network.populations + (twin,), network.projections + (extra,),
        (), network.spike_records, (), "twin",
    ))
    assert [p.projections for p in doubled.pathways] == [(0,), (1,), (2,)]
