"""The `stimulus` statement: what drives a model's inputs, as IR waveforms.

`stimulus Target { I_ext += waveform }` adds one `ir.Stimulus` per population of
`Target`; `stimulus Target.pop[0:5] { ... }` drives only those neurons (a selection,
as in `record`: `selections`). A waveform is a constant amount (`2 nA`) or one of the calls in
`WAVEFORMS`, each taking named arguments:

    pulses(period = 20 ms, width = 2 ms, amplitude = 1 nA, start = 0 ms, stop = ...)
    steps(times = [10 ms, 50 ms], amplitudes = [1 nA, 0 nA])
    sinusoid(amplitude = 1 nA, frequency = 10 Hz, phase = 0, offset = 0 nA, start = 0 ms, stop = ...)
    from_file("current.csv", interpolation = linear, column = "I")
    ou(mean = 0 nA, std = 0.1 nA, tau = 5 ms)

Every value is checked here, where its position in the text is known (an
element of a list, a row of a file); the IR then holds plain numbers.
"""

from __future__ import annotations

import math

import numpy as np

from brainsim import ir
from brainsim.dsl import ast, files
from brainsim.dsl.dimensions import SECOND, missing_unit_hint
from brainsim.dsl.expressions import FUNCTIONS, Scope, constant_value, lower_expression
from brainsim.dsl.populations import Declared
from brainsim.dsl.selections import neuron_indices, selected
from brainsim.dsl.settings import constant, unique_settings
from brainsim.dsl.wiring import neuron_model
from brainsim.errors import InvalidValueError, SourceSpan, UnitError, UnknownNameError, did_you_mean
from brainsim.units import DIMENSIONLESS, Dimension

HERTZ = SECOND**-1
PULSE_SETTINGS = ("period", "width", "amplitude", "start", "stop")
STEP_SETTINGS = ("times", "amplitudes")
SINUSOID_SETTINGS = ("amplitude", "frequency", "phase", "offset", "start", "stop")
FILE_SETTINGS = ("interpolation", "column")
OU_SETTINGS = ("mean", "std", "tau")
WAVEFORMS = ("pulses", "steps", "sinusoid", "from_file", "ou")
INTERPOLATIONS = {i.value: i for i in ir.Interpolation}


def lower_stimulus(stimulus: ast.Stimulus, declared: Declared) -> list[ir.Stimulus]:
    """One `ir.Stimulus` per targeted population and input, on the selected neurons.

    Rejects::

        stimulus V1 { I_ex += 2 nA }     # no input `I_ex` (did you mean `I_ext`?)
        stimulus V1 { I_ext += 2 mV }    # I_ext is in amperes
        stimulus V1[3] { I_ext += 2 nA } # V1 holds two populations (and the errors of `selections`)
    """
    target = stimulus.target
    populations = selected(target, declared, "drive")
    models = [neuron_model(p, target.endpoint.span, "for a stimulus to drive") for p in populations]
    indices = [neuron_indices(target.neurons, p) for p in populations]
    stimuli = []
    for assignment in stimulus.inputs:
        name = assignment.variable.name
        dimensions = []
        for population, model in zip(populations, models):
            inputs = {i.name: i.dimension for i in model.inputs}
            if name not in inputs:
                raise UnknownNameError(
                    f"neuron model `{model.name}` of `{population.name}` has no input `{name}`",
                    assignment.variable.span,
                    did_you_mean(name, inputs) or _input_hint(name, model),
                )
            dimensions.append(inputs[name])
        waveform, dimension = _waveform(assignment.value, dimensions[0] if dimensions else DIMENSIONLESS)
        for population, wanted, neurons in zip(populations, dimensions, indices):
            if wanted != dimension:
                raise UnitError(
                    f"input `{name}` of `{population.name}` has dimension {wanted}, "
                    f"but the stimulus has dimension {dimension}",
                    assignment.value.span,
                    missing_unit_hint(assignment.value, wanted),
                )
            stimuli.append(ir.Stimulus(population.name, name, waveform, neurons, assignment.span))
    return stimuli


def _input_hint(name: str, model: ir.NeuronModel) -> str:
    if any(s.name == name for s in model.states):
        return (
            f"`{name}` is a state variable; a stimulus drives an input, declared as "
            "`inputs { I_ext = 0 nA }` and read by the equations"
        )
    return "declare it in the model's `inputs { }` block, e.g. `inputs { I_ext = 0 nA }`"


