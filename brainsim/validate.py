"""The rules an `ir.Network` must satisfy before a backend builds it: one room, each rule once.

`validate(network)` runs every rule and raises the first `InvalidValueError`,
located by the IR node's span. Host construction (`brainsim.network`) and the
kernel assume a valid network and check nothing again. Lowering
(`brainsim.dsl.lower`) calls `validate` as its last step, so a value rule whose
IR node spans the written value (`p`, a delay, a constant rate, how many rates)
lives only here, worded for the model text. The front end keeps what needs its
own knowledge: names (with did-you-mean hints), dimensions, and values it can
point at more closely than an IR node's span (a list's element, one argument of
`pulses`, a written size or slice); this room is what holds for every IR,
however it was made (the DSL, the Python API).

Each rule is a function whose docstring shows, in model text, what it rejects.
"""

from __future__ import annotations

import contextlib
import math
import sys
from typing import Callable, Iterator

from brainsim import ir
from brainsim.errors import InvalidValueError
from brainsim.integrators import REFRACTORY
from brainsim.integrators.relaxation import NotRelaxation, relaxations

MAX_EXPRESSION_DEPTH = 2000
"""Deeper expressions (a chain of thousands of aliases) are refused: compiling
one walks it recursively."""

MAX_POPULATION_SIZE = 2**31 - 1
"""Neuron indices must fit the backends' int32 arrays."""

MAX_POPULATIONS = 2**16
"""Populations of one network: the step loops over populations, in Python (numpy) or in
the traced program (jax), so each costs per step and in compile time."""

MAX_SYNAPSES = 2**31 - 1
"""Synapses of one projection, the most a degree rule may ask for (their indices
are int32 in the backends, and each synapse costs tens of bytes)."""

MAX_TIME_STEPS = 2**62
"""The most steps of dt a time of the model may count (a duration, a delay, a refractory
period, a stimulus's times, a sampling interval): step counts are int64 in the backends,
and a few of them are added together (a pulse's start and period, a delay and the step it
is scheduled in), so each stays a quarter of the way below 2^63."""

Rule = Callable[[ir.Network], None]


def validate(network: ir.Network) -> None:
    """Raise InvalidValueError for the first rule `network` breaks."""
    with deep_expressions():
        for rule in RULES:
            rule(network)


@contextlib.contextmanager
def deep_expressions():
    """Let Python recurse deeply enough for the deepest expression `validate` accepts.

    IR expressions are trees: hashing one, compiling it and calling its compiled
    closures recurse once per level (a few frames each), so a model with a long
    chain of aliases needs more than Python's default of 1000 frames.
    """
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(max(saved, 8 * MAX_EXPRESSION_DEPTH))
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


def _by_name(network: ir.Network) -> dict[str, ir.Population]:
    """The populations by name: a rule that looks one up per projection, stimulus or record
    builds this once (`network.population` searches, which would make the rule quadratic)."""
    return {population.name: population for population in network.populations}


def _span_of(*nodes):
    return next((node.span for node in nodes if getattr(node, "span", None) is not None), None)


def _steps(seconds: float, dt: float) -> int:
    return round(seconds / dt)


# --------------------------------------------------------------------------- settings and populations


def positive_step(network: ir.Network) -> None:
    """simulation { dt = 0 ms  duration = 10 ms }"""
    if not network.simulation.dt > 0:
        raise InvalidValueError(f"`dt` must be greater than 0, but it is {network.simulation.dt:g} s", network.simulation.span)


def seed_fits_the_generator(network: ir.Network) -> None:
    """simulation { duration = 10 ms  seed = 18446744073709551616 }   (the generator's key holds 64 bits)"""
    seed = network.simulation.seed
    if not 0 <= seed < 2**64:
        raise InvalidValueError(f"`seed` must be a whole number from 0 to 2^64 - 1, but it is {seed}", network.simulation.span)


def populations_are_numbered(network: ir.Network) -> None:
    """region R { p0 = LIF[1]  p1 = LIF[1]  ...  p65536 = LIF[1] }   (more populations than streams)"""
    if len(network.populations) > MAX_POPULATIONS:
        extra = network.populations[MAX_POPULATIONS]
        raise InvalidValueError(
            f"a network has at most {MAX_POPULATIONS:,} populations, but this one has {len(network.populations):,} "
            f"(`{extra.name}` is the first past the limit)",
            extra.span,
            "merge populations of one neuron model into larger ones: a population is its neurons' index range, "
            "and a selection such as `P[0:100]` reaches part of it",
        )


def populations_have_neurons(network: ir.Network) -> None:
    """region R { r = LIF[0] }     region R { r = LIF[3000000000] }   (more than int32 indices reach)"""
    for population in network.populations:
        if not 1 <= population.size <= MAX_POPULATION_SIZE:
            raise InvalidValueError(
                f"a population needs 1 to {MAX_POPULATION_SIZE} neurons, but `{population.name}` has {population.size}",
                population.span,
            )


