"""Integration methods: exact propagators against analytic solutions, Euler where not linear."""

import math

import numpy as np
import pytest

from brainsim import ir
from brainsim.backends.expressions import compile_expr, eval_expr
from brainsim.backends.numpy_backend import NumpyNumerics
from brainsim.integrators import REFRACTORY, expm, integrate

from . import networks as nets
from .networks import add, div, mul, neg, state, sub, var

DT = 0.1e-3
XP = NumpyNumerics()


def model(equations, states=("v",), inputs=(), refractory=0.0, method=None, noises=(), **parameters) -> ir.NeuronModel:
    return ir.NeuronModel(
        name="M",
        parameters=nets.parameters(**parameters),
        states=tuple(state(s, ir.Constant(0.0)) for s in states),
        inputs=tuple(ir.Input(i, nets.DIMENSIONLESS, 0.0) for i in inputs),
        equations=equations,
        threshold=None,
        reset=(),
        refractory=refractory,
        method=None if method is None else ir.MethodChoice(method),
        noises=noises,
    )


def parameters(neuron: ir.NeuronModel) -> dict[str, float]:
    return {p.name: p.value for p in neuron.parameters}


def advance(integration, values: dict, steps: int, extra: dict | None = None, dt: float = DT, rng=None) -> list[dict]:
    """Run `steps` steps of `integration` with numpy: per step, bind t = n dt and a standard
    normal draw per noise name (from `rng`, shaped like the state), evaluate the stages in
    order, then the updates simultaneously from the old values."""
    stages = [(name, compile_expr(e, XP)) for name, e in integration.stages]
    updates = [(name, compile_expr(e, XP)) for name, e in integration.updates]
    env = dict(integration.constants) | {"dt": dt, REFRACTORY: False} | (extra or {})
    shape = np.shape(next(iter(values.values())))
    history = []
    with np.errstate(all="ignore"):  # as the numpy loop runs: a `where` may discard a 0 / 0
        for n in range(steps):
            step_env = env | values | {"t": n * dt} | {name: rng.standard_normal(shape) for name in integration.noises}
            for name, stage in stages:
                step_env[name] = stage(step_env)
            values = values | {name: update(step_env) for name, update in updates}
            history.append(values)
    return history


def ulps(a: float, b: float) -> float:
    return abs(a - b) / math.ulp(b)


@pytest.mark.parametrize("tau", [1e-3, 5e-3, 20e-3, 1.0])
def test_decay_propagator_is_exp_minus_dt_over_tau(tau):
    integration = integrate(model((ir.Equation("v", div(neg(var("v")), var("tau"))),), tau=tau), DT)
    assert integration.method is ir.Method.EXACT
    assert ulps(dict(integration.constants)["_P_v_v"], math.exp(-DT / tau)) <= 1


def reference_expm(matrix: np.ndarray) -> np.ndarray:
    """exp(A) by a long Taylor series in extended precision, with scaling and squaring."""
    a = matrix.astype(np.longdouble)
    squarings = max(0, int(np.ceil(np.log2(np.abs(a).sum(axis=0).max() + 1e-300))) + 2)
    a = a / np.longdouble(2) ** squarings
    term = result = np.eye(len(a), dtype=np.longdouble)
    for k in range(1, 40):
        term = term @ a / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result.astype(np.float64)


@pytest.mark.parametrize("scale", [1e-4, 1e-1, 1.0, 30.0])
def test_expm_matches_an_extended_precision_reference(scale):
    matrix = np.random.default_rng(0).standard_normal((4, 4)) * scale
    expected = reference_expm(matrix)
    np.testing.assert_allclose(expm(matrix), expected, rtol=0, atol=1e-13 * np.abs(expected).max())


def test_expm_closed_forms():
    np.testing.assert_allclose(expm(np.array([[0.0, 2.0], [0.0, 0.0]])), [[1.0, 2.0], [0.0, 1.0]], rtol=1e-15, atol=0)
    assert np.array_equal(expm(np.zeros((3, 3))), np.eye(3))
    # Badly scaled coupling (volts and amperes): balancing keeps the diagonal exact to an ulp.
    coupled = np.array([[-0.01, 1e5], [0.0, -0.02]])
    assert ulps(expm(coupled)[0, 0], math.exp(-0.01)) <= 1
    assert ulps(expm(coupled)[1, 1], math.exp(-0.02)) <= 1


def test_driven_lif_follows_the_analytic_membrane_solution():
    """dv/dt = (E_L - v + R I) / tau from v = E_L: v(t) = E_L + R I (1 - exp(-t / tau))."""
    tau, e_l, r, current = 10e-3, -70e-3, 10e6, 1.3e-9
    rhs = div(add(sub(var("E_L"), var("v")), mul(var("R"), var("I"))), var("tau"))
    integration = integrate(model((ir.Equation("v", rhs),), inputs=("I",), tau=tau, E_L=e_l, R=r), DT)
    assert integration.method is ir.Method.EXACT
    history = advance(integration, {"v": e_l}, 5000, {"I": current})
    for n in (0, 9, 99, 999, 4999):
        t = (n + 1) * DT
        assert history[n]["v"] == pytest.approx(e_l + r * current * (1 - math.exp(-t / tau)), rel=1e-12, abs=1e-15)


