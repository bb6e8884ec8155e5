"""AST expressions -> IR expressions, with name resolution and dimension checks.

`lower_expression` resolves every name against a `Scope`, checks dimensions
operator by operator, and returns the IR tree with its `Type`. The tree keeps
the user's operation order exactly (no simplification): backends depend on it.
`fold` evaluates a constant IR expression on the host, with Python floats, to
give parameters and initial values their SI numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import BOOLEAN, SECOND, Type, bare_number, missing_unit_hint, quantity_value, symbol_for
from brainsim.errors import InvalidValueError, SourceSpan, UnitError, UnknownNameError, did_you_mean
from brainsim.units import DIMENSIONLESS, Dimension, is_unit, to_si

FUNCTIONS = {function.function_name: function for function in ir.Function}
# Calls that are not maths: where each one may be written.
SPECIAL_CALLS = {
    "uniform": "`uniform(low, high)` draws initial values: use it as the whole initial value of a state or as a delay",
    "pulses": "`pulses(...)` is a stimulus waveform: use it in a `stimulus` block",
    "steps": "`steps(...)` is a stimulus waveform: use it in a `stimulus` block",
    "sinusoid": "`sinusoid(...)` is a stimulus waveform: use it in a `stimulus` block",
    "ou": "`ou(...)` is a stimulus waveform: use it in a `stimulus` block",
}


@dataclass(frozen=True, slots=True)
class Symbol:
    """A name an expression may read: what it is, its type and what it lowers to.

    `expr` is `Var(name)` for parameters, states, inputs and built-ins, and the
    lowered tree for an alias. `declared` is the declaring expression, if any,
    for hints such as "`ge` is dimensionless because it is declared as `0`".
    """

    name: str
    kind: str
    type: Type
    expr: ir.Expr
    declared: ast.Expr | None = None


BUILTINS = {
    "t": Symbol("t", "built-in (the simulation time)", SECOND, ir.Var("t")),
    "dt": Symbol("dt", "built-in (the time step)", SECOND, ir.Var("dt")),
}
NOISE_DIMENSION = SECOND ** -0.5
NOISE_PLACE = (
    "white noise may appear only in the right side of a neuron's equations (`dx/dt = ...`), "
    "directly or through an alias"
)
LIST_PLACES = "a list `[...]` is a value only of a spike source's `rate`, `indices` or `times`"


def is_noise(name: str) -> bool:
    """Whether `name` is built-in white noise: `xi`, or `xi_<suffix>` for a further independent source."""
    return name == ir.NOISE or name.startswith(ir.NOISE + "_")


def noise_symbol(name: str) -> Symbol:
    return Symbol(name, "built-in (white noise)", NOISE_DIMENSION, ir.Var(name))


@dataclass(frozen=True)
class Scope:
    """The names an expression may read, and why some others it might mean are off limits.

    `symbols` resolve directly; `resolve_alias` (if set) lowers one of the
    `aliases` on first use; `unavailable` maps a declared-but-not-usable-here
    name to the reason.
    `constants` hold the values of parameters, for folding exponents. Model
    names (`symbols` and `unavailable`) shadow unit names. `unknown_hint`
    explains an unknown name when no close match does. White noise (`xi`,
    `xi_<suffix>`) resolves in every scope but may be read, directly or
    through an alias, only where `noise` is set (the right side of equations).
    """

    symbols: Mapping[str, Symbol]
    unavailable: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, float] = field(default_factory=dict)
    resolve_alias: Callable[[str, SourceSpan], Symbol | None] | None = None
    aliases: frozenset[str] = frozenset()
    unknown_hint: str | None = None
    noise: bool = False

    def names(self) -> frozenset[str]:
        return frozenset(self.symbols) | frozenset(self.unavailable) | self.aliases

    def lookup(self, name: ast.Name) -> Symbol:
        """The symbol `name` refers to; raises UnknownNameError with a hint.

        Rejects::

            spike when v > V_th + xi * 1 mV * sqrt(ms)     # noise outside equations
        """
        symbol = self.symbols.get(name.name)
        if symbol is None and self.resolve_alias is not None:
            symbol = self.resolve_alias(name.name, name.span)
        if symbol is None and is_noise(name.name):
            symbol = noise_symbol(name.name)
        if symbol is not None:
            self._check_noise(symbol, name)
            return symbol
        if name.name in self.unavailable:
            raise UnknownNameError(f"`{name.name}` cannot be used here: {self.unavailable[name.name]}", name.span)
        if is_unit(name.name):
            value, dimension = to_si("1", name.name)
            return Symbol(name.name, "unit", dimension, ir.Const(value))
        raise UnknownNameError(
            f"unknown name `{name.name}`",
            name.span,
            did_you_mean(name.name, [*self.symbols, *self.aliases]) or self.unknown_hint or _no_match_hint(self),
        )


    def _check_noise(self, symbol: Symbol, name: ast.Name) -> None:
        if self.noise:
            return
        noises = [n for n in ir.free_names(symbol.expr) if is_noise(n)]
        if not noises:
            return
        if is_noise(symbol.name):
            raise UnknownNameError(f"`{name.name}` is white noise, which cannot be used here", name.span, NOISE_PLACE)
        raise UnknownNameError(
            f"alias `{name.name}` reads white noise `{noises[0]}`, which cannot be used here", name.span, NOISE_PLACE
        )


def _no_match_hint(scope: Scope) -> str | None:
    readable = sorted(n for n in [*scope.symbols, *scope.aliases] if n not in BUILTINS)
    if not readable:
        return "only numbers with units can be written here"
    shown = ", ".join(readable[:8]) + (", ..." if len(readable) > 8 else "")
    return f"names that can be used here: {shown}"


@dataclass(frozen=True, slots=True)
class Typed:
    """A lowered expression with its type and the AST it came from."""

    expr: ir.Expr
    type: Type
    source: ast.Expr


def lower_expression(node: ast.Value, scope: Scope) -> Typed:
    """Lower and type-check one expression.

    Raises:
        UnknownNameError: a name or function that nothing declares.
        UnitError: dimensions that do not fit an operator or function.
        InvalidValueError: a call with the wrong arguments, `true`/`false`, or
            a list (`[...]`), which only spike sources take, from their settings.
    """
    match node:
        case ast.ValueList():
            raise InvalidValueError("a list of values cannot be used here", node.span, LIST_PLACES)
        case ast.Quantity():
            value, dimension = quantity_value(node, scope.names())
            if not math.isfinite(value):
                raise InvalidValueError("this number is too large for a 64-bit float", node.span)
            return Typed(ir.Const(value, node.span), dimension, node)
        case ast.Name():
            symbol = scope.lookup(node)
            return Typed(_reference(symbol.expr, node.span), symbol.type, node)
        case ast.Boolean():
            raise InvalidValueError(
                "`true` and `false` are settings (such as `autapses = true`), not values in expressions", node.span
            )
        case ast.Text():
            raise InvalidValueError(
                f'a file name ("{node.value}") cannot be used here', node.span,
                hint="file names are read by `import` and by the settings that read files",
            )
        case ast.Unary(op=ir.UnaryOp.NEG):
            operand = _numeric(lower_expression(node.operand, scope), "`-`")
            return Typed(ir.Unary(node.op, operand.expr, node.span), operand.type, node)
        case ast.Unary(op=ir.UnaryOp.NOT):
            operand = _boolean(lower_expression(node.operand, scope), "`not`")
            return Typed(ir.Unary(node.op, operand.expr, node.span), BOOLEAN, node)
        case ast.Binary():
            return _binary(node, lower_expression(node.left, scope), lower_expression(node.right, scope), scope)
        case ast.Call():
            return _call(node, scope)
    raise AssertionError(f"unknown expression node {node!r}")


def _reference(expr: ir.Expr, span: SourceSpan) -> ir.Expr:
    """What a name becomes where it is written: a variable or unit at that place, or an alias's tree."""
    match expr:
        case ir.Var(name=name):
            return ir.Var(name, span)
        case ir.Const(value=value):
            return ir.Const(value, span)
    return expr


