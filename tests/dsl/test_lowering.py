"""Lowering semantics: SI values, folding, overrides, aliases, expression trees,
expansion of region-level statements, defaults, and spans."""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path

import pytest

from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.units import lookup_unit

SIM = "simulation { duration = 10 ms }\n"
LIF = """
neuron LIF {
    parameters { tau = 10 ms  E_L = -70 mV  V_reset = E_L  V_th = E_L + 15 mV }
    inputs     { I_ext = 0 nA }
    state      { v = E_L  I_syn = 0 nA }
    equations  { dv/dt = (E_L - v + 10 Mohm * (I_syn + I_ext)) / tau  (unless refractory)
                 dI_syn/dt = -I_syn / (5 ms) }
    spike when v > V_th
    reset { v = V_reset }
    refractory 2 ms
}
synapse Exc { parameters { gain = 1 }  state { w = 1 nA }  on pre { I_syn += w * gain } }
"""
VOLT = lookup_unit("V")[1]
SECOND = lookup_unit("s")[1]


def network(text: str) -> ir.Network:
    return compile_text(SIM + LIF + text)


def parameters(model: ir.NeuronModel | ir.SynapseModel) -> dict[str, float]:
    return {p.name: p.value for p in model.parameters}


def neuron(body: str) -> ir.NeuronModel:
    """The model of a one-neuron population of `neuron N { body }`."""
    return compile_text(SIM + f"neuron N {{ {body} }}\nregion R {{ r = N[1] }}").populations[0].model


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("written", "si"),
    [
        ("1.62 mV", 0.00162),
        ("-70 mV", -0.07),
        ("10 Mohm", 1e7),
        ("0.5", 0.5),
        ("1e-3 s", 0.001),
        ("10ms", 0.01),
        (".5 ms", 0.0005),
        ("2 mV/ms", 2.0),
        ("9.81 m/s^2", 9.81),
        ("1 nA*ms", 1e-12),
        ("4 s^-1", 4.0),
        ("3 uS", 3e-6),
        ("250 pF", 2.5e-10),
        ("20 Hz", 20.0),
        ("1 kohm", 1000.0),
    ],
)
def test_quantities_become_correctly_rounded_si_floats(written: str, si: float) -> None:
    model = neuron(f"parameters {{ x = {written} }}")
    assert parameters(model)["x"] == si


def test_parameters_fold_in_order_and_keep_their_dimensions() -> None:
    model = neuron("parameters { tau = 10 ms  half = tau / 2  rate = 1 / half  e = exp(0) }")
    assert parameters(model) == {"tau": 0.01, "half": 0.005, "rate": 200.0, "e": 1.0}
    assert [str(p.dimension) for p in model.parameters] == ["s", "s", "Hz", "1 (dimensionless)"]


def test_simulation_defaults() -> None:
    settings = compile_text("simulation { duration = 1 s }").simulation
    assert (settings.dt, settings.duration, settings.seed, settings.n_steps) == (1e-4, 1.0, 0, 10_000)


def test_duration_may_differ_from_a_whole_multiple_by_rounding_only() -> None:
    settings = compile_text("simulation { dt = 0.1 ms  duration = 0.3 ms }").simulation
    assert settings.n_steps == 3  # 0.3e-3 / 1e-4 is 2.9999999999999996 in floats


# --------------------------------------------------------------------------- models


def test_a_population_override_refolds_the_parameters_below_it() -> None:
    net = network("region R { a = LIF[2]  b = LIF[2] { E_L = -60 mV  tau = 20 ms } }")
    declared, overridden = (p.model for p in net.populations)
    # folded in float64 on the host, operation by operation as written
    assert parameters(declared) == {"tau": 0.01, "E_L": -0.07, "V_reset": -0.07, "V_th": -0.07 + 0.015}
    assert parameters(overridden) == {"tau": 0.02, "E_L": -0.06, "V_reset": -0.06, "V_th": -0.06 + 0.015}
    assert overridden.states[0].initial == ir.Constant(-0.06)  # `v = E_L` follows too
    assert declared.states[0].initial == ir.Constant(-0.07)


