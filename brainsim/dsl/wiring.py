"""The statements that use populations: `connect` and `record` (`stimulus` is in `stimuli`).

A statement whose endpoint is a region expands to one IR object per
population of that region (for `connect`, per pair of populations). A spike
source has no variables: it may be the source of a `connect` and its spikes
may be recorded, nothing else (`neuron_model` checks).
"""

from __future__ import annotations

from dataclasses import replace

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import BOOLEAN, SECOND, missing_unit_hint
from brainsim.dsl.edges import read_edges
from brainsim.dsl.expressions import Scope
from brainsim.dsl.models import CONNECT_SETTINGS, LoweredSynapse, initial_value, lower_synapse
from brainsim.dsl.synapse_rules import Sides
from brainsim.dsl.pair_values import is_pair_value, pair_expression, pair_scope, synapse_value
from brainsim.dsl.populations import Declared, resolve
from brainsim.dsl.selections import neuron_indices, selected
from brainsim.dsl.settings import constant, positive_steps, whole_steps
from brainsim.errors import DuplicateNameError, InvalidValueError, SourceSpan, UnitError, UnknownNameError, did_you_mean
from brainsim.units import DIMENSIONLESS
from brainsim.validate import countable

RULES = ("all_to_all", "one_to_one")
RULE_SETTINGS = {
    "rule": "sets the connection rule",
    "p": "sets a fixed connection probability",
    "indegree": "sets a fixed number of synapses onto each postsynaptic neuron",
    "outdegree": "sets a fixed number of synapses from each presynaptic neuron",
    "total": "sets a fixed total number of synapses",
    "edges": "lists the synapses",
}

# --------------------------------------------------------------------------- connect


def lower_connect(connect: ast.Connect, declared: Declared) -> list[ir.Projection]:
    """One projection per (source population, target population) pair.

    Names are `Source.pop->Target.pop`; `lower` numbers repeated names.
    """
    sources = resolve(connect.source, declared)
    targets = resolve(connect.target, declared)
    synapse = _synapse(connect, declared)
    settings, overrides = _connect_settings(connect, synapse)
    dt = declared.simulation.dt
    lowered = declared.synapse_models[synapse.name.name]
    as_declared = lowered.model
    per_synapse = [o for o in overrides if is_pair_value(o.value, pair_scope(lowered.model))]
    constant = tuple(o for o in overrides if o not in per_synapse)
    if constant:
        lowered = lower_synapse(synapse, constant, lowered.model)
    scope = pair_scope(lowered.model)
    rule, columns = _rule(settings, connect, sources, targets, scope, lowered.model)
    lowered = _per_synapse_values(lowered, per_synapse, columns, scope)
    delay = columns.get("delay") or _delay(settings, dt, scope)
    condition = _condition(settings, rule, scope)
    autapses = _switch(settings, "autapses", False)
    multapses = _multapses(settings, rule)
    modulator = _modulator(settings, declared)
    axonal, dendritic = (_synaptic_delay(settings, key, dt) for key in ("axonal_delay", "dendritic_delay"))
    projections = []
    for source in sources:
        for target in targets:
            model = neuron_model(target, connect.target.span, "for a synapse to act on")
            if lowered.waiting:  # statements that read neuron-side names: lower them for this pair
                sides = Sides(source.name, source.model if isinstance(source.model, ir.NeuronModel) else None,
                              target.name, model, modulator, connect.span.line)
                again = lower_synapse(synapse, constant, as_declared, sides=sides)
                paired = replace(again, model=replace(again.model, states=lowered.model.states))
            else:
                paired = lowered
            _check_effects(connect, paired, target, model)
            _check_on_post(connect, synapse, paired.model, target, model)
            projections.append(ir.Projection(
                name=f"{source.name}->{target.name}",
                source=source.name,
                target=target.name,
                synapse=paired.model,
                rule=rule,
                delay=delay,
                allow_autapses=autapses and source.name == target.name,
                allow_multapses=multapses,
                condition=condition,
                modulator=modulator.name if modulator else None,
                axonal_delay=axonal,
                dendritic_delay=dendritic,
                span=connect.span,
            ))
    return projections


def number_repeats(projections: list[ir.Projection]) -> tuple[ir.Projection, ...]:
    """Give the second, third... projection with the same name a `#2`, `#3`... suffix."""
    seen: dict[str, int] = {}
    named = []
    for projection in projections:
        seen[projection.name] = seen.get(projection.name, 0) + 1
        count = seen[projection.name]
        named.append(projection if count == 1 else replace(projection, name=f"{projection.name}#{count}"))
    return tuple(named)


