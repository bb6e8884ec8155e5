"""Heterogeneous parameters and state (distributions, per-neuron formulas, file columns)
and neuron positions: lowering, the host arrays, both backends bit for bit, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.errors import BrainsimError, InvalidValueError, UnitError, UnknownNameError
from brainsim.network import build
from brainsim.network.keys import PARAMETERS, host_key
from brainsim.network.positions import positions
from brainsim.network.values import draw
from tests.backends.identity import assert_identical

DATA = Path(__file__).parent / "data"
SIM = "simulation { dt = 0.1 ms  duration = 20 ms  seed = 7 }\n"
LIF = """
neuron LIF {{
    parameters {{
        E_L = -70 mV
        tau_m = 10 ms
        V_th = -50 mV
        V_reset = E_L
        R = 10 Mohm
        {extra}
    }}
    inputs {{ I_ext = 0 nA }}
    state {{ v = {v} }}
    equations {{ dv/dt = (E_L - v + R * I_ext) / tau_m  (unless refractory) }}
    spike when v > V_th
    reset {{ v = V_reset }}
    refractory 2 ms
}}
"""


def model_text(population: str, v: str = "E_L", extra: str = "", tail: str = "") -> str:
    return SIM + LIF.format(v=v, extra=extra) + f"region C {{ {population} }}\n" + tail


def lowered(population: str, **kwargs) -> ir.Network:
    return compile_text(model_text(population, **kwargs), filename=str(DATA / "model.brain"))


def parameter(network: ir.Network, name: str, k: int = 0):
    return next(p for p in network.populations[k].model.parameters if p.name == name).value


def group_parameter(network: ir.Network, name: str) -> np.ndarray:
    (group,) = build(network).groups
    return group.parameters[name]


# --------------------------------------------------------------------------- lowering


def test_each_form_lowers_to_its_initializer() -> None:
    overrides = {
        "uniform(8 ms, 12 ms)": ir.Uniform(8e-3, 12e-3),
        "normal(10 ms, 1 ms)": ir.Normal(10e-3, 1e-3),
        "normal(10 ms, 1 ms, low = 9 ms, high = 11 ms)": ir.ClippedNormal(10e-3, 1e-3, 9e-3, 11e-3),
        "normal(10 ms, 1 ms, low = 5 ms)": ir.ClippedNormal(10e-3, 1e-3, 5e-3, math.inf),
        "lognormal(10 ms, 1 ms)": ir.LogNormal(10e-3, 1e-3),
    }
    for written, expected in overrides.items():
        value = parameter(lowered(f"a = LIF[3] {{ tau_m = {written} }}"), "tau_m")
        assert type(value) is type(expected)
        assert [getattr(value, f) for f in expected.__slots__ if f != "span"] == pytest.approx(
            [getattr(expected, f) for f in expected.__slots__ if f != "span"]
        )


def test_a_parameter_or_state_reading_a_heterogeneous_one_becomes_a_formula() -> None:
    network = lowered("a = LIF[3] { E_L = normal(-70 mV, 1 mV) }")
    assert parameter(network, "V_reset") == ir.Formula(ir.Var("E_L"))
    assert network.populations[0].model.states[0].initial == ir.Formula(ir.Var("E_L"))
    assert isinstance(parameter(network, "tau_m"), float)


def test_from_file_reads_a_column_in_si() -> None:
    network = lowered('a = LIF[3] { tau_m = from_file("params3.csv", column = "tau_m") }')
    assert parameter(network, "tau_m").values == pytest.approx((10e-3, 12e-3, 14e-3))


def test_a_model_may_declare_i_itself() -> None:
    network = lowered("a = LIF[3]", extra="i = 2", v="E_L * i")
    assert network.populations[0].model.states[0].initial.value == pytest.approx(-0.14)


# --------------------------------------------------------------------------- host values


def test_formulas_read_index_size_and_position() -> None:
    network = lowered("a = LIF[4] at grid(2, 2, spacing = 50 um) { E_L = -70 mV + 1 mV * i / N + 1 mV * y / (50 um) }")
    assert group_parameter(network, "E_L") == pytest.approx([-0.070, -0.06975, -0.0685, -0.06825])


def test_grid_places_x_fastest_from_the_origin() -> None:
    network = lowered("a = LIF[6] at grid(3, 2, spacing = 10 um, origin_z = 1 mm)")
    expected = [[x * 1e-5, y * 1e-5, 1e-3] for y in range(2) for x in range(3)]
    assert positions(network.populations[0], 7) == pytest.approx(np.array(expected))


def test_box_and_file_positions() -> None:
    boxed = lowered("a = LIF[1000] at box(x = 1 mm, y = 2 mm)").populations[0]
    where = positions(boxed, 7)
    assert where.shape == (1000, 3) and where.min() >= 0 and where[:, 0].max() < 1e-3 and where[:, 1].max() < 2e-3
    assert 0.9e-3 < where[:, 1].mean() < 1.1e-3 and not where[:, 2].any()
    placed = lowered('a = LIF[3] at from_file("positions3.csv")').populations[0]
    assert positions(placed, 7) == pytest.approx(np.array([[0, 0, 0], [1e-5, 0, 0], [0, 1e-5, 0]]))


N_DRAWS = 10_000


@pytest.mark.parametrize(
    "initializer, mean, std",
    [
        (ir.Uniform(2.0, 5.0), 3.5, 3 / math.sqrt(12)),
        (ir.Normal(-3.0, 2.0), -3.0, 2.0),
        (ir.LogNormal(10.0, 3.0), 10.0, 3.0),
        # truncated to [mean - std, mean + 2 std]: moments of the truncated normal, computed
        (ir.ClippedNormal(0.0, 1.0, -1.0, 2.0), 0.2296, 0.6896),
    ],
)
def test_distributions_have_their_moments(initializer, mean, std) -> None:
    values = draw(initializer, N_DRAWS, [1, 5, 0, 0])
    # The sample mean is within 5 standard errors; the sample std within 10 % (n = 10^4).
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(N_DRAWS)
    assert values.std() == pytest.approx(std, rel=0.1)
    if isinstance(initializer, ir.ClippedNormal):
        assert values.min() >= -1.0 and values.max() <= 2.0


def test_draws_are_keyed_by_population_and_parameter() -> None:
    network = lowered("a = LIF[50] { E_L = normal(-70 mV, 1 mV)  tau_m = normal(10 ms, 1 ms) }  b = LIF[50] { E_L = normal(-70 mV, 1 mV)  tau_m = normal(10 ms, 1 ms) }")
    (group,) = build(network).groups  # equal models: one group
    e_l = group.parameters["E_L"]
    assert not np.array_equal(e_l[:50], e_l[50:])
    # Keyed by the seed (7), the purpose, population a's name and E_L's place among the parameters.
    k = [p.name for p in network.populations[0].model.parameters].index("E_L")
    assert np.array_equal(e_l[:50], draw(ir.Normal(-0.07, 1e-3), 50, host_key(7, PARAMETERS, network.populations[0].name, k)))
    assert np.array_equal(group.initial["v"], e_l)


# --------------------------------------------------------------------------- both backends


RUNS = {
    "normal": "a = LIF[40] { E_L = normal(-65 mV, 3 mV)  tau_m = normal(10 ms, 1 ms, low = 5 ms) }",
    "uniform and lognormal": "a = LIF[40] { V_th = uniform(-55 mV, -50 mV)  tau_m = lognormal(10 ms, 2 ms) }",
    "formula of position": "a = LIF[40] at grid(8, 5, spacing = 20 um) { tau_m = 5 ms + 10 ms * x / (140 um) }",
    "few distinct values": "a = LIF[40] { tau_m = where(i < 20, 10 ms, 20 ms) }  b = LIF[10]",
    "from file": 'a = LIF[3] { E_L = from_file("params3.csv", column = "E_L") }',
    "box": "a = LIF[40] at box(x = 1 mm) { E_L = -70 mV + 5 mV * x / (1 mm) }",
}


@pytest.mark.parametrize("population", RUNS.values(), ids=RUNS.keys())
@pytest.mark.parametrize("method", ["exact", "euler", "rk4", "exponential_euler"])
def test_both_backends_agree_bit_for_bit(population: str, method: str) -> None:
    text = model_text(population, tail="stimulus C { I_ext += 3 nA }\nrecord spikes of C\nrecord v of C.a[0:3]\n")
    text = text.replace("refractory 2 ms", f"refractory 2 ms\n    method = {method}")
    model = brainsim.loads(text, filename=str(DATA / "model.brain"))
    numpy_run, jax_run = model.compile(backend="numpy").run(), model.compile(backend="jax").run()
    assert_identical(numpy_run, jax_run)
    assert sum(len(train.times) for train in numpy_run.spikes.values()) > 0


def test_heterogeneous_tau_decays_as_its_own_exponential() -> None:
    """Each neuron's v decays from 10 mV as exp(-t / tau_i), tau_i its own time constant."""
    text = SIM + """
    neuron Leak { parameters { tau = uniform(2 ms, 20 ms) }  state { v = 10 mV }  equations { dv/dt = -v / tau } }
    region C { a = Leak[200] }
    record v of C.a[0:200]
    """
    model = brainsim.loads(text)
    (group,) = build(model.network).groups
    tau = group.parameters["tau"]
    assert group.integration.method is ir.Method.EXACT
    for backend in ("numpy", "jax"):
        trace = model.compile(backend=backend).run().traces[("C.a", "v")]
        t = 20e-3  # the last recorded value, after the last step
        expected = 10e-3 * np.exp(-t / tau)
        assert trace.values[-1] == pytest.approx(expected, rel=1e-12, abs=1e-20)


