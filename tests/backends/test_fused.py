"""Compiled updates (`compiled_updates=True`, brainsim.backends.fused), called from numpy and
from a jax program: each traced operation gives numpy's bits, every model runs identically
with and without them on both backends, a missing compiler or a wrong option is a clear
error where they are asked for, and under the default ("auto") the reason the plain step
runs instead."""

from __future__ import annotations

import numpy as np
import pytest

import brainsim
from brainsim.backends import cbuild, ctrace, xmath
from brainsim.backends.jax_backend import configure
from brainsim.backends.numpy_backend import flush_subnormals
from brainsim.errors import InvalidValueError
from tests.backends.test_kernel import NP, bits_equal
from tests.tiny_lif import tiny_model


def compiled(function, *arrays):
    """`function(*symbols, CNumerics())` compiled to a loop and run on `arrays`, as the backend
    runs it (subnormals flushed)."""
    trace = ctrace.Trace(arrays[0].size)
    result = function(*(trace.load(f"x{k}", a) for k, a in enumerate(arrays)), ctrace.CNumerics())
    loop = cbuild.load(cbuild.neuron_loop(trace, [result]))
    out = np.empty(arrays[0].size)
    with flush_subnormals():
        loop((*arrays, out))
    return out


def on_numpy(function, *arrays):
    with np.errstate(all="ignore"), flush_subnormals():
        return function(*arrays, NP)


def arguments() -> np.ndarray:
    rng = np.random.default_rng(3)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, -1e-310, 5e-324, 709.782712893384, 709.79, -745.14, -745.13,
             2.0**52, -(2.0**52), 1e300, -1e300, 40.0, -40.0]
    return np.concatenate([rng.uniform(-10, 10, 20_000), rng.normal(0, 300, 20_000),
                           np.exp(rng.uniform(-700, 700, 20_000)) * rng.choice([-1, 1], 20_000), edges])


@pytest.mark.parametrize("name", ["exp", "expm1", "tanh", "log", "log10", "sin", "cos"])
def test_xmath_traced_to_c_gives_numpys_bits(name):
    function = getattr(xmath, name)
    x = arguments()
    if name.startswith("log"):
        x = np.abs(x)
    assert bits_equal(compiled(function, x), on_numpy(function, x))


def test_power_traced_to_c_gives_numpys_bits():
    base, exponent = np.abs(arguments()), np.random.default_rng(4).uniform(-3, 3, arguments().size)
    assert bits_equal(compiled(xmath.power, base, exponent), on_numpy(xmath.power, base, exponent))


@pytest.mark.parametrize("name", ["minimum", "maximum", "fmin", "fmax"])
def test_extrema_follow_numpy_on_nan_and_signed_zeros(name):
    a = np.array([0.0, -0.0, np.nan, 1.0, np.nan, -0.0, 0.0, 2.0, -3.0])
    b = np.array([-0.0, 0.0, 1.0, np.nan, np.nan, -0.0, 0.0, 3.0, -4.0])
    assert bits_equal(compiled(lambda x, y, xp: getattr(xp, name)(x, y), a, b), getattr(np, name)(a, b))


def test_where_comparisons_and_integer_mixing_follow_numpy():
    x = np.random.default_rng(5).uniform(-50, 50, 10_000)

    def function(v, xp):
        k = xp.rint(v * 0.5).astype(xp.int64)
        mixed = ((k >> 1) - 3) + k * 2.5  # int64 with a Python int, then with a float
        return xp.where((v > 1.0) & xp.logical_not(v > 5.0), v * 3 - 1, xp.divide(-v, 7.0) + mixed)

    assert bits_equal(compiled(function, x), on_numpy(function, x))


