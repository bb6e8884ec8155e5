"""Derived neuron models: `neuron RegularSpiking = Izhikevich { a = 0.02  d = 8 }`.

A derived model has its base's equations, inputs, threshold, reset and
refractory period, with some parameters or initial values replaced: the same
overrides, with the same rules, as a population's (`models.lower_neuron`).
A base may itself be derived, declared above or below; a cycle is an error.
"""

from __future__ import annotations

from dataclasses import replace

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.models import lower_neuron
from brainsim.dsl.sources import SOURCE_MODELS
from brainsim.errors import InvalidValueError, UnknownNameError, did_you_mean


def derive(
    derived: tuple[ast.DerivedNeuron, ...],
    neurons: dict[str, ast.Neuron],
    models: dict[str, ir.NeuronModel],
    synapses: dict[str, ast.Synapse],
) -> tuple[dict[str, ast.Neuron], dict[str, ir.NeuronModel]]:
    """The derived models, each as an `ast.Neuron` with its values written in and lowered.

    Args:
        derived: the `neuron Name = Base { ... }` statements.
        neurons, models: the declared neuron models, as written and as lowered.
        synapses: the synapse models (a base may not be one).
    Returns:
        By derived name: the model as if written out (so that a population may
        override it again), and its `ir.NeuronModel`.
    Raises:
        UnknownNameError: an unknown base, a base that is a synapse or a spike
            source, or an override that names nothing of the base.
        InvalidValueError: derivations that form a cycle.
    """
    by_name = {d.name.name: d for d in derived}
    written: dict[str, ast.Neuron] = {}
    lowered: dict[str, ir.NeuronModel] = {}

    def build(statement: ast.DerivedNeuron, chain: tuple[str, ...]) -> None:
        """Rejects::

            neuron A = B { }   neuron B = A { }
        """
        name, base = statement.name.name, statement.base.name
        if name in written:
            return
        chain = (*chain, name)
        if base in chain:
            cycle = " -> ".join((*chain[chain.index(base):], base))
            raise InvalidValueError(f"neuron models are derived from each other in a cycle: {cycle}",
                                    statement.base.span)
        if base in by_name:
            build(by_name[base], chain)
            base_neuron, base_model = written[base], lowered[base]
        else:
            base_neuron, base_model = neurons.get(base), models.get(base)
        if base_neuron is None:
            raise UnknownNameError(f"unknown neuron model `{base}`", statement.base.span,
                                   _base_hint(base, [*neurons, *by_name], synapses))
        model = lower_neuron(base_neuron, statement.overrides, base_model)
        written[name] = _written_out(base_neuron, statement)
        lowered[name] = replace(model, name=name, span=statement.span)

    for statement in derived:
        build(statement, ())
    return written, lowered


def _base_hint(base: str, neurons: list[str], synapses: dict[str, ast.Synapse]) -> str | None:
    """Rejects::

        neuron Fast = AMPA { tau = 1 ms }          # a synapse model
        neuron Busy = PoissonSource { }            # a spike source
    """
    if base in synapses:
        return f"`{base}` is a synapse model; a neuron model is derived from a neuron model"
    if base in SOURCE_MODELS:
        return f"`{base}` is a built-in spike source, which has no equations to derive from"
    return did_you_mean(base, neurons)


def _written_out(base: ast.Neuron, statement: ast.DerivedNeuron) -> ast.Neuron:
    """The base model with the derived name and each overridden declaration replaced."""
    overrides = {d.name.name: d for d in statement.overrides}

    def apply(declarations: tuple[ast.Declaration, ...]) -> tuple[ast.Declaration, ...]:
        return tuple(overrides.get(d.name.name, d) for d in declarations)

    return replace(base, name=statement.name, parameters=apply(base.parameters), states=apply(base.states),
                   span=statement.span)
