"""AST expressions -> IR expressions, with name resolution and dimension checks.

`lower_expression` resolves every name against a `Scope`, checks dimensions
operator by operator, and returns the IR tree with its `Type`. Calls bind their
arguments by position or name (`SIGNATURES`); `where` and `a if c else b` become
`ir.Where`, `nernst` a tree of plain nodes, and the physical constants of
`brainsim.units` (R, F, k_B, e, zero_celsius, pi) constants. The tree keeps
the user's operation order exactly (no simplification): backends depend on it.
`fold` evaluates a constant IR expression on the host, with Python floats, to
give parameters and initial values their SI numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import (
    BOOLEAN,
    KELVIN,
    SECOND,
    VOLT,
    Type,
    bare_number,
    confusable_unit_hint,
    missing_unit_hint,
    quantity_value,
    symbol_for,
)
from brainsim.dsl.limits import check_expression
from brainsim.errors import (
    DuplicateNameError,
    InvalidValueError,
    SourceSpan,
    UnitError,
    UnknownNameError,
    did_you_mean,
)
from brainsim.units import (
    DIMENSIONLESS,
    PHYSICAL_CONSTANTS,
    Dimension,
    describe_unit,
    is_unit,
    physical_constant,
    to_si,
)

FUNCTIONS = {function.function_name: function for function in ir.Function}
# The argument names of every call an expression may make, in order; calls may name
# their arguments (`clip(x, low = 0 mV, high = 1 mV)`).
_ONE = ("x",)
SIGNATURES: dict[str, tuple[str, ...]] = {
    **{name: _ONE for name, function in FUNCTIONS.items() if function.arity == 1},
    "min": ("a", "b"),
    "max": ("a", "b"),
    "clip": ("x", "low", "high"),
    "where": ("condition", "then", "otherwise"),
    "nernst": ("z", "c_out", "c_in", "T"),
}
# Calls that are not maths: where each one may be written.
SPECIAL_CALLS = {
    "uniform": "`uniform(low, high)` draws a value per element: use it as the whole value of a neuron's parameter "
               "or initial value, or as a delay",
    "normal": "`normal(mean, std)` draws a value per neuron: use it as the whole value of a neuron's parameter "
              "or initial value",
    "lognormal": "`lognormal(mean, std)` draws a value per neuron: use it as the whole value of a neuron's "
                 "parameter or initial value",
    "from_file": "`from_file(...)` reads a value per neuron: use it as the whole value of a neuron's parameter "
                 "or initial value, or as a population's positions (`at from_file(...)`)",
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
    `nodes` and `depth` measure `expr` as a tree (`Typed`).
    """

    name: str
    kind: str
    type: Type
    expr: ir.Expr
    declared: ast.Expr | None = None
    nodes: int = 1
    depth: int = 1


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

    def __contains__(self, name: str) -> bool:
        """Whether the model declares `name` here, usable or not (a model name shadows a unit)."""
        return name in self.symbols or name in self.unavailable or name in self.aliases

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
        if name.name in PHYSICAL_CONSTANTS:
            value, dimension = physical_constant(name.name)
            return Symbol(name.name, f"built-in constant ({PHYSICAL_CONSTANTS[name.name][2]})", dimension, ir.Const(value))
        declared = [*self.symbols, *self.aliases]
        if is_unit(name.name):
            self._check_not_a_miscased_name(name, declared)
            value, dimension = to_si("1", name.name)
            return Symbol(name.name, "unit", dimension, ir.Const(value))
        raise UnknownNameError(
            f"unknown name `{name.name}`",
            name.span,
            did_you_mean(name.name, declared) or self.unknown_hint or _no_match_hint(self),
        )

    @staticmethod
    def _check_not_a_miscased_name(name: ast.Name, declared: list[str]) -> None:
        """A bare unit that differs from a model name only in case is taken for a typo.

        Rejects::

            state { v = -70 mV }  equations { dv/dt = (E_L - V) / tau }   # V: volt, or v?
        """
        same = [n for n in declared if n.lower() == name.name.lower()]
        if same:
            raise UnknownNameError(
                f"`{name.name}` would be the unit {describe_unit(name.name)}, but the model declares "
                f"`{same[0]}`; names are case-sensitive",
                name.span,
                f"did you mean `{same[0]}`? (for the unit, write a number with it: `1 {name.name}`)",
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
    """A lowered expression with its type and the AST it came from, and how many nodes and
    levels `expr` has as a tree, aliases substituted (an alias read twice counts twice,
    though the two share one object), counted as it is built (`_built`)."""

    expr: ir.Expr
    type: Type
    source: ast.Expr
    nodes: int = 1
    depth: int = 1


def _built(expr: ir.Expr, result: Type, source: ast.Expr, *operands: Typed, constants: int = 0) -> Typed:
    """`expr`, an operation on `operands` (and on `constants` literals it adds), of type `result`;
    raises LimitError at `source` if it is too large or too deep (`check_expression`).

    Counting here, node by node, keeps the check linear in the text, where walking the
    trees would not be: substituted aliases share their objects, and a tree of shared
    parts can be exponentially larger than the text that wrote it.
    """
    nodes = 1 + constants + sum(operand.nodes for operand in operands)
    depth = 1 + max((operand.depth for operand in operands), default=0)
    check_expression(nodes, depth, source.span)
    return Typed(expr, result, source, nodes, depth)


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
            value, dimension = quantity_value(node, scope)
            return Typed(ir.Const(value, node.span), dimension, node)
        case ast.Name():
            symbol = scope.lookup(node)
            return Typed(_reference(symbol.expr, node.span), symbol.type, node, symbol.nodes, symbol.depth)
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
            return _built(ir.Unary(node.op, operand.expr, node.span), operand.type, node, operand)
        case ast.Unary(op=ir.UnaryOp.NOT):
            operand = _boolean(lower_expression(node.operand, scope), "`not`")
            return _built(ir.Unary(node.op, operand.expr, node.span), BOOLEAN, node, operand)
        case ast.Binary():
            return _binary(node, lower_expression(node.left, scope), lower_expression(node.right, scope), scope)
        case ast.Call():
            return _call(node, scope)
        case ast.Conditional():
            return _conditional(node, node.condition, node.then, node.otherwise, "`... if ... else ...`", scope)
    raise AssertionError(f"unknown expression node {node!r}")


def _conditional(
    node: ast.Expr, condition: ast.Expr, then: ast.Expr, otherwise: ast.Expr, what: str, scope: Scope
) -> Typed:
    """`then if condition else otherwise`, or `where(condition, then, otherwise)`: an `ir.Where`."""
    test = _boolean(lower_expression(condition, scope), f"the condition of {what}")
    a, b = _numeric(lower_expression(then, scope), what), _numeric(lower_expression(otherwise, scope), what)
    result = _same(a, b, node, f"the two branches of {what}", scope)
    return _built(ir.Where(test.expr, a.expr, b.expr, node.span), result, node, test, a, b)


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
    return _built(ir.Binary(op, left.expr, right.expr, node.span), result, node, left, right)


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
    """A call of a maths function, of `where` or of `nernst`, its arguments bound by position or name."""
    name = node.function.name
    if name in SPECIAL_CALLS:
        raise InvalidValueError(f"`{name}(...)` cannot be used here", node.span, SPECIAL_CALLS[name])
    if name not in SIGNATURES:
        known = sorted(SIGNATURES)
        raise UnknownNameError(
            f"unknown function `{name}`",
            node.function.span,
            did_you_mean(name, known) or f"the functions are {', '.join(known)}",
        )
    args = bind_arguments(node, SIGNATURES[name])
    if name == "where":
        return _conditional(node, *args, "`where`", scope)
    typed = [lower_expression(arg, scope) for arg in args]
    if name == "nernst":
        return _nernst(node, *typed, scope)
    function = FUNCTIONS[name]
    numeric = [_numeric(arg, f"`{name}`") for arg in typed]
    match function:
        case ir.Function.EXP | ir.Function.EXPM1 | ir.Function.LOG | ir.Function.LOG10 | ir.Function.TANH | \
                ir.Function.SIN | ir.Function.COS | ir.Function.FLOOR:
            _dimensionless(numeric[0], f"the argument of `{name}`", scope,
                           f"divide by a quantity of the same dimension, e.g. `{name}(v / (1 mV))`")
            result: Type = DIMENSIONLESS
        case ir.Function.SQRT:
            result = numeric[0].type ** 0.5
        case ir.Function.ABS:
            result = numeric[0].type
        case ir.Function.MIN | ir.Function.MAX | ir.Function.CLIP:
            result = numeric[0].type
            for other in numeric[1:]:
                _same(numeric[0], other, node, f"the arguments of `{name}`", scope)
    return _built(ir.Call(function, tuple(arg.expr for arg in typed), node.span), result, node, *typed)


def bind_arguments(node: ast.Call, parameters: tuple[str, ...]) -> list[ast.Expr]:
    """The arguments of `node` in the order of `parameters`, given by position, then by name.

    Rejects::

        clip(v, lo = 0 mV, high = 1 mV)      # unknown argument name (the known ones are listed)
        where(v = V_th, a, b)                # `=` names an argument; a comparison is `==`
        clip(v, 0 mV, high = 1 mV, low = 0 mV)   # `low` given twice
        clip(low = 0 mV, v, 1 mV)            # a positional argument after a named one
        clip(v, 0 mV)                        # 2 written, 3 expected
    """
    name = node.function.name
    for keyword in node.keywords:
        if keyword.name.name not in parameters:
            raise UnknownNameError(
                f"unknown argument `{keyword.name.name}` of `{name}`; the known ones are {', '.join(parameters)}",
                keyword.name.span,
                did_you_mean(keyword.name.name, parameters)
                or f"`=` names an argument; a comparison is written `==`, as in `{keyword.name.name} == ...`",
            )
    if node.keywords:
        first = min(node.keywords, key=lambda k: (k.span.line, k.span.column))
        for arg in node.args:
            if (arg.span.line, arg.span.column) > (first.span.line, first.span.column):
                raise InvalidValueError(
                    f"an argument without a name cannot follow a named one (`{first.name.name} = ...`)",
                    arg.span,
                    "name this argument too, or move it before the named ones",
                )
    bound = dict(zip(parameters, node.args))
    for keyword in node.keywords:
        if keyword.name.name in bound:
            raise DuplicateNameError(f"argument `{keyword.name.name}` of `{name}` is given twice", keyword.name.span)
        bound[keyword.name.name] = keyword.value
    written = len(node.args) + len(node.keywords)
    if written > len(parameters):
        raise InvalidValueError(_count_message(name, parameters, written), node.span)
    missing = [parameter for parameter in parameters if parameter not in bound]
    if missing:
        raise InvalidValueError(
            f"{_count_message(name, parameters, written)}; `{missing[0]}` is missing", node.span
        )
    return [bound[parameter] for parameter in parameters]


def _count_message(name: str, parameters: tuple[str, ...], written: int) -> str:
    expected = f"{len(parameters)} argument{'s' if len(parameters) > 1 else ''} ({', '.join(parameters)})"
    return f"`{name}` takes {expected}, but {written} {'was' if written == 1 else 'were'} written"


def _dimensionless(typed: Typed, what: str, scope: Scope, hint: str | None = None) -> None:
    """Raise a UnitError unless `typed` is dimensionless; `hint` (else a confusable unit) says how."""
    if typed.type != DIMENSIONLESS:
        raise UnitError(
            f"{what} must be dimensionless, but it is {typed.type}",
            typed.source.span,
            confusable_unit_hint(_quantities(typed.source, scope)) or hint,
        )


def _nernst(node: ast.Call, z: Typed, c_out: Typed, c_in: Typed, temperature: Typed, scope: Scope) -> Typed:
    """`nernst(z, c_out, c_in, T)`: R T / (z F) log(c_out / c_in), in volts, as a tree of plain nodes.

    Rejects::

        nernst(1, 145 mM, 12 mM, 310.15)      # T must be a temperature (K)
        nernst(1 mV, 145 mM, 12 mM, 310.15 K) # z, the valence, is a number
        nernst(1, 145 mM, 12 mV, 310.15 K)    # the two concentrations differ in dimension
    """
    _dimensionless(_numeric(z, "`nernst`"), "`z` (the valence of the ion) of `nernst`", scope,
                   "the valence is a signed whole number: 1 for Na+, 2 for Ca2+, -1 for Cl-")
    _same(_numeric(c_out, "`nernst`"), _numeric(c_in, "`nernst`"), node, "the concentrations of `nernst`", scope)
    expect_type(
        _numeric(temperature, "`nernst`"), KELVIN,
        "`T` of `nernst` must be a temperature ({wanted}), but it is {got}", scope,
    )
    gas, _ = physical_constant("R")
    faraday, _ = physical_constant("F")
    thermal = ir.Binary(
        ir.BinaryOp.DIV,
        ir.Binary(ir.BinaryOp.MUL, ir.Const(gas), temperature.expr),
        ir.Binary(ir.BinaryOp.MUL, z.expr, ir.Const(faraday)),
    )
    ratio = ir.Call(ir.Function.LOG, (ir.Binary(ir.BinaryOp.DIV, c_out.expr, c_in.expr),))
    return _built(ir.Binary(ir.BinaryOp.MUL, thermal, ratio, node.span), VOLT, node, z, c_out, c_in, temperature,
                  constants=7)


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


def number(typed: Typed, what: str) -> Typed:
    """`typed`, which must be a number, not a condition."""
    if typed.type == BOOLEAN:
        raise UnitError(f"{what} must be a number, but this is a condition (true/false)", typed.source.span)
    return typed


def lower_assignment(assignment: ast.Assignment, scope: Scope, dimension: Dimension) -> ir.Assignment:
    """`name op value` for a variable of `dimension` (a reset, a synapse's update).

    Rejects::

        on pre { a_pre += 1 nS }       # a_pre is dimensionless
        reset { v = 2 nA }             # ampere into a volt variable
        reset { v *= 2 mV }            # scaling needs a dimensionless factor
    """
    name = assignment.variable.name
    value = number(lower_expression(assignment.value, scope), f"the value assigned to `{name}`")
    written = f"`{name} {assignment.op.value} ...`"
    if assignment.op in (ir.AssignOp.MUL, ir.AssignOp.DIV):
        expect_type(value, DIMENSIONLESS, written + " needs a dimensionless factor, but this is {got}", scope)
    else:
        expect_type(value, dimension, written + f" needs a value of dimension {{wanted}} (that of `{name}`), "
                                                "but this is {got}", scope)
    return ir.Assignment(name, assignment.op, value.expr, assignment.span)


def lower_derivative(
    name: str, rhs: ast.Expr, scope: Scope, state: Dimension, hint: Callable[[Type], str | None] | None = None
) -> ir.Expr:
    """The right side of d<name>/dt, which must have the dimension of the state per second.

    Rejects::

        dv/dt = (E_L - v)         # V, but dv/dt is V/s: a division by tau is missing

    `hint(found dimension)` may give a better hint than the general one (`mismatch_hint`).
    """
    typed = lower_expression(rhs, scope)
    wanted = state / SECOND
    if typed.type != wanted:
        raise UnitError(
            f"the right side of d{name}/dt has dimension {typed.type}, but d{name}/dt has dimension {wanted} "
            f"({name} per second)",
            rhs.span,
            (hint and hint(typed.type)) or mismatch_hint(typed, wanted, scope),
        )
    return typed.expr


def mismatch_hint(typed: Typed, wanted: Type, scope: Scope) -> str | None:
    """Why `typed` has the wrong dimension: a bare number like `0` (in it or where a name it
    reads is declared), or a unit that differs from a likelier one in case (`mS`, `ms`)."""
    return _missing_unit(typed, wanted, scope) or confusable_unit_hint(_quantities(typed.source, scope))


def _missing_unit(typed: Typed, wanted: Type, scope: Scope) -> str | None:
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


def _quantities(source: ast.Expr, scope: Scope) -> Iterator[ast.Quantity]:
    """The quantities written in `source` and in the declarations of the names it reads."""
    seen: set[str] = set()
    pending = [source]
    while pending:
        node = pending.pop()
        match node:
            case ast.Quantity():
                yield node
            case ast.Name(name=name) if name not in seen:
                seen.add(name)
                symbol = scope.symbols.get(name)
                if symbol is not None and symbol.declared is not None:
                    pending.append(symbol.declared)
            case ast.Unary(operand=operand):
                pending.append(operand)
            case ast.Binary(left=left, right=right):
                pending.extend((right, left))
            case ast.Call(args=args, keywords=keywords):
                pending.extend(reversed([*args, *(k.value for k in keywords)]))
            case ast.Conditional(condition=condition, then=then, otherwise=otherwise):
                pending.extend((otherwise, condition, then))


def expect_type(typed: Typed, wanted: Type, message: str, scope: Scope | None = None) -> None:
    """Raise UnitError(`message`) at `typed` unless it has type `wanted`.

    `message` may use `{got}` and `{wanted}` for the two types.
    """
    if typed.type == wanted:
        return
    if scope is not None:
        hint = mismatch_hint(typed, wanted, scope)
    else:
        hint = missing_unit_hint(typed.source, wanted) or confusable_unit_hint(_quantities(typed.source, Scope({})))
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
