"""Event-driven synapse variables: each relaxes on its own, solved exactly between events.

A plastic synapse that is not clock-driven does no work in a step where
neither of its neurons spikes. That is possible because each of its equations
has the form

    dx/dt = (x_rest - x) / tau        (tau > 0; tau and x_rest constant)

whose solution over any interval is exact, x(t + s) = x_rest + (x(t) - x_rest)
exp(-s / tau): the engine stores each variable with the step it was last
brought up to date and applies that solution when a spike needs the value (a
trace of STDP decays to 0, the resources of short-term plasticity recover
towards 1 or U). `relaxations` finds (tau, x_rest) of each equation with the
projection's parameter values, or says in words why an equation is not of
that form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from brainsim import ir
from brainsim.integrators.exact import CONSTANT, affine
from brainsim.integrators.printing import format_expr


@dataclass(frozen=True, slots=True)
class Relaxation:
    """dx/dt = (rest - x) / tau for synapse state `variable`; tau in seconds, > 0."""

    variable: str
    tau: float
    rest: float


class NotRelaxation(Exception):
    """An event-driven equation does not relax on its own; `equation` is the culprit and
    the message says why and what to write instead."""

    def __init__(self, reason: str, equation: ir.Equation):
        super().__init__(reason)
        self.reason = reason
        self.equation = equation


def relaxations(model: ir.SynapseModel, dt: float) -> tuple[Relaxation, ...]:
    """(tau, rest) of every equation of the event-driven `model`, in order.

    Rejects (with `NotRelaxation`), e.g.::

        dw/dt = c * d_mod             not a relaxation: it reads c and d_mod
        dx/dt = x / tau               grows: a time constant of -tau
        dx/dt = 0                     does not relax at all
    """
    values = {p.name: p.value for p in model.parameters if isinstance(p.value, float)} | {"dt": dt}
    found = []
    for equation in model.equations:
        x = equation.variable
        form = affine(equation.rhs, values, frozenset({x}))
        stated = f"d{x}/dt = {format_expr(equation.rhs)}"
        if form is None or set(form) - {x, CONSTANT}:
            raise NotRelaxation(
                f"{stated} is not an exponential relaxation dx/dt = (x_rest - x) / tau with constants tau and "
                f"x_rest, so it cannot be solved exactly between events; write it in that form, or integrate "
                f"it every step by marking the block `equations (clock-driven)`",
                equation,
            )
        rate, drift = form.get(x, 0.0), form.get(CONSTANT, 0.0)
        if not rate < 0.0 or not math.isfinite(rate):
            tau = math.inf if rate == 0.0 else -1.0 / rate
            what = "does not relax (no time constant)" if rate == 0.0 else f"has the time constant {tau:g} s"
            raise NotRelaxation(
                f"{stated} {what}; an event-driven variable must relax with a time constant greater than 0",
                equation,
            )
        tau = -1.0 / rate
        found.append(Relaxation(x, tau, drift * tau))
    return tuple(found)
