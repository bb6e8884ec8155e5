"""Every model example in the docs runs: each ```brain block is a complete model file.

The docs show the language by example; an example that no longer parses, or
that fails at run time (or warns: pytest turns warnings into errors), misleads
every reader who copies it. Each example is written to a fresh folder next to
the files in `tests/docs/` (the data files and imported `.brain` files the
examples name), so it runs exactly as shown. A block that is not a model says
what it holds (```text, ```python, ```sh), so no example can escape the test
by having no info string.
"""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import brainsim

ROOT = Path(__file__).parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```brain[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
DATA = Path(__file__).parent / "docs"  # the data files the examples name


def examples():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            yield pytest.param(match.group(1), id=f"{doc.name}:{line}")


FENCE = re.compile(r"^```(.*)$", re.MULTILINE)


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_fenced_block_says_what_it_holds(doc):
    fences = FENCE.findall(doc.read_text(encoding="utf-8"))
    openings = fences[::2]  # fences alternate: opening, closing
    untagged = [number for number, info in enumerate(openings, 1) if not info.strip()]
    assert not untagged, f"{doc.name}: fenced blocks {untagged} have no info string (```brain, ```text, ...)"


@pytest.mark.parametrize("source", list(examples()))
def test_docs_example_runs(source, tmp_path):
    for data in DATA.iterdir() if DATA.is_dir() else ():
        shutil.copy(data, tmp_path / data.name)
    model_file = tmp_path / "example.brain"
    model_file.write_text(source, encoding="utf-8")
    results = brainsim.load(model_file).compile().run()
    for trace in results.traces.values():
        assert np.all(np.isfinite(trace.values))


def test_the_docs_complete_example_is_the_visual_pathway_model():
    """docs/language.md opens with models/visual_pathway.brain, verbatim."""
    language = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    first = BLOCK.search(language).group(1)
    assert first == (ROOT / "models" / "visual_pathway.brain").read_text(encoding="utf-8")


INVALID = sorted((ROOT / "tests" / "dsl" / "invalid").glob("*.brain"))
HEADER = re.compile(r"# error: (?P<kind>\w+) \d+:\d+ (?P<fragment>.+)")
TABLE = re.compile(r"^### (?P<kind>\w+)\n(?P<rows>.*?)(?=^##)", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_the_error_tables_list_every_invalid_model(path):
    """Each error of tests/dsl/invalid/ (its header) appears in language.md's table for its class."""
    language = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    tables = {match["kind"]: match["rows"] for match in TABLE.finditer(language)}
    expected = HEADER.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert expected["fragment"] in tables.get(expected["kind"], ""), (
        f"docs/language.md has no {expected['kind']} row with `{expected['fragment']}` ({path.name})"
    )


def test_the_keyword_list_is_the_grammars():
    """language.md's list of reserved words is exactly the words the parser reserves."""
    from lark.lexer import PatternStr

    from brainsim.dsl.parser import lark_parser

    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    listed = re.search(r"\*\*Keywords\*\* are reserved: `([^`]*)`", text)
    assert listed, "language.md must list the keywords as **Keywords** are reserved: `...`"
    reserved = {t.pattern.value for t in lark_parser().terminals
                if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier()}
    assert set(listed[1].split()) == reserved