def names_exist(network: ir.Network) -> None:
    """connect A -> Nowhere with S     stimulus Nowhere { ... }     record v of Nowhere"""
    known = {p.name for p in network.populations}
    named = [(p.source, p) for p in network.projections] + [(p.target, p) for p in network.projections]
    named += [(s.population, s) for s in network.stimuli] + [(r.population, r) for r in network.state_records]
    named += [(r.population, r) for r in network.spike_records]
    named += [(p.modulator, p) for p in network.projections if p.modulator is not None]
    for name, node in named:
        if name not in known:
            raise InvalidValueError(f"no population named {name!r}", node.span)


def sources_are_not_targets(network: ir.Network) -> None:
    """connect Input.noise -> Input.noise with S     (a spike source has no variables to change)"""
    targets = [(p.target, p, "the target of a projection") for p in network.projections]
    targets += [(s.population, s, "driven by a stimulus") for s in network.stimuli]
    targets += [(r.population, r, "recorded") for r in network.state_records]
    populations = _by_name(network)
    for name, node, role in targets:
        model = populations[name].model
        if not isinstance(model, ir.NeuronModel):
            raise InvalidValueError(f"{name} is a spike source ({model.name}) and has no variables to be {role}", node.span)


# --------------------------------------------------------------------------- values per neuron


def _neuron_values(network: ir.Network) -> Iterator[tuple[ir.Population, str, ir.Initializer, int]]:
    """(population, what, initializer, index among the model's parameters or -1 for a state)
    of every neuron parameter and initial value that is not one float."""
    for population in network.populations:
        if isinstance(model := population.model, ir.NeuronModel):
            for k, parameter in enumerate(model.parameters):
                if not isinstance(parameter.value, float):
                    yield population, f"parameter `{parameter.name}` of {population.name}", parameter.value, k
            for state in model.states:
                yield population, f"the initial value of `{state.name}` of {population.name}", state.initial, -1


def distributions_are_distributions(network: ir.Network) -> None:
    """Of neuron and synapse values alike::

        tau_m = normal(10 ms, -1 ms)     v = normal(0 mV, 1 mV, low = 1 mV, high = -1 mV)     tau = lognormal(-1 ms, 1 ms)

    Also a clipped normal whose bounds keep almost none of its draws (fewer than 1 in 10^4),
    which would be drawn again and again.
    """
    drawn = [(population, what, initial) for population, what, initial, _ in _neuron_values(network)]
    for projection in network.projections:
        drawn += [(projection, f"the initial value of `{s.name}` of {projection.name}", s.initial) for s in projection.synapse.states]
        drawn.append((projection, f"the delay of {projection.name}", projection.delay))
    for owner, what, initial in drawn:
        span = initial.span or owner.span
        match initial:
            case ir.Normal(std=std) | ir.ClippedNormal(std=std) | ir.LogNormal(std=std) if not std >= 0:
                raise InvalidValueError(f"a standard deviation must not be negative, but it is {std:g} ({what})", span)
            case ir.Uniform(low, high) | ir.ClippedNormal(low=low, high=high) if not low < high:
                raise InvalidValueError(f"the bounds need low < high, but they are {low:g} and {high:g} ({what})", span)
            case ir.LogNormal(mean=mean) if not mean > 0:
                raise InvalidValueError(f"the mean of a lognormal value must be greater than 0, but it is {mean:g} ({what})", span)
            case ir.ClippedNormal(mean, std, low, high) if _normal_mass(mean, std, low, high) < 1e-4:
                raise InvalidValueError(
                    f"the bounds [{low:g}, {high:g}] keep almost no draws of normal({mean:g}, {std:g}) ({what})", span,
                    hint="a clipped normal draws again every value outside its bounds",
                )


def _normal_mass(mean: float, std: float, low: float, high: float) -> float:
    """The probability that a normal(mean, std) draw falls in [low, high]."""
    if std == 0:
        return float(low <= mean <= high)
    cdf = lambda bound: 0.5 * math.erfc(-(bound - mean) / (std * math.sqrt(2)))  # noqa: E731
    return cdf(high) - cdf(low)


def values_fit_the_population(network: ir.Network) -> None:
    """exc = LIF[100] { tau_m = from_file("params.csv", column = "tau_m") }   (params.csv has 99 rows)"""
    for population, what, initial, _ in _neuron_values(network):
        if isinstance(initial, ir.Values) and len(initial.values) != population.size:
            raise InvalidValueError(
                f"{what} has {len(initial.values)} values (rows), but the population has {population.size} neurons; "
                "give one per neuron",
                initial.span or population.span,
            )