def test_a_loop_flags_the_values_that_are_not_finite_slice_by_slice_and_writes_in_place():
    trace = ctrace.Trace(10)
    x, y = trace.load("x", np.zeros(10)), trace.load("y", np.zeros(10))
    doubled = x * 2.0
    ctrace.CNumerics().finite_flags([doubled, y + 1.0, 0.0], ((0, 4), (4, 7), (7, 10)))
    loop = cbuild.load(cbuild.neuron_loop(trace, [doubled], into=[0]))
    values, other, finite = np.arange(10.0), np.zeros(10), np.empty(9, dtype=bool)
    values[5], other[9] = np.inf, np.nan
    assert loop((values, other, finite)) == 1
    assert np.array_equal(values[:5], [0.0, 2.0, 4.0, 6.0, 8.0]) and values[5] == np.inf
    assert finite.reshape(3, 3).tolist() == [[True, True, True], [False, True, True], [True, False, True]]
    assert loop((np.ones(10), np.zeros(10), finite)) == 0 and finite.all()
    with pytest.raises(TypeError, match="argument 0 of the compiled loop, which it writes, shares memory"):
        loop((values, values, finite))


def test_a_loop_refuses_arrays_of_the_wrong_length_or_type():
    trace = ctrace.Trace(10)
    loop = cbuild.load(cbuild.neuron_loop(trace, [trace.load("x", np.zeros(10)) * 2.0]))
    loop((np.ones(10), out := np.empty(10)))
    assert np.array_equal(out, np.full(10, 2.0))
    with pytest.raises(TypeError, match="not 10 of 'd'"):
        loop((np.ones(9), np.empty(10)))
    with pytest.raises(TypeError, match="not 10 of 'd'"):
        loop((np.ones(10, dtype=np.int64), np.empty(10)))
    with pytest.raises(TypeError, match="tuple of 2"):
        loop((np.ones(10),))


def synapse_loop_adding(weights: np.ndarray, indptr: np.ndarray, buffer_size: int):
    """A synapse loop that adds each synapse's weight into buffer[i mod size] (i: the synapse)."""
    trace = ctrace.Trace(weights.size)
    weight, index = trace.load("w", weights), trace.load("i", np.arange(weights.size, dtype=np.int32))
    xp = ctrace.CNumerics()
    xp.scatter_add(trace.flat("buffer", buffer_size), index % buffer_size, weight * 1.0)
    return cbuild.load(cbuild.synapse_loop(trace, indptr.size - 2))


def test_a_synapse_loop_adds_row_by_row_in_csr_order_like_np_add_at():
    rng = np.random.default_rng(6)
    indptr = np.array([0, 3, 3, 7, 10, 10], dtype=np.int64)  # four rows and the empty padding row
    weights = rng.normal(0, 1e3, 10) * 10.0 ** rng.integers(-8, 8, 10)  # sums that depend on their order
    loop = synapse_loop_adding(weights, indptr, 4)
    rows = np.array([3, 0, 2, 4], dtype=np.int64)
    buffer = rng.normal(0, 1, 4)
    expected = buffer.copy()
    synapses = np.concatenate([np.arange(indptr[r], indptr[r + 1]) for r in rows])
    np.add.at(expected, synapses % 4, weights[synapses])
    loop((rows, indptr, weights, np.arange(10, dtype=np.int32), buffer))
    assert bits_equal(buffer, expected)


def test_a_synapse_loop_refuses_a_row_out_of_range():
    indptr = np.array([0, 2, 4, 4], dtype=np.int64)
    loop = synapse_loop_adding(np.ones(4), indptr, 4)
    with pytest.raises(IndexError, match="out of range"):
        loop((np.array([0, 5], dtype=np.int64), indptr, np.ones(4), np.arange(4, dtype=np.int32), np.zeros(4)))
    with pytest.raises(TypeError, match="not 4 of 'l'"):
        loop((np.array([0], dtype=np.int64), indptr[:-1], np.ones(4), np.arange(4, dtype=np.int32), np.zeros(4)))


