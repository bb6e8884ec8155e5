"""`(unless refractory)` with staged methods: held variables hold, and the other
variables' stages see them held (their stage derivatives are zero)."""

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.backends.expressions import eval_expr
from brainsim.integrators import REFRACTORY, integrate

from .networks import div, neg, sub, var
from .test_integrators import XP, advance, model, parameters

DT = 1e-4


def coupled(method: ir.Method) -> ir.NeuronModel:
    """dv/dt = -v / tau (held while refractory), dw/dt = (v - w) / tau_w."""
    equations = (
        ir.Equation("v", div(neg(var("v")), var("tau")), clamped_when_refractory=True),
        ir.Equation("w", div(sub(var("v"), var("w")), var("tau_w"))),
    )
    return model(equations, states=("v", "w"), refractory=1e-3, method=method, tau=5e-3, tau_w=3e-3)


@pytest.mark.parametrize("method", [ir.Method.RK2, ir.Method.RK4, ir.Method.EXPONENTIAL_EULER, ir.Method.EULER])
def test_while_refractory_v_holds_and_w_relaxes_to_the_held_value(method):
    neuron = coupled(method)
    history = advance(integrate(neuron, DT), {"v": 1.0, "w": 0.0}, 100, parameters(neuron) | {REFRACTORY: True})
    assert history[-1]["v"] == 1.0
    # w follows dw/dt = (1 - w) / tau_w, to the method's accuracy (Euler's is the worst, ~1e-3)
    assert history[-1]["w"] == pytest.approx(1.0 - math.exp(-100 * DT / 3e-3), rel=3e-3)


@pytest.mark.parametrize("method", [ir.Method.RK2, ir.Method.RK4])
def test_the_stages_of_a_held_variable_are_its_old_value(method):
    integration = integrate(coupled(method), DT)
    stages = dict(integration.stages)
    assert stages["_k1_v"] == ir.Where(var(REFRACTORY), ir.Const(0.0), div(neg(var("v")), var("tau")))
    assert not isinstance(stages["_k1_w"], ir.Where)
    held = advance_stages(integration, refractory=True)
    assert all(held[name] == 0.7 for name in held if name.startswith("_y") and name.endswith("_v"))
    free = advance_stages(integration, refractory=False)
    assert all(free[name] < 0.7 for name in free if name.startswith("_y") and name.endswith("_v"))


def advance_stages(integration, refractory: bool) -> dict:
    """The stage values of one step from v = 0.7, w = 0.1."""
    env = dict(integration.constants) | parameters(coupled(integration.method)) | {
        "dt": DT, "t": 0.0, "v": 0.7, "w": 0.1, REFRACTORY: refractory}
    for name, stage in integration.stages:
        env[name] = eval_expr(stage, env, XP)
    return env


def test_refractoriness_is_per_neuron():
    neuron = coupled(ir.Method.RK4)
    refractory = np.array([True, False])
    history = advance(integrate(neuron, DT), {"v": np.ones(2), "w": np.zeros(2)}, 10,
                      parameters(neuron) | {REFRACTORY: refractory})
    assert history[-1]["v"][0] == 1.0
    assert history[-1]["v"][1] == pytest.approx(math.exp(-10 * DT / 5e-3), rel=1e-9)  # rk4: ~ 10 (dt/tau)^5 / 120
