"""How each neuron model advances its state over one step, as IR expressions.

`integrate(model, dt)` returns an `Integration`: named stages (intermediate
values, evaluated in order), then for every state variable with an equation one
expression giving its value at t + dt (all updates simultaneous, from the old
values and the stages), plus the constants those expressions name and the noise
draws they read. The method is data: it can be printed, compared and handed to
any backend.

Methods (`ir.Method`), each in its own module:

* exact (`exact`): linear with constant coefficients, by matrix exponential;
* exponential_euler (`exponential_euler`): each equation linear in its own variable;
* rk2, rk4 (`explicit`): explicit midpoint and classic Runge–Kutta, as named stages;
* euler (`explicit`): x + dt f(x); Euler–Maruyama (`noise`) when the equations read white noise.

A model without `method` gets exact where possible, else euler; a model that
reads noise gets Euler–Maruyama (see `integrate`). Variables marked
`clamped_when_refractory` keep their old value while the neuron is refractory
(`REFRACTORY` is true), in every method (`clamping`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.integrators.clamping import REFRACTORY, held_variables
from brainsim.integrators.exact import affine_rows, distinct_parameters, exact, why_not_exact
from brainsim.integrators.explicit import TABLEAUS, euler, runge_kutta
from brainsim.integrators.exponential_euler import exponential_euler
from brainsim.integrators.matrix_exponential import expm
from brainsim.integrators.noise import euler_maruyama, normal_name
from brainsim.integrators.printing import format_expr

__all__ = ["REFRACTORY", "Integration", "expm", "format_expr", "integrate"]


@dataclass(frozen=True, slots=True)
class Integration:
    """One step of a neuron model.

    `stages` are named intermediate values, evaluated in order before the updates;
    each may read the old state, inputs, parameters, t, dt, REFRACTORY, the
    constants, the noise draws and earlier stages. `updates` give the new value
    of each variable with an equation, all from the old values (simultaneously),
    and may read the stages. `constants` are the values of generated names
    (propagators, fractions of dt): a float, or one value per neuron (an array) for
    the exact method's propagators of heterogeneous parameters. `noises` are generated names the kernel binds
    each step to independent standard normal draws per neuron, one per name in
    the model's `noises`, in that order. `reason` says why this method.
    """

    model: str
    method: ir.Method
    stages: tuple[tuple[str, ir.Expr], ...]
    updates: tuple[tuple[str, ir.Expr], ...]
    constants: tuple[tuple[str, float | np.ndarray], ...]
    noises: tuple[str, ...]
    reason: str

    def __str__(self) -> str:
        lines = [f"{self.model}: {self.method.value} ({self.reason})"]
        lines += [f"  {name} = {format_expr(expr)}" for name, expr in self.stages]
        lines += [f"  {name}' = {format_expr(expr)}" for name, expr in self.updates]
        lines += [f"  {name} = {_shown(value)}" for name, value in self.constants]
        lines += [f"  {name} ~ N(0, 1), per neuron and step" for name in self.noises]
        return "\n".join(lines)


def _shown(value: float | np.ndarray) -> str:
    """A constant for `brainsim info`: its repr, or for one value per neuron a summary."""
    if isinstance(value, float):
        return repr(value)
    return (f"per neuron: {value.size} values, {np.unique(value).size} distinct, "
            f"from {float(value.min())!r} to {float(value.max())!r}")


def integrate(model: ir.NeuronModel, dt: float, parameters: Mapping[str, np.ndarray] | None = None) -> Integration:
    """The one-step update of `model` with its parameter values, for step `dt` (s).

    `parameters` holds the values per neuron of the model's heterogeneous
    parameters (`brainsim.network.values`); the exact method needs those its
    equations read, the other methods read them at run time.

    The method is the model's `method`, or, if it names none: exact if the
    system is linear with constant coefficients, else euler (today's models keep
    their results bit for bit); Euler–Maruyama if the equations read white noise.

    `model` is valid (`brainsim.validate`). Raises InvalidValueError if the
    model's method cannot integrate its equations (exact on a
    system not linear with constant coefficients, exponential_euler on an
    equation not linear in its own variable, any method but euler with noise),
    or if an equation reads noise other than linearly.
    """
    choice = model.method
    held = held_variables(model, dt)
    asked = "the model's choice" if choice else None
    if model.noises:
        if choice is not None and choice.method is not ir.Method.EULER:
            raise InvalidValueError(
                f"model {model.name} reads white noise ({', '.join(model.noises)}), which {choice.method.value} "
                "cannot integrate: only euler (Euler–Maruyama) integrates noise",
                choice.span,
            )
        updates, constants = euler_maruyama(model, dt, held)
        reason = f"{asked or 'chosen automatically'}; Euler–Maruyama for the white noise {', '.join(model.noises)}"
        noises = tuple(normal_name(n) for n in model.noises)
        return Integration(model.name, ir.Method.EULER, (), updates, constants, noises, reason)
    method = choice.method if choice else None
    match method:
        case None | ir.Method.EXACT:
            variants, neurons = distinct_parameters(model, parameters or {})
            rows = [affine_rows(variant, dt) for variant in variants]
            nonlinear = [(variant, e) for variant, r in zip(variants, rows) for e in model.equations if r[e.variable] is None]
            if not nonlinear:
                return _integration(model, ir.Method.EXACT, (), *exact(model, rows, dt, held, neurons),
                                    asked or "linear with constant coefficients")
            if method is ir.Method.EXACT:
                raise InvalidValueError(
                    f"model {model.name} cannot use method = exact: {why_not_exact(*nonlinear[0])}",
                    choice.span,
                    hint="use method = exponential_euler, rk4 or euler",
                )
            names = ", ".join(dict.fromkeys(f"d{e.variable}/dt" for _, e in nonlinear))
            return _integration(model, ir.Method.EULER, (), euler(model, held), (),
                                f"chosen automatically: {names} not linear with constant coefficients")
        case ir.Method.EULER:
            return _integration(model, method, (), euler(model, held), (), asked)
        case ir.Method.RK2 | ir.Method.RK4:
            return _integration(model, method, *runge_kutta(model, TABLEAUS[method], dt, held), asked)
        case ir.Method.EXPONENTIAL_EULER:
            return _integration(model, method, *exponential_euler(model, held, choice.span), (), asked)
    raise TypeError(f"not a method: {method!r}")


def _integration(model, method, stages, updates, constants, reason) -> Integration:
    return Integration(model.name, method, stages, updates, constants, (), reason)