def test_a_loop_called_from_jax_writes_in_place_and_returns_what_numpy_s_call_writes():
    """The same loop as an XLA custom call (the jax backend's compiled updates): its results
    are the arrays the Python call writes, in jit and in a scan whose carry it updates."""
    import jax

    configure()
    trace = ctrace.Trace(10)
    x, k = trace.load("x", np.zeros(10)), trace.load("k", 2.0)
    ctrace.CNumerics().finite_flags([x * k], ((0, 5), (5, 10)))
    loop = cbuild.neuron_loop(trace, [x * k, x + 1.0], into=[0, None])
    on_numpy, on_jax = cbuild.load(loop), cbuild.load_xla(loop)
    values = np.linspace(-1.0, 1.0, 10) / 3.0
    values[7] = np.inf
    scaled, shifted, finite = values.copy(), np.empty(10), np.empty(2, dtype=bool)
    on_numpy((scaled, 0.5, shifted, finite))
    results = jax.jit(lambda a, s: on_jax(a, s))(values, 0.5)
    assert [r.shape for r in results] == [(10,), (10,), (2,)]
    assert bits_equal(np.asarray(results[0]), scaled) and bits_equal(np.asarray(results[1]), shifted)
    assert np.asarray(results[2]).tolist() == finite.tolist() == [True, False]

    def step(carry, _):
        return on_jax(carry, 2.0)[0], None

    thrice = jax.jit(lambda a: jax.lax.scan(step, a, None, length=3)[0])(np.arange(10.0))
    assert np.asarray(thrice).tolist() == (np.arange(10.0) * 8.0).tolist()


def test_a_loop_lists_where_its_mask_is_true_as_the_jax_backend_compacts_a_mask():
    from brainsim.backends.jax_backend import _compact

    configure()
    trace = ctrace.Trace(203)
    x = trace.load("x", np.zeros(203))
    # Three populations: ends not on a word, one with more true entries than its capacity
    lists = ((0, 61), (61, 70), (70, 203))
    loop = cbuild.load_xla(cbuild.neuron_loop(trace, [x > 0.5], [np.bool_], lists=tuple(
        (a, b, capacity) for (a, b), capacity in zip(lists, (5, 9, 40)))))
    values = np.random.default_rng(2).random(203)
    values[61:70] = 0.0
    mask, *listed = loop(values)
    assert np.asarray(mask).tolist() == (values > 0.5).tolist()
    for (a, b), capacity, indices, count in zip(lists, (5, 9, 40), listed[::2], listed[1::2]):
        expected = _compact(values[a:b] > 0.5, capacity)
        assert np.asarray(indices).tolist() == np.asarray(expected[0]).tolist()
        assert np.asarray(count).tolist() == [int(expected[1])]
    assert int(listed[1][0]) > 5 and int(listed[3][0]) == 0


def test_a_synapse_loop_called_from_jax_reads_the_first_count_rows_of_its_padded_list():
    import jax.numpy as jnp

    configure()
    indptr = np.array([0, 3, 3, 7, 10, 10], dtype=np.int64)
    trace = ctrace.Trace(10)
    weight, index = trace.load("w", np.zeros(10)), trace.load("i", np.zeros(10, dtype=np.int32))
    ctrace.CNumerics().scatter_add(trace.flat("buffer", 4), index % 4, weight * 1.0)
    loop = cbuild.load_xla(cbuild.synapse_loop(trace, indptr.size - 2))
    weights, rows = 2.0 ** np.arange(10), jnp.array([2, 0, 3, 1], dtype=jnp.int64)
    operands = (indptr, weights, np.arange(10, dtype=np.int32), np.zeros(4))
    (two_rows,) = loop((rows, 2), *operands)
    synapses = np.r_[3:7, 0:3]
    assert np.asarray(two_rows).tolist() == np.bincount(synapses % 4, weights[synapses], 4).tolist()
    # A count past the list's end is clamped to it
    (every_row,) = loop((rows, 9), *operands)
    assert np.asarray(every_row).tolist() == np.bincount(np.arange(10) % 4, weights, 4).tolist()


