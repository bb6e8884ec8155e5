"""Hostile files (issue 11, item 9, the front end): binary garbage, files too large or
endless, nesting deeper than any recursion allows, expressions that grow exponentially
through aliases, files that import themselves, huge names. Each must end in a clear
`BrainsimError` that names the file and the place, quickly, with no traceback.

The sizes here are moderate; benchmarks/front_end_scaling.py shows the front end
linear in its input at sizes 10 to 1000 times larger. The `timeout` marks are guards
against a hang (pytest-timeout), far above the time each test takes.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import brainsim
from brainsim import cli
from brainsim.dsl import limits
from brainsim.errors import (
    BrainsimError,
    InvalidValueError,
    LimitError,
    ParseError,
    UnknownNameError,
    closest,
    did_you_mean,
)
from tests.terminal import assert_printable
from tests.tiny_lif import tiny_model

TIMEOUT = 30


def load_error(path: Path, kind: type = BrainsimError, **options) -> BrainsimError:
    with pytest.raises(kind) as caught:
        brainsim.load(path, **options)
    assert_printable(str(caught.value))
    return caught.value


def text_error(text: str, kind: type = BrainsimError) -> BrainsimError:
    with pytest.raises(kind) as caught:
        brainsim.loads(text, "hostile.brain")
    assert_printable(str(caught.value))
    return caught.value


def place_of(text: str, piece: str) -> tuple[int, int]:
    """The 1-based line and column where `piece` starts in `text`."""
    offset = text.index(piece)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --------------------------------------------------------------------------- binary garbage


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_a_syntax_error_naming_the_file_and_place(seed: int, tmp_path: Path) -> None:
    path = tmp_path / "garbage.brain"
    path.write_bytes(random.Random(seed).randbytes(64 * 1024))
    error = load_error(path, ParseError)
    assert error.span.file == str(path) and error.span.line >= 1 and error.span.column >= 1
    assert "not UTF-8 text" in error.message or "unexpected" in error.message


def test_an_invalid_utf8_byte_is_reported_at_its_offset_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.brain"
    head = tiny_model("region R { a = LIF[1] }").encode()
    path.write_bytes(head + b"\n# r\xe9sum\xe9\n")
    error = load_error(path, ParseError)
    assert error.message == f"the file is not UTF-8 text: byte 0xE9 at offset {len(head) + 4:,} cannot be read"
    assert (error.span.line, error.span.column) == (head.count(b"\n") + 2, 4)


def test_a_utf16_file_is_refused_at_its_first_byte(tmp_path: Path) -> None:
    path = tmp_path / "utf16.brain"
    path.write_text(tiny_model("region R { a = LIF[1] }"), encoding="utf-16")
    error = load_error(path, ParseError)
    assert "byte 0xFF at offset 0 cannot be read" in error.message
    assert (error.span.line, error.span.column) == (1, 1)


def test_a_nul_byte_is_a_syntax_error_at_it(tmp_path: Path) -> None:
    text = tiny_model("region R { a = LIF[1] }\x00\x00")
    path = tmp_path / "nul.brain"
    path.write_bytes(text.encode())
    error = load_error(path, ParseError)
    assert error.message == f"unexpected control character U+0000 (at offset {text.index(chr(0)):,} of the text)"
    assert (error.span.line, error.span.column) == place_of(text, "\x00")
    assert "\\x00" in str(error)


def test_garbage_on_the_command_line_exits_2_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "garbage.brain"
    path.write_bytes(random.Random(11).randbytes(4096))
    assert cli.main(["check", str(path)]) == cli.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
    assert_printable(err)


# --------------------------------------------------------------------------- too large, or endless


@pytest.mark.timeout(TIMEOUT)
def test_a_100_mb_file_is_refused_by_its_size_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.brain"
    with path.open("wb") as file:  # sparse: 100 MB that take no disk, and that reading would take long
        file.truncate(100 * 2**20)
    error = load_error(path, LimitError)
    assert error.message == (f"model file {str(path)!r} is 100.0 MiB (104,857,600 bytes); "
                             "a model file may be at most 4.0 MiB")


@pytest.mark.timeout(TIMEOUT)
def test_an_imported_file_that_is_too_large_is_refused_at_the_import(tmp_path: Path) -> None:
    with (tmp_path / "huge.brain").open("wb") as file:
        file.truncate(limits.MAX_MODEL_BYTES + 1)
    main = tmp_path / "main.brain"
    main.write_text('import "huge.brain"\n' + tiny_model("region R { a = LIF[1] }"))
    error = load_error(main, LimitError)
    assert "huge.brain" in error.message and "a model file may be at most 4.0 MiB" in error.message
    assert (error.span.file, error.span.line, error.span.column) == (str(main), 1, 8)


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_device_is_read_no_further_than_the_limit() -> None:
    error = load_error(Path("/dev/zero"), LimitError)
    assert "a model file may be at most 4.0 MiB" in error.message


def test_model_text_longer_than_the_limit_is_refused() -> None:
    error = text_error("#" * (limits.MAX_MODEL_BYTES + 1), LimitError)
    assert f"({limits.MAX_MODEL_BYTES + 1:,} characters)" in error.message


# --------------------------------------------------------------------------- deep nesting

DEEP = limits.MAX_DEPTH + 50
# Each way of nesting an expression, written DEEP levels deep as the value of a parameter.
NESTINGS = {
    "parentheses": "(" * DEEP + "1 ms" + ")" * DEEP,
    "unary minus": "-" * DEEP + "1 ms",
    "not": "1 ms if " + "not " * DEEP + "true else 2 ms",
    "a long sum": " + ".join(["1 ms"] * DEEP),
    "a chain of powers": "1 ms" + " ** 1" * DEEP,
    "calls": "abs(" * DEEP + "1 ms" + ")" * DEEP,
    "conditionals": "1 ms if 1 > 0 else " * DEEP + "1 ms",
}


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("nesting", NESTINGS)
def test_nesting_deeper_than_the_limit_is_reported_at_the_expression(nesting: str) -> None:
    value = NESTINGS[nesting]
    text = tiny_model(f"region R {{ a = LIF[1] {{ tau = {value} }} }}")
    error = text_error(text, LimitError)
    line, column = place_of(text, value)
    assert error.span.line == line and column <= error.span.column < column + len(value), str(error)
    assert f"the language allows {limits.MAX_DEPTH}" in error.message
    assert len(str(error)) < 1000  # the excerpt shows the place, not the whole line


@pytest.mark.timeout(120)
def test_an_expression_as_deep_as_the_limit_runs() -> None:
    """The limit is one every stage can take: parsing, lowering, validation, integration and a run."""
    rhs = " + ".join(["(E_L - v) / tau"] * (limits.MAX_DEPTH - 10))
    text = tiny_model("region R { a = LIF[2] }\nrecord v of R.a", duration="0.3 ms").replace(
        "(E_L - v + R * I_ext) / tau", rhs)
    results = brainsim.loads(text).compile("numpy").run()
    assert results.traces[("R.a", "v")].values.shape[0] == 3


def test_regions_nested_deeper_than_the_limit_are_reported_at_the_region() -> None:
    text = tiny_model("".join(f"region R{k} {{ " for k in range(DEEP)) + "a = LIF[1]" + " }" * DEEP)
    error = text_error(text, LimitError)
    assert error.span.line == 10 and error.span.column > 1


def _aliases(body: str, threshold: str) -> str:
    return (tiny_model("region R { a = LIF[1] }").replace("state {", f"aliases {{ {body} }}\n    state {{")
            .replace("spike when v > V_th", f"spike when {threshold} > V_th"))


@pytest.mark.timeout(TIMEOUT)
def test_aliases_that_double_an_expression_are_refused_before_it_grows() -> None:
    """Forty lines would make a tree of 2**40 nodes: refused where it passes the limit, at once."""
    body = "a0 = v  " + "  ".join(f"a{k} = a{k - 1} + a{k - 1}" for k in range(1, 41))
    text = _aliases(body, "a40")
    error = text_error(text, LimitError)
    assert f"the language allows {limits.MAX_NODES:,}" in error.message
    assert (error.span.line, error.span.column) == place_of(text, "a15 + a15")


@pytest.mark.timeout(TIMEOUT)
def test_a_chain_of_aliases_longer_than_the_limit_is_refused() -> None:
    n = limits.MAX_DEPTH + 10
    body = "  ".join(f"a{k} = a{k + 1}" for k in range(n)) + f"  a{n} = v"
    error = text_error(_aliases(body, "a0"), LimitError)
    assert error.message.startswith(f"aliases read each other in a chain of more than {limits.MAX_DEPTH}")


@pytest.mark.timeout(TIMEOUT)
def test_aliases_that_nest_an_expression_too_deep_are_refused_at_the_use() -> None:
    """Each alias is shallow, but the threshold that reads the last one holds them all."""
    last = limits.MAX_DEPTH - 2  # a{k} is k + 1 levels deep
    body = "a0 = v  " + "  ".join(f"a{k} = a{k - 1} + 1 mV" for k in range(1, last + 1))
    brainsim.loads(_aliases(body, f"a{last}"))  # `a > V_th`: MAX_DEPTH levels
    text = _aliases(body, f"a{last} + 1 mV")
    error = text_error(text, LimitError)
    assert f"nested {limits.MAX_DEPTH + 1} levels deep" in error.message
    assert (error.span.line, error.span.column) == place_of(text, f"a{last} + 1 mV > V_th")


# --------------------------------------------------------------------------- imports of oneself


@pytest.mark.parametrize("length", [1, 2, 3])
def test_a_cycle_of_imports_is_named(length: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    names = [f"m{k}.brain" for k in range(length)]
    for k, name in enumerate(names):
        imported = f'import "{names[(k + 1) % length]}"\n'
        (tmp_path / name).write_text(imported + (tiny_model("region R { a = LIF[1] }") if k == 0 else ""))
    error = load_error(Path(names[0]), InvalidValueError)
    chain = " imports ".join([*names, names[0]])
    assert error.message == f"the imports form a cycle: {chain}"
    assert error.hint == "a file may not import itself, directly or through the files it imports"


def test_a_chain_of_imports_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    n = limits.MAX_IMPORT_DEPTH + 5
    for k in range(1, n):
        (tmp_path / f"m{k}.brain").write_text(f'import "m{k + 1}.brain"\n')
    (tmp_path / f"m{n}.brain").write_text("")
    (tmp_path / "main.brain").write_text('import "m1.brain"\n' + tiny_model("region R { a = LIF[1] }"))
    error = load_error(tmp_path / "main.brain", LimitError)
    assert error.message.startswith(f"the imports form a chain of more than {limits.MAX_IMPORT_DEPTH} files")
    assert error.span.line == 1 and error.span.column == 8


# --------------------------------------------------------------------------- huge names


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("where", ["parameter name", "value", "unit", "model name", "number"])
def test_a_word_longer_than_the_limit_is_refused_at_it(where: str) -> None:
    word = "x" * 10**6 if where != "number" else "9" * 10**6
    body = {
        "parameter name": f"region R {{ a = LIF[1] {{ {word} = 1 ms }} }}",
        "value": f"region R {{ a = LIF[1] {{ tau = {word} }} }}",
        "unit": f"region R {{ a = LIF[1] {{ tau = 1 {word} }} }}",
        "model name": f"region R {{ a = {word}[1] }}",
        "number": f"region R {{ a = LIF[{word}] }}",
    }[where]
    text = tiny_model(body)
    error = text_error(text, LimitError)
    assert "may have at most 255" in error.message
    token = f"1 {word}" if where == "unit" else word  # a number and its unit are one word
    assert (error.span.line, error.span.column) == place_of(text, token)
    assert len(str(error)) < 1000


def test_a_word_at_the_limit_is_a_name_like_any_other() -> None:
    name = "p" * limits.MAX_TOKEN
    text = tiny_model(f"region R {{ a = LIF[1] {{ tau = {name} }} }}").replace("parameters {", f"parameters {{ {name} = 5 ms ")
    assert brainsim.loads(text).network.populations[0].model.parameters[1].value == pytest.approx(0.005)


def test_a_file_name_longer_than_the_system_allows_is_not_found(tmp_path: Path) -> None:
    main = tmp_path / "main.brain"
    main.write_text(f'import "{"x" * 1000}.brain"\n' + tiny_model("region R { a = LIF[1] }"))
    assert "there is no such file" in load_error(main, UnknownNameError).message
    main.write_text(f'import "{"x" * 5000}.brain"\n' + tiny_model("region R { a = LIF[1] }"))
    assert "a file name may have at most 4,096" in load_error(main, LimitError).message


@pytest.mark.timeout(TIMEOUT)
def test_the_did_you_mean_of_a_huge_name_returns_at_once() -> None:
    """Comparing two names costs the product of their lengths: two names of a megabyte
    would take hours, so a name over LONGEST_SUGGESTED characters gets no suggestion."""
    huge = "x" * 10**6
    assert did_you_mean(huge, [huge + "y", "tau"]) is None
    assert closest(huge[:99] + "y", [huge[:99] + "z"]) == huge[:99] + "z"


@pytest.mark.timeout(TIMEOUT)
def test_a_csv_column_with_a_huge_header_is_named_without_a_hang(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("x" * 10**6 + " [ms]\n1\n")
    (tmp_path / "m.brain").write_text(tiny_model('region R { a = LIF[1] { tau = from_file("p.csv", column = "tau") } }'))
    error = load_error(tmp_path / "m.brain", UnknownNameError)
    assert "p.csv has no column `tau`" in error.message


@pytest.mark.timeout(60)
def test_ten_thousand_parameters_lower_without_a_quadratic_cost() -> None:
    """2 500 parameters took 14 s when each parameter's scope copied those above it;
    10 000 would take minutes that way, a few seconds now."""
    body = "  ".join(f"p{k} = {k} mV" for k in range(10_000))
    model = brainsim.loads(tiny_model("region R { a = LIF[1] }").replace("parameters {", "parameters { " + body))
    assert len(model.network.populations[0].model.parameters) == 10_004
