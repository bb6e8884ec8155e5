"""`Simulation`: a network compiled for one backend, and how a run becomes `Results`.

The backends share everything but the loop: `build` constructs the arrays on
the host, the kernel describes the step, and a backend only implements
`_advance`, which runs a chunk of steps from a carry and returns the new carry
and a `Run` (spikes, traces, final state, timings) that this module turns into
`Results`. The simulation keeps the carry between runs, so runs continue.

A run keeps what it recorded when it cannot go on (docs/running.md, "When a run
stops early"): a step whose state went nan or inf raises `SimulationError` with the
`Results` of the steps before it (its chunk run again from its start to the step
before, from a copy the backend keeps: `_kept`), and Ctrl-C (`brainsim.interrupts`)
ends a chunk early and raises `Interrupted` with the steps done.
"""

from __future__ import annotations

import abc
import time
from functools import partial
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from brainsim import arguments, ir
from brainsim.backends.estimate import estimate
from brainsim.backends.memory import NetworkMemory, PathwayMemory, network_memory, recording_bytes, synapse_memory
from brainsim.backends.synapses import relax
from brainsim.errors import Interrupted, InvalidValueError, SimulationError
from brainsim.interrupts import deferred, requested
from brainsim.integrators.relaxation import relaxations
from brainsim.network import HostNetwork, build, located
from brainsim.progress import Progress, RunBar
from brainsim.resources import memory_limit, refuse_network, refuse_recordings, refuse_steps
from brainsim.results import Results, SpikeTrains, SynapseStates, SynapseTable, SynapseTrace, Trace
from brainsim.units import si_unit
from brainsim.validate import deep_expressions, validate


DEFAULT_CHUNK_STEPS = 10_000
OUTPUT_BYTES_PER_CHUNK = 64 * 2**20  # outputs a chunk may hold (recorded values, spike lists)


