"""The full expression language: `a if c else b`, log10/sin/cos/floor, `nernst`, physical
constants, named arguments, and the mistakes a new user makes with them."""

from __future__ import annotations

import math

import pytest

import brainsim
from brainsim import ir
from brainsim.dsl import compile_text
from brainsim.errors import BrainsimError, DuplicateNameError, InvalidValueError, ParseError, UnitError, UnknownNameError
from brainsim.integrators.printing import format_expr
from brainsim.units import physical_constant
from tests.backends.identity import assert_identical

SIM = "simulation { duration = 2 ms }\n"


def model(parameters: str = "", equations: str = "dv/dt = -v / (10 ms)", more: str = "") -> str:
    return SIM + f"""
neuron N {{
    parameters {{ {parameters} }}
    state {{ v = -70 mV }}
    equations {{ {equations} }}
    {more}
}}
region R {{ n = N[3] }}
"""


def parameters_of(text: str) -> dict[str, float]:
    network = compile_text(text)
    return {p.name: p.value for p in network.populations[0].model.parameters}


def parameter(expression: str) -> float:
    return parameters_of(model(f"p = {expression}"))["p"]


def equation_of(rhs: str, parameters: str = "tau = 10 ms") -> ir.Expr:
    network = compile_text(model(parameters, f"dv/dt = {rhs}"))
    (equation,) = network.populations[0].model.equations
    return equation.rhs


def error_of(text: str) -> BrainsimError:
    with pytest.raises(BrainsimError) as caught:
        compile_text(text, "m.brain")
    assert caught.value.span is not None, str(caught.value)
    return caught.value


# --------------------------------------------------------------------------- a if c else b


def test_a_conditional_expression_lowers_to_where() -> None:
    rhs = equation_of("(1 mV if v > -60 mV else -1 mV) / tau")
    assert rhs.left == ir.Where(
        ir.Binary(ir.BinaryOp.GT, ir.Var("v"), ir.Unary(ir.UnaryOp.NEG, ir.Const(0.06))),
        ir.Const(0.001), ir.Unary(ir.UnaryOp.NEG, ir.Const(0.001)),
    )


def test_a_conditional_binds_loosest_and_nests_to_the_right() -> None:
    assert parameter("1 + 2 if 1 > 2 else 3 + 4") == 7.0  # (1 + 2) if ... else (3 + 4)
    assert parameter("1 if 1 > 2 else 2 if 2 > 1 else 3") == 2.0  # 1 if .. else (2 if .. else 3)
    assert parameter("1 if 1 > 2 or 2 > 1 else 0") == 1.0


def test_if_and_else_are_keywords_never_units() -> None:
    # `1 if` is the number 1 and the keyword, not 1 of a unit called `if`.
    assert parameters_of(model("a = 1 if 2 > 1 else 0  b = 2 mV if 1 > 2 else 3 mV")) == {"a": 1.0, "b": 0.003}


def test_where_and_the_conditional_are_the_same_node() -> None:
    assert equation_of("where(v > 0 mV, v, -v) / tau") == equation_of("(v if v > 0 mV else -v) / tau")


@pytest.mark.parametrize(
    ("text", "kind", "fragment"),
    [
        ("(1 mV if v > 0 mV else 1 nA) / tau", UnitError, "the two branches of `... if ... else ...`"),
        ("(1 mV if v else 2 mV) / tau", UnitError, "the condition of `... if ... else ...` needs true or false"),
        ("(1 mV if v > 0 mV) / tau", ParseError, "expected `else`"),
    ],
)
def test_conditional_mistakes(text: str, kind: type, fragment: str) -> None:
    error = error_of(model("tau = 10 ms", f"dv/dt = {text}"))
    assert isinstance(error, kind) and fragment in error.message, str(error)


