"""What drives and what observes a network: stimuli, spike sources and records, in whole steps.

Every time is converted to whole steps here (`groups.steps`), once, so the
kernel only compares step numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brainsim import ir
from brainsim.network.groups import draw, steps

NEVER = 2**62  # "stop" step of a stimulus that never stops


@dataclass(frozen=True, eq=False)
class Schedule:
    """A stimulus in whole steps: adds `amplitude` (one value per neuron of the group,
    zero outside the stimulated population) to input `variable` in step n when
    start <= n < stop and (n - start) mod period < width."""

    group: int
    variable: str
    amplitude: np.ndarray
    start: int
    stop: int
    period: int
    width: int


def schedule(network: ir.Network, stimulus: ir.Stimulus, placement, group_sizes: list[int]) -> Schedule:
    population = network.population(stimulus.population)
    group, offset = placement[stimulus.population]
    amplitude = np.zeros(group_sizes[group])
    dt = network.simulation.dt
    match stimulus.waveform:
        case ir.ConstantCurrent(value):
            amplitude[offset : offset + population.size] = value
            start, stop, period, width = 0, NEVER, 1, 1
        case ir.PulseTrain(period=period_s, width=width_s, amplitude=value, start=start_s, stop=stop_s):
            amplitude[offset : offset + population.size] = value
            period, width, start = steps(period_s, dt), steps(width_s, dt), steps(start_s, dt)
            stop = NEVER if stop_s == float("inf") else steps(stop_s, dt)
        case waveform:
            raise TypeError(f"not a waveform: {waveform!r}")
    return Schedule(group, stimulus.variable, amplitude, start, stop, period, width)


# --------------------------------------------------------------------------- spike sources


@dataclass(frozen=True, eq=False)
class PoissonDrive:
    """A `PoissonSource` population (network index `population`): neuron i spikes in
    step n when the generator's uniform draw for (population, i, n) is below its
    probability: `probability[i]` (= rate * dt) or, when `rate` is an expression of
    `t`, rate(t_n) * dt for every neuron."""

    population: int
    size: int
    probability: np.ndarray | None
    rate: ir.Expr | None


@dataclass(frozen=True, eq=False)
class SpikeSchedule:
    """A `SpikeTimes` population: the neurons stamped t_m are neurons[indptr[m] : indptr[m + 1]],
    emitted in step m - 1; the last row is empty and stands for every later m.
    `most` is the largest number of spikes in one step."""

    population: int
    size: int
    indptr: np.ndarray
    neurons: np.ndarray
    most: int


def spike_source(network: ir.Network, i: int) -> PoissonDrive | SpikeSchedule:
    """The host form of spike-source population `i`."""
    population, dt = network.populations[i], network.simulation.dt
    match population.model:
        case ir.PoissonSource(rate=ir.Constant() | ir.Uniform() | ir.Values() as rates):
            per_neuron = draw(rates, population.size, [network.simulation.seed, 4, i])
            return PoissonDrive(i, population.size, per_neuron * dt, None)
        case ir.PoissonSource(rate=rate):
            return PoissonDrive(i, population.size, None, rate)
        case ir.SpikeTimes(indices, times):
            stamps = np.array([steps(t, dt) for t in times], dtype=np.int64)
            rows = int(stamps.max(initial=0)) + 2
            counts = np.bincount(stamps, minlength=rows)
            return SpikeSchedule(
                population=i,
                size=population.size,
                indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                neurons=np.asarray(indices, dtype=np.int64)[np.argsort(stamps, kind="stable")],
                most=max(1, int(counts.max(initial=0))),
            )
    raise TypeError(f"not a spike source: {population.model!r}")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, eq=False)
class Record:
    """Variable `variable` of the neurons `indices` (within the population), sampled after every step."""

    population: str
    variable: str
    group: int
    indices: np.ndarray
    group_indices: np.ndarray


def record(record: ir.StateRecord, placement) -> Record:
    indices = np.asarray(record.indices, dtype=np.int64)
    group, offset = placement[record.population]
    return Record(record.population, record.variable, group, indices, indices + offset)
