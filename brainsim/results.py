"""What a run produces (`Results`), its summary statistics, and the comparison of two runs.

Times are float64 seconds on the step grid: a spike detected in step n and a
sample of the state after step n are both stamped t_{n+1} = (n + 1) dt.
`compare_results` is what `brainsim check` reports: per population, whether
spikes and states are identical bit for bit, and where and by how much not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Sequence

import numpy as np

from brainsim.arguments import shown
from brainsim.errors import InvalidValueError
from brainsim.recorded import Populations, Records, Spikes, StateNames, Variables, unknown


class Part(NamedTuple):
    """One population's neurons in the `SpikeTrains` of a region: `offset` + i is its neuron i."""

    population: str
    offset: int
    size: int


@dataclass(frozen=True, eq=False)
class SpikeTrains:
    """The spikes of one population, ordered by time, then neuron index; or of a region
    (`results.spikes["Cortex"]`), its populations' spikes merged: then `population` is the
    region's name, `size` the sum of theirs, and `parts` says which indices are whose (the
    neurons of `parts[k].population` are `parts[k].offset` to `offset + size - 1`, in the
    region's population order); `parts` is empty for one population's trains."""

    population: str
    size: int
    times: np.ndarray  # float64, s
    indices: np.ndarray  # int64, neuron index within the population (or the region: `parts`)
    parts: tuple[Part, ...] = ()

    @classmethod
    def merged(cls, name: str, trains: Sequence["SpikeTrains"]) -> "SpikeTrains":
        """The trains of several populations as one, named `name`: indices offset population
        after population, spikes ordered by time, then index."""
        offsets = np.cumsum([0] + [t.size for t in trains])
        times = np.concatenate([np.zeros(0)] + [t.times for t in trains])
        indices = np.concatenate([np.zeros(0, dtype=np.int64)] + [t.indices + o for t, o in zip(trains, offsets)])
        order = np.lexsort((indices, times))
        parts = tuple(Part(t.population, int(o), t.size) for t, o in zip(trains, offsets))
        return cls(name, int(offsets[-1]), times[order], indices[order], parts)


@dataclass(frozen=True, eq=False)
class Trace:
    """`values[k, j]`: variable `variable` of neuron `indices[j]` at `times[k]`, in SI units:
    numbers of `unit` ("V", "A", "dimensionless": `brainsim.units.si_unit`)."""

    population: str
    variable: str
    indices: np.ndarray
    times: np.ndarray
    values: np.ndarray
    unit: str


@dataclass(frozen=True, eq=False)
class SynapseStates:
    """The synapses of one projection after the run, in projection order (by
    presynaptic, then postsynaptic neuron): `pre`, `post` (int64 indices within
    the source and target population), `states` (name -> float64 values;
    event-driven ones brought to the end time) and `units` (name -> the SI unit of
    its values, `brainsim.units.si_unit`; empty where not known, as in results read
    back from a file that does not keep them)."""

    projection: str
    pre: np.ndarray
    post: np.ndarray
    states: Mapping[str, np.ndarray]
    units: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "states", Variables(self.states, f"projection {self.projection}", "has"))


class SynapseTable(Mapping[str, SynapseStates]):
    """Projection name -> its `SynapseStates`, each built the first time it is read.

    A large static network holds many millions of synapses; building their index
    and state arrays for every run, wanted or not, would cost 24 bytes per synapse.
    """

    def __init__(self, builders: Mapping[str, Callable[[], SynapseStates]]):
        self._builders = dict(builders)
        self._built: dict[str, SynapseStates] = {}

    def __getitem__(self, projection: str) -> SynapseStates:
        if projection not in self:
            raise unknown(projection, list(self._builders), "projection", "synapses")
        if projection not in self._built:
            self._built[projection] = self._builders[projection]()
        return self._built[projection]

    def read_once(self, projection: str) -> SynapseStates:
        """`self[projection]`, but not kept where it was not built yet: for one pass over every
        projection (`compare_results`), which must not hold all of them at once (at 24 bytes per
        synapse and table, the full microcircuit's two tables would take 14 GB)."""
        return self._built[projection] if projection in self._built else self._builders[projection]()

    def __iter__(self):
        return iter(self._builders)

    def __contains__(self, projection) -> bool:
        try:
            return projection in self._builders
        except TypeError:  # unhashable
            return False

    def __len__(self) -> int:
        return len(self._builders)


