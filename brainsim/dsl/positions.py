"""Position rules of populations, `exc = LIF[100] at <rule>`: AST -> `ir.Positions`.

    at grid(10, 10, spacing = 50 um)          ir.Grid: 1 to 3 counts (x fastest) whose product
                                              is the size; optional origin_x, origin_y, origin_z
    at box(x = 1 mm, y = 1 mm, z = 0 mm)      ir.RandomBox: uniform in [0, x) x [0, y) x [0, z);
                                              a side left out is 0
    at from_file("positions.csv")             ir.Placed: columns x, y, z with length units in
                                              the header (y and z may be left out: 0)

Arguments are constants with units (no names). That a file gives one row per
neuron is `brainsim.validate`'s rule.
"""

from __future__ import annotations

import math

import numpy as np

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.files import read_table, resolve
from brainsim.dsl.initializers import METRE
from brainsim.dsl.settings import constant
from brainsim.errors import InvalidValueError, UnknownNameError, did_you_mean
from brainsim.units import DIMENSIONLESS

RULES = ("grid", "box", "from_file")
_KEYWORDS = {
    "grid": ("spacing", "origin_x", "origin_y", "origin_z"),
    "box": ("x", "y", "z"),
    "from_file": (),
}


def lower_positions(at: ast.Expr, size: int) -> ir.Positions:
    """The position rule written after `at`, for a population of `size` neurons.

    Rejects::

        exc = LIF[100] at line(100)                           # unknown rule
        exc = LIF[100] at grid(10, 5, spacing = 50 um)        # 50 positions for 100 neurons
        exc = LIF[100] at box(x = 1 mV)                       # not a length
    """
    if not isinstance(at, ast.Call) or at.function.name not in RULES:
        name = at.function.name if isinstance(at, ast.Call) else None
        raise UnknownNameError(
            f"unknown position rule{f' `{name}`' if name else ''}; the rules are {', '.join(RULES)}",
            at.function.span if isinstance(at, ast.Call) else at.span,
            did_you_mean(name, RULES) if name else "e.g. `at grid(10, 10, spacing = 50 um)`",
        )
    rule = at.function.name
    keywords = {}
    for keyword in at.keywords:
        if keyword.name.name not in _KEYWORDS[rule] or keyword.name.name in keywords:
            raise InvalidValueError(
                f"`{keyword.name.name}` is not a setting of `{rule}` here; its settings are "
                f"{', '.join(_KEYWORDS[rule]) or 'none'}",
                keyword.name.span,
                did_you_mean(keyword.name.name, _KEYWORDS[rule]),
            )
        keywords[keyword.name.name] = keyword.value
    match rule:
        case "grid":
            return _grid(at, keywords, size)
        case "box":
            if at.args:
                raise InvalidValueError("`box` takes its sides by name: `box(x = 1 mm, y = 1 mm, z = 0 mm)`", at.span)
            high = tuple(_length(keywords, axis, "box", at) for axis in "xyz")
            for axis, side in zip("xyz", high):
                if side < 0:
                    raise InvalidValueError(f"side `{axis}` of `box` must not be negative, but it is {side:g} m",
                                            keywords[axis].span)
            return ir.RandomBox((0.0, 0.0, 0.0), high, at.span)
        case "from_file":
            return _from_file(at)


def _length(keywords, name: str, rule: str, at: ast.Call) -> float:
    return constant(keywords[name], METRE, f"`{name}` of `{rule}`") if name in keywords else 0.0


def _grid(at: ast.Call, keywords, size: int) -> ir.Grid:
    if not 1 <= len(at.args) <= 3:
        raise InvalidValueError(
            f"`grid` takes 1 to 3 counts (x, y, z) and `spacing = ...`, but {len(at.args)} counts were written", at.span
        )
    counts = []
    for arg in at.args:
        count = constant(arg, DIMENSIONLESS, "a count of `grid`")
        if count < 1 or count != math.floor(count):
            raise InvalidValueError(f"a count of `grid` must be a whole number >= 1, but it is {count:g}", arg.span)
        counts.append(int(count))
    if math.prod(counts) != size:
        raise InvalidValueError(
            f"`grid({', '.join(map(str, counts))})` has {math.prod(counts)} positions, but the population has "
            f"{size} neurons",
            at.span,
        )
    if "spacing" not in keywords:
        raise InvalidValueError("`grid` needs `spacing = ...`, e.g. `grid(10, 10, spacing = 50 um)`", at.span)
    spacing = constant(keywords["spacing"], METRE, "`spacing` of `grid`")
    if not spacing > 0:
        raise InvalidValueError(f"`spacing` must be greater than 0, but it is {spacing:g} m", keywords["spacing"].span)
    origin = tuple(_length(keywords, f"origin_{axis}", "grid", at) for axis in "xyz")
    return ir.Grid(tuple(counts), spacing, origin, at.span)


def _from_file(at: ast.Call) -> ir.Placed:
    if len(at.args) != 1 or not isinstance(file := at.args[0], ast.Text):
        raise InvalidValueError('positions from a file are written `from_file("positions.csv")`', at.span)
    table = read_table(resolve(file), file.span)
    columns = [
        table.column(axis, METRE, file.span) if axis == "x" or axis in table.columns else np.zeros(table.rows)
        for axis in "xyz"
    ]
    return ir.Placed(tuple(map(tuple, np.stack(columns, axis=1).tolist())), at.span)
