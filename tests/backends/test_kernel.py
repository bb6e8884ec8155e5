"""The kernel's pieces: expressions, the shared exp/tanh, and each shim op, on both backends."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainsim import ir
from brainsim.backends import xmath
from brainsim.backends.expressions import compile_expr, eval_expr, lift_constants
from brainsim.backends.jax_backend import JaxEvents, JaxNumerics
from brainsim.backends.numpy_backend import NumpyEvents, NumpyNumerics, flush_subnormals
from brainsim.ir import free_names

NP, JAX = NumpyNumerics(), JaxNumerics()
NP_EVENTS, JAX_EVENTS = NumpyEvents(), JaxEvents()
NAMES = ("x", "y", "z")


def bits_equal(a, b) -> bool:
    """Bit for bit, except that any two nans are equal (their payloads are not specified)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))
    return a.shape == b.shape and bool(same.all())


def jitted(function):
    """`function(arguments, xp)` under jax.jit, with every input a runtime argument."""
    return jax.jit(lambda arguments: function(arguments, JAX))


def on_both(function, arguments):
    with np.errstate(all="ignore"), flush_subnormals():
        expected = function(arguments, NP)
    return expected, jax.tree.map(np.asarray, jitted(function)(arguments))


# --------------------------------------------------------------------------- expressions

leaves = st.one_of(
    st.sampled_from([ir.Var(n) for n in NAMES]),
    st.floats(-10, 10, allow_nan=False).map(ir.Const),
)
arithmetic = st.sampled_from([ir.BinaryOp.ADD, ir.BinaryOp.SUB, ir.BinaryOp.MUL, ir.BinaryOp.DIV])
comparisons = st.sampled_from([ir.BinaryOp.LT, ir.BinaryOp.LE, ir.BinaryOp.GT, ir.BinaryOp.GE, ir.BinaryOp.EQ, ir.BinaryOp.NE])
unary_functions = st.sampled_from([ir.Function.EXP, ir.Function.LOG, ir.Function.SQRT, ir.Function.ABS, ir.Function.TANH])


def extend(children):
    return st.one_of(
        st.builds(ir.Binary, arithmetic, children, children),
        st.builds(ir.Unary, st.just(ir.UnaryOp.NEG), children),
        st.builds(lambda f, a: ir.Call(f, (a,)), unary_functions, children),
        st.builds(lambda f, a, b: ir.Call(f, (a, b)), st.sampled_from([ir.Function.MIN, ir.Function.MAX]), children, children),
        st.builds(lambda a, lo, hi: ir.Call(ir.Function.CLIP, (a, lo, hi)), children, children, children),
        st.builds(lambda a, n: ir.Binary(ir.BinaryOp.POW, a, ir.Const(float(n))), children, st.integers(-3, 4)),
        st.builds(lambda a, b: ir.Binary(ir.BinaryOp.POW, a, b), children, children),
        st.builds(
            lambda op, a, b, then, otherwise: ir.Where(ir.Binary(op, a, b), then, otherwise),
            comparisons, children, children, children, children,
        ),
    )


expressions = st.recursive(leaves, extend, max_leaves=12)
VALUES = {name: np.random.default_rng(i).standard_normal(64) * 3 for i, name in enumerate(NAMES)}


@settings(max_examples=40, deadline=None)
@given(st.lists(expressions, min_size=5, max_size=5))
def test_random_expressions_evaluate_bit_identically_on_both_backends(batch):
    table: dict[str, float] = {}
    lifted = [lift_constants(expr, table) for expr in batch]
    env = VALUES | {name: np.float64(value) for name, value in table.items()}

    # Compiled outside the flushed region, as the backends do: there even Python's own
    # float comparisons read subnormals as zero.
    compiled = {id(xp): [compile_expr(expr, xp) for expr in lifted] for xp in (NP, JAX)}

    def evaluate(arguments, xp):
        return [xp.broadcast_to(f(arguments), (64,)) for f in compiled[id(xp)]]

    expected, got = on_both(evaluate, env)
    for expr, a, b in zip(batch, expected, got):
        assert bits_equal(a, b), expr


