"""Euler–Maruyama: the drift/diffusion split and the stationary variance of an Ornstein–Uhlenbeck process."""

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.backends.expressions import eval_expr
from brainsim.integrators import integrate

from .networks import add, div, mul, neg, sub, var
from .test_integrators import XP, advance, model, parameters


def ornstein_uhlenbeck(noises=("xi",), method=None) -> ir.NeuronModel:
    """dx/dt = -x / tau + sigma * sqrt(2 / tau) * xi: stationary variance sigma^2."""
    diffusion = mul(var("sigma"), ir.Call(ir.Function.SQRT, (div(ir.Const(2.0), var("tau")),)))
    rhs = add(div(neg(var("x")), var("tau")), mul(diffusion, var("xi")))
    return model((ir.Equation("x", rhs),), states=("x",), method=method, noises=noises, tau=10e-3, sigma=2.0)


def test_the_update_is_drift_times_dt_plus_diffusion_times_sqrt_dt():
    integration = integrate(ornstein_uhlenbeck(), 1e-3)
    assert integration.method is ir.Method.EULER
    assert integration.noises == ("_normal_xi",)
    assert dict(integration.constants) == {"_sqrt_dt": math.sqrt(1e-3)}
    (name, update), = integration.updates
    assert name == "x"
    expected = 0.3 + 1e-3 * (-0.3 / 10e-3) + math.sqrt(1e-3) * 2.0 * math.sqrt(2 / 10e-3) * 1.5
    history = advance(integration, {"x": np.float64(0.3)}, 1, parameters(ornstein_uhlenbeck()), dt=1e-3,
                      rng=_FixedNormal(1.5))
    assert history[-1]["x"] == pytest.approx(expected, rel=1e-15)
    assert "Euler–Maruyama" in integration.reason and "_normal_xi ~ N(0, 1)" in str(integration)


class _FixedNormal:
    def __init__(self, value: float):
        self.value = value

    def standard_normal(self, shape):
        return np.full(shape, self.value)


@pytest.mark.parametrize("dt_over_tau", [0.1, 0.5])
def test_the_stationary_variance_is_the_discrete_time_one(dt_over_tau):
    """x' = (1 - a) x + s N with a = dt / tau, s^2 = sigma^2 2 a: the stationary variance v
    solves v = (1 - a)^2 v + s^2, so v = sigma^2 2 a / (1 - (1 - a)^2) (sigma^2 as dt -> 0).
    20000 neurons, 10 samples one correlation time apart: the estimate's standard error is
    about 0.3%, and the discrete value differs from sigma^2 by 5% (a = 0.1) and 33% (a = 0.5)."""
    neuron = ornstein_uhlenbeck()
    tau, sigma = 10e-3, 2.0
    dt = dt_over_tau * tau
    spacing = round(10 / dt_over_tau)  # 10 tau: samples nearly independent
    history = advance(integrate(neuron, dt), {"x": np.zeros(20000)}, 11 * spacing, parameters(neuron), dt=dt,
                      rng=np.random.default_rng(7))
    samples = np.concatenate([history[k * spacing - 1]["x"] for k in range(2, 12)])
    expected = sigma**2 * 2 * dt_over_tau / (1 - (1 - dt_over_tau) ** 2)
    assert samples.var() == pytest.approx(expected, rel=0.015)
    assert abs(samples.var() - sigma**2) > 0.03 * sigma**2  # the test tells the two apart
    assert abs(samples.mean()) < 0.01 * sigma


def test_independent_noises_each_get_a_draw_in_model_order():
    """dx/dt = -x / tau + g1 xi_a - g2 xi_b (the sign of a subtracted noise is kept)."""
    rhs = sub(add(div(neg(var("x")), var("tau")), mul(var("g1"), var("xi_a"))), mul(var("xi_b"), var("g2")))
    neuron = model((ir.Equation("x", rhs),), states=("x",), noises=("xi_a", "xi_b"), tau=1.0, g1=3.0, g2=5.0)
    integration = integrate(neuron, 0.01)
    assert integration.noises == ("_normal_xi_a", "_normal_xi_b")
    (_, update), = integration.updates
    env = parameters(neuron) | dict(integration.constants) | {"dt": 0.01, "x": 0.0}
    assert eval_expr(update, env | {"_normal_xi_a": 1.0, "_normal_xi_b": 0.0}, XP) == pytest.approx(0.1 * 3.0)
    assert eval_expr(update, env | {"_normal_xi_a": 0.0, "_normal_xi_b": 1.0}, XP) == pytest.approx(-0.1 * 5.0)


def test_noise_in_a_clamped_variable_is_held_while_refractory():
    neuron = ornstein_uhlenbeck()
    equation = ir.Equation("x", neuron.equations[0].rhs, clamped_when_refractory=True)
    clamped = model((equation,), states=("x",), refractory=5e-3, noises=("xi",), tau=10e-3, sigma=2.0)
    history = advance(integrate(clamped, 1e-3), {"x": np.full(4, 0.25)}, 3, parameters(clamped) | {"_refractory": True},
                      dt=1e-3, rng=np.random.default_rng(0))
    assert np.array_equal(history[-1]["x"], np.full(4, 0.25))
