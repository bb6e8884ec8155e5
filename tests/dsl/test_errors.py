"""Error hints (did-you-mean, missing units, misplaced statements) and the
promise that no mistake in a model ends in a Python traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brainsim.dsl import compile_text, parse
from brainsim.dsl.syntax_errors import _MISTAKES
from brainsim.errors import BrainsimError, ParseError

SIM = "simulation { duration = 10 ms }\n"
LIB = SIM + """
neuron LIF {
    parameters { tau_m = 10 ms  E_L = -70 mV }
    inputs     { I_ext = 0 nA }
    state      { v = E_L  I_syn = 0 nA }
    equations  { dv/dt = (E_L - v) / tau_m + I_syn * 1 Mohm / tau_m }
}
synapse Exc { state { w = 1 nA }  on pre { I_syn += w } }
region Cortex { exc = LIF[4]  inh = LIF[1] }
"""


def error_of(text: str) -> BrainsimError:
    with pytest.raises(BrainsimError) as caught:
        compile_text(text, "m.brain")
    return caught.value


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (SIM + "neuron N { parameters { tau_m = 1 ms  x = 2 * tau_n } }", "did you mean `tau_m`?"),
        (SIM + "neuron N { state { v = 0 mV }  aliases { I_total = v / (1 Mohm) }"
               "  equations { dv/dt = I_totl / (1 pF) } }", "did you mean `I_total`?"),
        (SIM + "neuron N { parameters { E_L = -70 mv } }", "units are case-sensitive: did you mean `mV`?"),
        (SIM + "neuron N { parameters { t_ref = 2 msec } }", "did you mean `ms`?"),
        (SIM + "neuron N { parameters { tau = 1 ms  x = 2 tau } }", "to multiply, write `2 * tau`"),
        (LIB + "region V1 { simple = LFI[3] }", "did you mean `LIF`?"),
        (LIB + "connect Cortex -> Cortex with Exx", "did you mean `Exc`?"),
        (LIB + "connect Cortex -> Cortex with LIF", "`LIF` is a neuron model"),
        (LIB + "record spikes of Cortx", "did you mean `Cortex`?"),
        (LIB + "record spikes of exc", "write `Cortex.exc`"),
        (LIB + "record spikes of Cortex.ex", "did you mean `exc`?"),
        (LIB + "stimulus Cortex { I_extt += 1 nA }", "did you mean `I_ext`?"),
        (LIB + "stimulus Cortex { v += 1 mV }", "`v` is a state variable; a stimulus drives an input"),
        (LIB + "record I_sin of Cortex.exc", "did you mean `I_syn`?"),
        (LIB + "connect Cortex -> Cortex with Exc { wieght = 1 nA }", "did you mean `weight`?"),
        (LIB + "connect Cortex -> Cortex with Exc { rule = one_to_on }", "did you mean `one_to_one`?"),
        (LIB + "region V1 { a = LIF[2] { tau = 1 ms } }", "did you mean `tau_m`?"),
        (SIM + "simulation_ = 1", "did you mean"),
        (SIM.replace("duration", "duraton"), "did you mean `duration`?"),
        (SIM + "neuron N { state { v = 0 mV }  equations { dv/dt = expp(v / mV) * mV / ms } }", "did you mean `exp`?"),
        (SIM + "neuron N { state { v = 0 mV }  equations { dw/dt = v / ms } }", "declare it in the `state { }` block"),
        (SIM + "synapse S { state { w = 1 nA }  on pre { I += w * v } }", "may read only the synapse's own"),
        # A unitless number where a quantity is expected: "write 0 mV".
        (SIM + "neuron N { state { v = 0 mV }  spike when v > 0 }", "write `0 mV`"),
        (LIB + "connect Cortex -> Cortex with Exc { weight = 0 }", "write `0 nA`"),
        (LIB + "stimulus Cortex { I_ext += 2 }", "write `2 nA`"),
        (SIM + "neuron N { state { v = 0 mV  ge = 0 }  equations { dv/dt = (ge - v) / ms } }",
         "`ge` is dimensionless because it is declared as `0` (line 2); write `0 mV` there"),
        (SIM + "neuron N { state { v = 0 }  equations { dv/dt = 1 mV / ms } }", "write `v = 0 mV`"),
        (SIM + "neuron N { state { v = 0 mV }  equations { dv/dt = exp(v) / ms } }", "exp(v / (1 mV))"),
    ],
)
def test_hints(text: str, hint: str) -> None:
    error = error_of(text)
    assert error.hint is not None and hint in error.hint, str(error)
    assert f"hint: {error.hint}" in str(error)


@pytest.mark.parametrize(("label", "example"), [(label, e) for label, examples in _MISTAKES.items() for e in examples])
def test_each_common_mistake_is_recognised(label: str, example: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(example)
    assert caught.value.hint == label


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (LIB + "neuron M {\n    parameters { a = 1 }\n    equations { v = 1 }\n}", "an equation reads `dv/dt = ...`"),
        (LIB + "stimulus Cortex.exc { I_ext = 1 nA }", "a stimulus adds to an input"),
        (LIB + "region R { a = LIF[1] { tau_m = 1 ms }  b = LIF }", "a population reads"),
        (LIB + "neuron M { state { v = 0 mV }\n    spike when v > 1 mV\n    refractory 1 ms\n", "the `{` on line"),
        (LIB + "neuron M { state { v = 0 mV }\n  spike when v > 0 mV\n  on pre { v += 1 mV } }",
         "`on` belongs directly inside a `synapse { }`"),
        (LIB + "neuron M { state { v = 0 mV\n    w = 1 mV\n  reset { v = 0 mV } }",
         "`reset` belongs directly inside a `neuron { }`"),
        (SIM + "neuron M { parameters { a = 1 } }}\n", None),
    ],
)
def test_syntax_hints_deep_in_a_file(text: str, hint: str | None) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    if hint is None:
        assert caught.value.message.startswith("unexpected `}`")
    else:
        assert caught.value.hint is not None and hint in caught.value.hint, str(caught.value)


def test_a_value_followed_by_a_stray_value_is_a_syntax_error() -> None:
    """Regression: lark's match_examples(use_accepts=True) raised TypeError here."""
    with pytest.raises(ParseError, match="unexpected quantity `2 ms`"):
        parse(SIM + "neuron N { spike when v > 1 s 2 ms }")


