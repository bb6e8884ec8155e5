"""The seed's `BrainSimulation`: a network of seed neurons, built by id and stepped on brainsim's engine.

    >>> sim = BrainSimulation(dt_ms=0.1)
    >>> sim.create_simple_network(n_sensory=10, n_processing=20, n_output=5)
    >>> sim.stimulate_region("Retina", current=25.0)     # nA, during the next step
    >>> counts = sim.simulate_step(enable_learning=True)  # {region: spikes in this step}

Under the hood the network is a model: neurons are populations per region and
type (`wiring.Layout`), synapses are edge lists of std/seed.brain's Hebbian
synapses, and `model_text.write_model` writes them as a `.brain` file, which
brainsim lowers like any other. The first step (or injection) compiles it for
the chosen backend and `brainsim.backends.stepping.Stepper` advances it: each
`simulate_step` is one call of the backend's step over every neuron and
synapse at once; the step's injected currents go in as the input I_ext, and
`enable_learning` as the input of the learning switch (`LearningGate`). From
then on the network is fixed: neurons and synapses are added before the first
step. `to_brain(path)` writes the same model with everything injected so far as
stimuli; running it gives the same spikes and voltages, bit for bit.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brainsim import arguments
from brainsim.backends import BACKENDS
from brainsim.backends.stepping import Stepper
from brainsim.errors import BrainsimError, DelayRoundingWarning, InvalidValueError
from brainsim.simulation.action_potential import NeuronType
from brainsim.simulation.drive import Drive, check_current, nanoamperes_in_si
from brainsim.simulation.errors import SeedKeyError, SeedValueError, is_number, is_whole_number
from brainsim.simulation.model_text import GATE, write_model
from brainsim.simulation.neuron import check_dt
from brainsim.simulation.seed_values import seed_neuron_parameters, seed_synapse_parameters
from brainsim.simulation.synapse import WEIGHT_RANGE
from brainsim.simulation.views import NetworkNeuron, NetworkSynapse
from brainsim.simulation.wiring import Connections, Layout


@dataclass
class _Engine:
    """The compiled network and what stepping it has produced."""

    stepper: Stepper
    names: list[str]  # population names, layout order
    drive: Drive
    synapse_places: list[tuple[str, int]]  # per synapse (made order): (projection, position in it)
    counts: list[np.ndarray]  # spikes per neuron, per population
    fired: list[list[tuple[int, np.ndarray]]]  # per population: (step, indices) of each step with spikes
    voltages: list[list[np.ndarray]]  # per population: v after each step (V), if recorded
    learning: list[tuple[int, bool]]  # the steps where learning was switched, and to what


class BrainSimulation:
    """Neurons by id in regions, synapses between them, advanced `dt_ms` per step on `backend`."""

    def __init__(self, dt_ms: float = 0.1, backend: str = "numpy", record_voltages: bool = True):
        self.dt_ms = check_dt(dt_ms)
        if backend not in BACKENDS:
            raise SeedValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.backend = backend
        self.record_voltages = bool(record_voltages)
        self.neurons: dict[int, NetworkNeuron] = {}
        self._layout = Layout()
        self._connections = Connections()
        self._synapses: list[NetworkSynapse] = []
        self._engine: _Engine | None = None
        self._cache: dict = {}  # (what, population or projection) -> (steps done, value), rebuilt after a step

    # -- building ------------------------------------------------------------------------
    @property
    def neuron_groups(self) -> dict[str, list[int]]:
        """Region -> the ids of its neurons, in the order added."""
        return self._layout.regions

    @property
    def synapses(self) -> list[NetworkSynapse]:
        """The synapses, in the order made (`pre_id`, `post_id`, `weight` in nA, `delay_ms`)."""
        return list(self._synapses)

    @property
    def current_time_ms(self) -> float:
        """The time simulated so far (ms)."""
        return self._steps_done() * self.dt_ms

    def add_neuron(self, neuron_id: int, neuron_type: NeuronType = NeuronType.EXCITATORY, region: str = "default") -> int:
        """Add a seed neuron (std/seed.brain's SeedNeuron) with a new id to `region`; returns the id.

        Raises:
            SeedValueError: the id is taken or not a whole number >= 0, the type is not a
                NeuronType, the region is not a name, or the simulation has started.
        """
        self._check_building("add a neuron")
        self._layout.add(neuron_id, neuron_type, region)
        self.neurons[int(neuron_id)] = NetworkNeuron(self, int(neuron_id), neuron_type, region)
        return int(neuron_id)

    def connect_neurons(self, pre_id: int, post_id: int, weight: float = 2.0, delay_ms: float = 1.0) -> None:
        """A synapse from `pre_id` to `post_id`: each spike adds `weight` nA (in [0, 10]) to the
        target's synaptic current `delay_ms` later (whole steps, at least one), and learns by
        the seed's Hebbian rule in the steps that learn.

        The neurons may be added later (the seed's own example connects 0 -> 1 before it
        creates neuron 1): the ids are checked when the network is compiled, at the first
        step or injection.

        Raises:
            SeedValueError: an id that is not a whole number, a weight outside [0, 10], a
                delay under one step, or the simulation has started.
        """
        self._check_building("connect neurons")
        for name, neuron_id in (("pre_id", pre_id), ("post_id", post_id)):
            if not is_whole_number(neuron_id):
                raise SeedValueError(f"{name} must be a neuron id (a whole number), but it is {neuron_id!r}")
        low, high = WEIGHT_RANGE
        if not is_number(weight) or not low <= weight <= high:
            raise SeedValueError(f"a weight is a number of nA in [{low:g}, {high:g}], but it is {weight!r}")
        steps = self._delay_steps(delay_ms)
        self._connections.add(int(pre_id), int(post_id), float(weight), steps)
        eta = seed_synapse_parameters("GatedHebbian")["eta"]
        self._synapses.append(NetworkSynapse(self, len(self._synapses), int(pre_id), int(post_id), steps * self.dt_ms, eta))

    def create_simple_network(self, n_sensory: int = 10, n_processing: int = 20, n_output: int = 5) -> None:
        """The seed's three layers: `Retina` (n_sensory excitatory neurons), `V1` (n_processing:
        four in five excitatory, the rest inhibitory) and `Visual_Association` (n_output
        excitatory), with ids after the last one taken, and random synapses drawn from numpy's
        global generator (so `np.random.seed` fixes them, as in the seed):

        * Retina -> V1: each pair with probability 0.3, weight uniform in [0.8, 1.2] nA;
        * V1's excitatory -> Visual_Association: probability 0.3, weight uniform in [0.6, 1] nA;
        * V1's inhibitory -> V1's excitatory: probability 0.5, weight uniform in [2, 4] nA;

        each with a delay of 1 to 3 ms (whole steps, uniform).
        """
        for name, n in (("n_sensory", n_sensory), ("n_processing", n_processing), ("n_output", n_output)):
            if not is_whole_number(n) or n < 1:
                raise SeedValueError(f"{name} must be a whole number >= 1, but it is {n!r}")
        self._check_building("create a network")
        first = self._layout.next_id()
        n_inhibitory = n_processing // 5
        kinds = ([("Retina", NeuronType.EXCITATORY)] * n_sensory
                 + [("V1", NeuronType.EXCITATORY)] * (n_processing - n_inhibitory)
                 + [("V1", NeuronType.INHIBITORY)] * n_inhibitory
                 + [("Visual_Association", NeuronType.EXCITATORY)] * n_output)
        ids = {}
        for k, (region, kind) in enumerate(kinds):
            ids.setdefault((region, kind), []).append(self.add_neuron(first + k, kind, region))
        retina = ids[("Retina", NeuronType.EXCITATORY)]
        v1_exc, v1_inh = ids[("V1", NeuronType.EXCITATORY)], ids.get(("V1", NeuronType.INHIBITORY), [])
        output = ids[("Visual_Association", NeuronType.EXCITATORY)]
        for sources, targets, p, weights in ((retina, v1_exc + v1_inh, 0.3, (0.8,1.2)),
                                             (v1_exc, output, 0.3, (0.6,1.0)),
                                             (v1_inh, v1_exc, 0.5, (2.0,4.0))):
            self._connect_randomly(sources, targets, p, weights)

    def _connect_randomly(self, sources: list[int], targets: list[int], p: float, weights: tuple[float, float]) -> None:
        chosen = np.random.random((len(sources), len(targets))) < p
        pre, post = np.nonzero(chosen)
        drawn = np.random.uniform(*weights, size=len(pre))
        delays = np.random.randint(round(1.0 / self.dt_ms), round(3.0 / self.dt_ms) + 1, size=len(pre))
        for i, j, w, d in zip(pre, post, drawn, delays):
            self.connect_neurons(sources[i], targets[j], float(w), float(d) * self.dt_ms)

    # -- driving and stepping ----------------------------------------------------------------
    def inject_current(self, neuron_id: int, current: float) -> None:
        """Add `current` nA to the external current I_ext of `neuron_id` during the next step."""
        current = check_current(current)
        population, index = self._layout.locate(neuron_id)
        self._compiled().drive.inject(population, index, current)

    def stimulate_region(self, region: str, current: float) -> None:
        """Add `current` nA to I_ext of every neuron of `region` during the next step."""
        current = check_current(current)
        for population in self._layout.region_populations(region):
            self._compiled().drive.inject(population, slice(None), current)

    def add_synaptic_input(self, neuron_id: int, current: float) -> None:
        """Add `current` nA to the synaptic current I_syn of `neuron_id` now (it then decays)."""
        current = check_current(current)
        population, index = self._layout.locate(neuron_id)
        engine = self._compiled()
        engine.stepper.add_to_state(engine.names[population], "I_syn", index, nanoamperes_in_si(current))

    def simulate_step(self, enable_learning: bool = True) -> dict[str, int]:
        """Advance one step (the step's injections as I_ext; learning as `enable_learning` says);
        returns the spikes of each region in this step.

        Raises:
            SimulationError: a value became nan or inf in this step, or an earlier one failed.
        """
        engine = self._compiled()
        stepper, n = engine.stepper, engine.stepper.n
        for p, values in engine.drive.take(n).items():
            stepper.set_input(engine.names[p], "I_ext", values)
        if self._synapses:
            learning = bool(enable_learning)
            if learning != (engine.learning[-1][1] if engine.learning else False):
                engine.learning.append((n, learning))
            stepper.set_input(GATE, "enabled", np.array([float(learning)]))
        spikes = stepper.step()
        per_region = dict.fromkeys(self._layout.regions, 0)
        for p, name in enumerate(engine.names):
            fired = spikes[name]
            if len(fired):
                engine.counts[p][fired] += 1
                engine.fired[p].append((n, fired))
                per_region[self._layout.populations[p].region] += len(fired)
            if self.record_voltages:
                engine.voltages[p].append(stepper.state(name, "v"))
        return per_region

    def run(self, duration_ms: float, enable_learning: bool = True, verbose: bool = False) -> dict:
        """Simulate `duration_ms` (whole steps) without injections; returns `get_statistics()`.
        `verbose` prints the spikes of each tenth of the run and the statistics at the end.
        `duration_ms` is a number of milliseconds, or a quantity with its unit as
        `brainsim.Simulation.run` takes it ("200 ms", "0.2 s", a pint Quantity)."""
        if not is_number(duration_ms):
            duration_ms = _milliseconds(duration_ms)
        if not is_number(duration_ms) or not (
                math.isfinite(duration_ms) and duration_ms > 0):
            raise SeedValueError(f"duration_ms must be a positive number of milliseconds, but it is {duration_ms!r}")
        n_steps = round(duration_ms / self.dt_ms)
        if n_steps < 1 or abs(n_steps * self.dt_ms - duration_ms) > 1e-9 * duration_ms:
            raise SeedValueError(f"duration_ms = {duration_ms!r} is not a whole number of steps of {self.dt_ms!r} ms")
        reports = {round(n_steps * k / 10) for k in range(1, 11)}
        window = dict.fromkeys(self._layout.regions, 0)
        for k in range(1, n_steps + 1):
            for region, count in self.simulate_step(enable_learning).items():
                window[region] += count
            if verbose and k in reports:
                parts = ", ".join(f"{region} {count}" for region, count in window.items())
                print(f"t = {self.current_time_ms:9.1f} ms: {sum(window.values())} spikes ({parts})")
                window = dict.fromkeys(window, 0)
        statistics = self.get_statistics()
        if verbose:
            print(f"{statistics['total_spikes']} spikes in {statistics['simulation_time_ms']:.1f} ms, "
                  f"{statistics['average_firing_rate_hz']:.2f} Hz on average")
        return statistics

    # -- reading -------------------------------------------------------------------------
    def get_statistics(self) -> dict:
        """Spikes and mean rates so far: `total_spikes`, `average_firing_rate_hz` (spikes per
        neuron per simulated second), `simulation_time_ms`, `num_neurons`, `num_synapses`, and
        per region (`regions`) its `num_neurons`, `total_spikes`, `average_firing_rate_hz`."""
        seconds = self.current_time_ms / 1000.0
        counts = [0] * len(self._layout.populations) if self._engine is None else [int(c.sum()) for c in self._engine.counts]

        def summary(spikes: int, neurons: int) -> dict:
            rate = spikes / neurons / seconds if neurons and seconds else 0.0
            return {"num_neurons": neurons, "total_spikes": spikes, "average_firing_rate_hz": rate}

        regions = {}
        for region, ids in self._layout.regions.items():
            spikes = sum(counts[p] for p in self._layout.region_populations(region))
            regions[region] = summary(spikes, len(ids))
        total = summary(sum(counts), len(self.neurons))
        return {"total_spikes": total["total_spikes"], "average_firing_rate_hz": total["average_firing_rate_hz"],
                "simulation_time_ms": self.current_time_ms, "num_neurons": len(self.neurons),
                "num_synapses": len(self._synapses), "regions": regions}

    def get_spike_times(self, neuron_id: int) -> list[float]:
        """The times of `neuron_id`'s spikes so far (ms, the end of each spike's step)."""
        population, index = self._layout.locate(neuron_id)
        steps, indices = self._spikes(population)
        return [float(s + 1) * self.dt_ms for s in steps[indices == index]]

    def get_neuron_voltage_trace(self, neuron_id: int) -> np.ndarray:
        """`neuron_id`'s membrane potential after each step so far (mV).

        Raises:
            SeedValueError: the simulation was made with record_voltages=False.
        """
        population, index = self._layout.locate(neuron_id)
        if not self.record_voltages:
            raise SeedValueError("this simulation does not record voltages (it was made with record_voltages=False)")
        return self._voltages(population)[:, index] * 1e3

    def voltage_mv(self, neuron_id: int) -> float:
        """`neuron_id`'s membrane potential now (mV)."""
        population, index = self._layout.locate(neuron_id)
        if self._engine is None:
            return seed_neuron_parameters()["E_L"] * 1e3
        return float(self._engine.stepper.state(self._engine.names[population], "v")[index]) * 1e3

    def synapse_weight_na(self, index: int) -> float:
        """The weight of synapse `index` (made order) now, in nA."""
        if self._engine is None:
            return self._connections.weights_na[index]
        projection, position = self._engine.synapse_places[index]
        weights = self._cached(("weights", projection), lambda: self._engine.stepper.synapse_state(projection, "w"))
        return float(f"{float(weights[position]) * 1e9:.15g}")

    def to_brain(self, path: str | Path) -> Path:
        """Write this network and everything injected into it so far as a `.brain` model at
        `path` (edge lists beside it, `<name>.<source>-<target>.npz`), for the time simulated
        so far, recording every spike and voltage; returns the path. Running it gives the
        spikes and voltages of this simulation, bit for bit.

        Raises:
            SeedValueError: nothing has been simulated yet.
            BrainsimError: the file cannot be written.
        """
        if self._steps_done() == 0:
            raise SeedValueError("nothing has been simulated yet: to_brain writes the steps simulated so far")
        engine, path = self._engine, Path(path)
        try:
            return write_model(path, self._layout, self._connections.by_projection(self._layout), self.dt_ms,
                               engine.stepper.n, engine.drive.stepped_currents(), engine.learning, records=True)
        except OSError as error:
            raise BrainsimError(f"cannot write {str(path)!r}: {error.strerror or error}") from None

    # -- inside ------------------------------------------------------------------------------
    def _steps_done(self) -> int:
        return 0 if self._engine is None else self._engine.stepper.n

    def _check_building(self, action: str) -> None:
        if self._engine is not None:
            raise SeedValueError(
                f"cannot {action}: the network is fixed once it has been stepped or driven; "
                "add every neuron and synapse before the first simulate_step, run or injection"
            )

    def _delay_steps(self, delay_ms) -> int:
        if not is_number(delay_ms) or not math.isfinite(delay_ms):
            raise SeedValueError(f"delay_ms must be a number of milliseconds, but it is {delay_ms!r}")
        steps = round(delay_ms / self.dt_ms)
        if steps < 1:
            raise SeedValueError(f"delay_ms must be at least one step ({self.dt_ms!r} ms), but it is {delay_ms!r}")
        if abs(steps * self.dt_ms - delay_ms) > 0.01 * delay_ms:
            warnings.warn(f"delay_ms = {delay_ms!r} is rounded to {steps} steps ({steps * self.dt_ms!r} ms)",
                          DelayRoundingWarning, stacklevel=3)
        return steps

    def _compiled(self) -> _Engine:
        """The engine, compiled now if this is the first step or injection."""
        if self._engine is not None:
            return self._engine
        if not self.neurons:
            raise SeedValueError("the simulation has no neurons: add_neuron or create_simple_network first")
        import brainsim

        for k, (pre_id, post_id) in enumerate(zip(self._connections.pre_ids, self._connections.post_ids)):
            for neuron_id in (pre_id, post_id):
                if neuron_id not in self.neurons:
                    raise SeedKeyError(f"synapse {k} (connect_neurons(pre_id={pre_id}, post_id={post_id})) names neuron "
                                       f"{neuron_id}, which was never added; {self._layout.known()}")
        projections = self._connections.by_projection(self._layout)
        with tempfile.TemporaryDirectory() as folder:
            path = write_model(Path(folder) / "network.brain", self._layout, projections, self.dt_ms, 1)
            network = brainsim.load(path).network
        populations = self._layout.populations
        names = [p.name for p in populations]
        places: list[tuple[str, int]] = [("", 0)] * len(self._connections)
        for projection, compiled in zip(projections, network.projections):
            for position, k in enumerate(projection.order):
                places[k] = (compiled.name, position)
        self._engine = _Engine(
            stepper=Stepper(network, self.backend),
            names=names,
            drive=Drive([len(p.ids) for p in populations]),
            synapse_places=places,
            counts=[np.zeros(len(p.ids), dtype=np.int64) for p in populations],
            fired=[[] for _ in populations],
            voltages=[[] for _ in populations],
            learning=[],
        )
        return self._engine

    def _spikes(self, population: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps, indices) of every spike of `population` so far."""
        def build():
            fired = self._engine.fired[population] if self._engine else []
            if not fired:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
            return (np.concatenate([np.full(len(i), s) for s, i in fired]), np.concatenate([i for _, i in fired]))
        return self._cached(("spikes", population), build)

    def _voltages(self, population: int) -> np.ndarray:
        """(steps so far, neurons) membrane potentials of `population` (V)."""
        def build():
            rows = self._engine.voltages[population] if self._engine else []
            return np.stack(rows) if rows else np.zeros((0, len(self._layout.populations[population].ids)))
        return self._cached(("voltages", population), build)

    def _cached(self, key, build):
        done = self._steps_done()
        if key not in self._cache or self._cache[key][0] != done:
            self._cache[key] = (done, build())
        return self._cache[key][1]


__all__ = ["BrainSimulation"]


def _milliseconds(duration: object) -> float:
    """A duration given with its unit (`brainsim.arguments.duration`), in ms; SeedValueError if it is none."""
    if not (isinstance(duration, str) or arguments.is_quantity(duration)):
        raise SeedValueError(f'duration_ms is a number of milliseconds or a time with its unit ("200 ms"), not '
                             f"{arguments.shown(duration)} ({type(duration).__name__})")
    try:
        return arguments.duration(duration, "duration_ms") * 1e3
    except InvalidValueError as error:
        raise SeedValueError(error.message, hint=error.hint) from None
