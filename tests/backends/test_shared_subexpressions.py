"""Repeated subexpressions of a group's update are computed once (`brainsim.backends.subexpressions`):
fewer operations per step, the same bits."""

from pathlib import Path

import numpy as np

import brainsim
from brainsim import ir
from brainsim.backends import kernel
from brainsim.backends.expressions import compile_expr
from brainsim.backends.numpy_backend import NumpyNumerics
from brainsim.backends.subexpressions import share
from brainsim.errors import SourceSpan
from .identity import assert_identical
from brainsim.integrators import integrate
from brainsim.integrators.rewrite import add, call, mul, var

MODELS = Path(__file__).parent.parent.parent / "models"
NP = NumpyNumerics()


def cobahh():
    model = brainsim.load(MODELS / "cobahh.brain")
    population = model.network.populations[0]
    return model, population, integrate(population.model, model.network.simulation.dt)


def exp_calls(pairs) -> int:
    """Calls of exp and expm1 (the portable ones cost about 40 numpy calls each)."""
    return sum(isinstance(node, ir.Call) and node.function in (ir.Function.EXP, ir.Function.EXPM1)
               for _, expr in pairs for node in ir.walk(expr))


def evaluate(stages, updates, env: dict) -> dict:
    """The updates as `Kernel.integrate` computes them: stages in order, updates from the old values."""
    env = dict(env)
    for name, expr in stages:
        env[name] = compile_expr(expr, NP)(env)
    return {name: compile_expr(expr, NP)(env) for name, expr in updates}


def test_a_hodgkin_huxley_step_computes_each_rate_once():
    """Exponential Euler reads each gate's alpha and beta in A and in f: 18 exponentials
    in all, 12 once the six rates are shared (each rate, and expm1(A dt) per variable)."""
    _, _, integration = cobahh()
    assert exp_calls(integration.stages) + exp_calls(integration.updates) == 18
    stages, updates = share(integration.stages, integration.updates)
    assert exp_calls(stages) + exp_calls(updates) == 12
    assert [name for name, _ in updates] == [name for name, _ in integration.updates]


def test_shared_updates_give_the_same_bits():
    model, population, integration = cobahh()
    rng = np.random.default_rng(3)
    env = {p.name: p.value for p in population.model.parameters} | dict(integration.constants)
    env |= {i.name: i.default for i in population.model.inputs} | {"dt": model.network.simulation.dt, "t": 0.0}
    env |= {"v": rng.uniform(-0.09, 0.05, 1000), "m": rng.uniform(0, 1, 1000), "h": rng.uniform(0, 1, 1000),
            "n": rng.uniform(0, 1, 1000), "ge": rng.uniform(0, 1e-8, 1000), "gi": rng.uniform(0, 1e-7, 1000)}
    with np.errstate(all="ignore"):
        before = evaluate(integration.stages, integration.updates, env)
        after = evaluate(*share(integration.stages, integration.updates), env)
    for name in before:
        assert before[name].tobytes() == after[name].tobytes(), name


def test_subtrees_are_compared_without_their_spans():
    here, there = SourceSpan("a.brain", 1, 1, 1, 2), SourceSpan("a.brain", 2, 5, 2, 6)
    rate = lambda span: call(ir.Function.EXP, ir.Var("v", span))  # noqa: E731
    stages, updates = share((), (("x", add(var("x"), rate(here))), ("y", mul(var("y"), rate(there)))))
    assert stages == (("_shared0", call(ir.Function.EXP, ir.Var("v", here))),)
    assert updates == (("x", add(var("x"), var("_shared0"))), ("y", mul(var("y"), var("_shared0"))))


def test_a_subtree_that_reads_a_stage_is_left_in_place():
    """A shared stage runs before every stage, so it may not read one."""
    stages = (("_k", mul(var("v"), var("dt"))),)
    updates = (("x", call(ir.Function.EXP, var("_k"))), ("y", call(ir.Function.EXP, var("_k"))))
    assert share(stages, updates) == (stages, updates)


def test_shared_stages_come_after_the_shared_names_they_read():
    inner = call(ir.Function.EXP, var("v"))
    outer = mul(inner, var("w"))
    updates = (("x", outer), ("y", outer), ("z", add(inner, var("z"))))
    stages, new_updates = share((), updates)
    names = [name for name, _ in stages]
    for position, (_, expr) in enumerate(stages):
        assert all(names.index(read) < position for read in ir.free_names(expr) if read in names)
    env = {"v": np.linspace(-2.0, 2.0, 7), "w": 2.0, "z": 1.0}
    before, after = evaluate((), updates, env), evaluate(stages, new_updates, env)
    assert all(before[name].tobytes() == after[name].tobytes() for name in before)


def test_a_network_runs_to_the_same_bits_with_and_without_sharing(monkeypatch):
    model = brainsim.load(MODELS / "cobahh.brain")
    shared = model.compile(backend="numpy").run(0.02)
    monkeypatch.setattr(kernel, "share", lambda stages, updates: (stages, updates))
    plain = model.compile(backend="numpy").run(0.02)
    assert_identical(plain, shared)