def test_lifting_moves_every_literal_but_literal_exponents_into_the_table():
    expr = ir.Binary(ir.BinaryOp.ADD, ir.Const(2.0), ir.Binary(ir.BinaryOp.POW, ir.Var("x"), ir.Const(3.0)))
    table: dict[str, float] = {}
    lifted = lift_constants(expr, table)
    assert table == {"_k0": 2.0}
    assert free_names(lifted) == {"_k0", "x"}
    assert eval_expr(lifted, {"_k0": 2.0, "x": 1.5}, NP) == 2.0 + 1.5 * 1.5 * 1.5


def test_literal_integer_powers_are_multiplied_out():
    x = np.linspace(-3, 3, 101)
    power = compile_expr(ir.Binary(ir.BinaryOp.POW, ir.Var("x"), ir.Const(3.0)), NP)
    assert np.array_equal(power({"x": x}), x * x * x)
    inverse = compile_expr(ir.Binary(ir.BinaryOp.POW, ir.Var("x"), ir.Const(-2.0)), NP)
    with np.errstate(divide="ignore"):
        assert np.array_equal(inverse({"x": x}), 1.0 / (x * x))


# --------------------------------------------------------------------------- exp and tanh

SPECIAL = np.array([
    0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 5e-324, 2.2250738585072014e-308, 709.78, 709.79,
    -745.1, -745.2, 1.0, 2.0, 0.5, np.nextafter(1.0, 0.0), np.nextafter(1.0, 2.0), 1e308, 1.7976931348623157e308,
])


def samples() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.concatenate([
        SPECIAL,
        np.linspace(-760, 760, 20001),
        rng.standard_normal(20000) * 5,
        rng.standard_normal(20000) * 1e-6,
        np.exp(rng.uniform(-700, 700, 20000)),
        1.0 + rng.standard_normal(20000) * 1e-3,
    ])


@pytest.mark.parametrize(
    "function, reference, max_ulps",
    [(xmath.exp, np.exp, 1), (xmath.expm1, np.expm1, 2), (xmath.tanh, np.tanh, 3), (xmath.log, np.log, 1)],
)
def test_shared_transcendentals_are_identical_on_both_backends_and_accurate(function, reference, max_ulps):
    x = samples()
    expected, got = on_both(lambda x, xp: function(x, xp), x)
    assert bits_equal(expected, got)
    tiny = np.finfo(np.float64).tiny
    with np.errstate(all="ignore"):
        truth = reference(np.where(np.abs(x) < tiny, np.copysign(0.0, x), x))  # subnormal inputs read as 0
    normal = np.isfinite(truth) & (np.abs(truth) >= tiny)
    error = np.abs(expected[normal] - truth[normal]) / np.spacing(np.abs(truth[normal]))
    assert error.max() <= max_ulps
    subnormal = (np.abs(truth) < tiny) & (truth != 0)
    assert np.all(expected[subnormal] == 0.0)  # flushed, as XLA does on CPU
    special = ~normal & ~subnormal
    assert bits_equal(expected[special], truth[special])  # inf, 0, nan


def test_shared_power_is_identical_on_both_backends():
    rng = np.random.default_rng(2)
    arguments = (np.abs(rng.standard_normal(1000)) * 10, rng.standard_normal(1000) * 3)
    expected, got = on_both(lambda a, xp: xmath.power(a[0], a[1], xp), arguments)
    assert bits_equal(expected, got)
    np.testing.assert_allclose(expected, arguments[0] ** arguments[1], rtol=1e-13)


@pytest.mark.parametrize("name", ["exp", "expm1", "tanh", "log", "log10", "sin", "cos"])
def test_shared_transcendentals_leave_their_argument_as_it_was(name):
    # Their polynomials run in place on numpy (`xmath._horner`): only on arrays of their own.
    x = np.abs(samples()) if name.startswith("log") else samples()
    before = x.copy()
    with np.errstate(all="ignore"):
        values = getattr(xmath, name)(x, NP)
        one = getattr(xmath, name)(x[25], NP)  # a scalar: its steps rebind
    assert bits_equal(x, before)
    assert bits_equal(one, values[25])


# --------------------------------------------------------------------------- the shim


def test_pow2_is_exact():
    k = np.arange(-1022, 1024)
    expected, got = on_both(lambda k, xp: xp.pow2(k), k)
    assert np.array_equal(expected, np.ldexp(1.0, k)) and np.array_equal(got, expected)