def _binary(node: ast.Binary, left: Typed, right: Typed, scope: Scope) -> Typed:
    op = node.op
    symbol = f"`{op.value}`"
    match op:
        case ir.BinaryOp.AND | ir.BinaryOp.OR:
            _boolean(left, symbol)
            _boolean(right, symbol)
            result: Type = BOOLEAN
        case ir.BinaryOp.ADD | ir.BinaryOp.SUB:
            result = _same(_numeric(left, symbol), _numeric(right, symbol), node, symbol, scope)
        case ir.BinaryOp.LT | ir.BinaryOp.LE | ir.BinaryOp.GT | ir.BinaryOp.GE | ir.BinaryOp.EQ | ir.BinaryOp.NE:
            _same(_numeric(left, symbol), _numeric(right, symbol), node, symbol, scope)
            result = BOOLEAN
        case ir.BinaryOp.MUL:
            result = _numeric(left, symbol).type * _numeric(right, symbol).type
        case ir.BinaryOp.DIV:
            result = _numeric(left, symbol).type / _numeric(right, symbol).type
        case ir.BinaryOp.POW:
            result = _power(node, _numeric(left, symbol), _numeric(right, symbol), scope)
    return Typed(ir.Binary(op, left.expr, right.expr, node.span), result, node)


def _power(node: ast.Binary, base: Typed, exponent: Typed, scope: Scope) -> Dimension:
    """`base ** exponent`: the exponent is dimensionless, and constant if the base has a unit."""
    if exponent.type != DIMENSIONLESS:
        raise UnitError(f"an exponent must be dimensionless, but this one is {exponent.type}", node.right.span)
    if base.type == DIMENSIONLESS:
        return DIMENSIONLESS
    variables = [name for name in ir.free_names(exponent.expr) if name not in scope.constants]
    if variables:
        raise UnitError(
            f"the base has dimension {base.type}, so its exponent must be a constant, "
            f"but it reads `{variables[0]}`",
            node.right.span,
        )
    return base.type ** constant_value(exponent, scope.constants, "the exponent")


