"""Building and rewriting expressions for the integration methods.

The builders make unspanned nodes (a pass created them); `substitute` renames
the names an expression reads, which is how a Runge–Kutta stage evaluates a
right-hand side at the stage's values.
"""

from __future__ import annotations

from typing import Mapping

from brainsim import ir

ONE = ir.Const(1.0)
ZERO = ir.Const(0.0)


def var(name: str) -> ir.Var:
    return ir.Var(name)


def add(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Binary(ir.BinaryOp.ADD, a, b)


def sub(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Binary(ir.BinaryOp.SUB, a, b)


def mul(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Binary(ir.BinaryOp.MUL, a, b)


def div(a: ir.Expr, b: ir.Expr) -> ir.Expr:
    return ir.Binary(ir.BinaryOp.DIV, a, b)


def call(function: ir.Function, *args: ir.Expr) -> ir.Expr:
    return ir.Call(function, args)


def substitute(expr: ir.Expr, replacements: Mapping[str, ir.Expr]) -> ir.Expr:
    """`expr` with every `Var` named in `replacements` replaced (spans kept elsewhere)."""
    match expr:
        case ir.Const():
            return expr
        case ir.Var(name):
            return replacements.get(name, expr)
        case ir.Unary(op, operand, span):
            return ir.Unary(op, substitute(operand, replacements), span)
        case ir.Binary(op, left, right, span):
            return ir.Binary(op, substitute(left, replacements), substitute(right, replacements), span)
        case ir.Call(function, args, span):
            return ir.Call(function, tuple(substitute(a, replacements) for a in args), span)
        case ir.Where(condition, then, otherwise, span):
            return ir.Where(*(substitute(e, replacements) for e in (condition, then, otherwise)), span)
    raise TypeError(f"not an expression: {expr!r}")