def formulas_read_neuron_names(network: ir.Network) -> None:
    """parameters { V_th = -50 mV + t * 1 V/s }   (a per-neuron formula reads `t`, in an IR made without the front end)

    A parameter's formula may read `ir.NEURON_NAMES` and the parameters above it; an
    initial value's, those and every parameter.
    """
    for population, what, initial, k in _neuron_values(network):
        if isinstance(initial, ir.Formula):
            parameters = population.model.parameters
            known = {*ir.NEURON_NAMES, *(p.name for p in (parameters[:k] if k >= 0 else parameters))}
            _known(initial.expr, known, what, initial.span or population.span)


def positions_fit_the_population(network: ir.Network) -> None:
    """exc = LIF[100] at from_file("positions.csv")   (positions.csv has 50 rows)"""
    for population in network.populations:
        match population.positions:
            case ir.Grid(shape=shape) if math.prod(shape) != population.size:
                count = math.prod(shape)
            case ir.Placed(points=points) if len(points) != population.size:
                count = len(points)
            case ir.RandomBox(low, high) if not all(a <= b for a, b in zip(low, high)):
                raise InvalidValueError(f"the box of {population.name} needs low <= high on every axis",
                                        population.positions.span or population.span)
            case _:
                continue
        raise InvalidValueError(
            f"{count} positions are given, but {population.name} has {population.size} neurons",
            population.positions.span or population.span,
        )


# --------------------------------------------------------------------------- expressions


def expressions_read_known_names(network: ir.Network) -> None:
    """equations { dv/dt = -v / tau_q }   (tau_q declared nowhere, in an IR made without the front end)"""
    for population in network.populations:
        model = population.model
        if isinstance(model, ir.NeuronModel):
            known = {p.name for p in model.parameters} | {s.name for s in model.states} | {i.name for i in model.inputs}
            known |= {"t", "dt", REFRACTORY, *model.noises}
            for expr, where in _neuron_expressions(model):
                _known(expr, known, f"{where} of {model.name}", model.span)
        elif isinstance(model, ir.PoissonSource) and not isinstance(model.rate, ir.Constant | ir.Uniform | ir.Values):
            _known(model.rate, {"t", "dt"}, "the rate of a PoissonSource", model.span or population.span)
    populations = _by_name(network)
    for projection in network.projections:
        synapse = projection.synapse
        known = {p.name for p in synapse.parameters} | {s.name for s in synapse.states} | {"t", "dt"}
        known |= {ir.SPIKED + ir.PRE_SUFFIX, ir.SPIKED + ir.POST_SUFFIX}
        known |= _neuron_side_names(populations, projection)
        for block, assignments in (("on pre", synapse.on_pre), ("on post", synapse.on_post)):
            for assignment in assignments:
                _known(assignment.value, known, f"{block} of {synapse.name}", assignment.span or projection.span)
        spiked = {ir.SPIKED + ir.PRE_SUFFIX, ir.SPIKED + ir.POST_SUFFIX}
        for equation in synapse.equations:
            if read := sorted(ir.free_names(equation.rhs) & spiked):
                raise InvalidValueError(
                    f"d{equation.variable}/dt of {synapse.name} reads {', '.join(read)}, which a synapse equation "
                    "cannot: equations are integrated before the step's spikes are known",
                    next((node.span for node in ir.walk(equation.rhs) if isinstance(node, ir.Var) and node.name in spiked
                          and node.span), None) or equation.span or projection.span,
                    "change the synapse in `on pre` or `on post` when a neuron spikes",
                )
            _known(equation.rhs, known, f"d{equation.variable}/dt of {synapse.name}", equation.span or projection.span)


def _neuron_side_names(populations: dict[str, ir.Population], projection: ir.Projection) -> set[str]:
    """`X_pre`, `X_post`, `X_mod`: the variables of the projection's neurons a synapse may read."""
    names = set()
    ends = [(projection.source, ir.PRE_SUFFIX), (projection.target, ir.POST_SUFFIX)]
    if projection.modulator is not None:
        ends.append((projection.modulator, ir.MODULATOR_SUFFIX))
    for name, suffix in ends:  # a missing one is `names_exist`'s to report
        if isinstance(model := getattr(populations.get(name), "model", None), ir.NeuronModel):
            names |= {item.name + suffix for item in (*model.parameters, *model.states, *model.inputs)}
    return names


def _neuron_expressions(model: ir.NeuronModel) -> Iterator[tuple[ir.Expr, str]]:
    for equation in model.equations:
        yield equation.rhs, f"d{equation.variable}/dt"
    if model.threshold is not None:
        yield model.threshold, "the threshold"
    for assignment in model.reset:
        yield assignment.value, "the reset"