def test_scatter_add_sums_in_index_order_on_both_backends():
    rng = np.random.default_rng(3)
    index, values = rng.integers(0, 7, 500), rng.standard_normal(500) * 10.0 ** rng.integers(-8, 8, 500)
    start = rng.standard_normal(7)
    sequential = start.copy()
    for i, v in zip(index, values):
        sequential[i] = sequential[i] + v
    expected, got = on_both(lambda a, xp: xp.scatter_add(a[0].copy() if xp is NP else a[0], a[1], a[2]), (start, index, values))
    assert bits_equal(expected, sequential) and bits_equal(got, sequential)


def pathway_rows(indptr):
    """A pathway's padded `indptr` (one more, empty row) and `slots` for the longest row
    (here 3 synapses: one piece of 4 slots), as `brainsim.network.connectivity` builds them."""
    return np.append(indptr, indptr[-1]), np.arange(4).reshape(1, 4)


@pytest.mark.parametrize("batch", [4, 8, 12, 16])
def test_for_synapses_visits_the_rows_in_order_and_jax_pads_its_batches_with_the_sentinel(batch):
    """jax: rows padded with the sentinel 6 to pieces of 4 slots (the longest row's power of
    two), concatenated, cut into batches of `batch` slots (the last padded with 6). With room
    for every row at its longest in one batch (16 = 4 rows x 4), each row takes one piece.
    4 is the empty padding row."""
    indptr, slots = pathway_rows(np.array([0, 2, 2, 5, 6]))
    row_synapses = {0: [0, 1], 1: [], 2: [2, 3, 4], 3: [5], 4: []}

    def record(chosen, state):  # appends the batch's synapses to a fixed-size log
        log, filled = state
        return jax.lax.dynamic_update_slice(log, chosen, (filled,)), filled + chosen.shape[0]

    @jax.jit
    def visited(rows):
        return JAX_EVENTS.for_synapses(jnp.asarray(indptr), slots, rows, batch, record, (jnp.full(64, -1), 0))

    for rows in ([0, 2, 3], [1], [2], [], [1, 3], [0, 1, 3], [3, 2, 0, 1]):
        synapses = [s for r in rows for s in row_synapses[r]]
        got = NP_EVENTS.for_synapses(indptr, slots, np.array(rows, dtype=np.int64), None, lambda c, st: st + list(c), [])
        assert got == synapses
        for padded_rows in ([rows + [4] * (4 - len(rows))] if rows else []) + [rows + [4] * (8 - len(rows))]:
            log, filled = visited(np.array(padded_rows, dtype=np.int64))
            got = list(np.asarray(log)[: int(filled)])
            if batch >= 4 * len(padded_rows):
                assert got == [s for r in padded_rows for s in (row_synapses[r] + [6] * 4)[:4]]
            else:
                pieces = [s for r in rows for s in row_synapses[r] + [6] * (-len(row_synapses[r]) % 4)]
                assert got == pieces + [6] * (-len(pieces) % batch)


def test_spikes_by_population_and_update_fired_agree():
    mask = np.zeros(10, dtype=bool)
    mask[[1, 4, 5, 9]] = True
    slices, capacities = ((0, 4), (4, 10)), (3, 3)
    numpy_spikes = NP_EVENTS.spikes_by_population(NP_EVENTS.firing(mask), slices, capacities)
    jax_spikes = JAX_EVENTS.spikes_by_population(JAX_EVENTS.firing(mask), slices, capacities)
    assert [(list(i), c) for i, c in numpy_spikes] == [([1], 1), ([0, 1, 5], 3)]
    assert [(list(np.asarray(i)), int(c)) for i, c in jax_spikes] == [([1, 4, 4], 1), ([0, 1, 5], 3)]
    x = np.arange(10.0)
    assert np.array_equal(
        NP_EVENTS.update_fired(x.copy(), NP_EVENTS.firing(mask), -1.0), JAX_EVENTS.update_fired(x, JAX_EVENTS.firing(mask), -1.0)
    )