def test_a_population_override_of_a_state_sets_its_initial_value() -> None:
    net = network("region R { excitatory a = LIF[2] { v = uniform(-65 mV, -55 mV) } }")
    (population,) = net.populations
    assert population.kind == ir.NeuronKind.EXCITATORY
    assert population.model.states[0].initial == ir.Uniform(-0.065, -0.055)


def test_populations_without_overrides_share_the_declared_model() -> None:
    net = network("region R { a = LIF[2]  b = LIF[3] }")
    assert net.populations[0].model is net.populations[1].model


def test_defaults_of_a_model_without_threshold_or_refractory() -> None:
    model = neuron("state { x = 0 }  equations { dx/dt = 1 / (1 s) }")
    assert model.threshold is None
    assert model.reset == ()
    assert model.refractory == 0.0
    assert model.equations == (ir.Equation("x", ir.Binary(ir.BinaryOp.DIV, ir.Const(1.0), ir.Const(1.0))),)


def test_aliases_are_substituted_where_they_are_read() -> None:
    model = neuron(
        "parameters { tau = 1 ms }  state { v = 0 mV  w = 0 mV }"
        "aliases { total = v + w  scaled = total / tau }"
        "equations { dv/dt = scaled  dw/dt = -w / tau }"
    )
    total = ir.Binary(ir.BinaryOp.ADD, ir.Var("v"), ir.Var("w"))
    assert model.equations[0].rhs == ir.Binary(ir.BinaryOp.DIV, total, ir.Var("tau"))


def test_expression_trees_keep_the_written_order() -> None:
    model = neuron("parameters { a = 1  b = 2  c = 3 }  state { x = 0 }"
                   "equations { dx/dt = (a - b + c * -x ** 2 ** a - (a - (b - c))) / s }")
    A, B, C, X = (ir.Var(n) for n in "abcx")
    power = ir.Binary(ir.BinaryOp.POW, X, ir.Binary(ir.BinaryOp.POW, ir.Const(2.0), A))  # right-assoc
    product = ir.Binary(ir.BinaryOp.MUL, C, ir.Unary(ir.UnaryOp.NEG, power))  # - binds looser than **
    left = ir.Binary(ir.BinaryOp.ADD, ir.Binary(ir.BinaryOp.SUB, A, B), product)  # left-assoc
    inner = ir.Binary(ir.BinaryOp.SUB, A, ir.Binary(ir.BinaryOp.SUB, B, C))
    expected = ir.Binary(ir.BinaryOp.DIV, ir.Binary(ir.BinaryOp.SUB, left, inner), ir.Const(1.0))
    assert model.equations[0].rhs == expected


def test_logic_functions_and_where() -> None:
    model = neuron(
        "state { v = 0 mV }"
        "equations { dv/dt = where(v > 1 mV and not (v < 0 mV) or v == 2 mV, clip(v, 0 mV, 1 mV), abs(v)) / ms }"
    )
    rhs = model.equations[0].rhs
    assert isinstance(rhs, ir.Binary) and rhs.right == ir.Const(1e-3)  # the bare unit `ms`
    where = rhs.left
    assert isinstance(where, ir.Where)
    assert where.condition.op == ir.BinaryOp.OR
    assert where.condition.left.op == ir.BinaryOp.AND
    assert where.condition.left.right.op == ir.UnaryOp.NOT
    assert where.then == ir.Call(ir.Function.CLIP, (ir.Var("v"), ir.Const(0.0), ir.Const(0.001)))
    assert where.otherwise == ir.Call(ir.Function.ABS, (ir.Var("v"),))


def test_sqrt_halves_the_dimension() -> None:
    model = neuron("parameters { area = 4 m^2 }  state { x = 0 m }  equations { dx/dt = sqrt(area) / s }")
    assert model.equations[0].rhs.left == ir.Call(ir.Function.SQRT, (ir.Var("area"),))


def test_a_dimensioned_base_takes_a_constant_exponent_from_the_parameters() -> None:
    model = neuron("parameters { n = 2 }  state { x = 1 m }  equations { dx/dt = x ** n / (1 m) / s }")
    assert model.equations[0].rhs.left.left == ir.Binary(ir.BinaryOp.POW, ir.Var("x"), ir.Var("n"))


