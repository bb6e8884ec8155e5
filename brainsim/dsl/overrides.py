"""New values for a model, written as the model file would write them: `with_values`.

A parameter sweep changes values, not structure. Each value is applied to the
model's syntax tree where the file would hold it, and the model is lowered
again, so that everything computed from a value (an initial value that reads a
parameter, a refractory period, a propagator) follows it, and a wrong value
gets the error the file would get. Names:

    seed                          the simulation's seed
    CubaLIF.tau_m                 a parameter or initial value of a neuron model, for
                                  every population of it (written in this file)
    Cortex.exc.tau_m              a population's override (a parameter, an initial
                                  value, a spike source's setting such as `rate`)
    Cortex.exc -> Cortex.inh.w    a setting of every `connect Cortex.exc -> Cortex.inh`
                                  (a synapse parameter or initial value, `p`, `delay`)
    Retina.I_ext.amplitude        a keyword of the waveform of `stimulus Retina { I_ext += ... }`
    Cortex.exc[]                  a population's size, the n of `exc = Model[n]` (a whole
                                  number; `[]` keeps it apart from a parameter named `size`)

A value is text in the language (`"12 ms"`, `"uniform(0 mV, 5 mV)"`) or a
number (dimensionless: a quantity with a unit is written with it).

Populations of one neuron model with the same values share one group of
arrays in the backends; a population override that gives one of them its own
value splits the group, which changes the compiled program's structure. To
sweep a value of all of them, name the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from brainsim.dsl import ast
from brainsim.dsl.parser import parse
from brainsim.errors import InvalidValueError, UnknownNameError, did_you_mean


def with_values(model: ast.Model, values: Mapping[str, object], folders: tuple[Path, ...] = ()) -> ast.Model:
    """`model` with each named value replaced (or added, for an override not written);
    a file a value names must lie in `folders` (`brainsim.dsl.folders`; by default the working folder).

    Raises:
        UnknownNameError: a name that is none of the forms above, or names no
            population, connection or stimulus of the model.
        InvalidValueError: a value that is neither text nor a number.
        ParseError: a value whose text is not an expression of the language.
    """
    for name, value in values.items():
        if name.endswith("[]"):
            model = _resized(model, name, value)
            continue
        declaration = _declaration(name, value, folders)
        model = _applied(model, name, declaration)
    return model


def _resized(model: ast.Model, name: str, value: object) -> ast.Model:
    """`model` with the population `name` (without its `[]`) of `value` neurons; the
    lowering checks the size's range, as it checks the file's."""
    owner = name[:-2].strip()
    populations = dict(_populations(model.regions, ""))
    if owner not in populations:
        raise UnknownNameError(f"{name!r}: the model has no population `{owner}` to resize",
                               hint=did_you_mean(owner, list(populations)))
    match value:
        case bool():
            text = None
        case int():
            text = str(value)
        case str() if value.strip().isdigit():
            text = value.strip()
        case _:
            text = None
    if text is None:
        raise InvalidValueError(f"the size {name!r} is a whole number of neurons, not {value!r}")
    size = ast.Count(text, populations[owner].size.span)
    return dataclasses.replace(model, regions=tuple(
        _region_with(region, owner, lambda population: dataclasses.replace(population, size=size), "")
        for region in model.regions))


def _declaration(name: str, value: object, folders: tuple[Path, ...]) -> ast.Declaration:
    """`value` parsed as the right-hand side of `key = value`, where `key` is `name`'s last part."""
    match value:
        case bool():
            raise InvalidValueError(f"the value of {name!r} is text in the language or a number, not {value!r}")
        case int() | float():
            text = repr(float(value))
        case str():
            text = value
        case _ if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # a numpy number
            text = repr(float(value.item()))
        case _:
            raise InvalidValueError(
                f"the value of {name!r} is text in the language (\"12 ms\") or a number, not {value!r}"
            )
    key = name.rsplit(".", 1)[-1].strip() or "value"
    parsed = parse(f"simulation {{ {key} = {text} }}", f"<value of {name}>", folders=folders or None)
    (declaration,) = parsed.simulation.settings
    return declaration


