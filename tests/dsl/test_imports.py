"""`import "file.brain"` and `import ... from std`: what an imported file contributes, and every import error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import brainsim
import brainsim.std
from brainsim import cli
from brainsim.errors import BrainsimError, DuplicateNameError, InvalidValueError, ParseError, UnitError, UnknownNameError
from tests.backends.identity import assert_identical

HERE = Path(__file__).parent / "imports"
SIMULATION = "simulation { duration = 5 ms }\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture files in a temporary folder, which is also the working folder."""
    copy = tmp_path / "models"
    shutil.copytree(HERE, copy)
    monkeypatch.chdir(copy)
    return copy


@pytest.fixture
def toy_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard library replaced by tests/dsl/imports/std, whose one module is `toy`."""
    monkeypatch.setattr(brainsim.std, "FOLDER", HERE / "std")


def load_text(folder: Path, text: str, **options) -> brainsim.Model:
    (folder / "main_test.brain").write_text(text, encoding="utf-8")
    return brainsim.load("main_test.brain", **options)  # the working folder is `folder`


def error_of(folder: Path, text: str, kind: type = BrainsimError, **options) -> BrainsimError:
    with pytest.raises(kind) as caught:
        load_text(folder, text, **options)
    return caught.value


# --------------------------------------------------------------------------- what an import contributes


def test_an_imported_file_contributes_its_models_regions_and_wiring_and_runs_on_both_backends() -> None:
    model = brainsim.load(HERE / "main.brain")
    network = model.network
    assert [p.name for p in network.populations] == ["Circuit.exc", "Circuit.inh", "Drive.noise"]
    assert [p.name for p in network.projections] == [
        "Circuit.exc->Circuit.exc", "Circuit.exc->Circuit.inh", "Circuit.inh->Circuit.exc",
        "Drive.noise->Circuit.exc", "Drive.noise->Circuit.inh",
    ]
    # spans point into the file each statement was written in
    assert Path(network.projections[0].span.file).name == "circuit.brain"
    assert Path(network.populations[0].model.span.file).name == "cells.brain"
    assert Path(network.projections[-1].span.file).name == "main.brain"
    numpy, jax = (model.compile(backend=b).run() for b in ("numpy", "jax"))
    assert_identical(numpy, jax)
    assert numpy.spike_counts["Circuit.inh"].sum() > 0


def test_a_file_imported_along_two_paths_is_read_once(folder: Path) -> None:
    # main.brain imports cells.brain directly and through circuit.brain: no clash
    load_text(folder, 'import "cells.brain"\nimport "circuit.brain"\nimport "cells.brain"\n' + SIMULATION)


def test_an_import_inside_an_imported_file_is_relative_to_that_file(folder: Path) -> None:
    model = load_text(folder, 'import "sub/relative.brain"\n' + SIMULATION + "region R { a = Leaf[2] }\n")
    assert model.network.populations[0].model.name == "Leaf"


def test_an_include_folder_is_searched_and_may_lie_outside_the_tree(folder: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "extra.brain").write_text((folder / "sub" / "leaf.brain").read_text())
    text = 'import "extra.brain"\n' + SIMULATION + "region R { a = Leaf[1] }\n"
    error = error_of(folder, text, UnknownNameError)
    assert 'cannot import "extra.brain": there is no such file' in error.message
    assert load_text(folder, text, include=[shared]).network.populations[0].model.name == "Leaf"
    # the same file by a path outside the tree: refused without the include path, allowed with it
    outside = 'import "../shared/extra.brain"\n' + SIMULATION
    assert "outside the model's folder" in error_of(folder, outside, InvalidValueError).message
    load_text(folder, outside, include=[shared])


def test_the_cli_passes_include_folders(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "extra.brain").write_text((folder / "sub" / "leaf.brain").read_text())
    (folder / "main_test.brain").write_text('import "extra.brain"\n' + SIMULATION + "region R { a = Leaf[1] }\n")
    assert cli.main(["info", "main_test.brain"]) == cli.EXIT_USER_ERROR
    assert "there is no such file" in capsys.readouterr().err
    assert cli.main(["info", "main_test.brain", "--include", str(shared)]) == cli.EXIT_OK
    assert cli.main(["run", "main_test.brain", "--include", "../nowhere", "--include", str(shared)]) == cli.EXIT_OK


# --------------------------------------------------------------------------- errors, each with the chain


def test_a_cycle_shows_the_chain_at_the_import_that_closes_it(folder: Path) -> None:
    error = error_of(folder, 'import "cycle_a.brain"\n' + SIMULATION, InvalidValueError)
    assert error.message == ("the imports form a cycle: main_test.brain imports cycle_a.brain imports "
                             "cycle_b.brain imports cycle_a.brain")
    assert (error.span.file, error.span.line, error.span.column) == ("cycle_b.brain", 1, 8)


def test_a_file_that_imports_the_main_model_is_a_cycle(folder: Path) -> None:
    (folder / "back.brain").write_text('import "main_test.brain"\n')
    error = error_of(folder, 'import "back.brain"\n' + SIMULATION, InvalidValueError)
    assert error.message.endswith("main_test.brain imports back.brain imports main_test.brain")


def test_a_missing_file_suggests_the_files_in_its_folder(folder: Path) -> None:
    error = error_of(folder, 'import "circut.brain"\n' + SIMULATION, UnknownNameError)
    assert error.message == ('cannot import "circut.brain": there is no such file '
                             "(main_test.brain imports circut.brain)")
    assert error.hint == "did you mean `circuit.brain`?"
    assert (error.span.line, error.span.column) == (1, 8)
    error = error_of(folder, 'import "sub/other.brain"\n' + SIMULATION, UnknownNameError)
    assert error.hint == "the .brain files there are leaf.brain, relative.brain"


def test_a_missing_file_deep_in_the_chain_shows_the_whole_chain(folder: Path) -> None:
    (folder / "sub" / "leaf.brain").write_text('import "gone.brain"\n')
    error = error_of(folder, 'import "sub/relative.brain"\n' + SIMULATION, UnknownNameError)
    assert ("(main_test.brain imports sub/relative.brain imports sub/leaf.brain imports gone.brain)"
            in error.message)
    assert error.span.file == os.path.join("sub", "leaf.brain")


def test_a_path_outside_the_tree_is_refused(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.brain").write_text("")
    error = error_of(folder, 'import "../elsewhere.brain"\n' + SIMULATION, InvalidValueError)
    assert "it is outside the model's folder (main_test.brain imports ../elsewhere.brain)" in error.message
    assert f"--include {tmp_path.resolve()}" in error.hint


def test_a_name_clash_between_two_files_shows_both_positions(folder: Path) -> None:
    error = error_of(folder, 'import "clash.brain"\nimport "cells.brain"\n' + SIMULATION, DuplicateNameError)
    assert error.message == ("model `LIF` is declared in two files: at clash.brain:2:8 "
                             "(main_test.brain imports clash.brain) and here")
    assert str(error.span) == "cells.brain:3:8"
    error = error_of(folder, 'import "cells.brain"\n' + SIMULATION + "synapse Excite { on pre { v += 1 mV } }\n",
                     DuplicateNameError)
    assert str(error.span) == "main_test.brain:3:9" and "at cells.brain:12:20" in error.message
    error = error_of(folder, 'import "circuit.brain"\n' + SIMULATION + "region Circuit { a = LIF[1] }\n",
                     DuplicateNameError)
    assert error.message.startswith("region `Circuit` is declared in two files: at circuit.brain:4:8")


def test_a_mistake_in_an_imported_file_is_shown_at_its_own_line_with_the_chain(folder: Path) -> None:
    error = error_of(folder, 'import "broken.brain"\n' + SIMULATION, UnitError)
    assert str(error.span) == "broken.brain:5:25"
    assert "equations { dv/dt = v }" in str(error)
    assert error.hint.endswith("`broken.brain` is imported: main_test.brain imports broken.brain")


def test_an_imported_file_may_not_have_a_simulation_block(folder: Path) -> None:
    error = error_of(folder, 'import "with_simulation.brain"\n' + SIMULATION, ParseError)
    assert "an imported file may not have a `simulation` block" in error.message
    assert str(error.span) == "with_simulation.brain:1:1"
    assert "main_test.brain imports with_simulation.brain" in error.hint


def test_imports_of_model_text_are_relative_to_its_file_name() -> None:
    text = 'import "cells.brain"\n' + SIMULATION + "region R { a = LIF[1] }\n"
    assert brainsim.loads(text, str(HERE / "text.brain")).network.populations[0].model.name == "LIF"


# --------------------------------------------------------------------------- the standard library


def test_std_modules_are_listed_and_located(toy_library: None) -> None:
    assert brainsim.std.modules() == ("toy",)  # `_hidden.brain` is not a module
    assert brainsim.std.locate("toy") == HERE / "std" / "toy.brain"
    assert brainsim.std.locate("_hidden") is None


def test_a_std_module_is_imported_by_name(toy_library: None, folder: Path) -> None:
    model = load_text(folder, "import toy from std\n" + SIMULATION + "region R { a = Toy[1]  b = FastToy[2] }\n")
    assert [p.model.name for p in model.network.populations] == ["Toy", "FastToy"]
    assert Path(model.network.populations[0].model.span.file).name == "toy.brain"


def test_an_unknown_std_module_lists_the_modules(toy_library: None, folder: Path) -> None:
    error = error_of(folder, "import toy, tyo from std\n" + SIMULATION, UnknownNameError)
    assert error.message == ("the standard library has no module `tyo` (main_test.brain imports tyo); "
                             "its modules are toy")
    assert error.hint == "did you mean `toy`?"
    assert (error.span.line, error.span.column) == (1, 13)


def test_an_unknown_library_is_an_error(folder: Path) -> None:
    error = error_of(folder, "import lif from stdlib\n" + SIMULATION, UnknownNameError)
    assert "unknown library `stdlib`" in error.message and error.hint == "did you mean `std`?"
    assert (error.span.line, error.span.column) == (1, 17)


@pytest.mark.parametrize("module", brainsim.std.modules())
def test_every_shipped_std_module_imports_and_lowers(module: str, folder: Path) -> None:
    load_text(folder, f"import {module} from std\n" + SIMULATION)


def test_the_std_modules_are_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"brainsim.std" = ["*.brain"]' in pyproject