# --------------------------------------------------------------------------- functions


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("log10(1000)", 3.0), ("log10(2 mV / (1 V))", math.log10(0.002)),
        ("sin(pi / 6)", math.sin(math.pi / 6)), ("cos(2.5)", math.cos(2.5)),
        ("floor(2.7)", 2.0), ("floor(-2.5)", -3.0), ("floor(10 ms / (3 ms))", 3.0),
    ],
)
def test_new_functions_fold_in_parameters(expression: str, expected: float) -> None:
    assert parameter(expression) == expected


@pytest.mark.parametrize("function", ["log10", "sin", "cos", "floor"])
def test_new_functions_need_a_dimensionless_argument(function: str) -> None:
    error = error_of(model("tau = 10 ms", f"dv/dt = {function}(v) * 1 mV / tau"))
    assert isinstance(error, UnitError)
    assert error.message == f"the argument of `{function}` must be dimensionless, but it is V"
    assert (error.span.line, error.span.column) == (6, 26 + len(function))


def test_sin_is_a_function_now() -> None:
    rhs = equation_of("sin(v / (1 mV)) * 1 mV / tau")
    assert rhs.left.left == ir.Call(ir.Function.SIN, (ir.Binary(ir.BinaryOp.DIV, ir.Var("v"), ir.Const(0.001)),))


def test_an_unknown_function_lists_a_close_one() -> None:
    error = error_of(model("tau = 10 ms", "dv/dt = sine(v / mV) * mV / tau"))
    assert isinstance(error, UnknownNameError) and error.hint == "did you mean `sin`?"


# --------------------------------------------------------------------------- nernst and constants


def nernst(z: float, c_out: float, c_in: float, kelvin: float) -> float:
    r, f = physical_constant("R")[0], physical_constant("F")[0]
    return r * kelvin / (z * f) * math.log(c_out / c_in)


@pytest.mark.parametrize(
    ("call", "expected_mV"),
    [
        ("nernst(1, 145 mM, 12 mM, 310.15 K)", 66.6),
        ("nernst(z = 1, c_out = 4 mM, c_in = 155 mM, T = zero_celsius + 37 K)", -97.7),
        ("nernst(2, c_out = 2 mM, c_in = 0.0001 mM, T = 310.15 K)", 132.3),
        ("nernst(-1, 120 mM, 4.2 mM, 310.15 K)", -89.6),
    ],
)
def test_nernst_gives_the_reversal_potential_in_volts(call: str, expected_mV: float) -> None:
    value = parameter(call)
    assert value * 1e3 == pytest.approx(expected_mV, abs=0.05)


def test_nernst_is_the_formula_it_stands_for() -> None:
    assert parameter("nernst(1, 145 mM, 12 mM, 310.15 K)") == nernst(1, 0.145 * 1e3, 0.012 * 1e3, 310.15)


def test_nernst_of_a_state_is_an_expression_of_plain_nodes() -> None:
    rhs = equation_of("(nernst(1, 145 mM, v / (1 V) * 1 mM, 310.15 K) - v) / tau")
    names = {type(node).__name__ for node in _walk(rhs)}
    assert names <= {"Binary", "Var", "Const", "Call", "Unary"}


def _walk(expr):
    yield expr
    for child in ir.children(expr):
        yield from _walk(child)


@pytest.mark.parametrize(
    ("call", "kind", "fragment", "column"),
    [
        ("nernst(1, 145 mM, 12 mM, 310.15)", UnitError,
         "`T` of `nernst` must be a temperature (K), but it is 1 (dimensionless)", 47),
        ("nernst(1 mV, 145 mM, 12 mM, 310.15 K)", UnitError,
         "`z` (the valence of the ion) of `nernst` must be dimensionless, but it is V", 29),
        ("nernst(1, 145 mM, 12 mV, 310.15 K)", UnitError, "the concentrations of `nernst` must have the same dimension", 22),
        ("nernst(1, 145 mM, 12 mM)", InvalidValueError,
         "`nernst` takes 4 arguments (z, c_out, c_in, T), but 3 were written; `T` is missing", 22),
    ],
)
def test_nernst_mistakes(call: str, kind: type, fragment: str, column: int) -> None:
    error = error_of(model(f"E = {call}"))
    assert isinstance(error, kind) and fragment in error.message, str(error)
    assert (error.span.line, error.span.column) == (4, column), str(error)


