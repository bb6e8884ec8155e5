"""Dale's law: a neuron's outgoing synapses all excite, or all inhibit.

Checked on every `connect` whose source population is marked `excitatory` or
`inhibitory`, after the connect's settings are applied:

- a synapse marked with the other kind is an error;
- an unmarked synapse is checked by the sign of each `on pre` effect on the
  postsynaptic neuron (`SynapseModel.effects()`) where the sign is known from
  the text: the signed step (`+=` value, or minus the `-=` value) of a
  constant, or the range of a state with bounded initial values (uniform,
  clipped normal, lognormal, a list); a state that the synapse's rules change
  ranges over its `bounds` (unknown without). A current-based effect (on a
  current, a voltage, a dimensionless variable...) of an excitatory population
  must not be negative, of an inhibitory one not positive. A conductance
  (siemens, or siemens per m²) is positive for both kinds, since the target's
  reversal potential decides the sign of its current: its step must not be
  negative for either kind, and its sign says nothing more.

A step whose sign is not known (a normal distribution, a per-pair formula) is
not checked; marking the synapse states the intent where the sign cannot.
"""

from __future__ import annotations

import math

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.expressions import fold
from brainsim.errors import DaleError
from brainsim.units import lookup_unit

_SIEMENS = lookup_unit("S")[1]
CONDUCTANCES = (_SIEMENS, _SIEMENS / lookup_unit("m")[1] ** 2)


def check_dale(connect: ast.Connect, projections: list[ir.Projection], populations: dict[str, ir.Population]) -> None:
    """Check Dale's law on the projections of one `connect`.

    Args:
        connect: the statement, for the position of the error.
        projections: its projections, the synapse with the connect's settings applied.
        populations: every population by qualified name.
    Raises:
        DaleError: at the connect's synapse name, naming the population and the synapse.
    """
    for projection in projections:
        source = populations[projection.source]
        if source.kind is ir.NeuronKind.UNSPECIFIED:
            continue
        synapse = projection.synapse
        if synapse.kind is ir.NeuronKind.UNSPECIFIED:
            _check_signs(connect, source, populations[projection.target], synapse)
        elif synapse.kind is not source.kind:
            raise DaleError(
                f"`{source.name}` is {source.kind.value}, but synapse `{synapse.name}` is {synapse.kind.value}; "
                "by Dale's law a neuron's synapses are all of its kind",
                connect.synapse.span,
            )


def _check_signs(connect: ast.Connect, source: ir.Population, target: ir.Population, synapse: ir.SynapseModel) -> None:
    """Rejects::

        excitatory exc = LIF[10]   ...   connect R.exc -> R with S { weight = -1 nA }
        inhibitory inh = LIF[10]   ...   connect R.inh -> R with S { weight = 1 nA }    # on a current
        inhibitory inh = LIF[10]   ...   connect R.inh -> R with COBA { weight = -1 nS } # a conductance
    """
    model = target.model
    dimensions = {s.name: s.dimension for s in model.states} if isinstance(model, ir.NeuronModel) else {}
    for effect in synapse.effects():
        bounds = _bounds(effect.value, synapse)
        if bounds is None:
            continue
        low, high = bounds if effect.op is ir.AssignOp.ADD else (-bounds[1], -bounds[0])
        conductance = dimensions.get(effect.variable) in CONDUCTANCES
        step = f"`{effect.variable} {effect.op.value} ...` of `{target.name}`"
        if low < 0 and (conductance or source.kind is ir.NeuronKind.EXCITATORY):
            why = ("a conductance must not fall: inhibition comes from the reversal potential, not a negative step"
                   if conductance else "an excitatory population's synapses must not lower it")
            raise DaleError(
                f"`{source.name}` is {source.kind.value}, but synapse `{synapse.name}` can change {step} "
                f"by {low:g} (SI units); {why}",
                connect.synapse.span,
                f"mark the synapse (`{source.kind.value} synapse {synapse.name}`) to state its kind instead",
            )
        if high > 0 and not conductance and source.kind is ir.NeuronKind.INHIBITORY:
            raise DaleError(
                f"`{source.name}` is inhibitory, but synapse `{synapse.name}` can change {step} by +{high:g} "
                "(SI units); an inhibitory population's synapses must not raise it",
                connect.synapse.span,
                f"use a negative weight or `-=`, or mark the synapse (`inhibitory synapse {synapse.name}`)",
            )


def _bounds(value: ir.Expr, synapse: ir.SynapseModel) -> tuple[float, float] | None:
    """The smallest and largest value of an effect, where the text decides them; else None."""
    constants = {p.name: p.value for p in synapse.parameters if isinstance(p.value, float)}
    ranges = {s.name: _initial_range(s.initial) for s in synapse.states}
    # A state the rules change keeps to its bounds, if it has any; otherwise its sign is not known.
    changed = {a.variable for a in (*synapse.on_pre, *synapse.on_post)} | {e.variable for e in synapse.equations}
    limits = {b.variable: (b.low, b.high) for b in synapse.bounds}
    ranges |= {name: limits.get(name) for name in changed if name in ranges}
    match value:
        case ir.Var(name=name) if ranges.get(name) is not None:
            return ranges[name]
    points = {**constants, **{n: r[0] for n, r in ranges.items() if r is not None and r[0] == r[1]}}
    if not ir.free_names(value) <= points.keys():
        return None
    try:
        point = float(fold(value, points))
    except (ArithmeticError, ValueError):
        return None
    return (point, point) if math.isfinite(point) else None


def _initial_range(initial: ir.Initializer) -> tuple[float, float] | None:
    match initial:
        case ir.Constant(value=value):
            return value, value
        case ir.Uniform(low=low, high=high) | ir.ClippedNormal(low=low, high=high):
            return low, high
        case ir.LogNormal():
            return 0.0, math.inf
        case ir.Values(values=values) if values:
            return min(values), max(values)
    return None

