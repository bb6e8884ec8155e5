"""The values a `connect` gives per pair or per synapse: probabilities, conditions,
weights (any synapse state) and delays.

A pair expression reads the names of `ir.PAIR_NAMES` (`i`, `j`, `N_pre`,
`N_post`, `x_pre` ... `z_post`, `distance`) and the synapse's parameters. One
that reads a pair name stays an expression (`ir.Formula`, or an `ir.Expr` for
`p` and `condition`) that the host evaluates once per pair; one that does not
folds to a number here. A synapse value may also be drawn: `uniform(low, high)`,
`normal(mean, std)`, `normal(mean, std, low = ..., high = ...)` (redrawn until
inside) or `lognormal(mean, std)`.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import BOOLEAN, Type, missing_unit_hint
from brainsim.dsl.expressions import Scope, Symbol, Typed, constant_value, expect_type, lower_expression
from brainsim.dsl.models import initial_value
from brainsim.errors import BrainsimError, InvalidValueError, UnitError
from brainsim.units import DIMENSIONLESS, Dimension, lookup_unit

METRE = lookup_unit("m")[1]
PAIR_TYPES = {
    "i": DIMENSIONLESS, "j": DIMENSIONLESS, "N_pre": DIMENSIONLESS, "N_post": DIMENSIONLESS,
    "x_pre": METRE, "y_pre": METRE, "z_pre": METRE, "x_post": METRE, "y_post": METRE, "z_post": METRE,
    "distance": METRE,
}
DISTRIBUTIONS = ("uniform", "normal", "lognormal")


def pair_scope(synapse: ir.SynapseModel) -> Scope:
    """The names a pair expression of a projection with `synapse` may read."""
    kinds = {
        "i": "the presynaptic neuron's index", "j": "the postsynaptic neuron's index",
        "N_pre": "the presynaptic population's size", "N_post": "the postsynaptic population's size",
        "distance": "the distance between the two neurons",
    }
    pairs = {name: Symbol(name, kinds.get(name, "a neuron's position"), kind, ir.Var(name)) for name, kind in PAIR_TYPES.items()}
    parameters = {p.name: Symbol(p.name, "a parameter", p.dimension, ir.Var(p.name)) for p in synapse.parameters}
    return Scope(
        {**parameters, **pairs},
        constants={p.name: p.value for p in synapse.parameters},
        unknown_hint=f"a pair expression reads {', '.join(ir.PAIR_NAMES)} and the synapse's parameters",
    )


def pair_expression(value: ast.Expr, scope: Scope, wanted: Type, what: str) -> "float | ir.Expr":
    """`value` as a number if it reads no pair name, else as an expression of the pair.

    Rejects::

        connect A -> B with S { p = distance }          # a length, not a probability
        connect A -> B with S { condition = i + j }     # a number, not true/false
    """
    typed = lower_expression(value, scope)
    expect_type(typed, wanted, f"{what} must have dimension {{wanted}}, but it is {{got}}", scope)
    if reads_pair(typed):
        return typed.expr
    if wanted == BOOLEAN:
        return typed.expr  # a constant condition stays a (trivial) expression
    return constant_value(typed, scope.constants, what)


def reads_pair(typed: Typed) -> bool:
    return bool(set(ir.free_names(typed.expr)) & set(ir.PAIR_NAMES))


def is_pair_value(value: ast.Expr, scope: Scope) -> bool:
    """Whether `value` needs `synapse_value` (a distribution or a pair expression)
    rather than the synapse model's own constant initial values."""
    match value:
        case ast.Call(function=ast.Ident(name="normal" | "lognormal")):
            return True
        case ast.Call(function=ast.Ident(name="uniform")):
            return False
    try:
        return reads_pair(lower_expression(value, scope))
    except BrainsimError:
        return False  # not a pair value: the synapse model's own lowering reports the mistake


def synapse_value(value: ast.Expr, scope: Scope, wanted: Dimension, what: str) -> ir.Initializer:
    """A per-synapse value in dimension `wanted`: a constant, a distribution or a pair formula.

    Rejects::

        weight = normal(1 nA, 0.2 mV)                  # both in the weight's dimension
        weight = lognormal(-1 nA, 0.2 nA)              # the mean of a lognormal is positive
        delay = normal(2 ms, 0.5 ms, low = 3 ms, high = 1 ms)
    """
    match value:
        case ast.Call(function=ast.Ident(name="normal" | "lognormal" as name)):
            return _distribution(value, name, scope, wanted, what)
        case ast.Call(function=ast.Ident(name="uniform")):
            initial, dimension = initial_value(value, scope, scope.constants, what)
            _expect(dimension, wanted, value, what)
            return initial
    typed = lower_expression(value, scope)
    expect_type(typed, wanted, f"{what} must have dimension {{wanted}}, but it is {{got}}", scope)
    if reads_pair(typed):
        return ir.Formula(typed.expr, value.span)
    return ir.Constant(constant_value(typed, scope.constants, what), value.span)


def _distribution(call: ast.Call, name: str, scope: Scope, wanted: Dimension, what: str) -> ir.Initializer:
    """`normal(mean, std)`, `normal(mean, std, low = ..., high = ...)` or `lognormal(mean, std)`."""
    allowed = ("low", "high") if name == "normal" else ()
    usage = f"`{name}(mean, std)`" + (" or `normal(mean, std, low = ..., high = ...)`" if allowed else "")
    if len(call.args) != 2:
        raise InvalidValueError(f"`{name}` takes 2 arguments, mean and std: {usage}; {len(call.args)} were written", call.span)
    keywords = {}
    for keyword in call.keywords:
        if keyword.name.name not in allowed or keyword.name.name in keywords:
            raise InvalidValueError(f"`{name}` takes no argument `{keyword.name.name}` here: {usage}", keyword.name.span)
        keywords[keyword.name.name] = keyword.value
    if len(keywords) == 1:
        raise InvalidValueError("a clipped normal needs both `low` and `high`", call.span)
    mean, std, *bounds = (
        _number(argument, scope, wanted, f"`{label}` of `{name}`")
        for label, argument in (("mean", call.args[0]), ("std", call.args[1]), *keywords.items())
    )
    if std < 0:
        raise InvalidValueError(f"the standard deviation of `{name}` must not be negative, but it is {std:g}", call.args[1].span)
    if name == "lognormal":
        if not mean > 0:
            raise InvalidValueError(f"the mean of `lognormal` must be greater than 0, but it is {mean:g}", call.args[0].span)
        return ir.LogNormal(mean, std, call.span)
    if bounds:
        low, high = bounds
        if not low < high:
            raise InvalidValueError(f"`normal` needs low < high, but {low:g} >= {high:g} (SI units)", call.span)
        return ir.ClippedNormal(mean, std, low, high, call.span)
    return ir.Normal(mean, std, call.span)


def _number(value: ast.Expr, scope: Scope, wanted: Dimension, what: str) -> float:
    typed = lower_expression(value, scope)
    if reads_pair(typed):
        raise InvalidValueError(f"{what} must be a constant, not an expression of the pair", value.span)
    expect_type(typed, wanted, f"{what} must have dimension {{wanted}}, but it is {{got}}", scope)
    return constant_value(typed, scope.constants, what)


def _expect(dimension: Dimension, wanted: Dimension, value: ast.Expr, what: str) -> None:
    if dimension != wanted:
        raise UnitError(
            f"{what} must have dimension {wanted}, but it is {dimension}", value.span, missing_unit_hint(value, wanted)
        )
