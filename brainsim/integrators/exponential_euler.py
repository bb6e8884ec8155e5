"""Exponential Euler for conditionally linear equations (Hodgkin–Huxley gates, the
membrane of a conductance-based neuron).

Each equation must be dx/dt = A x + B with A and B free of x (they may read
the other variables, frozen over the step). Brian2 writes the step as
x' = -B/A + (x + B/A) exp(A dt). Here the same value is written as

    x' = x + dt * f(x) * phi(A dt),   phi(z) = (exp(z) - 1) / z,

with f the right-hand side as written, because that form
  * keeps a fixed point (f(x) = 0) exactly, and its error is relative to the
    change dt f rather than to B / A, which is large where A is small;
  * is Euler where A dt rounds to 0 (phi = 1), where Brian2's form divides 0 by 0
    (an A that reads a conductance which can be zero at run time);
  * takes phi as expm1(z) / z, accurate near z = 0 because expm1 does not
    cancel there (`brainsim.backends.xmath.expm1`), and 1 at z = 0. One
    transcendental per variable: Kahan's (u - 1) / log(u) with u = exp(z), used
    before, needed an exp and a log, a fifth of a Hodgkin–Huxley step on numpy.
Stages per variable x: `_a_x` = A, `_z_x` = A dt, `_m_x` = expm1(A dt), `_phi_x`.
An equation with no x in it (A = 0 symbolically) gets the Euler step.
"""

from __future__ import annotations

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.integrators import linear
from brainsim.integrators.clamping import hold
from brainsim.integrators.explicit import Stages, Updates
from brainsim.integrators.rewrite import ONE, ZERO, add, call, div, mul, var


def exponential_euler(model: ir.NeuronModel, held: frozenset[str], method_span) -> tuple[Stages, Updates]:
    """The stages and updates of one exponential Euler step.

    Raises InvalidValueError (at `method_span`) for an equation not linear in its own variable.
    """
    stages: list[tuple[str, ir.Expr]] = []
    updates = []
    for equation in model.equations:
        x = equation.variable
        try:
            _, coefficients = linear.split(equation.rhs, frozenset({x}))
        except linear.NotLinear as problem:
            raise InvalidValueError(
                f"exponential_euler needs d{x}/dt linear in {x} (A {x} + B, with A and B free of {x}): {problem.reason}",
                method_span,
                hint="use method = rk4 or euler for this model",
            ) from None
        step = mul(var("dt"), equation.rhs)
        if x in coefficients:
            a, z, m, phi = (f"_{part}_{x}" for part in ("a", "z", "m", "phi"))
            stages += [
                (a, coefficients[x]),
                (z, mul(var(a), var("dt"))),
                (m, call(ir.Function.EXPM1, var(z))),
                (phi, _phi(var(z), var(m))),
            ]
            step = mul(step, var(phi))
        new = add(var(x), step)
        updates.append((x, hold(x, new) if x in held else new))
    return tuple(stages), tuple(updates)


def _phi(z: ir.Expr, m: ir.Expr) -> ir.Expr:
    """(exp(z) - 1) / z from z and m = expm1(z): 1 where z == 0, m / z elsewhere."""
    return ir.Where(ir.Binary(ir.BinaryOp.EQ, z, ZERO), ONE, div(m, z))
