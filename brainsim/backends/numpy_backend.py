"""The numpy backend: the reference, the kernel's step driven by a plain Python loop.

Vectorised per group of populations, CSR connectivity, event-driven delivery
(only the rows of the neurons that spiked are touched). The operations below are
the numpy side of the kernel's shim; they update ring buffers in place, which
is safe because this loop never reuses an old carry.
"""

from __future__ import annotations

import time

import numpy as np

from brainsim import ir
from brainsim.backends.kernel import ArrayOps, compile_step, nonfinite_error
from brainsim.backends.simulation import Run, Simulation
from brainsim.network import Connectivity

_NO_SYNAPSES = np.zeros(0, dtype=np.int64)


class NumpyOps(ArrayOps):
    """numpy, and the kernel's shim written with it."""

    def __init__(self):
        super().__init__(np)

    def pow2(self, k):
        return ((np.asarray(k, dtype=np.int64) + 1023) << 52).view(np.float64)

    def spike_indices(self, mask, capacity):
        indices = np.flatnonzero(mask)
        return indices, len(indices)

    def synapses_of(self, projection, rows):
        if len(rows) == 0:
            return _NO_SYNAPSES
        indptr = projection["indptr"]
        starts, stops = indptr[rows], indptr[rows + 1]
        if len(rows) == 1:
            return np.arange(starts[0], stops[0])
        lengths = stops - starts
        ends = np.cumsum(lengths)
        # Synapse k of the concatenated rows is starts[row] + (k - first k of that row).
        return np.repeat(starts - (ends - lengths), lengths) + np.arange(ends[-1])

    def scatter_add(self, flat, index, values):
        if len(index):
            np.add.at(flat, index, values)
        return flat

    def deliver(self, buffer, start, width, x):
        slot = buffer[start : start + width]
        value = x + slot[:-1]
        slot[:] = 0.0
        return value, buffer

    def finite_flags(self, values, slices):
        # One sum per variable is non-finite whenever an element is (or, rarely, when
        # the sum overflows); only then are the exact per-population flags computed.
        total = sum(v.sum() for v in values)
        if np.isfinite(total):
            return np.ones((len(slices), len(values)), dtype=bool)
        return np.array([[np.isfinite(v[a:b]).all() for v in values] for a, b in slices])

    def projection_arrays(self, connectivity: Connectivity):
        return {"indptr": connectivity.indptr}


class NumpySimulation(Simulation):
    """The reference backend."""

    backend = "numpy"

    def __init__(self, network: ir.Network):
        super().__init__(network)
        started = time.perf_counter()
        self.program = compile_step(self.host, NumpyOps())
        self.compile_seconds = time.perf_counter() - started

    def _run(self, n_steps: int) -> Run:
        program, host = self.program, self.host
        populations = [p.name for p in self.network.populations]
        carry = {
            "states": tuple({k: v.copy() for k, v in states.items()} for states in program.carry["states"]),
            "refractory_until": tuple(None if u is None else u.copy() for u in program.carry["refractory_until"]),
            "buffers": tuple(b.copy() for b in program.carry["buffers"]),
        }
        step, arrays = program.step, program.arrays
        fired_steps: list[list[int]] = [[] for _ in populations]
        fired: list[list[np.ndarray]] = [[] for _ in populations]
        traces: list[list[np.ndarray]] = [[] for _ in host.records]
        started = time.perf_counter()
        with np.errstate(all="ignore"):
            for n in range(n_steps):
                carry, out = step(carry, arrays, n)
                for flags in out["finite"]:
                    if not flags.all():
                        raise nonfinite_error(host, out["finite"], n)
                for p, (indices, count) in enumerate(out["spikes"]):
                    if count:
                        fired_steps[p].append(n)
                        fired[p].append(indices)
                for r, values in enumerate(out["traces"]):
                    traces[r].append(values)
        run_seconds = time.perf_counter() - started
        recorded = {r.population for r in self.network.spike_records}
        spikes, counts = {}, {}
        for p, population in enumerate(self.network.populations):
            lengths = [len(i) for i in fired[p]]
            indices = np.concatenate(fired[p]) if lengths else np.zeros(0, dtype=np.int64)
            counts[population.name] = np.bincount(indices, minlength=population.size)
            if population.name in recorded:
                spikes[population.name] = (np.repeat(np.asarray(fired_steps[p], dtype=np.int64), lengths), indices)
        return Run(
            spikes=spikes,
            counts=counts,
            traces=tuple(np.stack(t) if t else np.zeros((0, len(r.indices))) for t, r in zip(traces, host.records)),
            states=carry["states"],
            compile_seconds=self.compile_seconds,
            run_seconds=run_seconds,
        )