def _waveform(value: ast.Value, wanted: Dimension) -> tuple[ir.Waveform, Dimension]:
    """A constant amount or a waveform call, with the dimension of its values;
    `wanted` (the input's dimension) is what a file's value column must have."""
    match value:
        case ast.Call(function=ast.Ident(name="pulses")):
            return _pulses(value)
        case ast.Call(function=ast.Ident(name="steps")):
            return _steps(value)
        case ast.Call(function=ast.Ident(name="sinusoid")):
            return _sinusoid(value)
        case ast.Call(function=ast.Ident(name="from_file")):
            return _from_file(value, wanted), wanted
        case ast.Call(function=ast.Ident(name="ou")):
            return _ou(value)
        case ast.Call(function=function) if function.name not in FUNCTIONS and function.name != "where":
            raise UnknownNameError(
                f"unknown waveform `{function.name}`; a stimulus is a constant or one of "
                f"{', '.join(f'`{w}(...)`' for w in WAVEFORMS)}",
                function.span,
                did_you_mean(function.name, WAVEFORMS),
            )
    typed = lower_expression(value, Scope({}))
    return ir.ConstantCurrent(constant_value(typed, {}, "the stimulus"), value.span), typed.type


def _named(call: ast.Call, known: tuple[str, ...], required: tuple[str, ...], positional: int = 0):
    """The named arguments of waveform `call`, each one of `known`, with `required` present.

    Rejects::

        pulses(5 ms, 1 ms, 1 nA)                 # unnamed arguments
        sinusoid(amplitude = 1 nA)               # no frequency
        ou(std = 1 nA, tau = 5 ms, sigma = 2)    # unknown argument
    """
    name = call.function.name
    if len(call.args) > positional:
        example = ", ".join(f"{k} = ..." for k in required)
        raise InvalidValueError(
            f"`{name}` takes named arguments: `{name}({example})`", call.args[positional].span
        )
    keywords = tuple(ast.Declaration(k.name, k.value, k.span) for k in call.keywords)
    arguments = unique_settings(keywords, known, f"argument `{{name}}` of `{name}`")
    for argument in required:
        if argument not in arguments:
            raise InvalidValueError(f"`{name}` needs `{argument} = ...`", call.span)
    return arguments


def _pulses(call: ast.Call) -> tuple[ir.PulseTrain, Dimension]:
    """A pulse train; without `stop` it never stops, so a run longer than the file's keeps it going.

    Rejects::

        pulses(period = 0 ms, width = 1 ms, amplitude = 1 nA)      # period must be > 0
        pulses(period = 5 ms, width = 10 ms, amplitude = 1 nA)     # width > period
        pulses(period = 5 ms, width = 1 ms, amplitude = 1 nA, start = 50 ms, stop = 10 ms)
    """
    arguments = _named(call, PULSE_SETTINGS, ("period", "width", "amplitude"))
    times = {
        name: constant(arguments[name].value, SECOND, f"`{name}`")
        for name in ("period", "width", "start", "stop") if name in arguments
    }
    amplitude = lower_expression(arguments["amplitude"].value, Scope({}))
    period, width = times["period"], times["width"]
    start, stop = _window(arguments)
    if period <= 0:
        raise InvalidValueError(
            f"`period` must be greater than 0, but it is {period:g} s", arguments["period"].value.span
        )
    if not 0 < width <= period:
        raise InvalidValueError(
            f"`width` must be greater than 0 and at most the period ({period:g} s), but it is {width:g} s",
            arguments["width"].value.span,
        )
    value = constant_value(amplitude, {}, "`amplitude`")
    return ir.PulseTrain(period, width, value, start, stop, call.span), amplitude.type


def _window(arguments: dict[str, ast.Declaration]) -> tuple[float, float]:
    """`start` (default 0) and `stop` (default never) of a waveform, start before stop."""
    start = constant(arguments["start"].value, SECOND, "`start`") if "start" in arguments else 0.0
    stop = constant(arguments["stop"].value, SECOND, "`stop`") if "stop" in arguments else math.inf
    if not start < stop:
        where = arguments.get("stop") or arguments["start"]
        raise InvalidValueError(f"`start` ({start:g} s) must come before `stop` ({stop:g} s)", where.value.span)
    return start, stop


