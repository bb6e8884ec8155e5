"""The one description of a simulation step, written against an array module `xp`.

Both backends run exactly this code: numpy calls the step in a Python loop, jax
traces it once inside `lax.scan`. `xp` is an `ArrayOps`: the array module's
functions plus the handful of operations whose code must differ between
backends: listing and resetting the neurons that spiked, gathering their
synapses, scatter-add, reading and clearing a ring-buffer slot, division,
exact powers of two, the NaN check. Each is tested on its own against the
other backend. exp, log, tanh and powers come from `xmath`, written once.

One step n advances the state from t_n = n dt to t_{n+1} (docs/semantics.md):

    1. deliver the synaptic events due in step n (ring buffers, delays >= 1 step)
    2. inputs = default + the stimuli active in step n
    3. integrate every state variable (refractory neurons hold clamped variables)
    4. threshold, reset, start refractory periods (spikes are stamped t_{n+1})
    5. record the state after the step
    6. schedule the new spikes' on_pre effects into the ring buffers
    7. plasticity (none yet)

Every value that is not an array of state (parameters, propagators, literals of
expressions) reaches the step as a runtime argument, never as a constant folded
into compiled code: XLA would otherwise reassociate products of constants and
change the bits. docs/semantics.md lists every such hazard and its remedy.
"""

from __future__ import annotations

import abc
import operator
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from brainsim import ir
from brainsim.backends import xmath
from brainsim.errors import InvalidValueError, SimulationError
from brainsim.integrators import REFRACTORY
from brainsim.network import Connectivity, HostNetwork

Env = Mapping[str, Any]
Compiled = Callable[[Env], Any]