def _synapse(connect: ast.Connect, declared: Declared) -> ast.Synapse:
    name = connect.synapse.name
    if name not in declared.synapses:
        hint = (
            f"`{name}` is a neuron model; `connect ... with` needs a synapse model"
            if name in declared.neurons
            else did_you_mean(name, declared.synapses)
        )
        raise UnknownNameError(f"unknown synapse model `{name}`", connect.synapse.span, hint)
    return declared.synapses[name]


def _connect_settings(
    connect: ast.Connect, synapse: ast.Synapse
) -> tuple[dict[str, ast.Declaration], tuple[ast.Declaration, ...]]:
    """The connect settings by name, and the overrides of the synapse's values.

    Rejects::

        connect A -> B with S { prob = 0.1 }            # unknown setting
        connect A -> B with S { weight = 1 nA  w = 2 nA } # the weight twice
        connect A -> B with NoW { weight = 1 nA }        # NoW has no state `w`
    """
    own = [d.name.name for d in (*synapse.parameters, *synapse.states)]
    settings: dict[str, ast.Declaration] = {}
    overrides: dict[str, ast.Declaration] = {}
    for declaration in connect.settings:
        key = declaration.name.name
        target = "w" if key == "weight" else key
        if key in settings or target in overrides:
            first = settings.get(key) or overrides[target]
            what = "the weight (`weight` sets `w`)" if target == "w" else f"`{key}`"
            raise DuplicateNameError(f"{what} is set twice (first on line {first.span.line})", declaration.name.span)
        if key == "weight" and "w" not in own:
            raise UnknownNameError(
                f"synapse `{synapse.name.name}` has no state variable `w`, which `weight` sets",
                declaration.name.span,
                "declare it, e.g. `state { w = 1 nA }`",
            )
        if key in CONNECT_SETTINGS and key != "weight":
            settings[key] = declaration
        elif target in own:
            name = ast.Ident(target, declaration.name.span)
            overrides[target] = ast.Declaration(name, declaration.value, declaration.span)
        else:
            names = ", ".join(CONNECT_SETTINGS)
            extra = f", or a parameter or state variable of `{synapse.name.name}` ({', '.join(own)})" if own else ""
            raise UnknownNameError(
                f"unknown connect setting `{key}`; the settings are {names}{extra}",
                declaration.name.span,
                did_you_mean(key, [*CONNECT_SETTINGS, *own]),
            )
    return settings, tuple(overrides.values())


def _rule(
    settings: dict[str, ast.Declaration],
    connect: ast.Connect,
    sources: tuple[ir.Population, ...],
    targets: tuple[ir.Population, ...],
    scope: Scope,
    synapse: ir.SynapseModel,
) -> tuple[ir.ConnectionRule, dict[str, ir.Values]]:
    """The rule, its span on the written value (`brainsim.validate` checks `p`, degrees and
    one-to-one sizes there), and the per-synapse columns of an edge list by setting name.

    Rejects::

        connect A -> B with S { rule = one_to_one  p = 0.5 }     # two rules
        connect A -> C with S { rule = one_to_one }              # C holds two populations
        connect A -> B with S { indegree = 2.5 }                 # not a whole number
    """
    given = [key for key in settings if key in RULE_SETTINGS]
    if len(given) > 1:
        first, second = given[0], given[1]
        raise InvalidValueError(
            f"`{second}` {RULE_SETTINGS[second]}; it cannot be combined with `{first}`", settings[second].name.span
        )
    if not given:
        return ir.AllToAll(), {}
    key = given[0]
    value = settings[key].value
    match key:
        case "p":
            return ir.FixedProbability(pair_expression(value, scope, DIMENSIONLESS, "`p`"), value.span), {}
        case "indegree":
            return ir.FixedIndegree(_count(value, key), value.span), {}
        case "outdegree":
            return ir.FixedOutdegree(_count(value, key), value.span), {}
        case "total":
            return ir.FixedTotalNumber(_count(value, key), value.span), {}
        case "edges":
            _one_population_each(connect, sources, targets, "an edge list")
            return read_edges(value, sources[0], targets[0], synapse)
    match value:
        case ast.Name(name="all_to_all"):
            return ir.AllToAll(value.span), {}
        case ast.Name(name="one_to_one"):
            _one_population_each(connect, sources, targets, "one_to_one")
            return ir.OneToOne(value.span), {}
        case ast.Name(name=name):
            raise UnknownNameError(
                f"unknown connection rule `{name}`; the rules are {', '.join(RULES)} "
                "(or `p`, `indegree`, `outdegree`, `total`, `edges`)",
                value.span,
                did_you_mean(name, RULES),
            )
    raise InvalidValueError(f"`rule` is one of {', '.join(RULES)}", value.span)