def _steps(call: ast.Call) -> tuple[ir.StepCurrent, Dimension]:
    """A step current (NEST's step_current_generator): `amplitudes[k]` from `times[k]` on.

    Rejects::

        steps(times = [50 ms, 10 ms], amplitudes = [1 nA, 0 nA])   # times not ascending
        steps(times = [10 ms], amplitudes = [1 nA, 0 nA])          # one time, two amplitudes
        steps(times = [10 ms, 50 ms], amplitudes = [1 nA, 0 mV])   # amplitudes of two dimensions
        steps(times = 10 ms, amplitudes = 1 nA)                    # not lists
    """
    arguments = _named(call, STEP_SETTINGS, STEP_SETTINGS)
    times_list, amplitudes_list = (_list(arguments[name], "steps") for name in STEP_SETTINGS)
    if len(times_list.items) != len(amplitudes_list.items):
        raise InvalidValueError(
            f"`steps` needs one amplitude per time, but it has {len(times_list.items)} times "
            f"and {len(amplitudes_list.items)} amplitudes",
            amplitudes_list.span,
        )
    times = [constant(item, SECOND, "a step time") for item in times_list.items]
    for k, item in enumerate(times_list.items):
        if times[k] < 0 or (k and times[k] <= times[k - 1]):
            after = f"after the previous one ({times[k - 1]:g} s)" if k else "at least 0"
            raise InvalidValueError(f"step times must be ascending: {times[k]:g} s must come {after}", item.span)
    first = lower_expression(amplitudes_list.items[0], Scope({}))
    amplitudes = [constant_value(first, {}, "an amplitude")]
    amplitudes += [constant(item, first.type, "each amplitude") for item in amplitudes_list.items[1:]]
    return ir.StepCurrent(tuple(times), tuple(amplitudes), call.span), first.type


def _list(argument: ast.Declaration, function: str) -> ast.ValueList:
    match argument.value:
        case ast.ValueList(items=items) as written if items:
            return written
        case ast.ValueList() as written:
            raise InvalidValueError(f"`{argument.name.name}` of `{function}` is an empty list", written.span)
    name = argument.name.name
    raise InvalidValueError(
        f"`{name}` of `{function}` is a list, e.g. `{name} = [10 ms, 50 ms]`", argument.value.span
    )


def _sinusoid(call: ast.Call) -> tuple[ir.Sinusoid, Dimension]:
    """offset + amplitude sin(2 pi frequency (t - start) + phase), from `start` until `stop`.

    Rejects::

        sinusoid(amplitude = 1 nA, frequency = -10 Hz)             # negative frequency
        sinusoid(amplitude = 1 nA, frequency = 10 Hz, phase = 90 ms) # phase in radians
        sinusoid(amplitude = 1 nA, frequency = 10 Hz, offset = 1 mV) # offset not in nA
    """
    arguments = _named(call, SINUSOID_SETTINGS, ("amplitude", "frequency"))
    amplitude = lower_expression(arguments["amplitude"].value, Scope({}))
    frequency = constant(arguments["frequency"].value, HERTZ, "`frequency`")
    if frequency < 0:
        raise InvalidValueError(
            f"`frequency` must be at least 0, but it is {frequency:g} Hz", arguments["frequency"].value.span,
            "the phase shifts the wave; a negative frequency is not needed",
        )
    if not math.isfinite(2 * math.pi * frequency):
        raise InvalidValueError(
            f"`frequency` is {frequency:g} Hz, too large for the wave's phase (2 pi frequency t) to be a number",
            arguments["frequency"].value.span,
        )
    phase = constant(arguments["phase"].value, DIMENSIONLESS, "`phase` (radians)") if "phase" in arguments else 0.0
    offset = constant(arguments["offset"].value, amplitude.type, "`offset`") if "offset" in arguments else 0.0
    start, stop = _window(arguments)
    value = constant_value(amplitude, {}, "`amplitude`")
    return ir.Sinusoid(value, frequency, phase, offset, start, stop, call.span), amplitude.type