def _known(expr: ir.Expr, known: set[str], where: str, span) -> None:
    if ir.depth(expr) > MAX_EXPRESSION_DEPTH:
        raise InvalidValueError(
            f"{where} nests {ir.depth(expr)} operations deep (through aliases?); at most {MAX_EXPRESSION_DEPTH} are supported",
            _span_of(expr) or span,
        )
    if unknown := ir.free_names(expr) - known:
        raise InvalidValueError(f"{where} reads unknown name(s) {sorted(unknown)}", _span_of(expr) or span)


def names_are_not_reserved(network: ir.Network) -> None:
    """parameters { _refractory = 1 }   (names starting with `_` are the engine's own)"""
    models = [p.model for p in network.populations if isinstance(p.model, ir.NeuronModel)]
    for model in models + [p.synapse for p in network.projections]:
        declared = [*model.parameters, *model.states, *getattr(model, "inputs", ())]
        for item in declared:
            if item.name.startswith("_"):
                raise InvalidValueError(
                    f"`{item.name}` in {model.name}: names starting with `_` are reserved for the engine", item.span or model.span
                )


def equations_integrate_states(network: ir.Network) -> None:
    """equations { dtau/dt = 1 }   (tau a parameter, not a state variable)"""
    for population in network.populations:
        if isinstance(model := population.model, ir.NeuronModel):
            states = {s.name for s in model.states}
            for equation in model.equations:
                if equation.variable not in states:
                    raise InvalidValueError(
                        f"model {model.name} has an equation for `{equation.variable}`, which is not a state variable",
                        equation.span or model.span,
                    )


def time_constants_are_positive(network: ir.Network) -> None:
    """parameters { tau_m = -10 ms }  equations { dv/dt = (E_L - v) / tau_m }

    A time constant (`ir.time_constants`) of zero or below makes the variable
    blow up instead of relax. Values drawn per neuron are checked when drawn
    (`brainsim.network.values`).
    """
    models = [(p.name, p.model) for p in network.populations if isinstance(p.model, ir.NeuronModel)]
    models += [(f"synapse `{p.synapse.name}` of {p.name}", p.synapse) for p in network.projections]
    for owner, model in models:
        constants = ir.time_constants(model)
        for parameter in model.parameters:
            if parameter.name in constants and isinstance(parameter.value, float) and parameter.value <= 0:
                raise InvalidValueError(
                    f"`{parameter.name}` of {owner} is a time constant (an equation divides by it), "
                    f"so it must be greater than 0, but it is {parameter.value:g} s",
                    parameter.span or model.span,
                )


def event_driven_equations_relax(network: ir.Network) -> None:
    """synapse S { state { w = 1 nS  c = 0 }  equations { dw/dt = c * 1 nS / (1 s) } }   (not clock-driven)

    An event-driven equation is solved exactly between events, so it must relax on its own
    (`brainsim.integrators.relaxation`); the message says why not and what to write.
    """
    for projection in network.projections:
        synapse = projection.synapse
        if synapse.clock_driven or not synapse.equations:
            continue
        try:
            relaxations(synapse, network.simulation.dt)
        except NotRelaxation as error:
            raise InvalidValueError(error.reason, error.equation.span or projection.span) from None


def resets_assign_states(network: ir.Network) -> None:
    """reset { V_th = -50 mV }   (V_th a parameter)"""
    for population in network.populations:
        model = population.model
        if isinstance(model, ir.NeuronModel):
            states = {s.name for s in model.states}
            for a in model.reset:
                if a.variable not in states:
                    raise InvalidValueError(f"the reset of {model.name} assigns `{a.variable}`, not a state variable", a.span)


# --------------------------------------------------------------------------- projections


def effects_change_target_states(network: ir.Network) -> None:
    """synapse S { on pre { I_ext += w } }   connect A -> B with S   (I_ext an input of B, not a state)"""
    populations = _by_name(network)
    for projection in network.projections:
        target = populations[projection.target].model
        states = {s.name for s in target.states}
        for assignment in projection.synapse.effects():
            if assignment.variable not in states:
                raise InvalidValueError(
                    f"on pre of {projection.synapse.name} changes `{assignment.variable}`, "
                    f"which is not a state variable of {target.name}",
                    assignment.span or projection.span,
                )
            if assignment.op not in (ir.AssignOp.ADD, ir.AssignOp.SUB):
                raise InvalidValueError("on pre may only add to or subtract from a variable", assignment.span)