def test_a_temperature_without_a_unit_gets_a_kelvin_hint() -> None:
    error = error_of(model("E = nernst(1, 145 mM, 12 mM, 310.15)"))
    assert error.hint == "a number without a unit is dimensionless, even 0; write `310.15 K`"


@pytest.mark.parametrize(
    ("name", "value", "dimension"),
    [
        ("R", 8.314462618, "J / (mol * K)"), ("F", 96485.33212, "C / mol"), ("k_B", 1.380649e-23, "J / K"),
        ("e", 1.602176634e-19, "C"), ("zero_celsius", 273.15, "K"), ("pi", math.pi, "1"),
    ],
)
def test_physical_constants_have_their_value_and_unit(name: str, value: float, dimension: str) -> None:
    values = parameters_of(model(f"x = {name}  y = {name} / ({dimension})"))
    assert values == {"x": value, "y": value}


def test_a_model_name_shadows_a_constant() -> None:
    assert parameters_of(model("e = 2  f = e * 3")) == {"e": 2.0, "f": 6.0}


def test_a_bare_F_is_the_faraday_constant_but_1_F_is_a_farad() -> None:
    assert parameters_of(model("a = F * 1 mol / (1 C)  b = 1 F / (1 pF)")) == {"a": 96485.33212, "b": 1e12}


def test_constants_are_dimensioned() -> None:
    error = error_of(model("a = R + 1 mV"))
    assert isinstance(error, UnitError) and "both sides of `+`" in error.message


# --------------------------------------------------------------------------- named arguments


def test_named_arguments_bind_by_name() -> None:
    positional = equation_of("clip(v, -80 mV, -60 mV) / tau")
    assert equation_of("clip(v, low = -80 mV, high = -60 mV) / tau") == positional
    assert equation_of("clip(high = -60 mV, x = v, low = -80 mV) / tau") == positional
    assert equation_of("where(condition = v > 0 mV, then = v, otherwise = -v) / tau") == equation_of(
        "where(v > 0 mV, v, -v) / tau"
    )


@pytest.mark.parametrize(
    ("call", "kind", "message", "column"),
    [
        ("clip(v, lo = -80 mV, high = -60 mV)", UnknownNameError,
         "unknown argument `lo` of `clip`; the known ones are x, low, high", 33),
        ("clip(v, -80 mV, high = -60 mV, x = v)", DuplicateNameError, "argument `x` of `clip` is given twice", 56),
        ("clip(v, -80 mV)", InvalidValueError, "`clip` takes 3 arguments (x, low, high), but 2 were written; "
         "`high` is missing", 25),
        ("exp(v / mV, 2) * mV", InvalidValueError, "`exp` takes 1 argument (x), but 2 were written", 25),
        ("min(v) * 1", InvalidValueError, "`min` takes 2 arguments (a, b), but 1 was written; `b` is missing", 25),
        ("clip(low = -80 mV, v, -60 mV)", InvalidValueError,
         "an argument without a name cannot follow a named one (`low = ...`)", 44),
    ],
)
def test_argument_mistakes(call: str, kind: type, message: str, column: int) -> None:
    error = error_of(model("tau = 10 ms", f"dv/dt = {call} / tau"))
    assert type(error) is kind and error.message == message, str(error)
    assert (error.span.line, error.span.column) == (6, column), str(error)


def test_an_unknown_argument_name_gets_a_did_you_mean() -> None:
    error = error_of(model("tau = 10 ms", "dv/dt = clip(v, lwo = -80 mV, high = -60 mV) / tau"))
    assert error.hint == "did you mean `low`?"


def test_where_with_a_single_equals_says_that_a_comparison_is_double() -> None:
    # It used to say "`where` takes 3 arguments" although three were written.
    error = error_of(model("tau = 10 ms", "dv/dt = where(v = -70 mV, v, -v) / tau"))
    assert isinstance(error, UnknownNameError)
    assert error.message == "unknown argument `v` of `where`; the known ones are condition, then, otherwise"
    assert "a comparison is written `==`" in error.hint and (error.span.line, error.span.column) == (6, 31)


