"""The `.brain` language front end: text -> AST (`parse`) -> IR (`lower`).

    >>> network = compile_text(open("models/cuba.brain").read(), "cuba.brain")

Nothing from a model's text is ever evaluated as Python: the parser builds
dataclasses, and lowering folds constants with its own small evaluator.
"""

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.lower import lower
from brainsim.dsl.parser import parse

__all__ = ["ast", "compile_text", "lower", "parse"]


def compile_text(text: str, filename: str = "<string>") -> ir.Network:
    """Parse, check and lower model text into an `ir.Network`.

    Args:
        text: the `.brain` source.
        filename: the name shown in error messages.
    Returns:
        The network, every value in SI units.
    Raises:
        BrainsimError: a `ParseError`, `UnknownNameError`, `DuplicateNameError`,
            `UnitError` or `InvalidValueError` that points at the mistake.
    """
    return lower(parse(text, filename))
