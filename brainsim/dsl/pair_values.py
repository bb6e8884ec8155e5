"""The values a `connect` gives per pair or per synapse: probabilities, conditions,
weights (any synapse state) and delays.

A pair expression reads the names of `ir.PAIR_NAMES` (`i`, `j`, `N_pre`,
`N_post`, `x_pre` ... `z_post`, `distance`) and the synapse's parameters. One
that reads a pair name stays an expression (`ir.Formula`, or an `ir.Expr` for
`p` and `condition`) that the host evaluates once per pair; one that does not
folds to a number here. A synapse value may also be drawn: `uniform(low, high)`,
`normal(mean, std)`, `normal(mean, std, low = ..., high = ...)` (redrawn until
inside) or `lognormal(mean, std)`, lowered by `brainsim.dsl.initializers` as
a neuron's are.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import BOOLEAN, Type
from brainsim.dsl.expressions import Scope, Symbol, Typed, constant_value, expect_type, lower_expression
from brainsim.dsl.initializers import METRE, expect_dimension, lower_value
from brainsim.errors import BrainsimError
from brainsim.units import DIMENSIONLESS, Dimension

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
    """A per-synapse value in dimension `wanted`: a constant, a distribution or a pair formula,
    lowered as a neuron's values are (`brainsim.dsl.initializers.lower_value`) with the pair
    names as what differs between elements; the value rules are `brainsim.validate`'s.

    Rejects::

        weight = normal(1 nA, 0.2 mV)                  # both in the weight's dimension
        weight = normal(1 mV * j, 0.2 mV)              # the arguments of a distribution are constants
    """
    initial, dimension = lower_value(
        value, scope, scope.constants, what, frozenset(ir.PAIR_NAMES), DISTRIBUTIONS, elements="pairs"
    )
    expect_dimension(value, dimension, wanted, f"{what} must have dimension {{wanted}}, but it is {{got}}")
    return ir.Constant(initial, value.span) if isinstance(initial, float) else initial