def _call(node: ast.Call, scope: Scope) -> Typed:
    name = node.function.name
    if name in SPECIAL_CALLS:
        raise InvalidValueError(f"`{name}(...)` cannot be used here", node.span, SPECIAL_CALLS[name])
    if name != "where" and name not in FUNCTIONS:
        known = sorted(FUNCTIONS) + ["where"]
        raise UnknownNameError(
            f"unknown function `{name}`",
            node.function.span,
            did_you_mean(name, known) or f"the functions are {', '.join(known)}",
        )
    arity = 3 if name == "where" else FUNCTIONS[name].arity
    if node.keywords or len(node.args) != arity:
        raise InvalidValueError(
            f"`{name}` takes {arity} argument{'s' if arity > 1 else ''}, written without names", node.span
        )
    args = [lower_expression(arg, scope) for arg in node.args]
    if name == "where":
        condition = _boolean(args[0], "the condition of `where`")
        result = _same(args[1], args[2], node, "the two branches of `where`", scope)
        return Typed(ir.Where(condition.expr, args[1].expr, args[2].expr, node.span), result, node)
    function = FUNCTIONS[name]
    label = f"`{name}`"
    numeric = [_numeric(arg, label) for arg in args]
    match function:
        case ir.Function.EXP | ir.Function.LOG | ir.Function.TANH:
            if numeric[0].type != DIMENSIONLESS:
                raise UnitError(
                    f"the argument of `{name}` must be dimensionless, but it is {numeric[0].type}",
                    node.args[0].span,
                    "divide by a quantity of the same dimension, e.g. `exp(v / (1 mV))`",
                )
            result: Type = DIMENSIONLESS
        case ir.Function.SQRT:
            result = numeric[0].type ** 0.5
        case ir.Function.ABS:
            result = numeric[0].type
        case ir.Function.MIN | ir.Function.MAX | ir.Function.CLIP:
            result = numeric[0].type
            for other in numeric[1:]:
                _same(numeric[0], other, node, f"the arguments of `{name}`", scope)
    return Typed(ir.Call(function, tuple(arg.expr for arg in args), node.span), result, node)