# --------------------------------------------------------------------------- bad input


def check(population: str, error: type[BrainsimError], fragment: str, **kwargs) -> BrainsimError:
    with pytest.raises(error) as caught:
        lowered(population, **kwargs)
    assert fragment in caught.value.message, caught.value.message
    assert caught.value.span is not None
    return caught.value


def test_an_unknown_distribution_or_function() -> None:
    check("a = LIF[3] { tau_m = gamma(1 ms, 2 ms) }", UnknownNameError, "unknown function `gamma`")


def test_wrong_units_in_an_argument_point_at_it() -> None:
    error = check("a = LIF[3] { tau_m = normal(10 ms, 1 mV) }", UnitError, "one dimension")
    assert error.span.source_line()[error.span.column - 1:].startswith("1 mV")


def test_an_override_must_keep_the_dimension() -> None:
    check("a = LIF[3] { tau_m = normal(10 mV, 1 mV) }", UnitError, "dimension")


def test_negative_std_and_bad_bounds_and_lognormal_mean() -> None:
    check("a = LIF[3] { tau_m = normal(10 ms, -1 ms) }", InvalidValueError, "standard deviation must not be negative")
    check("a = LIF[3] { tau_m = normal(10 ms, 1 ms, low = 12 ms, high = 11 ms) }", InvalidValueError, "low < high")
    check("a = LIF[3] { tau_m = lognormal(-1 ms, 1 ms) }", InvalidValueError, "greater than 0")
    check("a = LIF[3] { tau_m = normal(10 ms, 1 ms, low = 100 ms) }", InvalidValueError, "keep almost no draws")


