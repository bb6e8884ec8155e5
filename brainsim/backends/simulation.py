"""`Simulation`: a network compiled for one backend, and how a run becomes `Results`.

The backends share everything but the loop: `build` constructs the arrays on
the host, the kernel describes the step, and a backend only implements `_run`,
which returns a `Run` (spikes, traces, final carry, timings) that this module
turns into `Results`.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass

import numpy as np

from brainsim import ir
from brainsim.network import HostNetwork, build
from brainsim.results import Results, SpikeTrains, Trace
from brainsim.validate import deep_expressions, validate


@dataclass(frozen=True, eq=False)
class Run:
    """What a backend's loop returns, as host numpy arrays.

    `spikes[p]` = (steps, indices) of recorded population p, ordered by step then
    index; `counts[p]` per neuron for every population; `traces[r]` has shape
    (n_steps, n_indices) for record r; `states[g]` is the final state of group g.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    counts: dict[str, np.ndarray]
    traces: tuple[np.ndarray, ...]
    states: tuple[dict[str, np.ndarray], ...]
    compile_seconds: float
    run_seconds: float


class Simulation(abc.ABC):
    """A network ready to run on one backend; `run` simulates it from t = 0.

    `host` holds the arrays built from the seed (the same for every backend);
    `build_seconds` is the time that took.
    """

    backend: str

    def __init__(self, network: ir.Network):
        started = time.perf_counter()
        self.network = network
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

    @abc.abstractmethod
    def _run(self, n_steps: int) -> Run:
        """Simulate `n_steps` steps from the initial state."""

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
        )