def _applied(model: ast.Model, name: str, declaration: ast.Declaration) -> ast.Model:
    if name == "seed":
        simulation = model.simulation
        return dataclasses.replace(model, simulation=dataclasses.replace(
            simulation, settings=_replaced(simulation.settings, declaration)))
    owner, _, key = name.rpartition(".")
    if "->" in owner:
        return _connect_setting(model, name, owner, declaration)
    populations = dict(_populations(model.regions, ""))
    neurons = {neuron.name.name: k for k, neuron in enumerate(model.neurons)}
    if owner in neurons:
        neuron = model.neurons[neurons[owner]]
        blocks = [block for block in ("parameters", "states")
                  if any(d.name.name == key for d in getattr(neuron, block))]
        if not blocks:
            written = [d.name.name for d in neuron.parameters + neuron.states]
            raise UnknownNameError(f"{name!r}: neuron model `{owner}` has no parameter or state variable `{key}`",
                                   hint=did_you_mean(key, written))
        changed = dataclasses.replace(neuron, **{blocks[0]: _replaced_in_place(getattr(neuron, blocks[0]), declaration)})
        return dataclasses.replace(model, neurons=model.neurons[:neurons[owner]] + (changed,) + model.neurons[neurons[owner] + 1:])
    if owner in populations:
        def overridden(population: ast.Population) -> ast.Population:
            return dataclasses.replace(population, overrides=_replaced(population.overrides, declaration))
        regions = tuple(_region_with(region, owner, overridden, "") for region in model.regions)
        return dataclasses.replace(model, regions=regions)
    target, _, variable = owner.rpartition(".")
    for k, stimulus in enumerate(model.stimuli):
        if _selection_text(stimulus.target) == target and any(a.variable.name == variable for a in stimulus.inputs):
            inputs = tuple(_keyword_set(a, name, key, declaration) if a.variable.name == variable else a
                           for a in stimulus.inputs)
            stimuli = model.stimuli[:k] + (dataclasses.replace(stimulus, inputs=inputs),) + model.stimuli[k + 1:]
            return dataclasses.replace(model, stimuli=stimuli)
    known = ["seed", *(f"{n}.<name>" for n in neurons), *(f"{p}.<name>" for p in populations),
             *(f"{p}[]" for p in populations),
             *(f"{c.source.text} -> {c.target.text}.<name>" for c in model.connects),
             *(f"{_selection_text(s.target)}.{a.variable.name}.<keyword>" for s in model.stimuli for a in s.inputs)]
    raise UnknownNameError(
        f"{name!r} names no value of the model; values are named {', '.join(known)}",
        hint=did_you_mean(owner, list(populations)),
    )


def _replaced_in_place(declarations: tuple[ast.Declaration, ...], new: ast.Declaration) -> tuple[ast.Declaration, ...]:
    """The declarations with the one of `new`'s name replaced where it stands (later ones may read it)."""
    return tuple(new if d.name.name == new.name.name else d for d in declarations)


def _replaced(declarations: tuple[ast.Declaration, ...], new: ast.Declaration) -> tuple[ast.Declaration, ...]:
    kept = tuple(d for d in declarations if d.name.name != new.name.name)
    return kept + (new,)


def _populations(members, prefix: str):
    """(qualified name, population) of every population at any depth."""
    for member in members:
        match member:
            case ast.Region(name=name, members=inner):
                yield from _populations(inner, f"{prefix}{name.name}.")
            case ast.Population(name=name):
                yield f"{prefix}{name.name}", member


def _region_with(region: ast.Region, target: str, change, prefix: str) -> ast.Region:
    """`region` with `change` (population -> population) applied to the population named `target`."""
    here = f"{prefix}{region.name.name}."
    members = []
    for member in region.members:
        match member:
            case ast.Region():
                member = _region_with(member, target, change, here)
            case ast.Population(name=name) if f"{here}{name.name}" == target:
                member = change(member)
        members.append(member)
    return dataclasses.replace(region, members=tuple(members))


def _connect_setting(model: ast.Model, name: str, owner: str, declaration: ast.Declaration) -> ast.Model:
    source, _, target = (part.strip() for part in owner.partition("->"))
    connects, found = [], False
    for connect in model.connects:
        if (connect.source.text, connect.target.text) == (source, target):
            connect, found = dataclasses.replace(connect, settings=_replaced(connect.settings, declaration)), True
        connects.append(connect)
    if not found:
        written = [f"{c.source.text} -> {c.target.text}" for c in model.connects]
        raise UnknownNameError(
            f"{name!r}: the model has no `connect {source} -> {target}`; its connections are "
            f"{', '.join(written) or 'none'}",
        )
    return dataclasses.replace(model, connects=tuple(connects))


def _keyword_set(assignment: ast.Assignment, name: str, key: str, declaration: ast.Declaration) -> ast.Assignment:
    """The stimulus input `assignment` with its waveform's keyword `key` set."""
    match assignment.value:
        case ast.Call(keywords=keywords) as call:
            new = ast.KeywordArgument(declaration.name, declaration.value, declaration.span)
            kept = tuple(k for k in keywords if k.name.name != key)
            return dataclasses.replace(assignment, value=dataclasses.replace(call, keywords=kept + (new,)))
    raise UnknownNameError(f"{name!r}: that stimulus input is not a waveform call with keywords")


def _selection_text(selection: ast.Selection) -> str:
    """The target of a stimulus as written, without its neuron selection."""
    return selection.endpoint.text
