"""Every way a model's method and equations can disagree: the error, its message and its span."""

import pytest

from brainsim import ir
from brainsim.backends.expressions import eval_expr
from brainsim.errors import InvalidValueError, SourceSpan
from brainsim.integrators import integrate

from .networks import add, div, mul, neg, sub, var
from .test_integrators import XP, model

METHOD_SPAN = SourceSpan("m.brain", 7, 5, 7, 18)
EQUATION_SPAN = SourceSpan("m.brain", 4, 9, 4, 40)
NODE_SPAN = SourceSpan("m.brain", 4, 20, 4, 27)


def with_method(neuron: ir.NeuronModel, method: ir.Method) -> ir.NeuronModel:
    fields = {f: getattr(neuron, f) for f in neuron.__dataclass_fields__}
    return ir.NeuronModel(**(fields | {"method": ir.MethodChoice(method, METHOD_SPAN)}))


def gate_model(method: ir.Method | None) -> ir.NeuronModel:
    """dm/dt = alpha(v) (1 - m) - beta m, dv/dt = -v / tau: a Hodgkin–Huxley-like gate."""
    alpha = ir.Call(ir.Function.EXP, (div(var("v"), var("k")),))
    rhs = sub(mul(alpha, sub(ir.Const(1.0), var("m"))), mul(var("beta"), var("m")))
    equations = (ir.Equation("m", rhs, span=EQUATION_SPAN), ir.Equation("v", div(neg(var("v")), var("tau"))))
    neuron = model(equations, states=("m", "v"), k=1.0, beta=2.0, tau=1.0)
    return neuron if method is None else with_method(neuron, method)


def test_exact_on_a_nonlinear_system_says_which_equation_and_why():
    with pytest.raises(InvalidValueError) as caught:
        integrate(gate_model(ir.Method.EXACT), 1e-3)
    assert caught.value.span == METHOD_SPAN
    assert "dm/dt is not linear in the state with constant coefficients: it multiplies exp(v / k) by 1.0 - m" in str(caught.value)


def test_exact_names_a_coefficient_that_varies_in_time():
    neuron = with_method(model((ir.Equation("x", mul(var("t"), var("x"))),), states=("x",)), ir.Method.EXACT)
    with pytest.raises(InvalidValueError, match=r"dx/dt .*: it multiplies x by t, which varies with t") as caught:
        integrate(neuron, 1e-3)
    assert caught.value.span == METHOD_SPAN


def test_exact_names_a_forcing_that_varies_in_time():
    neuron = with_method(model((ir.Equation("x", sub(var("t"), var("x"))),), states=("x",)), ir.Method.EXACT)
    with pytest.raises(InvalidValueError, match=r"its term t varies with t"):
        integrate(neuron, 1e-3)


def test_without_a_method_the_same_system_gets_euler_and_says_why():
    integration = integrate(gate_model(None), 1e-3)
    assert integration.method is ir.Method.EULER
    assert integration.reason == "chosen automatically: dm/dt not linear with constant coefficients"


def test_exponential_euler_on_an_equation_not_linear_in_its_own_variable():
    logistic = mul(var("x"), sub(ir.Const(1.0), var("x")))
    neuron = with_method(model((ir.Equation("x", logistic),), states=("x",)), ir.Method.EXPONENTIAL_EULER)
    with pytest.raises(InvalidValueError) as caught:
        integrate(neuron, 1e-3)
    assert caught.value.span == METHOD_SPAN
    assert "exponential_euler needs dx/dt linear in x (A x + B, with A and B free of x): it multiplies x by 1.0 - x" in str(
        caught.value
    )


def test_exponential_euler_takes_a_gate_whose_rates_read_another_variable():
    integration = integrate(gate_model(ir.Method.EXPONENTIAL_EULER), 1e-3)
    assert [name for name, _ in integration.stages] == ["_a_m", "_z_m", "_m_m", "_phi_m", "_a_v", "_z_v", "_m_v", "_phi_v"]


def noisy(method: ir.Method | None, rhs: ir.Expr = None) -> ir.NeuronModel:
    rhs = rhs if rhs is not None else add(neg(var("x")), var("xi"))
    neuron = model((ir.Equation("x", rhs, span=EQUATION_SPAN),), states=("x",), noises=("xi",))
    return neuron if method is None else with_method(neuron, method)


@pytest.mark.parametrize("method", [ir.Method.EXACT, ir.Method.EXPONENTIAL_EULER, ir.Method.RK2, ir.Method.RK4])
def test_only_euler_integrates_noise(method):
    with pytest.raises(InvalidValueError, match=r"model M reads white noise \(xi\), which .* cannot integrate: "
                                                r"only euler \(Euler–Maruyama\) integrates noise") as caught:
        integrate(noisy(method), 1e-3)
    assert caught.value.span == METHOD_SPAN


@pytest.mark.parametrize("method", [None, ir.Method.EULER])
def test_noise_without_a_method_or_with_euler_is_euler_maruyama(method):
    integration = integrate(noisy(method), 1e-3)
    assert integration.method is ir.Method.EULER and integration.noises == ("_normal_xi",)


xi = ir.Var("xi", span=NODE_SPAN)


@pytest.mark.parametrize(
    "rhs, reason",
    [
        (ir.Binary(ir.BinaryOp.MUL, xi, var("xi"), span=NODE_SPAN), "it multiplies xi by xi"),
        (ir.Call(ir.Function.EXP, (xi,), span=NODE_SPAN), r"it takes exp\(xi\)"),
        (ir.Binary(ir.BinaryOp.DIV, ir.Const(1.0), xi, span=NODE_SPAN), "it divides by xi"),
        (ir.Where(ir.Binary(ir.BinaryOp.GT, xi, ir.Const(0.0)), var("x"), ir.Const(0.0), span=NODE_SPAN),
         "it reads xi in the condition xi > 0.0"),
        (ir.Binary(ir.BinaryOp.POW, xi, ir.Const(2.0), span=NODE_SPAN), r"it raises xi to the power 2.0"),
    ],
)
def test_noise_read_other_than_linearly_is_an_error_at_the_offending_node(rhs, reason):
    with pytest.raises(InvalidValueError, match=r"dx/dt must be linear in the white noise \(xi\): " + reason) as caught:
        integrate(noisy(None, add(neg(var("x")), rhs)), 1e-3)
    assert caught.value.span == NODE_SPAN


def test_noise_in_both_branches_of_a_condition_is_linear():
    rhs = ir.Where(ir.Binary(ir.BinaryOp.GT, var("x"), ir.Const(0.0)), mul(ir.Const(2.0), var("xi")), var("xi"))
    (_, update), = integrate(noisy(None, rhs), 1e-2).updates
    env = {"dt": 1e-2, "_sqrt_dt": 0.1, "_normal_xi": 1.0}
    assert eval_expr(update, env | {"x": 1.0}, XP) == pytest.approx(1.0 + 0.2)
    assert eval_expr(update, env | {"x": -1.0}, XP) == pytest.approx(-1.0 + 0.1)
