"""The standard library: `.brain` modules shipped with brainsim, imported by name.

    import lif, izhikevich from std

Each module is a file `<name>.brain` in this folder (package data). A module is
an ordinary imported file: it declares models (and may import other modules),
and it has no `simulation` block. Names starting with `_` are not modules.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent
"""Where the modules are; read on every call, so a test can point it elsewhere."""


def modules() -> tuple[str, ...]:
    """The names of the standard library's modules, sorted."""
    return tuple(sorted(p.stem for p in FOLDER.glob("*.brain") if not p.stem.startswith("_")))


def locate(name: str) -> Path | None:
    """The file of module `name`, or None if the library has no such module."""
    return FOLDER / f"{name}.brain" if name in modules() else None