class ArrayOps(abc.ABC):
    """An array module, plus the operations whose code differs between backends."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name: str):
        # Called only for names not found on the instance: fetch from the module once.
        value = getattr(self._module, name)
        setattr(self, name, value)
        return value

    @abc.abstractmethod
    def divide(self, a, b):
        """a / b, correctly rounded, whatever produced a and b."""

    @abc.abstractmethod
    def pow2(self, k):
        """2.0**k for integer arrays k in [-1022, 1023], exactly."""

    @abc.abstractmethod
    def firing(self, mask):
        """What `update_fired` and `spikes_by_population` need to know of the neurons in `mask`."""

    @abc.abstractmethod
    def update_fired(self, x, firing, value):
        """`x` with the elements of the neurons that fired replaced by those of `value`."""

    @abc.abstractmethod
    def spikes_by_population(self, firing, slices, capacities):
        """For each (a, b) in `slices`: (indices - a of the neurons in a:b that fired, ascending; their count).

        A backend with static shapes returns `capacity` indices padded with b - a;
        the count may then exceed the capacity (the driver must notice).
        """

    @abc.abstractmethod
    def may_fire(self, count) -> bool:
        """False only if `count` (spikes of a population this step) is known to be zero now.

        Lets a Python loop skip a silent population's projections; a traced
        backend cannot know, and runs them (with nothing to deliver).
        """

    @abc.abstractmethod
    def synapses_of(self, projection: Mapping[str, Any], rows, budget: int | None):
        """Synapse indices of the presynaptic neurons `rows`, row by row in CSR order.

        A backend with static shapes returns a fixed number of indices, at most
        `budget` of them real, padded with the sentinel synapse `n_synapses`; the
        rows may hold more synapses than that (the driver must notice). Padding
        rows hold no synapses.
        """

    @abc.abstractmethod
    def scatter_add(self, flat, index, values):
        """`flat` after flat[index[i]] += values[i] for i = 0, 1, ... in that order."""

    @abc.abstractmethod
    def deliver(self, buffer, start, width: int, x):
        """(x + buffer[start : start + width - 1], buffer with [start : start + width] zeroed)."""

    @abc.abstractmethod
    def finite_flags(self, values, slices):
        """Boolean array [population, variable]: all of values[v][a:b] finite, for (a, b) in slices."""

    @abc.abstractmethod
    def projection_arrays(self, connectivity: Connectivity) -> dict[str, np.ndarray]:
        """The extra host arrays `synapses_of` needs for this projection."""


# --------------------------------------------------------------------------- expressions

_BINARY = {
    ir.BinaryOp.ADD: operator.add,
    ir.BinaryOp.SUB: operator.sub,
    ir.BinaryOp.MUL: operator.mul,
    ir.BinaryOp.LT: operator.lt,
    ir.BinaryOp.LE: operator.le,
    ir.BinaryOp.GT: operator.gt,
    ir.BinaryOp.GE: operator.ge,
    ir.BinaryOp.EQ: operator.eq,
    ir.BinaryOp.NE: operator.ne,
}
_MAX_EXPANDED_POWER = 16


def compile_expr(expr: ir.Expr, xp: ArrayOps) -> Compiled:
    """A function env -> value of `expr`, built once so that a step does not re-walk the tree.

    Literal integer powers are multiplied out (x**3 is (x*x)*x) and x**0.5 is sqrt(x);
    other powers, exp, log and tanh use `xmath`, identical on every backend.
    """
    match expr:
        case ir.Const(value):
            return lambda env: value
        case ir.Var(name):
            return operator.itemgetter(name)
        case ir.Unary(ir.UnaryOp.NEG, operand):
            f = compile_expr(operand, xp)
            return lambda env: -f(env)
        case ir.Unary(ir.UnaryOp.NOT, operand):
            f = compile_expr(operand, xp)
            return lambda env: xp.logical_not(f(env))
        case ir.Binary(ir.BinaryOp.POW, base, ir.Const(exponent)) if (
            exponent == int(exponent) and abs(exponent) <= _MAX_EXPANDED_POWER
        ):
            return _integer_power(compile_expr(base, xp), int(exponent), xp)
        case ir.Binary(ir.BinaryOp.POW, base, ir.Const(0.5)):
            f = compile_expr(base, xp)
            return lambda env: xp.sqrt(f(env))
        case ir.Binary(op, ir.Var(a), ir.Var(b)) if op in _BINARY:
            binary = _BINARY[op]  # the commonest node in updates, without two calls per step
            return lambda env: binary(env[a], env[b])
        case ir.Binary(op, left, right):
            f, g = compile_expr(left, xp), compile_expr(right, xp)
            match op:
                case ir.BinaryOp.AND:
                    return lambda env: xp.logical_and(f(env), g(env))
                case ir.BinaryOp.OR:
                    return lambda env: xp.logical_or(f(env), g(env))
                case ir.BinaryOp.POW:
                    return lambda env: xmath.power(f(env), g(env), xp)
                case ir.BinaryOp.DIV:
                    divide = xp.divide
                    return lambda env: divide(f(env), g(env))
            binary = _BINARY[op]
            return lambda env: binary(f(env), g(env))
        case ir.Call(function, args):
            fs = [compile_expr(a, xp) for a in args]
            call = _function(function, xp)
            return lambda env: call(*(f(env) for f in fs))
        case ir.Where(condition, then, otherwise):
            c, a, b = compile_expr(condition, xp), compile_expr(then, xp), compile_expr(otherwise, xp)
            return lambda env: xp.where(c(env), a(env), b(env))
    raise TypeError(f"not an expression: {expr!r}")


def eval_expr(expr: ir.Expr, env: Env, xp: ArrayOps):
    """The value of `expr` with the names in `env`, computed with `xp`."""
    return compile_expr(expr, xp)(env)


def _integer_power(f: Compiled, exponent: int, xp: ArrayOps) -> Compiled:
    def power(env):
        base = f(env)
        if exponent == 0:
            return xp.ones_like(base)
        value = base
        for _ in range(abs(exponent) - 1):
            value = value * base
        return value if exponent > 0 else xp.divide(1.0, value)

    return power


def _function(function: ir.Function, xp: ArrayOps) -> Callable:
    match function:
        case ir.Function.EXP:
            return lambda x: xmath.exp(x, xp)
        case ir.Function.TANH:
            return lambda x: xmath.tanh(x, xp)
        case ir.Function.LOG:
            return lambda x: xmath.log(x, xp)
        case ir.Function.SQRT:
            return xp.sqrt
        case ir.Function.ABS:
            return xp.abs
        case ir.Function.MIN:
            return xp.minimum
        case ir.Function.MAX:
            return xp.maximum
        case ir.Function.CLIP:
            return lambda x, low, high: xp.minimum(xp.maximum(x, low), high)
    raise TypeError(f"not a function: {function!r}")


def free_names(expr: ir.Expr) -> set[str]:
    """The names `expr` reads."""
    match expr:
        case ir.Const():
            return set()
        case ir.Var(name):
            return {name}
        case ir.Unary(_, operand):
            return free_names(operand)
        case ir.Binary(_, left, right):
            return free_names(left) | free_names(right)
        case ir.Call(_, args):
            return set().union(*(free_names(a) for a in args))
        case ir.Where(condition, then, otherwise):
            return free_names(condition) | free_names(then) | free_names(otherwise)
    raise TypeError(f"not an expression: {expr!r}")


def lift_constants(expr: ir.Expr, table: dict[str, float]) -> ir.Expr:
    """`expr` with each literal replaced by a generated name whose value goes into `table`.

    Literal exponents stay: `compile_expr` multiplies integer powers out.
    """

    def lift(e: ir.Expr) -> ir.Expr:
        match e:
            case ir.Const(value):
                name = f"_k{len(table)}"
                table[name] = value
                return ir.Var(name)
            case ir.Var():
                return e
            case ir.Unary(op, operand):
                return ir.Unary(op, lift(operand))
            case ir.Binary(ir.BinaryOp.POW, base, ir.Const() as exponent):
                return ir.Binary(ir.BinaryOp.POW, lift(base), exponent)
            case ir.Binary(op, left, right):
                return ir.Binary(op, lift(left), lift(right))
            case ir.Call(function, args):
                return ir.Call(function, tuple(lift(a) for a in args))
            case ir.Where(condition, then, otherwise):
                return ir.Where(lift(condition), lift(then), lift(otherwise))
        raise TypeError(f"not an expression: {e!r}")

    return lift(expr)


# --------------------------------------------------------------------------- the step

_RESET = {
    ir.AssignOp.SET: lambda old, value: value,
    ir.AssignOp.ADD: operator.add,
    ir.AssignOp.SUB: operator.sub,
    ir.AssignOp.MUL: operator.mul,
    ir.AssignOp.DIV: operator.truediv,
}


@dataclass(frozen=True, slots=True)
class Buffer:
    """The ring buffer of synaptic events for one variable of one group.

    Flat, `length` slots of `width` = group size + 1 values; the last value of a
    slot is a trash column that padded (non-existent) events are added to. The
    events due in step m are in slot m mod length.
    """

    group: int
    variable: str
    length: int
    width: int


@dataclass(frozen=True, eq=False)
class Program:
    """A step ready to run: `step(carry, arrays, n) -> (carry, outputs)`.

    `arrays` (runtime arguments: parameters, propagators, connectivity) and
    `carry` (the state at t = 0) are host numpy trees; `outputs` hold per step
    the spikes of each population (in network order), the recorded traces and
    the finite-value flags of each group. `projections` are the connectivities
    of `arrays["projections"]`, in that order (some are merged projections).
    """

    step: Callable
    arrays: dict
    carry: dict
    buffers: tuple[Buffer, ...]
    projections: tuple[Connectivity, ...]


@dataclass(frozen=True, eq=False)
class _GroupCode:
    states: tuple[str, ...]
    updates: tuple[tuple[str, Compiled], ...]
    threshold: Compiled | None
    resets: tuple[tuple[str, ir.AssignOp, Compiled], ...]
    schedules: tuple[int, ...]
    slices: tuple[tuple[int, int], ...]
    capacities: tuple[int, ...]
    refractory_steps: int


@dataclass(frozen=True, eq=False)
class _ProjectionCode:
    source: int
    gathered: tuple[str, ...]
    effects: tuple[tuple[int, bool, Compiled], ...]  # (buffer, negate, value)
    delay: int | None
    budget: int | None


def compile_step(
    host: HostNetwork,
    xp: ArrayOps,
    capacities: Mapping[str, int] | None = None,
    budgets: tuple[int, ...] | None = None,
) -> Program:
    """The step of `host`'s network, written with `xp`.

    For backends with static shapes: `capacities` bounds the spikes per step
    that `xp.spikes_by_population` returns per population, `budgets` the
    synapses per step that `xp.synapses_of` returns per projection (in the
    order of `Program.projections`). None: unbounded.
    """
    populations = [p.name for p in host.network.populations]
    capacities = capacities or {}
    buffers = _buffers(host)
    built_groups = [_group_code(host, g, xp, capacities) for g in range(len(host.groups))]
    group_codes = [code for code, _ in built_groups]
    merged = tuple(_merged_projections(host))
    budgets = budgets or (None,) * len(merged)
    built_projections = [_projection_code(host, c, buffers, populations, xp, b) for c, b in zip(merged, budgets)]
    projection_codes = [code for code, _ in built_projections]
    # Spikes come out group by group; outputs list them in network order.
    grouped = [name for group in host.groups for name in group.populations]
    spike_order = [grouped.index(name) for name in populations]
    records = host.records
    schedules = host.schedules

    def step(carry, arrays, n):
        states = [dict(group_states) for group_states in carry["states"]]
        buffer_values = list(carry["buffers"])
        until = list(carry["refractory_until"])
        # 1. deliver the events due in this step
        for b, buffer in enumerate(buffers):
            group_states = states[buffer.group]
            group_states[buffer.variable], buffer_values[b] = xp.deliver(
                buffer_values[b], (n % buffer.length) * buffer.width, buffer.width, group_states[buffer.variable]
            )
        inputs, spikes, finite = [], [], []
        for g, code in enumerate(group_codes):
            scalars = arrays["groups"][g]
            # 2. this step's input
            group_inputs = {}
            for s in code.schedules:
                schedule = schedules[s]
                active = (n >= schedule.start) & (n < schedule.stop) & ((n - schedule.start) % schedule.period < schedule.width)
                name = schedule.variable
                group_inputs[name] = group_inputs.get(name, scalars[name]) + xp.where(active, arrays["stimuli"][s], 0.0)
            inputs.append(group_inputs)
            # 3. integrate
            refractory = n < until[g] if code.refractory_steps else False
            env = {**scalars, **states[g], **group_inputs, "t": n * scalars["dt"], REFRACTORY: refractory}
            env.update([(name, update(env)) for name, update in code.updates])
            finite.append(xp.finite_flags([env[s] for s in code.states], code.slices))
            # 4. threshold, reset, refractoriness
            env["t"] = (n + 1) * scalars["dt"]
            size = code.slices[-1][1]
            fired = _full(code.threshold(env), size, xp) if code.threshold else xp.zeros(size, dtype=bool)
            if code.refractory_steps:
                fired = xp.logical_and(fired, xp.logical_not(refractory))
            firing = xp.firing(fired)
            if code.refractory_steps:
                until[g] = xp.update_fired(until[g], firing, n + 1 + code.refractory_steps)
            for name, op, value in code.resets:
                env[name] = xp.update_fired(env[name], firing, _RESET[op](env[name], value(env)))
            states[g] = {s: env[s] for s in code.states}
            spikes.extend(xp.spikes_by_population(firing, code.slices, code.capacities))
        spikes = [spikes[k] for k in spike_order]
        # 5. record the state after the step
        traces = []
        for r, record in enumerate(records):
            g, name = record.group, record.variable
            value = states[g][name] if name in states[g] else inputs[g].get(name, arrays["groups"][g].get(name))
            traces.append(_full(value, group_codes[g].slices[-1][1], xp)[arrays["records"][r]])
        # 6. schedule the new spikes' effects; sums run in projection, effect, event order
        for c, code in enumerate(projection_codes):
            rows, count = spikes[code.source]
            if not xp.may_fire(count):
                continue
            projection = arrays["projections"][c]
            synapses = xp.synapses_of(projection, rows, code.budget)
            post = projection["post"][synapses]
            env = {**projection["scalars"], **{s: projection["states"][s][synapses] for s in code.gathered}}
            arrival = n + 1 + (code.delay if code.delay is not None else projection["delay"][synapses])
            for b, negate, value in code.effects:
                index = (arrival % buffers[b].length) * buffers[b].width + post
                amount = value(env)
                buffer_values[b] = xp.scatter_add(buffer_values[b], index, -amount if negate else amount)
        # 7. plasticity: none yet
        carry = {"states": tuple(states), "refractory_until": tuple(until), "buffers": tuple(buffer_values)}
        return carry, {"spikes": tuple(spikes), "traces": tuple(traces), "finite": tuple(finite)}

    arrays = {
        "groups": tuple(a for _, a in built_groups),
        "stimuli": tuple(s.amplitude for s in schedules),
        "projections": tuple(a for _, a in built_projections),
        "records": tuple(r.group_indices for r in records),
    }
    carry = {
        "states": tuple({name: value.copy() for name, value in g.initial.items()} for g in host.groups),
        "refractory_until": tuple(np.zeros(g.size, dtype=np.int64) if g.refractory_steps else None for g in host.groups),
        "buffers": tuple(np.zeros(b.length * b.width) for b in buffers),
    }
    return Program(step, arrays, carry, buffers, merged)


def _full(value, size: int, xp: ArrayOps):
    """`value` as an array of `size` elements (expressions of parameters alone give scalars)."""
    return value if getattr(value, "shape", None) == (size,) else xp.broadcast_to(value, (size,))


def _buffers(host: HostNetwork) -> tuple[Buffer, ...]:
    lengths: dict[tuple[int, str], int] = {}
    for connectivity in host.projections:
        for assignment in connectivity.projection.synapse.on_pre:
            key = (connectivity.target_group, assignment.variable)
            lengths[key] = max(lengths.get(key, 0), connectivity.max_delay + 1)
    return tuple(Buffer(g, name, length, host.groups[g].size + 1) for (g, name), length in lengths.items())


def _checked(expr: ir.Expr, known: set[str], where: str, table: dict[str, float], span) -> ir.Expr:
    if unknown := free_names(expr) - known:
        raise InvalidValueError(f"{where} reads unknown name(s) {sorted(unknown)}", span)
    return lift_constants(expr, table)


def _group_code(host: HostNetwork, g: int, xp: ArrayOps, capacities: Mapping[str, int]) -> tuple[_GroupCode, dict]:
    group = host.groups[g]
    model = group.model
    scalars = (
        {p.name: p.value for p in model.parameters}
        | dict(group.integration.constants)
        | {i.name: i.default for i in model.inputs}
        | {"dt": host.dt}
    )
    states = tuple(s.name for s in model.states)
    known = set(scalars) | set(states) | {"t", REFRACTORY}
    table: dict[str, float] = {}

    def prepare(expr: ir.Expr, where: str) -> Compiled:
        return compile_expr(_checked(expr, known, f"{where} of {model.name}", table, model.span), xp)

    code = _GroupCode(
        states=states,
        updates=tuple((name, prepare(expr, f"d{name}/dt")) for name, expr in group.integration.updates),
        threshold=prepare(model.threshold, "the threshold") if model.threshold is not None else None,
        resets=tuple((a.variable, a.op, prepare(a.value, "the reset")) for a in model.reset),
        schedules=tuple(s for s, schedule in enumerate(host.schedules) if schedule.group == g),
        slices=tuple((offset, offset + size) for offset, size in zip(group.offsets, group.sizes)),
        capacities=tuple(capacities.get(name, size) for name, size in zip(group.populations, group.sizes)),
        refractory_steps=group.refractory_steps,
    )
    for a in model.reset:
        if a.variable not in states:
            raise InvalidValueError(f"the reset of {model.name} assigns `{a.variable}`, not a state variable", a.span)
    return code, {name: np.float64(value) for name, value in (scalars | table).items()}


def _merged_projections(host: HostNetwork) -> list[Connectivity]:
    """The projections, with those that share a source population, a synapse model and a
    target group (but not a target population) merged into one CSR.

    Merging halves the work per spike for a population that projects to several
    populations of a group (CUBA's exc -> exc and exc -> inh). Their targets are
    disjoint, so every target's events are summed in the same order as unmerged.
    """
    bins: list[list[Connectivity]] = []
    open_bins: dict[tuple, int] = {}
    for connectivity in host.projections:
        synapse = connectivity.projection.synapse
        key = (connectivity.projection.source, connectivity.target_group, synapse.on_pre, synapse.parameters,
               tuple(s.name for s in synapse.states))
        b = open_bins.get(key)
        if b is not None and all(c.projection.target != connectivity.projection.target for c in bins[b]):
            bins[b].append(connectivity)
        else:
            open_bins[key] = len(bins)
            bins.append([connectivity])
    return [parts[0] if len(parts) == 1 else _merge(parts) for parts in bins]


def _merge(parts: list[Connectivity]) -> Connectivity:
    """One CSR holding the synapses of `parts`: per presynaptic neuron, part by part."""
    first = parts[0]
    pre = np.concatenate([np.repeat(np.arange(c.source_size), np.diff(c.indptr)) for c in parts])
    order = np.argsort(pre, kind="stable")
    return Connectivity(
        projection=first.projection,
        source_size=first.source_size,
        target_group=first.target_group,
        indptr=np.searchsorted(pre[order], np.arange(first.source_size + 1)).astype(np.int64),
        post=np.concatenate([c.post for c in parts])[order],
        delay_steps=np.concatenate([c.delay_steps for c in parts])[order],
        states={name: np.concatenate([c.states[name] for c in parts])[order] for name in first.states},
    )


def _projection_code(
    host: HostNetwork,
    connectivity: Connectivity,
    buffers: tuple[Buffer, ...],
    populations: list[str],
    xp: ArrayOps,
    budget: int | None,
) -> tuple[_ProjectionCode, dict]:
    synapse = connectivity.projection.synapse
    scalars = {p.name: p.value for p in synapse.parameters}
    states = [s.name for s in synapse.states]
    table: dict[str, float] = {}
    effects, gathered = [], set()
    for assignment in synapse.on_pre:
        value = _checked(assignment.value, set(scalars) | set(states), f"on pre of {synapse.name}", table, assignment.span)
        gathered |= free_names(value) & set(states)
        b = next(i for i, buffer in enumerate(buffers)
                 if (buffer.group, buffer.variable) == (connectivity.target_group, assignment.variable))
        effects.append((b, assignment.op is ir.AssignOp.SUB, compile_expr(value, xp)))
    code = _ProjectionCode(
        source=populations.index(connectivity.projection.source),
        gathered=tuple(sorted(gathered)),
        effects=tuple(effects),
        delay=connectivity.uniform_delay,
        budget=budget,
    )
    trash = host.groups[connectivity.target_group].size
    arrays = {
        "post": np.append(connectivity.post, trash),
        "delay": np.append(connectivity.delay_steps, 1),
        "states": {name: np.append(values, 0.0) for name, values in connectivity.states.items()},
        "scalars": {name: np.float64(value) for name, value in (scalars | table).items()},
        **xp.projection_arrays(connectivity),
    }
    return code, arrays


def nonfinite_error(host: HostNetwork, flags, n: int):
    """The SimulationError for step `n`, whose finite-value flags (per group) are not all true.

    Names the first population (network order) and state variable that went bad.
    """
    for population in host.network.populations:
        g, offset = host.placement[population.name]
        k = host.groups[g].offsets.index(offset)
        for v, state in enumerate(host.groups[g].model.states):
            if not bool(flags[g][k][v]):
                return SimulationError(
                    f"{state.name} of {population.name} became nan or inf in step {n}, "
                    f"from t = {n * host.dt:.6g} s to {(n + 1) * host.dt:.6g} s",
                    population.span,
                    hint="a time constant of zero, a division by a variable that reached zero, or a runaway "
                    "positive feedback (a step dt too large for Euler integration) are the usual causes",
                )
    raise AssertionError("nonfinite_error called with all flags true")