@dataclass(frozen=True, eq=False)
class SynapseTrace:
    """`values[k, m]`: state `variable` of synapse `indices[m]` (projection order) of
    `projection` at `times[k]`: every step's end, or the snapshot times; numbers of `unit`."""

    projection: str
    variable: str
    indices: np.ndarray
    times: np.ndarray
    values: np.ndarray
    unit: str


@dataclass(frozen=True, slots=True)
class Statistics:
    """One row of `Results.statistics()`: a population or a whole region.

    `cv_isi` is the mean, over neurons with at least 3 spikes, of the standard
    deviation over the mean of their interspike intervals; nan where spikes were
    not recorded or no neuron fired 3 times.
    """

    name: str
    kind: str  # "population" or "region"
    neurons: int
    spikes: int
    rate: float  # mean rate per neuron, Hz; nan for a region without neurons or a run of no steps
    cv_isi: float


@dataclass(frozen=True, eq=False)
class Results:
    """Everything a run produced.

    `spike_counts` covers every population; `spikes` only those named in a spike
    record; `traces` is keyed by (population, variable); `final_state` holds every
    state variable of every population after the last step. `compile_seconds` and
    `run_seconds` time the backend's compilation and the simulation loop apart.
    `regions` maps each region to its populations at any depth. `synapses` holds
    every projection's final synapse states by projection name, `synapse_traces`
    the synapse records by (projection, variable). A run that continued an earlier
    one covers `start` to `start + duration` (s); spike and sample times count from t = 0.

    A region's name selects its populations in `spikes` (merged: `SpikeTrains.parts`) and
    `spike_counts` (concatenated). A key that a mapping does not hold raises
    `UnknownKeyError` (no such population, region, variable or projection: the message
    names those there are) or `NotRecordedError` (there is, but the run did not record
    it), both KeyErrors too (`brainsim.recorded`).
    """

    backend: str
    dt: float
    duration: float
    spikes: Mapping[str, SpikeTrains]
    spike_counts: Mapping[str, np.ndarray]
    traces: Mapping[tuple[str, str], Trace]
    final_state: Mapping[str, Mapping[str, np.ndarray]]
    regions: Mapping[str, tuple[str, ...]]
    compile_seconds: float
    run_seconds: float
    synapses: Mapping[str, SynapseStates] = field(default_factory=dict)
    synapse_traces: Mapping[tuple[str, str], SynapseTrace] = field(default_factory=dict)
    start: float = 0.0

    def __post_init__(self):
        # Each mapping explains a key it does not hold (`brainsim.recorded`); `replace` hands
        # them back in, and they are unwrapped and wrapped again.
        regions = {name: tuple(populations) for name, populations in self.regions.items()}
        counts = Populations(self.spike_counts, "spike counts", regions, concatenate=True)
        final = Populations({p: Variables(v, p) for p, v in self.final_state.items()}, "final states", regions)
        synapses = self.synapses if isinstance(self.synapses, SynapseTable) else _Synapses(self.synapses)
        wrapped = {
            "regions": _Regions(regions),
            "spike_counts": counts,
            "final_state": final,
            "spikes": Spikes(self.spikes, list(counts), regions),
            "traces": Records(self.traces, "traces", "population", final),
            "synapses": synapses,
            "synapse_traces": Records(self.synapse_traces, "synapse traces", "projection", StateNames(synapses)),
        }
        for name, value in wrapped.items():
            object.__setattr__(self, name, value)

    @property
    def n_steps(self) -> int:
        return round(self.duration / self.dt)

    @property
    def first_step(self) -> int:
        """The number of steps done before this run (0 for a run from t = 0)."""
        return round(self.start / self.dt)

    @classmethod
    def joined(cls, parts: Sequence["Results"]) -> "Results":
        """The results of consecutive runs (or chunks) of one simulation as one run's: spikes,
        samples and counts put together, the state and synapses at the end of the last."""
        if not parts or not all(isinstance(p, Results) for p in parts):
            raise InvalidValueError(f"Results.joined takes a list of one or more Results, not {shown(parts)}")
        if len(parts) == 1:
            return parts[0]
        first, last = parts[0], parts[-1]

        def spikes(name: str) -> SpikeTrains:
            trains = [p.spikes[name] for p in parts]
            return replace(trains[0], times=np.concatenate([t.times for t in trains]),
                           indices=np.concatenate([t.indices for t in trains]))

        def joined_trace(trace, key, traces_of):
            traces = [traces_of(p)[key] for p in parts]
            return replace(trace, times=np.concatenate([t.times for t in traces]),
                           values=np.concatenate([t.values for t in traces]))

        return replace(
            last,
            start=first.start,
            duration=sum(p.n_steps for p in parts) * first.dt,
            spikes={name: spikes(name) for name in first.spikes},
            spike_counts={name: sum(p.spike_counts[name] for p in parts) for name in first.spike_counts},
            traces={key: joined_trace(t, key, lambda p: p.traces) for key, t in first.traces.items()},
            synapse_traces={key: joined_trace(t, key, lambda p: p.synapse_traces)
                            for key, t in first.synapse_traces.items()},
            compile_seconds=sum(p.compile_seconds for p in parts),
            run_seconds=sum(p.run_seconds for p in parts),
        )

    def statistics(self) -> tuple[Statistics, ...]:
        """Rows for each population, then its region's total (over its populations at any
        depth), region by region; each population is listed once, before the first total
        that counts it."""
        rows = []
        listed = set()
        for region, populations in self.regions.items():
            rows += [self._row(p, "population", (p,)) for p in populations if p not in listed]
            rows.append(self._row(region, "region", populations))
            listed |= set(populations)
        rows += [self._row(p, "population", (p,)) for p in self.spike_counts if p not in listed]
        return tuple(rows)

    def _row(self, name: str, kind: str, populations: tuple[str, ...]) -> Statistics:
        neurons = sum(len(self.spike_counts[p]) for p in populations)
        spikes = sum(int(self.spike_counts[p].sum()) for p in populations)
        recorded = all(p in self.spikes for p in populations)
        cvs = np.concatenate([np.zeros(0)] + [_cv_isi(self.spikes[p]) for p in populations if recorded])
        return Statistics(
            name=name,
            kind=kind,
            neurons=neurons,
            spikes=spikes,
            rate=spikes / (neurons * self.duration) if neurons and self.duration else math.nan,
            cv_isi=float(cvs.mean()) if len(cvs) else math.nan,
        )

    def format_table(self) -> str:
        """The statistics as an aligned text table; a blank CV where it is not known."""
        return text_table(STATISTICS_HEADER, statistics_cells(self.statistics()), numeric_from=2)

    # Figures (brainsim.plotting, the `plot` extra): each draws on `ax` or a new pyplot
    # figure and returns the Axes; the options are those of the function it names.

    def plot_raster(self, populations: Sequence[str] | None = None, **options):
        """The recorded spikes, populations grouped by region: `brainsim.plotting.plot_raster`."""
        from brainsim.plotting import plot_raster

        return plot_raster(self, populations, **options)

    def plot_traces(self, population: str | None = None, variable: str | None = None, **options):
        """A recorded state variable over time: `brainsim.plotting.plot_traces`."""
        from brainsim.plotting import plot_traces

        return plot_traces(self, population, variable, **options)

    def plot_rates(self, populations: Sequence[str] | None = None, **options):
        """Population rates in bins of `bin_width` (s): `brainsim.plotting.plot_rates`."""
        from brainsim.plotting import plot_rates

        return plot_rates(self, populations, **options)

    def plot_isi(self, populations: Sequence[str] | None = None, **options):
        """Interspike interval distributions: `brainsim.plotting.plot_isi`."""
        from brainsim.plotting import plot_isi

        return plot_isi(self, populations, **options)

    def plot_weights(self, projection: str | None = None, **options):
        """A projection's weights (or another synapse state) after the run: `brainsim.plotting.plot_weights`."""
        from brainsim.plotting import plot_weights

        return plot_weights(self, projection, **options)

    def plot_weight_evolution(self, projection: str | None = None, **options):
        """A recorded synapse state over time: `brainsim.plotting.plot_weight_evolution`."""
        from brainsim.plotting import plot_weight_evolution

        return plot_weight_evolution(self, projection, **options)

    def _repr_html_(self) -> str:
        """Jupyter's view of a run: the statistics table and a small raster (`brainsim.notebook`)."""
        from brainsim.notebook import results_html

        return results_html(self)

    # Export (brainsim.export, imported when called: it imports this module, and its
    # formats' libraries are optional).

    def save(self, path: str | Path, format: str | None = None, description: str | None = None) -> Path:
        """Write these results to `path`, in the format of its extension (.npz, .nwb, .h5 for
        a SONATA spike file) or `format`; `description` says what was run. Returns the path.

        Raises:
            ExportError: nothing was written (the message says why); these results are intact.
        """
        from brainsim.export import save

        return save(self, path, format=format, description=description)

    def to_neo(self, description: str | None = None):
        """These spikes and traces as a `neo.Block` of one Segment, for Elephant (`brainsim.export.neo`).

        Raises:
            MissingExtraError: neo is not installed.
        """
        from brainsim.export import to_neo

        return to_neo(self, description)


