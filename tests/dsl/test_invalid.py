"""Every file in tests/dsl/invalid/ must fail with the error its first line announces.

The first line of each file reads `# error: <ClassName> <line>:<col> <fragment>`:
the error class, the exact position of the error, and a piece of its message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from brainsim.dsl import compile_text
from brainsim.errors import BrainsimError

INVALID = sorted((Path(__file__).parent / "invalid").glob("*.brain"))
HEADER = re.compile(r"# error: (?P<kind>\w+) (?P<line>\d+):(?P<column>\d+) (?P<fragment>.+)")


def test_there_are_enough_invalid_models() -> None:
    assert len(INVALID) >= 35


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_invalid_model_reports_its_error(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = HEADER.fullmatch(text.splitlines()[0])
    assert expected, f"{path.name} must start with `# error: <ClassName> <line>:<col> <fragment>`"
    line, column = int(expected["line"]), int(expected["column"])

    with pytest.raises(BrainsimError) as caught:
        compile_text(text, path.name)

    error = caught.value
    assert type(error).__name__ == expected["kind"], str(error)
    assert (error.span.line, error.span.column) == (line, column), str(error)
    assert expected["fragment"] in error.message, str(error)
    assert "\n" not in error.message
    _assert_rendered_with_caret(str(error), path.name, text, line, column)


def _assert_rendered_with_caret(rendered: str, filename: str, text: str, line: int, column: int) -> None:
    """`file:line:col: kind: message`, then the source line, then a caret under the column."""
    first, source, marker, *_ = rendered.splitlines()
    assert first.startswith(f"{filename}:{line}:{column}: ")
    assert source.endswith(text.splitlines()[line - 1])
    gutter = source.index("| ") + 2
    assert marker.index("^") == gutter + column - 1
