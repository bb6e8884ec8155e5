"""The jax backend: the kernel's step under `jax.lax.scan` and `jax.jit`, in chunks.

Bit-identical to numpy in float64 on CPU because:

* `configure()` turns on float64 (`jax_enable_x64`, a process-wide setting) and
  appends `--xla_cpu_max_isa=AVX` to XLA_FLAGS before jax starts its CPU
  backend. Without it XLA contracts a*b + c into fused multiply-adds, which
  round once instead of twice; the flag cannot be set per computation, and
  once the backend has started it is too late (then `configure` says why and
  the simulation warns with `ExactnessWarning`).
* every parameter, propagator, literal and connectivity array is an argument of
  the jitted function, never a constant XLA could fold or reassociate;
* every division hides its operands behind `lax.optimization_barrier`: XLA's
  algebraic simplifier rewrites a / b by runtime values too (a / broadcast(b)
  into a * (1 / b), (a / b) / c into a / (b * c), a / sqrt(b) into a * rsqrt(b));
* sums of synaptic events run in the same order as numpy's (`scatter_add`
  applies updates in index order on CPU, like `np.add.at`);
* exp, log and tanh come from the kernel's own `xmath`, not from XLA, and the
  numpy loop flushes subnormal numbers to zero as XLA's CPU runtime does.

Shapes are static, so each population may report at most `capacity` spikes per
step, and each projection may deliver the synapses of those spikes up to its
event `budget` per step. Every step counts its spikes exactly, and each chunk
counts the synapses of every step's spikes; if a chunk saw more than a capacity
or a budget somewhere, that bound grows (to the next power of two above twice
the old, or above the count seen), the chunk is recompiled and rerun from its
start state. No spike and no event is ever dropped.
"""

from __future__ import annotations

import math
import os
import time
import warnings

import numpy as np

from brainsim import ir
from brainsim.backends.kernel import ArrayOps, compile_step, nonfinite_error
from brainsim.backends.simulation import Run, Simulation
from brainsim.network import Connectivity

EXACT_FLAG = "--xla_cpu_max_isa=AVX"
_DEFAULT_CAPACITY = 16
_DEFAULT_EVENT_BUDGET = 1024
_PIECE = 16  # synapses are delivered in pieces of this many slots, or fewer if every row is shorter
_DEFAULT_CHUNK_STEPS = 10_000
_OUTPUT_BYTES_PER_CHUNK = 64 * 2**20
# For this program only, not the process: with region analysis XLA's copy insertion
# sees that the scan's carry (states, ring buffers) can be updated in place, instead of
# copying every carried array at the start of every step (CUBA: 12 copies per step
# down to 1, about 15% of the run time). Copies do not change any value.
_COMPILER_OPTIONS = {"xla_cpu_copy_insertion_use_region_analysis": True}


class ExactnessWarning(UserWarning):
    """The jax backend cannot promise results bit-identical to numpy's."""


