"""Every code block in the docs runs, as shown: an example that no longer works misleads
every reader who copies it.

How a fenced block of a page in docs/ is treated follows from its info string:

    ```brain             a complete model file: run on its own (numpy backend) in a fresh
                         folder holding the files of tests/docs/ (the data files and
                         imported .brain files the examples name) and the page's
                         ```text file= blocks above it
    ```brain file=NAME   the same, and also written to NAME in the page's folder (below),
                         for the blocks after it to use (`brainsim run NAME`)
    ```python            run, page by page in the order written, in one namespace per page
    ```sh                each command run: `brainsim ...` in-process (brainsim.cli.main),
                         `python ...` in a subprocess with this interpreter; every command
                         must exit with status 0. A line ending in \\ continues on the
                         next; `#` starts a comment. Commands must start with `brainsim`
                         or `python`: anything else must be marked no-run.
    ```python no-run     shown, not run, on purpose: installation, commands that take
    ```sh no-run         minutes (benchmarks), need another machine, another checkout or
                         a placeholder the reader fills in; the repository's scripts such
                         a block names (`python benchmarks/cuba.py`) must exist
    ```sh needs=PROGRAM  run where PROGRAM (not a Python package: Graphviz's `dot`) is on
                         the PATH and must exit with status 0; elsewhere each command must
                         be refused: a nonzero status, a message naming PROGRAM, no traceback
    ```text output       what the block just before it prints (stdout and stderr), checked:
                         `...` stands for any text (doctest's ELLIPSIS), trailing
                         spaces are ignored; use it where a number varies (timings)
    ```text file=NAME    a data file the page's later blocks read (a CSV table, ...): written
                         to NAME in the page's folder
    ```text              anything else (files, error messages, sketches): not run

A page's ```python, ```sh and file= blocks run in one fresh folder holding a
copy of models/ and of the files of tests/docs/, with that folder as the working
directory and matplotlib's Agg backend, so `brainsim.load("models/cuba.brain")` works
as in a checkout. Warnings are errors here as everywhere (pyproject.toml). The pages
are read with markdown-it-py (CommonMark), so a block inside a list item counts too.
Fenced blocks without an info string, with an alias of a runnable language (```bash,
```py, ...), or indented code blocks (four spaces, no fence) are refused, so no
example can escape the test unseen.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from markdown_it import MarkdownIt

import brainsim
import brainsim.cli

ROOT = Path(__file__).parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
DATA = Path(__file__).parent / "docs"  # the data files the examples name
ALIASES = {"bash", "shell", "console", "zsh", "py", "python3", "pycon", "ipython"}
RUNNABLE = {"python", "sh"}


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: its language, the words after it, its text, where it starts."""

    page: str
    line: int
    language: str
    modifiers: tuple[str, ...]
    body: str

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and "no-run" not in self.modifiers

    @property
    def file(self) -> str | None:
        """The NAME of ```brain file=NAME or ```text file=NAME."""
        names = [m.removeprefix("file=") for m in self.modifiers if m.startswith("file=")]
        return names[0] if names else None

    @property
    def needs(self) -> tuple[str, ...]:
        """The programs of ```sh needs=PROGRAM that are not on the PATH here."""
        wanted = [m.removeprefix("needs=") for m in self.modifiers if m.startswith("needs=")]
        return tuple(program for program in wanted if shutil.which(program) is None)

    @property
    def is_output(self) -> bool:
        return self.language == "text" and "output" in self.modifiers


def blocks(doc: Path) -> list[Block]:
    """The page's code blocks in order; an indented one (no fence, no info string) has language ""."""
    found = []
    for token in MarkdownIt("commonmark").parse(doc.read_text(encoding="utf-8")):
        if token.type in ("fence", "code_block"):
            language, *modifiers = token.info.split() or [""]
            found.append(Block(doc.name, token.map[0] + 1, language, tuple(modifiers), token.content))
    return found


PAGES = {doc.name: blocks(doc) for doc in DOCS}