def test_argument_count_and_names() -> None:
    check("a = LIF[3] { tau_m = normal(10 ms) }", InvalidValueError, "needs 2 arguments, but 1 were written")
    check("a = LIF[3] { tau_m = normal(10 ms, 1 ms, lo = 9 ms) }", InvalidValueError, "`lo` is not one of")


def test_a_distribution_argument_must_be_the_same_for_every_neuron() -> None:
    check("a = LIF[3] { E_L = normal(-70 mV, 1 mV)  V_th = normal(E_L, 1 mV) }", InvalidValueError, "differs between neurons")


def test_a_heterogeneous_parameter_where_one_number_is_needed() -> None:
    text = model_text("a = LIF[3]").replace("refractory 2 ms", "refractory tau_m / 5").replace(
        "tau_m = 10 ms", "tau_m = uniform(5 ms, 10 ms)")
    with pytest.raises(UnknownNameError, match="differs between neurons"):
        compile_text(text)


def test_files_missing_columns_and_rows() -> None:
    check('a = LIF[3] { tau_m = from_file("nope.csv", column = "tau_m") }', InvalidValueError, "file not found")
    check('a = LIF[3] { tau_m = from_file("params3.csv", column = "tau") }', UnknownNameError, "no column `tau`")
    check('a = LIF[4] { tau_m = from_file("params3.csv", column = "tau_m") }', InvalidValueError, "has 3 values")
    check('a = LIF[3] { tau_m = from_file("params3.csv", column = "E_L") }', UnitError, "dimension")
    check('a = LIF[4] at from_file("positions3.csv")', InvalidValueError, "3 positions are given")


def test_bad_position_rules() -> None:
    check("a = LIF[10] at line(10)", UnknownNameError, "unknown position rule `line`")
    check("a = LIF[10] at grid(2, 3, spacing = 1 um)", InvalidValueError, "has 6 positions")
    check("a = LIF[10] at grid(10)", InvalidValueError, "needs `spacing")
    check("a = LIF[10] at box(x = 1 mV)", UnitError, "dimension")
    check("a = LIF[10] at box(x = -1 mm)", InvalidValueError, "must not be negative")


def test_a_synapse_parameter_cannot_be_drawn() -> None:
    text = model_text("a = LIF[3]") + "synapse S { parameters { g = normal(1, 1) }  state { w = 1 mV }  on pre { v += w * g } }\n"
    with pytest.raises(InvalidValueError, match="`normal\\(...\\)` cannot be used here"):
        compile_text(text)


def test_a_formula_that_is_not_finite_names_the_neuron() -> None:
    network = lowered("a = LIF[3] { tau_m = 10 ms / (i - 1) }")
    with pytest.raises(InvalidValueError, match=r"this formula is inf for i = 1; it must be a finite number") as caught:
        build(network)
    assert caught.value.span is not None and caught.value.span.source_line()[caught.value.span.column - 1:].startswith("10 ms")


def test_a_time_constant_drawn_negative_is_reported_at_its_distribution():
    """`tau = normal(10 ms, 20 ms)` draws negative time constants for some neurons:
    building the simulation names the parameter, the neuron and the value."""
    text = """simulation { duration = 5 ms }
neuron N {
    parameters { tau = 10 ms  E_L = -70 mV }
    state      { v = E_L }
    equations  { dv/dt = (E_L - v) / tau }
}
region A { a = N[10] { tau = normal(10 ms, 20 ms) } }
"""
    model = brainsim.loads(text, "drawn.brain")
    with pytest.raises(InvalidValueError, match=r"`tau` of A.a is a time constant .* but neuron 1 got -0.000761533 s") as caught:
        model.compile()
    assert (caught.value.span.line, caught.value.span.column) == (7, 30)
