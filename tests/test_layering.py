"""Data flows one way (text -> AST -> IR -> backend): the layers never import each other backwards."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "brainsim"

# module prefix -> prefixes it must not import
FORBIDDEN = {
    "brainsim.dsl": ("brainsim.backends", "brainsim.integrators", "brainsim.network", "brainsim.results",
                     "brainsim.model", "brainsim.cli"),
    "brainsim.backends": ("brainsim.dsl", "brainsim.model", "brainsim.cli"),
    "brainsim.integrators": ("brainsim.dsl", "brainsim.backends", "brainsim.model", "brainsim.cli"),
    "brainsim.network": ("brainsim.dsl", "brainsim.backends", "brainsim.model", "brainsim.cli"),
    "brainsim.ir": ("brainsim.dsl", "brainsim.backends", "brainsim.integrators", "brainsim.network"),
    "brainsim.errors": ("brainsim.",),
    "brainsim.units": ("brainsim.dsl", "brainsim.backends", "brainsim.ir"),
    "brainsim.export": ("brainsim.dsl", "brainsim.backends", "brainsim.network", "brainsim.model", "brainsim.cli"),
    "brainsim.sonata": ("brainsim.backends", "brainsim.cli"),  # it writes a model and loads it, no more
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_no_backward_imports(path):
    module = _module_name(path)
    for owner, forbidden in FORBIDDEN.items():
        if module == owner or module.startswith(owner + "."):
            bad = {name for name in _imports(path) for prefix in forbidden if name.startswith(prefix)}
            assert not bad, f"{module} imports {sorted(bad)}"
