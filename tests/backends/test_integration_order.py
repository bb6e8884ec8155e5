"""Each method's order of convergence against analytic solutions: halve dt, watch the error.

Problems (dimensionless, end time 1):
  forced decay    dx/dt = -x / tau + a t     x = a tau (t - tau) + (x0 + a tau^2) e^(-t/tau)
  logistic        dx/dt = r x (1 - x / K)    x = K x0 e^(rt) / (K + x0 (e^(rt) - 1))
  rotation        dx/dt = -y / T, dy/dt = x / T   (x, y) = (cos(t/T), sin(t/T))
  gated decay     dx/dt = -x y / T, dy/dt = -y / T   y = e^(-t/T), x = x0 exp(-(1 - e^(-t/T)))
"""

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.integrators import integrate

from .networks import add, const, div, mul, neg, sub, var
from .test_integrators import advance, model, parameters

END = 1.0
DTS = (0.1, 0.05, 0.025)


def forced_decay(method):
    rhs = add(div(neg(var("x")), var("tau")), mul(var("a"), var("t")))
    m = model((ir.Equation("x", rhs),), states=("x",), method=method, tau=0.5, a=2.0)
    tau, a, x0 = 0.5, 2.0, 1.0
    return m, {"x": x0}, {"x": a * tau * (END - tau) + (x0 + a * tau**2) * math.exp(-END / tau)}


def logistic(method):
    rhs = mul(mul(var("r"), var("x")), sub(const(1.0), div(var("x"), var("K"))))
    m = model((ir.Equation("x", rhs),), states=("x",), method=method, r=3.0, K=2.0)
    r, k, x0 = 3.0, 2.0, 0.1
    growth = math.exp(r * END)
    return m, {"x": x0}, {"x": k * x0 * growth / (k + x0 * (growth - 1.0))}


def rotation(method):
    equations = (ir.Equation("x", div(neg(var("y")), var("T"))), ir.Equation("y", div(var("x"), var("T"))))
    m = model(equations, states=("x", "y"), method=method, T=0.4)
    return m, {"x": 1.0, "y": 0.0}, {"x": math.cos(END / 0.4), "y": math.sin(END / 0.4)}


def gated_decay(method):
    equations = (
        ir.Equation("x", div(neg(mul(var("x"), var("y"))), var("T"))),
        ir.Equation("y", div(neg(var("y")), var("T"))),
    )
    m = model(equations, states=("x", "y"), method=method, T=1.0)
    return m, {"x": 2.0, "y": 1.0}, {"x": 2.0 * math.exp(-(1.0 - math.exp(-END))), "y": math.exp(-END)}


def error(problem, method, dt: float) -> float:
    m, initial, exact = problem(method)
    final = advance(integrate(m, dt), initial, round(END / dt), parameters(m), dt=dt)[-1]
    return max(abs(final[name] - value) for name, value in exact.items())


def observed_orders(problem, method) -> list[float]:
    errors = [error(problem, method, dt) for dt in DTS]
    return [math.log2(coarse / fine) for coarse, fine in zip(errors, errors[1:])]


@pytest.mark.parametrize("problem", [forced_decay, logistic, rotation, gated_decay])
@pytest.mark.parametrize("method, order", [(ir.Method.EULER, 1), (ir.Method.RK2, 2), (ir.Method.RK4, 4)])
def test_explicit_methods_converge_at_their_order(problem, method, order):
    for observed in observed_orders(problem, method):
        assert observed == pytest.approx(order, abs=0.25)


def test_rk4_is_far_more_accurate_than_euler_at_the_same_step():
    assert error(logistic, ir.Method.RK4, 0.05) < 1e-4 * error(logistic, ir.Method.EULER, 0.05)


@pytest.mark.parametrize("dt", [0.3, 0.1, 0.01])
def test_exponential_euler_is_exact_for_autonomous_linear_equations(dt):
    """dx/dt = (x_inf - x) / tau: x = x_inf + (x0 - x_inf) e^(-t/tau), at any step."""
    m = model((ir.Equation("x", div(sub(var("x_inf"), var("x")), var("tau"))),), states=("x",),
              method=ir.Method.EXPONENTIAL_EULER, x_inf=3.0, tau=0.2)
    final = advance(integrate(m, dt), {"x": -1.0}, round(END / dt), parameters(m), dt=dt)[-1]
    assert final["x"] == pytest.approx(3.0 + (-1.0 - 3.0) * math.exp(-round(END / dt) * dt / 0.2), rel=1e-13)


@pytest.mark.parametrize("problem", [forced_decay, gated_decay, rotation])
def test_exponential_euler_is_first_order_otherwise(problem):
    """Forcing in t, a coefficient that varies (x's A = -y / T), and no own-variable
    dependence at all (the rotation: Euler for each equation)."""
    for observed in observed_orders(problem, ir.Method.EXPONENTIAL_EULER):
        assert observed == pytest.approx(1.0, abs=0.25)


def test_exponential_euler_beats_euler_on_a_stiff_gate():
    """dm/dt = (m_inf - m) / tau_m with tau_m = dt / 50: Euler explodes, exponential Euler is exact."""
    m = model((ir.Equation("m", div(sub(var("m_inf"), var("m")), var("tau_m"))),), states=("m",),
              method=ir.Method.EXPONENTIAL_EULER, m_inf=0.7, tau_m=0.002)
    assert advance(integrate(m, 0.1), {"m": 0.0}, 10, parameters(m), dt=0.1)[-1]["m"] == pytest.approx(0.7, rel=1e-15)
    euler = model(m.equations, states=("m",), method=ir.Method.EULER, m_inf=0.7, tau_m=0.002)
    assert abs(advance(integrate(euler, 0.1), {"m": 0.0}, 10, parameters(euler), dt=0.1)[-1]["m"]) > 1e10


@pytest.mark.parametrize("a", [0.0, 1e-300, 1e-9, -0.5, -3.0, -800.0, 2.0])
def test_the_exponential_euler_factor_is_accurate_for_every_rate(a):
    """One step of dx/dt = a x + 1 from x = 0 is x' = (e^(a dt) - 1) / a, including a = 0
    (Euler, dt), tiny a (no 0/0, no cancellation) and an exponential that underflows."""
    m = model((ir.Equation("x", add(mul(var("a"), var("x")), const(1.0))),), states=("x",),
              method=ir.Method.EXPONENTIAL_EULER, a=a)
    dt = 1.0
    expected = dt if a == 0.0 else math.expm1(a * dt) / a
    assert advance(integrate(m, dt), {"x": np.float64(0.0)}, 1, parameters(m), dt=dt)[-1]["x"] == pytest.approx(expected, rel=4e-16)
