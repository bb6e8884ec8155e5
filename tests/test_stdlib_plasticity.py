"""The plasticity rules of the standard library against their reference results.

- std/seed's `Hebbian` (the seed's rule) against a direct Python loop of the
  seed's formula over the spike trains the run recorded;
- std/stdp's pair-based STDP against the analytic window of Bi & Poo (1998),
  A_plus exp(-dt / tau_plus) and -A_minus exp(dt / tau_minus), over a grid of
  pre/post time differences, and all-to-all against nearest-neighbour pairing
  for bursts, where theory says how they differ.

Every run is made on both backends, which must agree bit for bit, final
weights included.
"""

import math

import numpy as np
import pytest

import brainsim
from backends.identity import assert_identical
from hebbian_replay import replay


def run_both(network: str, modules: str, duration: str):
    """`network` after `import <modules> from std`, run on numpy and on jax; the numpy
    results, after checking that the two agree bit for bit, final synapse states too."""
    text = f"simulation {{ dt = 0.1 ms  duration = {duration}  seed = 7 }}\nimport {modules} from std\n{network}"
    model = brainsim.loads(text, filename="plasticity.brain")
    numpy_results = model.compile(backend="numpy").run()
    jax_results = model.compile(backend="jax").run()
    assert_identical(numpy_results, jax_results)
    assert numpy_results.synapses.keys() == jax_results.synapses.keys()
    for name, synapses in numpy_results.synapses.items():
        for variable, values in synapses.states.items():
            assert np.array_equal(values, jax_results.synapses[name].states[variable]), (name, variable)
    return numpy_results


def spike_times(results, population: str) -> list[np.ndarray]:
    """Each neuron's spike times, s."""
    trains = results.spikes[population]
    size = len(results.spike_counts[population])
    return [np.sort(trains.times[trains.indices == k]) for k in range(size)]


# ------------------------------------------------------------- the seed's Hebbian rule

HEBBIAN = """
region In  { drive = PoissonSource[10] { rate = 100 Hz } }
region Out { cell = SeedNeuron[3] }
connect In -> Out with Hebbian { weight = uniform(0.1 nA, 1 nA)  delay = 1 ms  eta = ETA }
record spikes of In, Out
"""


def test_seed_hebbian_is_the_seeds_loop_on_the_recorded_spikes():
    results = run_both(HEBBIAN.replace("ETA", "0.01"), "seed", "2 s")
    synapses = results.synapses["In.drive->Out.cell"]
    # the initial weights: the same draw (same seed), in a run that cannot learn
    frozen = run_both(HEBBIAN.replace("ETA", "0"), "seed", "1 ms").synapses["In.drive->Out.cell"]
    assert np.array_equal(frozen.pre, synapses.pre) and np.array_equal(frozen.post, synapses.post)
    start = frozen.states["w"]
    expected, together = replay(results, "In.drive->Out.cell", "In.drive", "Out.cell", start)
    assert together.sum() >= 10, "too few same-step pre/post spikes to test LTP"
    assert np.any(expected > start) and np.any(expected < start)
    assert np.array_equal(synapses.states["w"], expected)  # the same float64 operations, in the same order


def test_seed_hebbian_defaults_are_the_seeds():
    model = brainsim.loads("simulation { duration = 1 ms }\nimport seed from std\n"
                           "region A { a = SeedNeuron[1] }\nconnect A -> A with Hebbian { autapses = true }")
    synapse = model.network.projections[0].synapse
    assert {p.name: p.value for p in synapse.parameters} == pytest.approx({"eta": 0.01, "w_max": 10e-9})
    (bound,) = synapse.bounds
    assert (bound.variable, bound.low, bound.high) == ("w", 0.0, pytest.approx(10e-9))


# ---------------------------------------------------------------- pair-based STDP

T_POST = 0.1201  # the forced postsynaptic spike of the window experiment (checked), s
# Pre neuron k spikes at 20.1 + k ms; the post spike is stamped 120.1 ms, so
# t_post - t_pre runs from 100 ms to -100 ms, 0 included (same step: LTP).
PRE_MS = [round(20.1 + k, 1) for k in range(201)]
# the time constants of the exponential fit to Bi & Poo's data (Bi & Poo 2001)
TAU_PLUS, TAU_MINUS, A_PLUS, A_MINUS = 16.8e-3, 33.7e-3, 0.01, 0.005
STDP_SETTINGS = "tau_plus = 16.8 ms  tau_minus = 33.7 ms  A_plus = 0.01  A_minus = 0.005"
SYNAPSES = {  # post population -> (synapse model, neuron model, w_max)
    "Post.current": ("StdpCurrent", "LifCurrentExp", 100e-12),
    "Post.current_nn": ("StdpCurrentNearest", "LifCurrentExp", 100e-12),
    "Post.conductance": ("StdpConductance", "LifConductanceExp", 1e-9),
    "Post.conductance_nn": ("StdpConductanceNearest", "LifConductanceExp", 1e-9),
}


def force(times_ms) -> str:
    """A current that makes a LIF neuron fire once at (about) each of `times_ms`:
    100 nA for 0.5 ms lifts v by far more than threshold in the first step."""
    times = ", ".join(f"{t} ms, {t + 0.5} ms" for t in times_ms)
    amplitudes = ", ".join("100 nA, 0 nA" for _ in times_ms)
    return f"steps(times = [{times}], amplitudes = [{amplitudes}])"