def synapse_rules_update_states(network: ir.Network) -> None:
    """on post { g_e += w }   equations { dw_max/dt = 0 }   bounds { w = [1 nS, 0 nS] }

    `on post` and the equations change synapse states only; bounds name a state and have low <= high.
    """
    for projection in network.projections:
        synapse = projection.synapse
        states = {s.name for s in synapse.states}
        changed = [(a.variable, "on post", a.span) for a in synapse.on_post]
        changed += [(e.variable, "an equation", e.span) for e in synapse.equations]
        changed += [(b.variable, "bounds", b.span) for b in synapse.bounds]
        for variable, what, span in changed:
            if variable not in states:
                raise InvalidValueError(
                    f"{what} of {synapse.name} names `{variable}`, not a state of the synapse", span or projection.span
                )
        for bound in synapse.bounds:
            if not bound.low <= bound.high:
                raise InvalidValueError(
                    f"the bounds of `{bound.variable}` in {synapse.name} need low <= high, but they are "
                    f"[{bound.low:g}, {bound.high:g}]",
                    bound.span or projection.span,
                )


def modulators_are_one_neuron(network: ir.Network) -> None:
    """connect A -> B with RSTDP { modulator = Reward }   (Reward: 10 neurons, or a spike source)"""
    populations = _by_name(network)
    for projection in network.projections:
        if projection.modulator is None:
            continue
        modulator = populations[projection.modulator]
        if modulator.size != 1 or not isinstance(modulator.model, ir.NeuronModel):
            raise InvalidValueError(
                f"the modulator of {projection.name}, {modulator.name}, must be one neuron of a neuron model",
                projection.span,
            )


def connection_rules_fit(network: ir.Network) -> None:
    """connect A -> B with S { p = 1.5 }     connect A -> B with S { rule = one_to_one }   (sizes 10 and 20)
    connect A -> B with S { indegree = -1 }   connect A -> B with S { indegree = 20  multapses = false }  (A has 10)
    connect A -> B with S { total = 1000000000000 }"""
    populations = _by_name(network)
    for projection in network.projections:
        n_pre, n_post = populations[projection.source].size, populations[projection.target].size
        span = projection.rule.span or projection.span
        match projection.rule:
            case ir.OneToOne() if n_pre != n_post:
                raise InvalidValueError(
                    f"one_to_one joins populations of different sizes: `{projection.source}` has {n_pre} neurons "
                    f"and `{projection.target}` {n_post}; it needs populations of equal size",
                    span,
                )
            case ir.FixedProbability(float() as p) if not 0.0 <= p <= 1.0:
                raise InvalidValueError(f"`p` is a probability, between 0 and 1, but it is {p:g}", span)
            case ir.FixedIndegree(n) | ir.FixedOutdegree(n) | ir.FixedTotalNumber(n) as rule:
                if n < 0:
                    raise InvalidValueError(f"a number of synapses must not be negative, but it is {n}", span)
                self_pairs = projection.source == projection.target and not projection.allow_autapses
                pool = {
                    ir.FixedIndegree: n_pre - self_pairs,
                    ir.FixedOutdegree: n_post - self_pairs,
                    ir.FixedTotalNumber: n_pre * n_post - self_pairs * n_pre,
                }[type(rule)]
                count = {ir.FixedIndegree: n * n_post, ir.FixedOutdegree: n * n_pre, ir.FixedTotalNumber: n}[type(rule)]
                if count > MAX_SYNAPSES:
                    raise InvalidValueError(
                        f"{projection.name} asks for {count} synapses, more than the {MAX_SYNAPSES} one projection "
                        "can hold",
                        span,
                    )
                if n > pool and not projection.allow_multapses:
                    raise InvalidValueError(
                        f"{projection.name} asks for {n} distinct synapses {_per(rule)}, but there are only {pool} "
                        "candidates; allow repeated pairs with `multapses = true`, or ask for fewer",
                        span,
                    )


def _per(rule: ir.ConnectionRule) -> str:
    match rule:
        case ir.FixedIndegree():
            return "onto each postsynaptic neuron"
        case ir.FixedOutdegree():
            return "from each presynaptic neuron"
    return "in all"


def edge_lists_fit(network: ir.Network) -> None:
    """edges = "connectome.csv"   with a row `12, 3` where the source has 10 neurons; or a `condition` beside it"""
    populations = _by_name(network)
    for projection in network.projections:
        if not isinstance(edges := projection.rule, ir.EdgeList):
            continue
        span = edges.span or projection.span
        if len(edges.pre) != len(edges.post):
            raise InvalidValueError(f"the edge list of {projection.name} has {len(edges.pre)} pre and {len(edges.post)} post indices", span)
        if projection.condition is not None:
            raise InvalidValueError(
                f"{projection.name}: an edge list names its synapses, so a `condition` has nothing to choose from", span
            )
        for name, indices, population in (("pre", edges.pre, projection.source), ("post", edges.post, projection.target)):
            size = populations[population].size
            if bad := [k for k, index in enumerate(indices) if not 0 <= index < size]:
                raise InvalidValueError(
                    f"edge {bad[0]} of {projection.name} has {name} = {indices[bad[0]]}, outside `{population}` "
                    f"(neurons 0 to {size - 1})",
                    span,
                )