class _Regions(Populations):
    """Region name -> its populations at any depth."""

    what, key_kind = "regions", "region"

    def __init__(self, regions: Mapping[str, tuple[str, ...]]):
        super().__init__(regions, "regions", {})

    def _missing(self, key):
        return unknown(key, list(self._items), "region", "regions")


class _Synapses(Populations):
    """Projection name -> `SynapseStates`, for results built with a plain dict of them."""

    def __init__(self, synapses: Mapping[str, SynapseStates]):
        super().__init__(synapses, "synapses", {})

    def _missing(self, key):
        return unknown(key, list(self._items), "projection", "synapses")


STATISTICS_HEADER = ("name", "kind", "neurons", "spikes", "rate (Hz)", "CV ISI")


def statistics_cells(rows: Sequence[Statistics]) -> list[tuple[str, ...]]:
    """The cells of the statistics table under `STATISTICS_HEADER`, as text; blank where not known."""
    return [
        (row.name, row.kind, str(row.neurons), str(row.spikes),
         "" if math.isnan(row.rate) else f"{row.rate:.2f}",
         "" if math.isnan(row.cv_isi) else f"{row.cv_isi:.3f}")
        for row in rows
    ]


def interspike_intervals(trains: SpikeTrains) -> tuple[np.ndarray, np.ndarray]:
    """Every interval between two consecutive spikes of one neuron (s), and that neuron's index."""
    order = np.lexsort((trains.times, trains.indices))
    neuron, times = trains.indices[order], trains.times[order]
    same = neuron[1:] == neuron[:-1]
    return np.diff(times)[same], neuron[1:][same]


