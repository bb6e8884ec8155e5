"""How far a run in float32 is from the float64 reference: what `brainsim check --dtype float32` reports.

Between backends the promise is bit-identity in float64 (`brainsim.results.compare_results`).
float32 rounds every operation at 2**-24 instead of 2**-53, so a neuron whose
membrane lands within that of its threshold fires a step earlier or later, and
in a recurrent network one moved spike moves others (chaos). So float32 is
measured, not judged: per population, the fraction of spikes that both runs
have (same step, same neuron), the first step at which the spike trains differ,
and the largest difference of the recorded traces and of the final state, also
relative to the reference's largest magnitude of that variable; per projection
the same for its synapse states and records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainsim.errors import InvalidValueError
from brainsim.results import Results, SpikeTrains, _first_spike_difference, text_table


@dataclass(frozen=True, slots=True)
class StateDifference:
    """The largest |x - reference| over some arrays, and the largest of those differences
    relative to max |reference| of its own array (0 where the reference is all zero)."""

    absolute: float
    relative: float

    @staticmethod
    def of(pairs: list[tuple[np.ndarray, np.ndarray]]) -> "StateDifference":
        """Over (x, reference) pairs of equal shape; nan or inf on one side only counts as inf."""
        absolute = relative = 0.0
        for x, reference in pairs:
            x, reference = np.asarray(x, dtype=np.float64), np.asarray(reference, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                difference = np.abs(x - reference)
            difference = np.where(np.isnan(x) & np.isnan(reference), 0.0, np.nan_to_num(difference, nan=np.inf))
            largest = float(difference.max(initial=0.0))
            scale = float(np.abs(reference[np.isfinite(reference)]).max(initial=0.0))
            absolute = max(absolute, largest)
            relative = max(relative, largest / scale if scale else (0.0 if largest == 0.0 else np.inf))
        return StateDifference(absolute, relative)


@dataclass(frozen=True, slots=True)
class PopulationAgreement:
    """How one population of a run agrees with the reference run.

    `spikes` and `reference_spikes` count the spikes of each run, `matching` those
    in both (same step, same neuron). Populations whose spikes were not recorded
    are compared by per-neuron counts (`matching` = sum of the smaller count per
    neuron; `first_spike_difference` then stays None).
    """

    population: str
    spikes: int
    reference_spikes: int
    matching: int
    first_spike_difference: int | None  # step
    traces: StateDifference
    final: StateDifference

    @property
    def spikes_identical(self) -> bool:
        return self.matching == self.spikes == self.reference_spikes

    @property
    def agreement(self) -> float:
        """matching / the larger spike count of the two runs; 1 when neither spiked."""
        most = max(self.spikes, self.reference_spikes)
        return self.matching / most if most else 1.0


@dataclass(frozen=True, slots=True)
class ProjectionAgreement:
    """How one projection's synapse states (final values and synapse records) agree with the reference."""

    projection: str
    difference: StateDifference


@dataclass(frozen=True, slots=True)
class Agreement:
    """The population-by-population agreement of run `a` (e.g. "float32") with the reference `b`."""

    a: str
    b: str
    dt: float
    duration: float
    populations: tuple[PopulationAgreement, ...]
    projections: tuple[ProjectionAgreement, ...] = ()

    @property
    def first_spike_difference(self) -> int | None:
        """The first step at which any recorded spike train differs from the reference's."""
        return min((p.first_spike_difference for p in self.populations if p.first_spike_difference is not None), default=None)

    def format(self) -> str:
        """A verdict line, then one aligned row per population (and per projection)."""
        first = self.first_spike_difference
        if all(p.spikes_identical for p in self.populations):
            verdict = f"{self.a} vs {self.b}: the same spikes in every population"
        else:
            where = "" if first is None else f"; first difference in step {first} (t = {(first + 1) * self.dt:.6g} s)"
            verdict = f"{self.a} vs {self.b}: spikes differ{where}"
        header = ("population", "spikes", "reference", "matching", "first spike diff",
                  "max |trace diff|", "relative", "max |final diff|", "relative")
        body = [
            (p.population, str(p.spikes), str(p.reference_spikes),
             "identical" if p.spikes_identical else f"{100 * p.agreement:.2f}%",
             "" if p.first_spike_difference is None else f"step {p.first_spike_difference}",
             f"{p.traces.absolute:.3g}", f"{p.traces.relative:.3g}", f"{p.final.absolute:.3g}", f"{p.final.relative:.3g}")
            for p in self.populations
        ]
        text = verdict + "\n" + text_table(header, body, numeric_from=1)
        if self.projections:
            rows = [(s.projection, f"{s.difference.absolute:.3g}", f"{s.difference.relative:.3g}") for s in self.projections]
            text += "\n" + text_table(("projection", "max |synapse diff|", "relative"), rows, numeric_from=1)
        return text


def compare_precision(run: Results, reference: Results, a: str = "float32", b: str = "float64") -> Agreement:
    """How `run` agrees with `reference`, a run of the same network for the same time
    (in float64), population by population and projection by projection.

    Raises:
        InvalidValueError: the runs are not of the same network, dt and duration.
    """
    if (run.dt, run.duration, list(run.spike_counts), list(run.synapses)) != (
        reference.dt, reference.duration, list(reference.spike_counts), list(reference.synapses)
    ):
        raise InvalidValueError("only runs of the same network, dt and duration can be compared")
    populations = []
    for name, counts in run.spike_counts.items():
        reference_counts = reference.spike_counts[name]
        if name in run.spikes and name in reference.spikes:
            matching = _matching_spikes(run.spikes[name], reference.spikes[name], run.dt)
            first = _first_spike_difference(run.spikes[name], reference.spikes[name], run.dt)
        else:
            matching, first = int(np.minimum(counts, reference_counts).sum()), None
        populations.append(PopulationAgreement(
            population=name,
            spikes=int(counts.sum()),
            reference_spikes=int(reference_counts.sum()),
            matching=matching,
            first_spike_difference=first,
            traces=StateDifference.of([(t.values, reference.traces[key].values)
                                       for key, t in run.traces.items() if key[0] == name]),
            final=StateDifference.of([(x, reference.final_state[name][v]) for v, x in run.final_state[name].items()]),
        ))
    projections = tuple(
        ProjectionAgreement(name, StateDifference.of(
            [(x, reference.synapses[name].states[v]) for v, x in states.states.items()]
            + [(t.values, reference.synapse_traces[key].values) for key, t in run.synapse_traces.items() if key[0] == name]
        ))
        for name, states in run.synapses.items()
    )
    return Agreement(a, b, run.dt, run.duration, tuple(populations), projections)


def _matching_spikes(a: SpikeTrains, b: SpikeTrains, dt: float) -> int:
    """The number of (step, neuron) pairs in both trains (a neuron fires at most once a step)."""
    def keys(trains: SpikeTrains) -> np.ndarray:
        return (np.rint(trains.times / dt).astype(np.int64) - 1) * trains.size + trains.indices

    return len(np.intersect1d(keys(a), keys(b), assume_unique=True))