def pair_expressions_read_pair_names(network: ir.Network) -> None:
    """connect A -> B with S { p = exp(-d / 100 um) }   (d is not a name of the pair: `distance` is)"""
    for projection in network.projections:
        known = set(ir.PAIR_NAMES) | {p.name for p in projection.synapse.parameters}
        for expr, where in _pair_expressions(projection):
            _known(expr, known, f"{where} of {projection.name}", projection.span)


def _pair_expressions(projection: ir.Projection) -> Iterator[tuple[ir.Expr, str]]:
    if isinstance(projection.rule, ir.FixedProbability) and not isinstance(projection.rule.p, float):
        yield projection.rule.p, "the connection probability"
    if projection.condition is not None:
        yield projection.condition, "the condition"
    for state in projection.synapse.states:
        if isinstance(state.initial, ir.Formula):
            yield state.initial.expr, f"the initial value of `{state.name}`"
    if isinstance(projection.delay, ir.Formula):
        yield projection.delay.expr, "the delay"


def written_values_fit_the_synapses(network: ir.Network) -> None:
    """edges = "connectome.csv"   (3 rows)   delay = [1 ms, 2 ms]   (two delays for three synapses)"""
    for projection in network.projections:
        initials = [(s.initial, f"`{s.name}`") for s in projection.synapse.states] + [(projection.delay, "delays")]
        for initial, what in initials:
            if not isinstance(initial, ir.Values):
                continue
            span = initial.span or projection.span
            if not isinstance(projection.rule, ir.EdgeList):
                raise InvalidValueError(
                    f"{projection.name} lists {what} one by one, which needs an edge list (the synapses of other "
                    "rules are drawn, so their number is not known when the model is written)",
                    span,
                )
            if len(initial.values) != len(projection.rule.pre):
                raise InvalidValueError(
                    f"{projection.name} has {len(projection.rule.pre)} synapses, but {len(initial.values)} {what}", span
                )


def delays_are_whole_steps(network: ir.Network) -> None:
    """connect A -> B with S { delay = 0.04 ms }   (dt = 0.1 ms: rounds to 0 steps)

    Delays drawn from an unbounded distribution or computed per pair are checked
    when drawn (`brainsim.network.connectivity.delay_steps`)."""
    dt = network.simulation.dt
    for projection in network.projections:
        match projection.delay:
            case ir.Constant(value) | ir.Uniform(low=value) | ir.ClippedNormal(low=value) if value > -math.inf:
                shortest = value
            case ir.Values(values):
                shortest = min(values, default=dt)
            case _:
                continue
        if projection.axonal_delay > shortest:
            raise InvalidValueError(
                f"the axonal delay of {projection.name} ({projection.axonal_delay:g} s) is longer than its shortest "
                f"delay ({shortest:g} s); the axonal delay is the first part of the delay, before `on pre` runs",
                projection.span,
            )
        if not _steps(shortest, dt) >= 1:
            raise InvalidValueError(
                f"the delay of {projection.name} ({shortest:g} s) rounds to {_steps(shortest, dt)} steps, shorter than "
                f"one step (dt = {dt:g} s); a delay must be at least one step after rounding to whole steps",
                projection.delay.span or projection.span,
            )


def times_are_countable(network: ir.Network) -> None:
    """simulation { dt = 0.1 ms  duration = 1e20 s }     refractory 1e20 s     record v of A every 1e308 ms
    simulation { dt = 1e-320 s  duration = 1 s }   (about 10^320 steps)

    Every time is counted in steps of dt, and no count may pass `MAX_TIME_STEPS`; a `stop`
    may be infinite (never)."""
    dt = network.simulation.dt
    for seconds, what, span in _times(network):
        countable(seconds, dt, what, span)


def countable(seconds: float, dt: float, what: str, span) -> None:
    """Raise InvalidValueError at `span` if `seconds` (`what`, for the message) is more than
    `MAX_TIME_STEPS` steps of `dt`, or not a number; the front end calls it for the duration,
    which the other times are compared with, before it reads them."""
    steps = abs(seconds / dt) if dt > 0 else math.inf
    if not steps <= MAX_TIME_STEPS:
        raise InvalidValueError(
            f"{what} is {seconds:g} s, which is more than 2^62 steps of dt = {dt:g} s; a time may count at most "
            f"2^62 steps ({MAX_TIME_STEPS * dt:.3g} s at this dt)",
            span,
            "use a larger dt or a shorter time" if math.isfinite(seconds) else None,
        )


