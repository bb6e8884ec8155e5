"""The IR rules of brainsim.validate: each rejects what its docstring shows, through the Python API
(an IR made without the front end), before any array is built."""

import dataclasses

import pytest

from backends import networks as nets
from brainsim import ir
from brainsim.backends import compile_network
from brainsim.errors import InvalidValueError
from brainsim.validate import MAX_EXPRESSION_DEPTH, RULES, validate

MS = 1e-3


def with_model(network: ir.Network, **changes) -> ir.Network:
    """`network` with the model of its first population changed."""
    first = network.populations[0]
    model = dataclasses.replace(first.model, **changes)
    return dataclasses.replace(network, populations=(dataclasses.replace(first, model=model), *network.populations[1:]))


def with_population(network: ir.Network, population: ir.Population) -> ir.Network:
    return dataclasses.replace(network, populations=(*network.populations, population))


def deep(levels: int) -> ir.Expr:
    expr: ir.Expr = ir.Var("v")
    for _ in range(levels - 1):
        expr = ir.Unary(ir.UnaryOp.NEG, expr)
    return expr


def first_projection(network, **changes):
    projection = dataclasses.replace(network.projections[0], **changes)
    return dataclasses.replace(network, projections=(projection, *network.projections[1:]))


def source(model, size=3) -> ir.Population:
    return ir.Population("Input.src", "Input", size, model)


CASES = [
    (lambda n: dataclasses.replace(n, simulation=dataclasses.replace(n.simulation, seed=2**64)), "from 0 to 2\\^64 - 1"),
    (lambda n: dataclasses.replace(n, simulation=dataclasses.replace(n.simulation, dt=0.0)), "`dt` must be greater than 0, but it is 0 s"),
    (lambda n: dataclasses.replace(n, populations=(dataclasses.replace(n.populations[0], size=0), *n.populations[1:])),
     "a population needs 1 to 2147483647 neurons"),
    (lambda n: first_projection(n, target="V9.x"), "no population named 'V9.x'"),
    (lambda n: with_model(n, parameters=(*n.populations[0].model.parameters, ir.Parameter("_refractory", 1.0, None))),
     "reserved for the engine"),
    (lambda n: with_model(n, equations=(ir.Equation("tau_m", ir.Const(1.0)),)), "not a state variable"),
    (lambda n: with_model(n, threshold=ir.Binary(ir.BinaryOp.GT, ir.Var("v"), ir.Var("V_q"))), r"unknown name\(s\) \['V_q'\]"),
    (lambda n: with_model(n, threshold=ir.Binary(ir.BinaryOp.GT, deep(MAX_EXPRESSION_DEPTH + 1), ir.Var("V_th"))),
     "operations deep"),
    (lambda n: with_model(n, reset=(ir.Assignment("tau_m", ir.AssignOp.SET, ir.Const(1.0)),)), "not a state variable"),
    (lambda n: first_projection(n, rule=ir.FixedProbability(1.5)), "`p` is a probability, between 0 and 1"),
    (lambda n: first_projection(n, rule=ir.OneToOne()), "needs populations of equal size"),
    (lambda n: first_projection(n, delay=ir.Constant(0.04 * MS)), "rounds to 0 steps, shorter than one step"),
    (lambda n: dataclasses.replace(n, stimuli=(ir.Stimulus("V1.simple", "v", ir.ConstantCurrent(1.0)),)), "input"),
    (lambda n: dataclasses.replace(n, stimuli=(ir.Stimulus(
        "V1.simple", "I_ext", ir.PulseTrain(0.01 * MS, 0.01 * MS, 1.0, 0.0, float("inf"))),)), "period >= dt"),
    *((lambda n, indices=indices: dataclasses.replace(n, stimuli=(ir.Stimulus(
        "V1.simple", "I_ext", ir.ConstantCurrent(1.0), indices),)), "stimulus indices must be ascending, without repeats")
      for indices in [(), (3, 3), (4, 2), (-1,), (20,)]),
    (lambda n: with_population(n, source(ir.PoissonSource(ir.Values((5.0, -1.0, 2.0))))), r"must not be negative, but it is -1 Hz \(rate 1 of `Input.src`\)"),
    (lambda n: with_population(n, source(ir.PoissonSource(ir.Values((5.0, 1.0))))), "`rate` lists 2 values, but `Input.src` has 3 neurons"),
    (lambda n: with_population(n, source(ir.PoissonSource(ir.Constant(float("nan"))))), "not a finite number"),
    (lambda n: with_population(n, source(ir.PoissonSource(ir.Var("v"))) ), r"unknown name\(s\) \['v'\]"),
    (lambda n: with_population(n, source(ir.SpikeTimes((0, 1), (2 * MS, 1 * MS)))), "must be sorted"),
    (lambda n: with_population(n, source(ir.SpikeTimes((0, 0), (1 * MS, 1.04 * MS)))), "spikes twice in one step"),
    (lambda n: with_population(n, source(ir.SpikeTimes((3,), (1 * MS,)))), "outside 0 to 2"),
    (lambda n: with_population(n, source(ir.SpikeTimes((0,), (0.04 * MS,)))), "before the first step ends"),
    (lambda n: with_population(n, source(ir.SpikeTimes((0,), (1 * MS, 2 * MS)))), "1 indices but 2 times"),
    (lambda n: first_projection(with_population(n, source(ir.PoissonSource(ir.Constant(5.0)))), target="Input.src"),
     "is a spike source"),
    (lambda n: dataclasses.replace(n, state_records=(ir.StateRecord("V1.simple", "v", (20,)),)), "record indices"),
    (lambda n: dataclasses.replace(n, state_records=(ir.StateRecord("V1.simple", "u", (0,)),)), "no state variable"),
]


@pytest.mark.parametrize("change, message", CASES)
def test_each_rule_rejects_what_it_names(change, message):
    network = change(nets.visual_pathway())
    with pytest.raises(InvalidValueError, match=message):
        validate(network)
    with pytest.raises(InvalidValueError, match=message):  # and before a backend builds anything
        compile_network(network, backend="numpy")


def test_every_rule_shows_what_it_rejects():
    for rule in RULES:
        assert rule.__doc__ and rule.__doc__.strip(), f"{rule.__name__} has no example"


def test_valid_networks_pass_and_a_deep_expression_within_the_limit_runs():
    validate(nets.visual_pathway())
    network = with_model(nets.visual_pathway(), threshold=ir.Binary(ir.BinaryOp.GT, deep(1500), ir.Var("V_th")))
    results = compile_network(network, backend="numpy").run(duration=1 * MS)
    assert results.duration == 1 * MS