# --------------------------------------------------------------------------- what a block says it holds


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_code_block_is_fenced_and_says_what_it_holds(doc):
    untagged = [block.line for block in PAGES[doc.name] if not block.language]
    assert not untagged, (f"{doc.name}: the code blocks at lines {untagged} have no info string: fence them "
                          "with ```brain, ```python, ```sh, ```text, ...")


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: doc.name)
def test_every_block_is_marked_in_the_conventions_of_this_test(doc):
    previous = None
    for block in PAGES[doc.name]:
        assert block.language not in ALIASES, f"{block.where}: write ```sh or ```python, not ```{block.language}"
        known = {"brain": {"file="}, "python": {"no-run"}, "sh": {"no-run", "needs="}, "text": {"output", "file="}}.get(block.language)
        if known is not None:
            unknown = [m for m in block.modifiers if not any(m.startswith(k) for k in known)]
            assert not unknown, f"{block.where}: ```{block.language} takes {sorted(known)}, not {unknown}"
        if block.is_output:
            assert previous is not None and previous.runs, (
                f"{block.where}: ```text output must follow a ```python or ```sh block that runs")
        previous = block


# --------------------------------------------------------------------------- ```brain: each model on its own


def models():
    """Each ```brain block, with the ```text file= blocks above it on its page (its data files)."""
    for page, found in PAGES.items():
        data = {}
        for block in found:
            if block.language == "text" and block.file:
                data[block.file] = block.body
            if block.language == "brain":
                yield pytest.param(block.body, dict(data), id=f"{page}:{block.line}")


def _copy_data(folder: Path) -> None:
    for data in DATA.iterdir() if DATA.is_dir() else ():
        shutil.copy(data, folder / data.name)


@pytest.mark.parametrize(("source", "data"), list(models()))
def test_docs_example_runs(source, data, tmp_path):
    _copy_data(tmp_path)
    for name, text in data.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    model_file = tmp_path / "example.brain"
    model_file.write_text(source, encoding="utf-8")
    results = brainsim.load(model_file).compile().run()
    for trace in results.traces.values():
        assert np.all(np.isfinite(trace.values))


# --------------------------------------------------------------------------- ```python and ```sh: each page in order

RUN_PAGES = [page for page, found in PAGES.items() if any(block.runs for block in found)]


@pytest.mark.parametrize("page", RUN_PAGES)
def test_the_pages_code_runs_in_order_and_prints_what_it_shows(page, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "models", tmp_path / "models")
    _copy_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__main__"}
    found = PAGES[page]
    try:
        for index, block in enumerate(found):
            if block.file:
                (tmp_path / block.file).write_text(block.body, encoding="utf-8")
            if not block.runs:
                continue
            if block.needs:
                _check_refused_without(block, block.needs)
                continue
            printed = _run_python(block, namespace) if block.language == "python" else _run_sh(block, tmp_path)
            following = found[index + 1] if index + 1 < len(found) else None
            if following is not None and following.is_output:
                _check_output(following, printed)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def _run_python(block: Block, namespace: dict) -> str:
    """Execute the block in the page's namespace; what it printed. Tracebacks name the page's lines."""
    code = compile("\n" * block.line + block.body, str(ROOT / "docs" / block.page), "exec")
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), warnings.catch_warnings():
            # Elephant 1.2 passes `copy` to quantities 0.16, which warns about it (docs/export.md's example).
            warnings.filterwarnings("ignore", message="The 'copy' argument in Quantity is deprecated")
            exec(code, namespace)
    except Exception:
        pytest.fail(f"{block.where} raised:\n{traceback.format_exc()}\nprinted:\n{printed.getvalue()}")
    return printed.getvalue()


def commands(body: str) -> list[str]:
    """The block's commands: lines joined at a trailing backslash, comments and blank lines dropped."""
    joined = re.sub(r"\\\n", " ", body)
    return [" ".join(words) for line in joined.splitlines() if (words := shlex.split(line, comments=True))]


def _run_sh(block: Block, folder: Path) -> str:
    """Run each command of the block; what they printed, together."""
    printed = []
    for command in commands(block.body):
        program, *arguments = shlex.split(command)
        if program == "brainsim":
            status, output = _brainsim(arguments)
        elif program == "python":
            done = subprocess.run([sys.executable, *arguments], cwd=folder, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, env={**os.environ, "MPLBACKEND": "Agg"})
            status, output = done.returncode, done.stdout + done.stderr
        else:
            pytest.fail(f"{block.where}: `{command}` starts with neither brainsim nor python; "
                        "mark the block ```sh no-run if it is not meant to run here")
        assert status == 0, f"{block.where}: `{command}` exited with status {status}:\n{output}"
        printed.append(output)
    return "".join(printed)


