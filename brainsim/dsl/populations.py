"""The simulation settings, the models by name, regions and their populations.

`declare` builds the `Declared` table that the rest of lowering reads: the
settings, every model lowered as declared (derived models by `derived`), and
every population (a neuron model with its region's overrides applied, or a
spike source from its settings), region by region at every nesting level.
`resolve` turns an endpoint (`Region`, `Region.Sub`, `Region.Sub.pop`) into
populations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.derived import derive
from brainsim.dsl.dimensions import SECOND
from brainsim.dsl.models import LoweredSynapse, lower_neuron, lower_synapse
from brainsim.dsl.positions import lower_positions
from brainsim.dsl.settings import constant, positive_steps, unique_settings
from brainsim.dsl.sources import SOURCE_MODELS, lower_source
from brainsim.errors import DuplicateNameError, InvalidValueError, SourceSpan, UnknownNameError, did_you_mean
from brainsim.units import DIMENSIONLESS, to_si
from brainsim.validate import MAX_POPULATION_SIZE, countable

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
    region_parents: dict[str, str | None] = field(default_factory=dict)
    region_children: dict[str, list[str]] = field(default_factory=dict)

    def within(self, region: str) -> tuple[ir.Population, ...]:
        """The populations of `region` (a qualified name) at any depth, in source order.

        Found by walking down from `region` (`region_children`), so that each call costs
        what the region holds, not what the model holds: every endpoint asks.
        """
        inside, pending = [], [region]
        while pending:
            name = pending.pop()
            inside += self.regions[name]
            pending += self.region_children.get(name, ())
        return tuple(sorted(inside, key=lambda p: (p.span.file, p.span.line, p.span.column) if p.span else ("", 0, 0)))


def declare(model: ast.Model) -> Declared:
    """Lower the settings, the models and the regions of `model`."""
    simulation = lower_simulation(model.simulation)
    neurons, synapses = _models(model)
    neuron_models = {name: lower_neuron(neuron) for name, neuron in neurons.items()}
    derived_neurons, derived_models = derive(model.derived_neurons, neurons, neuron_models, synapses)
    neurons.update(derived_neurons)
    neuron_models.update(derived_models)
    synapse_models = {name: lower_synapse(synapse) for name, synapse in synapses.items()}
    declared = Declared(simulation, neurons, synapses, neuron_models, synapse_models, {}, {}, {})
    for region in model.regions:
        _declare_region(region, None, declared)
    return declared


def _declare_region(region: ast.Region, parent: str | None, declared: Declared) -> None:
    """Declare `region` inside `parent` (a qualified name, None at the top) and the regions in it.

    Rejects::

        region V1 { a = LIF[1] }  region V1 { b = LIF[1] }     # a region twice
        region C { region L4 { a = LIF[1] }  L4 = LIF[2] }     # a sub-region and a population `L4`
    """
    short = region.name.name
    name = short if parent is None else f"{parent}.{short}"
    if name in declared.regions:
        first = declared.region_spans[name]
        where = f"region `{short}` is declared twice" if parent is None else f"region `{parent}` has two regions `{short}`"
        raise DuplicateNameError(f"{where} (first at {first})", region.name.span)
    populations = _populations(region, name, declared.neurons, declared.synapses, declared.neuron_models,
                               declared.simulation)
    declared.region_spans[name] = region.span
    declared.region_parents[name] = parent
    if parent is not None:
        declared.region_children.setdefault(parent, []).append(name)
    declared.regions[name] = populations
    for sub in region.regions:
        clash = next((p for p in populations if p.name == f"{name}.{sub.name.name}"), None)
        if clash is not None:
            raise DuplicateNameError(
                f"region `{name}` has a population and a region both named `{sub.name.name}` "
                f"(the population at {clash.span})",
                sub.name.span,
            )
        _declare_region(sub, name, declared)


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
    # Now, not with the other times in validate: lowering compares them with the duration.
    countable(duration, dt, "`duration`", duration_value.span)
    if not positive_steps(duration, dt):
        raise InvalidValueError(
            f"`duration` ({duration:g} s) must be a whole number of steps of dt ({dt:g} s), but it is "
            f"{duration / dt:g} steps",
            duration_value.span,
        )
    seed = 0
    if "seed" in settings:
        seed_value = settings["seed"].value
        match seed_value:
            case ast.Quantity(number=digits, unit=None) if digits.isdigit():
                seed = int(digits)  # exactly: a float holds whole numbers only up to 2^53, a seed up to 2^64 - 1
            case _:
                value = constant(seed_value, DIMENSIONLESS, "`seed`")
                if value < 0 or value != math.floor(value):
                    raise InvalidValueError(f"`seed` must be a whole number >= 0, but it is {value:g}", seed_value.span)
                if value > 2**53:
                    raise InvalidValueError(
                        f"`seed` is {value:g}, past 2^53, where a float no longer holds every whole number",
                        seed_value.span,
                        "write a seed this large as plain digits, e.g. `seed = 18446744073709551615`",
                    )
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
    for declared in (*model.neurons, *model.derived_neurons, *model.synapses):
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
    qualified: str,
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
                f"region `{qualified}` already has a population `{short}` "
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
        name = f"{qualified}.{short}"
        model: ir.NeuronModel | ir.SpikeSource
        if model_name in SOURCE_MODELS:
            model = lower_source(population, name, size, simulation)
        elif population.overrides:
            model = lower_neuron(neurons[model_name], population.overrides, models[model_name])
        else:
            model = models[model_name]
        positions = lower_positions(population.at, size) if population.at is not None else None
        populations[short] = ir.Population(
            name, qualified, size, model, population.kind, positions, span=population.span
        )
    return tuple(populations.values())


def whole_number(count: ast.Count, what: str) -> int:
    """The value of a size or index, which must be a whole number below 10^19 (every size and
    index the backends hold is far smaller; `brainsim.validate` gives the true bounds)."""
    try:
        value = Decimal(count.text)  # the grammar admits only number literals here
    except InvalidOperation:  # an exponent past Decimal's own limits: 1e99999999999999999999
        value = None
    if value is None or value.adjusted() >= 19:  # before rounding: 1e999999 would build a million digits
        raise InvalidValueError(f"{what} must be a whole number below 10^19, but it is {count.text}", count.span)
    if value != value.to_integral_value():
        raise InvalidValueError(f"{what} must be a whole number, but it is {count.text}", count.span)
    return int(value)


# --------------------------------------------------------------------------- endpoints


def resolve(endpoint: ast.Endpoint, declared: Declared) -> tuple[ir.Population, ...]:
    """The populations an endpoint names: all of a region's at any depth, or one.

    Each name after the first is a region or a population directly inside
    what the names before it select.

    Rejects::

        connect Retna -> V1 with S          # unknown region (did you mean `Retina`?)
        connect V1.complex -> ...           # V1 has no region or population `complex`
        connect Cortex.L4.exc.x -> ...      # a population has no parts
    """
    first, *rest = endpoint.names
    if first.name not in declared.regions:
        raise UnknownNameError(f"unknown region `{first.name}`", first.span, _top_level_hint(first.name, declared))
    region = first.name
    for position, part in enumerate(rest):
        inside = f"{region}.{part.name}"
        if inside in declared.regions:
            region = inside
            continue
        population = next((p for p in declared.regions[region] if p.name == inside), None)
        if population is None:
            what = "region or population" if _sub_regions(region, declared) else "population"
            raise UnknownNameError(
                f"region `{region}` has no {what} `{part.name}`", part.span, _parts_hint(part, region, declared)
            )
        if position < len(rest) - 1:
            raise UnknownNameError(
                f"`{inside}` is a population; it has no regions or populations inside it", rest[position + 1].span
            )
        return (population,)
    return declared.within(region)


def _top_level_hint(name: str, declared: Declared) -> str | None:
    """`write Cortex.L4.exc`, when a population or a nested region is named without its region."""
    populations = [p.name for pops in declared.regions.values() for p in pops]
    full = next((n for n in (*populations, *declared.regions) if n.endswith("." + name)), None)
    if full is not None:
        return f"`{name}` is inside region `{full.rsplit('.', 1)[0]}`: write `{full}`"
    top = _sub_regions(None, declared)
    return did_you_mean(name, top) or f"the regions are {', '.join(top) or 'none'}"


def _sub_regions(region: str | None, declared: Declared) -> list[str]:
    """The short names of the regions directly inside `region` (None: the top level)."""
    return [r.rsplit(".", 1)[-1] for r, parent in declared.region_parents.items() if parent == region]


def _parts_hint(part: ast.Ident, region: str, declared: Declared) -> str:
    sub = _sub_regions(region, declared)
    populations = [p.name.rsplit(".", 1)[1] for p in declared.regions[region]]
    listed = "; ".join(
        f"its {what} are {', '.join(names)}" for what, names in (("regions", sub), ("populations", populations)) if names
    )
    return did_you_mean(part.name, [*sub, *populations]) or listed or f"`{region}` is empty"
