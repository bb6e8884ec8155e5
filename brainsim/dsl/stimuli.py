"""The `stimulus` statement: what drives a model's inputs, as IR waveforms.

`stimulus Target { I_ext += waveform }` adds one `ir.Stimulus` per population of
`Target`; the waveform is a constant amount or `pulses(...)`.
"""

from __future__ import annotations

import math

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import SECOND, missing_unit_hint
from brainsim.dsl.expressions import FUNCTIONS, Scope, constant_value, lower_expression
from brainsim.dsl.populations import Declared, resolve
from brainsim.dsl.settings import constant, unique_settings
from brainsim.dsl.wiring import neuron_model
from brainsim.errors import InvalidValueError, UnitError, UnknownNameError, did_you_mean
from brainsim.units import Dimension

PULSE_SETTINGS = ("period", "width", "amplitude", "start", "stop")


def lower_stimulus(stimulus: ast.Stimulus, declared: Declared) -> list[ir.Stimulus]:
    """One `ir.Stimulus` per targeted population and input.

    Rejects::

        stimulus V1 { I_ex += 2 nA }     # no input `I_ex` (did you mean `I_ext`?)
        stimulus V1 { I_ext += 2 mV }    # I_ext is in amperes
    """
    populations = resolve(stimulus.target, declared)
    stimuli = []
    for assignment in stimulus.inputs:
        waveform, dimension = _waveform(assignment.value)
        name = assignment.variable.name
        for population in populations:
            model = neuron_model(population, stimulus.target.span, "for a stimulus to drive")
            inputs = {i.name: i.dimension for i in model.inputs}
            if name not in inputs:
                raise UnknownNameError(
                    f"neuron model `{model.name}` of `{population.name}` has no input `{name}`",
                    assignment.variable.span,
                    did_you_mean(name, inputs) or _input_hint(name, model),
                )
            if inputs[name] != dimension:
                raise UnitError(
                    f"input `{name}` of `{population.name}` has dimension {inputs[name]}, "
                    f"but the stimulus has dimension {dimension}",
                    assignment.value.span,
                    missing_unit_hint(assignment.value, inputs[name]),
                )
            stimuli.append(ir.Stimulus(population.name, name, waveform, assignment.span))
    return stimuli


def _input_hint(name: str, model: ir.NeuronModel) -> str:
    if any(s.name == name for s in model.states):
        return (
            f"`{name}` is a state variable; a stimulus drives an input, declared as "
            "`inputs { I_ext = 0 nA }` and read by the equations"
        )
    return "declare it in the model's `inputs { }` block, e.g. `inputs { I_ext = 0 nA }`"


def _waveform(value: ast.Value) -> tuple[ir.Waveform, Dimension]:
    """A constant amount or `pulses(...)`, with the dimension of its amplitude."""
    match value:
        case ast.Call(function=ast.Ident(name="pulses")):
            return _pulses(value)
        case ast.Call(function=function) if function.name not in FUNCTIONS and function.name != "where":
            raise UnknownNameError(
                f"unknown waveform `{function.name}`; a stimulus is a constant or `pulses(...)`",
                function.span,
                did_you_mean(function.name, ["pulses"]),
            )
    typed = lower_expression(value, Scope({}))
    return ir.ConstantCurrent(constant_value(typed, {}, "the stimulus"), value.span), typed.type


def _pulses(call: ast.Call) -> tuple[ir.PulseTrain, Dimension]:
    """A pulse train; without `stop` it never stops, so a run longer than the file's keeps it going.

    Rejects::

        pulses(period = 0 ms, width = 1 ms, amplitude = 1 nA)      # period must be > 0
        pulses(period = 5 ms, width = 10 ms, amplitude = 1 nA)     # width > period
        pulses(period = 5 ms, width = 1 ms, amplitude = 1 nA, start = 50 ms, stop = 10 ms)
    """
    if call.args:
        raise InvalidValueError(
            "`pulses` takes named arguments: `pulses(period = ..., width = ..., amplitude = ...)`", call.args[0].span
        )
    keywords = tuple(ast.Declaration(k.name, k.value, k.span) for k in call.keywords)
    arguments = unique_settings(keywords, PULSE_SETTINGS, "argument `{name}` of `pulses`")
    for required in ("period", "width", "amplitude"):
        if required not in arguments:
            raise InvalidValueError(f"`pulses` needs `{required} = ...`", call.span)
    times = {
        name: constant(arguments[name].value, SECOND, f"`{name}`")
        for name in ("period", "width", "start", "stop") if name in arguments
    }
    amplitude = lower_expression(arguments["amplitude"].value, Scope({}))
    period, width = times["period"], times["width"]
    start, stop = times.get("start", 0.0), times.get("stop", math.inf)
    if period <= 0:
        raise InvalidValueError(
            f"`period` must be greater than 0, but it is {period:g} s", arguments["period"].value.span
        )
    if not 0 < width <= period:
        raise InvalidValueError(
            f"`width` must be greater than 0 and at most the period ({period:g} s), but it is {width:g} s",
            arguments["width"].value.span,
        )
    if not start < stop:
        where = arguments.get("stop") or arguments["start"]
        raise InvalidValueError(f"`start` ({start:g} s) must come before `stop` ({stop:g} s)", where.value.span)
    value = constant_value(amplitude, {}, "`amplitude`")
    return ir.PulseTrain(period, width, value, start, stop, call.span), amplitude.type