@dataclass(frozen=True, eq=False)
class Run:
    """What a backend's loop returns for a chunk of steps, as host numpy arrays of its own.

    `steps` is the number of steps it ran (fewer than asked where Ctrl-C ended it early).
    `spikes[p]` = (steps, indices) of recorded population p, ordered by step then
    index; `counts[p]` per neuron for every population; `traces[r]` has shape
    (samples, n_indices) for record r (`sampled_steps`); `states[g]` is the final
    state of group g. `synapses[c]` is pathway c's final (states, last update or
    None), `synapse_traces` the every-step synapse records (host order).
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    counts: dict[str, np.ndarray]
    traces: tuple[np.ndarray, ...]
    states: tuple[dict[str, np.ndarray], ...]
    compile_seconds: float
    run_seconds: float
    steps: int
    synapses: tuple = ()
    synapse_traces: tuple = ()


@dataclass(frozen=True, eq=False)
class SingleSteps:
    """A network advanced one step per call: `advance(carry, arrays, n)` returns the next
    carry and the step's `Outputs` (each population's spike indices already cut to their
    count, as host arrays); `carry` is the state at t = 0 (the caller's to keep) and
    `arrays` the runtime constants; `add(values, index, amount)` is `values[index] +=
    amount` for this backend's arrays, returned."""

    carry: Any
    arrays: Any
    advance: Callable
    add: Callable


class Simulation(abc.ABC):
    """A network ready to run on one backend; each `run` continues where the last ended.

    `host` holds the arrays built from the seed (the same for every backend);
    `build_seconds` is the time that took. `steps_done` counts the steps run since
    the start (or the last `reset`); a run is cut into chunks of at most
    `chunk_steps` steps (fewer where a chunk's outputs would pass
    `OUTPUT_BYTES_PER_CHUNK`), which `stream` hands out one by one. `dtype` ("float64"
    or "float32") is the float type the step computes in. `max_memory` (bytes, or a
    text such as "4GB"; None: the memory available) is what the network and a run's
    recordings may take: more is refused before it is built or run (`brainsim.resources`);
    `estimate` is the network's estimate it was checked with (`brainsim.backends.estimate`).
    `compiled_updates` says whether the step runs its compiled C loops
    (`brainsim.backends.fused`); where they were left to "auto" and cannot run,
    `plain_updates_reason` says why (else None).
    """

    backend: str
    compiled_updates: bool = False
    plain_updates_reason: str | None = None
    model = None  # the `brainsim.Model` this was compiled from (set by `Model.compile`), for `set`

    def __init__(self, network: ir.Network, dtype: str = "float64", chunk_steps: int | None = None,
                 max_memory: int | str | None = None):
        started = time.perf_counter()
        self.network = network
        self.dtype = dtype
        self.max_memory = max_memory
        validate(network)
        # Estimated before building: drawing the synapses is what runs out of memory first.
        self.estimate = estimate(network, dtype)
        self._refuse_network()
        self.host: HostNetwork = build(network)  # deep expressions: see compile_network
        self.build_seconds = time.perf_counter() - started
        self.chunk_steps = _chunk_steps(chunk_steps)
        self.steps_done = 0

    @property
    def time(self) -> float:
        """The simulated time reached, in seconds."""
        return self.steps_done * self.host.dt

    def reset(self) -> None:
        """Go back to t = 0 and the initial state."""
        self.steps_done = 0
        self._carry = self._initial_carry()

    def set(self, values: Mapping[str, object] | None = None, /, **named: object) -> None:
        """Give the model new values and go back to t = 0, as if the file had been written
        with them: `sim.set({"Cortex.exc.taum": "10 ms", "seed": 7})` (names and values:
        `brainsim.dsl.overrides`; keyword arguments for names that are Python names).

        The compiled program is kept: values are runtime inputs, so on jax the next run
        neither traces nor compiles again, unless a value changes the structure (a
        population's size, the number of synapses a random rule drew, a refractory period
        in steps): then it compiles the new structure.

        Raises:
            InvalidValueError: a simulation built from an IR network rather than model text.
            BrainsimError: a name the model does not have, or a value the file could not hold.
        """
        if values is not None and not isinstance(values, Mapping):
            self._model_with(values)  # the InvalidValueError for values that are not a dict
        self._rebuild(self._model_with({**(values or {}), **named}))

    def run_batch(self, batch: Sequence[Mapping[str, object]], duration: float | str | None = None,
                  progress: Progress = None) -> list[Results]:
        """Run the model once per set of values in `batch` (as `set` takes them), each from t = 0
        for `duration` (as `run` takes it; default: the model's): `sim.run_batch([{"Input.drive.rate": f"{r} Hz"}
        for r in rates])`. Each result equals a separate run of the model with those values,
        bit for bit. The jax backend runs them together in one compiled program (vmap); this
        simulation's own state and values are left as they were. `progress` as `run` takes it;
        the bar counts the simulated time of every member.

        Raises:
            InvalidValueError: an empty batch or one that is not a list of dicts, a duration that is
                not a time or not whole steps, or (jax) a set
                of values that changes the network's structure (a population's size, the number
                of synapses a random rule drew): such a set must run on its own.
            BrainsimError: a name the model does not have, or a value the file could not hold.
            Interrupted: Ctrl-C stopped the batch; its `results` are a list: on numpy the members
                done and the first steps of the one that was running, on jax the first steps of
                every member (all at the same step). `reached` is the time the last of them got to.
        """
        if isinstance(batch, (str, bytes, Mapping)) or not isinstance(batch, Sequence):
            raise InvalidValueError(f"run_batch takes a list of sets of values (dicts, as `set` takes them), "
                                    f"not {type(batch).__name__} {arguments.shown(batch)}",
                                    hint='e.g. sim.run_batch([{"seed": 1}, {"seed": 2}])')
        if not batch:
            raise InvalidValueError("run_batch takes at least one set of values")
        duration = self._duration(duration)
        models = [self._model_with(values) for values in batch]
        self._refuse_run(self.host.steps(duration), 0, len(models))
        with deferred(), RunBar(progress, len(models) * self.host.steps(duration), self.host.dt,
                                f"{len(models)} runs") as bar:
            return self._run_batch(models, duration, bar)

    def _run_batch(self, models: list, duration: float, bar: RunBar) -> list[Results]:
        """One simulation of each model after the other (a backend may run them together); after
        Ctrl-C, `Interrupted` with the members done and the steps the one running got to."""
        done = []
        for model in models:
            member = type(self)(model.network, dtype=self.dtype, chunk_steps=self.chunk_steps,
                                max_memory=self.max_memory)
            try:
                done.append(member._run(duration, bar))
            except Interrupted as stop:
                raise Interrupted([*done, stop.results], stop.reached, stop.end) from None
        return done

    def _duration(self, duration: object) -> float:
        """The duration of a run in seconds: the network's for None, else `brainsim.arguments.duration`."""
        return self.network.simulation.duration if duration is None else arguments.duration(duration)

    def _model_with(self, values: Mapping[str, object]):
        if not isinstance(values, Mapping):
            raise InvalidValueError(f"new values are a dict of name -> value, names as text, not {type(values).__name__} "
                                    f"{arguments.shown(values)}", hint='e.g. {"Cortex.exc.tau_m": "10 ms", "seed": 7}')
        if self.model is None:
            raise InvalidValueError("new values are applied to a simulation of a model read from text "
                                    "(brainsim.load or brainsim.loads, then .compile); this one was built "
                                    "from an IR network")
        return self.model.with_values(values)

    def _rebuild(self, model) -> None:
        """Become a simulation of `model` (the same structure, new values, as a rule), at t = 0."""
        started = time.perf_counter()
        self.estimate = estimate(model.network, self.dtype)
        self._refuse_network()
        with deep_expressions():
            self.host = build(model.network)
            self.network, self.model = model.network, model
            self._prepare()
        self.build_seconds = time.perf_counter() - started
        self.reset()

    def _refuse_network(self) -> None:
        """ResourceError, before anything is built, if the network of `estimate` would pass one
        of `_network_limits`."""
        for limit in self._network_limits():
            refuse_network(self.estimate, limit)

    def _network_limits(self) -> list:
        """The memory limits the network's arrays are held to: the host's (a backend whose arrays
        live elsewhere adds that memory's)."""
        return [memory_limit(self.max_memory)]

    @abc.abstractmethod
    def _prepare(self) -> None:
        """Build the step of `host` and the backend's arrays (at construction and after `set`)."""

    def run(self, duration: float | str | None = None, progress: Progress = None) -> Results:
        """Simulate `duration` (default: the network's) from where the last run ended (t = 0 at
        first): `run(a)` then `run(b)` gives the steps of `run(a + b)`, bit for bit. A duration
        is a number of seconds, a text such as "200 ms", or a pint Quantity, as the command
        line's --duration takes it (`brainsim.arguments.duration`).

        `progress` shows a bar of simulated time, wall time and speed relative to real time,
        advanced after each chunk (`brainsim.progress`): True (on standard error), False, None
        (on when standard error is a terminal), or a text stream to write it to.

        Raises:
            InvalidValueError: the duration is not a time, or not a positive whole number of
                steps, or `progress` is none of those.
            ResourceError: the run would take more than `brainsim.resources.MAX_STEPS` steps, or
                its recordings more memory than is available (or than `max_memory`); `stream`
                bounds them by a chunk.
            SimulationError: a state variable became nan or inf; its `results` hold the steps
                before that one, and the simulation stands after the last of them.
            Interrupted: Ctrl-C (SIGINT) stopped the run; its `results` hold the steps done,
                and the simulation stands after the last of them (a new `run` goes on from there).
        """
        duration = self._duration(duration)
        self._refuse_run(self.host.steps(duration, self.steps_done), self.steps_done)
        # The handler before the bar: a Ctrl-C as the bar is first drawn is a request too.
        with deferred(), RunBar(progress, self.host.steps(duration, self.steps_done), self.host.dt) as bar:
            return self._run(duration, bar)

    def _run(self, duration: float, bar: RunBar) -> Results:
        """`run`, advancing `bar` after each chunk."""
        n_steps = self.host.steps(duration, self.steps_done)
        parts, end = [], (self.steps_done + n_steps) * self.host.dt
        try:
            for part in self._stream(self.steps_done, n_steps, bar):
                parts.append(part)
        except SimulationError as fault:
            fault.results = Results.joined(parts)  # the last part: the steps before the fault
            raise
        if requested():
            raise Interrupted(Results.joined(parts), self.time, end)
        return replace(Results.joined(parts), duration=duration)

    def stream(self, duration: float | str | None = None) -> Iterator[Results]:
        """Simulate as `run` does, chunk by chunk: each chunk's `Results` (its spikes, samples,
        and the state at its end) as soon as it is done, so that a long run's recordings can
        be written out or reduced without holding them all (`brainsim.export.stream` writes
        them to a file). The duration and the step bound are checked before the first step.

        A step whose state goes nan or inf ends the stream: the chunk of the steps before it
        comes first (possibly of no steps), then the `SimulationError`. Inside
        `brainsim.interrupts.deferred`, Ctrl-C ends the stream after a chunk cut short."""
        duration = self._duration(duration)
        n_steps = self.host.steps(duration, self.steps_done)
        refuse_steps(n_steps, self.host.dt, self.steps_done)
        return self._stream(self.steps_done, n_steps)

    def _refuse_run(self, n_steps: int, done: int, runs: int = 1) -> None:
        """ResourceError, before the first step, for a run of `n_steps` steps after `done` (`runs`
        of them held together, for a batch) that passes `MAX_STEPS` or `MAX_TOTAL_STEPS`, or
        whose recordings would not fit."""
        refuse_steps(n_steps, self.host.dt, done)
        joined = 2 if n_steps > self._chunk_length() else 1  # the chunks, and the run they are joined into
        recordings = runs * joined * recording_bytes(self.host, n_steps, self.dtype)
        refuse_recordings(n_steps, recordings, memory_limit(self.max_memory), self.estimate.network)

    def _stream(self, first: int, n_steps: int, bar: RunBar | None = None) -> Iterator[Results]:
        snapshot_steps = self.snapshot_steps()
        snapshots = {0: self._synapse_arrays(self._carry)} if first == 0 and 0 in snapshot_steps else {}
        for start, length in chunks(first, n_steps, self._chunk_length(), snapshot_steps):
            kept = self._kept(self._carry)
            fault = None
            with deep_expressions():
                try:
                    carry, run = self._advance(self._carry, start, length)
                except SimulationError as error:
                    # Back to the chunk's start, and on to the step before the bad one: the
                    # steps that went well, and the state after them, as a shorter chunk.
                    fault = error
                    carry, run = self._advance(kept, start, error.step - start, interruptible=False)
            del kept
            self._carry, self.steps_done = carry, start + run.steps
            if run.steps and self.steps_done in snapshot_steps:  # (a chunk cut short ends at none)
                snapshots[self.steps_done] = self._synapse_arrays(carry)
            if bar is not None:
                bar.advance(run.steps)
            yield self._results(run, start, run.steps, snapshots)
            snapshots = {}
            if fault is not None:
                raise fault
            if requested():
                return

    def snapshot_steps(self) -> frozenset[int]:
        """The numbers of steps after which synapse snapshots are taken."""
        return frozenset(int(k) for r in self.host.synapse_records if r.steps is not None for k in r.steps)

    def _chunk_length(self) -> int:
        """Steps per chunk: `chunk_steps`, or fewer if the outputs of so many would pass
        `OUTPUT_BYTES_PER_CHUNK`."""
        return min(self.chunk_steps, max(1, OUTPUT_BYTES_PER_CHUNK // self._bytes_per_step()))

    def _bytes_per_step(self) -> int:
        """The bytes of outputs one step adds (recorded values; a backend adds its spike lists)."""
        synapses = sum(len(r.indices) for r in self.host.synapse_records if r.steps is None)
        return 8 * (sum(-(-len(r.indices) // r.every) for r in self.host.records) + synapses) + 8

    @abc.abstractmethod
    def _initial_carry(self):
        """A fresh copy of the state at t = 0, in this backend's arrays."""

    @abc.abstractmethod
    def _advance(self, carry, start: int, n_steps: int, interruptible: bool = True) -> tuple[Any, Run]:
        """Simulate steps start .. start + n_steps - 1 from `carry`: the carry after them
        (the old one may have been changed in place) and what they produced; fewer steps
        (`Run.steps`) where Ctrl-C asked to stop (`brainsim.interrupts.requested`) and
        `interruptible`.

        Raises:
            SimulationError: a state went nan or inf in step `step`.
        """

    def _kept(self, carry):
        """What `carry` is after `_advance` has run from it: itself, for a backend that never
        changes a carry (a fault's chunk is run again from it)."""
        return carry

    @abc.abstractmethod
    def _synapse_arrays(self, carry) -> tuple:
        """Each pathway's (synapse states, last updates) in `carry`, as host arrays of its own."""

    def synapse_memory(self) -> tuple[PathwayMemory, ...]:
        """Bytes each pathway's synapses occupy in the arrays this backend holds (`brainsim.backends.memory`)."""
        arrays, carry = self._held()
        return synapse_memory(self.host, arrays, carry)

    def memory(self) -> NetworkMemory:
        """Bytes of every array this backend holds, by kind (`brainsim.backends.memory`)."""
        return network_memory(self.host, *self._held())

    @abc.abstractmethod
    def _held(self) -> tuple:
        """(The kernel's arrays, the initial carry), as this backend holds them."""

    @abc.abstractmethod
    def stepping(self) -> "SingleSteps":
        """The initial state and the step, to advance one step at a time (`brainsim.backends.stepping`)."""

    def _results(self, run: Run, start: int, n_steps: int, snapshots: dict, host: HostNetwork | None = None) -> Results:
        """The `Results` of steps start .. start + n_steps - 1 (`snapshots`: those taken in them)
        of `host` (default: this simulation's; a batch member's has its own values)."""
        host = host or self.host
        dt = host.dt
        sizes = {p.name: p.size for p in self.network.populations}
        spikes = {
            name: SpikeTrains(name, sizes[name], (steps + 1) * dt, indices)
            for name, (steps, indices) in run.spikes.items()
        }
        traces = {}
        for record, values in zip(host.records, run.traces):
            steps = sampled_steps(start, n_steps, record.every)
            model = self.network.population(record.population).model
            traces[(record.population, record.variable)] = Trace(
                record.population, record.variable, record.indices, steps * dt, values,
                unit=_unit(record.variable, (*model.states, *model.inputs)))
        final_state = {name: {} for name in sizes}  # a spike source has no state
        for name in host.placement:
            g, offset = host.placement[name]
            final_state[name] = {v: values[offset : offset + sizes[name]].copy() for v, values in run.states[g].items()}
        synapses, synapse_traces = self._synapse_results(run, start, n_steps, snapshots, host)
        return Results(
            backend=self.backend,
            dt=dt,
            duration=n_steps * dt,
            start=start * dt,
            spikes=spikes,
            spike_counts=run.counts,
            traces=traces,
            final_state=final_state,
            regions={region.name: self.network.within(region.name) for region in self.network.regions},
            compile_seconds=run.compile_seconds,
            run_seconds=run.run_seconds,
            synapses=synapses,
            synapse_traces=synapse_traces,
        )

    def _synapse_results(self, run: Run, start: int, n_steps: int, snapshots: dict,
                         host: HostNetwork) -> tuple[dict, dict]:
        """Final synapse states of every projection, and the synapse records; event-driven
        values brought to their time with the step's own relaxation (computed here, on
        the host, with numpy, for every backend alike)."""
        from brainsim.backends.numpy_backend import NumpyNumerics, flush_subnormals

        dt, xp = host.dt, NumpyNumerics()
        end = start + n_steps
        laws = {c: {r.variable: r for r in relaxations(p.synapse, dt)} for c, p in enumerate(host.pathways) if p.event_driven}

        def value(c, name, saved, positions, steps):
            states, last = saved[c]
            names = [s.name for s in host.pathways[c].synapse.states]
            x = states[names.index(name)][positions]
            if name not in laws.get(c, {}):
                return np.array(x, dtype=np.float64)
            law = laws[c][name]
            with np.errstate(all="ignore"), flush_subnormals():
                return relax(x, last[positions], steps - 1, np.float64(law.tau), np.float64(law.rest), np.float64(dt), xp)

        final_states = run.synapses

        def final(j: int) -> SynapseStates:
            connectivity = host.projections[j]
            projection = connectivity.projection
            c, positions = located(host.pathways, j)
            return SynapseStates(
                projection=projection.name,
                pre=np.repeat(np.arange(connectivity.source_size, dtype=np.int64), np.diff(connectivity.indptr)),
                post=(connectivity.post - connectivity.target_offset).astype(np.int64),
                states={s.name: value(c, s.name, final_states, positions, end) for s in projection.synapse.states},
                units={s.name: si_unit(s.dimension) for s in projection.synapse.states},
            )

        # `final` reads only the final synapse states, so that a table kept after its chunk (a
        # streamed run's summary) keeps nothing of the chunk's recordings alive.
        synapses = SynapseTable({c.projection.name: partial(final, j) for j, c in enumerate(host.projections)})
        traces, every_step = {}, iter(run.synapse_traces)
        for record in host.synapse_records:
            name = self.network.projections[record.projection].name
            if record.steps is None:
                times, values = np.arange(start + 1, end + 1) * dt, next(every_step)
            else:  # the snapshots that fall within these steps (step 0's with the first)
                steps = np.array(sorted(k for k in snapshots if k in set(record.steps.tolist())), dtype=np.int64)
                times = steps * dt
                values = np.stack([value(record.pathway, record.variable, snapshots[k], record.positions, k)
                                   for k in steps]) if len(steps) else np.zeros((0, len(record.indices)))
            unit = _unit(record.variable, self.network.projections[record.projection].synapse.states)
            traces[(name, record.variable)] = SynapseTrace(name, record.variable, record.indices, times, values, unit)
        return synapses, traces


def _unit(variable: str, declared: Sequence[ir.StateVariable | ir.Input]) -> str:
    """The SI unit of a recorded variable, from its declaration (`brainsim.units.si_unit`)."""
    return next(si_unit(d.dimension) for d in declared if d.name == variable)


def sampled_steps(start: int, n_steps: int, every: int) -> np.ndarray:
    """The numbers of steps done after which a record with interval `every` (steps) samples,
    among steps start .. start + n_steps - 1: the multiples of `every`."""
    first = -(-(start + 1) // every) * every
    return np.arange(first, start + n_steps + 1, every, dtype=np.int64)


def _chunk_steps(chunk_steps: int | None) -> int:
    return DEFAULT_CHUNK_STEPS if chunk_steps is None else arguments.count(chunk_steps, "chunk_steps", " of steps")


def chunks(first: int, n_steps: int, chunk: int, stops: frozenset[int]):
    """(start, length) of the chunks of steps first .. first + n_steps - 1: at most `chunk`
    steps each, ending at every step in `stops`."""
    start, last = first, first + n_steps
    while start < last:
        end = min(last, start + chunk, *(k for k in stops if start < k))
        yield start, end - start
        start = end
