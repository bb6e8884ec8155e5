"""The simulation settings, the models by name, regions and their populations.

`declare` builds the `Declared` table that the rest of lowering reads: the
settings, every model lowered as declared, and every population (a neuron
model with its region's overrides applied, or a spike source from its
settings). `resolve` turns an endpoint (`Region` or
`Region.pop`) into populations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import SECOND
from brainsim.dsl.models import LoweredSynapse, lower_neuron, lower_synapse
from brainsim.dsl.positions import lower_positions
from brainsim.dsl.settings import constant, unique_settings
from brainsim.dsl.sources import SOURCE_MODELS, lower_source
from brainsim.errors import DuplicateNameError, InvalidValueError, SourceSpan, UnknownNameError, did_you_mean
from brainsim.units import DIMENSIONLESS, to_si
from brainsim.validate import MAX_POPULATION_SIZE

SIMULATION_SETTINGS = ("dt", "duration", "seed")
DEFAULT_DT = to_si("0.1", "ms")[0]


@dataclass(frozen=True)
class Declared:
    """What the statements of a model declare, by name, for the wiring statements to use."""

    simulation: ir.SimulationSettings
    neurons: dict[str, ast.Neuron]
    synapses: dict[str, ast.Synapse]
    neuron_models: dict[str, ir.NeuronModel]
    synapse_models: dict[str, LoweredSynapse]
    regions: dict[str, tuple[ir.Population, ...]]
    region_spans: dict[str, SourceSpan]


def declare(model: ast.Model) -> Declared:
    """Lower the settings, the models and the regions of `model`."""
    simulation = lower_simulation(model.simulation)
    neurons, synapses = _models(model)
    neuron_models = {name: lower_neuron(neuron) for name, neuron in neurons.items()}
    synapse_models = {name: lower_synapse(synapse) for name, synapse in synapses.items()}
    regions: dict[str, tuple[ir.Population, ...]] = {}
    region_spans: dict[str, SourceSpan] = {}
    for region in model.regions:
        name = region.name.name
        if name in regions:
            raise DuplicateNameError(
                f"region `{name}` is declared twice (first on line {region_spans[name].line})", region.name.span
            )
        region_spans[name] = region.span
        regions[name] = _populations(region, neurons, synapses, neuron_models, simulation)
    return Declared(simulation, neurons, synapses, neuron_models, synapse_models, regions, region_spans)


# --------------------------------------------------------------------------- simulation


def lower_simulation(simulation: ast.Simulation) -> ir.SimulationSettings:
    """The `simulation` block.

    Rejects::

        simulation { dt = 0 ms  duration = 100 ms }         # dt must be > 0
        simulation { dt = 0.3 ms  duration = 1 ms }         # not a whole number of steps
        simulation { duration = 100 ms  seed = -1 }         # seed: a whole number >= 0
        simulation { duration = 100 ms  step = 1 ms }       # unknown setting
    """
    settings = unique_settings(simulation.settings, SIMULATION_SETTINGS, "simulation setting `{name}`")
    if "duration" not in settings:
        raise InvalidValueError(
            "the `simulation` block needs a `duration`",
            keyword_span(simulation.span, "simulation"),
            "e.g. `simulation { duration = 100 ms }`",
        )
    dt = DEFAULT_DT
    if "dt" in settings:
        dt = constant(settings["dt"].value, SECOND, "`dt`")
        if dt <= 0:
            raise InvalidValueError(f"`dt` must be greater than 0, but it is {dt:g} s", settings["dt"].value.span)
    duration_value = settings["duration"].value
    duration = constant(duration_value, SECOND, "`duration`")
    if duration <= 0:
        raise InvalidValueError(f"`duration` must be greater than 0, but it is {duration:g} s", duration_value.span)
    steps = duration / dt
    if abs(steps - round(steps)) > 1e-9 * steps:
        raise InvalidValueError(
            f"`duration` ({duration:g} s) must be a whole number of steps of dt ({dt:g} s), but it is {steps:g} steps",
            duration_value.span,
        )
    seed = 0
    if "seed" in settings:
        seed_value = settings["seed"].value
        value = constant(seed_value, DIMENSIONLESS, "`seed`")
        if value < 0 or value != math.floor(value):
            raise InvalidValueError(f"`seed` must be a whole number >= 0, but it is {value:g}", seed_value.span)
        seed = int(value)
    return ir.SimulationSettings(dt, duration, seed, simulation.span)


def keyword_span(span: SourceSpan, keyword: str) -> SourceSpan:
    """The span of the keyword that starts the statement at `span`."""
    return SourceSpan(span.file, span.line, span.column, span.line, span.column + len(keyword), span.text)


# --------------------------------------------------------------------------- models and regions


def _models(model: ast.Model) -> tuple[dict[str, ast.Neuron], dict[str, ast.Synapse]]:
    """Neuron and synapse models by name; the two share one namespace, and the spike sources are built in.

    Rejects::

        neuron LIF { ... }
        synapse LIF { ... }
        neuron PoissonSource { ... }
    """
    seen: dict[str, ast.Ident] = {}
    for declared in (*model.neurons, *model.synapses):
        name = declared.name.name
        if name in SOURCE_MODELS:
            raise DuplicateNameError(
                f"`{name}` is a built-in spike source; choose another name", declared.name.span
            )
        if name in seen:
            raise DuplicateNameError(
                f"model `{name}` is declared twice (first on line {seen[name].span.line})", declared.name.span
            )
        seen[name] = declared.name
    return {n.name.name: n for n in model.neurons}, {s.name.name: s for s in model.synapses}


def _populations(
    region: ast.Region,
    neurons: dict[str, ast.Neuron],
    synapses: dict[str, ast.Synapse],
    models: dict[str, ir.NeuronModel],
    simulation: ir.SimulationSettings,
) -> tuple[ir.Population, ...]:
    """Rejects::

        region V1 { a = LIF[10]  a = LIF[5] }      # duplicate population
        region V1 { a = LIFF[10] }                 # unknown model
        region V1 { a = LIF[0] }                   # no neurons
    """
    populations: dict[str, ir.Population] = {}
    for population in region.populations:
        short = population.name.name
        if short in populations:
            raise DuplicateNameError(
                f"region `{region.name.name}` already has a population `{short}` "
                f"(line {populations[short].span.line})",
                population.name.span,
            )
        model_name = population.model.name
        if model_name not in neurons and model_name not in SOURCE_MODELS:
            hint = (
                f"`{model_name}` is a synapse model; a population needs a neuron model"
                if model_name in synapses
                else did_you_mean(model_name, [*neurons, *SOURCE_MODELS])
            )
            raise UnknownNameError(f"unknown neuron model `{model_name}`", population.model.span, hint)
        size = whole_number(population.size, "a population size")
        if not 1 <= size <= MAX_POPULATION_SIZE:
            raise InvalidValueError(
                f"a population needs 1 to {MAX_POPULATION_SIZE} neurons, but `{short}` has {size}",
                population.size.span,
            )
        name = f"{region.name.name}.{short}"
        model: ir.NeuronModel | ir.SpikeSource
        if model_name in SOURCE_MODELS:
            model = lower_source(population, name, size, simulation)
        elif population.overrides:
            model = lower_neuron(neurons[model_name], population.overrides, models[model_name])
        else:
            model = models[model_name]
        positions = lower_positions(population.at, size) if population.at is not None else None
        populations[short] = ir.Population(
            name, region.name.name, size, model, population.kind, positions, span=population.span
        )
    return tuple(populations.values())


def whole_number(count: ast.Count, what: str) -> int:
    """The value of a size or index, which must be a whole number."""
    value = Decimal(count.text)  # the grammar admits only number literals here
    if value != value.to_integral_value():
        raise InvalidValueError(f"{what} must be a whole number, but it is {count.text}", count.span)
    return int(value)


# --------------------------------------------------------------------------- endpoints


def resolve(endpoint: ast.Endpoint, declared: Declared) -> tuple[ir.Population, ...]:
    """The populations an endpoint names: all of a region's, or one.

    Rejects::

        connect Retna -> V1 with S       # unknown region (did you mean `Retina`?)
        connect V1.complex -> ...        # V1 has no population `complex`
    """
    region = endpoint.region.name
    if region not in declared.regions:
        owners = [r for r, pops in declared.regions.items() if any(p.name == f"{r}.{region}" for p in pops)]
        hint = f"`{region}` is a population of region `{owners[0]}`: write `{owners[0]}.{region}`" if owners else None
        raise UnknownNameError(
            f"unknown region `{region}`", endpoint.region.span, hint or did_you_mean(region, declared.regions)
        )
    populations = declared.regions[region]
    if endpoint.population is None:
        return populations
    wanted = f"{region}.{endpoint.population.name}"
    for population in populations:
        if population.name == wanted:
            return (population,)
    shorts = [p.name.split(".", 1)[1] for p in populations]
    raise UnknownNameError(
        f"region `{region}` has no population `{endpoint.population.name}`",
        endpoint.population.span,
        did_you_mean(endpoint.population.name, shorts) or f"its populations are {', '.join(shorts) or 'none'}",
    )
