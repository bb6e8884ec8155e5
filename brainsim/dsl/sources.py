"""Spike sources: `PoissonSource` and `SpikeTimes` populations -> `ir.PoissonSource`, `ir.SpikeTimes`.

A spike source is a population without variables whose neurons spike on their
own: at random with a given rate, or at written times. Its braces hold its
settings, not overrides:

    noise = PoissonSource[1000] { rate = 10 Hz }
    cue   = SpikeTimes[2]       { indices = [0, 1, 0]  times = [5 ms, 10 ms, 20 ms] }

A value is checked here where the text can point closer than the IR node's
span: an element of a list, the low end of `uniform`, one spike time.
`brainsim.validate` checks what the IR locates as well (how many rates, a
constant rate's sign); a rate written as an expression of `t` may turn negative
during the run, which only the engine can see.
"""

from __future__ import annotations

import math

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import SECOND
from brainsim.dsl.expressions import BUILTINS, Scope, constant_value, expect_type, lower_expression
from brainsim.dsl.models import initial_value
from brainsim.dsl.settings import NO_NAMES, constant, unique_settings
from brainsim.errors import InvalidValueError, UnitError
from brainsim.units import DIMENSIONLESS

SOURCE_MODELS = (ir.PoissonSource.name, ir.SpikeTimes.name)
HERTZ = SECOND**-1
_RATE_SCOPE = Scope(BUILTINS, unknown_hint="a rate may read only `t` and `dt`, besides numbers with units")


def lower_source(
    population: ast.Population, name: str, size: int, simulation: ir.SimulationSettings
) -> ir.SpikeSource:
    """The spike source of population `name` (qualified) of `size` neurons, from its settings."""
    if population.model.name == ir.PoissonSource.name:
        return _poisson(population, size)
    return _spike_times(population, name, size, simulation)


# --------------------------------------------------------------------------- PoissonSource


def _poisson(population: ast.Population, size: int) -> ir.PoissonSource:
    """`rate`: a constant, one value per neuron, `uniform(low, high)`, or an expression of `t`.

    Rejects::

        PoissonSource[10]                              # no rate
        PoissonSource[10] { rate = 5 ms }              # not in Hz
        PoissonSource[2]  { rate = [5 Hz, -1 Hz] }     # an element negative (validate: a constant)
        PoissonSource[10] { rate = 5 Hz * v }          # only t and dt may be read
    """
    settings = unique_settings(population.overrides, ("rate",), "setting `{name}` of `PoissonSource`")
    if "rate" not in settings:
        raise InvalidValueError(
            "`PoissonSource` needs `rate = ...`",
            population.model.span,
            f"e.g. `PoissonSource[{size}] {{ rate = 10 Hz }}`",
        )
    value = settings["rate"].value
    match value:
        case ast.ValueList(items=items):  # one per neuron: brainsim.validate counts them
            rate: ir.Initializer | ir.Expr = ir.Values(tuple(_rate(item) for item in items), value.span)
        case ast.Call(function=ast.Ident(name="uniform")):
            rate, dimension = initial_value(value, NO_NAMES, {}, "the rate")
            if dimension != HERTZ:
                raise UnitError(f"a rate must have dimension {HERTZ}, but it is {dimension}", value.span)
            _not_negative(rate.low, value.args[0])
        case _:
            typed = lower_expression(value, _RATE_SCOPE)
            expect_type(typed, HERTZ, "a rate must have dimension {wanted}, but it is {got}")
            if ir.free_names(typed.expr):  # of `t` or `dt`: evaluated by the engine each step
                rate = typed.expr
            else:
                rate = ir.Constant(constant_value(typed, {}, "the rate"), value.span)
    return ir.PoissonSource(rate, population.span)


def _rate(item: ast.Expr) -> float:
    return _not_negative(constant(item, HERTZ, "a rate"), item)


def _not_negative(rate: float, written: ast.Expr) -> float:
    if rate < 0:
        raise InvalidValueError(f"a rate must not be negative, but it is {rate:g} Hz", written.span)
    return rate


# --------------------------------------------------------------------------- SpikeTimes


