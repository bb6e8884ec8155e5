"""The exact method: propagators of a linear system with constant coefficients.

When every right-hand side is affine in the state variables and the inputs,
with coefficients built only from parameters, literals and `dt` (inputs are
constant over a step), dX/dt = A X + B u + c has the exact step
X(t+dt) = P X + Phi (B u + c), with [[P, Phi], [0, I]] = expm([[A dt, I dt], [0, 0]]),
so a singular A (a pure integrator) needs no special case. The numbers are
computed once, on the host, in float64, and the updates refer to them by
generated names (`_P_v_ge`, `_c_v`), so every backend computes the same sums of
the same products.

A heterogeneous parameter (one value per neuron) that the equations read makes
the coefficients differ between neurons. The neurons are then sorted by their
tuple of such values (`distinct_parameters`), the propagators are computed once
per distinct tuple, exactly as for a homogeneous model, and a propagator that
differs between tuples becomes an array with one value per neuron: a
population with a few distinct values costs a few matrix exponentials.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np

from brainsim import ir
from brainsim.integrators import linear
from brainsim.integrators.clamping import REFRACTORY, hold
from brainsim.integrators.matrix_exponential import expm
from brainsim.integrators.printing import format_expr



def distinct_parameters(
    model: ir.NeuronModel, parameters: Mapping[str, np.ndarray]
) -> tuple[list[ir.NeuronModel], np.ndarray | None]:
    """`model` once per distinct tuple of the heterogeneous parameters its equations read,
    with those parameters as numbers, and the index of each neuron's tuple (None: a
    single variant, no heterogeneous parameter read). `parameters` holds those
    parameters' values per neuron (`brainsim.network.values`)."""
    read = {name for e in model.equations for name in ir.free_names(e.rhs)}
    names = [p.name for p in model.parameters if not isinstance(p.value, float) and p.name in read]
    if not names:
        return [model], None
    tuples, neurons = np.unique(np.stack([parameters[n] for n in names], axis=1), axis=0, return_inverse=True)
    variants = []
    for values in tuples:
        chosen = dict(zip(names, map(float, values)))
        variants.append(replace(model, parameters=tuple(
            replace(p, value=chosen[p.name]) if p.name in chosen else p for p in model.parameters
        )))
    return variants, neurons.reshape(-1)


def affine_rows(model: ir.NeuronModel, dt: float) -> dict[str, dict[str, float] | None]:
    """Each equation's right-hand side as {variable or input: coefficient, "": constant term}
    with the model's parameter values, or None where it is not affine with constant coefficients."""
    values = {p.name: p.value for p in model.parameters} | {"dt": dt}
    return {e.variable: affine(e.rhs, values, _variables(model)) for e in model.equations}


def why_not_exact(model: ir.NeuronModel, equation: ir.Equation) -> str:
    """Why `equation` (whose row `affine_rows` found None) is not affine with constant
    coefficients, in words: "dm/dt is not linear in the state with constant coefficients:
    it multiplies m by ..."."""
    constant = {p.name for p in model.parameters} | {"dt"}
    prefix = f"d{equation.variable}/dt is not linear in the state with constant coefficients"
    try:
        rest, coefficients = linear.split(equation.rhs, _variables(model))
    except linear.NotLinear as problem:
        return f"{prefix}: {problem.reason}"
    for name, coefficient in coefficients.items():
        if varying := ir.free_names(coefficient) - constant:
            return f"{prefix}: it multiplies {name} by {format_expr(coefficient)}, which varies with {_listed(varying)}"
    if rest is not None and (varying := ir.free_names(rest) - constant):
        return f"{prefix}: its term {format_expr(rest)} varies with {_listed(varying)}"
    return f"{prefix}: a coefficient is not a finite number"


def _variables(model: ir.NeuronModel) -> frozenset[str]:
    return frozenset(s.name for s in model.states) | {i.name for i in model.inputs}


def _listed(names: set[str]) -> str:
    return ", ".join(sorted(names))


CONSTANT = ""  # the key of the constant term in an affine form; never a variable name


