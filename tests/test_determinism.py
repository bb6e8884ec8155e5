"""Determinism (issue 11, item 6): one seed gives the same results bit for bit across runs,
processes (any PYTHONHASHSEED), chunk sizes and continued runs; another seed gives others; and
the order in which a file declares its populations, projections, stimuli and regions changes
nothing, nor does adding a population elsewhere (docs/semantics.md, "Determinism").

The model has every kind of randomness: random initial values, random connectivity with
normal weights and uniform delays, Poisson sources, white noise in an equation and an
Ornstein-Uhlenbeck stimulus; its population B receives three pathways and A three stimuli,
so that a sum in declaration order would show in the bits.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import brainsim
from brainsim.network.drive import stimulus_order
from brainsim.network.keys import host_key, name_hash
from brainsim.results import compare_results

BACKENDS = ["numpy", "jax"]

HEAD = """simulation { dt = 0.1 ms  duration = 20 ms  seed = 3 }
neuron N {
    parameters { tau = 10 ms  E_L = -70 mV  V_th = -55 mV  R = 10 Mohm  tau_s = 5 ms  sigma = 2 mV }
    inputs { I_ext = 0 nA }
    state { v = uniform(-70 mV, -56 mV)  I_syn = 0 nA }
    equations { dv/dt = (E_L - v + R * (I_syn + I_ext)) / tau + sigma * sqrt(2 / tau) * xi
                dI_syn/dt = -I_syn / tau_s }
    spike when v > V_th
    reset { v = E_L }
}
synapse S { state { w = 0.3 nA }  on pre { I_syn += w } }
"""
REGIONS = [
    "region A { a = N[40] }",
    "region B { b = N[30] }",
    "region In { p = PoissonSource[20] { rate = 300 Hz }  q = PoissonSource[10] { rate = 150 Hz } }",
]
CONNECTS = [
    "connect In.p -> A with S { p = 0.3  w = normal(0.3 nA, 0.1 nA)  delay = uniform(1 ms, 3 ms) }",
    "connect A -> B with S { p = 0.2  w = uniform(0.1 nA, 0.5 nA)  delay = uniform(1 ms, 3 ms) }",
    "connect In.p -> B with S { p = 0.3  w = 0.37 nA  delay = 1 ms }",
    "connect In.q -> B with S { p = 0.5  w = 0.11 nA  delay = 1 ms }",
]
STIMULI = [
    "stimulus A { I_ext += 1.4 nA }",
    "stimulus A { I_ext += ou(std = 0.3 nA, tau = 5 ms) }",
    "stimulus B { I_ext += 0.7 nA }",
    "stimulus A { I_ext += 0.13 nA }",
]
RECORDS = "record spikes of A, B, In\nrecord v of B.b[0:5]\nrecord I_syn of A.a[0:3]"


def text(regions=(0, 1, 2), connects=(0, 1, 2, 3), stimuli=(0, 1, 2, 3), first: str = "", extra: str = "") -> str:
    return "\n".join([HEAD, first, *(REGIONS[k] for k in regions), *(CONNECTS[k] for k in connects), extra,
                      *(STIMULI[k] for k in stimuli), RECORDS])


def run(source: str, backend: str = "numpy", **options):
    return brainsim.loads(source).compile(backend=backend, **options).run()


def assert_identical(a, b):
    comparison = compare_results(a, b)
    assert comparison.identical, comparison.format()


def assert_same_per_name(a, b, populations=None):
    """Each named population's spikes and final state, and each named projection's synapses,
    bit for bit (the runs may list them in different orders)."""
    for name in populations or a.spike_counts:
        assert np.array_equal(a.spike_counts[name], b.spike_counts[name]), name
        if name in a.spikes:
            assert np.array_equal(a.spikes[name].times, b.spikes[name].times), name
            assert np.array_equal(a.spikes[name].indices, b.spikes[name].indices), name
        for variable, values in a.final_state[name].items():
            assert np.array_equal(values.view(np.int64), b.final_state[name][variable].view(np.int64)), (name, variable)
    for key, trace in a.traces.items():
        if key[0] in (populations or a.spike_counts):
            assert np.array_equal(trace.values.view(np.int64), b.traces[key].values.view(np.int64)), key
    for projection in a.synapses:
        if projection in b.synapses:
            mine, theirs = a.synapses[projection], b.synapses[projection]
            assert np.array_equal(mine.pre, theirs.pre) and np.array_equal(mine.post, theirs.post), projection
            assert np.array_equal(mine.states["w"], theirs.states["w"]), projection


@pytest.fixture(scope="module")
def reference():
    return {backend: run(text(), backend) for backend in BACKENDS}


def test_the_model_has_activity_to_compare(reference):
    run_ = reference["numpy"]
    assert all(len(run_.spikes[name].times) > 20 for name in ("A.a", "B.b", "In.p", "In.q"))
    assert_identical(reference["numpy"], reference["jax"])


# --------------------------------------------------------------------------- the same seed


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_seed_gives_the_same_results_run_after_run(reference, backend):
    assert_identical(reference[backend], run(text(), backend))


@pytest.mark.parametrize("backend", BACKENDS)
def test_chunk_sizes_change_nothing(reference, backend):
    for chunk_steps in (1, 7, 64) if backend == "numpy" else (7, 64):  # jax compiles a program per length
        assert_identical(reference[backend], run(text(), backend, chunk_steps=chunk_steps))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_continued_equals_one_run(reference, backend):
    simulation = brainsim.loads(text()).compile(backend=backend)
    parts = [simulation.run("7 ms"), simulation.run("13 ms")]
    assert_identical(reference[backend], brainsim.Results.joined(parts))
    simulation.reset()
    assert_identical(reference[backend], simulation.run())


DIGEST = """
import hashlib, sys
import numpy as np
import brainsim
sys.path.insert(0, {tests!r})
from test_determinism import digest, text
print(" ".join(digest(brainsim.loads(text()).compile(backend=b).run()) for b in ("numpy", "jax")))
"""


def digest(results) -> str:
    """A SHA-256 of every spike, trace and final state of `results`, in name order."""
    hashed = hashlib.sha256()
    for name in sorted(results.spike_counts):
        hashed.update(name.encode())
        if name in results.spikes:
            hashed.update(results.spikes[name].times.tobytes() + results.spikes[name].indices.tobytes())
        for variable in sorted(results.final_state[name]):
            hashed.update(results.final_state[name][variable].tobytes())
    for key in sorted(results.traces):
        hashed.update(results.traces[key].values.tobytes())
    return hashed.hexdigest()


def test_other_processes_with_other_hash_seeds_give_the_same_bits(reference):
    """Python's str hash changes with PYTHONHASHSEED; no draw may depend on it."""
    expected = " ".join(digest(reference[b]) for b in BACKENDS)
    script = DIGEST.format(tests=str(Path(__file__).parent))
    for hash_seed in ("0", "12345"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                              cwd=Path(__file__).parent.parent, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == expected.split(), hash_seed


# --------------------------------------------------------------------------- another seed


def test_another_seed_changes_every_kind_of_draw(reference):
    other = brainsim.loads(text()).with_seed(4).compile().run()
    base = reference["numpy"]
    for name in ("A.a", "B.b", "In.p", "In.q"):  # Poisson spikes, and neurons driven by them
        assert not np.array_equal(base.spikes[name].times, other.spikes[name].times), name
    for projection in ("In.p->A.a", "A.a->B.b"):  # connectivity and weights
        assert not np.array_equal(base.synapses[projection].pre, other.synapses[projection].pre), projection
    ours = brainsim.loads(text()).compile().host.groups[0].initial["v"]  # the initial values
    theirs = brainsim.loads(text()).with_seed(4).compile().host.groups[0].initial["v"]
    assert not np.array_equal(ours, theirs)
    assert not np.array_equal(base.traces[("B.b", "v")].values, other.traces[("B.b", "v")].values)


# --------------------------------------------------------------------------- declaration order


REORDERED = [
    pytest.param(dict(regions=(2, 1, 0)), id="regions"),
    pytest.param(dict(connects=(3, 2, 1, 0)), id="projections"),
    pytest.param(dict(stimuli=(3, 2, 1, 0)), id="stimuli"),
    pytest.param(dict(regions=(1, 2, 0), connects=(2, 0, 3, 1), stimuli=(1, 3, 0, 2)), id="everything"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("order", REORDERED)
def test_the_order_of_declarations_changes_no_result(reference, backend, order):
    assert_same_per_name(reference[backend], run(text(**order), backend))


def test_swapping_two_populations_within_a_region_changes_nothing():
    swapped = text().replace("region In { p = PoissonSource[20] { rate = 300 Hz }  q = PoissonSource[10] { rate = 150 Hz } }",
                             "region In { q = PoissonSource[10] { rate = 150 Hz }  p = PoissonSource[20] { rate = 300 Hz } }")
    assert swapped != text()
    assert_same_per_name(run(text()), run(swapped))


def test_adding_a_population_elsewhere_changes_no_other_draw(reference):
    """A stranger, connected to nothing that feeds the others, with random values of its own,
    and declared first, so that every other population's index moves."""
    grown = run(text(first="region C { c = N[7] }",
                     extra="connect A -> C with S { p = 0.5  w = normal(0.3 nA, 0.1 nA)  delay = uniform(1 ms, 2 ms) }"))
    assert list(grown.spike_counts)[0] == "C.c" and grown.synapses["A.a->C.c"].pre.size > 0
    assert_same_per_name(reference["numpy"], grown, populations=("A.a", "B.b", "In.p", "In.q"))


def test_pathways_onto_one_target_are_summed_in_name_order():
    orders = [(0, 1, 2, 3), (3, 2, 1, 0), (2, 3, 0, 1)]
    for connects in orders:
        host = brainsim.loads(text(connects=connects)).compile().host
        names = [host.network.projections[p.projections[0]].name for p in host.pathways]
        assert names == sorted(names), connects


def test_stimuli_are_added_in_an_order_of_their_own():
    networks = [brainsim.loads(text(stimuli=order)).network for order in ((0, 1, 2, 3), (3, 1, 2, 0))]
    assert networks[0].stimuli != networks[1].stimuli
    assert stimulus_order(networks[0].stimuli) == stimulus_order(networks[1].stimuli)


def test_keys_hash_names_stably_not_with_python_s_hash():
    # Fixed values: a change to the key layout changes every random model's numbers, on purpose only.
    assert name_hash("Cortex.exc") == int.from_bytes(
        hashlib.blake2b(b"Cortex.exc", digest_size=8, salt=b"\x00").digest(), "little")
    assert name_hash("Cortex.exc") != name_hash("Cortex.inh") != name_hash("Cortex.exc", salt=1)
    key = host_key(7, 1, "A.a->B.b", 2)
    assert key[:2] == [7, 1] and key[-1] == 2 and key[2] | key[3] << 32 == name_hash("A.a->B.b")


def test_a_simulation_refuses_to_run_past_the_steps_its_generator_counts():
    """The runtime generator counts steps in 40 bits: a run that would reach past them is
    refused before its first step, rather than repeating the numbers of step 0."""
    from brainsim.resources import MAX_TOTAL_STEPS

    simulation = brainsim.loads(text()).compile()
    simulation.steps_done = MAX_TOTAL_STEPS - 5  # as if continued that long
    with pytest.raises(brainsim.ResourceError, match="would pass the 1,099,511,627,775 steps"):
        simulation.run("1 ms")
    assert simulation.steps_done == MAX_TOTAL_STEPS - 5
