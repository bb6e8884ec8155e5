"""Splitting an expression into the parts linear in some names.

`split(expr, names)` writes expr = rest + sum_k coefficient_k * name_k, with
`rest` and every coefficient free of `names`, symbolically (the coefficients
stay expressions: parameters, other variables, t). Three methods need it:
Euler–Maruyama splits a right-hand side into drift and diffusion (names: the
white noises), exponential Euler into B + A x (names: x), and the exact method
says with it why a system is not linear with constant coefficients.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.integrators.printing import format_expr
from brainsim.integrators.rewrite import ONE, ZERO


class NotLinear(Exception):
    """An expression is not linear in the names; `reason` says why ("it multiplies v by v")
    and `node` is the offending subexpression."""

    def __init__(self, reason: str, node: ir.Expr):
        super().__init__(reason)
        self.reason = reason
        self.node = node


def split(expr: ir.Expr, names: frozenset[str]) -> tuple[ir.Expr | None, dict[str, ir.Expr]]:
    """(rest, {name: coefficient}) with expr = rest + sum coefficient * name; None: a zero rest.

    Raises NotLinear where `expr` reads a name other than linearly: a product of
    two factors that both read names, a division by one, a function, power,
    comparison or condition of one.
    """
    found = ir.free_names(expr) & names
    if not found:
        return expr, {}
    match expr:
        case ir.Var(name):
            return None, {name: ONE}
        case ir.Unary(ir.UnaryOp.NEG, operand):
            rest, coefficients = split(operand, names)
            return _negated(rest), {name: _negated(c) for name, c in coefficients.items()}
        case ir.Binary(ir.BinaryOp.ADD | ir.BinaryOp.SUB as op, left, right):
            (rest_a, a), (rest_b, b) = split(left, names), split(right, names)
            return _combined(op, rest_a, rest_b), {name: _combined(op, a.get(name), b.get(name)) for name in a | b}
        case ir.Binary(ir.BinaryOp.MUL, left, right) if ir.free_names(left) & names and ir.free_names(right) & names:
            raise NotLinear(f"it multiplies {format_expr(left)} by {format_expr(right)}", expr)
        case ir.Binary(ir.BinaryOp.MUL, left, right) if ir.free_names(left) & names:
            rest, coefficients = split(left, names)
            return _scaled(rest, right), {name: _scaled(c, right) for name, c in coefficients.items()}
        case ir.Binary(ir.BinaryOp.MUL, left, right):
            rest, coefficients = split(right, names)
            return _scaled(rest, left), {name: _scaled(c, left) for name, c in coefficients.items()}
        case ir.Binary(ir.BinaryOp.DIV, left, right) if not ir.free_names(right) & names:
            rest, coefficients = split(left, names)
            return _divided(rest, right), {name: _divided(c, right) for name, c in coefficients.items()}
        case ir.Binary(ir.BinaryOp.DIV, _, right):
            raise NotLinear(f"it divides by {format_expr(right)}", expr)
        case ir.Binary(ir.BinaryOp.POW, left, right):
            raise NotLinear(f"it raises {format_expr(left)} to the power {format_expr(right)}", expr)
        case ir.Call(function, args):
            raise NotLinear(f"it takes {function.function_name}({', '.join(format_expr(a) for a in args)})", expr)
        case ir.Where(condition, then, otherwise) if not ir.free_names(condition) & names:
            (rest_a, a), (rest_b, b) = split(then, names), split(otherwise, names)
            return _chosen(condition, rest_a, rest_b), {
                name: _chosen(condition, a.get(name), b.get(name)) for name in a | b
            }
        case ir.Where(condition, _, _):
            raise NotLinear(f"it reads {_listed(ir.free_names(condition) & names)} in the condition {format_expr(condition)}", expr)
    raise NotLinear(f"it reads {_listed(found)} in the truth value {format_expr(expr)}", expr)


def _listed(names: set[str]) -> str:
    return ", ".join(sorted(names))


def _negated(a: ir.Expr | None) -> ir.Expr | None:
    return None if a is None else ir.Unary(ir.UnaryOp.NEG, a)


def _combined(op: ir.BinaryOp, a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    """a op b for op + or -, where None is zero."""
    if b is None:
        return a
    if a is None:
        return b if op is ir.BinaryOp.ADD else _negated(b)
    return ir.Binary(op, a, b)


def _scaled(a: ir.Expr | None, factor: ir.Expr) -> ir.Expr | None:
    if a is None:
        return None
    return factor if a == ONE else ir.Binary(ir.BinaryOp.MUL, a, factor)


def _divided(a: ir.Expr | None, divisor: ir.Expr) -> ir.Expr | None:
    return None if a is None else ir.Binary(ir.BinaryOp.DIV, a, divisor)


def _chosen(condition: ir.Expr, a: ir.Expr | None, b: ir.Expr | None) -> ir.Expr | None:
    if a is None and b is None:
        return None
    return ir.Where(condition, ZERO if a is None else a, ZERO if b is None else b)
