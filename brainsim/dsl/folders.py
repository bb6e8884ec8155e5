"""The folders a model may read files from, and the test that a file lies in one of them.

A model names other files in two ways: `import "cells.brain"`, and the data files
its values read (`from_file("params.csv", column = "tau_m")`, `edges = "w.csv"`,
a current's samples). Both may reach only into the allowed folders: the folder of
the main model file, each include folder (`--include`, `include=`) and the standard
library's, each with everything below it. A name is resolved first (relative to the
folder of the file that writes it, with `..` and symbolic links followed), and
where it leads must lie inside one of those folders; so neither
`../../etc/passwd`, nor an absolute path, nor a symbolic link that points out of
the folders reaches anything else, while a symbolic link that stays inside is
followed. A name that leads outside is refused before anything there is opened,
or even looked for (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from brainsim import std


def allowed_folders(path: Path, include: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The folders a model whose main file is `path` (which need not exist: model text is
    named `<string>`, in the working folder) may read from, resolved: the main file's
    folder (the one it is named in, and where a symbolic link to it leads), the
    `include` folders, and the standard library's."""
    path = Path(path)
    folders = (path.parent, path.resolve().parent, *include, std.FOLDER)
    return tuple(dict.fromkeys(Path(folder).resolve() for folder in folders))


def lies_within(path: Path, folders: Sequence[Path]) -> bool:
    """Whether `path`, once resolved (links followed), lies inside one of `folders` (resolved)."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder) for folder in folders)


def is_file(path: Path) -> bool:
    """Whether `path` is a file; False also for a name the system cannot look up (a part
    longer than it allows, say), which `Path.is_file` raises OSError for."""
    try:
        return path.is_file()
    except OSError:
        return False
