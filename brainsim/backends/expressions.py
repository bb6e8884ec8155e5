"""Expressions compiled into functions of an environment, written against an array module `xp`.

`compile_expr` turns an `ir.Expr` into a closure `env -> value` once, so that a
step does not walk the tree again; both backends run the same closures (numpy
calls them, jax traces them). `lift_constants` moves every literal into the
table of runtime arguments, because XLA folds and reassociates constants that
are baked into compiled code (docs/semantics.md, "Identical results").
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Mapping

from brainsim import ir
from brainsim.backends import xmath
from brainsim.backends.ops import Numerics

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


_BINARY = {
    ir.BinaryOp.ADD: operator.add,
    ir.BinaryOp.SUB: operator.sub,
    ir.BinaryOp.MUL: operator.mul,
    ir.BinaryOp.LT: operator.lt,
    ir.BinaryOp.LE: operator.le,
    ir.BinaryOp.GT: operator.gt,
    ir.BinaryOp.GE: operator.ge,
    ir.BinaryOp.EQ: operator.eq,
    ir.BinaryOp.NE: operator.ne,
}
_MAX_EXPANDED_POWER = 16


def compile_expr(expr: ir.Expr, xp: Numerics) -> Compiled:
    """A function env -> value of `expr`, built once so that a step does not re-walk the tree.

    Literal integer powers are multiplied out (x**3 is (x*x)*x) and x**0.5 is sqrt(x);
    other powers, exp, expm1, log, log10, tanh, sin and cos use `xmath`, identical on every backend.
    """
    match expr:
        case ir.Const(value):
            return lambda env: value
        case ir.Var(name):
            return operator.itemgetter(name)
        case ir.Unary(ir.UnaryOp.NEG, operand):
            f = compile_expr(operand, xp)
            return lambda env: -f(env)
        case ir.Unary(ir.UnaryOp.NOT, operand):
            f = compile_expr(operand, xp)
            return lambda env: xp.logical_not(f(env))
        case ir.Binary(ir.BinaryOp.POW, base, ir.Const(exponent)) if (
            exponent == int(exponent) and abs(exponent) <= _MAX_EXPANDED_POWER
        ):
            return _integer_power(compile_expr(base, xp), int(exponent), xp)
        case ir.Binary(ir.BinaryOp.POW, base, ir.Const(0.5)):
            f = compile_expr(base, xp)
            return lambda env: xp.sqrt(f(env))
        case ir.Binary(op, ir.Var(a), ir.Var(b)) if op in _BINARY:
            binary = _BINARY[op]  # the commonest node in updates, without two calls per step
            return lambda env: binary(env[a], env[b])
        case ir.Binary(op, left, right):
            f, g = compile_expr(left, xp), compile_expr(right, xp)
            match op:
                case ir.BinaryOp.AND:
                    return lambda env: xp.logical_and(f(env), g(env))
                case ir.BinaryOp.OR:
                    return lambda env: xp.logical_or(f(env), g(env))
                case ir.BinaryOp.POW:
                    return lambda env: xmath.power(f(env), g(env), xp)
                case ir.BinaryOp.DIV:
                    divide = xp.divide
                    return lambda env: divide(f(env), g(env))
            binary = _BINARY[op]
            return lambda env: binary(f(env), g(env))
        case ir.Call(function, args):
            fs = [compile_expr(a, xp) for a in args]
            call = _function(function, xp)
            return lambda env: call(*(f(env) for f in fs))
        case ir.Where(condition, then, otherwise):
            c, a, b = compile_expr(condition, xp), compile_expr(then, xp), compile_expr(otherwise, xp)
            return lambda env: xp.where(c(env), a(env), b(env))
    raise TypeError(f"not an expression: {expr!r}")


def eval_expr(expr: ir.Expr, env: Env, xp: Numerics):
    """The value of `expr` with the names in `env`, computed with `xp`."""
    return compile_expr(expr, xp)(env)


def _integer_power(f: Compiled, exponent: int, xp: Numerics) -> Compiled:
    def power(env):
        base = f(env)
        if exponent == 0:
            return xp.ones_like(base)
        value = base
        for _ in range(abs(exponent) - 1):
            value = value * base
        return value if exponent > 0 else xp.divide(1.0, value)

    return power


# The transcendental functions, computed from IEEE-exact pieces (`xmath`) so both
# backends give the same bits; the rest are exact in every array module.
_XMATH = {
    ir.Function.EXP: xmath.exp, ir.Function.EXPM1: xmath.expm1, ir.Function.TANH: xmath.tanh, ir.Function.LOG: xmath.log,
    ir.Function.LOG10: xmath.log10, ir.Function.SIN: xmath.sin, ir.Function.COS: xmath.cos,
}


def _function(function: ir.Function, xp: Numerics) -> Callable:
    if function in _XMATH:
        return lambda x, compute=_XMATH[function]: compute(x, xp)
    match function:
        case ir.Function.FLOOR:
            return xp.floor
        case ir.Function.SQRT:
            return xp.sqrt
        case ir.Function.ABS:
            return xp.abs
        case ir.Function.MIN:
            return xp.minimum
        case ir.Function.MAX:
            return xp.maximum
        case ir.Function.CLIP:
            return lambda x, low, high: xp.minimum(xp.maximum(x, low), high)
    raise TypeError(f"not a function: {function!r}")


def lift_constants(expr: ir.Expr, table: dict[str, float]) -> ir.Expr:
    """`expr` with each literal replaced by a generated name whose value goes into `table`.

    Literal exponents stay: `compile_expr` multiplies integer powers out.
    """

    def lift(e: ir.Expr) -> ir.Expr:
        match e:
            case ir.Const(value):
                name = f"_k{len(table)}"
                table[name] = value
                return ir.Var(name)
            case ir.Var():
                return e
            case ir.Unary(op, operand):
                return ir.Unary(op, lift(operand))
            case ir.Binary(ir.BinaryOp.POW, base, ir.Const() as exponent):
                return ir.Binary(ir.BinaryOp.POW, lift(base), exponent)
            case ir.Binary(op, left, right):
                return ir.Binary(op, lift(left), lift(right))
            case ir.Call(function, args):
                return ir.Call(function, tuple(lift(a) for a in args))
            case ir.Where(condition, then, otherwise):
                return ir.Where(lift(condition), lift(then), lift(otherwise))
        raise TypeError(f"not an expression: {e!r}")

    return lift(expr)