def _times(network: ir.Network) -> Iterator[tuple[float, str, object]]:
    """Each time of `network` that a backend counts in steps, with what it is and where."""
    settings = network.simulation
    yield settings.duration, "`duration`", settings.span
    for population in network.populations:
        match population.model:
            case ir.NeuronModel(refractory=refractory) as model:
                yield refractory, f"the refractory period of `{model.name}`", model.span or population.span
            case ir.SpikeTimes(times=times) as source:
                for time in times:
                    yield time, f"a spike time of `{population.name}`", source.span or population.span
    for projection in network.projections:
        match projection.delay:
            case ir.Constant(value) as delay:
                yield value, f"the delay of {projection.name}", delay.span or projection.span
            case ir.Uniform(low, high) | ir.ClippedNormal(low=low, high=high) as delay:
                for value in (low, high):
                    if math.isfinite(value):
                        yield value, f"a bound of the delay of {projection.name}", delay.span or projection.span
            case ir.Values(values) as delay:
                for value in values:
                    yield value, f"a delay of {projection.name}", delay.span or projection.span
        yield projection.axonal_delay, f"the axonal delay of {projection.name}", projection.span
        yield projection.dendritic_delay, f"the dendritic delay of {projection.name}", projection.span
    for stimulus in network.stimuli:
        span = stimulus.waveform.span or stimulus.span
        match stimulus.waveform:
            case ir.PulseTrain(period=period, width=width, start=start, stop=stop):
                yield from ((period, "`period`", span), (width, "`width`", span), (start, "`start`", span))
                if stop != math.inf:
                    yield stop, "`stop`", span
            case ir.Sinusoid(start=start, stop=stop):
                yield start, "`start`", span
                if stop != math.inf:
                    yield stop, "`stop`", span
            case ir.StepCurrent(times=times) | ir.TimeSeries(times=times):
                for time in times:
                    yield time, "a time of the stimulus", span
    for record in network.state_records:
        if record.every is not None:
            yield record.every, "the sampling interval `every`", record.span
    for record in network.synapse_records:
        for time in record.times or ():
            yield time, "a snapshot time", record.span


# --------------------------------------------------------------------------- stimuli, sources, records


def stimuli_drive_inputs(network: ir.Network) -> None:
    """stimulus A { v += 2 mV }   (v a state variable, not an input)"""
    populations = _by_name(network)
    for stimulus in network.stimuli:
        model = populations[stimulus.population].model
        inputs = [i.name for i in model.inputs]
        if stimulus.variable not in inputs:
            raise InvalidValueError(
                f"a stimulus can only drive an input of {model.name} ({', '.join(inputs) or 'it has none'}), "
                f"not `{stimulus.variable}`",
                stimulus.span,
            )


def stimulus_selections_fit(network: ir.Network) -> None:
    """ir.Stimulus("V1.simple", "I_ext", ..., indices=(3, 3))   (a repeat; also out of range, empty, unsorted)"""
    populations = _by_name(network)
    for stimulus in network.stimuli:
        if stimulus.indices is None:
            continue
        size = populations[stimulus.population].size
        indices = stimulus.indices
        if not indices or any(not 0 <= i < size for i in indices) or any(a >= b for a, b in zip(indices, indices[1:])):
            raise InvalidValueError(
                f"stimulus indices must be ascending, without repeats, in [0, {size}) for {stimulus.population}, "
                f"but they are {list(indices)}",
                stimulus.span,
            )


def pulses_fit_the_grid(network: ir.Network) -> None:
    """stimulus A { I_ext += pulses(period = 0.01 ms, width = 0.01 ms, amplitude = 1 nA) }   (dt = 0.1 ms)"""
    dt = network.simulation.dt
    for stimulus in network.stimuli:
        if isinstance(pulses := stimulus.waveform, ir.PulseTrain):
            period, width, start = _steps(pulses.period, dt), _steps(pulses.width, dt), _steps(pulses.start, dt)
            if period < 1 or not 0 <= width <= period or start < 0:
                raise InvalidValueError("pulses need period >= dt, 0 <= width <= period and start >= 0", pulses.span)


def poisson_rates_are_rates(network: ir.Network) -> None:
    """noise = PoissonSource[10] { rate = -5 Hz }     mixed = PoissonSource[4] { rate = [5 Hz, 10 Hz, 20 Hz] }"""
    for population in network.populations:
        which = f"`{population.name}`"
        match population.model:
            case ir.PoissonSource(rate=ir.Constant(value) as rate):
                rates = [(value, which)]
            case ir.PoissonSource(rate=ir.Uniform(low, high) as rate):
                rates = [(low, f"the low end of uniform, {which}"), (high, f"the high end of uniform, {which}")]
            case ir.PoissonSource(rate=ir.Values(values) as rate):
                if len(values) != population.size:
                    raise InvalidValueError(
                        f"`rate` lists {len(values)} values, but {which} has {population.size} neurons; "
                        "give one per neuron",
                        rate.span or population.span,
                    )
                rates = [(value, f"rate {k} of {which}") for k, value in enumerate(values)]
            case _:
                continue
        for value, where in rates:
            if not math.isfinite(value):
                raise InvalidValueError(
                    f"the rate is not a finite number: it is {value!r} Hz ({where})", rate.span or population.span
                )
            if value < 0.0:
                raise InvalidValueError(
                    f"a rate must not be negative, but it is {value:g} Hz ({where})", rate.span or population.span
                )


