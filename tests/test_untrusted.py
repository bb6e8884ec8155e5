"""Untrusted models (issue 11, item 8): a `.brain` file from anyone can make brainsim run a
simulation and nothing else, read no file outside the folders it is allowed, and put no
raw control character on the terminal. docs/security.md states the promises; each test
here checks one of them against the files an attacker would write."""

from __future__ import annotations

import ast as python_ast
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim import cli
from brainsim.errors import BrainsimError, InvalidValueError, ParseError, UnknownNameError
from tests.terminal import assert_printable
from tests.tiny_lif import tiny_model

PACKAGE = Path(brainsim.__file__).parent
TIMEOUT = 30  # seconds: a guard against a hang, far above the time any of these takes


def error_of(text: str, folder: Path, kind: type = BrainsimError, name: str = "evil.brain") -> BrainsimError:
    """The error loading `text`, written to `folder / name`, raises; it must render printably."""
    (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(kind) as caught:
        brainsim.load(folder / name)
    assert_printable(str(caught.value))
    return caught.value


# --------------------------------------------------------------------------- nothing but a simulation runs

# Python where a value goes. None is evaluated: the language is parsed by its own grammar and
# folded by its own evaluator (brainsim.dsl.expressions.fold, brainsim.backends.expressions).
PAYLOADS = {
    "__import__ call": ("__import__('os').system('touch {sentinel}')", ParseError),
    "dunder call": ("__import__(1)", UnknownNameError),
    "dunder name": ("__builtins__", UnknownNameError),
    "class attribute": ("tau.__class__", UnknownNameError),
    "lambda": ("(lambda: 1)()", ParseError),
    "subscript of a string": ("'abc'[0]", ParseError),
    "subscript of a file name": ('"abc"[0]', ParseError),
    "eval": ('eval("1")', UnknownNameError),
    "exec": ('exec("import os")', UnknownNameError),
    "f-string": ('f"{{1}}"', ParseError),
    "format string": ('"{{0.__class__}}".format(1)', ParseError),
    "a second statement": ("1; import os", ParseError),
    "walrus": ("(x := 1)", ParseError),
    "getattr": ("getattr(tau, 'x')", ParseError),
    "comprehension": ("[x for x in (1, 2)]", ParseError),
}
# Where a value goes: a parameter, an equation, the threshold, a reset, a stimulus.
PLACES = {
    "parameter": lambda payload: tiny_model("region R { a = LIF[1] { tau = PAYLOAD } }").replace("PAYLOAD", payload),
    "equation": lambda payload: tiny_model("region R { a = LIF[1] }").replace("(E_L - v + R * I_ext) / tau", payload),
    "threshold": lambda payload: tiny_model("region R { a = LIF[1] }").replace("v > V_th", payload),
    "reset": lambda payload: tiny_model("region R { a = LIF[1] }").replace("reset { v = E_L }", f"reset {{ v = {payload} }}"),
    "stimulus": lambda payload: tiny_model(f"region R {{ a = LIF[1] }}\nstimulus R.a {{ I_ext += {payload} }}"),
}


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_python_in_a_value_is_a_model_error_at_the_payload(payload: str, place: str, tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    written, kind = PAYLOADS[payload]
    written = written.format(sentinel=sentinel)
    text = PLACES[place](written)
    error = error_of(text, tmp_path, kind)
    line = next(number for number, content in enumerate(text.splitlines(), start=1) if written in content)
    start = text.splitlines()[line - 1].index(written) + 1
    assert error.span.line == line and start <= error.span.column < start + len(written), str(error)
    assert not sentinel.exists()


DUNDER_MODEL = """\
simulation { dt = 0.1 ms  duration = 2 ms }
neuron __class__ { parameters { tau = 1 ms } state { v = 0 mV } equations { dv/dt = (1 mV - v) / tau }
                   spike when v > 0.5 mV  reset { v = 0 mV } }
synapse __reduce__ { state { w = 0.1 mV }  on pre { v += w } }
region __dict__ { __init__ = __class__[3] }
connect __dict__ -> __dict__ with __reduce__ { p = 1 }
record spikes of __dict__
record v of __dict__.__init__
"""


def test_dunder_names_are_names_like_any_other() -> None:
    """Names are keys of the model's own tables, never looked up in Python: a model, a synapse,
    a region and a population named `__class__`, `__reduce__`, `__dict__` and `__init__` run."""
    results = brainsim.loads(DUNDER_MODEL).compile("numpy").run()
    assert results.spike_counts["__dict__.__init__"].sum() > 0
    assert results.traces[("__dict__.__init__", "v")].values.shape == (20, 3)


def test_a_dunder_variable_is_refused_as_a_reserved_name(tmp_path: Path) -> None:
    error = error_of(DUNDER_MODEL.replace("tau = 1 ms", "__globals__ = 1 ms  tau = 1 ms"), tmp_path)
    assert error.message.startswith("`__globals__` starts with `_`, and names starting with `_` are reserved")
    assert (error.span.line, error.span.column) == (2, DUNDER_MODEL.splitlines()[1].index("tau") + 1)


def _calls(tree: python_ast.AST):
    """Every call in `tree`, with the name it calls (`eval` for `eval(...)` and `builtins.eval(...)`)."""
    for node in python_ast.walk(tree):
        if isinstance(node, python_ast.Call):
            function = node.func
            name = function.id if isinstance(function, python_ast.Name) else getattr(function, "attr", None)
            yield node, name


def _imported_modules(tree: python_ast.AST) -> set[str]:
    """The top-level names of the modules `tree` imports."""
    modules = set()
    for node in python_ast.walk(tree):
        match node:
            case python_ast.Import(names=names):
                modules |= {alias.name.split(".")[0] for alias in names}
            case python_ast.ImportFrom(module=str(module), level=0):
                modules.add(module.split(".")[0])
    return modules


EVALUATING = {"eval", "exec", "__import__"}
UNPICKLING = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}


def test_no_module_of_brainsim_evaluates_text_or_unpickles() -> None:
    """The source itself: no eval, exec, compile or __import__ call and no pickle module
    anywhere, so no text of a model can become Python; modules are imported by name only in
    `brainsim.extras` (the optional libraries, named in its code)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = python_ast.parse(path.read_text(encoding="utf-8"))
        for node, name in _calls(tree):
            builtin_compile = name == "compile" and isinstance(node.func, python_ast.Name)  # not re.compile
            assert name not in EVALUATING and not builtin_compile, f"{path}:{node.lineno} calls {name}"
            assert name != "import_module" or path.name == "extras.py", f"{path}:{node.lineno} imports by name"
        assert not _imported_modules(tree) & UNPICKLING, path


def test_every_npz_is_loaded_without_pickles() -> None:
    """Each `np.load` in brainsim passes allow_pickle=False (a pickle in a data file runs code)."""
    loads = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node, name in _calls(python_ast.parse(path.read_text(encoding="utf-8"))):
            if name == "load" and isinstance(node.func, python_ast.Attribute) and \
                    getattr(node.func.value, "id", None) in ("np", "numpy"):
                keywords = {k.arg: k.value for k in node.keywords}
                assert isinstance(keywords.get("allow_pickle"), python_ast.Constant), f"{path}:{node.lineno}"
                assert keywords["allow_pickle"].value is False, f"{path}:{node.lineno}"
                loads.append(path.name)
    assert {"files.py", "npz.py"} <= set(loads)


class _Trap:
    """Unpickling this would create the file `sentinel` (what a hostile pickle does)."""

    def __init__(self, sentinel: Path):
        self.sentinel = sentinel

    def __reduce__(self):
        return (open, (str(self.sentinel), "w"))


def test_a_pickle_in_a_data_file_is_refused_and_not_run(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    np.savez(tmp_path / "params.npz", tau=np.array([_Trap(sentinel)], dtype=object))
    text = tiny_model('region R { a = LIF[1] { tau = from_file("params.npz", column = "tau") } }')
    error = error_of(text, tmp_path, InvalidValueError)
    assert "cannot read params.npz" in error.message and "pickle" in error.message
    assert not sentinel.exists()


# --------------------------------------------------------------------------- nothing outside the folders is read


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tmp_path/model` (the model's folder, the working folder) and, beside it, `outside`
    with a model file and a data file that must stay out of reach."""
    model, outside = tmp_path / "model", tmp_path / "outside"
    model.mkdir()
    outside.mkdir()
    (outside / "secret.brain").write_text("region Secret { s = LIF[1] }\n")
    (outside / "secret.csv").write_text("tau [ms]\n12\n")
    monkeypatch.chdir(model)
    return model


def _import(name: str) -> str:
    return f'import "{name}"\n' + tiny_model("region R { a = LIF[1] }")


OUTSIDE_IMPORTS = {
    "parent folders": "../outside/secret.brain",
    "deep parent folders": "../../../../../../../../" + "etc/passwd",
    "an absolute path": "/etc/passwd",
    "an absolute path to an existing model": "{outside}/secret.brain",
    "a symbolic link to a file outside": "link.brain",
    "a file in a linked folder outside": "linked/secret.brain",
    "a missing file outside": "../outside/missing.brain",
}


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("case", OUTSIDE_IMPORTS)
def test_an_import_that_leads_outside_the_folders_is_refused_at_its_name(case: str, world: Path) -> None:
    outside = world.parent / "outside"
    (world / "link.brain").symlink_to(outside / "secret.brain")
    (world / "linked").symlink_to(outside, target_is_directory=True)
    name = OUTSIDE_IMPORTS[case].format(outside=outside)
    error = error_of(_import(name), world, InvalidValueError)
    assert f'cannot import "{name}": it is outside the model\'s folder' in error.message
    assert (error.span.line, error.span.column) == (1, 8)  # the file name, not the file's content


def test_whether_a_file_outside_exists_is_not_told(world: Path) -> None:
    """A file outside is refused before it is looked for: the error is the same whether it exists."""
    present = error_of(_import("../outside/secret.brain"), world, InvalidValueError)
    missing = error_of(_import("../outside/nothing.brain"), world, InvalidValueError)
    assert present.message.replace("secret", "nothing") == missing.message


def test_a_symbolic_link_that_stays_inside_is_followed(world: Path) -> None:
    (world / "lib").mkdir()
    (world / "lib" / "cells.brain").write_text("region Cells { c = LIF[2] }\n")
    (world / "cells.brain").symlink_to(world / "lib" / "cells.brain")
    (world / "evil.brain").write_text(_import("cells.brain"))
    assert "Cells.c" in [p.name for p in brainsim.load(world / "evil.brain").network.populations]


def test_an_include_folder_lets_the_model_reach_it_and_nothing_more(world: Path) -> None:
    outside = world.parent / "outside"
    (world / "evil.brain").write_text(_import("secret.brain"))
    model = brainsim.load(world / "evil.brain", include=[outside])
    assert "Secret.s" in [p.name for p in model.network.populations]
    (world / "evil.brain").write_text(_import("../../etc/passwd"))
    with pytest.raises(InvalidValueError, match="outside the model's folder"):
        brainsim.load(world / "evil.brain", include=[outside])


# Each construct that reads a data file, with the name in it.
DATA_FILES = {
    "from_file": lambda name: tiny_model(f'region R {{ a = LIF[1] {{ tau = from_file("{name}", column = "tau") }} }}'),
    "edges": lambda name: tiny_model(f'region R {{ a = LIF[1] }}\nsynapse S {{ state {{ w = 1 nA }} on pre {{ I_ext += w }} }}\n'
                                     f'connect R.a -> R.a with S {{ edges = "{name}" }}'),
    "positions": lambda name: tiny_model(f'region R {{ a = LIF[1] at from_file("{name}") }}'),
    "current": lambda name: tiny_model(f'region R {{ a = LIF[1] }}\nstimulus R.a {{ I_ext += from_file("{name}", interpolation = linear) }}'),
}
OUTSIDE_DATA = {
    "parent folders": "../outside/secret.csv",
    "an absolute path": "{outside}/secret.csv",
    "a system file": "/etc/passwd",
    "a symbolic link to a file outside": "link.csv",
    "a file in a linked folder outside": "linked/secret.csv",
}


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("case", OUTSIDE_DATA)
@pytest.mark.parametrize("construct", DATA_FILES)
def test_a_data_file_that_leads_outside_the_folders_is_refused_at_its_name(construct: str, case: str, world: Path) -> None:
    outside = world.parent / "outside"
    (world / "link.csv").symlink_to(outside / "secret.csv")
    (world / "linked").symlink_to(outside, target_is_directory=True)
    name = OUTSIDE_DATA[case].format(outside=outside)
    text = DATA_FILES[construct](name)
    error = error_of(text, world, InvalidValueError)
    assert f'cannot read "{name}": it is outside the folders the model may read from' in error.message
    line = text.splitlines()[error.span.line - 1]
    assert line[error.span.column - 1:].startswith(f'"{name}"')


def test_a_data_file_in_an_include_folder_or_linked_from_inside_is_read(world: Path) -> None:
    outside = world.parent / "outside"
    (world / "evil.brain").write_text(DATA_FILES["from_file"]("../outside/secret.csv"))
    model = brainsim.load(world / "evil.brain", include=[outside])
    assert model.network.populations[0].model.parameters[0].value.values == pytest.approx((0.012,))
    (world / "data").mkdir()
    (world / "data" / "tau.csv").write_text("tau [ms]\n7\n")
    (world / "tau.csv").symlink_to(world / "data" / "tau.csv")
    (world / "evil.brain").write_text(DATA_FILES["from_file"]("tau.csv"))
    assert brainsim.load(world / "evil.brain").network.populations[0].model.parameters[0].value.values == pytest.approx((0.007,))


def test_a_new_value_from_python_may_not_name_a_file_outside_either(world: Path) -> None:
    (world / "evil.brain").write_text(tiny_model("region R { a = LIF[1] }"))
    model = brainsim.load(world / "evil.brain")
    with pytest.raises(InvalidValueError, match="outside the folders"):
        model.with_values({"R.a.tau": 'from_file("../outside/secret.csv", column = "tau")'})


def test_model_text_reads_only_below_the_working_folder(world: Path) -> None:
    with pytest.raises(InvalidValueError, match="outside the folders"):
        brainsim.loads(DATA_FILES["from_file"]("../outside/secret.csv"))


# --------------------------------------------------------------------------- nothing raw reaches the terminal

ESC = "\x1b"
ESCAPES = {
    "ANSI colours in a comment": f"# {ESC}[31mred{ESC}[0m",
    "clearing the screen from a comment": f"# {ESC}[2J{ESC}[H",
    "a carriage return that overwrites the line": "# fine\rforged",
    "an operating system command (window title)": f"# {ESC}]0;owned\x07",
    "a bidirectional override (Trojan Source)": "# \u202eevil\u202c",
    "a bell and a backspace": "# \x07\x08",
}


@pytest.mark.parametrize("escape", ESCAPES)
def test_escapes_in_a_comment_on_the_line_of_an_error_are_shown_visibly(escape: str, tmp_path: Path) -> None:
    text = tiny_model("region R { a = LIF[1] { tau = zz } } " + ESCAPES[escape])
    error = error_of(text, tmp_path, UnknownNameError)
    assert "tau = zz" in str(error) and ("\\x" in str(error) or "\\u" in str(error))


@pytest.mark.parametrize("escape", ESCAPES)
def test_escapes_in_a_file_name_are_shown_visibly(escape: str, tmp_path: Path) -> None:
    control = ESCAPES[escape][2:]
    error = error_of(_import(f"{control}.brain"), tmp_path, UnknownNameError)
    assert "cannot import" in str(error)


def test_an_escape_outside_a_comment_is_a_syntax_error_that_names_it(tmp_path: Path) -> None:
    text = tiny_model(f"region R {{ a = LIF[1] }} {ESC}[2J")
    error = error_of(text, tmp_path, ParseError)
    assert error.message.startswith("unexpected control character U+001B")
    assert (error.span.line, error.span.column) == (10, text.splitlines()[9].index(ESC) + 1)
    assert "\\x1b[2J" in str(error)


def test_escapes_in_a_data_file_are_shown_visibly(tmp_path: Path) -> None:
    (tmp_path / "params.csv").write_text(f"tau [ms]\n{ESC}[2J\n")
    error = error_of(tiny_model('region R { a = LIF[1] { tau = from_file("params.csv", column = "tau") } }'),
                     tmp_path, InvalidValueError)
    assert "\\x1b[2J" in str(error)


@pytest.mark.parametrize("escape", ESCAPES)
def test_the_command_line_prints_escapes_visibly_and_no_traceback(escape: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "evil.brain"
    path.write_text(tiny_model("region R { a = LIF[1] { tau = zz } } " + ESCAPES[escape]))
    assert cli.main(["run", str(path)]) == cli.EXIT_USER_ERROR
    captured = capsys.readouterr()
    assert_printable(captured.out + captured.err)
    assert "Traceback" not in captured.err and "tau = zz" in captured.err


def test_a_model_file_name_with_escapes_is_shown_visibly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A file name from a folder of submissions is as untrusted as the file's text."""
    path = tmp_path / f"{ESC}[2Jevil.brain"
    path.write_text(tiny_model("region R { a = LIF[1] { tau = zz } }"))
    assert cli.main(["run", str(path)]) == cli.EXIT_USER_ERROR
    assert_printable(capsys.readouterr().err)
    assert cli.main(["run", str(tmp_path / f"{ESC}[2Jmissing.brain")]) == cli.EXIT_USER_ERROR
    assert_printable(capsys.readouterr().err)
    path.write_text(tiny_model("region R { a = LIF[1] }\nrecord v of R.a", duration="1 ms"))
    for command in (["run", str(path), "--output", str(tmp_path / f"{ESC}]0;x\x07.npz")], ["info", str(path), "--ir"]):
        assert cli.main(command) == cli.EXIT_OK
        captured = capsys.readouterr()
        assert "\\x1b[2Jevil.brain" in captured.out
        assert_printable(captured.out + captured.err)


def test_a_model_reached_through_a_link_reads_beside_the_link_and_the_file(tmp_path: Path) -> None:
    """The main file's folder is the one it is named in, and the one a link to it leads to."""
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "real" / "model.brain").write_text(DATA_FILES["from_file"]("tau.csv"))
    (tmp_path / "linked" / "model.brain").symlink_to(tmp_path / "real" / "model.brain")
    (tmp_path / "linked" / "tau.csv").write_text("tau [ms]\n3\n")
    model = brainsim.load(tmp_path / "linked" / "model.brain")
    assert model.network.populations[0].model.parameters[0].value.values == pytest.approx((0.003,))
