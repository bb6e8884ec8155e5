"""How each neuron model advances its state over one step, as IR expressions.

`integrate(model, dt)` returns an `Integration`: for every state variable with an
equation, one expression giving its value at t + dt from the values at t (all
updates are evaluated simultaneously from the old values), plus a table of the
constants those expressions name. The method is data: it can be printed,
compared and handed to any backend.

Two methods:

* exact — when every right-hand side is affine in the state variables and the
  inputs, with coefficients built only from parameters, literals and `dt`
  (inputs are constant over a step). For dX/dt = A X + B u + c that is
  X(t+dt) = P X + Phi (B u + c) exactly, with [[P, Phi], [0, I]] =
  expm([[A dt, I dt], [0, 0]]), so a singular A (a pure integrator) needs no
  special case.
  The numbers are computed once, on the host, in float64, and the update
  expressions refer to them by generated names (`_P_v_ge`, `_c_v`), so every
  backend computes the same sums of the same products.
* euler — otherwise: x + dt * f(x).

Variables marked `clamped_when_refractory` keep their old value while the
neuron is refractory (`REFRACTORY` is true). For the exact method the other
variables then follow the system with the clamped rows removed, which has its
own propagators (`_Pr_...`, `_cr_...`) where they differ.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.errors import InvalidValueError

REFRACTORY = "_refractory"
"""Boolean per-neuron variable that update expressions may read: true while refractory."""


class Method(enum.Enum):
    EXACT = "exact"
    EULER = "euler"


@dataclass(frozen=True, slots=True)
class Integration:
    """One step of a neuron model: `updates` give each variable's new value from the old.

    `constants` are the values of the generated names the updates read; `reason`
    says why the method was chosen.
    """

    model: str
    method: Method
    updates: tuple[tuple[str, ir.Expr], ...]
    constants: tuple[tuple[str, float], ...]
    reason: str

    def __str__(self) -> str:
        lines = [f"{self.model}: {self.method.value} ({self.reason})"]
        lines += [f"  {name}' = {format_expr(expr)}" for name, expr in self.updates]
        lines += [f"  {name} = {value!r}" for name, value in self.constants]
        return "\n".join(lines)


def integrate(model: ir.NeuronModel, dt: float) -> Integration:
    """The one-step update of `model` with its parameter values, for step `dt` (s).

    Raises InvalidValueError if an equation names something that is not a state variable.
    """
    states = [s.name for s in model.states]
    for equation in model.equations:
        if equation.variable not in states:
            raise InvalidValueError(
                f"model {model.name} has an equation for `{equation.variable}`, which is not a state variable",
                equation.span,
            )
    clamping = round(model.refractory / dt) > 0 and any(e.clamped_when_refractory for e in model.equations)
    values = {p.name: p.value for p in model.parameters} | {"dt": dt}
    variables = states + [i.name for i in model.inputs]
    rows = {e.variable: _affine(e.rhs, values, frozenset(variables)) for e in model.equations}
    nonlinear = [name for name, row in rows.items() if row is None]
    if nonlinear:
        reason = ", ".join(f"d{name}/dt" for name in nonlinear) + " not affine with constant coefficients"
        return Integration(model.name, Method.EULER, _euler(model, clamping), (), reason)
    updates, constants = _exact(model, rows, variables, dt, clamping)
    return Integration(model.name, Method.EXACT, updates, constants, "linear with constant coefficients")


# --------------------------------------------------------------------------- forward Euler


def _euler(model: ir.NeuronModel, clamping: bool) -> tuple[tuple[str, ir.Expr], ...]:
    updates = []
    for equation in model.equations:
        old = ir.Var(equation.variable)
        new: ir.Expr = ir.Binary(ir.BinaryOp.ADD, old, ir.Binary(ir.BinaryOp.MUL, ir.Var("dt"), equation.rhs))
        if clamping and equation.clamped_when_refractory:
            new = ir.Where(ir.Var(REFRACTORY), old, new)
        updates.append((equation.variable, new))
    return tuple(updates)


# --------------------------------------------------------------------------- exact (linear) integration

_CONSTANT = ""  # the key of the constant term in an affine form; never a variable name


def _affine(expr: ir.Expr, values: Mapping[str, float], variables: frozenset[str]) -> dict[str, float] | None:
    """`expr` as {variable: coefficient, _CONSTANT: term}, or None if it is not affine.

    Coefficients must come from literals and `values` (parameters, dt) alone.
    """

    def constant(form: dict[str, float] | None) -> float | None:
        return form.get(_CONSTANT, 0.0) if form is not None and set(form) <= {_CONSTANT} else None

    def scaled(form: dict[str, float], factor: float) -> dict[str, float]:
        return {key: value * factor for key, value in form.items()}

    def recurse(e: ir.Expr) -> dict[str, float] | None:
        return _affine(e, values, variables)

    match expr:
        case ir.Const(value):
            return {_CONSTANT: value}
        case ir.Var(name) if name in variables:
            return {name: 1.0}
        case ir.Var(name) if name in values:
            return {_CONSTANT: values[name]}
        case ir.Unary(ir.UnaryOp.NEG, operand):
            form = recurse(operand)
            return None if form is None else scaled(form, -1.0)
        case ir.Binary(ir.BinaryOp.ADD | ir.BinaryOp.SUB as op, left, right):
            a, b = recurse(left), recurse(right)
            if a is None or b is None:
                return None
            sign = 1.0 if op is ir.BinaryOp.ADD else -1.0
            return {key: a.get(key, 0.0) + sign * b.get(key, 0.0) for key in a | b}
        case ir.Binary(ir.BinaryOp.MUL, left, right):
            a, b = recurse(left), recurse(right)
            if a is None or b is None:
                return None
            if (factor := constant(a)) is not None:
                return scaled(b, factor)
            if (factor := constant(b)) is not None:
                return scaled(a, factor)
            return None
        case ir.Binary(ir.BinaryOp.DIV, left, right):
            a, divisor = recurse(left), constant(recurse(right))
            if a is None or not divisor:
                return None
            return {key: value / divisor for key, value in a.items()}
        case ir.Binary(ir.BinaryOp.POW, left, right):
            base, exponent = constant(recurse(left)), constant(recurse(right))
            return _folded(lambda: base**exponent, base is not None and exponent is not None)
        case ir.Call(function, args):
            folded = [constant(recurse(arg)) for arg in args]
            return _folded(lambda: ir.HOST_FUNCTIONS[function](*folded), None not in folded)
        case _:
            return None  # t, comparisons, conditionals, products of variables




def _folded(compute, possible: bool) -> dict[str, float] | None:
    """A constant term computed on the host, or None where that is impossible (then: Euler)."""
    if not possible:
        return None
    try:
        value = float(compute())
    except (ValueError, OverflowError, ZeroDivisionError, TypeError):
        return None
    return {_CONSTANT: value} if math.isfinite(value) else None


def _exact(
    model: ir.NeuronModel,
    rows: dict[str, dict[str, float]],
    variables: list[str],
    dt: float,
    clamping: bool,
) -> tuple[tuple[tuple[str, ir.Expr], ...], tuple[tuple[str, float], ...]]:
    states = [s.name for s in model.states]
    clamped = {e.variable for e in model.equations if e.clamped_when_refractory} if clamping else set()
    free = _system(rows, states, variables[len(states):], exclude=set())
    held = _system(rows, states, variables[len(states):], exclude=clamped) if clamped else free
    constants: dict[str, float] = {}
    updates = []
    for equation in model.equations:
        name = equation.variable
        i = states.index(name)
        free_row = _propagator_row(i, *free, dt)
        new = _propagate(name, free_row, variables, "_P", "_c", constants)
        if name in clamped:
            new = ir.Where(ir.Var(REFRACTORY), ir.Var(name), new)
        elif not np.array_equal(free_row, held_row := _propagator_row(i, *held, dt)):
            refractory_update = _propagate(name, held_row, variables, "_Pr", "_cr", constants)
            new = ir.Where(ir.Var(REFRACTORY), refractory_update, new)
        updates.append((name, new))
    taken = {p.name for p in model.parameters} | set(variables)
    if clash := taken & constants.keys():
        raise InvalidValueError(f"model {model.name} uses the reserved name(s) {sorted(clash)}", model.span)
    return tuple(updates), tuple(constants.items())


def _system(
    rows: dict[str, dict[str, float]], states: list[str], inputs: list[str], exclude: set[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, B, c) of dX/dt = A X + B u + c; the rows of `exclude` left zero."""
    a, b, c = np.zeros((len(states), len(states))), np.zeros((len(states), len(inputs))), np.zeros(len(states))
    for name, row in rows.items():
        if name in exclude:
            continue
        i = states.index(name)
        for key, coefficient in row.items():
            if key == _CONSTANT:
                c[i] = coefficient
            elif key in inputs:
                b[i, inputs.index(key)] = coefficient
            else:
                a[i, states.index(key)] = coefficient
    return a, b, c


