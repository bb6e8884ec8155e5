"""How every `ir.Initializer` becomes an array on the host, once, in numpy.

`draw` gives the values of one initializer for `size` elements, neurons or
synapses alike: constants, written values, random draws from a numpy generator
keyed by what is drawn (`brainsim.network` lists the keys), and `Formula`s
evaluated elementwise (`evaluate`, `compute`) in an environment of arrays: a
dict for neurons, a `brainsim.network.pairs.Pairs` that computes each name when
first read for synapses. `neuron_values` builds a neuron population's
heterogeneous parameters and initial state in that environment: the neuron
index `i`, the size `N`, the position `x`, `y`, `z` (m; 0 without a position
rule) and the parameters above. Both backends then start from these very
arrays, so nothing here needs to match anything a backend computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.network.keys import INITIAL_STATE, PARAMETERS, host_key
from brainsim.network.positions import positions

Environment = Mapping[str, "float | np.ndarray"]

_BINARY = {
    ir.BinaryOp.ADD: np.add,
    ir.BinaryOp.SUB: np.subtract,
    ir.BinaryOp.MUL: np.multiply,
    ir.BinaryOp.DIV: np.divide,
    ir.BinaryOp.POW: np.power,
    ir.BinaryOp.LT: np.less,
    ir.BinaryOp.LE: np.less_equal,
    ir.BinaryOp.GT: np.greater,
    ir.BinaryOp.GE: np.greater_equal,
    ir.BinaryOp.EQ: np.equal,
    ir.BinaryOp.NE: np.not_equal,
    ir.BinaryOp.AND: np.logical_and,
    ir.BinaryOp.OR: np.logical_or,
}
_FUNCTIONS = {
    ir.Function.EXP: np.exp,
    ir.Function.EXPM1: np.expm1,
    ir.Function.LOG: np.log,
    ir.Function.LOG10: np.log10,
    ir.Function.SQRT: np.sqrt,
    ir.Function.ABS: np.abs,
    ir.Function.TANH: np.tanh,
    ir.Function.SIN: np.sin,
    ir.Function.COS: np.cos,
    ir.Function.FLOOR: np.floor,
    ir.Function.MIN: np.minimum,
    ir.Function.MAX: np.maximum,
    ir.Function.CLIP: np.clip,
}


def draw(initial: ir.Initializer, size: int, key: list[int], env: Environment | None = None) -> np.ndarray:
    """`size` float64 values of `initial`; random ones from numpy's generator keyed by `key`,
    a `Formula` evaluated in `env` (name -> a number or an array of `size`).

    Raises InvalidValueError (at the formula) if a `Formula` gives a value that is
    not a finite number for some element, naming it by its `i` (and `j` for a synapse).
    """
    match initial:
        case ir.Constant(value):
            return np.full(size, value, dtype=np.float64)
        case ir.Uniform(low, high):
            return np.random.default_rng(key).uniform(low, high, size)
        case ir.Values(values):
            return np.array(values, dtype=np.float64)
        case ir.Normal(mean, std):
            return np.random.default_rng(key).normal(mean, std, size)
        case ir.ClippedNormal(mean, std, low, high):
            return _clipped_normal(np.random.default_rng(key), mean, std, low, high, size)
        case ir.LogNormal(mean, std):
            sigma = math.sqrt(math.log1p((std / mean) ** 2))
            return np.random.default_rng(key).lognormal(math.log(mean) - sigma**2 / 2, sigma, size)
        case ir.Formula():
            return _formula(initial, size, env or {})
    raise TypeError(f"not an initializer: {initial!r}")


def _clipped_normal(rng: np.random.Generator, mean: float, std: float, low: float, high: float, size: int) -> np.ndarray:
    """Normal draws, each one outside [low, high] drawn again until inside (in element order)."""
    values = rng.normal(mean, std, size)
    outside = np.flatnonzero((values < low) | (values > high))
    while outside.size:
        values[outside] = rng.normal(mean, std, outside.size)
        outside = outside[(values[outside] < low) | (values[outside] > high)]
    return values


def _formula(formula: ir.Formula, size: int, env: Environment) -> np.ndarray:
    values = compute(formula.expr, env, size)
    if bad := np.flatnonzero(~np.isfinite(values)).tolist():
        k = bad[0]
        element = ", ".join(f"{name} = {int(env[name][k])}" for name in ("i", "j") if name in env)
        raise InvalidValueError(f"this formula is {float(values[k])!r} for {element}; it must be a finite number", formula.span)
    return values


def compute(expr: ir.Expr, env: Environment, size: int) -> np.ndarray:
    """`expr` for each of `size` elements as a float64 array (a condition gives 0 and 1); a
    domain error gives nan or inf, for the caller to report where it matters."""
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(evaluate(expr, env), dtype=np.float64), (size,)).copy()


def evaluate(expr: ir.Expr, env: Environment):
    """The value of `expr`, elementwise over the arrays of `env`, in numpy."""
    match expr:
        case ir.Const(value):
            return value
        case ir.Var(name):
            return env[name]
        case ir.Unary(ir.UnaryOp.NEG, operand):
            return np.negative(evaluate(operand, env))
        case ir.Unary(ir.UnaryOp.NOT, operand):
            return np.logical_not(evaluate(operand, env))
        case ir.Binary(op, left, right):
            return _BINARY[op](evaluate(left, env), evaluate(right, env))
        case ir.Call(function, args):
            return _FUNCTIONS[function](*(evaluate(arg, env) for arg in args))
        case ir.Where(condition, then, otherwise):
            return np.where(evaluate(condition, env), evaluate(then, env), evaluate(otherwise, env))
    raise TypeError(f"not an expression: {expr!r}")


@dataclass(frozen=True, eq=False)
class NeuronValues:
    """A neuron population's per-neuron values: its heterogeneous parameters (name -> array)
    and the initial value of every state variable (name -> array), in model order."""

    parameters: dict[str, np.ndarray]
    initial: dict[str, np.ndarray]


def neuron_values(population: ir.Population, seed: int) -> NeuronValues:
    """The heterogeneous parameters and initial states of neuron population `population`.

    Parameter k (in model order) is drawn with the key `host_key(seed, PARAMETERS, name, k)`,
    state k with `host_key(seed, INITIAL_STATE, name, k)`; a `Formula` reads
    `ir.NEURON_NAMES` and the parameters.
    """
    model, size, name = population.model, population.size, population.name
    where = positions(population, seed)
    env: dict[str, float | np.ndarray] = {
        "i": np.arange(size, dtype=np.float64), "N": float(size), "x": where[:, 0], "y": where[:, 1], "z": where[:, 2],
    }
    parameters = {}
    time_constants = ir.time_constants(model)
    for k, parameter in enumerate(model.parameters):
        if isinstance(parameter.value, float):
            env[parameter.name] = parameter.value
            continue
        env[parameter.name] = parameters[parameter.name] = draw(parameter.value, size, host_key(seed, PARAMETERS, name, k), env)
        if parameter.name in time_constants and not (drawn := parameters[parameter.name] > 0).all():
            neuron = int(np.argmin(drawn))
            raise InvalidValueError(
                f"`{parameter.name}` of {population.name} is a time constant (an equation divides by it), so it must "
                f"be greater than 0, but neuron {neuron} got {float(parameters[parameter.name][neuron]):g} s",
                parameter.value.span or parameter.span,
                hint="keep the draws positive, e.g. `normal(mean, std, low = 1 ms)`",
            )
    initial = {state.name: draw(state.initial, size, host_key(seed, INITIAL_STATE, name, k), env) for k, state in enumerate(model.states)}
    return NeuronValues(parameters, initial)


def heterogeneous(model: ir.NeuronModel) -> tuple[str, ...]:
    """The names of `model`'s parameters that differ between neurons."""
    return tuple(p.name for p in model.parameters if not isinstance(p.value, float))