def _spike_times(
    population: ast.Population, name: str, size: int, simulation: ir.SimulationSettings
) -> ir.SpikeTimes:
    """`times` (ascending, within the run) and optionally `indices` (one neuron per time).

    Without `indices` every neuron spikes at every time.

    Rejects::

        SpikeTimes[2] { indices = [0, 2]  times = [1 ms, 2 ms] }    # neuron 2 of 0..1
        SpikeTimes[2] { indices = [0]  times = [1 ms, 2 ms] }       # one index per time
        SpikeTimes[1] { times = [2 ms, 1 ms] }                      # not ascending
        SpikeTimes[1] { times = [0.01 ms] }                         # rounds to step 0
        SpikeTimes[1] { times = [1 ms, 1.02 ms] }                   # twice in one step
    """
    settings = unique_settings(population.overrides, ("indices", "times"), "setting `{name}` of `SpikeTimes`")
    if "times" not in settings:
        raise InvalidValueError(
            "`SpikeTimes` needs `times = [...]`",
            population.model.span,
            "e.g. `SpikeTimes[1] { times = [5 ms, 10 ms] }`",
        )
    written_times = _value_list(settings["times"], "[5 ms, 10 ms]").items
    times = [_time(item, simulation) for item in written_times]
    for k in range(1, len(times)):
        if times[k] < times[k - 1]:
            raise InvalidValueError(
                f"spike times must be in ascending order, but time {k + 1} ({times[k]:g} s) is before "
                f"time {k} ({times[k - 1]:g} s)",
                written_times[k].span,
            )
    if "indices" in settings:
        written_indices = _value_list(settings["indices"], "[0, 1, 0]")
        indices = [_index(item, name, size) for item in written_indices.items]
        if len(indices) != len(times):
            raise InvalidValueError(
                f"`indices` lists {len(indices)} neurons, but `times` lists {len(times)}; give one neuron per time",
                written_indices.span,
            )
        spikes = list(zip(indices, times, written_times, strict=True))
    else:
        spikes = [(index, time, item) for time, item in zip(times, written_times) for index in range(size)]
    _once_per_step(spikes, name, simulation.dt)
    return ir.SpikeTimes(tuple(s[0] for s in spikes), tuple(s[1] for s in spikes), population.span)


def _value_list(setting: ast.Declaration, example: str) -> ast.ValueList:
    match setting.value:
        case ast.ValueList() as written:
            return written
    name = setting.name.name
    raise InvalidValueError(f"`{name}` takes a list, e.g. `{name} = {example}`", setting.value.span)


def _time(item: ast.Expr, simulation: ir.SimulationSettings) -> float:
    """A spike time within the run: at least one step after rounding, at most the duration."""
    time = constant(item, SECOND, "a spike time")
    if time > simulation.duration:  # first: a time past the run may be too many steps to round
        raise InvalidValueError(
            f"a spike time must be within the run, but {time:g} s is after its end "
            f"(duration = {simulation.duration:g} s)",
            item.span,
        )
    steps = round(time / simulation.dt)
    if steps < 1:
        raise InvalidValueError(
            f"a spike time must be at least one step (dt = {simulation.dt:g} s) after rounding to whole steps, "
            f"but {time:g} s rounds to {steps} steps",
            item.span,
        )
    return time


def _index(item: ast.Expr, name: str, size: int) -> int:
    value = constant(item, DIMENSIONLESS, "a neuron index")
    if value != math.floor(value):
        raise InvalidValueError(f"a neuron index must be a whole number, but it is {value:g}", item.span)
    if not 0 <= value < size:
        raise InvalidValueError(
            f"neuron {value:g} is outside `{name}`, whose neurons are 0 to {size - 1}", item.span
        )
    return int(value)


def _once_per_step(spikes: list[tuple[int, float, ast.Expr]], name: str, dt: float) -> None:
    """A neuron spikes at most once per step, so two of its times may not round to one step."""
    first: dict[tuple[int, int], float] = {}
    for index, time, item in spikes:
        key = (index, round(time / dt))
        if key in first:
            raise InvalidValueError(
                f"neuron {index} of `{name}` would spike twice in step {key[1]} (at {first[key]:g} s and "
                f"{time:g} s, dt = {dt:g} s); a neuron spikes at most once per step",
                item.span,
            )
        first[key] = time
