"""The numpy backend: the reference, the kernel's step driven by a plain Python loop.

Vectorised per group of populations, CSR connectivity, event-driven delivery
(only the rows of the neurons that spiked are touched). The operations below are
the numpy side of the kernel's shim; they update ring buffers in place, which
is safe because this loop never reuses an old carry.

XLA runs CPU code with subnormal numbers (|x| < 2.2e-308) flushed to zero, as
inputs and as results. So that both backends round alike even there, this loop
runs with the processor in the same mode (`flush_subnormals`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import math
import platform
import time

import numpy as np

from brainsim import ir
from brainsim.interrupts import active
from brainsim.backends.fused import available, compiled_option, fused
from brainsim.backends.kernel import Carry, GroupState, Program, compile_step, nonfinite_error
from brainsim.backends.ops import Events, Numerics
from brainsim.backends.simulation import Run, Simulation, SingleSteps

_NO_SPIKES = np.zeros(0, dtype=np.int64)


class NumpyNumerics(Numerics):
    """numpy, and the arithmetic of the kernel's shim written with it."""

    def __init__(self, dtype: str = "float64"):
        super().__init__(np, dtype)
        self._all_finite: dict[tuple[int, int], np.ndarray] = {}

    def all_finite(self, shape: tuple[int, int]) -> np.ndarray:
        """The (shared, read-only) all-true flags of that shape, so that a loop can test identity."""
        if shape not in self._all_finite:
            flags = np.ones(shape, dtype=bool)
            flags.flags.writeable = False
            self._all_finite[shape] = flags
        return self._all_finite[shape]

    def divide(self, a, b):
        return a / b

    def pow2(self, k):
        return ((np.asarray(k, dtype=np.int64) + 1023) << 52).view(np.float64)

    def scatter_add(self, flat, index, values):
        if len(index):
            np.add.at(flat, index, values)
        return flat

    def scatter_set(self, flat, index, values):
        # In place, like scatter_add; this backend's synapse lists are exact, never padded.
        flat[index] = values
        return flat

    def finite_flags(self, values, slices):
        # x . x is non-finite whenever an element of x is (or, rarely, when it overflows);
        # only then are the exact per-population flags computed. A dot product is the
        # cheapest full pass numpy offers.
        if math.isfinite(sum(v.dot(v) for v in values)):
            return self.all_finite((len(slices), len(values)))
        return np.array([[np.isfinite(v[a:b]).all() for v in values] for a, b in slices])


class NumpyEvents(Events):
    """Exactly the neurons that fired and the synapses they reach (dynamic shapes).

    Ring buffers and fired-neuron updates happen in place, which is safe because
    this loop never reuses an old carry.
    """

    def __init__(self):
        self._slice_ends: dict[tuple, np.ndarray] = {}

    def firing(self, mask):
        return mask.nonzero()[0]

    def update_fired(self, x, firing, value):
        # In place: x is this step's fresh array or the loop's own carry.
        if len(firing):
            x[firing] = value[firing] if getattr(value, "ndim", 0) else value
        return x

    def spikes_by_population(self, firing, slices, capacities):
        if len(slices) == 1:
            return ((firing, len(firing)),)
        if not len(firing):
            return tuple((_NO_SPIKES, 0) for _ in slices)
        cuts = [0, *firing.searchsorted(self._ends(slices)).tolist()]
        return tuple((firing[lo:hi] - a, hi - lo) for lo, hi, (a, _) in zip(cuts, cuts[1:], slices))

    def _ends(self, slices):
        if slices not in self._slice_ends:
            self._slice_ends[slices] = np.array([b for _, b in slices])
        return self._slice_ends[slices]

    def may_fire(self, count):
        return count > 0

    def for_synapses(self, indptr, slots, rows, batch, body, state):
        if len(rows) == 0:
            return state
        if len(rows) == 1:
            row = rows[0]
            return body(np.arange(indptr[row], indptr[row + 1]), state)
        starts = indptr[rows]
        lengths = indptr[rows + 1] - starts
        ends = lengths.cumsum()
        # Synapse k of the concatenated rows is starts[row] + (k - first k of that row).
        return body((starts - ends + lengths).repeat(lengths) + np.arange(ends[-1]), state)

    def deliver(self, buffer, start, size, x):
        value = x + buffer[start : start + size]
        buffer[start : start + size + 1] = 0.0
        return value, buffer

    def scheduled(self, indptr, neurons, m, size, most):
        mask = np.zeros(size, dtype=bool)
        mask[neurons[indptr[m] : indptr[m + 1]]] = True
        return mask