def _count(value: ast.Value, key: str) -> int:
    """A number of synapses: a whole number (its sign is `brainsim.validate`'s check)."""
    number = constant(value, DIMENSIONLESS, f"`{key}`")
    if number != round(number):
        raise InvalidValueError(f"`{key}` is a number of synapses, a whole number, but it is {number:g}", value.span)
    return int(number)


def _one_population_each(
    connect: ast.Connect, sources: tuple[ir.Population, ...], targets: tuple[ir.Population, ...], rule: str
) -> None:
    """One-to-one and an edge list join two populations, so neither endpoint may be a region of several."""
    for endpoint, populations in ((connect.source, sources), (connect.target, targets)):
        if len(populations) != 1:
            names = ", ".join(p.name for p in populations)
            raise InvalidValueError(
                f"{rule} connects one population to one population, but `{endpoint.text}` "
                f"holds {len(populations)} ({names}); name one of them",
                endpoint.span,
            )


def _per_synapse_values(
    lowered: LoweredSynapse, declarations: list[ast.Declaration], columns: dict[str, ir.Values], scope: Scope
) -> LoweredSynapse:
    """The synapse with the states a connect sets per synapse: distributions, pair formulas, edge-list columns.

    Rejects::

        connect A -> B with S { edges = "with_weights.csv"  weight = 2 nA }   # the weight twice
    """
    values: dict[str, ir.Initializer] = {name: v for name, v in columns.items() if name != "delay"}
    for declaration in declarations:
        name = declaration.name.name
        if name in values:
            raise DuplicateNameError(
                f"`{name}` is given by a column of the edge list and set here too", declaration.name.span
            )
        state = next(s for s in lowered.model.states if s.name == name)
        values[name] = synapse_value(declaration.value, scope, state.dimension, f"the initial value of `{name}`")
    if not values:
        return lowered
    states = tuple(replace(s, initial=values.get(s.name, s.initial)) for s in lowered.model.states)
    return replace(lowered, model=replace(lowered.model, states=states))


def _delay(settings: dict[str, ast.Declaration], dt: float, scope: Scope) -> ir.Initializer:
    """A delay per synapse, spanning its written value; one step by default.

    `brainsim.validate` checks that it rounds to at least one step. Rejects::

        connect A -> B with S { delay = 2 mV }        # not a time
    """
    if "delay" not in settings:
        return ir.Constant(dt)
    value = settings["delay"].value
    if is_pair_value(value, scope):
        return synapse_value(value, scope, SECOND, "the delay")
    delay, dimension = initial_value(value, Scope({}), {}, "the delay")
    if dimension != SECOND:
        raise UnitError(
            f"a delay must be a time (s), but it is {dimension}", value.span, missing_unit_hint(value, SECOND)
        )
    return delay


def _condition(settings: dict[str, ast.Declaration], rule: ir.ConnectionRule, scope: Scope) -> ir.Expr | None:
    """`condition = i != j`: only the pairs where it holds are candidates of the rule."""
    if "condition" not in settings:
        return None
    value = settings["condition"].value
    condition = pair_expression(value, scope, BOOLEAN, "`condition`")
    return replace(condition, span=value.span) if condition.span is None else condition


def _switch(settings: dict[str, ast.Declaration], key: str, default: bool) -> bool:
    if key not in settings:
        return default
    match settings[key].value:
        case ast.Boolean(value=value):
            return value
    raise InvalidValueError(f"`{key}` is `true` or `false`", settings[key].value.span)


def _multapses(settings: dict[str, ast.Declaration], rule: ir.ConnectionRule) -> bool:
    """Whether a random-degree rule may draw a pair twice (NEST's default: yes).

    Rejects::

        connect A -> B with S { p = 0.1  multapses = false }   # only the degree rules draw pairs
    """
    allowed = _switch(settings, "multapses", True)
    if "multapses" in settings and not isinstance(rule, ir.FixedIndegree | ir.FixedOutdegree | ir.FixedTotalNumber):
        raise InvalidValueError(
            "`multapses` applies to the rules that draw pairs: `indegree`, `outdegree` and `total`",
            settings["multapses"].name.span,
        )
    return allowed


