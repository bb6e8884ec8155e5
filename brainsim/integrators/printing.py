"""Integration updates as readable text, for `brainsim info --updates` and error messages."""

from __future__ import annotations

from brainsim import ir

_PRECEDENCE = {
    ir.BinaryOp.OR: 1, ir.BinaryOp.AND: 2,
    ir.BinaryOp.LT: 3, ir.BinaryOp.LE: 3, ir.BinaryOp.GT: 3, ir.BinaryOp.GE: 3, ir.BinaryOp.EQ: 3, ir.BinaryOp.NE: 3,
    ir.BinaryOp.ADD: 4, ir.BinaryOp.SUB: 4, ir.BinaryOp.MUL: 5, ir.BinaryOp.DIV: 5, ir.BinaryOp.POW: 7,
}


def format_expr(expr: ir.Expr, parent: int = 0) -> str:
    """`expr` as readable infix text, parenthesised only where needed."""
    match expr:
        case ir.Const(value):
            return repr(value)
        case ir.Var(name):
            return name
        case ir.Unary(op, operand):
            text = f"-{format_expr(operand, 6)}" if op is ir.UnaryOp.NEG else f"not {format_expr(operand, 2)}"
            return f"({text})" if parent > 5 else text
        case ir.Binary(op, left, right):
            level = _PRECEDENCE[op]
            # Left-associative: the right operand of a - b or a / b needs parentheses at equal level.
            text = f"{format_expr(left, level)} {op.value} {format_expr(right, level + 1)}"
            return f"({text})" if level < parent else text
        case ir.Call(function, args):
            return f"{function.function_name}({', '.join(format_expr(a) for a in args)})"
        case ir.Where(condition, then, otherwise):
            text = f"{format_expr(then, 1)} if {format_expr(condition, 1)} else {format_expr(otherwise, 1)}"
            return f"({text})" if parent > 0 else text
    raise TypeError(f"not an expression: {expr!r}")