def stdp_network(pre: str, post_times_ms) -> str:
    """The spike source `pre` (`SpikeTimes[n] { ... }`) onto one neuron of each kind in
    SYNAPSES, each forced to fire at `post_times_ms`."""
    populations = "  ".join(f"{name.split('.')[1]} = {neuron}[1]" for name, (_, neuron, _) in SYNAPSES.items())
    connects = "\n".join(f"connect Pre -> {name} with {synapse} {{ {STDP_SETTINGS} }}"
                         for name, (synapse, _, _) in SYNAPSES.items())
    return f"""
region Pre  {{ cells = {pre} }}
region Post {{ {populations} }}
{connects}
stimulus Post {{ I_ext += {force(post_times_ms)} }}
record spikes of Pre, Post
"""


def window(delta: np.ndarray) -> np.ndarray:
    """Bi & Poo's window (fractions of w_max) at delta = t_post - t_pre, s; delta = 0 is LTP."""
    return np.where(delta >= 0, A_PLUS * np.exp(-np.abs(delta) / TAU_PLUS), -A_MINUS * np.exp(-np.abs(delta) / TAU_MINUS))


@pytest.fixture(scope="module")
def window_run():
    times = ", ".join(f"{t} ms" for t in PRE_MS)
    indices = ", ".join(str(k) for k in range(len(PRE_MS)))
    pre = f"SpikeTimes[{len(PRE_MS)}] {{ indices = [{indices}]  times = [{times}] }}"
    return run_both(stdp_network(pre, [120]), "lif, stdp", "250 ms")


def test_stdp_window_matches_bi_and_poo(window_run):
    """One pre spike per synapse at t_post - delta, one forced post spike: each
    synapse changes by exactly the window at its measured delta, for every
    variant (a single pair cannot tell the pairing schemes apart)."""
    results = window_run
    pre = spike_times(results, "Pre.cells")
    assert all(len(times) == 1 for times in pre)
    for population, (_, _, w_max) in SYNAPSES.items():
        (post,) = spike_times(results, population)
        assert len(post) == 1 and abs(post[0] - T_POST) < 1e-9, f"{population} fired at {post}"
        synapses = results.synapses[f"Pre.cells->{population}"]
        delta = post[0] - np.array([pre[i][0] for i in synapses.pre])
        change = synapses.states["w"] - 0.5 * w_max
        np.testing.assert_allclose(change, w_max * window(delta), rtol=1e-11, atol=1e-11 * A_PLUS * w_max)
        assert np.count_nonzero(delta == 0) == 1  # a pre spike in the post spike's step
        # the shape: potentiation for pre-before-post (and the same step), depression after, both decaying
        assert np.all(change[delta >= 0] > 0) and np.all(change[delta < 0] < 0)
        order = np.argsort(delta)
        assert np.all(np.diff(change[order][delta[order] >= 0]) < 0)
        assert np.all(np.diff(change[order][delta[order] < 0]) < 0)


def all_to_all(pre: np.ndarray, post: np.ndarray) -> float:
    """The additive all-to-all change (fraction of w_max): every pair counts."""
    delta = post[None, :] - pre[:, None]
    return float(np.sum(window(delta)))


def nearest_neighbour(pre: np.ndarray, post: np.ndarray) -> float:
    """The symmetric nearest-spike change: each post spike pairs with the latest pre
    spike at or before it, each pre spike with the latest post spike before it."""
    total = 0.0
    for t in post:
        earlier = pre[pre <= t]
        total += A_PLUS * math.exp(-(t - earlier[-1]) / TAU_PLUS) if len(earlier) else 0.0
    for t in pre:
        earlier = post[post < t]
        total -= A_MINUS * math.exp(-(t - earlier[-1]) / TAU_MINUS) if len(earlier) else 0.0
    return total


# Pre neuron 0: a burst of three spikes before the post spike at 100 ms;
# pre neuron 1: one spike after a burst of three post spikes (130, 140, 150 ms).
BURST_PRE = "SpikeTimes[2] { indices = [0, 0, 0, 1]  times = [70 ms, 80 ms, 90 ms, 160 ms] }"
BURST_POST_MS = [100, 130, 140, 150]


@pytest.fixture(scope="module")
def burst_run():
    return run_both(stdp_network(BURST_PRE, BURST_POST_MS), "lif, stdp", "200 ms")


def test_stdp_pairing_schemes_differ_as_theory_says_for_bursts(burst_run):
    """All-to-all sums the window over every pair; nearest-neighbour pairs each
    spike with the latest of the other side: for a pre burst before a post spike,
    all-to-all potentiates by the sum over the burst, nearest-neighbour by its
    last spike only; for a pre spike after a post burst, all-to-all depresses by
    the sum over the burst, nearest-neighbour by the last post spike only."""
    results = burst_run
    pre = spike_times(results, "Pre.cells")
    for population, (_, _, w_max) in SYNAPSES.items():
        (post,) = spike_times(results, population)
        assert len(post) == len(BURST_POST_MS)
        assert np.all(np.abs(post - np.array(BURST_POST_MS) * 1e-3) <= 0.5e-3)
        rule = nearest_neighbour if population.endswith("_nn") else all_to_all
        synapses = results.synapses[f"Pre.cells->{population}"]
        expected = np.array([rule(pre[i], post) for i in synapses.pre])
        change = (synapses.states["w"] - 0.5 * w_max) / w_max
        np.testing.assert_allclose(change, expected, rtol=1e-9, atol=1e-12)
    # the predicted difference between the schemes, on the same spikes
    post = spike_times(results, "Post.current")[0]
    gap = [all_to_all(pre[i], post) - nearest_neighbour(pre[i], post) for i in (0, 1)]
    assert gap[0] > 0.3 * A_PLUS and gap[1] < -0.3 * A_MINUS
    measured = [
        (results.synapses["Pre.cells->Post.current"].states["w"][i]
         - results.synapses["Pre.cells->Post.current_nn"].states["w"][i]) / 100e-12
        for i in (0, 1)
    ]
    np.testing.assert_allclose(measured, gap, rtol=1e-9)