def neuron_model(population: ir.Population, span: SourceSpan, purpose: str) -> ir.NeuronModel:
    """The neuron model of `population`, which a statement at `span` needs `purpose`.

    Rejects::

        region Input { noise = PoissonSource[10] { rate = 5 Hz } }
        connect A -> Input with S        # also: stimulus Input { ... }, record v of Input
    """
    match population.model:
        case ir.NeuronModel() as model:
            return model
        case source:
            raise InvalidValueError(
                f"`{population.name}` is a spike source ({source.name}): it has no variables {purpose}",
                span,
                "a spike source can be the source of a `connect`, and `record spikes of` records it",
            )


def _check_effects(
    connect: ast.Connect, lowered: LoweredSynapse, target: ir.Population, model: ir.NeuronModel
) -> None:
    """Each `on pre` effect must act on a state variable of the target's `model`, in its dimension.

    Rejects::

        synapse S { state { w = 1 nA }  on pre { ge += w } }
        connect A -> B with S                  # B's model has no `ge`, or `ge` is in volts
    """
    states = {s.name: s.dimension for s in model.states}
    for assignment, effect in zip(lowered.model.effects(), lowered.effects, strict=True):
        name = assignment.variable
        where = f"(`on pre {{ {name} {assignment.op.value} ... }}` on line {assignment.span.line})"
        if name not in states:
            raise UnknownNameError(
                f"synapse `{connect.synapse.name}` acts on `{name}`, but neuron model `{model.name}` "
                f"of `{target.name}` has no state variable `{name}` {where}",
                connect.synapse.span,
                did_you_mean(name, states),
            )
        if states[name] != effect:
            raise UnitError(
                f"synapse `{connect.synapse.name}` changes `{name}` by a value of dimension {effect}, "
                f"but `{name}` of `{target.name}` has dimension {states[name]} {where}",
                connect.synapse.span,
            )


def _check_on_post(
    connect: ast.Connect, synapse: ast.Synapse, lowered: ir.SynapseModel, target: ir.Population, model: ir.NeuronModel
) -> None:
    """An `on post` block runs when the postsynaptic neuron spikes, so that neuron must be able to.

    Rejects::

        neuron Passive { state { v = 0 mV } }          # no `spike when`
        connect A -> Passive with STDP                 # STDP has an `on post` block
    """
    if synapse.on_post_span is None or model.threshold is not None:
        return
    raise InvalidValueError(
        f"synapse `{lowered.name}` has an `on post` block (line {synapse.on_post_span.line}), but neuron model "
        f"`{model.name}` of `{target.name}` has no `spike when`: its neurons never spike, so `on post` would never run",
        connect.synapse.span,
        "give the target's model a spike condition, or use a synapse without `on post`",
    )


def _modulator(settings: dict[str, ast.Declaration], declared: Declared) -> ir.Population | None:
    """`modulator = Reward.dopamine`: the one-neuron population whose variables the synapse reads as `X_mod`.

    Rejects::

        connect A -> B with RSTDP { modulator = 1 }              # not a population
        connect A -> B with RSTDP { modulator = Reward.cells }   # 10 neurons, or a spike source
    """
    if "modulator" not in settings:
        return None
    value = settings["modulator"].value
    match value:
        case ast.Name(name=name):
            endpoint = ast.Endpoint(tuple(ast.Ident(part, value.span) for part in name.split(".")), value.span)
        case _:
            raise InvalidValueError(
                "`modulator` names a population of one neuron, e.g. `modulator = Reward.dopamine`", value.span
            )
    populations = resolve(endpoint, declared)
    if len(populations) != 1:
        names = ", ".join(p.name for p in populations) or "none"
        raise InvalidValueError(
            f"`{name}` holds {len(populations)} populations ({names}); the modulator is one population of one neuron",
            value.span,
        )
    (population,) = populations
    neuron_model(population, value.span, "for a synapse to read")
    if population.size != 1:
        raise InvalidValueError(
            f"the modulator `{population.name}` has {population.size} neurons; a modulator is one neuron whose "
            "variables every synapse of the projection reads (a global signal such as dopamine)",
            value.span,
        )
    return population


