"""Settings blocks: `name = value` declarations checked against the known names,
and the constant quantities (units only, no names) that settings take.

Shared by the `simulation` block, spike sources, `connect` and `pulses(...)`.
"""

from __future__ import annotations

import math

from brainsim.dsl import ast
from brainsim.dsl.expressions import Scope, constant_value, expect_type, lower_expression
from brainsim.errors import DuplicateNameError, UnknownNameError, did_you_mean
from brainsim.units import Dimension

NO_NAMES = Scope({})


def unique_settings(
    declarations: tuple[ast.Declaration, ...], known: tuple[str, ...], what: str
) -> dict[str, ast.Declaration]:
    """Settings by name; each must be one of `known` and appear once.

    `what` names an unknown one in the error, e.g. "simulation setting `{name}`".
    """
    settings: dict[str, ast.Declaration] = {}
    for declaration in declarations:
        name = declaration.name.name
        if name not in known:
            raise UnknownNameError(
                f"unknown {what.format(name=name)}; the known ones are {', '.join(known)}",
                declaration.name.span,
                did_you_mean(name, known),
            )
        if name in settings:
            raise DuplicateNameError(
                f"`{name}` is set twice (first on line {settings[name].span.line})", declaration.name.span
            )
        settings[name] = declaration
    return settings


def whole_steps(seconds: float, dt: float) -> bool:
    """Whether `seconds` is a whole number of steps of `dt` (to rounding). A count too
    large for a float (1e308 ms at dt = 0.1 ms) passes here: `brainsim.validate` refuses
    every time of more than 2^62 steps at its position (`times_are_countable`)."""
    steps = seconds / dt
    return not math.isfinite(steps) or abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))


def positive_steps(seconds: float, dt: float) -> bool:
    """Whether `seconds` is a whole number of steps of `dt`, at least one: 1e-320 ms is a
    whole number of 0.1 ms steps (none), but no interval or duration."""
    return whole_steps(seconds, dt) and seconds / dt >= 0.5


def constant(value: ast.Value, wanted: Dimension, what: str) -> float:
    """A constant quantity written with units only (no names), checked to be in `wanted`."""
    typed = lower_expression(value, NO_NAMES)
    expect_type(typed, wanted, f"{what} must have dimension {{wanted}}, but it is {{got}}")
    return constant_value(typed, {}, what)