# --------------------------------------------------------------------------- the defects a new user found


def test_single_equals_in_a_spike_condition_suggests_a_comparison() -> None:
    error = error_of(model("V_th = -50 mV", more="spike when v = V_th"))
    assert isinstance(error, ParseError) and "..." not in error.message
    assert error.message == "unexpected `=` after a value: `=` assigns, and a comparison is written `==`"
    assert "`>=`" in error.hint and (error.span.line, error.span.column) == (7, 18)


def test_refractory_written_as_a_parameter_says_it_is_a_keyword() -> None:
    error = error_of(model("tau = 10 ms  refractory = 2 ms"))
    assert isinstance(error, ParseError)
    assert error.hint == "`refractory` is a keyword: the refractory period is a statement of the neuron, `refractory 2 ms`"
    assert "missing" not in error.hint


def test_another_keyword_as_a_name_is_named_a_keyword() -> None:
    error = error_of(model("tau = 1 ms  state = 2"))
    assert error.hint == "`state` is a keyword and cannot be declared as a name; choose another name"


def test_a_case_only_typo_of_a_name_gets_a_did_you_mean() -> None:
    error = error_of(model("tau_m = 10 ms", "dv/dt = -v / Tau_m"))
    assert error.hint == "did you mean `tau_m`? (names are case-sensitive)"


def test_a_unit_that_is_a_declared_name_in_other_case_is_taken_for_a_typo() -> None:
    error = error_of(model("tau = 10 ms", "dv/dt = -V / tau"))
    assert isinstance(error, UnknownNameError) and (error.span.line, error.span.column) == (6, 26)
    assert error.message == "`V` would be the unit volt (a voltage), but the model declares `v`; names are case-sensitive"
    assert error.hint.startswith("did you mean `v`?")


def test_misspelt_unless_refractory_gets_a_did_you_mean() -> None:
    error = error_of(model("tau = 10 ms", "dv/dt = -v / tau (unless refractroy)"))
    assert isinstance(error, ParseError) and error.hint == "did you mean `(unless refractory)`?"


def test_millisiemens_where_milliseconds_were_meant_is_named() -> None:
    error = error_of(model("tau = 10 mS", "dv/dt = -v / tau"))
    assert isinstance(error, UnitError)
    assert error.hint == (
        "`10 mS` (line 4) is in millisiemens (a conductance); units are case-sensitive: "
        "did you mean `10 ms`, in millisecond (a time)?"
    )


def test_a_dimensionless_voltage_is_not_told_to_take_milliseconds() -> None:
    text = SIM + """
neuron Izhikevich {
    state { v = -65  u = -13 }
    equations { dv/dt = 0.04 * v * v + 5 * v + 140 - u   du/dt = 0.02 * (0.2 * v - u) / (1 ms) }
}
region R { n = Izhikevich[1] }
"""
    error = error_of(text)
    assert "ms`" not in error.hint.replace("(1 ms)", "") and "divide it by a time" in error.hint


def test_the_micro_sign_the_greek_mu_and_the_unicode_minus_are_read() -> None:
    values = parameters_of(model("a = 5 \u00b5m  b = 2 \u03bcA  c = \u22121.5e\u22123 mV  d = 3 \u2212 1"))
    assert values == {"a": 5e-6, "b": 2e-6, "c": -1.5e-6, "d": 2.0}


def test_a_unicode_minus_keeps_every_column() -> None:
    error = error_of(model("a = \u22121 mV + 1 nA"))
    assert (error.span.line, error.span.column) == (4, 22) and "\u2212" in error.span.source_line()


def test_a_byte_order_mark_is_ignored() -> None:
    without = error_of(model("a = 1 + "))
    error = error_of("\ufeff" + model("a = 1 + "))
    assert (error.span.line, error.span.column) == (without.span.line, without.span.column)
    assert str(error) == str(without)
    compile_text("\ufeff" + model())