def _cv_isi(trains: SpikeTrains) -> np.ndarray:
    """Per neuron with >= 3 spikes: std / mean of its interspike intervals."""
    intervals, owner = interspike_intervals(trains)
    counts = np.bincount(owner, minlength=trains.size)
    enough = counts >= 2
    mean = np.bincount(owner, weights=intervals, minlength=trains.size)[enough] / counts[enough]
    deviation = intervals - np.bincount(owner, weights=intervals, minlength=trains.size)[owner] / counts[owner]
    variance = np.bincount(owner, weights=deviation**2, minlength=trains.size)[enough] / counts[enough]
    return np.sqrt(variance) / mean


def text_table(header: tuple[str, ...], body: list[tuple[str, ...]], numeric_from: int) -> str:
    """Columns padded to their widest cell; text columns left-aligned, numbers right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *body)]

    def line(cells):
        return "  ".join(
            cell.rjust(w) if i >= numeric_from else cell.ljust(w) for i, (cell, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return "\n".join([line(header), line(tuple("-" * w for w in widths))] + [line(r) for r in body])


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True, slots=True)
class PopulationComparison:
    """How two runs differ for one population.

    Spikes are compared as recorded spike trains where both runs recorded them,
    else as per-neuron counts (then `first_spike_difference` stays None). State
    differences cover the population's recorded traces and its final state;
    `states_identical` compares them bit for bit.
    """

    population: str
    spikes_identical: bool
    first_spike_difference: int | None  # step
    states_identical: bool
    first_trace_difference: int | None  # step
    max_trace_difference: float
    max_final_difference: float

    @property
    def identical(self) -> bool:
        return self.spikes_identical and self.states_identical


@dataclass(frozen=True, slots=True)
class SynapseComparison:
    """How two runs differ for one projection's synapses: final states and synapse
    records (every step or snapshots), bit for bit."""

    projection: str
    identical: bool
    first_trace_difference: int | None  # row of a synapse record
    max_difference: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """The population-by-population (then projection-by-projection) comparison of run `a` with run `b`."""

    a: str
    b: str
    dt: float
    duration: float
    populations: tuple[PopulationComparison, ...]
    synapses: tuple[SynapseComparison, ...] = ()

    @property
    def identical(self) -> bool:
        return all(p.identical for p in self.populations) and all(s.identical for s in self.synapses)

    @property
    def first_difference(self) -> int | None:
        """The first step at which any recorded spike or trace differs, if known."""
        steps = [s for p in self.populations for s in (p.first_spike_difference, p.first_trace_difference) if s is not None]
        return min(steps, default=None)

    def format(self) -> str:
        """A verdict line, then one aligned row per population."""
        if self.identical:
            verdict = f"{self.a} vs {self.b}: identical (spikes, traces and final states, bit for bit)"
        else:
            first = self.first_difference
            where = "" if first is None else f"; first difference in step {first} (t = {(first + 1) * self.dt:.6g} s)"
            verdict = f"{self.a} vs {self.b}: DIFFERENT{where}"
        header = ("population", "spikes", "first spike diff", "states", "max |trace diff|", "max |final diff|")
        body = [
            (p.population,
             "identical" if p.spikes_identical else "differ",
             "" if p.first_spike_difference is None else f"step {p.first_spike_difference}",
             "identical" if p.states_identical else "differ",
             f"{p.max_trace_difference:.3g}",
             f"{p.max_final_difference:.3g}")
            for p in self.populations
        ]
        text = verdict + "\n" + text_table(header, body, numeric_from=4)
        if self.synapses:
            rows = [(s.projection, "identical" if s.identical else "differ",
                     "" if s.first_trace_difference is None else f"row {s.first_trace_difference}",
                     f"{s.max_difference:.3g}") for s in self.synapses]
            text += "\n" + text_table(("projection", "synapses", "first record diff", "max |diff|"), rows, numeric_from=3)
        return text


def compare_results(a: Results, b: Results) -> Comparison:
    """Compare two runs of the same network population by population.

    Raises InvalidValueError if they are not runs of the same network for the same time.
    """
    if not (isinstance(a, Results) and isinstance(b, Results)):
        raise InvalidValueError(f"compare_results compares two Results, not {shown(a)} and {shown(b)}")
    if (a.dt, a.n_steps, a.first_step, list(a.spike_counts)) != (b.dt, b.n_steps, b.first_step, list(b.spike_counts)):
        raise InvalidValueError("only runs of the same network, dt and steps can be compared")
    populations = []
    for name in a.spike_counts:
        if name in a.spikes and name in b.spikes:
            first_spike = _first_spike_difference(a.spikes[name], b.spikes[name], a.dt)
            spikes_identical = first_spike is None
        else:
            first_spike, spikes_identical = None, bool(np.array_equal(a.spike_counts[name], b.spike_counts[name]))
        trace_pairs = [(t.values, b.traces[key].values) for key, t in a.traces.items() if key[0] == name]
        final_pairs = [(value, b.final_state[name][v]) for v, value in a.final_state[name].items()]
        trace_steps = [s for x, y in trace_pairs if (s := _first_row_difference(x, y)) is not None]
        populations.append(PopulationComparison(
            population=name,
            spikes_identical=spikes_identical,
            first_spike_difference=first_spike,
            states_identical=all(_bitwise_equal(x, y) for x, y in trace_pairs + final_pairs),
            first_trace_difference=min(trace_steps, default=None),
            max_trace_difference=max((_max_difference(x, y) for x, y in trace_pairs), default=0.0),
            max_final_difference=max((_max_difference(x, y) for x, y in final_pairs), default=0.0),
        ))
    return Comparison(a.backend, b.backend, a.dt, a.duration, tuple(populations), _compare_synapses(a, b))


def _compare_synapses(a: Results, b: Results) -> tuple[SynapseComparison, ...]:
    """Per projection: its final synapse states and its synapse records, bit for bit."""
    if list(a.synapses) != list(b.synapses) or list(a.synapse_traces) != list(b.synapse_traces):
        raise InvalidValueError("only runs of the same network, dt and steps can be compared")
    out = []
    for name in a.synapses:
        states, other = (_read_once(r.synapses, name) for r in (a, b))
        finals = [(x, other.states[v]) for v, x in states.states.items()]
        records = [(t.values, b.synapse_traces[key].values) for key, t in a.synapse_traces.items() if key[0] == name]
        pairs = finals + records
        rows = [r for x, y in records if x.shape == y.shape and (r := _first_row_difference(x, y)) is not None]
        out.append(SynapseComparison(
            projection=name,
            identical=all(_bitwise_equal(x, y) for x, y in pairs)
            and np.array_equal(states.pre, other.pre) and np.array_equal(states.post, other.post),
            first_trace_difference=min(rows, default=None),
            max_difference=max((_max_difference(x, y) if np.shape(x) == np.shape(y) else math.inf for x, y in pairs),
                               default=0.0),
        ))
    return tuple(out)


def _read_once(synapses: Mapping[str, SynapseStates], projection: str) -> SynapseStates:
    """A projection's final states, not kept by a lazy table (`SynapseTable.read_once`)."""
    return synapses.read_once(projection) if isinstance(synapses, SynapseTable) else synapses[projection]