def test_an_update_that_is_not_a_loop_over_neurons_is_left_to_numpy():
    trace = ctrace.Trace(4)
    with pytest.raises(ctrace.Unsupported, match="float32"):
        trace.load("x", np.zeros(4, dtype=np.float32))
    with pytest.raises(ctrace.Unsupported, match="truth"):
        bool(trace.load("y", np.zeros(4)) > 0.0)


def test_values_the_same_for_every_element_are_computed_once_before_the_loop():
    trace = ctrace.Trace(4)
    x, scale = trace.load("x", np.zeros(4)), trace.load("scale", 2.0)
    literal = float.fromhex("0x1.a3p+2")  # written in C as a hexadecimal float, which must not look varying
    offset = scale * 3.0 + literal
    assert not trace.varies(offset.text) and len(trace.hoisted) == 2 and len(trace.lines) == 1  # the load of x
    assert trace.varies((x * offset).text) and len(trace.lines) == 2 and len(trace.hoisted) == 2
    assert not trace.varies("(0x1.a3p+2) * s0 + (0x1.fp-3)") and trace.varies("t0 + e3") and trace.varies("f0[t1 + i]")
    loop = cbuild.load(cbuild.neuron_loop(trace, [x * offset]))
    out = np.empty(4)
    loop((np.arange(4.0), 2.0, out))
    assert np.array_equal(out, np.arange(4.0) * (2.0 * 3.0 + literal))


def test_a_ring_buffer_slot_is_delivered_and_cleared_by_the_loop():
    trace = ctrace.Trace(3)
    ring, step, x = trace.flat("ring", 8), trace.load("n", 0), trace.load("x", np.zeros(3))
    value, _ = ctrace.CEvents.deliver(ring, (step % 2) * 4, 3, x)
    loop = cbuild.load(cbuild.neuron_loop(trace, [value]))
    buffer, out = np.arange(8.0) + 1, np.empty(3)
    loop((np.full(3, 10.0), 1, buffer, out))
    assert out.tolist() == [15.0, 16.0, 17.0] and buffer.tolist() == [1, 2, 3, 4, 0, 0, 0, 0]
    with pytest.raises(ctrace.Unsupported, match="one slice"):
        ctrace.CEvents.deliver(ring, trace.load("y", np.zeros(3, dtype=np.int64)), 3, x)


MODELS = ["cuba", "cobahh", "brunel", "hodgkin_huxley", "hh_single", "izhikevich", "poisson_lif", "seed_neuron",
          "stdp_song2000", "visual_pathway", "visual_pathway_learning"]


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("name", MODELS)
def test_every_model_is_identical_with_compiled_updates(name, backend):
    from tests.backends.identity import assert_identical

    model = brainsim.load(f"models/{name}.brain")
    duration = 0.02 if name == "brunel" else 0.05
    plain = model.compile(backend="numpy")
    simulation = model.compile(backend=backend, compiled_updates=True)
    assert_identical(simulation.run(duration), plain.run(duration))
    # The state the results do not show, the ring buffers (cleared by the compiled loops), too
    assert all(np.array_equal(a, b) for a, b in zip(simulation._carry.buffers, plain._carry.buffers))
    step = (simulation.program if backend == "numpy" else simulation._program()).step
    assert all(group.fused is not None for group in step.groups)
    assert all(pathway.fused is not None for c, pathway in enumerate(step.pathways) if c not in step.plastic_pathways)
    # A group delivers in its loop unless its stimuli or clock-driven synapses come between
    assert [g.fused.delivers for g in step.groups] == [not (g.schedules or step.clocked) for g in step.groups]