def affine(expr: ir.Expr, values: Mapping[str, float], variables: frozenset[str]) -> dict[str, float] | None:
    """`expr` as {variable: coefficient, CONSTANT: term}, or None if it is not affine.

    Coefficients must come from literals and `values` (parameters, dt) alone.
    """

    def constant(form: dict[str, float] | None) -> float | None:
        return form.get(CONSTANT, 0.0) if form is not None and set(form) <= {CONSTANT} else None

    def scaled(form: dict[str, float], factor: float) -> dict[str, float]:
        return {key: value * factor for key, value in form.items()}

    def recurse(e: ir.Expr) -> dict[str, float] | None:
        return affine(e, values, variables)

    match expr:
        case ir.Const(value):
            return {CONSTANT: value}
        case ir.Var(name) if name in variables:
            return {name: 1.0}
        case ir.Var(name) if name in values:
            return {CONSTANT: values[name]}
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
    return {CONSTANT: value} if math.isfinite(value) else None


def exact(
    model: ir.NeuronModel,
    rows: Sequence[dict[str, dict[str, float]]],
    dt: float,
    clamped: frozenset[str],
    neurons: np.ndarray | None = None,
) -> tuple[tuple[tuple[str, ir.Expr], ...], tuple[tuple[str, float | np.ndarray], ...]]:
    """(updates, constants) of the exact method for the affine `rows` of `affine_rows`,
    one per variant of `distinct_parameters`, whose index per neuron is `neurons`.

    A constant is a float where every variant gives the same bits, else an array
    with one value per neuron. A variable in `clamped` holds while refractory;
    one that depends on a clamped variable gets the propagators of the system
    without the clamped rows (`_Pr_...`, `_cr_...`) while refractory, where they differ.
    """
    states = [s.name for s in model.states]
    variables = states + [i.name for i in model.inputs]
    inputs = variables[len(states):]
    free = [_system(r, states, inputs, exclude=set()) for r in rows]
    held = [_system(r, states, inputs, exclude=clamped) for r in rows] if clamped else free
    constants: dict[str, float | np.ndarray] = {}
    updates = []
    for equation in model.equations:
        name = equation.variable
        i = states.index(name)
        free_rows = np.stack([_propagator_row(i, *system, dt) for system in free])
        new = _propagate(name, free_rows, variables, "_P", "_c", constants, neurons)
        if name in clamped:
            new = hold(name, new)
        elif not np.array_equal(free_rows, held_rows := np.stack([_propagator_row(i, *system, dt) for system in held])):
            refractory_update = _propagate(name, held_rows, variables, "_Pr", "_cr", constants, neurons)
            new = ir.Where(ir.Var(REFRACTORY), refractory_update, new)
        updates.append((name, new))
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
            if key == CONSTANT:
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
    if augmented[:k, :k].any():
        exponential = expm(augmented)
    else:  # a pure integrator (A = 0): P = I and Phi = I dt exactly, where Pade would round P below 1
        exponential = np.eye(2 * k)
        exponential[:k, k:] = augmented[:k, k:]
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


def _propagate(
    name: str,
    rows: np.ndarray,
    variables: list[str],
    p: str,
    c: str,
    constants: dict[str, float | np.ndarray],
    neurons: np.ndarray | None,
) -> ir.Expr:
    """sum_j rows[:, j] * variables[j] + rows[:, -1], in variable order, skipping the
    columns that are exactly zero for every variant (`rows` has one row per variant)."""
    terms: list[ir.Expr] = []
    for j, other in enumerate(variables):
        if np.any(rows[:, j] != 0.0):
            constant = f"{p}_{name}_{other}"
            constants[constant] = _per_neuron(rows[:, j], neurons)
            terms.append(ir.Binary(ir.BinaryOp.MUL, ir.Var(constant), ir.Var(other)))
    if np.any(rows[:, -1] != 0.0) or not terms:
        constants[f"{c}_{name}"] = _per_neuron(rows[:, -1], neurons)
        terms.append(ir.Var(f"{c}_{name}"))
    total = terms[0]
    for term in terms[1:]:
        total = ir.Binary(ir.BinaryOp.ADD, total, term)
    return total


def _per_neuron(column: np.ndarray, neurons: np.ndarray | None) -> float | np.ndarray:
    """One float where every variant has the same bits (then a scalar times a state is the
    same product as an array's would be), else the value of each neuron's variant."""
    if neurons is None or np.all(column.view(np.uint64) == column[0:1].view(np.uint64)):
        return float(column[0])
    return column[neurons]