def configure() -> str | None:
    """Set jax up for float64 results identical to numpy's: call before any jax computation.

    Returns None when all is well, else the reason results may differ.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    flags = os.environ.get("XLA_FLAGS", "")
    if "--xla_cpu_max_isa" not in flags:
        if _backends_started():
            return (
                "jax's CPU backend started before brainsim could add --xla_cpu_max_isa=AVX to XLA_FLAGS, so XLA "
                "may fuse multiply-adds and results may differ from numpy in the last bits; set "
                "XLA_FLAGS=--xla_cpu_max_isa=AVX in the environment, or call "
                "brainsim.backends.jax_backend.configure() before using jax"
            )
        os.environ["XLA_FLAGS"] = f"{flags} {EXACT_FLAG}".strip()
    elif EXACT_FLAG not in flags.split() and "--xla_cpu_max_isa=SSE4_2" not in flags.split():
        return f"XLA_FLAGS sets another --xla_cpu_max_isa than AVX ({flags!r}); XLA may fuse multiply-adds"
    if (platform := jax.default_backend()) != "cpu":
        return f"jax runs on {platform}, where bit-identical results with numpy are not guaranteed"
    return None


def _backends_started() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:  # a jax without this private module: assume the worst
        return True
    return xla_bridge.backends_are_initialized()


class JaxOps(ArrayOps):
    """jax.numpy, and the kernel's shim written with it."""

    def __init__(self):
        import jax.numpy as jnp

        super().__init__(jnp)

    def divide(self, a, b):
        # XLA's algebraic simplifier rewrites a / broadcast(b) as a * (1 / b), (a / b) / c
        # as a / (b * c), a / sqrt(b) as a * rsqrt(b), ...: each changes the rounding. A
        # barrier hides the operands' origins from those patterns.
        from jax import lax

        a, b = lax.optimization_barrier(tuple(self.broadcast_arrays(a, b)))
        return a / b

    def pow2(self, k):
        from jax import lax

        return lax.bitcast_convert_type((k + 1023) << 52, self.float64)

    def firing(self, mask):
        return mask

    def update_fired(self, x, firing, value):
        return self.where(firing, value, x)

    def spikes_by_population(self, firing, slices, capacities):
        return tuple(
            _compact(firing[a:b], capacity) for (a, b), capacity in zip(slices, capacities)
        )

    def may_fire(self, count):
        return True

    def synapses_of(self, projection, rows, budget):
        # The rows cut into pieces of P slots (a row's last piece padded with the sentinel),
        # concatenated, then padded to `budget`, a multiple of P. Piece q belongs to the
        # first row whose running total of pieces exceeds q; finding it costs a comparison
        # per piece and row. Per slot it cost as much as the gathers and the scatter it saves.
        indptr, slots = projection["indptr"], projection["slots"]
        size = slots.shape[1]
        starts, ends, pieces = _pieces(indptr, rows, size)
        if budget >= rows.shape[0] * slots.size:  # room for every row at its longest: no search needed
            synapses, end = starts[:, None] + slots.reshape(-1), ends
        else:
            total = self.cumsum(pieces)
            piece = self.arange(budget // size)
            row = (piece[:, None] >= total).sum(axis=1)  # past the last piece: len(rows), clamped by the gathers
            synapses = ((starts - (total - pieces) * size)[row] + piece * size)[:, None] + slots[0]
            end = self.where(piece < total[-1], ends[row], 0)
        return self.where(synapses < end[:, None], synapses, indptr[-1]).reshape(-1)

    def scatter_add(self, flat, index, values):
        return flat.at[index].add(values)

    def deliver(self, buffer, start, width, x):
        from jax import lax

        slot = lax.dynamic_slice(buffer, (start,), (width,))
        return x + slot[:-1], lax.dynamic_update_slice(buffer, self.zeros(width), (start,))

    def finite_flags(self, values, slices):
        # One pass and one reduction over all the values decides; the per-population,
        # per-variable flags (a reduction each) are computed only in the step where some
        # value is not finite. About 10% of CUBA's run time.
        from jax import lax

        def exact():
            return self.stack([self.stack([self.all(self.isfinite(v[a:b])) for v in values]) for a, b in slices])

        every = self.isfinite(values[0])
        for v in values[1:]:
            every = every & self.isfinite(v)
        return lax.cond(self.all(every), lambda: self.ones((len(slices), len(values)), dtype=bool), exact)

    def projection_arrays(self, connectivity: Connectivity):
        """The CSR's `indptr` with one more, empty row (the padding of spike lists), and the
        offsets within the longest row, by piece of P = `_PIECE` slots (fewer, a power of
        two, if every row is shorter): `slots[j, i]` = j P + i."""
        longest = max(1, int(np.diff(connectivity.indptr).max(initial=1)))
        size = min(_PIECE, 2 ** math.ceil(math.log2(longest)))
        slots = np.arange(-(-longest // size) * size).reshape(-1, size)
        return {"indptr": np.append(connectivity.indptr, connectivity.n_synapses), "slots": slots}


def _pieces(indptr, rows, size: int):
    """(first synapse, end, number of pieces of `size` synapses) of each row of `rows`."""
    starts, ends = indptr[rows], indptr[rows + 1]
    return starts, ends, (ends - starts + (size - 1)) // size


_BLOCK = 64


def _compact(mask, capacity: int):
    """(The indices of the first `capacity` true entries of `mask`, ascending, padded with len(mask);
    the number of true entries).

    As jnp.nonzero(mask, size=capacity), but XLA's prefix sums cost about 10 ns per
    element on CPU, so for long masks only the blocks of 64 that hold a spike get
    one: count per block, pick the non-empty blocks, rank within those. The total
    comes from the same prefix sum.
    """
    import jax.numpy as jnp

    n = mask.shape[0]
    if n <= 16 * _BLOCK:
        return jnp.nonzero(mask, size=capacity, fill_value=n)[0], mask.sum(dtype=jnp.int64)
    n_blocks = -(-n // _BLOCK)
    blocks = jnp.pad(mask, (0, (n_blocks + 1) * _BLOCK - n)).reshape(n_blocks + 1, _BLOCK)  # + an empty block
    counts = blocks.sum(axis=1, dtype=jnp.int64)
    before = jnp.cumsum(counts) - counts  # spikes in the blocks before each block
    active = jnp.nonzero(counts[:n_blocks] > 0, size=min(capacity, n_blocks), fill_value=n_blocks)[0]
    chosen = blocks[active]
    rank = before[active][:, None] + jnp.cumsum(chosen, axis=1, dtype=jnp.int64) - chosen
    index = active[:, None] * _BLOCK + jnp.arange(_BLOCK)
    slot = jnp.where(chosen & (rank < capacity), rank, capacity)
    indices = jnp.full(capacity + 1, n, dtype=jnp.int64).at[slot.reshape(-1)].set(index.reshape(-1), mode="drop")
    return indices[:capacity], before[n_blocks]


class JaxSimulation(Simulation):
    """The kernel's step under `lax.scan` and `jit`, run in chunks of at most `chunk_steps`.

    `capacities[p]` is the current bound on spikes per step of population p,
    `event_budgets[c]` that on synapses delivered per step by projection c (in
    the order of the kernel's `Program.projections`); both grow on demand and
    are kept for later runs. `exactness_problem` is None when results are
    bit-identical to numpy's, else the reason they may not be.
    """

    backend = "jax"

    def __init__(
        self,
        network: ir.Network,
        *,
        spike_capacity: int | None = None,
        event_budget: int | None = None,
        chunk_steps: int | None = None,
    ):
        self.exactness_problem = configure()
        if self.exactness_problem:
            warnings.warn(self.exactness_problem, ExactnessWarning, stacklevel=3)
        import jax

        super().__init__(network)
        capacity = spike_capacity or _DEFAULT_CAPACITY
        self.capacities = {p.name: max(1, min(p.size, capacity)) for p in network.populations}
        self.chunk_steps = chunk_steps or _DEFAULT_CHUNK_STEPS
        self._ops = JaxOps()
        program = compile_step(self.host, self._ops)
        names = [p.name for p in network.populations]
        self._sources = tuple(names.index(c.projection.source) for c in program.projections)
        # Budgets are multiples of the projection's piece size. No step can need more than
        # all rows at once, or at first than `capacity` spikes on the longest rows.
        self._budget_limits, self.event_budgets = [], []
        for c, arrays in zip(program.projections, program.arrays["projections"]):
            size = arrays["slots"].shape[1]
            padded = _pieces(c.indptr, np.arange(c.source_size), size)[2] * size
            wanted = min(event_budget or _DEFAULT_EVENT_BUDGET, self.capacities[c.projection.source] * arrays["slots"].size)
            self._budget_limits.append(max(size, int(padded.sum())))
            self.event_budgets.append(min(self._budget_limits[-1], max(size, -(-int(wanted) // size) * size)))
        self._arrays = jax.device_put(program.arrays)
        self._initial = program.carry
        self._compiled: dict[tuple, object] = {}

    def _run(self, n_steps: int) -> Run:
        import jax

        populations = self.network.populations
        wanted = {record.population for record in self.network.spike_records}
        recorded = [p for p, population in enumerate(populations) if population.name in wanted]
        carry = jax.device_put(self._initial)
        chunk = min(n_steps, self.chunk_steps, max(1, _OUTPUT_BYTES_PER_CHUNK // self._bytes_per_step()))
        compile_seconds = run_seconds = 0.0
        spikes: list[list] = [[] for _ in recorded]
        counts = [np.zeros(p.size, dtype=np.int64) for p in populations]
        traces: list[list] = [[] for _ in self.host.records]
        for start in range(0, n_steps, chunk):
            length = min(chunk, n_steps - start)
            while True:
                capacities = tuple(self.capacities[p.name] for p in populations)
                budgets = tuple(self.event_budgets)
                key = (length, capacities, budgets)
                if key not in self._compiled:
                    began = time.perf_counter()
                    self._compiled[key] = self._compile(length, capacities, budgets, carry)
                    compile_seconds += time.perf_counter() - began
                began = time.perf_counter()
                outcome = jax.block_until_ready(self._compiled[key](carry, self._arrays, np.int64(start)))
                run_seconds += time.perf_counter() - began
                next_carry, peaks, events, bad_step, bad_flags, outputs = outcome
                # Both, always: a chunk whose spikes overflowed undercounts events, never overcounts.
                if not self._grow(np.asarray(peaks)) | self._grow_budgets(np.asarray(events)):
                    break
            if (step := int(bad_step)) >= 0:
                raise nonfinite_error(self.host, jax.device_get(bad_flags), step)
            carry = next_carry
            for p, (indices, counts_now) in enumerate(outputs["spikes"]):
                steps, neurons = _events(np.asarray(indices), np.asarray(counts_now), start)
                counts[p] += np.bincount(neurons, minlength=populations[p].size)
                if p in recorded:
                    spikes[recorded.index(p)].append((steps, neurons))
            for r, values in enumerate(outputs["traces"]):
                traces[r].append(np.asarray(values))
        kernel_carry = jax.device_get(carry)
        return Run(
            spikes={
                populations[p].name: tuple(np.concatenate(parts) for parts in zip(*spikes[k]))
                for k, p in enumerate(recorded)
            },
            counts={p.name: c for p, c in zip(populations, counts)},
            traces=tuple(np.concatenate(t) for t in traces),
            states=kernel_carry["states"],
            compile_seconds=compile_seconds,
            run_seconds=run_seconds,
        )

    def _bytes_per_step(self) -> int:
        spikes = sum(capacity + 1 for capacity in self.capacities.values())
        return 8 * (spikes + sum(len(r.indices) for r in self.host.records)) + 8

    def _grow(self, peaks: np.ndarray) -> bool:
        """Raise the capacity of every population whose spikes overflowed it; True if any did."""
        grew = False
        for population, peak in zip(self.network.populations, peaks):
            capacity = self.capacities[population.name]
            if peak > capacity:
                self.capacities[population.name] = _grown(capacity, int(peak), population.size)
                grew = True
        return grew

    def _grow_budgets(self, peaks: np.ndarray) -> bool:
        """Raise the budget of every projection whose events overflowed it; True if any did."""
        grew = False
        for c, (peak, limit) in enumerate(zip(peaks, self._budget_limits)):
            if peak > self.event_budgets[c]:
                self.event_budgets[c] = _grown(self.event_budgets[c], int(peak), limit)
                grew = True
        return grew

    def _compile(self, length: int, capacities: tuple[int, ...], budgets: tuple[int, ...], carry):
        import jax
        import jax.numpy as jnp
        from jax import lax

        names = [p.name for p in self.network.populations]
        program = compile_step(self.host, self._ops, dict(zip(names, capacities)), budgets)

        def run_chunk(carry, arrays, start):
            # Spike counts per neuron and the peaks that decide capacity and budget
            # growth are computed from the outputs, once per chunk, not in every step.
            def body(state, n):
                kernel_carry, bad_step, bad_flags = state
                kernel_carry, out = program.step(kernel_carry, arrays, n)
                first = (bad_step < 0) & ~jnp.all(jnp.array([jnp.all(f) for f in out["finite"]], dtype=bool))
                bad_step = jnp.where(first, n, bad_step)
                bad_flags = tuple(jnp.where(first, f, old) for f, old in zip(out["finite"], bad_flags))
                output = {"spikes": out["spikes"], "traces": out["traces"]}
                return (kernel_carry, bad_step, bad_flags), output

            flags = tuple(jnp.ones((len(g.populations), len(g.model.states)), dtype=bool) for g in self.host.groups)
            initial = (carry, jnp.int64(-1), flags)
            (carry, bad_step, bad_flags), outputs = lax.scan(body, initial, start + jnp.arange(length))
            peaks = jnp.stack([count.max() for _, count in outputs["spikes"]]) if names else jnp.zeros(0, jnp.int64)
            events = jnp.zeros(0, jnp.int64)
            for projection, s in zip(arrays["projections"], self._sources):  # the slots each step's spikes need
                size = projection["slots"].shape[1]
                _, _, pieces = _pieces(projection["indptr"], outputs["spikes"][s][0], size)
                events = jnp.append(events, pieces.sum(axis=1).max() * size)
            return carry, peaks, events, bad_step, bad_flags, outputs

        lowered = jax.jit(run_chunk).lower(carry, self._arrays, np.int64(0))
        try:
            return lowered.compile(_COMPILER_OPTIONS)
        except Exception as error:  # an XLA without the option (its error type varies by version)
            if "No such compile option" not in str(error):
                raise
            return lowered.compile()


def _grown(bound: int, peak: int, limit: int) -> int:
    """The power of two at least twice `bound` and at least `peak`, but at most `limit`."""
    return min(limit, 2 ** math.ceil(math.log2(max(2 * bound, peak))))


def _events(indices: np.ndarray, counts: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, neuron indices) of the spikes in padded per-step index lists."""
    steps, slots = np.nonzero(np.arange(indices.shape[1])[None, :] < counts[:, None])
    return (start + steps).astype(np.int64), indices[steps, slots].astype(np.int64)