def spike_times_fit_the_run(network: ir.Network) -> None:
    """cue = SpikeTimes[2] { indices = [0, 1]  times = [10 ms, 5 ms] }   (not sorted)"""
    dt = network.simulation.dt
    for population in network.populations:
        if not isinstance(source := population.model, ir.SpikeTimes):
            continue
        span = source.span or population.span
        if len(source.indices) != len(source.times):
            raise InvalidValueError(
                f"{population.name} has {len(source.indices)} indices but {len(source.times)} times", span
            )
        seen: dict[tuple[int, int], int] = {}
        for k, (neuron, time) in enumerate(zip(source.indices, source.times)):
            if not 0 <= neuron < population.size:
                raise InvalidValueError(f"spike {k} of {population.name} is of neuron {neuron}, outside 0 to {population.size - 1}", span)
            if not (math.isfinite(time) and _steps(time, dt) >= 1):
                raise InvalidValueError(f"spike {k} of {population.name} is at {time!r} s, before the first step ends ({dt!r} s)", span)
            if k and time < source.times[k - 1]:
                raise InvalidValueError(
                    f"the spike times of {population.name} must be sorted, but spike {k} ({time!r} s) comes before "
                    f"spike {k - 1} ({source.times[k - 1]!r} s)",
                    span,
                )
            if (neuron, _steps(time, dt)) in seen:
                raise InvalidValueError(
                    f"neuron {neuron} of {population.name} spikes twice in one step (spikes {seen[neuron, _steps(time, dt)]} and {k})",
                    span,
                )
            seen[neuron, _steps(time, dt)] = k


def records_name_variables(network: ir.Network) -> None:
    """record u of V1[0:3]   (no variable u)     record v of V1[20]   (V1 has 20 neurons)"""
    populations = _by_name(network)
    for record in network.state_records:
        population = populations[record.population]
        model = population.model
        names = [s.name for s in model.states] + [i.name for i in model.inputs]
        if record.variable not in names:
            raise InvalidValueError(f"{model.name} has no state variable or input `{record.variable}` to record", record.span)
        if any(not 0 <= i < population.size for i in record.indices):
            raise InvalidValueError(f"record indices must be in [0, {population.size}) for {population.name}", record.span)


def records_sample_whole_steps(network: ir.Network) -> None:
    """record v of A every 1e-320 ms   (dt = 0.1 ms: rounds to no step; the front end also
    refuses intervals that are not whole steps, at the value)"""
    dt = network.simulation.dt
    for record in network.state_records:
        if record.every is not None and not _steps(record.every, dt) >= 1:
            raise InvalidValueError(
                f"the sampling interval `every` must be a positive whole number of steps, but it is {record.every:g} s "
                f"= {record.every / dt:g} steps of dt = {dt:g} s",
                record.span,
            )


def synapse_records_fit(network: ir.Network) -> None:
    """record u of A -> B   (the synapse has no state u)

    Synapse indices are checked by the host, which knows how many synapses a rule draws.
    """
    projections = {p.name: p for p in network.projections}
    for record in network.synapse_records:
        projection = projections.get(record.projection)
        if projection is None:
            raise InvalidValueError(f"no projection `{record.projection}` to record", record.span)
        if record.variable not in {s.name for s in projection.synapse.states}:
            raise InvalidValueError(
                f"synapse {projection.synapse.name} of {projection.name} has no state `{record.variable}` to record",
                record.span,
            )


RULES: tuple[Rule, ...] = (
    expressions_read_known_names,  # first: it bounds the depth that the other rules' hashing recurses through
    positive_step,
    times_are_countable,  # before every rule that counts a time in steps
    seed_fits_the_generator,
    populations_are_numbered,
    populations_have_neurons,
    distributions_are_distributions,
    values_fit_the_population,
    formulas_read_neuron_names,
    positions_fit_the_population,
    names_exist,
    sources_are_not_targets,
    names_are_not_reserved,
    equations_integrate_states,
    time_constants_are_positive,
    event_driven_equations_relax,
    resets_assign_states,
    effects_change_target_states,
    synapse_rules_update_states,
    modulators_are_one_neuron,
    connection_rules_fit,
    edge_lists_fit,
    pair_expressions_read_pair_names,
    written_values_fit_the_synapses,
    delays_are_whole_steps,
    stimuli_drive_inputs,
    stimulus_selections_fit,
    pulses_fit_the_grid,
    poisson_rates_are_rates,
    spike_times_fit_the_run,
    records_name_variables,
    records_sample_whole_steps,
    synapse_records_fit,
)
