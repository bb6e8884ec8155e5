"""Subexpressions that a group's step computes more than once, computed once.

Exponential Euler evaluates a gate's rates twice: in the coefficient A of its
`phi(A dt)` and again in the right-hand side f it multiplies (`brainsim.integrators.
exponential_euler`), so a Hodgkin–Huxley step computed each alpha and beta, an
exponential each, twice. `share` binds every subtree that occurs more than once in
a group's stages and updates to a name of its own, a stage evaluated before the
others, and reads the name in its place. The same operations run on the same
operands, once instead of twice, so no value changes by a bit; the kernel applies it
to the expressions both backends compile (the jax program got faster too: XLA had not
merged these repeats itself; docs/performance.md).

Subtrees are compared by structure, without their source spans: `alpha_m` written in
the model once is the same computation wherever the integrator copied it.
"""

from __future__ import annotations

from typing import Hashable

from brainsim import ir
from brainsim.integrators.explicit import Stages, Updates

PREFIX = "_shared"


def share(stages: Stages, updates: Updates) -> tuple[Stages, Updates]:
    """(stages, updates) with each repeated subtree computed once, in a stage of its own.

    Stages run in order and updates read the values before the step (`kernel.advance`),
    so a subtree that reads no stage's name may be computed before every stage. Only such
    subtrees are shared; the largest is taken first, then the count starts again.
    """
    stage_names = {name for name, _ in stages}
    exprs = [expr for _, expr in (*stages, *updates)]
    shared: list[tuple[str, ir.Expr]] = []
    keys: dict[tuple, int] = {}  # (label, children's keys) -> key: equal structures, equal keys
    while (repeated := _largest_repeated(exprs + [expr for _, expr in shared], stage_names, keys)) is not None:
        key, expr = repeated
        name = ir.Var(f"{PREFIX}{len(shared)}")
        exprs = [_replace(e, key, name, keys) for e in exprs]
        shared = [(n, _replace(e, key, name, keys)) for n, e in shared]
        shared.append((name.name, expr))
    if not shared:
        return stages, updates
    new_stages = tuple(zip((name for name, _ in stages), exprs[:len(stages)]))
    new_updates = tuple(zip((name for name, _ in updates), exprs[len(stages):]))
    return (*_in_dependency_order(shared), *new_stages), new_updates


def _largest_repeated(exprs: list[ir.Expr], excluded: set[str], keys: dict) -> tuple[int, ir.Expr] | None:
    """(key, one occurrence) of the largest subtree that occurs at least twice in `exprs`,
    reads a name (a literal's arithmetic costs nothing worth a name) and none of the
    `excluded` names; the first written among equals. None if there is none."""
    counts: dict[int, int] = {}
    first: dict[int, tuple[int, ir.Expr]] = {}
    for expr in exprs:
        for node, key, size, names in _subtrees(expr, keys):
            if size > 1 and names and not (names & excluded):
                counts[key] = counts.get(key, 0) + 1
                first.setdefault(key, (size, node))
    best = None
    for key, count in counts.items():
        if count > 1 and (best is None or first[key][0] > first[best][0]):
            best = key
    return None if best is None else (best, first[best][1])


def _subtrees(expr: ir.Expr, keys: dict) -> list[tuple[ir.Expr, int, int, frozenset[str]]]:
    """(node, structural key, node count, names read) of every node of `expr`, children
    before parents. A key is a number from `keys`, which it extends: one per structure."""
    out: list[tuple[ir.Expr, int, int, frozenset[str]]] = []

    def visit(node: ir.Expr) -> tuple[int, int, frozenset[str]]:
        parts = [visit(child) for child in ir.children(node)]
        key = keys.setdefault((_label(node), *(k for k, _, _ in parts)), len(keys))
        size = 1 + sum(s for _, s, _ in parts)
        names = frozenset({node.name}) if isinstance(node, ir.Var) else frozenset().union(*(n for _, _, n in parts))
        out.append((node, key, size, names))
        return key, size, names

    visit(expr)
    return out


def _label(node: ir.Expr) -> Hashable:
    """What distinguishes `node` from another node with the same children (its span does not)."""
    match node:
        case ir.Const(value):
            return ("const", float(value).hex())
        case ir.Var(name):
            return ("var", name)
        case ir.Unary(op) | ir.Binary(op):
            return op
        case ir.Call(function):
            return function
        case ir.Where():
            return "where"
    raise TypeError(f"not an expression: {node!r}")


def _replace(expr: ir.Expr, key: int, name: ir.Var, keys: dict) -> ir.Expr:
    """`expr` with every subtree whose structural key (in `keys`) is `key` replaced by `name`."""

    def visit(node: ir.Expr) -> tuple[ir.Expr, int]:
        parts = [visit(child) for child in ir.children(node)]
        own = keys.setdefault((_label(node), *(k for _, k in parts)), len(keys))
        if own == key:
            return name, own
        if all(new is old for (new, _), old in zip(parts, ir.children(node))):
            return node, own
        return _with_children(node, [new for new, _ in parts]), own

    return visit(expr)[0]


def _with_children(node: ir.Expr, children: list[ir.Expr]) -> ir.Expr:
    """`node` with its subexpressions (in `ir.children` order) replaced by `children`."""
    match node:
        case ir.Unary(op, _, span):
            return ir.Unary(op, *children, span)
        case ir.Binary(op, _, _, span):
            return ir.Binary(op, *children, span)
        case ir.Call(function, _, span):
            return ir.Call(function, tuple(children), span)
        case ir.Where(span=span):
            return ir.Where(*children, span)
    raise TypeError(f"not an expression with subexpressions: {node!r}")


def _in_dependency_order(shared: list[tuple[str, ir.Expr]]) -> list[tuple[str, ir.Expr]]:
    """The shared stages ordered so that each comes after the shared names it reads."""
    pending, done, ordered = list(shared), set(), []
    names = {name for name, _ in shared}
    while pending:
        ready = [(n, e) for n, e in pending if not ((set(ir.free_names(e)) & names) - done)]
        ordered += ready
        done |= {n for n, _ in ready}
        pending = [item for item in pending if item[0] not in done]
    return ordered