def _from_file(call: ast.Call, wanted: Dimension) -> ir.TimeSeries:
    """A current given by samples in a CSV or .npz file: a column `t` (a time) and the value
    column, the only other one or the one named by `column`, in `wanted`'s dimension.

    Rejects::

        from_file("current.csv")                                   # no interpolation
        from_file("missing.csv", interpolation = linear)           # no such file
        from_file("three_columns.csv", interpolation = linear)     # which value column?
        from_file("current.csv", interpolation = cubic)            # unknown interpolation
    """
    match call.args:
        case (ast.Text(span=span) as file,):
            pass
        case _:
            raise InvalidValueError(
                '`from_file` takes the file name first: `from_file("current.csv", interpolation = linear)`',
                call.args[0].span if call.args else call.span,
            )
    arguments = _named(call, FILE_SETTINGS, ("interpolation",), positional=1)
    interpolation = _interpolation(arguments["interpolation"])
    table = files.read_table(files.resolve(file), span)
    times = table.column("t", SECOND, span)
    column = _value_column(table, arguments.get("column"), span)
    where = arguments["column"].value.span if "column" in arguments else span
    values = table.column(column, wanted, where)
    _check_samples(table, times, values, column, span)
    return ir.TimeSeries(tuple(times.tolist()), tuple(values.tolist()), interpolation, call.span)


def _interpolation(argument: ast.Declaration) -> ir.Interpolation:
    match argument.value:
        case ast.Name(name=name) if name in INTERPOLATIONS:
            return INTERPOLATIONS[name]
        case ast.Name(name=name, span=span):
            raise UnknownNameError(
                f"unknown interpolation `{name}`; it is {' or '.join(INTERPOLATIONS)}",
                span,
                did_you_mean(name, INTERPOLATIONS),
            )
    raise InvalidValueError(f"`interpolation` is {' or '.join(INTERPOLATIONS)}", argument.value.span)


def _value_column(table: files.Table, argument: ast.Declaration | None, span: SourceSpan) -> str:
    """The name of the value column: `column = "I"`, or the only column besides `t`."""
    if argument is not None:
        match argument.value:
            case ast.Text(value=name):
                return name
        raise InvalidValueError('`column` is a column name in quotes, e.g. `column = "I"`', argument.value.span)
    others = [name for name in table.names if name != "t"]
    if len(others) != 1:
        raise InvalidValueError(
            f"{table.path.name} has columns {', '.join(table.names)}: a current file has a time column `t` "
            "and one value column",
            span,
            f'name the value column with `column = "{others[0]}"`' if others else None,
        )
    return others[0]


def _check_samples(table: files.Table, times: np.ndarray, values: np.ndarray, column: str, span: SourceSpan) -> None:
    """At least one sample, all finite, times strictly ascending."""
    if table.rows == 0:
        raise InvalidValueError(f"{table.path.name} has no samples (rows)", span)
    for name, array in (("t", times), (column, values)):
        bad = ~np.isfinite(array)
        if bad.any():
            row = int(np.argmax(bad)) + 1
            raise InvalidValueError(f"row {row} of {table.path.name}: `{name}` is not a finite number", span)
    later = np.diff(times) > 0
    if not later.all():
        row = int(np.argmin(later)) + 2
        raise InvalidValueError(
            f"the times of {table.path.name} must be ascending, but row {row} ({times[row - 1]:g} s) "
            f"does not come after row {row - 1} ({times[row - 2]:g} s)",
            span,
        )


def _ou(call: ast.Call) -> tuple[ir.OrnsteinUhlenbeck, Dimension]:
    """An Ornstein-Uhlenbeck noise current per neuron: mean, standard deviation, correlation time.

    Rejects::

        ou(std = -1 nA, tau = 5 ms)              # negative std
        ou(std = 0.1 nA, tau = 0 ms)             # tau must be > 0
        ou(mean = 1 mV, std = 0.1 nA, tau = 5 ms) # mean not in nA
    """
    arguments = _named(call, OU_SETTINGS, ("std", "tau"))
    std_typed = lower_expression(arguments["std"].value, Scope({}))
    std = constant_value(std_typed, {}, "`std`")
    tau = constant(arguments["tau"].value, SECOND, "`tau`")
    mean = constant(arguments["mean"].value, std_typed.type, "`mean`") if "mean" in arguments else 0.0
    if std < 0:
        raise InvalidValueError(f"`std` must be at least 0, but it is {std:g}", arguments["std"].value.span)
    if tau <= 0:
        raise InvalidValueError(
            f"`tau` must be greater than 0, but it is {tau:g} s", arguments["tau"].value.span
        )
    return ir.OrnsteinUhlenbeck(mean, std, tau, call.span), std_typed.type