def test_the_caret_repeats_tabs_so_it_lands_under_the_mistake() -> None:
    text = SIM + "neuron N {\n\tstate { v = 0 mV }\n\tequations { dv/dt = -v / tau }\n}\n"
    error = error_of(text)
    source, marker = str(error).splitlines()[1:3]
    assert source.endswith("\tequations { dv/dt = -v / tau }")
    assert marker.endswith("| \t                         ^^^")
    assert (error.span.line, error.span.column) == (4, 27)


def test_a_file_that_is_not_utf8_is_reported_at_its_line_and_column(tmp_path) -> None:
    path = tmp_path / "latin1.brain"
    path.write_bytes(model().encode() + "# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ParseError) as caught:
        brainsim.load(path)
    error = caught.value
    offset = len(model().encode()) + len("# caf")
    assert error.message == f"the file is not UTF-8 text: byte 0xE9 at offset {offset} cannot be read"
    assert (error.span.line, error.span.column) == (10, 6)
    assert "# caf" in str(error)


def test_a_file_with_a_byte_order_mark_loads(tmp_path) -> None:
    path = tmp_path / "bom.brain"
    path.write_bytes(b"\xef\xbb\xbf" + model().encode())
    brainsim.load(path)


# --------------------------------------------------------------------------- integrators and both backends


def test_printed_updates_read_back_as_the_same_expression() -> None:
    def rhs_of(rhs: str) -> ir.Expr:
        text = model("tau = 10 ms", f"du/dt = {rhs}").replace("state { v = -70 mV }", "state { u = 0.5 }")
        return compile_text(text).populations[0].model.equations[0].rhs

    written = rhs_of("(clip(u, -1, 1) if sin(u) > 0 and not u > 2 else floor(log10(abs(u) + 1)) * cos(u)) / tau")
    printed = format_expr(written)
    assert "if" in printed and "floor(log10(" in printed
    assert rhs_of(printed) == written


def test_the_exact_method_folds_constant_calls_into_the_propagator() -> None:
    text = model("tau = 10 ms  E = nernst(1, 145 mM, 12 mM, 310.15 K) * cos(0)",
                 "dv/dt = (E * floor(2.5) / 2 - v) / tau", "method = exact")
    results = brainsim.loads(text).compile("numpy").run(2e-3)
    (v,) = set(results.final_state["R.n"]["v"])
    e = nernst(1, 145, 12, 310.15)
    # Euler (the fallback where a term cannot be folded) would be off by about dt / tau.
    assert v == pytest.approx(e + (-0.07 - e) * math.exp(-2e-3 / 10e-3), rel=1e-12)


BOTH = SIM + """
neuron N {
    parameters { tau = 5 ms  E_K = nernst(z = 1, c_out = 4 mM, c_in = 155 mM, T = zero_celsius + 37 K) }
    state { v = -70 mV  phase = 0 }
    equations {
        dv/dt = (E_K - v) / tau + (1 mV * sin(2 * pi * t / (1 ms)) if v < -60 mV else -1 mV * cos(v / mV)) / tau
              + log10(1 + abs(v) / mV) * floor(t / (0.5 ms)) * 1 mV / tau
        dphase/dt = (sin(phase * 1e6) + cos(t / (1 ms) * 1e5)) / (1 ms)
    }
    method = euler
}
region R { n = N[4] }
record v, phase of R.n
"""


def test_the_new_functions_agree_bit_for_bit_on_both_backends() -> None:
    model_ = brainsim.loads(BOTH)
    assert_identical(model_.compile("numpy").run(2e-3), model_.compile("jax").run(2e-3))


def test_a_valence_with_a_unit_gets_a_valence_hint_and_a_function_its_own_example() -> None:
    """The hint names what the argument is, not another function's example."""
    assert error_of(model("E = nernst(1 mV, 145 mM, 12 mM, 310.15 K)")).hint.startswith("the valence is a signed whole number")
    assert "`sin(v / (1 mV))`" in error_of(model("E = sin(2 mV)")).hint
