"""Neuron and synapse models: AST -> `ir.NeuronModel` / `ir.SynapseModel`.

A model is lowered once as declared (so that a model nobody uses is still
checked) and once more for each population or projection that overrides some
of its values. An override replaces the written value of a parameter or state,
and the parameters below it are folded again, so `V_reset = E_L` follows an
overridden `E_L`.

Parameters fold, in order, to SI floats; each may use the parameters above
it. A neuron's parameter or initial value may instead differ between neurons
(a distribution, a file column, or a formula of the neuron's index, position
or such parameters: `brainsim.dsl.initializers`); it is then an initializer,
and every parameter or initial value that reads it becomes a formula. Such a
heterogeneous parameter may be read by equations, the threshold and resets,
but not where one number is needed (an input's default, the refractory
period, an exponent). Aliases are substituted into the expressions that read them.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from brainsim import ir
from brainsim.dsl import ast
from brainsim.dsl.dimensions import BOOLEAN, SECOND, Type, bare_number, symbol_for
from brainsim.dsl.expressions import (
    BUILTINS,
    Scope,
    Symbol,
    constant_value,
    expect_type,
    is_noise,
    lower_assignment,
    lower_derivative,
    lower_expression,
    number,
)
from brainsim.dsl.limits import check_alias_chain
from brainsim.dsl.initializers import DISTRIBUTIONS, NEURON_SYMBOLS, expect_dimension, lower_value
from brainsim.dsl.synapse_rules import Sides, lower_bounds, lower_rules, rule_scope
from brainsim.errors import DuplicateNameError, InvalidValueError, SourceSpan, UnitError, UnknownNameError, did_you_mean
from brainsim.units import Dimension

# The settings of a `connect` block; a synapse may not use them as names.
CONNECT_SETTINGS = (
    "p", "rule", "delay", "autapses", "weight", "condition", "indegree", "outdegree", "total", "multapses", "edges",
    "modulator", "axonal_delay", "dendritic_delay",
)
METHODS = tuple(method.value for method in ir.Method)
_ARTICLE = {"parameter": "a", "input": "an", "state variable": "a", "alias": "an"}


def lower_neuron(
    neuron: ast.Neuron, overrides: tuple[ast.Declaration, ...] = (), declared: ir.NeuronModel | None = None
) -> ir.NeuronModel:
    """Lower a neuron model, with a population's `overrides` applied.

    `declared` is the model lowered without overrides, whose dimensions the
    overrides must keep. Raises the BrainsimError of the first mistake found.
    """
    groups = (("parameter", neuron.parameters), ("input", neuron.inputs),
              ("state variable", neuron.states), ("alias", neuron.aliases))
    reserved = {name: f"`{name}` is {symbol.kind}" for name, symbol in BUILTINS.items()}
    constants = _constants("neuron", neuron.name.name, groups, reserved, overrides, declared)
    inputs = tuple(_input(declaration, constants.scope) for declaration in neuron.inputs)
    states = _states(neuron.states, constants, declared)
    symbols = {
        **_symbols(constants.parameters, "a parameter", constants.written),
        **_symbols(inputs, "an input", constants.written),
        **_symbols(states, "a state variable", constants.written),
        **BUILTINS,
    }
    # Aliases are lowered where noise may be read; each use checks where it is.
    equation_scope = _AliasResolver(neuron.aliases, symbols, constants.scope.constants).scope
    for alias in neuron.aliases:  # check the aliases nothing reads, too
        equation_scope.lookup(ast.Name(alias.name.name, alias.name.span))
    scope = replace(equation_scope, noise=False)
    dimensions = {s.name: s.dimension for s in states}
    equations = _equations(neuron, equation_scope, dimensions, constants.kinds)
    return ir.NeuronModel(
        name=neuron.name.name,
        parameters=constants.parameters,
        states=states,
        inputs=inputs,
        equations=equations,
        threshold=_threshold(neuron.spike, scope),
        reset=tuple(_reset(assignment, scope, dimensions, constants.kinds) for assignment in neuron.reset),
        refractory=_refractory(neuron.refractory, constants.scope),
        method=_method(neuron.method),
        noises=tuple(dict.fromkeys(n for e in equations for n in ir.free_names(e.rhs) if is_noise(n))),
        span=neuron.span,
    )


def _method(method: ast.Method | None) -> ir.MethodChoice | None:
    """`method = rk4`; whether the method can integrate the equations is `brainsim.integrators`' check.

    Rejects::

        method = rk5
    """
    if method is None:
        return None
    name = method.choice.name
    if name not in METHODS:
        raise UnknownNameError(
            f"unknown integration method `{name}`; the methods are {', '.join(METHODS)}",
            method.choice.span,
            did_you_mean(name.lower(), METHODS),
        )
    return ir.MethodChoice(ir.Method(name), method.span)


@dataclass(frozen=True, slots=True)
class LoweredSynapse:
    """A synapse model, the dimension of each of its effects on the postsynaptic neuron
    (in the order of `model.effects()`), and whether some of its statements read
    neuron-side names and so are lowered per projection (`waiting`)."""

    model: ir.SynapseModel
    effects: tuple[Dimension, ...]
    waiting: bool = False


def lower_synapse(
    synapse: ast.Synapse,
    overrides: tuple[ast.Declaration, ...] = (),
    declared: ir.SynapseModel | None = None,
    sides: Sides | None = None,
) -> LoweredSynapse:
    """Lower a synapse model, with a projection's `overrides` applied.

    Without `sides` (the model as declared) the statements that read neuron-side
    names are left out and `waiting` is set; with them every statement is lowered
    against that projection's neurons. The effects' targets are checked later,
    against each target population, and the time constants and event-driven
    equations by `brainsim.validate`.
    """
    groups = (("parameter", synapse.parameters), ("state variable", synapse.states))
    reserved = {name: f"`{name}` is a setting of `connect`" for name in CONNECT_SETTINGS}
    constants = _constants("synapse", synapse.name.name, groups, reserved, overrides, declared)
    states = _states(synapse.states, constants, declared, allowed=("uniform",))
    own = Scope(
        {**constants.scope.symbols, **_symbols(states, "a state variable", constants.written), **BUILTINS},
        constants=constants.scope.constants,
    )
    dimensions = {s.name: s.dimension for s in states}
    rules = lower_rules(synapse, rule_scope(own, frozenset(constants.kinds), sides), dimensions, constants.kinds)
    model = ir.SynapseModel(
        synapse.name.name, constants.parameters, states, rules.on_pre, synapse.kind,
        equations=rules.equations, clock_driven=synapse.clock_driven, on_post=rules.on_post,
        bounds=lower_bounds(synapse.bounds, dimensions, constants.kinds, constants.scope), span=synapse.span,
    )
    return LoweredSynapse(model, rules.effects, rules.waiting)


# --------------------------------------------------------------------------- declarations


def _declared_names(
    model: str, groups: Iterable[tuple[str, tuple[ast.Declaration, ...]]], reserved: Mapping[str, str]
) -> dict[str, str]:
    """Every name a model declares, with its kind; rejects duplicates and reserved names.

    `reserved` maps the names this kind of model may not declare to why; no
    model may declare white noise (`xi`, `xi_<suffix>`) or a name starting
    with `_` (the engine's own variables, such as `_refractory`).

    Rejects::

        neuron N { parameters { tau = 10 ms }  state { tau = 0 mV } }
        neuron N { parameters { _refractory = 1 } }
        neuron N { state { xi = 0 } }
    """
    kinds: dict[str, str] = {}
    first: dict[str, ast.Declaration] = {}
    for kind, declarations in groups:
        for declaration in declarations:
            name = declaration.name.name
            reason = reserved.get(name) or _reserved_reason(name)
            if reason:
                raise DuplicateNameError(f"{reason}; choose another name", declaration.name.span)
            if name in kinds:
                raise DuplicateNameError(
                    f"`{name}` is declared twice in `{model}` (first as {_ARTICLE[kinds[name]]} {kinds[name]} "
                    f"on line {first[name].span.line})",
                    declaration.name.span,
                )
            kinds[name] = kind
            first[name] = declaration
    return kinds


def _reserved_reason(name: str) -> str | None:
    if name.startswith("_"):
        return f"`{name}` starts with `_`, and names starting with `_` are reserved for the engine's own variables"
    if is_noise(name):
        return f"`{name}` is built-in (white noise: `xi` and `xi_<suffix>`)"
    return None


def _overrides(
    overrides: tuple[ast.Declaration, ...], kinds: Mapping[str, str], what: str, model: str, allowed: tuple[str, ...]
) -> dict[str, ast.Declaration]:
    """The overriding declarations by name.

    Rejects::

        exc = LIF[10] { tau = 5 ms }     # LIF has no `tau`
        exc = LIF[10] { I_total = 0 nA } # an alias: not a value to override
    """
    replaced: dict[str, ast.Declaration] = {}
    for declaration in overrides:
        name = declaration.name.name
        if name in replaced:
            raise DuplicateNameError(f"`{name}` is set twice", declaration.name.span)
        if name not in kinds:
            candidates = [n for n, kind in kinds.items() if kind in allowed]
            raise UnknownNameError(
                f"{what} model `{model}` has no parameter or state variable `{name}`",
                declaration.name.span,
                did_you_mean(name, candidates),
            )
        if kinds[name] not in allowed:
            raise InvalidValueError(
                f"`{name}` is {_ARTICLE[kinds[name]]} {kinds[name]} of `{model}`; only parameters and "
                "initial values of state variables can be set here",
                declaration.name.span,
            )
        replaced[name] = declaration
    return replaced


@dataclass(frozen=True)
class _Constants:
    """A model's names, its folded parameters, and the scope of its constant expressions.

    `replaced` holds the overriding declarations by name; `written` the value
    expression each name has after overrides (for hints); `scope` reads the
    parameters that are one number and knows their values, and explains why
    other names are not constants; `per_element` is the scope of initial values,
    which may also read the parameters that differ between neurons (and a
    neuron's `i`, `N`, `x`, `y`, `z`), named in `varying`.
    """

    kinds: dict[str, str]
    replaced: dict[str, ast.Declaration]
    written: dict[str, ast.Expr]
    parameters: tuple[ir.Parameter, ...]
    scope: Scope
    per_element: Scope
    varying: frozenset[str]


def _constants(
    what: str,
    model: str,
    groups: tuple[tuple[str, tuple[ast.Declaration, ...]], ...],
    reserved: Mapping[str, str],
    overrides: tuple[ast.Declaration, ...],
    declared: ir.NeuronModel | ir.SynapseModel | None,
) -> _Constants:
    kinds = _declared_names(model, groups, reserved)
    replaced = _overrides(overrides, kinds, what, model, ("parameter", "state variable"))
    written = {d.name.name: replaced.get(d.name.name, d).value for _, group in groups for d in group}
    declarations = groups[0][1]
    # A neuron's values may read its index and position, unless the model declares those names itself.
    builtins = {n: symbol for n, symbol in NEURON_SYMBOLS.items() if n not in kinds} if what == "neuron" else {}
    parameters = _parameters(declarations, replaced, kinds, written, declared.parameters if declared else (), builtins)
    fixed = [p for p in parameters if isinstance(p.value, float)]
    heterogeneous_names = [p.name for p in parameters if not isinstance(p.value, float)]
    varying = frozenset(heterogeneous_names) | frozenset(builtins)
    not_parameters = {
        name: f"it is {_ARTICLE[kind]} {kind}, and this value must be a constant (parameters only)"
        for name, kind in kinds.items()
        if kind != "parameter"
    }
    heterogeneous = dict.fromkeys(
        heterogeneous_names, "it differs between neurons, and this value must be one number for all of them"
    )
    values = {p.name: p.value for p in fixed}
    scope = Scope(_symbols(fixed, "a parameter", written), {**not_parameters, **heterogeneous}, values)
    per_element = Scope({**_symbols(parameters, "a parameter", written), **builtins}, not_parameters, values)
    return _Constants(kinds, replaced, written, parameters, scope, per_element, varying)


def _parameters(
    declarations: tuple[ast.Declaration, ...],
    replaced: Mapping[str, ast.Declaration],
    kinds: Mapping[str, str],
    written: Mapping[str, ast.Expr],
    declared: tuple[ir.Parameter, ...],
    builtins: Mapping[str, Symbol],
) -> tuple[ir.Parameter, ...]:
    """Fold the parameters in order; each may read only the parameters above it (and
    `builtins`, which, like the heterogeneous parameters, differ between neurons).
    Without `builtins` (a synapse) every parameter is one number.

    Rejects::

        exc = LIF[10] { tau_m = normal(10 mV, 1 mV) }     # tau_m is a time
    """
    declared_dimensions = {p.name: p.dimension for p in declared}
    order = {d.name.name: position for position, d in enumerate(declarations)}
    others = {n: f"it is {_ARTICLE[k]} {k}, and a parameter must be a constant" for n, k in kinds.items()
              if k != "parameter"}
    # What a parameter may read grows as the parameters above it fold, in place (each scope
    # is used only while its parameter folds), so that n parameters fold in time linear in n.
    symbols: dict[str, Symbol] = dict(builtins)
    varying: set[str] = set(builtins)
    values: dict[str, float] = {}
    parameters: list[ir.Parameter] = []
    allowed = DISTRIBUTIONS if builtins else ()
    for position, original in enumerate(declarations):
        name = original.name.name
        declaration = replaced.get(name, original)
        scope = Scope(symbols, ChainMap(_DeclaredBelow(order, position, name), others), values)
        value, dimension = lower_value(declaration.value, scope, values, f"parameter `{name}`", varying, allowed)
        expect_dimension(
            declaration.value, dimension, declared_dimensions.get(name),
            f"`{name}` has dimension {{wanted}}, so its new value must too, but it is {{got}}",
        )
        if isinstance(value, float):
            values[name] = value
        else:
            varying.add(name)
        parameter = ir.Parameter(name, value, dimension, declaration.span)
        symbols |= _symbols((parameter,), "a parameter", written)
        parameters.append(parameter)
    return tuple(parameters)


class _DeclaredBelow(Mapping[str, str]):
    """The parameters declared at or below `position` (in `order`, name -> position), which
    the parameter `name` there may not read, each with the reason: a view, not a copy, so
    that each parameter's scope costs the same however many there are."""

    def __init__(self, order: Mapping[str, int], position: int, name: str):
        self._order = order
        self._position = position
        self._reason = f"it is declared below `{name}`; a parameter may use only the parameters above it"

    def __getitem__(self, key: str) -> str:
        if self._order.get(key, -1) < self._position:
            raise KeyError(key)
        return self._reason

    def __iter__(self) -> Iterator[str]:
        return (name for name, position in self._order.items() if position >= self._position)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _input(declaration: ast.Declaration, scope: Scope) -> ir.Input:
    name = declaration.name.name
    typed = number(lower_expression(declaration.value, scope), f"input `{name}`")
    return ir.Input(name, typed.type, constant_value(typed, scope.constants, f"input `{name}`"), declaration.span)


def _states(
    declarations: tuple[ast.Declaration, ...],
    constants: _Constants,
    declared: ir.NeuronModel | ir.SynapseModel | None,
    allowed: tuple[str, ...] = DISTRIBUTIONS,
) -> tuple[ir.StateVariable, ...]:
    """The state variables with their initial values; an override must keep the declared dimension."""
    dimensions = {s.name: s.dimension for s in declared.states} if declared else {}
    states = []
    for original in declarations:
        name = original.name.name
        declaration = constants.replaced.get(name, original)
        scope = constants.per_element
        value, dimension = lower_value(
            declaration.value, scope, scope.constants, f"the initial value of `{name}`", constants.varying, allowed
        )
        expect_dimension(
            declaration.value, dimension, dimensions.get(name),
            f"`{name}` has dimension {{wanted}}, so its initial value must too, but it is {{got}}",
        )
        initial = ir.Constant(value, declaration.value.span) if isinstance(value, float) else value
        states.append(ir.StateVariable(name, dimension, initial, declaration.span))
    return tuple(states)


def initial_value(
    value: ast.Expr, scope: Scope, values: Mapping[str, float], what: str
) -> tuple[ir.Initializer, Dimension]:
    """A constant or `uniform(low, high)` value (a delay, a rate), in SI, with its dimension.

    Rejects::

        v = uniform(-60 mV, -70 mV)    # low must be below high
        v = uniform(-60 mV, 1 ms)      # both ends in one dimension
    """
    initial, dimension = lower_value(value, scope, values, what, allowed=("uniform",))
    return (ir.Constant(initial, value.span) if isinstance(initial, float) else initial), dimension


def _symbols(
    items: Iterable[ir.Parameter | ir.Input | ir.StateVariable], kind: str, written: Mapping[str, ast.Expr]
) -> dict[str, Symbol]:
    return {
        item.name: Symbol(item.name, kind, item.dimension, ir.Var(item.name), written.get(item.name))
        for item in items
    }


# --------------------------------------------------------------------------- aliases


class _AliasResolver:
    """Lowers each alias on first use, and finds aliases that refer to each other in a cycle.

    Its scope may read white noise: an alias that does may be used only where
    noise may (the scope of each use checks).
    """

    def __init__(
        self, declarations: tuple[ast.Declaration, ...], symbols: dict[str, Symbol], values: Mapping[str, float]
    ):
        self._declarations = {d.name.name: d for d in declarations}
        self._done: dict[str, Symbol] = {}
        self._active: list[str] = []
        self.scope = Scope(
            symbols, constants=values, resolve_alias=self.resolve, aliases=frozenset(self._declarations), noise=True
        )

    def resolve(self, name: str, used_at: SourceSpan) -> Symbol | None:
        """Rejects::

            aliases { a = b + 1 mV   b = a * 2 }
            aliases { a0 = a1  a1 = a2  ...  a2000 = v }     # a chain longer than MAX_DEPTH
        """
        declaration = self._declarations.get(name)
        if declaration is None:
            return None
        if name in self._done:
            return self._done[name]
        if name in self._active:
            cycle = " -> ".join(self._active[self._active.index(name):] + [name])
            raise InvalidValueError(f"aliases refer to each other in a cycle: {cycle}", used_at)
        check_alias_chain(self._active, used_at)
        self._active.append(name)
        typed = lower_expression(declaration.value, self.scope)
        self._active.pop()
        symbol = Symbol(name, "an alias", typed.type, typed.expr, declaration.value, typed.nodes, typed.depth)
        self._done[name] = symbol
        return symbol


# --------------------------------------------------------------------------- dynamics


def _equations(
    neuron: ast.Neuron, scope: Scope, states: Mapping[str, Dimension], kinds: Mapping[str, str]
) -> tuple[ir.Equation, ...]:
    """One equation per state variable at most, each `d<state>/dt` in state per second.

    Rejects::

        dv/dt = (E_L - v)          # volt, but dv/dt is volt per second
        dtau/dt = ...              # tau is a parameter
    """
    equations = []
    first: dict[str, ast.Equation] = {}
    for equation in neuron.equations:
        name = equation.variable.name
        _require_state(equation.variable, states, kinds, "only state variables have equations")
        if name in first:
            raise DuplicateNameError(
                f"`{name}` has two equations (the first on line {first[name].span.line})", equation.variable.span
            )
        first[name] = equation
        rhs = lower_derivative(name, equation.rhs, scope, states[name],
                               lambda found: _state_unit_hint(name, neuron.states, found, states[name]))
        equations.append(ir.Equation(name, rhs, equation.unless_refractory, equation.span))
    return tuple(equations)


def _state_unit_hint(name: str, states: tuple[ast.Declaration, ...], rhs: Type, state: Dimension) -> str | None:
    """`write v = 0 mV`, when a state is dimensionless only because its initial value has no unit;
    `divide by a time`, when the right side has the dimension of the state itself."""
    if rhs == state:
        return f"the right side has the dimension of `{name}` itself; divide it by a time, e.g. `(...) / (1 ms)`"
    number = next((bare_number(d.value) for d in states if d.name.name == name), None)
    if number is None or not isinstance(rhs, Dimension):
        return None
    symbol = symbol_for(rhs * SECOND)
    if symbol is None:
        return None
    return (
        f"`{name}` is dimensionless because its initial value `{number}` has no unit; "
        f"write `{name} = {number} {symbol}`"
    )


def _require_state(variable: ast.Ident, states: Mapping[str, Dimension], kinds: Mapping[str, str], why: str) -> None:
    name = variable.name
    if name in states:
        return
    if name in kinds:
        raise UnknownNameError(
            f"`{name}` is {_ARTICLE[kinds[name]]} {kinds[name]}, not a state variable; {why}", variable.span
        )
    raise UnknownNameError(
        f"`{name}` is not a state variable of this model; {why}",
        variable.span,
        did_you_mean(name, states) or "declare it in the `state { }` block",
    )


def _threshold(spike: ast.Spike | None, scope: Scope) -> ir.Expr | None:
    """Rejects::

        spike when v - V_th        # a number, not a condition
        spike when v > 1 ms        # compares volt with second
    """
    if spike is None:
        return None
    condition = lower_expression(spike.condition, scope)
    if condition.type != BOOLEAN:
        raise UnitError(
            f"a spike condition must be true or false (such as `v > V_th`), but this has dimension {condition.type}",
            spike.condition.span,
        )
    return condition.expr


def _reset(
    assignment: ast.Assignment, scope: Scope, states: Mapping[str, Dimension], kinds: Mapping[str, str]
) -> ir.Assignment:
    """Rejects::

        reset { V_th = -50 mV }     # a parameter, not a state variable
        reset { v = 2 nA }          # ampere into a volt variable
        reset { v *= 2 mV }         # scaling needs a dimensionless factor
    """
    _require_state(assignment.variable, states, kinds, "a reset assigns state variables")
    return lower_assignment(assignment, scope, states[assignment.variable.name])


def _refractory(refractory: ast.Refractory | None, scope: Scope) -> float:
    """Rejects::

        refractory 2 mV            # not a time
        refractory -1 ms           # negative
    """
    if refractory is None:
        return 0.0
    typed = number(lower_expression(refractory.period, scope), "the refractory period")
    expect_type(typed, SECOND, "the refractory period must be a time ({wanted}), but it is {got}", scope)
    value = constant_value(typed, scope.constants, "the refractory period")
    if value < 0:
        raise InvalidValueError(
            f"the refractory period must not be negative, but it is {value:g} s", refractory.period.span
        )
    return value