def test_the_microcircuit_scaled_down_is_identical_with_compiled_updates():
    from brainsim import microcircuit
    from tests.backends.identity import assert_identical

    model = brainsim.load("models/microcircuit.brain").with_values(microcircuit.values(0.02, 0.05))
    plain = model.compile(backend="numpy").run(0.02)
    assert_identical(model.compile(backend="numpy", compiled_updates=True).run(0.02), plain)
    assert_identical(model.compile(backend="jax", compiled_updates=True).run(0.02), plain)


def two_effects(statements: str) -> str:
    return tiny_model(f"""\
synapse Twice {{ state {{ w = 1 mV }}  on pre {{ {statements} }} }}
region Area {{ cells = LIF[20] }}
stimulus Area {{ I_ext += 3 nA }}
connect Area.cells -> Area.cells with Twice {{ p = 0.5  delay = 0.2 ms }}
record spikes of Area
""")


@pytest.mark.parametrize("statements", ["v += w   v += 0.5 * w", "v += w   w *= 1.0   v += 0.5 * w"],
                         ids=["static", "plastic"])
def test_two_effects_into_one_variable_add_synapse_by_synapse_on_every_backend(statements):
    """A synapse's effects into one variable in order, synapse after synapse (docs/semantics.md):
    numpy interleaves them in one scatter-add, jax in each of its batches, C per synapse."""
    from tests.backends.identity import assert_identical

    model = brainsim.loads(two_effects(statements), "two.brain")
    numpy_run = model.compile(backend="numpy").run(0.02)
    assert numpy_run.spike_counts["Area.cells"].sum() > 0
    assert_identical(model.compile(backend="jax").run(0.02), numpy_run)
    assert_identical(model.compile(backend="jax", event_batch=16).run(0.02), numpy_run)
    assert_identical(model.compile(backend="numpy", compiled_updates=True).run(0.02), numpy_run)
    assert_identical(model.compile(backend="jax", compiled_updates=True).run(0.02), numpy_run)


def test_a_batch_on_jax_calls_the_loops_member_by_member_as_separate_runs_would():
    from tests.backends.identity import assert_identical

    model = brainsim.loads(two_effects("v += w"), "two.brain")
    batch = [{"LIF.tau": f"{tau} ms"} for tau in (8, 10, 12)]
    together = model.compile(backend="jax", compiled_updates=True).run_batch(batch, 0.02)
    for values, result in zip(batch, together):
        assert_identical(result, model.with_values(values).compile(backend="numpy").run(0.02))
    assert len({result.spike_counts["Area.cells"].sum() for result in together}) == 3


def test_spike_lists_past_their_capacity_grow_it_and_take_the_steps_again_on_jax():
    from tests.backends.identity import assert_identical

    model = brainsim.load("models/brunel.brain")
    simulation = model.compile(backend="jax", compiled_updates=True, spike_capacity=2)
    assert_identical(simulation.run(0.01), model.compile(backend="numpy").run(0.01))
    assert "growth" in simulation.bounds.describe() and "0 growth" not in simulation.bounds.describe()


def test_compiled_updates_option_errors(monkeypatch):
    model = brainsim.load("models/visual_pathway.brain")
    with pytest.raises(InvalidValueError, match="True, False or \"auto\", not 'yes'"):
        model.compile(backend="numpy", compiled_updates="yes")
    with pytest.raises(InvalidValueError, match="float64 programs only, not float32"):
        model.compile(backend="numpy", dtype="float32", compiled_updates=True)
    with pytest.raises(InvalidValueError, match="True, False or \"auto\", not 'on'"):
        model.compile(backend="jax", compiled_updates="on")
    with pytest.raises(InvalidValueError, match="float64 programs only, not float32"):
        model.compile(backend="jax", dtype="float32", compiled_updates=True)
    monkeypatch.setenv("BRAINSIM_C_CACHE", "/proc/no-such-folder")
    with pytest.raises(InvalidValueError, match="cannot keep its compiled loops in /proc/no-such-folder"):
        model.compile(backend="numpy", compiled_updates=True)
    monkeypatch.undo()
    monkeypatch.setenv("CC", "/nowhere/cc")
    with pytest.raises(InvalidValueError, match="'/nowhere/cc', is not found"):
        model.compile(backend="numpy", compiled_updates=True)
    monkeypatch.delenv("CC")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(InvalidValueError, match="needs a C compiler"):
        model.compile(backend="numpy", compiled_updates=True)


