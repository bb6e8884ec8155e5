"""Scatter-add in a fixed order without atomics: the jax backend's summation on GPU.

On CPU, XLA's scatter-add applies its updates one after another in index order,
as numpy's `np.add.at` does, so the sums of synaptic events into a ring-buffer
cell have the same bits on both backends. On a GPU, XLA scatters with atomic
additions, which land in whatever order the threads reach the cell: float
addition is not associative, so the bits change from run to run.

`ordered_scatter_add` gives the sequential result without any colliding write:

1. stable-sort the updates by target cell: each cell's updates become a
   contiguous run, still in their original order;
2. the first update of each run (its head) starts from the cell's value, and in
   round r = 0, 1, ... adds the r-th update of its run: element-wise work with
   gathers, one round per update of the most-updated cell;
3. the heads write their sums back, one write per cell (a scatter with distinct
   indices, which no order can change).

Each cell sees ((flat[c] + v0) + v1) + ... in the original order: the bits of
the sequential scatter-add by construction, whatever the device. The work is a
sort of the updates plus one element-wise pass per round; the number of rounds
is the largest number of updates one cell receives in one call (a few for
synaptic input spread over many neurons; all of them if every update hits one
cell).
"""

from __future__ import annotations


def ordered_scatter_add(flat, index, values):
    """`flat` after flat[index[i]] += values[i] for i = 0, 1, ... in that order, with jax,
    as the same additions done one by one, but with no two writes to one cell at once.

    Indices must lie in [0, len(flat)) (the kernel's always do: padded synapses
    name a spare cell).
    """
    import jax.numpy as jnp
    from jax import lax

    index = jnp.ravel(index)
    if index.shape[0] == 0:
        return flat
    values = jnp.broadcast_to(values, index.shape).astype(flat.dtype)
    order = jnp.argsort(index, stable=True)
    cells, updates = index[order], values[order]
    k = cells.shape[0]
    position = jnp.arange(k)
    head = jnp.concatenate([jnp.ones(1, dtype=bool), cells[1:] != cells[:-1]])
    # The length of each head's run: the next head's position minus its own.
    next_head = lax.cummin(jnp.where(head, position, k)[::-1])[::-1]
    run = jnp.concatenate([next_head[1:], jnp.full(1, k, dtype=next_head.dtype)]) - position

    def add_round(state):
        r, sums = state
        # where, not + 0.0: adding zero would turn a -0.0 into 0.0, which the sequential sum keeps.
        taken = updates[jnp.minimum(position + r, k - 1)]
        return r + 1, jnp.where(r < run, sums + taken, sums)

    longest = jnp.max(jnp.where(head, run, 0))
    _, sums = lax.while_loop(lambda state: state[0] < longest, add_round, (jnp.zeros((), dtype=run.dtype), flat[cells]))
    return flat.at[jnp.where(head, cells, flat.shape[0])].set(sums, mode="drop")


SUMMATIONS = ("ordered", "scatter")


def chosen_summation(summation: str | None, platform: str) -> str:
    """The summation the jax backend uses: `summation` if given, else "ordered" on any
    platform but the CPU (whose scatter-add is already sequential, and faster).

    Raises:
        InvalidValueError: `summation` is neither "ordered" nor "scatter".
    """
    from brainsim.errors import InvalidValueError

    if summation is None:
        return "scatter" if platform == "cpu" else "ordered"
    if summation not in SUMMATIONS:
        raise InvalidValueError(f"unknown summation {summation!r}; choose one of {', '.join(SUMMATIONS)}")
    return summation