# Where glibc keeps the control register in its fenv_t, and the flush bits to set there:
# x86-64: MXCSR (FTZ 0x8000, DAZ 0x0040) after the 28-byte x87 environment; aarch64: FPCR.FZ.
_FLUSH_BITS = {"x86_64": (28, 0x8040), "AMD64": (28, 0x8040), "aarch64": (0, 1 << 24), "arm64": (0, 1 << 24)}


class _FloatEnvironment(ctypes.Structure):
    _fields_ = [("raw", ctypes.c_uint32 * 8)]  # 32 bytes: at least glibc's fenv_t on both


@functools.cache
def _libm():
    """The C math library, where it can set the flush bits (glibc on Linux), else None.
    Found once: `find_library` runs a subprocess, too slow for every step of a stepper."""
    libm_name = ctypes.util.find_library("m")
    usable = libm_name and platform.machine() in _FLUSH_BITS and platform.system() == "Linux"
    return ctypes.CDLL(libm_name) if usable else None


@contextlib.contextmanager
def flush_subnormals():
    """Run the body with subnormal inputs and results of float arithmetic read as zero,
    like XLA on CPU; yields False where this platform's C library offers no way."""
    libm, flush = _libm(), _FLUSH_BITS.get(platform.machine())
    saved, changed = _FloatEnvironment(), _FloatEnvironment()
    if libm is None or libm.fegetenv(ctypes.byref(saved)) != 0:
        yield False
        return
    ctypes.memmove(ctypes.byref(changed), ctypes.byref(saved), ctypes.sizeof(saved))
    offset, bits = flush
    changed.raw[offset // 4] |= bits
    libm.fesetenv(ctypes.byref(changed))
    try:
        yield True
    finally:
        libm.fesetenv(ctypes.byref(saved))


class NumpySimulation(Simulation):
    """The reference backend. `exactness_problem` is None when its results are bit
    for bit those of the jax backend on CPU, else the reason they may not be."""

    backend = "numpy"

    def __init__(self, network: ir.Network, dtype: str = "float64", chunk_steps: int | None = None,
                 max_memory: int | str | None = None, compiled_updates: bool | str = "auto"):
        self._compiled_mode = compiled_option(compiled_updates, dtype)
        super().__init__(network, dtype, chunk_steps, max_memory)
        with flush_subnormals() as flushing:
            self.exactness_problem = None if flushing else (
                f"cannot make numpy flush subnormal numbers to zero like XLA on {platform.system()} "
                f"{platform.machine()}; values below 2.2e-308 may differ from the jax backend's"
            )
        started = time.perf_counter()
        self._numerics = NumpyNumerics(dtype)
        self._prepare()
        self._carry = self._initial_carry()
        self.build_seconds += time.perf_counter() - started

    def _prepare(self) -> None:
        self.program = compile_step(self.host, self._numerics, NumpyEvents())
        self.compiled_updates, self.plain_updates_reason = False, None
        if self._compiled_mode:
            program, self.plain_updates_reason = available(self._compiled_mode, self._fused)
            if program is not None:
                self.program, self.compiled_updates = program, True

    def _fused(self) -> Program:
        """The program with compiled updates, their loops compiled (or found in the cache)."""
        program = fused(self.program, self.host)
        # A group's loop is traced from a step's environment: one step of a copy of the
        # state compiles them all now, with the rest, not in the first run.
        with np.errstate(all="ignore"), flush_subnormals():
            program.step(copied_carry(program.carry, program.step.plastic_pathways), program.arrays, 0)
        return program

    def _initial_carry(self) -> Carry:
        return self._kept(self.program.carry)

    def _synapse_arrays(self, carry: Carry) -> tuple:
        return _synapses(carry, self.program.step.plastic_pathways)

    def _kept(self, carry: Carry) -> Carry:
        # This loop changes its carry in place; what a step writes is copied (a static
        # pathway's synapse states are shared: no step writes them).
        return copied_carry(carry, self.program.step.plastic_pathways)

    def _advance(self, carry: Carry, start: int, n_steps: int, interruptible: bool = True) -> tuple[Carry, Run]:
        program, host = self.program, self.host
        deferral = active() if interruptible else None
        done = n_steps
        populations = [p.name for p in self.network.populations]
        step, arrays, all_finite = program.step, program.arrays, self._numerics.all_finite
        fired_steps: list[list[int]] = [[] for _ in populations]
        fired: list[list[np.ndarray]] = [[] for _ in populations]
        traces: list[list[np.ndarray]] = [[] for _ in host.records]
        sampling = [(r, record.every) for r, record in enumerate(host.records)]
        synapse_traces: list[list[np.ndarray]] = [[] for _ in arrays.synapse_records]
        started = time.perf_counter()
        with np.errstate(all="ignore"), flush_subnormals():
            for n in range(start, start + n_steps):
                if deferral is not None and deferral.requested:  # Ctrl-C: stop between two steps
                    done = n - start
                    break
                carry, out = step(carry, arrays, n)
                for r, values in enumerate(out.synapse_traces):
                    synapse_traces[r].append(values)
                for flags in out.finite:
                    if flags is not all_finite(flags.shape) and not flags.all():
                        raise nonfinite_error(host, out.finite, n)
                for p, (indices, count) in enumerate(out.spikes):
                    if count:
                        fired_steps[p].append(n)
                        fired[p].append(indices)
                for r, every in sampling:
                    if (n + 1) % every == 0:
                        traces[r].append(out.traces[r])
        run_seconds = time.perf_counter() - started
        recorded = {r.population for r in self.network.spike_records}
        spikes, counts = {}, {}
        for p, population in enumerate(self.network.populations):
            lengths = [len(i) for i in fired[p]]
            indices = np.concatenate(fired[p]) if lengths else np.zeros(0, dtype=np.int64)
            counts[population.name] = np.bincount(indices, minlength=population.size)
            if population.name in recorded:
                spikes[population.name] = (np.repeat(np.asarray(fired_steps[p], dtype=np.int64), lengths), indices)
        return carry, Run(
            spikes=spikes,
            counts=counts,
            traces=tuple(np.stack(t) if t else np.zeros((0, len(r.indices)), self._numerics.float_dtype)
                         for t, r in zip(traces, host.records)),
            states=tuple(dict(zip((s.name for s in g.model.states), (v.copy() for v in state.variables)))
                         for g, state in zip(host.groups, carry.groups)),
            synapses=_synapses(carry, program.step.plastic_pathways),
            synapse_traces=tuple(np.stack(t) if t else np.zeros((0, len(i))) for t, i in zip(synapse_traces, arrays.synapse_records)),
            compile_seconds=0.0,  # nothing to compile: the step's closures are built with the simulation
            run_seconds=run_seconds,
            steps=done,
        )

    def _held(self) -> tuple:
        return self.program.arrays, self.program.carry

    def stepping(self) -> SingleSteps:
        program = self.program

        def advance(carry, arrays, n):
            with np.errstate(all="ignore"), flush_subnormals():
                carry, out = program.step(carry, arrays, n)
            return carry, out._replace(spikes=tuple((np.asarray(indices), count) for indices, count in out.spikes))

        return SingleSteps(copied_carry(program.carry, program.step.plastic_pathways), program.arrays, advance, self._numerics.scatter_add)


def copied_carry(carry: Carry, pathways=None) -> Carry:
    """A deep copy of `carry`'s arrays (of the synapse states of `pathways` only, the others
    shared, where given)."""
    return Carry(
        groups=tuple(GroupState(tuple(v.copy() for v in g.variables), None if g.refractory_until is None else g.refractory_until.copy())
                     for g in carry.groups),
        synapses=tuple(tuple(v.copy() for v in states) if pathways is None or c in pathways else states
                       for c, states in enumerate(carry.synapses)),
        buffers=tuple(b.copy() for b in carry.buffers),
        stimuli=tuple(None if x is None else x.copy() for x in carry.stimuli),
        updated=tuple(None if x is None else x.copy() for x in carry.updated),
        history=carry.history,  # masks are replaced, never changed in place
    )


def _synapses(carry: Carry, plastic) -> tuple:
    """Each pathway's (synapse states, last updates), for snapshots and results: a copy of the
    `plastic` pathways' (the loop changes them in place), the others' shared (no step writes
    them; at 0.3e9 synapses a copy is 2.4 GB per state)."""
    return tuple((tuple(v.copy() for v in states) if c in plastic else states, None if last is None else last.copy())
                 for c, (states, last) in enumerate(zip(carry.synapses, carry.updated)))
