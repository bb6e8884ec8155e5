"""Plastic synapses in the step: their static code, their arrays, and the work of phases 3, 6 and 7.

A plastic pathway (`brainsim.network.Pathway.plastic`, one projection) carries
its synapse states and, if its equations are event-driven, the step each
synapse was last brought up to date (`last`, -1 at the start: the stored value
is the value at the end of step `last`). Its work in a step:

* phase 3, clock-driven models only: every equation integrated for every
  synapse, with the neuron integrators (`brainsim.integrators.integrate` on a
  neuron-model view of the synapse), neuron-side names gathered per synapse
  from the values at the start of the step;
* phase 6, for each presynaptic spike: the synapses of that neuron brought to
  now (`relax`), the `on pre` statements in order (a synapse write clipped to
  its bounds; an effect scattered into the ring buffer with the values of that
  point), the states stored, `last` = n;
* phase 7, for each postsynaptic spike: the same over the column view with `on post`.

Neuron-side names (`v_post`, `spiked_pre`, `d_mod`) are gathered from the
groups' environments after the fire phase (after resets). Every write in a
backend with static shapes goes through `xp.scatter_set`, whose padded slots
name an index past the end and are dropped, so padding never changes a state.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from brainsim import ir
from brainsim.backends import xmath
from brainsim.backends.expressions import Compiled, compile_expr, lift_constants
from brainsim.backends.ops import Numerics
from brainsim.integrators import integrate
from brainsim.integrators.relaxation import relaxations
from brainsim.units import DIMENSIONLESS

_UPDATE = {  # DIV is xp.divide (correctly rounded on every backend)
    ir.AssignOp.SET: lambda old, value: value,
    ir.AssignOp.ADD: operator.add,
    ir.AssignOp.SUB: operator.sub,
    ir.AssignOp.MUL: operator.mul,
}
_SIDES = (ir.PRE_SUFFIX, ir.POST_SUFFIX, ir.MODULATOR_SUFFIX)


def decay(last, n, tau, dt, xp: Numerics):
    """exp(-(n - last) dt / tau): how much of x - rest is left from the end of step `last` to that of `n`.

    The step count is made a float of `xp`'s type first: numpy would turn an int64
    array times a float32 into float64 (in float64 this is the conversion numpy and
    XLA do anyway)."""
    steps = xp.asarray(n - last).astype(xp.float_dtype)
    return xmath.exp(-xp.divide(steps * dt, tau), xp)


def relax(x, last, n, tau, rest, dt, xp: Numerics, factor=None):
    """`x`, stored at the end of step `last`, brought to the end of step `n` by
    dx/dt = (rest - x) / tau, exactly: rest + (x - rest) exp(-(n - last) dt / tau)
    (`factor`: that exponential, if already computed for another variable with this tau).
    Unchanged where last == n, so that bringing up to date twice in a step is free."""
    factor = decay(last, n, tau, dt, xp) if factor is None else factor
    return xp.where(last == n, x, rest + (x - rest) * factor)


class PlasticArrays(NamedTuple):
    """Runtime arrays of a plastic pathway: CSR (`indptr`, `slots`), each synapse's
    `pre` (within the source population) and `post` (within the target group),
    `delay`, the column view (`column_indptr`, `column_synapses`, `column_slots`),
    and `scalars`: parameters, literals, time constants and rests, dt."""

    indptr: Any
    slots: Any
    pre: Any
    post: Any
    delay: Any
    column_indptr: Any
    column_synapses: Any
    column_slots: Any
    scalars: dict


@dataclass(frozen=True, eq=False)
class Side:
    """Where neuron-side names with `suffix` come from: population `population`
    (network index), at `offset` in its group (0 for a spike source), and the
    variables read (names without the suffix; `ir.SPIKED` is the fired mask)."""

    suffix: str
    population: int
    offset: int
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Statement:
    """One `on pre`/`on post` assignment: to synapse state `state` (its index), or an
    effect into ring buffer `buffer` (negated for -=)."""

    variable: str
    op: ir.AssignOp
    value: Compiled
    state: int | None
    buffer: int | None


@dataclass(frozen=True, eq=False)
class PlasticCode:
    """The static code of one plastic pathway."""

    source: int
    target: int
    states: tuple[str, ...]
    relaxed: tuple[tuple[int, str, str], ...]  # (state index, tau name, rest name) of event-driven states
    on_pre: tuple[Statement, ...]
    on_post: tuple[Statement, ...]
    bounds: dict  # state index -> (low name, high name)
    sides: tuple[Side, ...]
    stages: tuple[tuple[str, Compiled], ...]  # clock-driven integration
    updates: tuple[tuple[str, Compiled], ...]
    delay: int | None
    batch: int | None
    column_batch: int | None
    axonal: int  # steps from a presynaptic spike to its `on pre`
    dendritic: int  # steps from a postsynaptic spike to its `on post`
    sizes: tuple[int, int]  # of the source and target populations
    capacities: tuple[int, int]  # spikes per step listed of each (static shapes), for delayed spikes

    @property
    def event_driven(self) -> bool:
        return bool(self.relaxed)

    @property
    def clock_driven(self) -> bool:
        return bool(self.updates)


def neuron_side(name: str, own: set[str]) -> tuple[str, str] | None:
    """(suffix, variable) of a neuron-side name a synapse reads, or None for its own names."""
    if name in own:
        return None
    for suffix in _SIDES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix, name[: -len(suffix)]
    return None


def plastic_code(host, c: int, xp: Numerics, buffer_of, batch, column_batch, capacities) -> tuple[PlasticCode, PlasticArrays]:
    """The code and arrays of plastic pathway `c` of `host`; `buffer_of(group, variable)`
    is the index of a ring buffer."""
    pathway = host.pathways[c]
    synapse = pathway.synapse
    projection = host.network.projections[pathway.projections[0]]
    dt = host.dt
    states = tuple(s.name for s in synapse.states)
    own = set(states) | {p.name for p in synapse.parameters} | {"t", "dt"}
    table: dict[str, float] = {}
    scalars: dict[str, float] = {p.name: p.value for p in synapse.parameters} | {"dt": dt}

    def prepare(expr: ir.Expr) -> Compiled:
        return compile_expr(lift_constants(expr, table), xp)

    def statements(block) -> tuple[Statement, ...]:
        out = []
        for a in block:
            value = prepare(a.value)
            if a.variable in states:
                out.append(Statement(a.variable, a.op, value, states.index(a.variable), None))
            else:
                out.append(Statement(a.variable, a.op, value, None, buffer_of(pathway.target_group, a.variable)))
        return tuple(out)

    on_pre, on_post = statements(synapse.on_pre), statements(synapse.on_post)
    relaxed, stages, updates = [], (), ()
    if synapse.equations and not synapse.clock_driven:
        taus: dict[float, str] = {}  # one name per distinct time constant: its decay is computed once per event
        for k, relaxation in enumerate(relaxations(synapse, dt)):
            tau, rest = taus.setdefault(relaxation.tau, f"_tau{len(taus)}"), f"_rest{k}"
            scalars[tau], scalars[rest] = relaxation.tau, relaxation.rest
            relaxed.append((states.index(relaxation.variable), tau, rest))
    expressions = [a.value for a in synapse.on_pre + synapse.on_post] + [e.rhs for e in synapse.equations]
    read: dict[str, dict[str, None]] = {suffix: {} for suffix in _SIDES}
    for expr in expressions:
        for name in ir.free_names(expr):
            if (side := neuron_side(name, own)) is not None:
                read[side[0]].setdefault(side[1])
    if synapse.clock_driven:
        integration = integrate(_as_neuron_model(synapse, read), dt)
        scalars |= dict(integration.constants)
        stages = tuple((name, prepare(expr)) for name, expr in integration.stages)
        updates = tuple((name, prepare(expr)) for name, expr in integration.updates)
    bounds = {}
    for k, bound in enumerate(synapse.bounds):
        low, high = f"_low{k}", f"_high{k}"
        scalars[low], scalars[high] = bound.low, bound.high
        bounds[states.index(bound.variable)] = (low, high)
    populations = [p.name for p in host.network.populations]
    ends = {ir.PRE_SUFFIX: projection.source, ir.POST_SUFFIX: projection.target, ir.MODULATOR_SUFFIX: projection.modulator}
    sides = []
    for suffix, names in read.items():
        if names:
            _, offset = host.placement.get(ends[suffix], (None, 0))
            sides.append(Side(suffix, populations.index(ends[suffix]), offset, tuple(names)))
    target = populations.index(projection.target)
    sizes = (host.network.populations[pathway.source].size, host.network.populations[target].size)
    code = PlasticCode(
        source=pathway.source,
        target=target,
        states=states,
        relaxed=tuple(relaxed),
        on_pre=on_pre,
        on_post=on_post,
        bounds=bounds,
        sides=tuple(sides),
        stages=stages,
        updates=updates,
        delay=pathway.uniform_delay,
        batch=batch,
        column_batch=column_batch,
        axonal=round(projection.axonal_delay / dt),
        dendritic=round(projection.dendritic_delay / dt),
        sizes=sizes,
        capacities=(capacities.get(pathway.source, sizes[0]), capacities.get(target, sizes[1])),
    )
    columns = pathway.columns
    arrays = PlasticArrays(
        indptr=pathway.indptr,
        slots=pathway.slots,
        pre=pathway.pre,
        post=pathway.post,
        delay=pathway.delay_steps,
        column_indptr=columns.indptr,
        column_synapses=columns.synapses,
        column_slots=columns.slots,
        scalars={name: np.float64(v) for name, v in (scalars | table).items()},
    )
    return code, arrays


def _as_neuron_model(synapse: ir.SynapseModel, read: dict) -> ir.NeuronModel:
    """The clock-driven equations of `synapse` as a neuron model, for the integrators:
    the neuron-side names it reads are inputs (held over the step)."""
    inputs = tuple(ir.Input(name + suffix, DIMENSIONLESS, 0.0) for suffix, names in read.items() for name in names)
    return ir.NeuronModel(
        name=synapse.name,
        parameters=synapse.parameters,
        states=synapse.states,
        inputs=inputs,
        equations=synapse.equations,
        threshold=None,
        reset=(),
        refractory=0.0,
    )


# --------------------------------------------------------------------------- the work in a step


@dataclass(frozen=True, eq=False)
class PlasticStep:
    """Phases 3, 6 and 7 of the plastic pathways, and their records; `sides[p]`
    is (environment, offset) of population p (network index) for neuron-side names."""

    xp: Numerics
    events: Any
    buffers: tuple

    def _gather(self, code: PlasticCode, arrays: PlasticArrays, sides, synapses, env: dict) -> None:
        for side in code.sides:
            source_env, _ = sides[side.population]
            if side.suffix == ir.MODULATOR_SUFFIX:
                index = side.offset
            elif side.suffix == ir.PRE_SUFFIX:
                index = arrays.pre[synapses] + side.offset
            else:
                index = arrays.post[synapses]
            for name in side.names:
                value = source_env[name]
                if np.ndim(value) == 0:
                    env[name + side.suffix] = value
                else:  # the pathway's sentinel synapse names the neuron one past the end: clip it
                    env[name + side.suffix] = value[self.xp.minimum(index, value.shape[0] - 1)]

    def integrate(self, n, code: PlasticCode, arrays: PlasticArrays, sides, states: tuple) -> tuple:
        """Phase 3 for a clock-driven pathway: every synapse advanced one step."""
        xp = self.xp
        env = dict(arrays.scalars)
        env["t"] = n * env["dt"]
        env.update(zip(code.states, states))
        self._gather(code, arrays, sides, slice(None), env)
        for name, stage in code.stages:
            env[name] = stage(env)
        new = dict(zip(code.states, states))
        new.update([(name, update(env)) for name, update in code.updates])
        out = []
        for k, name in enumerate(code.states):
            value = new[name]
            if k in code.bounds:
                low, high = code.bounds[k]
                value = xp.minimum(xp.maximum(value, env[low]), env[high])
            out.append(xp.broadcast_to(value, states[k].shape) if np.ndim(value) == 0 else value)
        return tuple(out)

    def _run(self, n, code, arrays, sides, synapses, state, statements, direction_pre: bool):
        """Bring `synapses` to now, run `statements`, store states and `last`."""
        xp = self.xp
        buffers, states, last = state
        sentinel = arrays.indptr[-1]
        env = dict(arrays.scalars)
        env["t"] = (n + 1) * env["dt"]
        values = [s[synapses] for s in states]
        if code.event_driven:
            previous, factors = last[synapses], {}
            for k, tau, rest in code.relaxed:
                if tau not in factors:
                    factors[tau] = decay(previous, n, env[tau], env["dt"], xp)
                values[k] = relax(values[k], previous, n, env[tau], env[rest], env["dt"], xp, factors[tau])
        env.update(zip(code.states, values))
        self._gather(code, arrays, sides, synapses, env)
        written = {k for k, _, _ in code.relaxed}
        if direction_pre and any(s.buffer is not None for s in statements):
            post = arrays.post[synapses]
            # The effect arrives `delay` after the spike, which was `axonal` steps ago.
            arrival = n + 1 - code.axonal + (code.delay if code.delay is not None else arrays.delay[synapses])
        amounts: dict[int, list] = {}  # per buffer, its effects' amounts in statement order
        for s in statements:
            amount = s.value(env)
            if s.state is not None:
                old = env[s.variable]
                value = xp.divide(old, amount) if s.op is ir.AssignOp.DIV else _UPDATE[s.op](old, amount)
                if s.state in code.bounds:
                    low, high = code.bounds[s.state]
                    value = xp.minimum(xp.maximum(value, env[low]), env[high])
                env[s.variable] = value
                written.add(s.state)
            else:
                amounts.setdefault(s.buffer, []).append(-amount if s.op is ir.AssignOp.SUB else amount)
        for b, parts in amounts.items():  # several into one buffer synapse by synapse, as on a static pathway
            buffer = self.buffers[b]
            index = (arrival % buffer.length) * buffer.width + post
            buffers[b] = xp.scatter_add_each(buffers[b], index, [xp.broadcast_to(a, post.shape) for a in parts])
        # Padded slots (the sentinel) write past the end, which a static-shape backend drops.
        target = xp.where(synapses < sentinel, synapses, sentinel + 1)
        states = list(states)
        for k in sorted(written):
            value = env[code.states[k]]
            value = xp.broadcast_to(value, synapses.shape) if np.ndim(value) == 0 else value
            states[k] = xp.scatter_set(states[k], target, value)
        if code.event_driven:
            last = xp.scatter_set(last, target, xp.full(synapses.shape, n, dtype=last.dtype))
        return buffers, tuple(states), last

    def delayed(self, spikes, mask, history: tuple, size: int, capacity: int):
        """(The spikes of one end `len(history)` steps ago, the history after this step):
        `history` holds that end's fired masks (`mask`: this step's) of the last steps, newest first."""
        if not history:
            return spikes, history
        firing = self.events.firing(history[-1])
        return self.events.spikes_by_population(firing, ((0, size),), (capacity,))[0], (mask,) + history[:-1]

    def schedule(self, n, code: PlasticCode, arrays: PlasticArrays, rows_count, sides, buffers: list, states, last):
        """Phase 6: `on pre` for the synapses of this step's (delayed) presynaptic spikes."""
        rows, count = rows_count
        if not self.events.may_fire(count):
            return buffers, states, last

        def body(synapses, state):
            return self._run(n, code, arrays, sides, synapses, state, code.on_pre, True)

        return self.events.for_synapses(arrays.indptr, arrays.slots, rows, code.batch, body, (buffers, states, last))

    def learn(self, n, code: PlasticCode, arrays: PlasticArrays, rows_count, sides, buffers: list, states, last):
        """Phase 7: `on post` for the synapses of this step's (delayed) postsynaptic spikes."""
        rows, count = rows_count
        if not self.events.may_fire(count):
            return buffers, states, last

        def body(positions, state):
            return self._run(n, code, arrays, sides, arrays.column_synapses[positions], state, code.on_post, False)

        return self.events.for_synapses(arrays.column_indptr, arrays.column_slots, rows, code.column_batch, body,
                                        (buffers, states, last))

    def record(self, n, code: PlasticCode, arrays: PlasticArrays, states, last, state: int, indices):
        """State `state` of synapses `indices` at the end of step n (event-driven: brought to then)."""
        values = states[state][indices]
        for k, tau, rest in code.relaxed:
            if k == state:
                s = arrays.scalars
                values = relax(values, last[indices], n, s[tau], s[rest], s["dt"], self.xp)
        return values
