"""The rules of a synapse model: `equations`, `on pre`, `on post` and `bounds` -> IR.

A rule reads the synapse's own parameters and states, `t`, `dt`, and the
neuron-side names of `ir.SPIKED`: `X_pre` / `X_post` (a state, input or
parameter of the presynaptic / postsynaptic neuron, in its dimension),
`spiked_pre` / `spiked_post` (true in the step that neuron fired) and `X_mod`
(a variable of the projection's modulator). Those names mean something only
for one projection, so they are resolved against its actual models (`Sides`).
A model is lowered once as declared, without sides: a statement that reads a
neuron-side name is then left for each projection (`LoweredRules.waiting`),
every other one is checked right away.

In `on pre`, an assignment to a synapse state updates the synapse; `+=` or
`-=` to any other name `X` (or `X_post`, the same variable) is an effect on the
postsynaptic neuron's `X`, checked against each target by `wiring`. `on post`
assigns synapse states only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import BOOLEAN
from brainsim.dsl.expressions import (
    Scope, Symbol, constant_value, expect_type, lower_assignment, lower_derivative, lower_expression, number,
)
from brainsim.errors import DuplicateNameError, InvalidValueError, UnknownNameError, did_you_mean
from brainsim.units import Dimension

_SIDES = {ir.PRE_SUFFIX: "presynaptic", ir.POST_SUFFIX: "postsynaptic", ir.MODULATOR_SUFFIX: "modulator"}
SPIKED_NAMES = (ir.SPIKED + ir.PRE_SUFFIX, ir.SPIKED + ir.POST_SUFFIX)


@dataclass(frozen=True, slots=True)
class Sides:
    """The neurons the synapses of one projection read: `pre` is None for a spike source,
    `modulator` None without the `modulator` setting; `connect_line` is for messages."""

    source: str
    pre: ir.NeuronModel | None
    target: str
    post: ir.NeuronModel
    modulator: ir.Population | None
    connect_line: int


@dataclass(frozen=True, slots=True)
class LoweredRules:
    """The rules of one synapse model; `effects` are the dimensions of the `on pre`
    effects (in the order of `SynapseModel.effects()`); `waiting` is set when some
    statements were left for the projections (they read neuron-side names)."""

    equations: tuple[ir.Equation, ...]
    on_pre: tuple[ir.Assignment, ...]
    on_post: tuple[ir.Assignment, ...]
    effects: tuple[Dimension, ...]
    waiting: bool


class _ReadsNeuron(Exception):
    """A statement of a model lowered without sides reads a neuron-side name."""


def split_side(name: str) -> tuple[str, str] | None:
    """`v_post` -> ("_post", "v"); None for a name without a side suffix."""
    for suffix in _SIDES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix, name[: -len(suffix)]
    return None


def rule_scope(own: Scope, own_names: frozenset[str], sides: Sides | None) -> Scope:
    """`own` (parameters, states, t, dt) with the neuron-side names of `sides`.

    Without sides every neuron-side name defers the statement that reads it.
    """
    symbols = dict(own.symbols)
    if sides is not None:
        symbols |= {name: Symbol(name, "a neuron's spike flag", BOOLEAN, ir.Var(name)) for name in SPIKED_NAMES}
        for suffix, model in ((ir.PRE_SUFFIX, sides.pre), (ir.POST_SUFFIX, sides.post),
                              (ir.MODULATOR_SUFFIX, sides.modulator.model if sides.modulator else None)):
            if isinstance(model, ir.NeuronModel):
                for item in (*model.states, *model.inputs, *model.parameters):
                    symbols.setdefault(item.name + suffix, Symbol(
                        item.name + suffix, f"a variable of the {_SIDES[suffix]} neuron", item.dimension,
                        ir.Var(item.name + suffix)))

    def explain(name: str, span) -> Symbol | None:
        """Rejects::

            on pre { w += 0.1 * v_pre / (1 mV) }      # the source is a PoissonSource
            on pre { w += vv_post / (1 mV) }          # the target's model has no `vv`
            on pre { w += d_mod }                     # the connect sets no `modulator`
        """
        side = split_side(name)
        if side is None and name not in SPIKED_NAMES or name in own_names:
            return None
        if sides is None:
            raise _ReadsNeuron(name)
        suffix, variable = side
        line = f"the connect on line {sides.connect_line}"
        if suffix == ir.PRE_SUFFIX and sides.pre is None:
            raise UnknownNameError(
                f"`{name}` reads `{variable}` of the presynaptic neuron, but `{sides.source}`, the source of {line}, "
                f"is a spike source and has no variables; only `{SPIKED_NAMES[0]}` can be read of it",
                span,
            )
        if suffix == ir.MODULATOR_SUFFIX and sides.modulator is None:
            raise UnknownNameError(
                f"`{name}` reads `{variable}` of the modulator, but {line} sets no `modulator`",
                span,
                "add the setting, e.g. `modulator = Reward.dopamine` (a population of one neuron)",
            )
        population, model = {
            ir.PRE_SUFFIX: (sides.source, sides.pre), ir.POST_SUFFIX: (sides.target, sides.post),
            ir.MODULATOR_SUFFIX: (sides.modulator.name if sides.modulator else "", sides.modulator.model
                                  if sides.modulator else None),
        }[suffix]
        names = [item.name for item in (*model.states, *model.inputs, *model.parameters)]
        raise UnknownNameError(
            f"`{name}` reads `{variable}` of the {_SIDES[suffix]} neuron, but neuron model `{model.name}` of "
            f"`{population}` ({line}) has no state, input or parameter `{variable}`",
            span,
            did_you_mean(name, [n + suffix for n in names]),
        )

    return replace(own, symbols=symbols, resolve_alias=explain,
                   unknown_hint="a synapse's rule may read only the synapse's own parameters and states, `t`, "
                                "`dt`, and the neuron-side names `X_pre`, `X_post` (X of the presynaptic or "
                                "postsynaptic neuron), `spiked_pre`, `spiked_post` and `X_mod` (of the modulator)")


def lower_rules(
    synapse: ast.Synapse, scope: Scope, states: Mapping[str, Dimension], kinds: Mapping[str, str]
) -> LoweredRules:
    """Lower the equations, `on pre` and `on post` of `synapse` in `scope` (from `rule_scope`)."""
    waiting = False
    equations, on_pre, on_post, effects = [], [], [], []
    first: dict[str, ast.Equation] = {}
    for equation in synapse.equations:
        _unique_equation(equation, first, states, kinds)
        try:
            equations.append(_equation(equation, scope, states))
        except _ReadsNeuron:
            waiting = True
    for assignment in synapse.on_pre:
        try:
            lowered, effect = _on_pre(assignment, scope, states, kinds)
        except _ReadsNeuron:
            waiting = True
            continue
        on_pre.append(lowered)
        if effect is not None:
            effects.append(effect)
    for assignment in synapse.on_post:
        _require_synapse_state(assignment.variable, states, kinds, "`on post` assigns synapse states only")
        try:
            on_post.append(lower_assignment(assignment, scope, states[assignment.variable.name]))
        except _ReadsNeuron:
            waiting = True
    return LoweredRules(tuple(equations), tuple(on_pre), tuple(on_post), tuple(effects), waiting)


def _unique_equation(
    equation: ast.Equation, first: dict[str, ast.Equation], states: Mapping[str, Dimension], kinds: Mapping[str, str]
) -> None:
    """Rejects::

        equations { dw_max/dt = ... }                 # w_max is a parameter
        equations { dx/dt = -x / tau  dx/dt = 0 }     # two equations for x
        equations { dx/dt = -x / tau (unless refractory) }
    """
    _require_synapse_state(equation.variable, states, kinds, "only a synapse's state variables have equations")
    name = equation.variable.name
    if name in first:
        raise DuplicateNameError(
            f"`{name}` has two equations (the first on line {first[name].span.line})", equation.variable.span
        )
    if equation.unless_refractory:
        raise InvalidValueError("`(unless refractory)` belongs to a neuron's equations; a synapse has no refractory "
                                "period", equation.span)
    first[name] = equation


def _equation(equation: ast.Equation, scope: Scope, states: Mapping[str, Dimension]) -> ir.Equation:
    name = equation.variable.name
    return ir.Equation(name, lower_derivative(name, equation.rhs, scope, states[name]), False, equation.span)


def _on_pre(
    assignment: ast.Assignment, scope: Scope, states: Mapping[str, Dimension], kinds: Mapping[str, str]
) -> tuple[ir.Assignment, Dimension | None]:
    """A synapse update, or an effect on the postsynaptic neuron with its dimension.

    Rejects::

        on pre { A_pre += 0.01 }       # a parameter of the synapse
        on pre { I_syn = w }           # an effect adds or subtracts
        on pre { v_pre += w }          # effects act on the postsynaptic neuron
    """
    name = assignment.variable.name
    if name in states:
        return lower_assignment(assignment, scope, states[name]), None
    if name in kinds:
        _require_synapse_state(assignment.variable, states, kinds, "`on pre` assigns synapse states and acts on "
                                                                   "the postsynaptic neuron")
    side = split_side(name)
    if side is not None and side[0] != ir.POST_SUFFIX:
        raise InvalidValueError(
            f"`on pre` acts on the postsynaptic neuron, but `{name}` names the {_SIDES[side[0]]} side",
            assignment.variable.span,
            f"to act on the postsynaptic neuron write `{side[1]} {assignment.op.value} ...` or "
            f"`{side[1]}{ir.POST_SUFFIX} {assignment.op.value} ...`",
        )
    if assignment.op not in (ir.AssignOp.ADD, ir.AssignOp.SUB):
        raise InvalidValueError(
            f"`{name}` is not a state of this synapse, so `{name} {assignment.op.value} ...` would act on the "
            "postsynaptic neuron, and an effect adds (`+=`) or subtracts (`-=`)",
            assignment.span,
            "declare it in the synapse's `state { }` block to update the synapse",
        )
    target = side[1] if side is not None else name
    value = number(lower_expression(assignment.value, scope), "an `on pre` effect")
    return ir.Assignment(target, assignment.op, value.expr, assignment.span), value.type


def _require_synapse_state(
    variable: ast.Ident, states: Mapping[str, Dimension], kinds: Mapping[str, str], why: str
) -> None:
    name = variable.name
    if name in states:
        return
    if name in kinds:
        raise UnknownNameError(f"`{name}` is a {kinds[name]} of the synapse, not a state variable; {why}",
                               variable.span)
    raise UnknownNameError(
        f"`{name}` is not a state variable of this synapse; {why}",
        variable.span,
        did_you_mean(name, states) or "declare it in the synapse's `state { }` block",
    )


# --------------------------------------------------------------------------- bounds


def lower_bounds(
    bounds: tuple[ast.Declaration, ...], states: Mapping[str, Dimension], kinds: Mapping[str, str], scope: Scope
) -> tuple[ir.Bound, ...]:
    """`bounds { w = [0 nS, w_max] }`: constants (parameters allowed) in the state's dimension.

    Rejects::

        bounds { w_max = [0, 1] }              # a parameter, not a state
        bounds { w = [0 nS, 1 mV] }            # w is in siemens
        bounds { w = [w_max, 0 nS] }           # the upper bound below the lower
        bounds { w = 1 nS }                    # not a [low, high] list
    """
    lowered: list[ir.Bound] = []
    for declaration in bounds:
        name = declaration.name.name
        _require_synapse_state(declaration.name, states, kinds, "bounds keep a state variable within a range")
        if any(b.variable == name for b in lowered):
            raise DuplicateNameError(f"`{name}` has bounds twice", declaration.name.span)
        match declaration.value:
            case ast.ValueList(items=(low, high)):
                pass
            case _:
                raise InvalidValueError(f"the bounds of `{name}` are a list `[low, high]`", declaration.value.span,
                                        f"e.g. `{name} = [0, 1]` (in the unit of `{name}`)")
        low_value, high_value = (_bound(end, name, states[name], scope) for end in (low, high))
        if high_value < low_value:
            raise InvalidValueError(
                f"the upper bound of `{name}`, `{_written(high)}` ({high_value:g} in SI units), is below its lower "
                f"bound, `{_written(low)}` ({low_value:g}); write [low, high] with low <= high",
                declaration.value.span,
            )
        lowered.append(ir.Bound(name, low_value, high_value, declaration.span))
    return tuple(lowered)


def _bound(end: ast.Expr, name: str, dimension: Dimension, scope: Scope) -> float:
    typed = number(lower_expression(end, scope), f"a bound of `{name}`")
    expect_type(typed, dimension, f"a bound of `{name}` must have dimension {{wanted}} (that of `{name}`), but it "
                                  "is {got}", scope)
    return constant_value(typed, scope.constants, f"a bound of `{name}`")


def _written(expr: ast.Expr) -> str:
    """The text of `expr` as written, for messages."""
    span = expr.span
    return span.source_line()[span.column - 1: span.end_column - 1] if span.line == span.end_line else "the value"