def test_deliver_adds_and_clears_one_slot():
    buffer, x = np.arange(12.0), np.ones(3)
    expected, got = on_both(
        lambda a, xp: (NP_EVENTS if xp is NP else JAX_EVENTS).deliver(a[0].copy() if xp is NP else a[0], 4, 3, a[1]), (buffer, x)
    )
    for e, g in zip(expected, got):
        assert np.array_equal(e, g)
    assert np.array_equal(expected[0], [5.0, 6.0, 7.0])
    assert np.array_equal(expected[1], [0, 1, 2, 3, 0, 0, 0, 0, 8, 9, 10, 11])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, None])
def test_finite_flags_agree_and_survive_overflowing_sums(bad):
    values = [np.full(6, 1e200), np.zeros(6)]  # 1e200 squared overflows: not a nan
    if bad is not None:
        values[1][4] = bad
    slices = ((0, 3), (3, 6))
    expected = np.array([[True, True], [True, bad is None]])
    with np.errstate(over="ignore"):
        assert np.array_equal(NP.finite_flags(values, slices), expected)
    assert np.array_equal(jitted(lambda v, xp: xp.finite_flags(v, slices))(values), expected)


@pytest.mark.parametrize("size", [1, 100, 257, 1000, 3200])
def test_spike_compaction_matches_nonzero_for_any_mask(size):
    from brainsim.backends.jax_backend import _compact

    rng = np.random.default_rng(size)
    compact = jax.jit(lambda mask: _compact(mask, 16))
    for p in (0.0, 0.001, 0.01, 0.1, 1.0):
        mask = rng.random(size) < p
        expected = np.full(16, size)
        found = np.flatnonzero(mask)[:16]
        expected[: len(found)] = found
        indices, count = compact(mask)
        assert np.array_equal(np.asarray(indices), expected)
        assert int(count) == mask.sum()


def test_scheduled_marks_the_neurons_of_one_step_on_both_backends():
    indptr, neurons = np.array([0, 0, 2, 3, 3]), np.array([4, 1, 0])
    for m, expected in [(0, []), (1, [1, 4]), (2, [0]), (3, [])]:
        mask = NP_EVENTS.scheduled(indptr, neurons, m, 6, 2)
        got = jax.jit(lambda i, n, m: JAX_EVENTS.scheduled(i, n, m, 6, 2))(indptr, neurons, m)
        assert list(np.flatnonzero(mask)) == expected and np.array_equal(mask, np.asarray(got))


@pytest.mark.parametrize("first", [0, 5, 37, 200])
def test_positions_count_what_searchsorted_finds(first):
    """`_positions` answers searchsorted(totals, q, side="right") for q in first .. first + count - 1
    by a histogram: also for repeated totals (rows without pieces), totals below the range (all
    counted) and above it (none), and a range past the last total."""
    from brainsim.backends.jax_backend import _positions

    rng = np.random.default_rng(first)
    for totals in (np.cumsum(rng.integers(0, 4, 50)), np.zeros(7, np.int64), np.full(3, 1000), np.arange(1, 64)):
        totals = totals.astype(np.int64)
        got = jax.jit(lambda t, f: _positions(t, f, 32))(totals, np.int64(first))
        expected = np.searchsorted(totals, first + np.arange(32), side="right")
        assert np.array_equal(np.asarray(got), expected)


@pytest.mark.parametrize("n, capacity", [(3200, 1), (3200, 16), (3200, 64), (3200, 512), (3201, 64), (64000, 512), (1500, 2000)])
def test_compaction_of_long_masks_lists_the_first_spikes_whatever_the_capacity(n, capacity):
    """The jax compaction packs the mask into 64-bit words and selects bits (or, for a capacity
    near n, uses jnp.nonzero): either must list the first `capacity` spikes in order, padded
    with n, and count them all, also when the spikes fill whole words or the last, partial one."""
    rng = np.random.default_rng(n + capacity)
    for density in (0.0, 0.001, 0.01, 0.3, 1.0):
        mask = rng.random(n) < density
        indices, count = jax.jit(lambda m: JAX_EVENTS.spikes_by_population(m, ((0, n),), (capacity,))[0])(mask)
        expected = np.flatnonzero(mask)[:capacity]
        assert int(count) == mask.sum()
        assert list(np.asarray(indices)) == list(expected) + [n] * (capacity - len(expected))
