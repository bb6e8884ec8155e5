"""Values that may differ between elements: distributions, formulas, file columns (AST -> IR).

A neuron's parameter or initial value may be written as

    uniform(low, high)                          ir.Uniform, in [low, high)
    normal(mean, std)                           ir.Normal
    normal(mean, std, low = a, high = b)        ir.ClippedNormal: draws outside [a, b] are drawn
                                                again; either bound may be given alone
    lognormal(mean, std)                        ir.LogNormal (mean and std of the value itself)
    from_file("params.csv", column = "tau_m")   ir.Values, one row per neuron
    an expression reading `i`, `N`, `x`, `y`, `z` or a parameter that differs
    between neurons                             ir.Formula, computed per neuron on the host

and otherwise folds to one number. The arguments of a distribution are
constants (the same for every neuron), each distribution's arguments share one
dimension, and a column's dimension is its header's unit. The value rules
(std >= 0, low < high, a positive lognormal mean, one row per neuron) are
`brainsim.validate`'s, located at the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import missing_unit_hint
from brainsim.dsl.expressions import Scope, Symbol, constant_value, lower_expression, number
from brainsim.dsl.files import read_table, resolve
from brainsim.errors import InvalidValueError, UnitError
from brainsim.units import DIMENSIONLESS, Dimension, to_si

DISTRIBUTIONS = ("uniform", "normal", "lognormal", "from_file")
METRE = to_si("1", "m")[1]
NEURON_SYMBOLS = {
    "i": Symbol("i", "built-in (the neuron's index in its population, from 0)", DIMENSIONLESS, ir.Var("i")),
    "N": Symbol("N", "built-in (the number of neurons in the population)", DIMENSIONLESS, ir.Var("N")),
    **{axis: Symbol(axis, f"built-in (the neuron's {axis} position)", METRE, ir.Var(axis)) for axis in "xyz"},
}
_ARGUMENTS = {  # name -> (required, optional)
    "uniform": (("low", "high"), ()),
    "normal": (("mean", "std"), ("low", "high")),
    "lognormal": (("mean", "std"), ()),
    "from_file": (("file", "column"), ()),
}


def expect_dimension(value: ast.Expr, dimension: Dimension, wanted: Dimension | None, message: str) -> None:
    """Raise UnitError at `value` if its `dimension` is not `wanted` (None: any); `message`
    says why, with `{wanted}` and `{got}` for the two dimensions.

    Rejects (`tau` has dimension s)::

        a = LIF[3] { tau = normal(10 mV, 1 mV) }
    """
    if wanted is not None and dimension != wanted:
        raise UnitError(message.format(wanted=wanted, got=dimension), value.span, missing_unit_hint(value, wanted))


def lower_value(
    value: ast.Value,
    scope: Scope,
    values: Mapping[str, float],
    what: str,
    varying: Set[str] = frozenset(),
    allowed: tuple[str, ...] = DISTRIBUTIONS,
    elements: str = "neurons",
) -> tuple[float | ir.Initializer, Dimension]:
    """`value` in SI with its dimension: a float where it is one number for every element,
    else an initializer. `varying` are the names that differ between elements (an
    expression reading one becomes a `Formula`); `allowed` the distributions that may
    be written here; `values` the numbers of the constant names; `elements` what the
    elements are called in an error ("neurons", "pairs"). Neuron values and synapse
    values (`brainsim.dsl.pair_values`) are both lowered here.
    """
    match value:
        case ast.Call(function=ast.Ident(name=name)) if name in allowed:
            return _distribution(name, value, scope, values, what, varying, elements)
    typed = number(lower_expression(value, scope), what)
    if ir.free_names(typed.expr) & varying:
        return ir.Formula(typed.expr, value.span), typed.type
    return constant_value(typed, values, what), typed.type


def _distribution(
    name: str, call: ast.Call, scope: Scope, values: Mapping[str, float], what: str, varying: Set[str],
    elements: str,
) -> tuple[ir.Initializer, Dimension]:
    """Rejects::

        tau = normal(10 ms)                  # needs mean and std
        tau = normal(10 ms, 1 mV)            # std in another dimension
        tau = normal(E_L, 1 mV)              # E_L differs between neurons: not a constant argument
    """
    arguments = _bind(name, call)
    if name == "from_file":
        return _from_file(call, arguments)
    typed = {key: number(lower_expression(arg, scope), f"`{key}` of `{name}`") for key, arg in arguments.items()}
    first = next(iter(typed.values()))
    for key, argument in typed.items():
        if argument.type != first.type:
            raise UnitError(
                f"the arguments of `{name}` must have one dimension, but `{next(iter(typed))}` is {first.type} "
                f"and `{key}` {argument.type}",
                argument.source.span,
                missing_unit_hint(argument.source, first.type),
            )
        if read := ir.free_names(argument.expr) & varying:
            raise InvalidValueError(
                f"the arguments of `{name}` must be constants, but `{key}` reads "
                f"`{sorted(read)[0]}`, which differs between {elements}",
                argument.source.span,
            )
    number_of = {key: constant_value(t, values, f"`{key}` of `{name}` in {what}") for key, t in typed.items()}
    match name:
        case "uniform":
            low, high = number_of["low"], number_of["high"]
            if not low < high:
                raise InvalidValueError(
                    f"`uniform(low, high)` needs low < high, but {low:g} >= {high:g} (SI units)", call.span
                )
            initializer: ir.Initializer = ir.Uniform(low, high, call.span)
        case "normal" if "low" in number_of or "high" in number_of:
            initializer = ir.ClippedNormal(
                number_of["mean"], number_of["std"], number_of.get("low", -float("inf")),
                number_of.get("high", float("inf")), call.span,
            )
        case "normal":
            initializer = ir.Normal(number_of["mean"], number_of["std"], call.span)
        case "lognormal":
            initializer = ir.LogNormal(number_of["mean"], number_of["std"], call.span)
    return initializer, first.type


def _bind(name: str, call: ast.Call) -> dict[str, ast.Expr]:
    """The arguments of `call` by name: the required ones by position or name, the optional by name.

    Rejects::

        v = uniform(-70 mV)                       # 1 of 2 arguments
        v = normal(0 mV, 1 mV, lo = -1 mV)        # unknown argument name
    """
    required, optional = _ARGUMENTS[name]
    signature = f"`{name}({', '.join(required + tuple(f'{o} = ...' for o in optional))})`"
    if len(call.args) > len(required):
        raise InvalidValueError(
            f"{signature} takes {len(required)} arguments without names, but {len(call.args)} were written", call.span
        )
    bound: dict[str, ast.Expr] = dict(zip(required, call.args))
    for keyword in call.keywords:
        key = keyword.name.name
        if key not in required + optional or key in bound:
            problem = "is given twice" if key in bound else "is not one of its arguments"
            raise InvalidValueError(f"`{key}` {problem}: the form is {signature}", keyword.name.span)
        bound[key] = keyword.value
    if missing := [key for key in required if key not in bound]:
        raise InvalidValueError(
            f"{signature} needs {len(required)} arguments, but {len(required) - len(missing)} were written "
            f"(`{missing[0]}` is missing)",
            call.span,
        )
    return {key: bound[key] for key in required + optional if key in bound}


def _from_file(call: ast.Call, arguments: Mapping[str, ast.Expr]) -> tuple[ir.Values, Dimension]:
    """`from_file("params.csv", column = "tau_m")`: the column in SI, its dimension from its header.

    Rejects::

        tau = from_file(params.csv, column = "tau")     # the file name must be quoted
        tau = from_file("params.csv", column = "tua")   # no such column
    """
    file, column = (_text(arguments[key], key) for key in ("file", "column"))
    table = read_table(resolve(file), file.span)
    dimension = table.dimension(column.value, column.span)
    values = table.column(column.value, dimension, column.span)
    return ir.Values(tuple(map(float, values)), call.span), dimension


def _text(argument: ast.Expr, key: str) -> ast.Text:
    if not isinstance(argument, ast.Text):
        raise InvalidValueError(f'`{key}` of `from_file` must be written in quotes, as in "params.csv"', argument.span)
    return argument