def test_v_and_synaptic_current_follow_the_analytic_solution():
    """SeedNeuron without input: I(t) = I0 e^(-t/ts), and v relaxes while driven by it."""
    neuron = nets.seed_neuron()
    integration = integrate(neuron, DT)
    assert integration.method is ir.Method.EXACT
    p = {q.name: q.value for q in neuron.parameters}
    tm, ts, e_l, r = p["tau_m"], p["tau_syn"], p["E_L"], p["R_m"]
    v0, i0 = -60e-3, 2e-9
    history = advance(integration, {"v": v0, "I_syn": i0}, 3000, p | {"I_ext": 0.0})
    for n in (0, 49, 499, 2999):
        t = (n + 1) * DT
        current = i0 * math.exp(-t / ts)
        v = e_l + (v0 - e_l) * math.exp(-t / tm) + r * i0 * ts / (ts - tm) * (math.exp(-t / ts) - math.exp(-t / tm))
        assert history[n]["I_syn"] == pytest.approx(current, rel=1e-12, abs=0)
        assert history[n]["v"] == pytest.approx(v, rel=1e-12, abs=0)


def test_a_pure_integrator_has_a_singular_matrix_and_is_still_exact():
    """dq/dt = I / C: q(t) = q0 + I t / C."""
    integration = integrate(model((ir.Equation("q", div(var("I"), var("C"))),), states=("q",), inputs=("I",), C=2.0), DT)
    assert integration.method is ir.Method.EXACT
    history = advance(integration, {"q": 1.0}, 1000, {"I": 3.0})
    # 1000 additions of 1.5e-4, each rounded: about 1000 ulp of accumulated error.
    assert history[-1]["q"] == pytest.approx(1.0 + 3.0 * 1000 * DT / 2.0, rel=1e-12, abs=0)
    assert dict(integration.constants)["_P_q_q"] == 1.0, "a pure integrator keeps q exactly"


def test_a_constant_variable_stays_exactly_constant():
    """dv/dt = 0: the propagator is exactly 1 (Pade with scaling gave 1 - 2^-53, so v
    crept towards 0 by an ulp every step)."""
    integration = integrate(model((ir.Equation("v", ir.Const(0.0)),), states=("v",)), DT)
    history = advance(integration, {"v": -0.07}, 1000)
    assert history[-1]["v"] == -0.07


@pytest.mark.parametrize(
    "rhs, why",
    [
        (mul(var("v"), var("v")), "product of variables"),
        (ir.Call(ir.Function.EXP, (var("v"),)), "function of a variable"),
        (mul(var("t"), var("a")), "time"),
        (div(var("a"), var("v")), "division by a variable"),
    ],
)
def test_what_is_not_linear_gets_forward_euler(rhs, why):
    integration = integrate(model((ir.Equation("v", rhs),), a=2.0), DT)
    assert integration.method is ir.Method.EULER, why
    assert integration.constants == ()
    (name, update), = integration.updates
    assert name == "v"
    assert eval_expr(update, {"v": 0.5, "a": 2.0, "t": 0.0, "dt": DT}, XP) == pytest.approx(
        0.5 + DT * eval_expr(rhs, {"v": 0.5, "a": 2.0, "t": 0.0}, XP)
    )


def test_clamped_variables_hold_while_refractory_and_the_others_do_not():
    neuron = nets.seed_neuron(t_ref=2e-3)
    integration = integrate(neuron, DT)
    updates = dict(integration.updates)
    assert isinstance(updates["v"], ir.Where) and updates["v"].condition == var(REFRACTORY)
    assert not isinstance(updates["I_syn"], ir.Where)  # I_syn does not depend on v
    p = {q.name: q.value for q in neuron.parameters}
    env = dict(integration.constants) | p | {"dt": DT, "I_ext": 1e-9, "v": -65e-3, "I_syn": 1e-9}
    assert eval_expr(updates["v"], env | {REFRACTORY: True}, XP) == -65e-3
    assert eval_expr(updates["v"], env | {REFRACTORY: False}, XP) != -65e-3


def test_a_variable_fed_by_a_clamped_one_gets_its_own_refractory_propagator():
    """dw/dt = (v - w) / tau_w depends on the clamped v: while v is held, w relaxes to it."""
    equations = (
        ir.Equation("v", div(neg(var("v")), var("tau")), clamped_when_refractory=True),
        ir.Equation("w", div(sub(var("v"), var("w")), var("tau_w"))),
    )
    integration = integrate(model(equations, states=("v", "w"), refractory=1e-3, tau=5e-3, tau_w=3e-3), DT)
    updates = dict(integration.updates)
    assert isinstance(updates["w"], ir.Where)
    history = advance(integration, {"v": 1.0, "w": 0.0}, 100, {REFRACTORY: True})
    assert history[-1]["v"] == 1.0
    assert history[-1]["w"] == pytest.approx(1.0 - math.exp(-100 * DT / 3e-3), rel=1e-12)


def test_an_integration_prints():
    text = str(integrate(nets.cuba_model(), DT))
    assert text.startswith("CubaLIF: exact")
    assert "v' = _refractory" not in text and "v' = v if _refractory else" in text
    assert "_P_v_ge = " in text