def _check_refused_without(block: Block, missing: tuple[str, ...]) -> None:
    """Where a program the block needs is not installed, each of its commands is refused
    as a user mistake: a nonzero status and a message that names the program, no traceback."""
    for command in commands(block.body):
        program, *arguments = shlex.split(command)
        assert program == "brainsim", f"{block.where}: a needs= block runs brainsim commands only, not `{command}`"
        status, output = _brainsim(arguments)
        assert status != 0, f"{block.where}: `{command}` succeeded without {', '.join(missing)}:\n{output}"
        assert "Traceback" not in output, f"{block.where}: `{command}` without {', '.join(missing)}:\n{output}"
        for name in missing:
            assert f"`{name}`" in output, f"{block.where}: `{command}` failed without naming `{name}`:\n{output}"


def _brainsim(arguments: list[str]) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        try:
            status = brainsim.cli.main(arguments)
        except SystemExit as exit:  # argparse's own errors
            status = exit.code
    return status, printed.getvalue()


def _check_output(expected: Block, printed: str) -> None:
    want, got = (_normalized(text) for text in (expected.body, printed))
    matches = doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS)
    assert matches, f"{expected.where}: the block before it printed\n{got}\nbut the page shows\n{want}"


def _normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


SCRIPT = re.compile(r"(?<![\w/<.-])(?P<path>[\w.-]+(?:/[\w.-]+)*\.py)\b")


@pytest.mark.parametrize("page", [page for page, found in PAGES.items()
                                  if any(b.language == "sh" and not b.runs for b in found)])
def test_the_scripts_a_no_run_block_names_exist(page):
    """A command shown but not run (a benchmark that takes minutes) still names a script of
    this repository that exists, so a renamed or removed script is noticed."""
    for block in PAGES[page]:
        if block.language == "sh" and not block.runs:
            for command in commands(block.body):
                for path in SCRIPT.findall(command):
                    assert (ROOT / path).is_file(), f"{block.where}: `{command}` names {path}, which is not in the repository"


def test_sh_commands_are_split_as_a_shell_would():
    body = "brainsim run a.brain   # a comment\n\npython x.py \\\n    --flag 2\n# only a comment\n"
    assert commands(body) == ["brainsim run a.brain", "python x.py --flag 2"]


def test_an_output_block_is_matched_with_ellipses_and_nothing_else():
    expected = Block("x.md", 1, "text", ("output",), "took ... s\nrate 3.00 Hz\n")
    _check_output(expected, "took 0.12 s\nrate 3.00 Hz  \n")
    with pytest.raises(AssertionError, match="the page shows"):
        _check_output(expected, "took 0.12 s\nrate 3.01 Hz\n")


# --------------------------------------------------------------------------- language.md's own promises


def test_the_docs_complete_example_is_the_visual_pathway_model():
    """docs/language.md opens with models/visual_pathway.brain, verbatim."""
    first = next(block for block in PAGES["language.md"] if block.language == "brain")
    assert first.body == (ROOT / "models" / "visual_pathway.brain").read_text(encoding="utf-8")


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


def test_a_block_needs_only_the_programs_missing_here():
    block = Block("page.md", 1, "sh", ("needs=sh", "needs=no-such-program-brainsim"), "brainsim graph x -o x.svg\n")
    assert block.runs and block.needs == ("no-such-program-brainsim",)


def test_where_the_program_is_missing_the_block_must_be_refused_by_name(tmp_path, monkeypatch):
    """What the page test checks on a machine without Graphviz, checked here on any machine:
    with `dot` off the PATH, drawing is refused naming it; a command that succeeds anyway fails."""
    shutil.copytree(ROOT / "models", tmp_path / "models")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    drawing = Block("page.md", 1, "sh", ("needs=dot",), "brainsim graph models/cuba.brain -o cuba.svg\n")
    assert drawing.needs == ("dot",)
    _check_refused_without(drawing, drawing.needs)
    assert not (tmp_path / "cuba.svg").exists()
    text_only = Block("page.md", 1, "sh", ("needs=dot",), "brainsim graph models/cuba.brain -o cuba.dot\n")
    with pytest.raises(AssertionError, match="succeeded without dot"):
        _check_refused_without(text_only, text_only.needs)