def _propagator_row(i: int, a: np.ndarray, b: np.ndarray, c: np.ndarray, dt: float) -> np.ndarray:
    """Row i of [P, Phi B, Phi c]: x_i(t + dt) = P_i X + (Phi B)_i u + (Phi c)_i.

    [[P, Phi], [0, I]] = expm([[A dt, I dt], [0, 0]]), taken over only the
    variables x_i depends on (directly or not): the entries stay of order dt
    (no needless squarings), and a variable that does not depend on a clamped
    one gets bit for bit the same row whether the neuron is refractory or not.
    """
    closure = _dependencies(a, i)
    k = len(closure)
    augmented = np.zeros((2 * k, 2 * k))
    augmented[:k, :k] = a[np.ix_(closure, closure)] * dt
    augmented[:k, k:] = np.eye(k) * dt
    exponential = expm(augmented)
    r = closure.index(i)
    p = np.zeros(len(a))
    p[closure] = exponential[r, :k]
    phi = exponential[r, k:]
    return np.concatenate([p, phi @ b[closure], [phi @ c[closure]]])


def _dependencies(a: np.ndarray, i: int) -> list[int]:
    """The state indices x_i depends on through A, itself included, ascending."""
    found, frontier = {i}, [i]
    while frontier:
        j = frontier.pop()
        for k in np.flatnonzero(a[j]):
            if int(k) not in found:
                found.add(int(k))
                frontier.append(int(k))
    return sorted(found)