def test_an_unclosed_brace_points_at_the_end_and_names_the_open_brace() -> None:
    error = error_of(SIM + "neuron N {\n    state { v = 0 mV }   # a comment\n\n")
    assert isinstance(error, ParseError)
    assert (error.span.line, error.span.column) == (3, 23)
    assert error.hint == "the `{` on line 2 is never closed"


# --------------------------------------------------------------------------- no tracebacks

FULL = (Path(__file__).parent / "valid" / "full_language.brain").read_text(encoding="utf-8")
TOKENS = [
    "simulation", "neuron", "synapse", "region", "connect", "stimulus", "record", "parameters", "state",
    "inputs", "aliases", "equations", "spike", "when", "reset", "refractory", "on", "pre", "with", "of",
    "spikes", "excitatory", "inhibitory", "and", "or", "not", "true", "false", "{", "}", "(", ")", "[", "]",
    "=", "+=", "-=", "*=", "/=", "+", "-", "*", "/", "**", "<", ">=", "==", ",", ".", ":", "->", "dv/dt",
    "(unless refractory)", "v", "LIF", "A", "A.a", "0", "1.5", "-70 mV", "2 mV/ms", "10 ms", "1e400", "0 ms",
    "uniform(1 ms, 2 ms)", "pulses(period = 1 ms)", "exp(v)", "where(", "#", "\n", "é", "$", "\t", "0.5 m",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_any_token_soup_gives_a_brainsim_error_or_a_network(tokens: list[str]) -> None:
    _compile_without_traceback(SIM + " ".join(tokens))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_damaged_model_gives_a_brainsim_error_or_a_network(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(FULL)))
    end = data.draw(st.integers(start, min(len(FULL), start + 40)))
    insert = data.draw(st.sampled_from(["", *TOKENS]))
    _compile_without_traceback(FULL[:start] + insert + FULL[end:])


def _compile_without_traceback(text: str) -> None:
    try:
        compile_text(text, "fuzz.brain")
    except BrainsimError as error:
        assert error.span is not None and error.span.line >= 1 and error.span.column >= 1
        str(error)
