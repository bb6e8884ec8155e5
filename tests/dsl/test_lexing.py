"""Quantity lexing: where a number and a word side by side are one quantity,
and where the word starts the next statement instead."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark.lexer import PatternStr

from brainsim import units
from brainsim.dsl import ast, compile_text, parse
from brainsim.dsl.parser import lark_parser
from brainsim.errors import ParseError, UnitError

QUANTITY = re.compile(lark_parser().get_terminal("QUANTITY").pattern.to_regexp())
KEYWORDS = sorted(
    t.pattern.value
    for t in lark_parser().terminals
    if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier()
)
PREFIXES = ("", "da", "Y", "Z", "E", "P", "T", "G", "M", "k", "h", "d", "c", "m", "u", "n", "p", "f", "a", "z", "y")
SIM = "simulation { duration = 10 ms }\n"


def neuron_ast(body: str) -> ast.Neuron:
    return parse(SIM + "neuron N {\n" + body + "\n}").neurons[0]


def quantities(declarations: tuple[ast.Declaration, ...]) -> list[tuple[str, str, str | None]]:
    """(name, number, unit) of each declaration whose value is a (negated) quantity."""
    found = []
    for declaration in declarations:
        value = declaration.value
        if isinstance(value, ast.Unary):
            value = value.operand
        assert isinstance(value, ast.Quantity), declaration
        found.append((declaration.name.name, value.number, value.unit))
    return found


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("tau_m = 10 ms  E_L = -70 mV", [("tau_m", "10", "ms"), ("E_L", "70", "mV")]),
        ("tau_m = 10 ms\nE_L = -70 mV", [("tau_m", "10", "ms"), ("E_L", "70", "mV")]),
        # A unitless number, then a statement whose name is a unit symbol.
        ("a = 0.5\nm = 3", [("a", "0.5", None), ("m", "3", None)]),
        ("a = 0.5  m = 3", [("a", "0.5", None), ("m", "3", None)]),
        ("a = 0.5  ms = 3", [("a", "0.5", None), ("ms", "3", None)]),
        ("a = 2\ns = 1 s", [("a", "2", None), ("s", "1", "s")]),
        # A word on the number's line, not followed by `=`, is its unit.
        ("a = 0.5 m  b = 1", [("a", "0.5", "m"), ("b", "1", None)]),
        ("x = 10ms  y = 1e-3 s  z = .5 ms  w = 1E3",
         [("x", "10", "ms"), ("y", "1e-3", "s"), ("z", ".5", "ms"), ("w", "1E3", None)]),
        ("rate = 2 mV/ms  acc = 9.81 m/s^2  q = 1 nA*ms",
         [("rate", "2", "mV/ms"), ("acc", "9.81", "m/s^2"), ("q", "1", "nA*ms")]),
        # A unit is never on the next line.
        ("a = 0.5\nmV_offset = 2 mV", [("a", "0.5", None), ("mV_offset", "2", "mV")]),
    ],
)
def test_a_number_takes_a_unit_only_on_its_line_and_not_before_an_assignment(block, expected) -> None:
    assert quantities(neuron_ast(f"parameters {{ {block} }}").parameters) == expected


def test_an_unknown_unit_is_a_unit_error_not_a_syntax_error() -> None:
    with pytest.raises(UnitError, match="unknown unit `mv`"):
        compile_text(SIM + "neuron N { parameters { E_L = -70 mv } }")


def test_reset_statements_after_unitless_numbers() -> None:
    neuron = neuron_ast("state { v = 0 mV  w = 0  m = 1 }\nreset { w = 0.5  m += 1  v = 0 mV  w *= 2  m -= 1  w /= 2 }")
    assert [(a.variable.name, a.op.value) for a in neuron.reset] == [
        ("w", "="), ("m", "+="), ("v", "="), ("w", "*="), ("m", "-="), ("w", "/="),
    ]


def test_an_equation_after_a_unitless_number() -> None:
    neuron = neuron_ast(
        "state { m = 0  h = 0 }\nequations { dm/dt = -m / (1 ms) * 2  dh/dt = -h / (1 ms) * 0.5\n dm/dt = 1 / s }"
    )
    assert [e.variable.name for e in neuron.equations] == ["m", "h", "m"]


def test_keywords_after_unitless_numbers() -> None:
    neuron = neuron_ast("state { m = 0 }\nspike when m > 0.5 and m < 2 or not m == 1 reset { m = 0 } refractory 1 ms")
    assert neuron.spike is not None and neuron.reset and neuron.refractory is not None


def test_a_derivative_inside_an_expression_is_a_division() -> None:
    neuron = neuron_ast("parameters { dx = 1 }  state { x = 0 }  equations { dx/dt = dx/dt }")
    rhs = neuron.equations[0].rhs
    assert isinstance(rhs, ast.Binary) and (rhs.left.name, rhs.right.name) == ("dx", "dt")


def test_a_compound_unit_stops_at_a_name_that_is_not_a_unit() -> None:
    neuron = neuron_ast("parameters { tau = 1 ms  rate = 2 mV/tau }")
    value = neuron.parameters[1].value
    assert isinstance(value, ast.Binary) and value.left.unit == "mV" and value.right.name == "tau"


def test_a_keyword_is_never_read_as_a_unit() -> None:
    assert "reset" in KEYWORDS and "and" in KEYWORDS and len(KEYWORDS) >= 25
    for keyword in KEYWORDS:
        assert QUANTITY.match(f"1 {keyword}") is None, keyword
        assert QUANTITY.fullmatch(f"1 {keyword}x"), keyword  # a longer word is not the keyword


@pytest.mark.parametrize("prefix", PREFIXES)
def test_compound_units_accept_exactly_the_unit_symbols_of_units_py(prefix: str) -> None:
    """The grammar spells out the unit symbols of compound units; they must agree with units.py."""
    bases = [s for s in units.known_unit_symbols() if units.is_unit(s)] + ["v", "sec", "Ohm", "hz", "t", "x"]
    for base in bases:
        symbol = prefix + base
        assert bool(QUANTITY.fullmatch(f"2 mV/{symbol}")) == units.is_unit(symbol), symbol


def test_unless_refractory_may_be_spaced_and_split_over_lines() -> None:
    neuron = neuron_ast("state { v = 0 mV }  equations { dv/dt = -v / ms   ( unless\n   refractory ) }")
    assert neuron.equations[0].unless_refractory


def test_a_word_that_only_starts_with_a_keyword_is_a_name() -> None:
    with pytest.raises(ParseError, match="unexpected `spikes`; expected"):  # the whole word, a keyword
        parse(SIM + "neuron N { spikes when v > 0 }")


SEPARATORS = st.sampled_from([" ", "  ", "\n", "\t", "\n\n    ", "  # a comment\n", " #\n"])
STATEMENTS = [
    "tau = 10 ms", "E_L = -70 mV", "a = 0.5", "m = 3", "s = 2", "V_th = E_L + 15 mV",
    "rate = 2 mV/ms", "k = 1e-3", "g = 10 nS", "x = a * m",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(SEPARATORS, min_size=len(STATEMENTS) + 1, max_size=len(STATEMENTS) + 1))
def test_layout_does_not_change_the_meaning(separators: list[str]) -> None:
    """Statements separated by any mix of spaces, tabs, new lines and comments lower the same."""
    body = "".join(sep + statement for sep, statement in zip(separators, STATEMENTS, strict=False)) + separators[-1]
    text = SIM + "neuron N { parameters {" + body + "} }\nregion R { r = N[1] }"
    values = {p.name: p.value for p in compile_text(text).populations[0].model.parameters}
    assert values == REFERENCE


REFERENCE = {
    p.name: p.value
    for p in compile_text(
        SIM + "neuron N { parameters { " + "\n".join(STATEMENTS) + " } }\nregion R { r = N[1] }"
    ).populations[0].model.parameters
}
