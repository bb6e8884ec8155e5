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
  applies updates in index order on CPU, like `np.add.at`; on GPU, where XLA
  scatters with atomics, `brainsim.backends.ordered_sum` keeps that order);
* exp, log and tanh come from the kernel's own `xmath`, not from XLA, and the
  numpy loop flushes subnormal numbers to zero as XLA's CPU runtime does.

Shapes are static, so each population may report at most `capacity` spikes per
step (`brainsim.backends.bounds`: estimated from the model before the first
compile). Every step counts its spikes exactly; a chunk that sees more than a
capacity stops at that step, the capacity grows, the chunk is recompiled and
rerun from its start state, and the growth is reported. Synapses are delivered in batches
of a fixed size, as many as a step's spikes need, so they never overflow. No
spike and no event is ever dropped.
"""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from brainsim import ir
from brainsim.errors import Interrupted, InvalidValueError
from brainsim.interrupts import CALL_SECONDS, active
from brainsim.network import build
from brainsim.progress import RunBar
from brainsim.resources import device_limit
from brainsim.results import Results
from brainsim.backends.bounds import StaticBounds
from brainsim.backends.fused import available, compiled_option, fused
from brainsim.backends.kernel import compile_step, nonfinite_error
from brainsim.backends.ops import Events, Numerics
from brainsim.backends.ordered_sum import chosen_summation, ordered_scatter_add
from brainsim.backends.sharding import placement
from brainsim.backends.signature import signature
from brainsim.backends.simulation import Run, Simulation, SingleSteps, chunks, sampled_steps
from brainsim.validate import deep_expressions

EXACT_FLAG = "--xla_cpu_max_isa=AVX"
# For this program only, not the process: with region analysis XLA's copy insertion
# sees that the scan's carry (states, ring buffers) can be updated in place, instead of
# copying every carried array at the start of every step (CUBA: 12 copies per step
# down to 1, about 15% of the run time). Copies do not change any value.
_COMPILER_OPTIONS = {"xla_cpu_copy_insertion_use_region_analysis": True}
# Compiled chunks by (step signature, steps, argument shapes, devices), shared by every
# simulation in the process: a model run again with new values, or compiled again,
# reuses its program. The oldest beyond _PROGRAMS_KEPT are dropped.
_PROGRAMS: dict[tuple, object] = {}
_PROGRAMS_KEPT = 32
# A run's first paced call (`JaxSimulation._advance`) is this many steps; the next ones as many as
# `brainsim.interrupts.CALL_SECONDS` held at the speed seen, growing at most `PACE_GROWTH` times a call.
FIRST_CALL_STEPS, PACE_GROWTH = 64, 8


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
    """jax.numpy, and the arithmetic of the kernel's shim written with it.

    `ordered`: sum scattered updates with `brainsim.backends.ordered_sum` (no
    atomics: deterministic on GPU, the same bits as XLA's sequential CPU scatter).
    """

    def __init__(self, dtype: str = "float64", ordered: bool = False):
        import jax.numpy as jnp

        super().__init__(jnp, dtype)
        self.ordered = ordered

    def signature_state(self) -> tuple:
        return (*super().signature_state(), self.ordered)

    def divide(self, a, b):
        # XLA's algebraic simplifier rewrites a / broadcast(b) as a * (1 / b), (a / b) / c
        # as a / (b * c), a / sqrt(b) as a * rsqrt(b), ...: each changes the rounding. A
        # barrier hides the operands' origins from those patterns.
        return _barrier_divide(*self.broadcast_arrays(a, b))

    def pow2(self, k):
        from jax import lax

        return lax.bitcast_convert_type((k + 1023) << 52, self.float64)

    def scatter_add(self, flat, index, values):
        if self.ordered:
            return ordered_scatter_add(flat, index, values)
        return flat.at[index].add(values)

    def scatter_set(self, flat, index, values):
        return flat.at[index].set(values, mode="drop")

    def finite_flags(self, values, slices):
        # A sum of each variable decides: it is finite when every value is (a NaN or an
        # infinity makes the sum one too; a sum that overflows from finite values is a
        # false alarm that `exact` dismisses). The per-population, per-variable flags (a
        # reduction each) are computed only in a step where some sum is not finite. One
        # read of each variable, where an elementwise test fused with its producers
        # re-read their inputs: CUBA 256 000 runs 0.93x the time it took with that.
        from jax import lax

        if not values:  # a model without state variables: nothing can go bad
            return self.ones((len(slices), 0), dtype=bool)

        def exact():
            return self.stack([self.stack([self.all(self.isfinite(v[a:b])) for v in values]) for a, b in slices])

        total = values[0].sum()
        for v in values[1:]:
            total = total + v.sum()
        return lax.cond(self.isfinite(total), lambda: self.ones((len(slices), len(values)), dtype=bool), exact)


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
        sentinel = indptr[-1]

        def pieces(first, ends, state):
            synapses = first[:, None] + slots[0]
            return body(self._jnp.where(synapses < ends[:, None], synapses, sentinel).reshape(-1), state)

        return self._for_pieces(indptr, slots, rows, batch, pieces, state)

    def for_synapse_values(self, indptr, slots, rows, batch, arrays, body, state):
        # Each piece's P values by one slice of a gather (XLA's CPU gather costs several ns
        # per index, and this is most of the work of a step of a large network: Brunel's
        # 82 000 events a step), then the slots past a row's end set to the sentinel's
        # values: what gathering at the padded indices gives. A piece within P of an array's
        # end would have its slice clamped, so a batch that has one gathers by index (the
        # second gather costs compile time: Brunel's program 2.5 -> 3.3 s).
        from jax import lax

        jnp = self._jnp
        sentinel = indptr[-1]
        numbers = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(), start_index_map=(0,))
        size = slots.shape[1]

        def pieces(first, ends, state):
            synapses = first[:, None] + slots[0]
            valid = synapses < ends[:, None]

            def sliced():
                return tuple(jnp.where(valid, lax.gather(a, first[:, None], numbers, (size,), mode="clip"),
                                       a[sentinel]).reshape(-1) for a in arrays)

            def indexed():
                return tuple(a[jnp.where(valid, synapses, sentinel).reshape(-1)] for a in arrays)

            shortest = min(a.shape[0] for a in arrays)
            if shortest < size:  # a projection shorter than a piece (5 synapses in a piece of 8): no slice fits
                return body(indexed(), state)
            clamped = jnp.any(valid[:, 0] & (first > shortest - size))  # only padding past it
            return body(lax.cond(clamped, indexed, sliced), state)

        return self._for_pieces(indptr, slots, rows, batch, pieces, state)

    def _for_pieces(self, indptr, slots, rows, batch, body, state):
        """`body(first, ends, state)` over the pieces of P slots of the rows, in batches: the
        first synapse of each piece and the end of its row (a piece's slots from the end on
        are padding).

        The rows cut into pieces of P slots (a row's last piece padded), concatenated, and
        cut into batches of `batch` slots (a multiple of P): as many batches as this step's
        rows need, in a while loop, so the work follows the spikes and nothing can
        overflow. Piece q belongs to the first row whose running total of pieces exceeds
        q. With room for every row at its longest in one batch, the rows' pieces are laid
        out directly, without search or loop."""
        from jax import lax

        jnp = self._jnp
        size = slots.shape[1]
        starts, ends, pieces = _pieces(indptr, rows, size)
        if batch >= rows.shape[0] * slots.size:
            first = starts[:, None] + slots[:, 0]
            return body(first.reshape(-1), jnp.repeat(ends, slots.shape[0], total_repeat_length=first.size), state)
        total = jnp.cumsum(pieces)
        per_batch = batch // size
        offsets = starts - (total - pieces) * size  # synapse of piece q of row r: offsets[r] + q P + i
        last = rows.shape[0] - 1

        def one_batch(k, state):
            piece = k * per_batch + jnp.arange(per_batch)
            row = jnp.minimum(_positions(total, k * per_batch, per_batch), last)
            return body(offsets[row] + piece * size, ends[row], state)

        return lax.fori_loop(0, (total[-1] + per_batch - 1) // per_batch, one_batch, state)

    def deliver(self, buffer, start, size, x):
        from jax import lax

        slot = lax.dynamic_slice(buffer, (start,), (size,))
        return x + slot, lax.dynamic_update_slice(buffer, self._jnp.zeros(size + 1, buffer.dtype), (start,))

    def scheduled(self, indptr, neurons, m, size, most):
        jnp = self._jnp
        if neurons.shape[0] == 0:  # a source given no spike times: nothing to index
            return jnp.zeros(size, dtype=bool)
        k = indptr[m] + jnp.arange(most)
        chosen = jnp.where(k < indptr[m + 1], neurons[jnp.minimum(k, neurons.shape[0] - 1)], size)
        return jnp.zeros(size + 1, dtype=bool).at[chosen].set(True)[:size]


def _barrier_divide(a, b):
    """a / b with both operands behind an optimization barrier, also under `jax.vmap`: vmap
    would broadcast an unbatched operand along the batch axis after the barrier, and XLA
    would then rewrite a / broadcast(b) as a * (1 / b) again. Its batching rule broadcasts
    both operands to the batched shape first, then divides behind the barrier."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    @jax.custom_batching.custom_vmap
    def divide(a, b):
        a, b = lax.optimization_barrier((a, b))
        return a / b

    @divide.def_vmap
    def _(axis_size, in_batched, a, b):
        a, b = (x if batched else jnp.broadcast_to(x, (axis_size, *x.shape)) for x, batched in zip((a, b), in_batched))
        return divide(a, b), True

    return divide(a, b)


def _pieces(indptr, rows, size: int):
    """(first synapse, end, number of pieces of `size` synapses) of each row of `rows`."""
    starts, ends = indptr[rows], indptr[rows + 1]
    return starts, ends, (ends - starts + (size - 1)) // size


def _positions(totals, first, count: int):
    """For each q in first .. first + count - 1, the number of entries of the ascending
    `totals` that are at most q: `jnp.searchsorted(totals, q, side="right")`.

    By counting instead of searching: a histogram of the totals (clipped to the range)
    and its running sum. XLA's binary search on CPU is log2(len(totals)) dependent
    gathers, each a loop of its own over the queries; this is one scatter and one prefix
    sum (CUBA 256 000: its spike lists and synapse batches, 0.3 of a silent step).
    """
    import jax.numpy as jnp

    bins = jnp.clip(totals - first, 0, count)
    return jnp.cumsum(jnp.zeros(count + 1, totals.dtype).at[bins].add(1))[:count]


def _compact(mask, capacity: int):
    """(The indices of the first `capacity` true entries of `mask`, ascending, padded with len(mask);
    the number of true entries).

    As jnp.nonzero(mask, size=capacity), but XLA's prefix sums and scatters cost
    several ns per element on CPU, and this runs on every population in every
    step. So the mask is packed into 64-bit words (`_words`: one pass, no
    reduction), a prefix sum runs over the words' bit counts only (n / 64), and
    each of the `capacity` outputs finds its word by counting (`_positions`) and
    its bit in the word by halving (`_select_bit`): work proportional to
    n / 64 + capacity. A capacity near n gains nothing from that: there
    jnp.nonzero is cheaper.
    """
    import jax.numpy as jnp
    from jax import lax

    n = mask.shape[0]
    if 4 * capacity >= n:
        return jnp.nonzero(mask, size=capacity, fill_value=n)[0], mask.sum(dtype=jnp.int64)
    words = _words(mask)
    ones = lax.population_count(words).astype(jnp.int64)
    ends = jnp.cumsum(ones)  # true entries up to and including each word
    rank = jnp.arange(capacity, dtype=jnp.int64)
    word = _positions(ends, 0, capacity)  # len(words): past the last
    inside = jnp.minimum(word, words.shape[0] - 1)
    bit = _select_bit(words[inside], rank - (ends[inside] - ones[inside]))
    return jnp.where(word < words.shape[0], inside * 64 + bit, n), ends[-1]


def _words(mask):
    """`mask` as 64-bit words, bit j of word w holding entry 64 w + j (zeros past the end).

    Bytes to words by bitcasts, and the eight 0/1 bytes of a word to eight bits by one
    multiplication (bit i of byte i lands in the top byte): elementwise, about three
    times faster on CPU than a sum of shifted bits. Bitcasts follow the byte order of
    the machine; every platform jax runs on is little-endian.
    """
    import jax.numpy as jnp
    from jax import lax

    n_words = -(-mask.shape[0] // 64)
    octets = lax.bitcast_convert_type(
        jnp.pad(mask, (0, 64 * n_words - mask.shape[0])).astype(jnp.uint8).reshape(8 * n_words, 8), jnp.uint64)
    packed = ((octets * jnp.uint64(0x0102040810204080)) >> jnp.uint64(56)).astype(jnp.uint8)
    return lax.bitcast_convert_type(packed.reshape(n_words, 8), jnp.uint64)


def _select_bit(word, k):
    """The position of the set bit of rank `k` (from 0, lowest first) in each `word` (k below its bit count)."""
    import jax.numpy as jnp
    from jax import lax

    position = jnp.zeros(k.shape, dtype=jnp.int64)
    for width in (32, 16, 8, 4, 2, 1):
        low = lax.population_count(word & jnp.uint64((1 << width) - 1)).astype(jnp.int64)
        higher = k >= low  # the bit is in the upper half of the remaining `2 width` bits
        k = jnp.where(higher, k - low, k)
        word = jnp.where(higher, word >> jnp.uint64(width), word)
        position = position + jnp.where(higher, width, 0)
    return position


class JaxSimulation(Simulation):
    """The kernel's step under `lax.scan` and `jit`, run in chunks of at most `chunk_steps`.

    `bounds` (`brainsim.backends.bounds.StaticBounds`) holds the spike capacity of
    each population, estimated from the model and grown on demand (kept for later
    runs; `bounds.growths` says when and why), and the synapse batch size of each
    pathway.
    `exactness_problem` is None when results are bit-identical to numpy's, else the
    reason they may not be.
    `summation` ("ordered" or "scatter", `brainsim.backends.ordered_sum.chosen_summation`)
    is how synaptic events are summed; `devices` (None, a number or jax devices) where
    the arrays live (`brainsim.backends.sharding`).
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
        summation: str | None = None,
        devices=None,
        max_memory: int | str | None = None,
        compiled_updates: bool | str = "auto",
    ):
        self._compiled_mode = compiled_option(compiled_updates, dtype)
        self.exactness_problem = configure()
        if self.exactness_problem:
            warnings.warn(self.exactness_problem, ExactnessWarning, stacklevel=3)
        import jax

        self.summation = chosen_summation(summation, jax.default_backend())
        self._placement = placement(devices)
        where = [device.platform for device in self._placement.members()]
        if where != ["cpu"]:
            if self._compiled_mode is True:
                raise InvalidValueError(f"compiled_updates runs on one CPU device, not on {len(where)} "
                                        f"({', '.join(where)}): its loops are C, called from XLA on the host")
            self._compiled_mode = False  # "auto": plain
        super().__init__(network, dtype, chunk_steps, max_memory)
        self._bound_options = (spike_capacity, event_batch)
        self.bounds, self._bounds_host = StaticBounds(self.host, spike_capacity, event_batch), self.host
        self._numerics, self._events = JaxNumerics(dtype, ordered=self.summation == "ordered"), JaxEvents()
        self.traces = 0  # how many times this simulation traced a chunk (a cached program is not traced)
        self._call_steps = FIRST_CALL_STEPS  # steps per paced call (`_advance`), adapted to the speed seen
        self._prepare()
        self._carry = self._initial_carry()

    def _network_limits(self) -> list:
        """The host's memory, and, unless the user set a limit, what the devices have free."""
        if self.max_memory is not None:
            return super()._network_limits()
        return [*super()._network_limits(), device_limit(self._placement.members())]

    def _prepare(self) -> None:
        """The arrays and initial carry of `host`; after `set`, bounds at least as large as before,
        so that a program compiled for the old values fits the new ones."""
        import jax

        if self._bounds_host is not self.host:
            self.bounds = StaticBounds(self.host, *self._bound_options).at_least(self.bounds)
            self._bounds_host = self.host
        program = compile_step(self.host, self._numerics, self._events)
        self._arrays = self._placement.arrays(program.arrays)
        self._initial = program.carry
        self.compiled_updates, self.plain_updates_reason = bool(self._compiled_mode), None
        if self.compiled_updates:
            # Tracing a step builds its loops (or finds them in the cache) now, not in the first
            # run, and finds, under "auto", whether they can run at all.
            traced, self.plain_updates_reason = available(self._compiled_mode, lambda: jax.eval_shape(
                self._program().step, self._initial, self._arrays, np.int64(0)))
            self.compiled_updates = traced is not None
        # Pathways whose synapse states no step changes: a chunk does not return them (`_unchanged`).
        self._static = frozenset(range(len(program.carry.synapses))) - set(program.step.plastic_pathways)
        self._compiled: dict[tuple, object] = {}  # (steps, bounds) -> the compiled chunk, for this host
        self._rows: dict[tuple, tuple] = {}  # the rows of the last call, by its key in _compiled

    @property
    def capacities(self) -> dict[str, int]:
        """Spikes per step each population can report without growing its bound."""
        return {p.name: c for p, c in zip(self.network.populations, self.bounds.capacities)}

    @property
    def event_batches(self) -> list[int]:
        """Synapse slots each pathway delivers at once (as many batches as a step needs)."""
        return list(self.bounds.batches)

    def _initial_carry(self):
        return self._placement.carry(self._initial)

    def _synapse_arrays(self, carry) -> tuple:
        import jax

        return _synapses(jax.device_get(carry))

    def _bytes_per_step(self) -> int:
        sizes = [p.size for p in self.network.populations]
        return super()._bytes_per_step() + sum(
            np.dtype(_index_dtype(size)).itemsize * (capacity + 1) for size, capacity in zip(sizes, self.bounds.capacities))

    def _advance(self, carry, start: int, n_steps: int, interruptible: bool = True) -> tuple[object, Run]:
        """`n_steps` steps of one compiled chunk (`_program_steps` long, the steps past
        `n_steps` skipped); a capacity it overflowed grows, and the chunk is compiled again and
        rerun from `carry` (which is never changed).

        Inside `brainsim.interrupts.deferred` (and `interruptible`) the chunk runs in calls of
        the same program paced to about `CALL_SECONDS` each (its start and stop are runtime
        inputs, so no call length has a program of its own), each call's outputs cut to its
        steps and moved to the host before the next: a Ctrl-C is seen after the call it
        arrives in, and the chunk stops there. A compile runs in a worker thread meanwhile."""
        import jax

        deferral = active() if interruptible else None
        length = self._program_steps(n_steps)
        compile_seconds = run_seconds = 0.0
        pieces, done = [], 0
        while done < n_steps and not (deferral is not None and deferral.requested):
            steps = n_steps - done if deferral is None else min(n_steps - done, self._call_steps)
            while True:
                key = (length, self.bounds.key())
                if key not in self._compiled:
                    began = time.perf_counter()
                    program = self._compile_watched(length, carry, deferral)
                    compile_seconds += time.perf_counter() - began
                    if program is None:  # Ctrl-C while compiling
                        break
                    self._compiled[key] = program
                chunk = self._compiled[key]
                rows = self._rows.pop(key, None) or chunk.blank_rows()
                began = time.perf_counter()
                outcome = jax.block_until_ready(chunk.run(
                    carry, self._arrays, np.int64(start + done), np.int64(start + done + steps), rows))
                elapsed = time.perf_counter() - began
                run_seconds += elapsed
                next_carry, peaks, bad_step, bad_flags, outputs, samples = outcome
                del outcome, rows
                if not self.bounds.grow(np.asarray(peaks), start + done):
                    break
            if key not in self._compiled:
                break
            if (step := int(bad_step)) >= 0:
                raise nonfinite_error(self.host, jax.device_get(bad_flags), step)
            pieces.append(self._chunk_run(outputs, samples, start + done, steps))
            self._rows = {key: (outputs, samples)}  # for the next call to write into (one program's at most)
            del outputs, samples
            carry = self._placement.carry(_restored(next_carry, carry))  # the compiled chunk takes the carry as placed
            done += steps
            self._call_steps = _paced(steps, elapsed)
        final = jax.device_get(carry)
        run = Run(
            spikes={name: tuple(np.concatenate([p.spikes[name][k] for p in pieces]) if pieces else np.zeros(0, np.int64)
                                for k in (0, 1)) for name in self._recorded_spikes()},
            counts={p.name: sum((piece.counts[p.name] for piece in pieces), np.zeros(p.size, dtype=np.int64))
                    for p in self.network.populations},
            traces=self._joined_rows([p.traces for p in pieces], [len(r.indices) for r in self.host.records]),
            states=tuple(dict(zip((s.name for s in g.model.states), state.variables))
                         for g, state in zip(self.host.groups, final.groups)),
            synapses=_synapses(final),
            synapse_traces=self._joined_rows([p.synapse_traces for p in pieces],
                                             [len(i) for i in self._arrays.synapse_records]),
            compile_seconds=compile_seconds,
            run_seconds=run_seconds,
            steps=done,
        )
        return carry, run

    def _joined_rows(self, pieces: list[tuple], widths: list[int]) -> tuple:
        """Per record, the rows of the pieces of a chunk one after the other (no rows: an
        empty array of the record's width)."""
        if len(pieces) == 1:
            return pieces[0]
        return tuple(np.concatenate(rows) if rows else np.zeros((0, width), self._numerics.float_dtype)
                     for rows, width in zip(zip(*pieces) if pieces else [()] * len(widths), widths))

    def _recorded_spikes(self) -> list[str]:
        recorded = {record.population for record in self.network.spike_records}
        return [p.name for p in self.network.populations if p.name in recorded]

    def _compile_watched(self, length: int, carry, deferral):
        """`_compile`, in a worker thread where `deferral` can ask to stop: XLA compiles for
        seconds without returning to Python, where the request is seen. None if it asked
        first (the compile goes on and lands in the process's cache for a later run)."""
        if deferral is None:
            return self._compile(length, carry)
        outcome = {}

        def compile_program():
            try:  # (under the main thread's deep_expressions: the recursion limit is the process's)
                outcome["program"] = self._compile(length, carry)
            except BaseException as error:  # handed to the main thread, raised there
                outcome["error"] = error

        worker = threading.Thread(target=compile_program, name="brainsim compile", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.05)
            if deferral.requested:
                return None
        if "error" in outcome:
            raise outcome["error"]
        return outcome["program"]

    def _program_steps(self, n_steps: int) -> int:
        """The steps of the compiled chunk that runs a chunk of `n_steps`: the chunk length,
        or the power of two at least `n_steps` where that is shorter. A chunk cut short (the
        last of a run, one ending at a snapshot, a short run) then reuses a program compiled
        for a longer one, with its extra steps skipped, instead of compiling its own length."""
        return min(self._chunk_length(), 2 ** math.ceil(math.log2(max(n_steps, 1))))

    def _chunk_run(self, outputs, samples, start: int, n_steps: int, final=None) -> Run:
        """The `Run` of a chunk's outputs and sampled records (the rows of a longer program
        past `n_steps` are skipped steps; those of the steps are copied to the host, so that
        nothing keeps the program's whole buffers alive) and its final carry (where given: a
        piece of a chunk has none of its own)."""
        populations = self.network.populations
        wanted = {record.population for record in self.network.spike_records}
        spikes, counts = {}, {}
        for p, (indices, counts_now) in enumerate(outputs.spikes):
            steps, neurons = _events(np.asarray(indices)[:n_steps], np.asarray(counts_now)[:n_steps], start)
            counts[populations[p].name] = np.bincount(neurons, minlength=populations[p].size)
            if populations[p].name in wanted:
                spikes[populations[p].name] = (steps, neurons)
        every_step, sampled = iter(outputs.traces), iter(samples)
        traces = tuple(
            np.array(np.asarray(next(every_step))[:n_steps]) if record.every == 1
            else np.array(np.asarray(next(sampled))[: len(sampled_steps(start, n_steps, record.every))])
            for record in self.host.records
        )
        return Run(
            spikes=spikes,
            counts=counts,
            traces=traces,
            states=() if final is None else tuple(dict(zip((s.name for s in g.model.states), state.variables))
                                                  for g, state in zip(self.host.groups, final.groups)),
            synapses=() if final is None else _synapses(final),
            synapse_traces=tuple(np.array(np.asarray(values)[:n_steps]) for values in outputs.synapse_traces),
            compile_seconds=0.0,
            run_seconds=0.0,
            steps=n_steps,
        )

    def _run_batch(self, models: list, duration: float, bar: RunBar) -> list[Results]:
        """Every model in one compiled program: the chunk under `jax.vmap`, over the arrays and
        carries that differ between the models (those equal for all are passed once)."""
        import jax

        own = signature(self._program().step), _shapes((self._arrays, self._initial))
        members = [self._member(model, own) for model in models]
        hosts = [host for host, _, _ in members]
        arrays, array_axes = _stacked([a for _, a, _ in members])
        carry = jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *(c for _, _, c in members))  # states all differ
        n_steps = hosts[0].steps(duration)
        parts: list[list[Results]] = [[] for _ in members]
        snapshot_steps = self.snapshot_steps()
        deferral, call_steps = active(), self._call_steps
        for start, length in chunks(0, n_steps, self._chunk_length(), snapshot_steps):
            steps = self._program_steps(length)
            done = 0
            while done < length:  # inside `deferred`, calls paced as `_advance` paces them
                first = start + done
                now = length - done if deferral is None else min(length - done, call_steps)
                compile_seconds = run_seconds = 0.0
                while True:
                    key = ("batch", len(members), steps, self.bounds.key(), _shapes(array_axes))
                    if key not in self._compiled:
                        began = time.perf_counter()
                        program = self._program()
                        function = jax.vmap(self._chunk_function(program, steps), in_axes=(0, array_axes, None, None, 0))
                        shapes = jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct((len(members), *x.shape), x.dtype),
                                                        self._row_shapes(program, steps, members[0][2]))
                        self._compiled[key] = _Chunk(_lowered(jax.jit(function).lower(
                            carry, arrays, np.int64(0), np.int64(0), shapes)), shapes)
                        compile_seconds += time.perf_counter() - began
                    began = time.perf_counter()
                    outcome = jax.block_until_ready(self._compiled[key].run(
                        carry, arrays, np.int64(first), np.int64(first + now), self._compiled[key].blank_rows()))
                    elapsed = time.perf_counter() - began
                    run_seconds += elapsed
                    next_carry, peaks, bad_step, bad_flags, outputs, samples = jax.device_get(outcome)
                    next_carry = _restored(next_carry, carry)
                    if not self.bounds.grow(np.asarray(peaks).max(axis=0), first):
                        break
                for m, host in enumerate(hosts):
                    member = jax.tree_util.tree_map(lambda x: x[m], (next_carry, bad_step, bad_flags, outputs, samples))
                    final, bad, flags, own_outputs, own_samples = member
                    if (step := int(bad)) >= 0:
                        raise nonfinite_error(host, flags, step)
                    run = replace(self._chunk_run(own_outputs, own_samples, first, now, final),
                                  compile_seconds=compile_seconds, run_seconds=run_seconds)
                    snapshots = {k: _synapses(final) for k in (first + now,) if k in snapshot_steps}
                    if first == 0 and 0 in snapshot_steps:
                        snapshots[0] = _synapses(members[m][2])
                    parts[m].append(self._results(run, first, now, snapshots, host))
                carry, done = next_carry, done + now
                bar.advance(len(members) * now)
                call_steps = _paced(now, elapsed)
                if deferral is not None and deferral.requested:
                    raise Interrupted([Results.joined(p) for p in parts], (first + now) * hosts[0].dt,
                                      n_steps * hosts[0].dt)
        return [replace(Results.joined(p), duration=duration) for p in parts]

    def _member(self, model, own: tuple) -> tuple:
        """(host, arrays, initial carry) of a batch member, checked to have this simulation's
        structure (`own`: its step's signature and argument shapes)."""
        with deep_expressions():
            host = build(model.network)
            program = self._program(host)
        if (signature(program.step), _shapes((program.arrays, program.carry))) != own:
            raise InvalidValueError(
                "a set of values in the batch changes the network's structure (a population's size, the number "
                "of synapses a random rule drew, a delay or refractory period in steps, a group of populations "
                "split by its own value): run it on its own, or give every set the same structure"
            )
        return host, program.arrays, program.carry

    def _held(self) -> tuple:
        return self._arrays, self._initial

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

        return SingleSteps(self._placement.carry(self._initial), self._arrays, advance, self._numerics.scatter_add)

    def _program(self, host=None):
        """The step of `host` (default: this simulation's) compiled for the current bounds
        (capacities and batches)."""
        capacities, batches, column_batches = self.bounds.key()
        program = compile_step(host or self.host, self._numerics, self._events, dict(enumerate(capacities)), batches,
                               column_batches)
        return fused(program, host or self.host, xla=True) if self.compiled_updates else program

    def _compile(self, length: int, carry):
        """The chunk of `length` steps for the current bounds: from this process's cache of
        compiled programs if a program of the same step code (`signature`), length and
        argument shapes was compiled before, by this simulation or another; else traced and
        compiled (counted in `traces`)."""
        program = self._program()
        where = self._placement.devices, getattr(self._placement, "mesh", None)
        key = (signature(program.step), length, _shapes(carry), _shapes(self._arrays), where)
        if key not in _PROGRAMS:
            _PROGRAMS[key] = self._traced(program, length, carry)
            while len(_PROGRAMS) > _PROGRAMS_KEPT:
                _PROGRAMS.pop(next(iter(_PROGRAMS)))
        return _PROGRAMS[key]

    def _traced(self, program, length: int, carry) -> "_Chunk":
        import jax

        rows = self._row_shapes(program, length, carry)
        # The rows are donated: each call writes its steps into the buffers of the call before.
        lowered = jax.jit(self._chunk_function(program, length), donate_argnums=4).lower(
            carry, self._arrays, np.int64(0), np.int64(0), rows)
        return _Chunk(_lowered(lowered), rows)

    def _row_shapes(self, program, length: int, carry) -> tuple:
        """The shapes of a chunk's rows of `length` steps: (per-step outputs, sampled records)."""
        import jax

        outputs = jax.eval_shape(lambda c: self._outputs_of(program.step(c, self._arrays, np.int64(0))[1]), carry)
        sampled = tuple(jax.ShapeDtypeStruct((-(-length // r.every), len(r.indices)), self._numerics.float_dtype)
                        for r in self.host.records if r.every > 1)
        return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct((length, *x.shape), x.dtype), outputs), sampled

    def _outputs_of(self, out):
        """A step's `Outputs` as a chunk keeps them: spike indices in int32 where the population
        fits (half the bytes a chunk outputs), the traces recorded every step."""
        index_dtypes = [_index_dtype(p.size) for p in self.network.populations]
        spikes = tuple((indices.astype(dtype), count.astype(dtype))
                       for (indices, count), dtype in zip(out.spikes, index_dtypes))
        traces = tuple(values for record, values in zip(self.host.records, out.traces) if record.every == 1)
        return out._replace(spikes=spikes, finite=(), traces=traces)

    def _chunk_function(self, program, length: int):
        """`run_chunk(carry, arrays, start, stop, rows)`: steps start .. stop - 1 (at most `length`)
        of `program` in a loop of at most `length` steps; the steps from `stop` on, those after a
        step that overflowed a capacity (the chunk is then run again with larger ones) and those
        after a step whose state went nan or inf are skipped. `rows` (`_row_shapes`: the
        outputs and samples of an earlier call, or blank) are overwritten from row 0, as many
        rows as steps run; those past them are left as they were, never read."""
        import jax
        import jax.numpy as jnp
        from jax import lax

        capacities = self.bounds.key()[0]
        records = self.host.records
        intervals = [record.every for record in records if record.every > 1]

        def run_chunk(carry, arrays, start, stop, rows):
            self.traces += 1
            # Spike counts per neuron and the peaks that decide capacity
            # growth are computed from the outputs, once per chunk, not in every step.
            # A record sampled every k steps fills its own buffer of ceil(length / k) rows,
            # so that the chunk holds its samples only.
            first = [(start + every) // every for every in intervals]  # the chunk's first sample, counted from t = 0
            # A while loop rather than lax.scan (which XLA runs as the same loop): its condition
            # stops at `stop` and after an overflow at no cost per step, where a lax.cond around
            # the step cost CUBA 16 000 about 15% of its run. Rows are written in place into
            # the donated buffers of the call before: no call allocates or clears its rows, so a
            # call costs its steps, however few (the pacing of `_advance`).
            outputs, buffers = rows

            def more(state):
                i, _, bad_step, *_, overflowed = state
                return (i < length) & (start + i < stop) & ~overflowed & (bad_step < 0)

            def step(state):
                i, kernel_carry, bad_step, bad_flags, buffers, outputs, _ = state
                n = start + i
                kernel_carry, out = program.step(kernel_carry, arrays, n)
                finite = [jnp.all(f) for f in out.finite]
                first_bad = (bad_step < 0) & ~jnp.all(jnp.array(finite, dtype=bool)) if finite else False
                bad_step = jnp.where(first_bad, n, bad_step)
                bad_flags = tuple(jnp.where(first_bad, f, old) for f, old in zip(out.finite, bad_flags))
                sampled = [values for record, values in zip(records, out.traces) if record.every > 1]
                buffers = tuple(_sample(buffer, values, n, every, k0)
                                for buffer, values, every, k0 in zip(buffers, sampled, intervals, first))
                outputs = jax.tree_util.tree_map(lambda rows, row: lax.dynamic_update_index_in_dim(rows, row, i, 0),
                                                 outputs, self._outputs_of(out))
                overflowed = jnp.asarray(False)
                for (_, count), capacity in zip(out.spikes, capacities):
                    overflowed = overflowed | (count > capacity)
                return i + 1, kernel_carry, bad_step, bad_flags, buffers, outputs, overflowed

            flags = tuple(jnp.ones((len(g.populations), len(g.model.states)), dtype=bool) for g in self.host.groups)
            initial = (jnp.int64(0), carry, jnp.int64(-1), flags, buffers, outputs, jnp.asarray(False))
            done, carry, bad_step, bad_flags, buffers, outputs, _ = lax.while_loop(more, step, initial)
            written = jnp.arange(length) < done  # the rows past them are an earlier call's
            peaks = jnp.stack([jnp.where(written, count, 0).max() for _, count in outputs.spikes]) if capacities \
                else jnp.zeros(0, jnp.int64)
            return _unchanged(carry, self._static), peaks, bad_step, bad_flags, outputs, buffers

        return run_chunk


class _Chunk(NamedTuple):
    """A compiled chunk (`JaxSimulation._chunk_function`) and the shapes of its rows."""

    run: object
    rows: tuple

    def blank_rows(self) -> tuple:
        """Rows for a first call, placed where the program takes them."""
        import jax

        shardings = self.run.input_shardings[0][4]
        return jax.tree_util.tree_map(lambda shape, sharding: jax.device_put(np.zeros(shape.shape, shape.dtype), sharding),
                                      self.rows, shardings)


def _unchanged(carry, static: frozenset):
    """`carry` without the synapse states of the `static` pathways (each an empty tuple): a
    chunk returning them would copy them out every call (Brunel: 135 MB), unchanged."""
    return carry._replace(synapses=tuple(() if c in static else states for c, states in enumerate(carry.synapses)))


def _restored(returned, carry):
    """The carry a chunk returned (`_unchanged`) with the static synapse states of `carry` put back."""
    return returned._replace(synapses=tuple(new or old for new, old in zip(returned.synapses, carry.synapses)))


def _paced(steps: int, seconds: float) -> int:
    """The steps of the next call after one of `steps` took `seconds`: about `CALL_SECONDS`."""
    wanted = steps * CALL_SECONDS / seconds if seconds > 0 else steps * PACE_GROWTH
    return max(1, min(int(wanted), steps * PACE_GROWTH))


def _lowered(lowered):
    """A lowered program compiled with `_COMPILER_OPTIONS` (where this XLA has them)."""
    try:
        return lowered.compile(_COMPILER_OPTIONS)
    except Exception as error:  # an XLA without the option (its error type varies by version)
        if "No such compile option" not in str(error):
            raise
        return lowered.compile()


def _stacked(trees: list) -> tuple:
    """The trees as one, with a leading member axis on the leaves that differ between them
    (the others once, as they are), and the tree of those axes (0 or None) for `jax.vmap`."""
    import jax

    flat = [jax.tree_util.tree_flatten(tree) for tree in trees]
    structure = flat[0][1]
    stacked, axes = [], []
    for leaves in zip(*(leaves for leaves, _ in flat)):
        first = leaves[0]
        same = all(np.array_equal(first, leaf) and np.asarray(first).dtype == np.asarray(leaf).dtype for leaf in leaves[1:])
        stacked.append(first if same else np.stack(leaves))
        axes.append(None if same else 0)
    return jax.tree_util.tree_unflatten(structure, stacked), jax.tree_util.tree_unflatten(structure, axes)


def _shapes(tree) -> tuple:
    """The structure, shapes and dtypes of a tree of arrays: what a compiled program's arguments must match."""
    import jax

    leaves, structure = jax.tree_util.tree_flatten(tree)
    return structure, tuple((np.shape(leaf), np.dtype(getattr(leaf, "dtype", type(leaf))).str) for leaf in leaves)


def _sample(buffer, values, n, every: int, first):
    """`buffer` with row (n + 1) / every - first set to `values` if step n ends at a multiple
    of `every`, else unchanged."""
    import jax.numpy as jnp
    from jax import lax

    row = jnp.clip((n + 1) // every - first, 0, buffer.shape[0] - 1)
    old = lax.dynamic_slice(buffer, (row, 0), (1, buffer.shape[1]))[0]
    new = jnp.where((n + 1) % every == 0, values, old)
    return lax.dynamic_update_slice(buffer, new[None, :], (row, 0))


def _synapses(carry) -> tuple:
    """Each pathway's (synapse states, last updates) of a carry, as host arrays."""
    return tuple((tuple(np.asarray(v) for v in states), None if last is None else np.asarray(last))
                 for states, last in zip(carry.synapses, carry.updated))


def _index_dtype(size: int):
    """The integer type of a population's spike indices in a chunk's outputs (they run to `size`)."""
    return np.int32 if size < 2**31 - 1 else np.int64


def _events(indices: np.ndarray, counts: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps, neuron indices) of the spikes in padded per-step index lists."""
    steps, slots = np.nonzero(np.arange(indices.shape[1])[None, :] < counts[:, None])
    return (start + steps).astype(np.int64), indices[steps, slots].astype(np.int64)
