"""`(unless refractory)`: which variables a method holds while a neuron is refractory, and how.

Every method wraps the update of a held variable in `x if REFRACTORY else new`.
A method with stages also zeroes the held variable's derivative in each stage,
so that the stages of the other variables see it held, as the step's result does.
"""

from __future__ import annotations

from brainsim import ir

REFRACTORY = "_refractory"
"""Boolean per-neuron variable that update expressions may read: true while refractory."""


def held_variables(model: ir.NeuronModel, dt: float) -> frozenset[str]:
    """The variables `model` holds while refractory; none if its refractory period is under half a step."""
    if round(model.refractory / dt) == 0:
        return frozenset()
    return frozenset(e.variable for e in model.equations if e.clamped_when_refractory)


def hold(name: str, new: ir.Expr) -> ir.Expr:
    """The update of a held variable: its old value while refractory, else `new`."""
    return ir.Where(ir.Var(REFRACTORY), ir.Var(name), new)


def held_derivative(derivative: ir.Expr) -> ir.Expr:
    """A stage derivative of a held variable: zero while refractory."""
    return ir.Where(ir.Var(REFRACTORY), ir.Const(0.0), derivative)
