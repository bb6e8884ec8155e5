"""The `.brain` language front end: text -> AST (`parse`) -> IR (`lower`).

    >>> network = compile_text(Path("models/cuba.brain").read_text(), "models/cuba.brain")

Nothing from a model's text is ever evaluated as Python: the parser builds
dataclasses, and lowering folds constants with its own small evaluator.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.folders import allowed_folders
from brainsim.dsl.imports import note_chain, resolve_imports
from brainsim.dsl.lower import lower
from brainsim.dsl.parser import parse
from brainsim.errors import BrainsimError

__all__ = ["Source", "ast", "compile_text", "lower", "lower_source", "parse", "read_source"]


def compile_text(text: str, filename: str = "<string>", include: Sequence[Path] = ()) -> ir.Network:
    """Parse, check and lower model text, with the files it imports, into an `ir.Network`.

    Args:
        text: the `.brain` source.
        filename: the name shown in error messages; imports are relative to
            its folder (the working folder for `<string>`), and may not reach
            outside that folder's tree.
        include: more folders that imports may reach, searched in order after
            the importing file's folder.
    Returns:
        The network, every value in SI units.
    Raises:
        BrainsimError: a `ParseError`, `UnknownNameError`, `DuplicateNameError`,
            `UnitError`, `InvalidValueError` or `DaleError` that points at the
            mistake (in an imported file: at its line, with how it was imported).
    """
    return lower_source(read_source(text, filename, include))


def read_source(text: str, filename: str = "<string>", include: Sequence[Path] = ()) -> "Source":
    """Parse model text and resolve its imports: the syntax tree that `lower_source` lowers
    (and `brainsim.dsl.overrides.with_values` changes), with how each file was imported and
    the folders its files may be read from (`brainsim.dsl.folders`)."""
    folders = allowed_folders(Path(filename), include)
    model, chains = resolve_imports(parse(text, filename, folders=folders), Path(filename), include, folders)
    return Source(model, chains, folders)


def lower_source(source: "Source") -> ir.Network:
    """Check and lower a parsed model (`read_source`) into an `ir.Network`."""
    try:
        return lower(source.model)
    except BrainsimError as error:
        raise note_chain(error, source.chains) from None


@dataclass(frozen=True)
class Source:
    """A parsed model with its imports resolved: `model`, `chains` (how each file was imported),
    and `folders` (those its files may be read from, for new values that name files)."""

    model: ast.Model
    chains: object
    folders: tuple[Path, ...] = ()
