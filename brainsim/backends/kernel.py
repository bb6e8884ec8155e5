"""The one description of a simulation step: named phases over typed state.

Both backends run exactly this code: numpy calls the step in a Python loop, jax
traces it once inside `lax.scan`. It is written against `xp` (a
`brainsim.backends.ops.Numerics`: the array module plus division, powers of
two, scatter-add and the finite check) and `events` (a
`brainsim.backends.ops.Events`: listing spikes and synapses, moving events),
and reads every array from a `HostNetwork` (`brainsim.network`), built on the
host; it builds none.

Step n advances the state from t_n = n dt to t_{n+1}, in the phases of
docs/semantics.md, one method each of `Step`:

    1. deliver    the synaptic events due in step n (ring buffers, delays >= 1 step)
    2. drive      inputs = default + the stimuli active in step n
    3. integrate  the noise draws (`draw_noises`), then every state variable
                  (refractory neurons hold clamped variables)
    4. fire       threshold, reset, refractory periods; spike sources emit

(`update` is phases 3 and 4 of a group after its draws, the unit a backend may
run as one compiled loop: `brainsim.backends.fused`.)
    5. record     the state after the step
    6. schedule   the new spikes' on_pre statements: effects into the ring
                  buffers, and for plastic pathways synapse writes
    7. learn      plastic pathways: on_post for the new postsynaptic spikes

Clock-driven synapse equations are integrated in phase 3, with the neurons;
plastic pathways' work is in `brainsim.backends.synapses`.

Every value that is not an array of state (parameters, propagators, literals of
expressions) reaches the step as a runtime argument, never as a constant folded
into compiled code: XLA would otherwise reassociate products of constants and
change the bits. docs/semantics.md lists every such hazard and its remedy.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import numpy as np

from brainsim import ir
from brainsim.backends import random
from brainsim.backends.expressions import Compiled, compile_expr, lift_constants
from brainsim.backends.subexpressions import share
from brainsim.backends.ops import Events, Numerics
from brainsim.backends.synapses import PlasticArrays, PlasticCode, PlasticStep, plastic_code
from brainsim.errors import SimulationError
from brainsim.integrators import REFRACTORY
from brainsim.network import HostNetwork, NoiseCurrent, PoissonDrive, Schedule, SpikeSchedule
from brainsim.network.connectivity import ring_targets

# --------------------------------------------------------------------------- typed state and arrays


class GroupState(NamedTuple):
    """A group's state variables (in model order) and, if it has a refractory period,
    the first step each neuron may integrate again."""

    variables: tuple
    refractory_until: Any


class Carry(NamedTuple):
    """Everything a step changes: group states, synapse states (per pathway, in
    synapse model order), ring buffers, per stimulus (network order) the state
    of a noise current (None for the others), and per pathway the step each
    synapse's event-driven state was last brought to (None where there is none)
    and, for axonal and dendritic delays, the fired masks of the source and the
    target of the last steps (newest first; None without plasticity)."""

    groups: tuple[GroupState, ...]
    synapses: tuple[tuple, ...]
    buffers: tuple
    stimuli: tuple
    updated: tuple
    history: tuple


class GroupArrays(NamedTuple):
    """Runtime constants of a group: `scalars` (name -> value: parameters, propagators, literals, dt;
    an array of the group's size for a heterogeneous parameter or a per-neuron propagator),
    its stimuli's arrays, and for noise the per-neuron stream and index within the population."""

    scalars: dict
    stimuli: tuple
    streams: Any
    neurons: Any


class StimulusArrays(NamedTuple):
    """A stimulus (`brainsim.network.drive`): a schedule's `amplitude` per neuron and
    `levels` per step (None: none); a noise current's `amplitude` is its mask, with
    `scalars` mean, decay and kick, and `neurons`, the indices its draws are keyed by."""

    amplitude: Any
    levels: Any
    scalars: dict
    neurons: Any


class PathwayArrays(NamedTuple):
    """A static pathway: CSR (`indptr`, `slots`), each synapse's ring-buffer `target`
    (`brainsim.network.connectivity.ring_targets`: delay and post in one index), and `scalars`."""

    indptr: Any
    slots: Any
    target: Any
    scalars: dict


class SourceArrays(NamedTuple):
    """A spike source: Poisson (`probability` per neuron or the rate's `scalars`, and
    `neurons`, the channel indices its draws are keyed by) or a schedule (`indptr`,
    `neurons`: the channels of each step's spikes)."""

    probability: Any
    scalars: dict
    indptr: Any
    neurons: Any


class Arrays(NamedTuple):
    groups: tuple[GroupArrays, ...]
    pathways: tuple[PathwayArrays | PlasticArrays, ...]
    sources: tuple[SourceArrays, ...]
    records: tuple
    synapse_records: tuple  # per every-step synapse record: its synapses' positions in the pathway
    seed: Any = None  # the network's seed (uint64), a runtime input: a new seed needs no new program


class Outputs(NamedTuple):
    """Per step: (indices, count) of each population's spikes (network order), the
    recorded traces, and each group's finite-value flags [population, variable]."""

    spikes: tuple
    traces: tuple
    finite: tuple
    synapse_traces: tuple = ()


# --------------------------------------------------------------------------- static code of the step

_RESET = {
    ir.AssignOp.SET: lambda old, value: value,
    ir.AssignOp.ADD: operator.add,
    ir.AssignOp.SUB: operator.sub,
    ir.AssignOp.MUL: operator.mul,
    ir.AssignOp.DIV: operator.truediv,
}


@dataclass(frozen=True, eq=False)
class _GroupCode:
    states: tuple[str, ...]
    noises: tuple[str, ...]
    stages: tuple[tuple[str, Compiled], ...]
    updates: tuple[tuple[str, Compiled], ...]
    threshold: Compiled | None
    resets: tuple[tuple[str, ir.AssignOp, Compiled], ...]
    schedules: tuple[int, ...]
    clamped: frozenset[str]  # variables held while refractory: input arriving then is dropped
    slices: tuple[tuple[int, int], ...]
    capacities: tuple[int, ...]
    refractory_steps: int
    # `Step.update` of this group as one function (n, env, until, buffers) -> (flags, state, spikes),
    # where a backend has compiled it (brainsim.backends.fused); None: `Step.update` itself. With
    # `delivers` true, it runs the group's `Step.deliver_into` first, which `Step.deliver` then skips.
    fused: Any = None

    @property
    def size(self) -> int:
        return self.slices[-1][1]


@dataclass(frozen=True, eq=False)
class StaticPathwayCode:
    """A static pathway's code: its source population, synapse states (those its effects read:
    `gathered`) and `on pre` effects (buffer, negate, value), delivered in batches of `batch`."""

    source: int
    states: tuple[str, ...]
    gathered: tuple[int, ...]
    effects: tuple[tuple[int, bool, Compiled], ...]  # (buffer, negate, value)
    batch: int | None
    # The pathway's part of `schedule` as one function (n, (rows, count), arrays, states, buffers) -> buffers,
    # where a backend has compiled it (brainsim.backends.fused); None: `Step.effects` over its synapses.
    fused: Any = None


@dataclass(frozen=True, eq=False)
class _SourceCode:
    population: int
    size: int
    stream: int
    rate: Compiled | None
    most: int | None  # spikes per step at most, for a schedule
    capacity: int


@dataclass(frozen=True, eq=False)
class Step:
    """The step of one network: `step(carry, arrays, n) -> (carry, outputs)`, in phases.

    Built by `compile_step`; holds only static code (compiled expressions, index
    bookkeeping), never arrays.
    """

    xp: Numerics
    events: Events
    groups: tuple[_GroupCode, ...]
    pathways: tuple[StaticPathwayCode | PlasticCode, ...]
    sources: tuple[_SourceCode, ...]
    stimuli: tuple
    noise_streams: tuple  # per stimulus: its runtime generator stream (a noise current), else None
    buffers: tuple
    records: tuple
    spike_order: tuple[int, ...]
    sides: tuple  # per population (network order): ("group", g, offset) or ("source", k)
    synapse_records: tuple  # per every-step synapse record: (pathway, state index)

    @functools.cached_property
    def plastic_pathways(self) -> tuple[int, ...]:
        return tuple(c for c, code in enumerate(self.pathways) if isinstance(code, PlasticCode))

    @functools.cached_property
    def clocked(self) -> tuple[int, ...]:
        return tuple(c for c in self.plastic_pathways if self.pathways[c].clock_driven)

    @functools.cached_property
    def plastic(self) -> PlasticStep:
        """Phases 3, 6 and 7 of the plastic pathways."""
        return PlasticStep(self.xp, self.events, self.buffers)

    def _sides(self, envs: list[dict], fired: list) -> list:
        """(environment, offset) of each population, for the neuron-side names of synapses."""
        return [(envs[where[1]], where[2]) if where[0] == "group" else ({ir.SPIKED: fired[where[1]]}, 0)
                for where in self.sides]

    def __call__(self, carry: Carry, arrays: Arrays, n) -> tuple[Carry, Outputs]:
        # Each group's environment: its runtime constants, its state, `t`, whether each
        # neuron is refractory; the phases below read and extend it.
        envs = []
        for code, a, state in zip(self.groups, arrays.groups, carry.groups):
            env = dict(a.scalars)
            env.update(zip(code.states, state.variables))
            env["t"] = n * env["dt"]
            env[REFRACTORY] = refractory(n, code, state.refractory_until)
            envs.append(env)
        buffers = self.deliver(n, envs, list(carry.buffers))
        new_groups, spikes, finite = [], [], []
        stimuli = list(carry.stimuli)
        for g, code in enumerate(self.groups):
            if code.schedules:
                self.drive(n, code, arrays.groups[g], envs[g], stimuli, arrays.seed)
        synapses = list(carry.synapses)
        if self.clocked:
            self.integrate_synapses(n, envs, arrays, synapses)
        for g, code in enumerate(self.groups):
            env = envs[g]
            self.draw_noises(n, code, arrays.groups[g], env, arrays.seed)
            until = carry.groups[g].refractory_until
            flags, state, fired = (self.update(code, n, env, until) if code.fused is None
                                   else code.fused(n, env, until, buffers))
            finite.append(flags)
            new_groups.append(state)
            spikes.extend(fired)
        masks = []
        for code, a in zip(self.sources, arrays.sources):
            mask, fired = self.emit(n, code, a, arrays.seed)
            masks.append(mask)
            spikes.extend(fired)
        spikes = [spikes[k] for k in self.spike_order]
        traces = self.record(envs, arrays)
        updated, history = carry.updated, carry.history
        if self.plastic_pathways:
            sides = self._sides(envs, masks)
            updated, history = list(updated), list(history)
            ends = self.delay_spikes(spikes, sides, history)
            buffers = self.schedule(n, spikes, ends, sides, synapses, updated, arrays, buffers)
            self.learn(n, ends, sides, synapses, updated, arrays, buffers)
            updated, history = tuple(updated), tuple(history)
        else:  # static pathways only: the step of issue 6, unchanged
            buffers = self.schedule(n, spikes, None, None, synapses, None, arrays, buffers)
        synapse_traces = self.record_synapses(n, synapses, updated, arrays) if self.synapse_records else ()
        carry = Carry(tuple(new_groups), tuple(synapses), tuple(buffers), tuple(stimuli), updated, history)
        return carry, Outputs(tuple(spikes), tuple(traces), tuple(finite), tuple(synapse_traces))

    # 1 ------------------------------------------------------------------
    @functools.cached_property
    def group_buffers(self) -> tuple[tuple[int, ...], ...]:
        """Per group, its ring buffers, in buffer order."""
        return tuple(tuple(b for b, buffer in enumerate(self.buffers) if buffer.group == g) for g in range(len(self.groups)))

    def deliver(self, n, envs: list[dict], buffers: list) -> list:
        """Phase 1 of every group but those whose compiled update delivers (`_GroupCode.fused`)."""
        for g, code in enumerate(self.groups):
            if not getattr(code.fused, "delivers", False):
                buffers = self.deliver_into(n, g, envs[g], buffers)
        return buffers

    def deliver_into(self, n, g: int, env: dict, buffers: list) -> list:
        """Add each of group g's ring-buffer slots n mod L to its variable (every neuron) and clear
        it; a refractory neuron drops what arrives onto a variable it holds (docs/decisions.md)."""
        for b in self.group_buffers[g]:
            buffer = self.buffers[b]
            before = env[buffer.variable]
            env[buffer.variable], buffers[b] = self.events.deliver(
                buffers[b], (n % buffer.length) * buffer.width, self.groups[g].size, before
            )
            if buffer.variable in self.groups[g].clamped:
                env[buffer.variable] = self.xp.where(env[REFRACTORY], before, env[buffer.variable])
        return buffers

    # 2 ------------------------------------------------------------------
    def drive(self, n, code: _GroupCode, arrays: GroupArrays, env: dict, stimuli: list, seed) -> None:
        """Each input: its default plus the stimuli of step n, in network order; a noise
        current adds x_n and advances its state in `stimuli` to x_{n+1}."""
        xp = self.xp
        for s, a in zip(code.schedules, arrays.stimuli):
            match self.stimuli[s]:
                case NoiseCurrent(variable=variable):
                    x = stimuli[s]
                    env[variable] = env[variable] + xp.where(a.amplitude, x, 0.0)
                    normal = random.normal(random.random_words(seed, self.noise_streams[s], n, a.neurons, xp), xp)
                    mean = a.scalars["mean"]
                    stimuli[s] = mean + (x - mean) * a.scalars["decay"] + a.scalars["kick"] * normal
                case schedule:
                    active = (n >= schedule.start) & (n < schedule.stop) & ((n - schedule.start) % schedule.period < schedule.width)
                    value = a.amplitude if a.levels is None else a.amplitude * a.levels[xp.minimum(n, a.levels.shape[0] - 1)]
                    env[schedule.variable] = env[schedule.variable] + xp.where(active, value, 0.0)

    # 3 ------------------------------------------------------------------
    def draw_noises(self, n, code: _GroupCode, arrays: GroupArrays, env: dict, seed) -> None:
        """The group's white-noise draws of step n, into `env`."""
        for k, name in enumerate(code.noises):
            words = random.random_words(seed, arrays.streams + k, n, arrays.neurons, self.xp)
            env[name] = random.normal(words, self.xp)

    def update(self, code: _GroupCode, n, env: dict, until) -> tuple[Any, GroupState, list]:
        """Phases 3 and 4 of a group after its noise draws: the method's stages and updates
        (`advance`), whether each population's new values are finite, then `fire`.
        Returns (finite flags, the group's new state, its spikes per population)."""
        env.update(advance(code, env))
        flags = self.xp.finite_flags(list(map(env.__getitem__, code.states)), code.slices)
        return (flags, *self.fire(n, code, env, until))

    def integrate_synapses(self, n, envs: list[dict], arrays: Arrays, synapses: list) -> None:
        """Clock-driven synapse equations, every synapse, into `synapses`, from the neuron values
        at the start of the step (after deliver and drive)."""
        sides = self._sides(envs, [None] * len(self.sources))
        for c in self.clocked:
            synapses[c] = self.plastic.integrate(n, self.pathways[c], arrays.pathways[c], sides, synapses[c])

    # 4 ------------------------------------------------------------------
    def fire(self, n, code: _GroupCode, env: dict, until) -> tuple[GroupState, list]:
        """Threshold (not while refractory), refractory periods, resets in order; spikes per population."""
        xp, events = self.xp, self.events
        refractory = env[REFRACTORY]
        clock_to_step_end(n, env)
        fired = _full(code.threshold(env), code.size, xp) if code.threshold else xp.zeros(code.size, dtype=bool)
        if code.refractory_steps:
            fired = xp.logical_and(fired, xp.logical_not(refractory))
        env[ir.SPIKED] = fired  # for synapses' `spiked_pre`, `spiked_post`
        firing = events.firing(fired)
        if code.refractory_steps:
            until = events.update_fired(until, firing, n + 1 + code.refractory_steps)
        for name, op, value in code.resets:
            env[name] = events.update_fired(env[name], firing, _RESET[op](env[name], value(env)))
        state = GroupState(tuple(map(env.__getitem__, code.states)), until)
        return state, list(events.spikes_by_population(firing, code.slices, code.capacities))

    def emit(self, n, code: _SourceCode, arrays: SourceArrays, seed) -> tuple:
        """(The fired mask, the spikes) of a spike source in step n."""
        xp, events = self.xp, self.events
        if code.most is not None:
            last = arrays.indptr.shape[0] - 2
            fired = events.scheduled(arrays.indptr, arrays.neurons, xp.minimum(n + 1, last), code.size, code.most)
        else:
            draws = random.uniform(random.random_words(seed, code.stream, n, arrays.neurons, xp), xp)
            if code.rate is None:
                probability = arrays.probability
            else:
                scalars = arrays.scalars
                probability = code.rate({**scalars, "t": n * scalars["dt"]}) * scalars["dt"]
            fired = draws < probability
        return fired, list(events.spikes_by_population(events.firing(fired), ((0, code.size),), (code.capacity,)))

    # 5 ------------------------------------------------------------------
    def record(self, envs: list[dict], arrays: Arrays) -> list:
        """The recorded variables after the step, from each group's environment after
        `fire` (a state: after the reset; an input: the value used during the step)."""
        return [
            _full(envs[record.group][record.variable], self.groups[record.group].size, self.xp)[indices]
            for record, indices in zip(self.records, arrays.records)
        ]

    # 6 ------------------------------------------------------------------
    def delay_spikes(self, spikes: list, sides: list, history: list) -> list:
        """Per plastic pathway, the (presynaptic, postsynaptic) spikes its `on pre` and `on post`
        run for in this step: this step's, or those of `axonal` / `dendritic` steps ago."""
        ends = [None] * len(self.pathways)
        for c in self.plastic_pathways:
            code = self.pathways[c]
            pre, post = spikes[code.source], spikes[code.target]
            if history[c] is not None:
                masks = [sides[p][0][ir.SPIKED][sides[p][1]:sides[p][1] + size]
                         for p, size in zip((code.source, code.target), code.sizes)]
                pre, before = self.plastic.delayed(pre, masks[0], history[c][0], code.sizes[0], code.capacities[0])
                post, after = self.plastic.delayed(post, masks[1], history[c][1], code.sizes[1], code.capacities[1])
                history[c] = (before, after)
            ends[c] = (pre, post)
        return ends

    def schedule(self, n, spikes: list, ends: list, sides: list, synapses: list, updated: list, arrays: Arrays,
                 buffers: list) -> list:
        """Each pathway's effects of this step's spikes, into the buffer slot of their arrival;
        a plastic pathway's `on pre` statements (`brainsim.backends.synapses`), its synapse
        writes into `synapses` and `updated`.

        Sums run in pathway, presynaptic neuron, synapse, effect order.
        """
        xp, events = self.xp, self.events
        for c, code in enumerate(self.pathways):
            if isinstance(code, PlasticCode):
                buffers, synapses[c], updated[c] = self.plastic.schedule(
                    n, code, arrays.pathways[c], ends[c][0], sides, buffers, synapses[c], updated[c])
                continue
            rows, count = spikes[code.source]
            if not events.may_fire(count):
                continue
            pathway, states = arrays.pathways[c], synapses[c]
            if code.fused is not None:
                buffers = code.fused(n, spikes[code.source], pathway, states, buffers)
                continue
            gathered = (pathway.target, *(states[k] for k in code.gathered))
            effects = functools.partial(self.effects, n, code, pathway)
            buffers = events.for_synapse_values(pathway.indptr, pathway.slots, rows, code.batch, gathered, effects, buffers)
        return buffers

    def effects(self, n, code: StaticPathwayCode, pathway: PathwayArrays, values: tuple, buffers: list) -> list:
        """A static pathway's effects in step n of the synapses whose (ring-buffer targets, gathered
        states) are `values`, added into the ring buffers; several into one buffer synapse by synapse."""
        xp = self.xp
        target, *gathered = values
        env = {**pathway.scalars, **dict(zip((code.states[k] for k in code.gathered), gathered))}
        amounts: dict[int, list] = {}
        for b, negate, value in code.effects:
            amount = value(env)
            amounts.setdefault(b, []).append(-amount if negate else amount)
        for b, parts in amounts.items():
            buffer = self.buffers[b]
            size = buffer.length * buffer.width
            # ((n + 1 + delay) mod length) * width + post, from delay * width + post
            index = target + xp.asarray(((n + 1) % buffer.length) * buffer.width, dtype=target.dtype)
            index = xp.where(index >= size, index - size, index)
            buffers[b] = xp.scatter_add_each(buffers[b], index, parts)
        return buffers

    # 7 ------------------------------------------------------------------
    def learn(self, n, ends: list, sides: list, synapses: list, updated: list, arrays: Arrays, buffers: list) -> None:
        """Each plastic pathway's `on post` for this step's (delayed) postsynaptic spikes, into `synapses` and `updated`."""
        for c in self.plastic_pathways:
            code = self.pathways[c]
            if code.on_post:
                _, synapses[c], updated[c] = self.plastic.learn(
                    n, code, arrays.pathways[c], ends[c][1], sides, buffers, synapses[c], updated[c])

    def record_synapses(self, n, synapses: list, updated: list, arrays: Arrays) -> list:
        """The recorded synapse states at the end of the step (event-driven ones brought to then)."""
        out = []
        for (c, k), indices in zip(self.synapse_records, arrays.synapse_records):
            code = self.pathways[c]
            if isinstance(code, PlasticCode):
                out.append(self.plastic.record(n, code, arrays.pathways[c], synapses[c], updated[c], k, indices))
            else:
                out.append(synapses[c][k][indices])
        return out


def advance(code: _GroupCode, env: dict) -> list:
    """The method's stages in order (each into `env`, where the next reads it), then
    [(variable, new value)] of every update, all computed from the old values."""
    for name, stage in code.stages:
        env[name] = stage(env)
    return [(name, update(env)) for name, update in code.updates]


def refractory(n, code: _GroupCode, until):
    """Whether each neuron of the group is refractory in step n (False: the group has no refractory period)."""
    return n < until if code.refractory_steps else False


def clock_to_step_end(n, env: dict) -> None:
    """`t` in `env` from the start of step n to its end, where thresholds and resets read it."""
    env["t"] = (n + 1) * env["dt"]


def _full(value, size: int, xp: Numerics):
    """`value` as an array of `size` elements (expressions of parameters alone give scalars)."""
    return value if getattr(value, "shape", None) == (size,) else xp.broadcast_to(value, (size,))


# --------------------------------------------------------------------------- building the step


@dataclass(frozen=True, eq=False)
class Program:
    """A step ready to run, with the host arrays it reads (`arrays`) and the state at t = 0 (`carry`)."""

    step: Step
    arrays: Arrays
    carry: Carry


def compile_step(
    host: HostNetwork,
    xp: Numerics,
    events: Events,
    capacities: Mapping[int, int] | None = None,
    batches: tuple[int, ...] | None = None,
    column_batches: tuple[int | None, ...] | None = None,
) -> Program:
    """The step of `host`'s network, written with `xp` and `events`.

    For backends with static shapes: `capacities` bounds the spikes per step that
    `events.spikes_by_population` returns, per population (network index);
    `batches` is the number of synapse slots `events.for_synapses` hands to each
    pathway's effects at once, `column_batches` to each plastic pathway's `on post`.
    None: unbounded.
    """
    network = host.network
    capacities = capacities or {}
    batches = batches or (None,) * len(host.pathways)
    column_batches = column_batches or (None,) * len(host.pathways)
    groups, group_arrays = zip(*(group_code(host, g, xp, capacities) for g in range(len(host.groups)))) if host.groups else ((), ())
    pathways, pathway_arrays = zip(*(
        plastic_code(host, c, xp, _buffer_finder(host), b, column_batches[c], capacities) if host.pathways[c].plastic
        else pathway_code(host, c, xp, b)
        for c, b in zip(range(len(host.pathways)), batches)
    )) if host.pathways else ((), ())
    sources, source_arrays = zip(*(_source_code(host, s, xp, capacities) for s in host.sources)) if host.sources else ((), ())
    # Spikes come out group by group, then source by source; outputs list them in network order.
    produced = [i for group in host.groups for i in group.indices] + [s.population for s in host.sources]
    step = Step(
        xp=xp,
        events=events,
        groups=tuple(groups),
        pathways=tuple(pathways),
        sources=tuple(sources),
        stimuli=host.schedules,
        noise_streams=tuple(
            random.stream_id(random.STIMULUS, network.populations[s.population].name, s.number)
            if isinstance(s, NoiseCurrent) else None
            for s in host.schedules
        ),
        buffers=host.buffers,
        records=host.records,
        spike_order=tuple(produced.index(i) for i in range(len(network.populations))),
        sides=tuple(
            ("group", *host.placement[p.name]) if p.name in host.placement
            else ("source", [s.population for s in host.sources].index(i), 0)
            for i, p in enumerate(network.populations)
        ),
        synapse_records=tuple((r.pathway, r.state) for r in host.synapse_records if r.steps is None),
    )
    arrays = Arrays(
        groups=tuple(group_arrays),
        pathways=tuple(pathway_arrays),
        sources=tuple(source_arrays),
        records=tuple(r.group_indices for r in host.records),
        synapse_records=tuple(r.positions for r in host.synapse_records if r.steps is None),
        seed=np.uint64(network.simulation.seed),
    )
    carry = Carry(
        groups=tuple(
            GroupState(
                tuple(g.initial[s.name].copy() for s in g.model.states),
                np.zeros(g.size, dtype=np.int64) if g.refractory_steps else None,
            )
            for g in host.groups
        ),
        # A static pathway's states are the host's arrays: no step writes them (`Kernel.schedule`).
        synapses=tuple(tuple(p.states[s.name].copy() if p.plastic else p.states[s.name] for s in p.synapse.states)
                       for p in host.pathways),
        buffers=tuple(np.zeros(b.length * b.width) for b in host.buffers),
        stimuli=tuple(np.full(s.mask.shape, s.mean) if isinstance(s, NoiseCurrent) else None for s in host.schedules),
        updated=tuple(np.full(p.n_synapses + 1, -1, dtype=np.int64) if p.event_driven else None for p in host.pathways),
        history=tuple(_history(network, p) for p in host.pathways),
    )
    dtype = np.dtype(xp.float_dtype)
    return Program(step, _in_dtype(arrays, dtype), _in_dtype(carry, dtype))


def _in_dtype(value, dtype: np.dtype):
    """`value` (arrays, or NamedTuples, tuples and dicts of them) with every float array and
    scalar in `dtype` and the rest (indices, masks, None) as they are: the host builds in
    float64, a float32 program holds float32; in float64 every array is returned as it is."""
    match value:
        case np.ndarray() | np.floating() if np.issubdtype(value.dtype, np.floating):
            return value.astype(dtype, copy=False)
        case dict():
            return {name: _in_dtype(v, dtype) for name, v in value.items()}
        case tuple() if hasattr(value, "_fields"):  # a NamedTuple
            return type(value)(*(_in_dtype(v, dtype) for v in value))
        case tuple():
            return tuple(_in_dtype(v, dtype) for v in value)
    return value


def _history(network: ir.Network, pathway) -> tuple | None:
    """The fired masks before the run (none fired) that a plastic pathway's delays need, newest first."""
    if not pathway.plastic:
        return None
    projection = network.projections[pathway.projections[0]]
    steps = [round(d / network.simulation.dt) for d in (projection.axonal_delay, projection.dendritic_delay)]
    if not any(steps):
        return None
    sizes = [network.population(name).size for name in (projection.source, projection.target)]
    return tuple(tuple(np.zeros(size, dtype=bool) for _ in range(k)) for size, k in zip(sizes, steps))


def _buffer_finder(host: HostNetwork):
    """(group, variable) -> the index of its ring buffer."""
    index = {(buffer.group, buffer.variable): b for b, buffer in enumerate(host.buffers)}
    return lambda group, variable: index[(group, variable)]


def _per_neuron(update: Compiled, expr: ir.Expr, per_neuron: set[str], size: int, xp: Numerics) -> Compiled:
    """`update`, broadcast to every neuron if `expr` reads nothing per neuron (a propagator
    that underflowed to zero leaves only a constant: a time constant far below dt)."""
    if ir.free_names(expr) & per_neuron:
        return update
    return lambda env: xp.full(size, update(env))


def group_code(host: HostNetwork, g: int, xp: Numerics, capacities: Mapping[int, int]) -> tuple[_GroupCode, GroupArrays]:
    """The static code of group `g` written with `xp`, and its runtime constants."""
    group = host.groups[g]
    model, integration = group.model, group.integration
    # A heterogeneous parameter or a per-neuron propagator is an array of the group's size,
    # bound at run time like every other value.
    scalars = (
        {p.name: group.parameters.get(p.name, p.value) for p in model.parameters}
        | dict(integration.constants)
        | {i.name: i.default for i in model.inputs}
        | {"dt": host.dt}
    )
    table: dict[str, float] = {}

    def prepare(expr: ir.Expr) -> Compiled:
        return compile_expr(lift_constants(expr, table), xp)

    shared_stages, shared_updates = share(integration.stages, integration.updates)
    stages = tuple((name, prepare(expr)) for name, expr in shared_stages)
    per_neuron = {s.name for s in model.states} | {i.name for i in model.inputs} | {REFRACTORY, *integration.noises}
    per_neuron |= {name for name, v in scalars.items() if np.ndim(v)}
    for name, expr in shared_stages:
        if ir.free_names(expr) & per_neuron:
            per_neuron.add(name)
    updates = tuple((name, _per_neuron(prepare(expr), expr, per_neuron, group.size, xp)) for name, expr in shared_updates)
    threshold = prepare(model.threshold) if model.threshold is not None else None
    resets = tuple((a.variable, a.op, prepare(a.value)) for a in model.reset)
    values = scalars | table  # complete only now that every expression has lifted its literals
    code = _GroupCode(
        states=tuple(s.name for s in model.states),
        noises=integration.noises,
        stages=stages,
        updates=updates,
        threshold=threshold,
        resets=resets,
        schedules=tuple(s for s, schedule in enumerate(host.schedules) if schedule.group == g),
        clamped=frozenset(e.variable for e in model.equations if e.clamped_when_refractory and group.refractory_steps),
        slices=group.slices,
        capacities=tuple(capacities.get(i, size) for i, size in zip(group.indices, group.sizes)),
        refractory_steps=group.refractory_steps,
    )
    streams = neurons = None
    if integration.noises:
        streams = np.concatenate([
            np.full(size, random.stream_id(random.NOISE, name, 0), dtype=np.uint64)
            for name, size in zip(group.populations, group.sizes)
        ])
        neurons = np.concatenate([np.arange(size, dtype=np.uint32) for size in group.sizes])
    arrays = GroupArrays(
        scalars={name: np.asarray(v, dtype=np.float64) if np.ndim(v) else np.float64(v) for name, v in values.items()},
        stimuli=tuple(_stimulus_arrays(host.schedules[s]) for s in code.schedules),
        streams=streams,
        neurons=neurons,
    )
    return code, arrays


def _stimulus_arrays(schedule: Schedule | NoiseCurrent) -> StimulusArrays:
    match schedule:
        case NoiseCurrent(mask=mask, mean=mean, decay=decay, kick=kick, neurons=neurons):
            scalars = {"mean": np.float64(mean), "decay": np.float64(decay), "kick": np.float64(kick)}
            return StimulusArrays(mask, None, scalars, neurons)
        case Schedule(amplitude=amplitude, levels=levels):
            return StimulusArrays(amplitude, levels, {}, None)
    raise TypeError(f"not a stimulus: {schedule!r}")


def pathway_code(host: HostNetwork, c: int, xp: Numerics, batch: int | None) -> tuple[StaticPathwayCode, PathwayArrays]:
    """The static code of static pathway `c` written with `xp`, and its runtime constants."""
    pathway = host.pathways[c]
    synapse = pathway.synapse
    scalars = {p.name: p.value for p in synapse.parameters}
    states = tuple(s.name for s in synapse.states)
    uniform = uniform_states(host, c)
    table: dict[str, float] = {}
    effects, gathered = [], set()
    for assignment in synapse.on_pre:
        value = lift_constants(assignment.value, table)
        gathered |= ir.free_names(value) & (set(states) - set(uniform))
        b = next(i for i, buffer in enumerate(host.buffers)
                 if (buffer.group, buffer.variable) == (pathway.target_group, assignment.variable))
        effects.append((b, assignment.op is ir.AssignOp.SUB, compile_expr(value, xp)))
    values = scalars | uniform | table
    code = StaticPathwayCode(
        source=pathway.source,
        states=states,
        gathered=tuple(states.index(name) for name in sorted(gathered)),
        effects=tuple(effects),
        batch=batch,
    )
    written = [host.buffers[b] for b, _, _ in effects]  # all of the target group: one width
    arrays = PathwayArrays(
        indptr=pathway.indptr,
        slots=pathway.slots,
        target=ring_targets(pathway, written[0].width if written else 1, max((b.length * b.width for b in written), default=1)),
        scalars={name: np.float64(v) for name, v in values.items()},
    )
    return code, arrays


def uniform_states(host: HostNetwork, c: int) -> dict[str, float]:
    """The synapse states of static pathway `c` that hold one value in every synapse for the
    whole run: those that every projection of the pathway starts at the same constant (nothing
    changes a static pathway's states). Its effects read such a state as a scalar, as they read
    a parameter, not synapse by synapse from its array: the same value, so the same bits, without
    the array's 8 bytes a synapse per event (docs/performance.md). Decided from the model, not
    from the drawn values, so that a new value (`set`, `run_batch`) keeps the program's structure."""
    pathway = host.pathways[c]
    initials = [{s.name: s.initial for s in host.network.projections[j].synapse.states} for j in pathway.projections]
    uniform = {}
    for state in pathway.synapse.states:
        # By their bits (hex): 0.0 and -0.0 are equal but do not add alike
        values = {float(i[state.name].value).hex() if isinstance(i[state.name], ir.Constant) else None for i in initials}
        if len(values) == 1 and None not in values:
            uniform[state.name] = float.fromhex(values.pop())
    return uniform


def _source_code(host: HostNetwork, source, xp: Numerics, capacities: Mapping[int, int]) -> tuple[_SourceCode, SourceArrays]:
    capacity = capacities.get(source.population, source.size)
    match source:
        case SpikeSchedule():
            code = _SourceCode(source.population, source.size, 0, None, source.most, capacity)
            return code, SourceArrays(None, {}, source.indptr, source.neurons)
        case PoissonDrive(rate=None):
            stream = random.stream_id(random.POISSON, host.network.populations[source.population].name, 0)
            return _SourceCode(source.population, source.size, stream, None, None, capacity), SourceArrays(
                source.probability, {}, None, np.arange(source.size, dtype=np.int64)
            )
        case PoissonDrive(rate=rate):
            table = {"dt": host.dt}
            compiled = compile_expr(lift_constants(rate, table), xp)
            stream = random.stream_id(random.POISSON, host.network.populations[source.population].name, 0)
            code = _SourceCode(source.population, source.size, stream, compiled, None, capacity)
            scalars = {name: np.float64(v) for name, v in table.items()}
            return code, SourceArrays(None, scalars, None, np.arange(source.size, dtype=np.int64))
    raise TypeError(f"not a spike source: {source!r}")


def nonfinite_error(host: HostNetwork, flags, n: int) -> SimulationError:
    """The SimulationError for step `n`, whose finite-value flags (per group) are not all true.

    Names the first population (network order) and state variable that went bad.
    """
    for population in host.network.populations:
        if population.name not in host.placement:
            continue  # a spike source has no variables
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
                    step=n,
                )
    raise AssertionError("nonfinite_error called with all flags true")
