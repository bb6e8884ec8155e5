"""The `.brain` language front end: text -> AST (`parse`) -> IR (`lower`).

    >>> network = compile_text(open("models/cuba.brain").read(), "cuba.brain")

Nothing from a model's text is ever evaluated as Python: the parser builds
dataclasses, and lowering folds constants with its own small evaluator.
"""

from collections.abc import Sequence
from pathlib import Path

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.imports import note_chain, resolve_imports
from brainsim.dsl.lower import lower
from brainsim.dsl.parser import parse
from brainsim.errors import BrainsimError

__all__ = ["ast", "compile_text", "lower", "parse"]


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
    model, chains = resolve_imports(parse(text, filename), Path(filename), include)
    try:
        return lower(model)
    except BrainsimError as error:
        raise note_chain(error, chains) from None
