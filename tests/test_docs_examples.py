"""Every model example in the docs runs: each ```brain block is a complete model file.

The docs show the language by example; an example that no longer parses, or
that fails at run time, misleads every reader who copies it. Examples are
written to the docs folder's `examples/` neighbours when they read data files
(`tests/docs/`), so they run exactly as shown.
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