def _synaptic_delay(settings: dict[str, ast.Declaration], key: str, dt: float) -> float:
    """`axonal_delay` / `dendritic_delay`: a time of whole steps, zero by default.

    `brainsim.validate` checks that the axonal delay is at most the smallest delay. Rejects::

        connect A -> B with STDP { axonal_delay = -1 ms }
        connect A -> B with STDP { dendritic_delay = 0.15 ms }     # dt = 0.1 ms
    """
    if key not in settings:
        return 0.0
    value = settings[key].value
    seconds = constant(value, SECOND, f"`{key}`")
    if seconds < 0:
        raise InvalidValueError(f"`{key}` must not be negative, but it is {seconds:g} s", value.span)
    if not whole_steps(seconds, dt):
        raise InvalidValueError(
            f"`{key}` must be a whole number of steps, but it is {seconds:g} s = {seconds / dt:g} steps of dt = {dt:g} s",
            value.span,
        )
    return seconds


# --------------------------------------------------------------------------- record


def lower_records(
    records: tuple[ast.Record, ...], declared: Declared
) -> tuple[tuple[ir.SpikeRecord, ...], tuple[ir.StateRecord, ...]]:
    """Spike records per population; state records per population and variable.

    Rejects::

        record spikes of V1[0:3]         # spikes are recorded for whole populations
        record vv of V1                  # no state or input `vv`
        record v of V1[0:30]             # V1 has 20 neurons
        record v of Cortex[0:3]          # Cortex holds two populations: which one?
        record v of V1  record v of V1   # recorded twice
        record spikes of V1 every 1 ms   # spikes are recorded as they happen
        record v of V1 every 0.15 ms     # dt = 0.1 ms: not a whole number of steps
    """
    spikes: list[ir.SpikeRecord] = []
    states: list[ir.StateRecord] = []
    seen: dict[tuple[str, str], int] = {}

    def once(key: tuple[str, str], span: SourceSpan) -> None:
        if key in seen:
            what = "the spikes of `{}` are" if key[1] == "" else f"`{key[1]}` of `{{}}` is"
            raise DuplicateNameError(f"{what.format(key[0])} already recorded (line {seen[key]})", span)
        seen[key] = span.line

    for record in records:
        match record:
            case ast.RecordSpikes(targets=targets, every=every):
                if every is not None:
                    raise InvalidValueError(
                        "spikes are recorded as they happen; `every` sets the sampling interval of state "
                        "variables (`record v of A every 1 ms`)",
                        every.span,
                    )
                for selection in targets:
                    if selection.neurons is not None:
                        raise InvalidValueError(
                            "spikes are recorded for whole populations; remove the neuron selection",
                            selection.neurons.span,
                        )
                    for population in resolve(selection.endpoint, declared):
                        once((population.name, ""), selection.span)
                        spikes.append(ir.SpikeRecord(population.name, selection.span))
            case ast.RecordStates(variables=variables, targets=targets, every=every):
                interval = None if every is None else _sampling_interval(every, declared.simulation.dt)
                for variable in variables:
                    for selection in targets:
                        for population in selected(selection, declared, "record"):
                            _check_recordable(variable, population, selection.endpoint.span)
                            once((population.name, variable.name), variable.span)
                            indices = neuron_indices(selection.neurons, population) or tuple(range(population.size))
                            states.append(ir.StateRecord(population.name, variable.name, indices, interval,
                                                         selection.span))
    return tuple(spikes), tuple(states)


def _sampling_interval(value: ast.Value, dt: float) -> float:
    """The `every` of a state record: a positive time of whole steps."""
    seconds = constant(value, SECOND, "the sampling interval `every`")
    countable(seconds, dt, "the sampling interval `every`", value.span)  # at the value: the record's span is its target
    if not positive_steps(seconds, dt):
        raise InvalidValueError(
            f"the sampling interval `every` must be a positive whole number of steps, but it is {seconds:g} s "
            f"= {seconds / dt:g} steps of dt = {dt:g} s",
            value.span,
        )
    return seconds


def _check_recordable(variable: ast.Ident, population: ir.Population, span: SourceSpan) -> None:
    model = neuron_model(population, span, "to record")
    names = [s.name for s in model.states] + [i.name for i in model.inputs]
    if variable.name not in names:
        raise UnknownNameError(
            f"neuron model `{model.name}` of `{population.name}` has no state variable or input "
            f"`{variable.name}`",
            variable.span,
            did_you_mean(variable.name, names),
        )
