"""The few operations whose code differs between backends: the kernel's shim.

The kernel is written once against two objects:

* `Numerics` (`xp`): an array module (numpy, jax.numpy) plus the arithmetic
  whose bits must be forced to agree: division, exact powers of two,
  scatter-add in a fixed order, scatter-set (synapse writes), and the
  finite-value check.
* `Events`: how spikes and synaptic events are listed and moved. A backend
  with dynamic shapes (numpy) lists exactly the neurons that fired and the
  synapses they reach; a backend with static shapes (jax) pads each list to a
  bound (`brainsim.backends.bounds`) and reports the true counts, so that the
  driver can grow the bound and rerun; it delivers synapses in batches of a
  fixed size, as many batches as a step's spikes need, so no synaptic event
  ever overflows.

Each operation is tested on its own against the other backend
(tests/backends/test_ops.py).
"""

from __future__ import annotations

import abc
from typing import Any, Sequence


class Numerics(abc.ABC):
    """An array module, plus the arithmetic whose bits the backends must force to agree.

    `float_dtype` is the module's float type every real value of a step is held
    in ("float64", the default, or "float32"): the kernel casts its arrays to it
    and draws random numbers in it, so one description of the step serves both.
    """

    def __init__(self, module, dtype: str = "float64"):
        self._module = module
        self.float_dtype = getattr(module, dtype)

    def signature_state(self) -> tuple:
        """What of this object the code of a step depends on (`brainsim.backends.signature`):
        not the module functions it has cached as attributes."""
        return type(self).__qualname__, self._module.__name__, str(self.float_dtype)

    def __getattr__(self, name: str):
        # Called only for names not found on the instance: fetch from the module once.
        value = getattr(self._module, name)
        setattr(self, name, value)
        return value

    @abc.abstractmethod
    def divide(self, a, b):
        """a / b, correctly rounded, whatever produced a and b."""

    @abc.abstractmethod
    def pow2(self, k):
        """2.0**k as float64 for integer arrays k in [-1022, 1023], exactly (for `xmath`'s
        own functions, which run in float64 only)."""

    @abc.abstractmethod
    def scatter_add(self, flat, index, values):
        """`flat` after flat[index[i]] += values[i] for i = 0, 1, ... in that order."""

    def scatter_add_each(self, flat, index, amounts: Sequence):
        """`flat` after flat[index[i]] += amounts[0][i], += amounts[1][i], ... for i = 0, 1, ... in that
        order: a synapse's several effects into one buffer, synapse by synapse (docs/semantics.md,
        "The order of sums"), as one scatter-add of the interleaved amounts (scalars broadcast)."""
        if len(amounts) == 1:
            return self.scatter_add(flat, index, amounts[0])
        values = self.stack([self.broadcast_to(a, index.shape) for a in amounts], axis=-1).reshape(-1)
        return self.scatter_add(flat, self.repeat(index, len(amounts)), values)

    @abc.abstractmethod
    def scatter_set(self, flat, index, values):
        """`flat` after flat[index[i]] = values[i] (indices distinct); an index past the end
        (a padded slot of a static-shape backend) is dropped."""

    @abc.abstractmethod
    def finite_flags(self, values: Sequence[Any], slices: tuple[tuple[int, int], ...]):
        """Boolean array [population, variable]: all of values[v][a:b] finite, for (a, b) in slices."""


class Events(abc.ABC):
    """Listing the neurons that fired and the synapses they reach, and moving events."""

    @abc.abstractmethod
    def firing(self, mask):
        """What `update_fired` and `spikes_by_population` need to know of the neurons in `mask`."""

    @abc.abstractmethod
    def update_fired(self, x, firing, value):
        """`x` with the elements of the neurons that fired replaced by those of `value`."""

    @abc.abstractmethod
    def spikes_by_population(self, firing, slices, capacities):
        """For each (a, b) in `slices`: (indices - a of the neurons in a:b that fired, ascending; their count).

        A backend with static shapes returns `capacity` indices padded with b - a;
        the count may then exceed the capacity (the driver must notice).
        """

    @abc.abstractmethod
    def may_fire(self, count) -> bool:
        """False only if `count` (spikes of a population this step) is known to be zero now.

        Lets a Python loop skip a silent population's pathways; a traced
        backend cannot know, and runs them (with nothing to deliver).
        """

    @abc.abstractmethod
    def for_synapses(self, indptr, slots, rows, batch: int | None, body, state):
        """`state` after `body(synapses, state)` over the synapses of the presynaptic neurons
        `rows`, row by row in CSR order.

        `indptr` has one more, empty row, which padded spike lists name; `slots` is the
        static-shape layout of the longest row (`brainsim.network.Pathway.slots`). A
        backend with dynamic shapes calls `body` once with exactly those synapses. A
        backend with static shapes calls it on batches of `batch` slots, as many as the
        rows need, each padded with the sentinel synapse `indptr[-1]`; the order of the
        synapses, and so of every sum, is the same.
        """

    def for_synapse_values(self, indptr, slots, rows, batch: int | None, arrays: tuple, body, state):
        """As `for_synapses`, with `body(values, state)` given `tuple(a[synapses] for a in arrays)`
        (the synapses' values, not their indices), which a backend may gather faster."""
        return self.for_synapses(indptr, slots, rows, batch,
                                 lambda synapses, state: body(tuple(a[synapses] for a in arrays), state), state)

    @abc.abstractmethod
    def deliver(self, buffer, start, size: int, x):
        """(x + buffer[start : start + size], buffer with [start : start + size + 1] zeroed: a
        slot's values and its trash column; the padding after them is never written)."""

    @abc.abstractmethod
    def scheduled(self, indptr, neurons, m, size: int, most: int):
        """Boolean mask of `size`: True for neurons[indptr[m] : indptr[m + 1]].

        `most` bounds indptr[m + 1] - indptr[m] for every m (known on the host).
        """
