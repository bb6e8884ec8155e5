"""Units of written quantities, the types of expressions, and unit hints.

`quantity_value` turns a literal such as `1.62 mV` or `9.81 m/s^2` into an SI
float and its `Dimension` (exactly, via `brainsim.units`). Every expression
has a `Type`: a `Dimension`, or `BOOLEAN` for comparisons and logic. The hint
helpers suggest the unit a user probably meant (`mv` -> `mV`, `0` -> `0 mV`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from brainsim import units
from brainsim.dsl import ast
from brainsim.errors import InvalidValueError, SourceSpan, UnitError, did_you_mean
from brainsim.units import DIMENSIONLESS, Dimension


@dataclass(frozen=True, slots=True)
class BooleanType:
    """The type of a comparison or of `and`/`or`/`not`: true or false, no unit."""

    def __str__(self) -> str:
        return "true/false"


BOOLEAN = BooleanType()
Type = Dimension | BooleanType
SECOND = units.lookup_unit("s")[1]
KELVIN = units.lookup_unit("K")[1]
VOLT = units.lookup_unit("V")[1]

# One unit symbol of a (compound) unit text: operator, symbol, exponent.
_UNIT_FACTOR = re.compile(r"([*/]?)([A-Za-z_][A-Za-z0-9_]*)(?:\^(-?[0-9]+))?")
# The unit suggested for a dimension, in a hint: the one a neuroscientist writes.
_PREFERRED = ("mV", "ms", "nA", "nS", "pF", "Mohm", "mM", "Hz")
_PREFIXES = ("", "da", "Y", "Z", "E", "P", "T", "G", "M", "k", "h", "d", "c", "m", "u", "n", "p", "f", "a", "z", "y")


def quantity_value(quantity: ast.Quantity, names: Container[str] = frozenset()) -> tuple[float, Dimension]:
    """The SI value and dimension of a written quantity.

    `names` are the model names in scope, only to explain `2 tau` (a name used
    as a unit). Raises UnitError for an unknown unit symbol, InvalidValueError for
    a value no 64-bit float holds (`1e400 ms`, `1e99999999999999999999 ms`, `1 ms^-9999999`).
    """
    try:
        value, dimension = _exact_value(quantity, names)
    except ArithmeticError:  # decimal's Overflow or InvalidOperation: an exponent beyond any float's
        value, dimension = math.inf, DIMENSIONLESS
    if not math.isfinite(value):
        raise InvalidValueError("this number is too large for a 64-bit float", quantity.span)
    return value, dimension


def _exact_value(quantity: ast.Quantity, names: Container[str]) -> tuple[float, Dimension]:
    if quantity.unit is None:
        return units.to_si(quantity.number, None)
    factors = _unit_factors(quantity, names)
    if len(factors) == 1 and factors[0][1] == 1:
        return units.to_si(quantity.number, factors[0][0])
    value = Decimal(quantity.number)
    dimension = DIMENSIONLESS
    with localcontext() as context:
        context.prec = 60  # the single rounding that matters is the final float()
        for symbol, power in factors:
            factor, unit_dimension = units.lookup_unit(symbol)
            value *= factor**power
            dimension = dimension * unit_dimension**power
    return float(value), dimension


def _unit_factors(quantity: ast.Quantity, names: Container[str]) -> list[tuple[str, int]]:
    """The (symbol, power) factors of a quantity's unit text, each symbol checked."""
    factors = []
    for match in _UNIT_FACTOR.finditer(quantity.unit):
        operator, symbol, exponent = match.groups()
        if not units.is_unit(symbol):
            where = quantity.span
            start = quantity.unit_span.column + match.start(2)
            span = SourceSpan(where.file, where.line, start, where.line, start + len(symbol), where.text)
            raise UnitError(f"unknown unit `{symbol}`", span, unit_hint(symbol, quantity, names))
        power = int(exponent) if exponent else 1
        factors.append((symbol, -power if operator == "/" else power))
    return factors


def unit_hint(symbol: str, quantity: ast.Quantity, names: Container[str]) -> str | None:
    """A hint for an unknown unit symbol: the unit meant, or how to multiply."""
    if symbol in names:
        return f"`{symbol}` is a name, not a unit; to multiply, write `{quantity.number} * {symbol}`"
    folded = [s for s in _all_unit_symbols() if s.lower() == symbol.lower()]
    if folded:
        return f"units are case-sensitive: did you mean `{folded[0]}`?"
    return did_you_mean(symbol, units.known_unit_symbols()) or (
        "units are SI symbols with an optional prefix, e.g. ms, mV, nA, Mohm, uS, pF, Hz"
    )


def _all_unit_symbols() -> list[str]:
    """Every accepted unit symbol, the common ones first."""
    known = units.known_unit_symbols()
    prefixed = [prefix + symbol for symbol in known for prefix in _PREFIXES]
    return list(dict.fromkeys(s for s in known + prefixed if units.is_unit(s)))


def symbol_for(dimension: Dimension) -> str | None:
    """A common unit symbol with `dimension` (`mV` for volts), if there is one."""
    for symbol in (*_PREFERRED, *units.known_unit_symbols()):
        if units.is_unit(symbol) and units.lookup_unit(symbol)[1] == dimension:
            return symbol
    return None


def bare_number(expr: ast.Expr) -> str | None:
    """The text of `expr` if it is a number written without a unit (`0`, `-1.5`)."""
    match expr:
        case ast.Quantity(number=number, unit=None):
            return number
        case ast.Unary(operand=ast.Quantity(number=number, unit=None)):
            return f"-{number}"
    return None


def missing_unit_hint(expr: ast.Expr, expected: Type) -> str | None:
    """`write 0 mV`, when `expr` is a bare number where a quantity was expected."""
    number = bare_number(expr)
    if number is None or not isinstance(expected, Dimension) or expected.is_dimensionless:
        return None
    symbol = symbol_for(expected)
    unit = symbol or f"<a unit of {expected}>"
    return f"a number without a unit is dimensionless, even 0; write `{number} {unit}`"


# Units that a neuroscientist writes often, the commonest first: a unit written that
# differs from one of these only in case (`mS`, `MS` for `ms`; `MV` for `mV`) was
# probably meant as the more common one.
_COMMON = ("ms", "mV", "s", "Hz", "nA", "pA", "nS", "uS", "mS", "pF", "nF", "uF", "Mohm", "kohm", "mM", "uM", "K")


def confusable_unit_hint(quantities: Iterable[ast.Quantity]) -> str | None:
    """For a dimension mismatch: a written unit that a commoner unit differs from only in case.

    `10 mS` (millisiemens) where `10 ms` was meant gives a dimension no one reads; this
    names the unit written and the one that was probably meant.
    """
    for quantity in quantities:
        if quantity.unit is None:
            continue
        for match in _UNIT_FACTOR.finditer(quantity.unit):
            symbol = match.group(2)
            if not units.is_unit(symbol):
                continue
            rank = _COMMON.index(symbol) if symbol in _COMMON else len(_COMMON)
            likelier = [u for u in _COMMON[:rank] if u.lower() == symbol.lower()]
            if likelier:
                written = f"{quantity.number} {quantity.unit}"
                meant = f"{quantity.number} {quantity.unit.replace(symbol, likelier[0], 1)}"
                return (
                    f"`{written}` (line {quantity.span.line}) is in {units.describe_unit(symbol)}; "
                    f"units are case-sensitive: did you mean `{meant}`, in {units.describe_unit(likelier[0])}?"
                )
    return None
