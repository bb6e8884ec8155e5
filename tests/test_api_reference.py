"""The API reference builds from the docstrings, without warnings, and documents the public API.

It is built by pdoc (the `docs` extra) with the command docs/index.md gives; pdoc
documents what `brainsim.__all__` lists, submodules included, so a public class
left out of it, or a docstring pdoc cannot read, shows here.
"""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).parent.parent
COMMAND = "python -m pdoc -d google brainsim -o site/api"


class _Ids(HTMLParser):
    """The `id` attributes of a page: pdoc gives each documented name one."""

    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id")


def _ids(page: Path) -> set[str]:
    parser = _Ids()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.ids


def test_docs_index_gives_the_command_this_test_runs():
    assert f"\n{COMMAND}\n" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")


def test_the_api_reference_builds_without_warnings_and_documents_the_public_classes(tmp_path):
    arguments = COMMAND.split()[1:-1] + [str(tmp_path)]  # the same command, into tmp_path
    done = subprocess.run([sys.executable, "-W", "default", *arguments], cwd=tmp_path,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", f"pdoc warned:\n{done.stderr}"

    top = _ids(tmp_path / "brainsim.html")
    assert {"Model", "Model.compile", "Simulation", "Simulation.run", "Simulation.set", "Simulation.run_batch",
            "Results", "load", "loads", "BrainsimError", "UnitError"} <= top
    assert {"Results", "SpikeTrains", "Trace", "SynapseStates", "compare_results"} <= _ids(tmp_path / "brainsim" / "results.html")
    assert {"compile_network", "Simulation"} <= _ids(tmp_path / "brainsim" / "backends.html")
    assert {"Network", "NeuronModel", "Projection"} <= _ids(tmp_path / "brainsim" / "ir.html")
    assert {"BrainSimulation", "SimulatedNeuron"} <= _ids(tmp_path / "brainsim" / "simulation.html")
    # Google-style sections are rendered as sections, not run into one paragraph.
    page = (tmp_path / "brainsim.html").read_text(encoding="utf-8")
    load = page[page.index('id="load"'):]
    assert re.search(r'<h6 id="raises">Raises:</h6>', load)
