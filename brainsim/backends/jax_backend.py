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
step (`brainsim.backends.bounds`: estimated from the model before the first
compile). Every step counts its spikes exactly; if a chunk saw more than a
capacity somewhere, that capacity grows, the chunk is recompiled and rerun from
its start state, and the growth is reported. Synapses are delivered in batches
of a fixed size, as many as a step's spikes need, so they never overflow. No
spike and no event is ever dropped.
"""

from __future__ import annotations

import math
import os
import time
import warnings

import numpy as np

from brainsim import ir
from brainsim.backends.bounds import StaticBounds
from brainsim.backends.kernel import compile_step, nonfinite_error
from brainsim.backends.ops import Events, Numerics
from brainsim.backends.simulation import Run, Simulation, SingleSteps
from brainsim.validate import deep_expressions

EXACT_FLAG = "--xla_cpu_max_isa=AVX"
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


class JaxNumerics(Numerics):
    """jax.numpy, and the arithmetic of the kernel's shim written with it."""

    def __init__(self, dtype: str = "float64"):
        import jax.numpy as jnp

        super().__init__(jnp, dtype)

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

    def scatter_add(self, flat, index, values):
        return flat.at[index].add(values)

    def scatter_set(self, flat, index, values):
        return flat.at[index].set(values, mode="drop")

    def finite_flags(self, values, slices):
        # One pass and one reduction over all the values decides; the per-population,
        # per-variable flags (a reduction each) are computed only in the step where some
        # value is not finite. About 10% of CUBA's run time.
        from jax import lax

        if not values:  # a model without state variables: nothing can go bad
            return self.ones((len(slices), 0), dtype=bool)

        def exact():
            return self.stack([self.stack([self.all(self.isfinite(v[a:b])) for v in values]) for a, b in slices])

        every = self.isfinite(values[0])
        for v in values[1:]:
            every = every & self.isfinite(v)
        return lax.cond(self.all(every), lambda: self.ones((len(slices), len(values)), dtype=bool), exact)


