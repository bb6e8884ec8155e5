"""Imports: `import "cells.brain"` and `import lif, izhikevich from std`.

`resolve_imports` reads every file a model imports, directly or through other
files, and merges their statements into one `ast.Model`: an imported file
contributes everything it declares (neuron and synapse models, derived models,
regions, and its `connect`, `stimulus` and `record` statements) but may not have
a `simulation` block. A file imported twice (along two paths) counts once. The
imported statements keep the spans of their own file, so a mistake in one is
shown at its own line; `note_chain` adds how the file was reached.

A file path is relative to the importing file's folder, then to each include
folder in turn; the file found must lie inside the allowed folders
(`brainsim.dsl.folders`: the main model's folder tree, the include folders', the
standard library's). `from std` names modules of `brainsim.std`. A chain of
imports is at most `MAX_IMPORT_DEPTH` files long, and a file that imports itself,
directly or through others, is an error naming the cycle.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from brainsim import std
from brainsim.dsl import ast
from brainsim.dsl.folders import is_file, lies_within
from brainsim.dsl.limits import check_import_depth
from brainsim.dsl.parser import parse
from brainsim.dsl.reading import read_model
from brainsim.errors import (
    BrainsimError,
    DuplicateNameError,
    InvalidValueError,
    SourceSpan,
    UnknownNameError,
    closest,
    did_you_mean,
)

LIBRARIES = ("std",)


def resolve_imports(
    model: ast.Model, path: Path, include: Sequence[Path], folders: tuple[Path, ...]
) -> tuple[ast.Model, dict[str, str]]:
    """The main `model` with the statements of every file it imports merged in.

    Args:
        model: the main file, parsed.
        path: the main file's path (need not exist for model text).
        include: more folders to look for imported files in (after the importing file's folder).
        folders: the folders imported files must lie in (`brainsim.dsl.folders.allowed_folders`).
    Returns:
        The merged model (imported statements first, in import order), and for
        each imported file's name the chain that imported it, for `note_chain`.
    Raises:
        UnknownNameError: a missing file or an unknown library module.
        InvalidValueError: an import cycle, or a file outside the allowed folders.
        LimitError: a chain of imports longer than `MAX_IMPORT_DEPTH`, or an imported file too large.
        DuplicateNameError: two files declare the same model or region.
        BrainsimError: an imported file cannot be read or is wrong.
    """
    if not model.imports:
        return model, {}
    path = Path(path).resolve()
    loader = _Loader(folders, tuple(Path(f) for f in include))
    loader.visit(model, path, (model.filename,))
    return _merge(loader.files, loader.chains), loader.chains


def note_chain(error: BrainsimError, chains: dict[str, str]) -> BrainsimError:
    """`error`, with how its file was imported added to its hint when it is in an imported file."""
    if error.span is not None and error.span.file in chains:
        note = f"`{error.span.file}` is imported: {chains[error.span.file]}"
        error.hint = f"{error.hint}; {note}" if error.hint else note
    return error


@dataclass
class _Loader:
    """Walks the imports depth first; `files` ends in dependency order, each file once."""

    roots: tuple[Path, ...]
    include: tuple[Path, ...]
    files: list[ast.Model] = field(default_factory=list)
    chains: dict[str, str] = field(default_factory=dict)
    _done: set[Path] = field(default_factory=set)

    def visit(self, model: ast.Model, path: Path, chain: tuple[str, ...], stack: tuple[Path, ...] = ()) -> None:
        stack = (*stack, path)
        for statement in model.imports:
            for target, span in self._targets(statement, path.parent, chain):
                shown = (*chain, _display(target))
                if target in stack:
                    raise InvalidValueError(f"the imports form a cycle: {_imports(shown)}", span,
                                            "a file may not import itself, directly or through the files it imports")
                if target in self._done:
                    continue
                check_import_depth(shown, span)
                self._done.add(target)
                self.chains[_display(target)] = _imports(shown)
                self.visit(self._parse(target, span, shown), target, shown, stack)
        self.files.append(model)

    def _targets(self, statement: ast.Import | ast.ImportLibrary, folder: Path, chain: tuple[str, ...]):
        """The files one import statement names, each with the span to blame."""
        match statement:
            case ast.Import(path=path):
                return [(self._file(path, folder, chain), path.span)]
            case ast.ImportLibrary(modules=modules, library=library):
                _check_library(library, chain)
                return [(_module(module, chain), module.span) for module in modules]
        raise AssertionError(f"unknown import {statement!r}")

    def _file(self, path: ast.Text, folder: Path, chain: tuple[str, ...]) -> Path:
        """The file an import names: the first of the importing file's folder and the include
        folders that holds it, among the places inside the allowed folders.

        Rejects::

            import "cels.brain"           # no such file (did you mean `cells.brain`?)
            import "../shared.brain"      # outside the model's folder, and no include path
            import "/etc/passwd"          # outside, written as an absolute path
            import "link.brain"           # a symbolic link to a file outside the folders
        """
        written = Path(path.value)
        places = [base / written for base in (folder, *self.include)]
        allowed = [place for place in places if lies_within(place, self.roots)]
        found = next((place for place in allowed if is_file(place)), None)
        if found is not None:
            return found.resolve()
        if not allowed:
            raise InvalidValueError(
                f'cannot import "{path.value}": it is outside the model\'s folder ({_imports((*chain, path.value))})',
                path.span,
                f"pass its folder as an include path (`--include {places[0].resolve().parent}`, or `include=` in Python)",
            )
        raise UnknownNameError(
            f'cannot import "{path.value}": there is no such file ({_imports((*chain, path.value))})',
            path.span,
            _files_hint(folder / written),
        )

    def _parse(self, path: Path, span: SourceSpan, chain: tuple[str, ...]) -> ast.Model:
        shown = _display(path)
        try:
            return parse(read_model(path, shown), shown, imported=True, folders=self.roots)
        except BrainsimError as error:
            if error.span is None:  # the file could not be read: the import is to blame
                raise type(error)(f"{error.message} ({_imports(chain)})", span, error.hint) from None
            raise note_chain(error, {shown: _imports(chain)}) from None


def _files_hint(missing: Path) -> str | None:
    """The file of the missing one's folder with the closest name (the `.brain` ending aside), or all of them."""
    files = sorted(p.name for p in missing.parent.glob("*.brain")) if missing.parent.is_dir() else []
    stems = {Path(name).stem: name for name in files}
    close = closest(missing.stem, stems)
    if close is not None:
        return f"did you mean `{stems[close]}`?"
    return f"the .brain files there are {', '.join(files)}" if files else None


def _check_library(library: ast.Ident, chain: tuple[str, ...]) -> None:
    """Rejects::

        import lif from stdlib
    """
    if library.name not in LIBRARIES:
        raise UnknownNameError(
            f"unknown library `{library.name}` (import chain: {_imports(chain)}); the library is `std`",
            library.span,
            did_you_mean(library.name, LIBRARIES),
        )


def _module(module: ast.Ident, chain: tuple[str, ...]) -> Path:
    """Rejects::

        import lfi from std           # no such module (did you mean `lif`?)
    """
    found = std.locate(module.name)
    if found is None:
        names = std.modules()
        raise UnknownNameError(
            f"the standard library has no module `{module.name}` ({_imports((*chain, module.name))}); "
            f"its modules are {', '.join(names) or 'none yet'}",
            module.span,
            did_you_mean(module.name, names),
        )
    return found.resolve()


def _merge(files: list[ast.Model], chains: dict[str, str]) -> ast.Model:
    """One model of every file's statements; the last file is the main one.

    Rejects (in two files)::

        neuron LIF { ... }            # a.brain
        neuron LIF { ... }            # b.brain, imported by a.brain
    """
    owners: dict[tuple[str, str], ast.Ident] = {}
    for file in files:
        named = [("model", d.name) for d in (*file.neurons, *file.derived_neurons, *file.synapses)]
        named += [("region", r.name) for r in file.regions]
        for kind, ident in named:
            first = owners.get((kind, ident.name))
            if first is not None and first.span.file != ident.span.file:
                raise DuplicateNameError(
                    f"{kind} `{ident.name}` is declared in two files: at {first.span} "
                    f"({chains.get(first.span.file, first.span.file)}) and here",
                    ident.span,
                    "rename one of them, or import only one of the files",
                )
            owners.setdefault((kind, ident.name), ident)
    main = files[-1]

    def every(kind: str) -> tuple:
        return tuple(statement for file in files for statement in getattr(file, kind))

    return ast.Model(
        simulation=main.simulation,
        neurons=every("neurons"),
        synapses=every("synapses"),
        regions=every("regions"),
        connects=every("connects"),
        stimuli=every("stimuli"),
        records=every("records"),
        filename=main.filename,
        derived_neurons=every("derived_neurons"),
    )


def _imports(chain: tuple[str, ...]) -> str:
    return " imports ".join(chain)


def _display(path: Path) -> str:
    """A file's name in messages: relative to the working folder when it is below it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative
