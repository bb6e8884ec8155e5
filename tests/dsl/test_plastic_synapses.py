"""Plastic synapses lower to the IR the engine runs: rules, neuron-side names, bounds, settings, records."""

from __future__ import annotations

import pytest

from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.errors import BrainsimError, DuplicateNameError, InvalidValueError, UnitError, UnknownNameError

MODEL = """\
simulation { dt = 0.1 ms  duration = 100 ms }
neuron LIF {
    parameters { tau = 10 ms  E_L = -70 mV  V_th = -50 mV  tau_g = 5 ms }
    state { v = -70 mV  g_e = 0 nS }
    equations { dv/dt = (E_L - v) / tau  dg_e/dt = -g_e / tau_g }
    spike when v > V_th
    reset { v = E_L }
}
neuron Dopamine { state { d = 0 }  equations { dd/dt = -d / (200 ms) } }
synapse STDP {
    parameters { tau_pre = 20 ms  tau_post = 20 ms  A_pre = 0.01  A_post = -0.0105  w_max = 1 nS }
    state      { w = 0.5 nS  a_pre = 0  a_post = 0 }
    bounds     { w = [0 nS, w_max] }
    equations  { da_pre/dt = -a_pre / tau_pre  da_post/dt = -a_post / tau_post }
    on pre  { g_e += w   a_pre += A_pre   w += a_post * w_max }
    on post { a_post += A_post   w += a_pre * w_max }
}
synapse Rewarded {
    parameters { tau_c = 1 s  w_max = 1 nS }
    state { w = 0.5 nS  c = 0 }
    equations (clock-driven) { dw/dt = c * d_mod * w_max / (1 s)  dc/dt = -c / tau_c }
    on pre { g_e_post += w  c += 0.1 * (v_post - v_pre) / (1 mV)  w *= 1 + 0 * t / dt }
    on post { c -= 0.1 * (1 if spiked_pre and spiked_post else 0) }
}
region In { noise = PoissonSource[10] { rate = 10 Hz } }
region Out { n = LIF[2] }
region Reward { dopamine = Dopamine[1] }
connect In -> Out with STDP { w_max = 2 nS }
connect Out -> Out with Rewarded { modulator = Reward.dopamine  axonal_delay = 0.2 ms  dendritic_delay = 0.1 ms  delay = 1 ms }
record w of In -> Out[0:5]
record a_pre of In -> Out at [10 ms, 50 ms]
record w, c of Out -> Out.n[3]
"""


@pytest.fixture(scope="module")
def network() -> ir.Network:
    return compile_text(MODEL, "plastic.brain")


def test_stdp_lowers_rules_bounds_and_event_driven_equations(network: ir.Network) -> None:
    stdp = network.projections[0].synapse
    assert stdp.plastic and not stdp.clock_driven
    assert [e.variable for e in stdp.equations] == ["a_pre", "a_post"]
    assert [(a.variable, a.op) for a in stdp.on_pre] == [
        ("g_e", ir.AssignOp.ADD), ("a_pre", ir.AssignOp.ADD), ("w", ir.AssignOp.ADD)]
    assert [a.variable for a in stdp.effects()] == ["g_e"]
    assert [a.variable for a in stdp.on_post] == ["a_post", "w"]
    # the connect's override of w_max reaches the bound
    assert [(b.variable, b.low, b.high) for b in stdp.bounds] == [("w", 0.0, 2e-9)]


def test_neuron_side_names_and_clock_driven_equations(network: ir.Network) -> None:
    rewarded = network.projections[1].synapse
    assert rewarded.clock_driven and [e.variable for e in rewarded.equations] == ["w", "c"]
    assert "d_mod" in ir.free_names(rewarded.equations[0].rhs)
    effect, trace, scale = rewarded.on_pre
    assert (effect.variable, effect.value) == ("g_e", ir.Var("w"))  # `g_e_post +=` acts on the target's `g_e`
    assert {"v_post", "v_pre"} <= ir.free_names(trace.value)
    assert scale.op is ir.AssignOp.MUL and {"t", "dt"} <= ir.free_names(scale.value)
    assert {"spiked_pre", "spiked_post"} <= ir.free_names(rewarded.on_post[0].value)
    assert rewarded.effects() == (effect,)


def test_connect_settings_reach_the_projection(network: ir.Network) -> None:
    plain, rewarded = network.projections
    assert (plain.modulator, plain.axonal_delay, plain.dendritic_delay) == (None, 0.0, 0.0)
    assert rewarded.modulator == "Reward.dopamine"
    assert rewarded.axonal_delay == pytest.approx(2e-4) and rewarded.dendritic_delay == pytest.approx(1e-4)