@pytest.fixture
def auto(monkeypatch):
    """The default as users have it: the suite turns "auto" off (tests/conftest.py)."""
    monkeypatch.setenv("BRAINSIM_COMPILED_UPDATES", "auto")
    return monkeypatch


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_by_default_the_compiled_updates_run_where_they_can(auto, backend):
    from tests.backends.identity import assert_identical

    model = brainsim.load("models/visual_pathway.brain")
    simulation = model.compile(backend=backend)
    assert simulation.compiled_updates and simulation.plain_updates_reason is None
    plain = model.compile(backend=backend, compiled_updates=False)
    assert not plain.compiled_updates and plain.plain_updates_reason is None
    assert_identical(simulation.run(0.02), plain.run(0.02))
    assert not model.compile(backend=backend, dtype="float32").compiled_updates  # their loops are float64
    auto.setenv("BRAINSIM_COMPILED_UPDATES", "off")
    assert not model.compile(backend=backend).compiled_updates


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_by_default_the_plain_step_runs_where_they_cannot_and_says_why(auto, backend):
    from tests.backends.identity import assert_identical

    model = brainsim.load("models/visual_pathway.brain")
    reference = model.compile(backend="numpy", compiled_updates=False).run(0.02)
    for variable, value, why in [("PATH", "/nonexistent", "needs a C compiler"),
                                 ("CC", "/nowhere/cc", "'/nowhere/cc', is not found"),
                                 ("BRAINSIM_C_CACHE", "/proc/no-such-folder", "cannot keep its compiled loops")]:
        with auto.context() as changed:
            changed.setenv(variable, value)
            simulation = model.compile(backend=backend)
        assert not simulation.compiled_updates and why in simulation.plain_updates_reason
        assert_identical(simulation.run(0.02), reference)


def test_an_update_the_loops_cannot_write_runs_plain_by_default_and_is_refused_where_asked_for(auto):
    def unsupported(*args, **kwargs):
        raise ctrace.Unsupported("an operation the tracer lacks")

    model = brainsim.load("models/visual_pathway.brain")
    auto.setattr(cbuild, "neuron_loop", unsupported)
    for backend in ("numpy", "jax"):
        simulation = model.compile(backend=backend)
        assert not simulation.compiled_updates
        assert "cannot write this model's update as a C loop (an operation the tracer lacks)" in \
            simulation.plain_updates_reason
        with pytest.raises(InvalidValueError, match="an operation the tracer lacks"):
            model.compile(backend=backend, compiled_updates=True)


def test_a_compiler_that_fails_is_warned_of_by_default_and_an_error_where_asked_for(auto):
    model = brainsim.load("models/visual_pathway.brain")
    auto.setenv("CC", "false")  # found, and fails on every file
    with pytest.warns(RuntimeWarning, match="the C compiler failed on a generated update"):
        simulation = model.compile(backend="numpy")
    assert not simulation.compiled_updates and simulation.plain_updates_reason == "the C compiler failed on a loop"
    with pytest.raises(cbuild.CompilerFailed):
        model.compile(backend="numpy", compiled_updates=True)


def test_the_switch_takes_auto_or_off_only(auto):
    auto.setenv("BRAINSIM_COMPILED_UPDATES", "on")
    with pytest.raises(InvalidValueError, match='BRAINSIM_COMPILED_UPDATES is "auto" or "off", not \'on\''):
        brainsim.load("models/visual_pathway.brain").compile()