class JaxEvents(Events):
    """Spike and synapse lists padded to static bounds (`brainsim.backends.bounds`)."""

    def __init__(self):
        import jax.numpy as jnp

        self._jnp = jnp

    def firing(self, mask):
        return mask

    def update_fired(self, x, firing, value):
        return self._jnp.where(firing, value, x)

    def spikes_by_population(self, firing, slices, capacities):
        return tuple(_compact(firing[a:b], capacity) for (a, b), capacity in zip(slices, capacities))

    def may_fire(self, count):
        return True

    def for_synapses(self, indptr, slots, rows, batch, body, state):
        # The rows cut into pieces of P slots (a row's last piece padded with the sentinel),
        # concatenated, and cut into batches of `batch` slots (a multiple of P): as many
        # batches as this step's rows need, in a while loop, so the work follows the spikes
        # and nothing can overflow. Piece q belongs to the first row whose running total of
        # pieces exceeds q. With room for every row at its longest in one batch, the rows'
        # slots are laid out directly, without search or loop.
        from jax import lax

        jnp = self._jnp
        size = slots.shape[1]
        starts, ends, pieces = _pieces(indptr, rows, size)
        sentinel = indptr[-1]
        if batch >= rows.shape[0] * slots.size:
            synapses = starts[:, None] + slots.reshape(-1)
            return body(jnp.where(synapses < ends[:, None], synapses, sentinel).reshape(-1), state)
        total = jnp.cumsum(pieces)
        per_batch = batch // size
        offsets = starts - (total - pieces) * size  # synapse of piece q of row r: offsets[r] + q P + i
        last = rows.shape[0] - 1

        def one_batch(k, state):
            piece = k * per_batch + jnp.arange(per_batch)
            row = jnp.minimum(jnp.searchsorted(total, piece, side="right", method="scan_unrolled"), last)
            synapses = (offsets[row] + piece * size)[:, None] + slots[0]
            return body(jnp.where(synapses < ends[row][:, None], synapses, sentinel).reshape(-1), state)

        return lax.fori_loop(0, (total[-1] + per_batch - 1) // per_batch, one_batch, state)

    def deliver(self, buffer, start, width, x):
        from jax import lax

        slot = lax.dynamic_slice(buffer, (start,), (width,))
        return x + slot[:-1], lax.dynamic_update_slice(buffer, self._jnp.zeros(width, buffer.dtype), (start,))

    def scheduled(self, indptr, neurons, m, size, most):
        jnp = self._jnp
        if neurons.shape[0] == 0:  # a source given no spike times: nothing to index
            return jnp.zeros(size, dtype=bool)
        k = indptr[m] + jnp.arange(most)
        chosen = jnp.where(k < indptr[m + 1], neurons[jnp.minimum(k, neurons.shape[0] - 1)], size)
        return jnp.zeros(size + 1, dtype=bool).at[chosen].set(True)[:size]


def _pieces(indptr, rows, size: int):
    """(first synapse, end, number of pieces of `size` synapses) of each row of `rows`."""
    starts, ends = indptr[rows], indptr[rows + 1]
    return starts, ends, (ends - starts + (size - 1)) // size


def _compact(mask, capacity: int):
    """(The indices of the first `capacity` true entries of `mask`, ascending, padded with len(mask);
    the number of true entries).

    As jnp.nonzero(mask, size=capacity), but XLA's prefix sums and scatters cost
    several ns per element on CPU, so for long masks only the blocks that hold a
    spike get one: count per block, pick the (at most `capacity`) non-empty
    blocks, rank within those. Blocks are as long as keeps `capacity` of them
    within a quarter of the mask (4 to 64 neurons), so the work stays below the
    mask's length whatever the capacity. The total comes from the same prefix sum.
    """
    import jax.numpy as jnp

    n = mask.shape[0]
    if n <= 1024:
        return jnp.nonzero(mask, size=capacity, fill_value=n)[0], mask.sum(dtype=jnp.int64)
    block = max(4, min(64, 2 ** math.floor(math.log2(max(1, n // (4 * capacity))))))
    n_blocks = -(-n // block)
    blocks = jnp.pad(mask, (0, (n_blocks + 1) * block - n)).reshape(n_blocks + 1, block)  # + an empty block
    counts = blocks.sum(axis=1, dtype=jnp.int64)
    before = jnp.cumsum(counts) - counts  # spikes in the blocks before each block
    active = jnp.nonzero(counts[:n_blocks] > 0, size=min(capacity, n_blocks), fill_value=n_blocks)[0]
    chosen = blocks[active]
    rank = before[active][:, None] + jnp.cumsum(chosen, axis=1, dtype=jnp.int64) - chosen
    index = active[:, None] * block + jnp.arange(block)
    slot = jnp.where(chosen & (rank < capacity), rank, capacity)
    indices = jnp.full(capacity + 1, n, dtype=jnp.int64).at[slot.reshape(-1)].set(index.reshape(-1), mode="drop")
    return indices[:capacity], before[n_blocks]


class JaxSimulation(Simulation):
    """The kernel's step under `lax.scan` and `jit`, run in chunks of at most `chunk_steps`.

    `bounds` (`brainsim.backends.bounds.StaticBounds`) holds the spike capacity of
    each population, estimated from the model and grown on demand (kept for later
    runs; `bounds.growths` says when and why), and the synapse batch size of each
    pathway.
    `exactness_problem` is None when results are bit-identical to numpy's, else the
    reason they may not be.
    """

    backend = "jax"

    def __init__(
        self,
        network: ir.Network,
        *,
        dtype: str = "float64",
        spike_capacity: int | None = None,
        event_batch: int | None = None,
        chunk_steps: int | None = None,
    ):
        self.exactness_problem = configure()
        if self.exactness_problem:
            warnings.warn(self.exactness_problem, ExactnessWarning, stacklevel=3)
        import jax

        super().__init__(network, dtype)
        self.bounds = StaticBounds(self.host, spike_capacity, event_batch)
        self.chunk_steps = chunk_steps or _DEFAULT_CHUNK_STEPS
        self._numerics, self._events = JaxNumerics(dtype), JaxEvents()
        program = compile_step(self.host, self._numerics, self._events)
        self._arrays = jax.device_put(program.arrays)
        self._initial = program.carry
        self._compiled: dict[tuple, object] = {}

    @property
    def capacities(self) -> dict[str, int]:
        """Spikes per step each population can report without growing its bound."""
        return {p.name: c for p, c in zip(self.network.populations, self.bounds.capacities)}

    @property
    def event_batches(self) -> list[int]:
        """Synapse slots each pathway delivers at once (as many batches as a step needs)."""
        return list(self.bounds.batches)

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
        synapse_traces: list[list] = [[] for r in self.host.synapse_records if r.steps is None]
        # Snapshots are taken between chunks: a chunk ends at every snapshot's step (docs/decisions.md).
        snapshot_steps = self.snapshot_steps()
        snapshots = {0: _synapses(jax.device_get(carry))} if 0 in snapshot_steps else {}
        for start, length in _chunks(n_steps, chunk, snapshot_steps):
            while True:
                key = (length, self.bounds.key())
                if key not in self._compiled:
                    began = time.perf_counter()
                    self._compiled[key] = self._compile(length, carry)
                    compile_seconds += time.perf_counter() - began
                began = time.perf_counter()
                outcome = jax.block_until_ready(self._compiled[key](carry, self._arrays, np.int64(start)))
                run_seconds += time.perf_counter() - began
                next_carry, peaks, bad_step, bad_flags, outputs = outcome
                if not self.bounds.grow(np.asarray(peaks), start):
                    break
            if (step := int(bad_step)) >= 0:
                raise nonfinite_error(self.host, jax.device_get(bad_flags), step)
            carry = next_carry
            for p, (indices, counts_now) in enumerate(outputs.spikes):
                steps, neurons = _events(np.asarray(indices), np.asarray(counts_now), start)
                counts[p] += np.bincount(neurons, minlength=populations[p].size)
                if p in recorded:
                    spikes[recorded.index(p)].append((steps, neurons))
            for r, values in enumerate(outputs.traces):
                traces[r].append(np.asarray(values))
            for r, values in enumerate(outputs.synapse_traces):
                synapse_traces[r].append(np.asarray(values))
            if start + length in snapshot_steps:
                snapshots[start + length] = _synapses(jax.device_get(carry))
        final = jax.device_get(carry)
        return Run(
            spikes={
                populations[p].name: tuple(np.concatenate(parts) for parts in zip(*spikes[k]))
                for k, p in enumerate(recorded)
            },
            counts={p.name: c for p, c in zip(populations, counts)},
            traces=tuple(np.concatenate(t) for t in traces),
            states=tuple(dict(zip((s.name for s in g.model.states), state.variables))
                         for g, state in zip(self.host.groups, final.groups)),
            synapses=_synapses(final),
            snapshots=snapshots,
            synapse_traces=tuple(np.concatenate(t) for t in synapse_traces),
            compile_seconds=compile_seconds,
            run_seconds=run_seconds,
        )

    def stepping(self) -> SingleSteps:
        """One jitted step per call; a population that spikes beyond its capacity grows
        it, and the step is taken again from the same carry (a carry is never changed)."""
        import jax

        def advance(carry, arrays, n):
            while True:
                key = ("one step", self.bounds.key())
                if key not in self._compiled:
                    self._compiled[key] = jax.jit(self._program().step)
                with deep_expressions():
                    next_carry, out = self._compiled[key](carry, arrays, np.int64(n))
                counts = np.array([int(count) for _, count in out.spikes], dtype=np.int64)
                if not self.bounds.grow(counts, n):
                    break
            spikes = tuple((np.asarray(indices)[:c], c) for (indices, _), c in zip(out.spikes, counts))
            return next_carry, out._replace(spikes=spikes, finite=tuple(np.asarray(f) for f in out.finite))

        return SingleSteps(jax.device_put(self._initial), self._arrays, advance, self._numerics.scatter_add)

    def _program(self):
        """The step compiled for the current bounds (capacities and batches)."""
        capacities, batches, column_batches = self.bounds.key()
        return compile_step(self.host, self._numerics, self._events, dict(enumerate(capacities)), batches, column_batches)

    def _bytes_per_step(self) -> int:
        spikes = sum(capacity + 1 for capacity in self.bounds.capacities)
        synapses = sum(len(r.indices) for r in self.host.synapse_records if r.steps is None)
        return 8 * (spikes + sum(len(r.indices) for r in self.host.records) + synapses) + 8

    def _compile(self, length: int, carry):
        import jax
        import jax.numpy as jnp
        from jax import lax

        capacities = self.bounds.key()[0]
        program = self._program()

        def run_chunk(carry, arrays, start):
            # Spike counts per neuron and the peaks that decide capacity
            # growth are computed from the outputs, once per chunk, not in every step.
            def body(state, n):
                kernel_carry, bad_step, bad_flags = state
                kernel_carry, out = program.step(kernel_carry, arrays, n)
                finite = [jnp.all(f) for f in out.finite]
                first = (bad_step < 0) & ~jnp.all(jnp.array(finite, dtype=bool)) if finite else False
                bad_step = jnp.where(first, n, bad_step)
                bad_flags = tuple(jnp.where(first, f, old) for f, old in zip(out.finite, bad_flags))
                return (kernel_carry, bad_step, bad_flags), out._replace(finite=())

            flags = tuple(jnp.ones((len(g.populations), len(g.model.states)), dtype=bool) for g in self.host.groups)
            initial = (carry, jnp.int64(-1), flags)
            (carry, bad_step, bad_flags), outputs = lax.scan(body, initial, start + jnp.arange(length))
            peaks = jnp.stack([count.max() for _, count in outputs.spikes]) if capacities else jnp.zeros(0, jnp.int64)
            return carry, peaks, bad_step, bad_flags, outputs

        lowered = jax.jit(run_chunk).lower(carry, self._arrays, np.int64(0))
        try:
            return lowered.compile(_COMPILER_OPTIONS)
        except Exception as error:  # an XLA without the option (its error type varies by version)
            if "No such compile option" not in str(error):
                raise
            return lowered.compile()


def _chunks(n_steps: int, chunk: int, stops: frozenset[int]):
    """(start, length) of the chunks of a run: at most `chunk` steps, ending at every step in `stops`."""
    start = 0
    while start < n_steps:
        end = min(n_steps, start + chunk, *(k for k in stops if start < k))
        yield start, end - start
        start = end


def _synapses(carry) -> tuple:
    """Each pathway's (synapse states, last updates) of a carry, as host arrays."""
    return tuple((tuple(np.asarray(v) for v in states), None if last is None else np.asarray(last))
                 for states, last in zip(carry.synapses, carry.updated))


def _events(indices: np.ndarray, counts: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, neuron indices) of the spikes in padded per-step index lists."""
    steps, slots = np.nonzero(np.arange(indices.shape[1])[None, :] < counts[:, None])
    return (start + steps).astype(np.int64), indices[steps, slots].astype(np.int64)