def test_synapse_records(network: ir.Network) -> None:
    records = [(r.projection, r.variable, r.indices, r.times) for r in network.synapse_records]
    assert records == [
        ("In.noise->Out.n", "w", (0, 1, 2, 3, 4), None),
        ("In.noise->Out.n", "a_pre", None, (0.01, 0.05)),
        ("Out.n->Out.n", "w", (3,), None),
        ("Out.n->Out.n", "c", (3,), None),
    ]


def test_a_static_synapse_is_not_plastic() -> None:
    text = MODEL.split("synapse STDP")[0] + (
        "synapse S { state { w = 1 nS }  on pre { g_e += w } }\n"
        "region A { a = LIF[2] }\nconnect A -> A with S\n"
    )
    synapse = compile_text(text, "static.brain").projections[0].synapse
    assert not synapse.plastic and synapse.effects() == synapse.on_pre
    assert (synapse.equations, synapse.on_post, synapse.bounds) == ((), (), ())


@pytest.mark.parametrize(("replace", "kind", "fragment"), [
    (("c += 0.1 * (v_post - v_pre) / (1 mV)", "c += 0.1 * (v_post - v_pre)"), UnitError, "dimensionless"),
    (("w *= 1 + 0 * t / dt", "w *= 1 nS"), UnitError, "needs a dimensionless factor"),
    (("dc/dt = -c / tau_c", "dc/dt = -c"), UnitError, "dc/dt has dimension"),
    (("modulator = Reward.dopamine", "modulator = Reward.dopamin"), UnknownNameError, "dopamin"),
    (("d_mod", "x_mod"), UnknownNameError, "has no state, input or parameter `x`"),
    (("equations  { da_pre/dt", "equations  { dw_max/dt = 0 nS / (1 s)  da_pre/dt"), UnknownNameError,
     "is a parameter of the synapse"),
    (("w = [0 nS, w_max] }", "w = [0 nS, w_max]  w = [0 nS, w_max] }"), DuplicateNameError, "has bounds twice"),
    (("on pre  { g_e += w ", "on pre  { g_e = w "), InvalidValueError, "an effect adds"),
    (("record w, c of Out -> Out.n[3]", "record w of Out -> Out.n[3:]"), InvalidValueError,
     "known only when the network is built"),
    (("record a_pre of In -> Out at [10 ms, 50 ms]", "record a_pre of In -> Out at [10.05 ms]"), InvalidValueError,
     "whole number of steps"),
])
def test_mistakes_are_located(replace: tuple[str, str], kind: type, fragment: str) -> None:
    assert replace[0] in MODEL
    with pytest.raises(BrainsimError) as caught:
        compile_text(MODEL.replace(*replace), "plastic.brain")
    error = caught.value
    assert isinstance(error, kind) and fragment in error.message, str(error)
    assert error.span is not None and error.span.file == "plastic.brain"


def test_statements_reading_neuron_names_are_checked_per_projection() -> None:
    """`v_post` means the target's `v`: the same synapse is fine onto one model and wrong onto another."""
    text = MODEL + "neuron Other { state { u = 0 mV  g_e = 0 nS }  spike when u > 1 mV }\n" \
                   "region O { o = Other[1] }\nconnect Out -> O with Rewarded { modulator = Reward.dopamine }\n"
    with pytest.raises(UnknownNameError) as caught:
        compile_text(text, "plastic.brain")
    assert "neuron model `Other` of `O.o`" in caught.value.message and caught.value.span.line == 22


def test_a_synapse_record_past_the_last_synapse_is_refused_when_the_network_is_built() -> None:
    """Only the drawn connectivity knows how many synapses there are: the host checks, at the record."""
    import brainsim

    text = """simulation { dt = 0.1 ms  duration = 20 ms }
neuron LIF { parameters { tau = 10 ms }  state { v = 0 mV }  equations { dv/dt = -v / tau }  spike when v > 10 mV }
synapse Growing { state { w = 1 mV }  on pre { v += w  w *= 1.1 } }
region R { a = LIF[3]  b = LIF[3] }
connect R.a -> R.b with Growing { rule = one_to_one }
record w of R.a -> R.b[5]
"""
    model = brainsim.loads(text, "past.brain")
    with pytest.raises(InvalidValueError) as caught:
        model.compile("numpy")
    assert (caught.value.span.line, caught.value.span.column) == (6, 1)
    assert "synapse 5 of R.a->R.b, which has 3 synapse(s)" in caught.value.message
