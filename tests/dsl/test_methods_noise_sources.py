"""Lowering of issue 5's constructs: `method = ...`, white noise (`xi`), reserved
names, spike sources (`PoissonSource`, `SpikeTimes`) and the pulse default."""

from __future__ import annotations

import math

import pytest

from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.errors import DuplicateNameError, InvalidValueError, UnknownNameError

SIM = "simulation { dt = 0.1 ms  duration = 100 ms }\n"
LIF = """
neuron LIF {
    inputs { I_ext = 0 nA }
    state { v = 0 mV }
    equations { dv/dt = -v / (10 ms) + I_ext * 1 Mohm / (10 ms) }
}
synapse Exc { state { w = 1 mV }  on pre { v += w } }
"""


def neuron(body: str) -> ir.NeuronModel:
    return compile_text(SIM + f"neuron N {{ {body} }}\nregion R {{ r = N[1] }}").populations[0].model


def source(model: str, size: int = 3) -> ir.PoissonSource | ir.SpikeTimes:
    """The spike source of `region I { s = <model> }`, `model` written with its size and settings."""
    network = compile_text(SIM + f"region I {{ s = {model} }}")
    (population,) = network.populations
    assert population.size == size
    return population.model


# --------------------------------------------------------------------------- method


@pytest.mark.parametrize("method", list(ir.Method))
def test_each_method_can_be_chosen_and_points_at_its_statement(method: ir.Method) -> None:
    model = neuron(f"state {{ v = 0 mV }}  equations {{ dv/dt = -v / (1 ms) }}  method = {method.value}")
    assert model.method == ir.MethodChoice(method)
    span = model.method.span
    assert span.source_line()[span.column - 1:span.end_column - 1] == f"method = {method.value}"


def test_without_a_method_statement_the_integrators_choose() -> None:
    assert neuron("state { v = 0 mV }").method is None


def test_method_is_an_ordinary_name_outside_the_statement() -> None:
    model = neuron("parameters { method = 2 }  state { v = 0 mV }  equations { dv/dt = -v * method / (1 ms) }")
    assert [p.name for p in model.parameters] == ["method"]


def test_an_unknown_method_suggests_the_written_method_in_lower_case() -> None:
    with pytest.raises(UnknownNameError) as caught:
        neuron("method = RK4")
    assert caught.value.hint == "did you mean `rk4`?"


def test_overrides_keep_the_method() -> None:
    network = compile_text(SIM + "neuron N { parameters { a = 1 }  method = rk2 }\nregion R { r = N[1] { a = 2 } }")
    assert network.populations[0].model.method == ir.MethodChoice(ir.Method.RK2)


# --------------------------------------------------------------------------- white noise


def test_noise_stays_a_variable_and_is_listed_in_first_use_order() -> None:
    model = neuron(
        "parameters { sigma = 1 mV  tau = 10 ms }  state { v = 0 mV  w = 0 mV }"
        "  aliases { kick = sigma * sqrt(2 / tau) * xi_b }"
        "  equations { dv/dt = -v / tau + kick + sigma * xi_a / sqrt(tau)"
        "              dw/dt = -w / tau + sigma * sqrt(2 / tau) * xi + kick }"
    )
    assert model.noises == ("xi_b", "xi_a", "xi")
    sigma, tau = ir.Var("sigma"), ir.Var("tau")
    kick = ir.Binary(
        ir.BinaryOp.MUL,
        ir.Binary(ir.BinaryOp.MUL, sigma, ir.Call(ir.Function.SQRT, (ir.Binary(ir.BinaryOp.DIV, ir.Const(2.0), tau),))),
        ir.Var("xi_b"),
    )
    first = model.equations[0].rhs
    assert first.left.right == kick  # the alias is substituted, its noise kept as `Var`
    assert first.right.left.right == ir.Var("xi_a")


def test_noise_is_one_over_root_second_so_an_ornstein_uhlenbeck_equation_checks() -> None:
    model = neuron(
        "parameters { sigma = 1 mV  tau = 10 ms }  state { v = 0 mV }"
        "  equations { dv/dt = -v / tau + sigma * sqrt(2 / tau) * xi }"
    )
    assert model.noises == ("xi",)


def test_a_model_without_noise_lists_none() -> None:
    assert neuron("state { v = 0 mV }  equations { dv/dt = -v / (1 ms) }").noises == ()


@pytest.mark.parametrize(
    "body",
    [
        "state { v = 0 mV }  reset { v += 1 mV * sqrt(1 ms) * xi }",
        "state { v = 0 mV }  refractory xi * 1 ms * sqrt(1 ms)",
        "state { v = 0 mV }  inputs { I = xi * 1 nA * sqrt(1 ms) }",
        "state { v = xi * 1 mV * sqrt(1 ms) }",
        "state { v = 0 mV }  aliases { a = xi_2 * 1 mV * sqrt(1 ms) }  spike when v > a",
    ],
)
def test_noise_outside_the_equations_says_where_it_may_appear(body: str) -> None:
    with pytest.raises(UnknownNameError) as caught:
        neuron(body)
    assert "white noise" in caught.value.message
    assert "right side of a neuron's equations" in caught.value.hint


def test_noise_in_a_stimulus_or_a_connect_setting_is_rejected_too() -> None:
    for statement in ("stimulus R { I_ext += xi * 1 nA }", "connect R -> R with Exc { weight = xi * 1 mV }"):
        with pytest.raises(UnknownNameError, match="white noise"):
            compile_text(SIM + LIF + "region R { r = LIF[2] }\n" + statement)