def test_a_model_name_shadows_a_unit_of_the_same_name() -> None:
    model = neuron("state { m = 0.5 }  equations { dm/dt = (1 - m) / ms }")
    assert model.equations[0].rhs.left.right == ir.Var("m")


def test_reset_operators_and_threshold() -> None:
    model = neuron("state { v = 0 mV  w = 1 }  spike when v >= 1 mV  reset { v -= 1 mV  w *= 2  w /= 4  v += 0 mV }")
    assert [(a.variable, a.op) for a in model.reset] == [
        ("v", ir.AssignOp.SUB), ("w", ir.AssignOp.MUL), ("w", ir.AssignOp.DIV), ("v", ir.AssignOp.ADD),
    ]
    assert model.threshold == ir.Binary(ir.BinaryOp.GE, ir.Var("v"), ir.Const(0.001))


def test_builtin_time_and_step_can_be_read() -> None:
    model = neuron("state { x = 0 }  equations { dx/dt = where(t > 5 ms, 1, 0) / dt }")
    assert model.equations[0].rhs.right == ir.Var("dt")


# --------------------------------------------------------------------------- network


def test_connect_expands_per_population_pair_with_numbered_repeats() -> None:
    net = network(
        "region A { a = LIF[4] }  region B { x = LIF[3]  y = LIF[3] }\n"
        "connect A -> B with Exc\n"
        "connect A -> B.x with Exc { p = 0.25  delay = 1 ms }\n"
    )
    assert [p.name for p in net.projections] == ["A.a->B.x", "A.a->B.y", "A.a->B.x#2"]
    first, _, repeat = net.projections
    assert (first.rule, first.delay) == (ir.AllToAll(), ir.Constant(1e-4))  # defaults: all-to-all, one step
    assert (repeat.rule, repeat.delay) == (ir.FixedProbability(0.25), ir.Constant(0.001))


def test_connect_settings_override_the_synapse() -> None:
    net = network(
        "region A { a = LIF[4] }\n"
        "connect A -> A with Exc { weight = uniform(1 nA, 2 nA)  gain = 3  autapses = true }\n"
        "connect A -> A with Exc { w = 5 nA  rule = one_to_one }\n"
    )
    first, second = net.projections
    assert first.synapse.states[0].initial == ir.Uniform(1e-9, 2e-9)
    assert parameters(first.synapse) == {"gain": 3.0}
    assert first.allow_autapses is True
    assert second.synapse.states[0].initial == ir.Constant(5e-9)
    assert (second.rule, second.allow_autapses) == (ir.OneToOne(), False)
    assert first.synapse.on_pre == (
        ir.Assignment("I_syn", ir.AssignOp.ADD, ir.Binary(ir.BinaryOp.MUL, ir.Var("w"), ir.Var("gain"))),
    )


def test_autapses_only_matter_within_one_population() -> None:
    net = network("region A { a = LIF[2]  b = LIF[2] }\nconnect A -> A.a with Exc { autapses = true }")
    assert {p.name: p.allow_autapses for p in net.projections} == {"A.a->A.a": True, "A.b->A.a": False}


def test_stimulus_expands_per_population_with_pulse_defaults() -> None:
    net = network(
        "region V1 { a = LIF[2]  b = LIF[2] }\n"
        "stimulus V1 { I_ext += pulses(period = 4 ms, width = 1 ms, amplitude = 2 nA) }\n"
        "stimulus V1.b { I_ext += 1 nA  I_ext += pulses(period = 2 ms, width = 2 ms, amplitude = 1 nA,"
        " start = 1 ms, stop = 5 ms) }\n"
    )
    pulses = ir.PulseTrain(0.004, 0.001, 2e-9, 0.0, math.inf)  # no `stop`: never stops
    assert net.stimuli == (
        ir.Stimulus("V1.a", "I_ext", pulses),
        ir.Stimulus("V1.b", "I_ext", pulses),
        ir.Stimulus("V1.b", "I_ext", ir.ConstantCurrent(1e-9)),
        ir.Stimulus("V1.b", "I_ext", ir.PulseTrain(0.002, 0.002, 1e-9, 0.001, 0.005)),
    )