def _first_spike_difference(a: SpikeTrains, b: SpikeTrains, dt: float) -> int | None:
    steps_a, steps_b = np.rint(a.times / dt).astype(np.int64) - 1, np.rint(b.times / dt).astype(np.int64) - 1
    common = min(len(steps_a), len(steps_b))
    differs = (steps_a[:common] != steps_b[:common]) | (a.indices[:common] != b.indices[:common])
    if differs.any():
        i = int(np.argmax(differs))
        return int(min(steps_a[i], steps_b[i]))
    if len(steps_a) != len(steps_b):
        return int((steps_a if len(steps_a) > common else steps_b)[common])
    return None


def _bitwise_equal(x: np.ndarray, y: np.ndarray) -> bool:
    x, y = np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)
    return x.shape == y.shape and bool(np.array_equal(x.view(np.int64), y.view(np.int64)))


def _difference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|x - y|, with 0 where both are nan and inf where only one is."""
    with np.errstate(invalid="ignore"):
        difference = np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64))
    both_nan = np.isnan(x) & np.isnan(y)
    return np.where(both_nan, 0.0, np.where(np.isnan(difference), np.inf, difference))


def _max_difference(x: np.ndarray, y: np.ndarray) -> float:
    return float(_difference(x, y).max(initial=0.0))


def _first_row_difference(x: np.ndarray, y: np.ndarray) -> int | None:
    rows = ~np.all((x == y) | (np.isnan(x) & np.isnan(y)), axis=tuple(range(1, x.ndim)))
    return int(np.argmax(rows)) if rows.any() else None