# --------------------------------------------------------------------------- reserved names


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("neuron N { parameters { _refractory = 1 } }", "_refractory"),
        ("neuron N { state { _P_v_v = 0 } }", "_P_v_v"),
        ("neuron N { inputs { _I = 0 nA } }", "_I"),
        ("neuron N { state { v = 0 mV }  aliases { _a = v } }", "_a"),
        ("synapse S { parameters { _k0 = 1 } }", "_k0"),
        ("synapse S { state { _w = 1 mV } }", "_w"),
        ("neuron N { parameters { xi = 1 } }", "xi"),
        ("neuron N { aliases { xi_e = 1 } }", "xi_e"),
        ("synapse S { state { xi = 1 mV } }", "xi"),
    ],
)
def test_names_of_the_engine_and_of_noise_are_reserved(model: str, name: str) -> None:
    with pytest.raises(DuplicateNameError) as caught:
        compile_text(SIM + model)
    assert caught.value.message.startswith(f"`{name}` ")
    assert caught.value.message.endswith("choose another name")


def test_names_that_only_resemble_reserved_ones_are_ordinary() -> None:
    model = neuron("parameters { x_ = 1  xi1 = 2  xis = 3  a_b = 4 }")
    assert [p.name for p in model.parameters] == ["x_", "xi1", "xis", "a_b"]


# --------------------------------------------------------------------------- spike sources


def test_poisson_rates_in_each_form() -> None:
    assert source("PoissonSource[3] { rate = 10 Hz }") == ir.PoissonSource(ir.Constant(10.0))
    assert source("PoissonSource[3] { rate = 1 kHz / 4 }") == ir.PoissonSource(ir.Constant(250.0))
    assert source("PoissonSource[3] { rate = [5 Hz, 0 Hz, 2 kHz] }") == ir.PoissonSource(ir.Values((5.0, 0.0, 2000.0)))
    assert source("PoissonSource[3] { rate = uniform(5 Hz, 15 Hz) }") == ir.PoissonSource(ir.Uniform(5.0, 15.0))
    ramp = ir.Binary(ir.BinaryOp.ADD, ir.Const(5.0), ir.Binary(ir.BinaryOp.MUL, ir.Var("t"), ir.Const(100.0)))
    assert source("PoissonSource[3] { rate = 5 Hz + t * 100 Hz/s }") == ir.PoissonSource(ramp)
    per_step = ir.Binary(ir.BinaryOp.DIV, ir.Const(0.5), ir.Var("dt"))
    assert source("PoissonSource[3] { rate = 0.5 / dt }") == ir.PoissonSource(per_step)


def test_spike_times_with_and_without_indices() -> None:
    cue = source("SpikeTimes[2] { indices = [0, 1, 0]  times = [5 ms, 10 ms, 20 ms] }", size=2)
    assert cue == ir.SpikeTimes((0, 1, 0), (0.005, 0.01, 0.02))
    clock = source("SpikeTimes[3] { times = [1 ms, 2 ms] }")  # every neuron at every time
    assert clock == ir.SpikeTimes((0, 1, 2, 0, 1, 2), (0.001, 0.001, 0.001, 0.002, 0.002, 0.002))
    assert source("SpikeTimes[3] { times = [] }") == ir.SpikeTimes((), ())


def test_spike_times_at_the_edges_of_the_run() -> None:
    edges = source("SpikeTimes[2] { indices = [1, 0, 1]  times = [0.06 ms, 0.06 ms, 100 ms] }", size=2)
    assert edges.times == (0.00006, 0.00006, 0.1)  # 0.06 ms rounds to step 1, 100 ms is the last step
    with pytest.raises(InvalidValueError, match="rounds to 0 steps"):
        source("SpikeTimes[1] { times = [0.05 ms] }", size=1)  # half a step rounds to even: step 0


def test_sources_keep_their_kind_and_span() -> None:
    network = compile_text(SIM + "region I {\n    excitatory s = PoissonSource[2] { rate = 1 Hz }\n}")
    (population,) = network.populations
    assert population.kind == ir.NeuronKind.EXCITATORY
    assert population.model.span.source_line().strip() == "excitatory s = PoissonSource[2] { rate = 1 Hz }"


def test_a_source_may_drive_any_connect_and_have_its_spikes_recorded() -> None:
    network = compile_text(
        SIM + LIF + "region I { s = PoissonSource[4] { rate = 5 Hz } }\nregion B { b = LIF[4] }\n"
        "connect I -> B with Exc { rule = one_to_one }\nconnect I.s -> B.b with Exc { p = 0.5 }\nrecord spikes of I"
    )
    assert [(p.source, p.target, p.rule) for p in network.projections] == [
        ("I.s", "B.b", ir.OneToOne()), ("I.s", "B.b", ir.FixedProbability(0.5)),
    ]
    assert network.spike_records == (ir.SpikeRecord("I.s"),)


def test_a_region_mixing_sources_and_neurons_cannot_be_a_target() -> None:
    with pytest.raises(InvalidValueError, match=r"`M.s` is a spike source \(SpikeTimes\)"):
        compile_text(
            SIM + LIF + "region M { b = LIF[2]  s = SpikeTimes[1] { times = [1 ms] } }\nconnect M -> M with Exc"
        )


def test_a_rounding_that_keeps_steps_apart_is_allowed() -> None:
    times = source("SpikeTimes[1] { times = [1 ms, 1.1 ms] }", size=1).times
    assert times == (0.001, 0.0011)


# --------------------------------------------------------------------------- pulses


def test_pulses_without_stop_never_stop() -> None:
    network = compile_text(
        SIM + LIF + "region B { b = LIF[1] }\n"
        "stimulus B { I_ext += pulses(period = 10 ms, width = 1 ms, amplitude = 1 nA) }"
    )
    assert network.stimuli[0].waveform.stop == math.inf
