"""`Simulation`: a network compiled for one backend, and how a run becomes `Results`.

The backends share everything but the loop: `build` constructs the arrays on
the host, the kernel describes the step, and a backend only implements `_run`,
which returns a `Run` (spikes, traces, final carry, timings) that this module
turns into `Results`.
"""

from __future__ import annotations

import abc
import time
from functools import partial
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from brainsim import ir
from brainsim.backends.synapses import relax
from brainsim.integrators.relaxation import relaxations
from brainsim.network import HostNetwork, build, located
from brainsim.results import Results, SpikeTrains, SynapseStates, SynapseTable, SynapseTrace, Trace
from brainsim.validate import deep_expressions, validate


@dataclass(frozen=True, eq=False)
class Run:
    """What a backend's loop returns, as host numpy arrays.

    `spikes[p]` = (steps, indices) of recorded population p, ordered by step then
    index; `counts[p]` per neuron for every population; `traces[r]` has shape
    (n_steps, n_indices) for record r; `states[g]` is the final state of group g.
    `synapses[c]` is pathway c's final (states, last update or None), `snapshots`
    the same after each snapshot's number of steps, `synapse_traces` the
    every-step synapse records (host order, snapshots left out).
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    counts: dict[str, np.ndarray]
    traces: tuple[np.ndarray, ...]
    states: tuple[dict[str, np.ndarray], ...]
    compile_seconds: float
    run_seconds: float
    synapses: tuple = ()
    snapshots: dict = field(default_factory=dict)
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
    """A network ready to run on one backend; `run` simulates it from t = 0.

    `host` holds the arrays built from the seed (the same for every backend);
    `build_seconds` is the time that took. `dtype` ("float64" or "float32") is the
    float type the step computes in.
    """

    backend: str

    def __init__(self, network: ir.Network, dtype: str = "float64"):
        started = time.perf_counter()
        self.network = network
        self.dtype = dtype
        validate(network)
        self.host: HostNetwork = build(network)  # deep expressions: see compile_network
        self.build_seconds = time.perf_counter() - started

    def run(self, duration: float | None = None) -> Results:
        """Simulate `duration` seconds (default: the network's) from the initial state.

        Raises:
            InvalidValueError: the duration is not a positive whole number of steps.
            SimulationError: a state variable became nan or inf.
        """
        duration = self.network.simulation.duration if duration is None else duration
        n_steps = self.host.steps(duration)
        with deep_expressions():
            run = self._run(n_steps)
        return self._results(run, n_steps, duration)

    def snapshot_steps(self) -> frozenset[int]:
        """The numbers of steps after which synapse snapshots are taken."""
        return frozenset(int(k) for r in self.host.synapse_records if r.steps is not None for k in r.steps)

    @abc.abstractmethod
    def _run(self, n_steps: int) -> Run:
        """Simulate `n_steps` steps from the initial state."""

    @abc.abstractmethod
    def stepping(self) -> "SingleSteps":
        """The initial state and the step, to advance one step at a time (`brainsim.backends.stepping`)."""

    def _results(self, run: Run, n_steps: int, duration: float) -> Results:
        host, dt = self.host, self.host.dt
        sizes = {p.name: p.size for p in self.network.populations}
        spikes = {
            name: SpikeTrains(name, sizes[name], (steps + 1) * dt, indices)
            for name, (steps, indices) in run.spikes.items()
        }
        times = np.arange(1, n_steps + 1) * dt
        traces = {
            (record.population, record.variable): Trace(record.population, record.variable, record.indices, times, values)
            for record, values in zip(host.records, run.traces)
        }
        final_state = {name: {} for name in sizes}  # a spike source has no state
        for name in host.placement:
            g, offset = host.placement[name]
            final_state[name] = {v: values[offset : offset + sizes[name]].copy() for v, values in run.states[g].items()}
        synapses, synapse_traces = self._synapse_results(run, n_steps)
        return Results(
            backend=self.backend,
            dt=dt,
            duration=duration,
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

    def _synapse_results(self, run: Run, n_steps: int) -> tuple[dict, dict]:
        """Final synapse states of every projection, and the synapse records; event-driven
        values brought to their time with the step's own relaxation (computed here, on
        the host, with numpy, for every backend alike)."""
        from brainsim.backends.numpy_backend import NumpyNumerics, flush_subnormals

        host, dt, xp = self.host, self.host.dt, NumpyNumerics()
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

        def final(j: int) -> SynapseStates:
            connectivity = host.projections[j]
            projection = connectivity.projection
            c, positions = located(host.pathways, j)
            return SynapseStates(
                projection=projection.name,
                pre=np.repeat(np.arange(connectivity.source_size, dtype=np.int64), np.diff(connectivity.indptr)),
                post=(connectivity.post - connectivity.target_offset).astype(np.int64),
                states={s.name: value(c, s.name, run.synapses, positions, n_steps) for s in projection.synapse.states},
            )

        synapses = SynapseTable({c.projection.name: partial(final, j) for j, c in enumerate(host.projections)})
        traces, every_step = {}, iter(run.synapse_traces)
        for record in host.synapse_records:
            name = self.network.projections[record.projection].name
            if record.steps is None:
                times, values = np.arange(1, n_steps + 1) * dt, next(every_step)
            else:  # a run shorter than the model's duration takes the snapshots that fall within it
                steps = record.steps[record.steps <= n_steps]
                times = steps * dt
                values = np.stack([value(record.pathway, record.variable, run.snapshots[k], record.positions, k)
                                   for k in steps]) if len(steps) else np.zeros((0, len(record.indices)))
            traces[(name, record.variable)] = SynapseTrace(name, record.variable, record.indices, times, values)
        return synapses, traces