def _propagate(name: str, row: np.ndarray, variables: list[str], p: str, c: str, constants: dict[str, float]) -> ir.Expr:
    """sum_j row[j] * variables[j] + row[-1], in variable order, skipping exact zeros."""
    terms: list[ir.Expr] = []
    for j, other in enumerate(variables):
        if row[j] != 0.0:
            constant = f"{p}_{name}_{other}"
            constants[constant] = float(row[j])
            terms.append(ir.Binary(ir.BinaryOp.MUL, ir.Var(constant), ir.Var(other)))
    if row[-1] != 0.0 or not terms:
        constants[f"{c}_{name}"] = float(row[-1])
        terms.append(ir.Var(f"{c}_{name}"))
    total = terms[0]
    for term in terms[1:]:
        total = ir.Binary(ir.BinaryOp.ADD, total, term)
    return total


# Padé (13, 13) coefficients and the norm bound below which it is accurate to
# double precision without scaling (Higham 2005, "The scaling and squaring method
# for the matrix exponential revisited").
_PADE13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0,
    1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)
_THETA13 = 5.371920351148152


def expm(matrix: np.ndarray) -> np.ndarray:
    """The matrix exponential, by Padé (13, 13) with scaling and squaring, in float64.

    The matrix is first balanced (see `_balance`), which keeps systems that mix
    quantities of very different magnitudes (volts and nanoamperes) from being
    squared needlessly many times.
    """
    a, scale = _balance(np.array(matrix, dtype=np.float64))
    return _pade_expm(a) * scale[:, None] / scale[None, :]


def _balance(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(D^-1 A D, diag D), D powers of two chosen so that each variable's coupling
    in and out have comparable size (Parlett and Reinsch); exact, since
    multiplying by a power of two does not round."""
    scale = np.ones(len(a))
    diagonal = np.abs(np.diag(a)).max(initial=0.0)
    balanced = False
    while not balanced:
        balanced = True
        for i in range(len(a)):
            column = np.abs(a[:, i]).sum() - abs(a[i, i])
            row = np.abs(a[i, :]).sum() - abs(a[i, i])
            if column == 0.0 and row == 0.0:
                continue
            if column == 0.0 or row == 0.0:
                # A one-way coupling: shrink it to the size of the diagonal.
                if column + row <= diagonal:
                    continue
                factor = 2.0 ** math.floor(math.log2(diagonal / (column + row))) if diagonal else 1.0
                factor = factor if row == 0.0 else 1.0 / factor
            else:
                factor = 2.0 ** round(0.5 * math.log2(row / column))
            if factor != 1.0 and column * factor + row / factor < 0.95 * (column + row):
                a[:, i] *= factor
                a[i, :] /= factor
                scale[i] *= factor
                balanced = False
    return a, scale


def _pade_expm(a: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a, 1)
    if norm == 0.0:
        return np.eye(len(a))  # exactly; the solve below would round
    squarings = max(0, math.ceil(math.log2(norm / _THETA13))) if norm > _THETA13 else 0
    a = a / 2.0**squarings
    b = _PADE13
    identity = np.eye(len(a))
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * identity)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * identity
    result = np.linalg.solve(v - u, v + u)
    for _ in range(squarings):
        result = result @ result
    return result


# --------------------------------------------------------------------------- printing

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
