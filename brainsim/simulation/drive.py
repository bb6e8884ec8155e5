"""Currents injected between steps (`inject_current`, `stimulate_region`), and what they were.

An injection is a current into a neuron's input I_ext during the next step
only. `Drive` gathers the step's injections per population (nA, summed in the
order made), hands them to the engine in SI, and keeps every change of them, so
`to_brain` can write the same currents as stimuli: each neuron's series of
values is a `steps(...)` waveform, and neighbours with the same series share
one stimulus (`stimulus V1.exc[0:16] { I_ext += steps(...) }`).

A current reaches the engine as the language reads `25.0 nA` (`brainsim.units.to_si`,
one rounding from the decimal), so the file's stimuli give the same bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from brainsim.simulation.errors import SeedValueError, is_number
from brainsim.units import to_si


@lru_cache(maxsize=4096)
def nanoamperes_in_si(current_na: float) -> float:
    """`current_na` nA in amperes, exactly as a model's `<current_na> nA` is read."""
    return to_si(repr(float(current_na)), "nA")[0]


def check_current(current) -> float:
    """`current` as a float, which must be a finite number of nA."""
    if not is_number(current) or not math.isfinite(current):
        raise SeedValueError(f"a current is a finite number of nA, but it is {current!r}")
    return float(current)


@dataclass(frozen=True)
class SteppedCurrent:
    """Neurons `start` to `stop - 1` of population `population` get `amplitudes_na[k]` from
    step `steps[k]` until the next (0 before the first): a `steps(...)` stimulus."""

    population: int
    start: int
    stop: int
    steps: tuple[int, ...]
    amplitudes_na: tuple[float, ...]


class Drive:
    """The injections of the coming step, per population (`sizes`: their neurons)."""

    def __init__(self, sizes: list[int]):
        self._pending = [np.zeros(n) for n in sizes]
        self._applied = [np.zeros(n) for n in sizes]  # what the last step got
        self._changes: list[list[tuple[int, np.ndarray]]] = [[] for _ in sizes]

    def inject(self, population: int, neurons: int | slice, current_na: float) -> None:
        """Add `current_na` to the coming step's current of `neurons` of `population`."""
        self._pending[population][neurons] += current_na

    def take(self, step: int) -> dict[int, np.ndarray]:
        """The SI currents of step `step` (the next one), by population, for those that get
        any; the coming step starts with none again."""
        currents = {}
        for p, (pending, applied) in enumerate(zip(self._pending, self._applied)):
            if not np.array_equal(pending, applied):
                self._changes[p].append((step, pending.copy()))
            if pending.any():
                values, where = np.unique(pending, return_inverse=True)
                currents[p] = np.array([nanoamperes_in_si(v) for v in values])[where]
            self._applied[p], self._pending[p] = pending, np.zeros_like(pending)
        return currents

    def stepped_currents(self) -> list[SteppedCurrent]:
        """Every injection so far as stimuli: per population, runs of neighbouring neurons
        with the same series of currents (neurons that never got one are left out)."""
        stimuli = []
        for p, changes in enumerate(self._changes):
            if not changes:
                continue
            steps = np.array([step for step, _ in changes])
            values = np.stack([v for _, v in changes])  # (changes, neurons)
            start = 0
            for j in range(1, values.shape[1] + 1):
                if j < values.shape[1] and np.array_equal(values[:, j], values[:, start]):
                    continue
                column = values[:, start]
                moved = column != np.concatenate(([0.0], column[:-1]))
                if moved.any():
                    stimuli.append(SteppedCurrent(p, start, j, tuple(int(s) for s in steps[moved]),
                                                  tuple(float(v) for v in column[moved])))
                start = j
        return stimuli
