"""Euler–Maruyama: forward Euler for equations that read white noise.

A right-hand side that reads the white noises xi_k (dimension s^-1/2) must be
linear in them: dx/dt = f + sum_k g_k xi_k, with f and g_k free of every xi
(they may read anything else, so multiplicative noise is allowed; the result is
the Itô solution). One step is

    x' = x + dt * f + sum_k (_sqrt_dt * g_k) * _normal_xi_k

where `_normal_xi_k` is a standard normal draw per neuron and step, independent
across neurons, steps and noises, and `_sqrt_dt` = sqrt(dt) is a host constant.
Dimensions agree: g_k xi_k has the dimension of x / s, so g_k has that of
x s^-1/2 and sqrt(dt) g_k N has the dimension of x, as dt f does.
"""

from __future__ import annotations

import math

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.integrators import linear
from brainsim.integrators.clamping import hold
from brainsim.integrators.explicit import Constants, Updates
from brainsim.integrators.rewrite import ONE, add, mul, var

SQRT_DT = "_sqrt_dt"


def normal_name(noise: str) -> str:
    """The name the kernel binds to the standard normal draws for white noise `noise`."""
    return f"_normal_{noise}"


def euler_maruyama(model: ir.NeuronModel, dt: float, held: frozenset[str]) -> tuple[Updates, Constants]:
    """The updates of one Euler–Maruyama step and the constant `_sqrt_dt`.

    Raises InvalidValueError where a right-hand side reads a noise other than
    linearly (`xi * xi`, `exp(xi)`, `1 / xi`, `xi` in a condition).
    """
    noises = frozenset(model.noises)
    updates = []
    for equation in model.equations:
        x = equation.variable
        try:
            drift, diffusion = linear.split(equation.rhs, noises)
        except linear.NotLinear as problem:
            raise InvalidValueError(
                f"d{x}/dt must be linear in the white noise ({', '.join(model.noises)}): {problem.reason}",
                problem.node.span or equation.span,
                hint="Euler–Maruyama integrates dx/dt = f + g * xi, with f and g free of xi",
            ) from None
        new: ir.Expr = var(x) if drift is None else add(var(x), mul(var("dt"), drift))
        for noise in model.noises:
            if noise in diffusion:
                scale = var(SQRT_DT) if diffusion[noise] == ONE else mul(var(SQRT_DT), diffusion[noise])
                new = add(new, mul(scale, var(normal_name(noise))))
        updates.append((x, hold(x, new) if x in held else new))
    return tuple(updates), ((SQRT_DT, math.sqrt(dt)),)