def _numeric(typed: Typed, where: str) -> Typed:
    if typed.type == BOOLEAN:
        raise UnitError(f"{where} needs a number, but this is a condition (true/false)", typed.source.span)
    return typed


def _boolean(typed: Typed, where: str) -> Typed:
    if typed.type != BOOLEAN:
        raise UnitError(
            f"{where} needs true or false (a comparison such as `v > 0 mV`), "
            f"but this is a number of dimension {typed.type}",
            typed.source.span,
        )
    return typed


def _same(left: Typed, right: Typed, node: ast.Expr, what: str, scope: Scope) -> Type:
    """The common type of `left` and `right`; raises UnitError if they differ."""
    if left.type == right.type:
        return left.type
    sides = "both sides of " if what.startswith("`") else ""
    raise UnitError(
        f"{sides}{what} must have the same dimension, but one is {left.type} and the other {right.type}",
        node.span,
        mismatch_hint(left, right.type, scope) or mismatch_hint(right, left.type, scope),
    )


def mismatch_hint(typed: Typed, wanted: Type, scope: Scope) -> str | None:
    """Why `typed` lacks a unit, when it is (or names) a bare number like `0`."""
    hint = missing_unit_hint(typed.source, wanted)
    if hint or not isinstance(typed.source, ast.Name):
        return hint
    symbol = scope.symbols.get(typed.source.name)
    number = bare_number(symbol.declared) if symbol and symbol.declared is not None else None
    if number is None or not isinstance(wanted, Dimension) or wanted.is_dimensionless:
        return None
    unit = symbol_for(wanted) or f"<a unit of {wanted}>"
    return (
        f"`{symbol.name}` is dimensionless because it is declared as `{number}` "
        f"(line {symbol.declared.span.line}); write `{number} {unit}` there"
    )


def expect_type(typed: Typed, wanted: Type, message: str, scope: Scope | None = None) -> None:
    """Raise UnitError(`message`) at `typed` unless it has type `wanted`.

    `message` may use `{got}` and `{wanted}` for the two types.
    """
    if typed.type == wanted:
        return
    hint = mismatch_hint(typed, wanted, scope) if scope is not None else missing_unit_hint(typed.source, wanted)
    raise UnitError(message.format(got=typed.type, wanted=wanted), typed.source.span, hint)


# --------------------------------------------------------------------------- constant folding


def fold(expr: ir.Expr, values: Mapping[str, float]) -> float:
    """The value of a constant expression, given the values of the names it reads."""
    match expr:
        case ir.Const(value=value):
            return value
        case ir.Var(name=name):
            return values[name]
        case ir.Unary(op=ir.UnaryOp.NEG, operand=operand):
            return -fold(operand, values)
        case ir.Unary(op=ir.UnaryOp.NOT, operand=operand):
            return not fold(operand, values)
        case ir.Binary(op=op, left=left, right=right):
            return ir.HOST_BINARY[op](fold(left, values), fold(right, values))
        case ir.Call(function=function, args=args):
            return ir.HOST_FUNCTIONS[function](*(fold(arg, values) for arg in args))
        case ir.Where(condition=condition, then=then, otherwise=otherwise):
            return fold(then, values) if fold(condition, values) else fold(otherwise, values)
    raise AssertionError(f"unknown IR node {expr!r}")


def constant_value(typed: Typed, values: Mapping[str, float], what: str) -> float:
    """Fold `typed`, which reads only names in `values`, into a finite float.

    Raises InvalidValueError (naming `what` the value is for) if the arithmetic
    fails (division by zero, log of a negative number, overflow).
    """
    try:
        value = fold(typed.expr, values)
    except (ArithmeticError, ValueError) as error:
        raise InvalidValueError(f"cannot compute {what}: {_arithmetic_reason(error)}", typed.source.span) from None
    if isinstance(value, bool) or not math.isfinite(value):
        raise InvalidValueError(f"{what} is not a finite number", typed.source.span)
    return float(value)


def _arithmetic_reason(error: Exception) -> str:
    match error:
        case ZeroDivisionError():
            return "division by zero"
        case OverflowError():
            return "the result is too large"
    return "outside the domain of a function (such as log of a negative number)"