def test_records_select_neurons() -> None:
    net = network(
        "region A { a = LIF[6] }  region C { x = LIF[2]  y = LIF[3] }\n"
        "record spikes of A, C\n"
        "record v, I_syn of A[1:3], C.x\n"
        "record I_ext of A[5], C.y[:2]\n"
        "record v of C.y[1:]\n"
    )
    assert [r.population for r in net.spike_records] == ["A.a", "C.x", "C.y"]
    assert [(r.population, r.variable, r.indices) for r in net.state_records] == [
        ("A.a", "v", (1, 2)),
        ("C.x", "v", (0, 1)),
        ("A.a", "I_syn", (1, 2)),
        ("C.x", "I_syn", (0, 1)),
        ("A.a", "I_ext", (5,)),
        ("C.y", "I_ext", (0, 1)),
        ("C.y", "v", (1, 2)),
    ]


def test_a_region_without_neuron_selection_records_all_its_populations() -> None:
    net = network("region C { x = LIF[2]  y = LIF[1] }\nrecord v of C")
    assert [(r.population, r.indices) for r in net.state_records] == [("C.x", (0, 1)), ("C.y", (0,))]


def test_regions_list_their_qualified_populations() -> None:
    net = network("region A { a = LIF[1] }  region B { x = LIF[1]  y = LIF[1] }")
    assert net.regions == (ir.Region("A", ("A.a",)), ir.Region("B", ("B.x", "B.y")))
    assert [(p.name, p.region) for p in net.populations] == [("A.a", "A"), ("B.x", "B"), ("B.y", "B")]


# --------------------------------------------------------------------------- spans


def test_ir_nodes_point_back_at_the_model_text() -> None:
    text = SIM + LIF + "region A { a = LIF[2] }\nconnect A -> A with Exc { p = 0.1 }\n"
    net = compile_text(text, "m.brain")
    model = net.populations[0].model
    threshold = model.threshold
    line = text.splitlines().index("    spike when v > V_th") + 1
    assert (threshold.span.file, threshold.span.line) == ("m.brain", line)
    assert threshold.span.source_line().strip() == "spike when v > V_th"
    assert text[_offset(text, threshold.left.span):].startswith("v > V_th")
    assert model.parameters[1].span.source_line().lstrip().startswith("parameters { tau = 10 ms  E_L = -70 mV")
    assert net.projections[0].span.source_line() == "connect A -> A with Exc { p = 0.1 }"


def _offset(text: str, span) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: span.line - 1]) + span.column - 1


# --------------------------------------------------------------------------- the data-not-code promise


def test_python_in_a_model_is_only_an_unknown_name() -> None:
    from brainsim.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="unknown name `__import__`"):
        neuron("parameters { x = __import__ }")
    with pytest.raises(UnknownNameError, match="unknown function `__import__`"):
        neuron("parameters { x = __import__(1) }")


def test_the_front_end_never_evaluates_text_and_never_imports_a_backend() -> None:
    package = Path(__file__).parents[2] / "brainsim" / "dsl"
    for source in package.glob("*.py"):
        code = source.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])(eval|exec|compile|__import__)\(", code), source.name
        assert "brainsim.backends" not in code, source.name


def test_lowering_ends_by_validating_the_network(monkeypatch):
    """The value rules the IR can locate (`p`, delays, rates) live only in brainsim.validate,
    so lowering must hand it every network it makes, and the network it returns."""
    lowering = importlib.import_module("brainsim.dsl.lower")  # the module; `brainsim.dsl.lower` is its function
    seen = []
    monkeypatch.setattr(lowering, "validate", seen.append)
    lowered = network("region A { a = LIF[3] }\nconnect A -> A with Exc { p = 1.5  delay = 0.01 ms }")
    assert seen == [lowered]
    assert lowered.projections[0].rule.p == 1.5  # nothing before validate rejected it
