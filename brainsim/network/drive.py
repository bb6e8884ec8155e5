"""What drives and what observes a network: stimuli, spike sources and records, in whole steps.

Every time is converted to whole steps here (`groups.steps`), once, so the
kernel only compares step numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from brainsim import ir
from brainsim.errors import SourceSpan
from brainsim.network.groups import steps
from brainsim.network.keys import RATES, host_key
from brainsim.network.values import draw

NEVER = 2**62  # "stop" step of a stimulus that never stops
_NEAR = 1e-9  # a file's sample this close to a step's start (in steps) is at it


@dataclass(frozen=True, eq=False)
class Schedule:
    """A deterministic stimulus in whole steps. In step n it adds to input `variable`
    of the group's neurons

        where(active(n), amplitude, 0.0)                      without `levels`
        where(active(n), amplitude * levels[min(n, L - 1)], 0.0)   with them

    active(n) = start <= n < stop and (n - start) mod period < width. `amplitude`
    has one value per neuron of the group, zero outside the stimulated neurons (the
population's, or the `ir.Stimulus.indices` of it).

    A constant and a pulse train have no `levels` (their bits are the written
    amplitude's). Every other waveform is a table `levels` of L values, one per
    step, computed on the host in numpy (so identical for every backend by
    construction), with `amplitude` 1.0 on the stimulated neurons; its last value holds
    for every later step, which is exact where the waveform has ended (0) or
    settled. A table that cannot settle (a sinusoid without `stop`) is good for
    `horizon` steps only, the network's duration; a longer run is refused
    (`HostNetwork.steps`).
    """

    group: int
    variable: str
    amplitude: np.ndarray
    start: int
    stop: int
    period: int
    width: int
    levels: np.ndarray | None = None
    horizon: int | None = None
    span: SourceSpan | None = None


@dataclass(frozen=True, eq=False)
class NoiseCurrent:
    """An Ornstein-Uhlenbeck current (`ir.OrnsteinUhlenbeck`): one value x per neuron,
    carried from step to step, x_0 = mean. In step n it adds x_n to input `variable`
    where `mask` holds (the stimulated neurons), then advances

        x_{n+1} = mean + (x_n - mean) * decay + kick * N_n,

    decay = exp(-dt/tau), kick = std sqrt(1 - exp(-2 dt/tau)), N_n the runtime
    generator's standard normal for (its stream, n, `neurons`: index in the population).
    The stream is the kernel's (purpose STIMULUS, `population`, `number`): `number`
    counts the earlier noise currents on the same population, whichever neurons they
    select. A selected neuron draws by its index in the population, so it gets the
    noise it would get from the same stimulus on the whole population.
    """

    group: int
    variable: str
    mask: np.ndarray
    mean: float
    decay: float
    kick: float
    population: int
    number: int
    neurons: np.ndarray


def schedules(network: ir.Network, placement, group_sizes: list[int]) -> tuple[Schedule | NoiseCurrent, ...]:
    """The host form of every stimulus of `network`, in `stimulus_order`."""
    ordered = stimulus_order(network.stimuli)
    return tuple(schedule(network, ordered, k, placement, group_sizes) for k in range(len(ordered)))


def stimulus_order(stimuli: tuple[ir.Stimulus, ...]) -> list[ir.Stimulus]:
    """The stimuli sorted by what they are (population, variable, waveform, neurons), not by
    where the file declares them: the step adds them to an input in this order, and float
    addition is not associative, so two stimuli of one input give the same bits whichever
    the file writes first."""
    def key(stimulus: ir.Stimulus) -> tuple[str, str, str]:
        waveform = stimulus.waveform
        values = [getattr(waveform, f.name) for f in fields(waveform) if f.name != "span"]
        return stimulus.population, stimulus.variable, repr((type(waveform).__name__, values, stimulus.indices))

    return sorted(stimuli, key=key)


def schedule(network: ir.Network, stimuli: list[ir.Stimulus], k: int, placement,
             group_sizes: list[int]) -> Schedule | NoiseCurrent:
    """The host form of `stimuli[k]`, for the group its population is simulated in."""
    stimulus = stimuli[k]
    population = network.population(stimulus.population)
    group, offset = placement[stimulus.population]
    within = np.arange(population.size) if stimulus.indices is None else np.asarray(stimulus.indices, dtype=np.int64)
    inside = offset + within  # the stimulated neurons' places in the group
    amplitude = np.zeros(group_sizes[group])
    dt = network.simulation.dt
    always = dict(start=0, stop=NEVER, period=1, width=1)
    match stimulus.waveform:
        case ir.ConstantCurrent(value):
            amplitude[inside] = value
            return Schedule(group, stimulus.variable, amplitude, **always)
        case ir.PulseTrain(period=period_s, width=width_s, amplitude=value, start=start_s, stop=stop_s):
            amplitude[inside] = value
            stop = NEVER if stop_s == float("inf") else steps(stop_s, dt)
            return Schedule(group, stimulus.variable, amplitude, steps(start_s, dt), stop, steps(period_s, dt),
                            steps(width_s, dt))
        case ir.OrnsteinUhlenbeck(mean=mean, std=std, tau=tau):
            mask = np.zeros(group_sizes[group], dtype=bool)
            mask[inside] = True
            neurons = np.zeros(group_sizes[group], dtype=np.uint32)
            neurons[inside] = within
            earlier = sum(1 for s in stimuli[:k]
                          if s.population == stimulus.population and isinstance(s.waveform, ir.OrnsteinUhlenbeck))
            return NoiseCurrent(group, stimulus.variable, mask, mean, math.exp(-dt / tau),
                                std * math.sqrt(-math.expm1(-2 * dt / tau)),
                                network.populations.index(population), earlier, neurons)
        case waveform:
            levels, horizon = tabulate(waveform, dt, network.simulation.n_steps)
            amplitude[inside] = 1.0
            return Schedule(group, stimulus.variable, amplitude, **always, levels=levels, horizon=horizon,
                            span=stimulus.span)


def tabulate(waveform: ir.Waveform, dt: float, n_steps: int) -> tuple[np.ndarray, int | None]:
    """The value of `waveform` in each step n = 0, 1, ..., L - 1 (the last holding for
    every later step), and the number of steps it is good for (None: any).

    Times are whole steps (`groups.steps`) for a step current and a sinusoid's start
    and stop; a time series is sampled at t_n = n dt, the start of step n, a sample
    within `_NEAR` dt of t_n counting as at t_n (0.3 s is step 3 of 0.1 s, although
    3 * 0.1 > 0.3 in floats).
    """
    match waveform:
        case ir.StepCurrent(times=times, amplitudes=amplitudes):
            at = np.array([steps(t, dt) for t in times], dtype=np.int64)
            n = np.arange(int(at[-1]) + 1)
            k = np.searchsorted(at, n, side="right") - 1  # the last time at or before step n
            return np.where(k >= 0, np.asarray(amplitudes)[np.maximum(k, 0)], 0.0), None
        case ir.Sinusoid(amplitude=amplitude, frequency=frequency, phase=phase, offset=offset, start=start, stop=stop):
            first = steps(start, dt)
            last = steps(stop, dt) if stop != float("inf") else max(n_steps, first)
            n = np.arange(last + 1)
            with np.errstate(over="ignore", invalid="ignore"):  # a wave past float range: the run reports the inf
                wave = offset + amplitude * np.sin(2 * np.pi * frequency * ((n - first) * dt) + phase)
            return np.where((n >= first) & (n < last), wave, 0.0), None if stop != float("inf") else n_steps
        case ir.TimeSeries(times=times, values=values, interpolation=interpolation):
            samples_t, samples, near = np.asarray(times), np.asarray(values), _NEAR * dt
            t = np.arange(int(np.floor(samples_t[-1] / dt + _NEAR)) + 2) * dt  # one step past the last sample: 0
            match interpolation:
                case ir.Interpolation.LINEAR:
                    level = np.interp(t, samples_t, samples)  # the end samples' values within `near`
                case ir.Interpolation.PREVIOUS:
                    level = samples[np.maximum(np.searchsorted(samples_t, t + near, side="right") - 1, 0)]
            inside = (t >= samples_t[0] - near) & (t <= samples_t[-1] + near)
            return np.where(inside, level, 0.0), None
    raise TypeError(f"not a waveform: {waveform!r}")


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
            per_neuron = draw(rates, population.size, host_key(network.simulation.seed, RATES, population.name))
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
    """Variable `variable` of the neurons `indices` (within the population), sampled after
    every step whose number (counted from t = 0) is a multiple of `every`."""

    population: str
    variable: str
    group: int
    indices: np.ndarray
    group_indices: np.ndarray
    every: int


def record(record: ir.StateRecord, placement, dt: float) -> Record:
    indices = np.asarray(record.indices, dtype=np.int64)
    group, offset = placement[record.population]
    every = 1 if record.every is None else round(record.every / dt)
    return Record(record.population, record.variable, group, indices, indices + offset, every)
