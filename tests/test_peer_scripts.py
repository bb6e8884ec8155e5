"""The peers' scripts of the benchmark suite (benchmarks/peers/bench_nest.py, bench_brian2.py),
checked without NEST or Brian2, which CI does not install: they load and answer their
command line without them, refuse bad values in one line, and their parameters are those
of brainsim's models (read from the models, not written twice here)."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

import brainsim

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
sys.path.insert(0, str(PEERS))

import protocol  # noqa: E402


def script(name: str):
    """A bench script as a module (its simulator is imported only when it measures)."""
    spec = importlib.util.spec_from_file_location(name, PEERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nest_script, brian2_script = script("bench_nest"), script("bench_brian2")


def parameters(model: str, population: int = 0) -> dict[str, float]:
    """The SI parameter values of a population's neuron model in models/<model>."""
    network = brainsim.load(ROOT / "models" / model).network
    return {p.name: p.value for p in network.populations[population].model.parameters}


def weights(model: str) -> list[float]:
    """The distinct SI initial weights `w` of the projections' synapses in models/<model>, in order
    (a `connect` to a region is a projection per target population)."""
    network = brainsim.load(ROOT / "models" / model).network
    found = [next(s.initial.value for s in p.synapse.states if s.name == "w") for p in network.projections]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("name", ["bench_nest", "bench_brian2", "bench_brainsim"])
def test_each_script_answers_help_without_its_simulator(name):
    done = subprocess.run([sys.executable, str(PEERS / f"{name}.py"), "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "--model" in done.stdout and "--record" in done.stdout


@pytest.mark.parametrize("argv, message", [
    (["--model", "cuba", "--n", "3"], "--n is a number of neurons of at least 10, not 3"),
    (["--model", "microcircuit", "--scale-k", "1.5"], "--scale-k is a fraction in (0, 1], not 1.5"),
    (["--model", "cuba", "--duration", "0"], "--duration is a positive number of seconds, not 0.0"),
])
def test_a_bad_value_is_one_line_and_status_2(argv, message):
    done = subprocess.run([sys.executable, str(PEERS / "bench_nest.py"), *argv], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stderr.strip() == f"error: {message}"


def test_a_record_has_every_key_of_the_protocol():
    fields = dict.fromkeys(protocol.KEYS, 0)
    assert protocol.record(**fields) == fields
    del fields["run_s"]
    with pytest.raises(KeyError, match="lacks run_s"):
        protocol.record(**fields)


def test_cv_isi_is_the_mean_over_neurons_with_three_spikes():
    # neuron 0: intervals 1, 1 (CV 0); neuron 1: intervals 1, 3 (CV 0.5); neuron 2: two spikes, left out
    times = [0.0, 1.0, 2.0, 0.0, 1.0, 4.0, 0.0, 5.0]
    indices = [0, 0, 0, 1, 1, 1, 2, 2]
    assert protocol.cv_isi(times[::-1], indices[::-1], 3) == pytest.approx(0.25)
    assert protocol.cv_isi([0.0, 1.0], [0, 0], 1) is None


def test_nest_cuba_is_models_cuba():
    cuba = parameters("cuba.brain")
    ms, mv = 1e-3, 1e-3
    assert nest_script.CUBA["tau_m"] * ms == pytest.approx(cuba["taum"])
    assert nest_script.CUBA["tau_syn_ex"] * ms == pytest.approx(cuba["taue"])
    assert nest_script.CUBA["tau_syn_in"] * ms == pytest.approx(cuba["taui"])
    assert nest_script.CUBA["t_ref"] * ms == pytest.approx(cuba["t_ref"])
    for key, name in (("V_th", "Vt"), ("V_reset", "Vr"), ("E_L", "El")):
        assert nest_script.CUBA[key] * mv == pytest.approx(cuba[name])
    assert [nest_script.CUBA_JUMPS_MV[k] * mv for k in ("exc", "inh")] == pytest.approx(weights("cuba.brain"))


def test_nest_and_brian2_cobahh_are_models_cobahh():
    cobahh = parameters("cobahh.brain")
    assert cobahh["Cm"] == pytest.approx(200e-12) and cobahh["gl"] == pytest.approx(10e-9)  # hh_cond_exp_traub's
    assert cobahh["g_na"] == pytest.approx(20e-6) and cobahh["g_kd"] == pytest.approx(6e-6)  # defaults
    assert cobahh["VT"] == pytest.approx(-63e-3) and cobahh["Ei"] == pytest.approx(-80e-3)
    nest_weights = [abs(nest_script.COBAHH_WEIGHTS_NS[k]) * 1e-9 for k in ("exc", "inh")]
    assert nest_weights == pytest.approx(weights("cobahh.brain"))
    text = (ROOT / "models" / "cobahh.brain").read_text()
    for name, (low, high, unit) in brian2_script.COBAHH_INITIAL.items():
        assert f"{name} = uniform({low:g} {unit}, {high:g} {unit})" in text


def test_nest_brunel_and_song_are_the_models():
    brunel = parameters("brunel.brain")
    assert nest_script.BRUNEL["tau_m"] * 1e-3 == pytest.approx(brunel["tau"])
    assert nest_script.BRUNEL["V_th"] * 1e-3 == pytest.approx(brunel["theta"])
    assert nest_script.BRUNEL["V_reset"] * 1e-3 == pytest.approx(brunel["V_r"])
    assert nest_script.BRUNEL["t_ref"] * 1e-3 == pytest.approx(brunel["t_ref"])
    assert nest_script.BRUNEL_J * 1e-3 == pytest.approx(weights("brunel.brain")[0])
    song = parameters("stdp_song2000.brain", population=1)
    assert nest_script.SONG["C_m"] * 1e-12 == pytest.approx(song["g_L"] * song["tau_m"])
    for key, name in (("E_L", "E_L"), ("V_th", "V_th"), ("V_reset", "V_reset")):
        assert nest_script.SONG[key] * 1e-3 == pytest.approx(song[name])
    assert nest_script.SONG["tau_syn_ex"] * 1e-3 == pytest.approx(song["tau_ex"])
    assert nest_script.SONG_W_MAX_PA * 1e-12 == pytest.approx(0.1e-9 * (song["E_ex"] - song["V_reset"]))


def test_nest_takes_the_microcircuit_from_brainsim_without_brainsim():
    tables = nest_script.microcircuit_tables()
    assert "brainsim" not in tables.__dict__.get("__spec__").name
    from brainsim import microcircuit

    assert tables.FULL_SIZES == microcircuit.FULL_SIZES
    # the DC and the background rate NEST is given are those of brainsim's scaled model
    values = microcircuit.values(0.1, 0.2)
    for t, target in enumerate(microcircuit.POPULATIONS):
        assert float(values[f"{target}.I_DC"].split()[0]) == pytest.approx(tables.dc_current(t, 0.2) * 1e12, rel=1e-5)
        pool = "Background." + target.replace(".", "")
        assert float(values[f"{pool}.rate"].split()[0]) * microcircuit.CHANNELS == pytest.approx(
            tables.background_rate(t, 0.2), rel=1e-5)
    assert math.isclose(tables.background_rate(0, 1.0), 8.0 * 1600)


def test_brian2_microcircuit_neuron_is_models_iaf_psc_exp():
    model = parameters("microcircuit.brain")
    for name, value in brian2_script.MICROCIRCUIT_NEURON_MV.items():
        assert value * 1e-3 == pytest.approx(model[name])
    assert brian2_script.MICROCIRCUIT_T_REF_MS * 1e-3 == pytest.approx(model["t_ref"])
    tables = protocol.microcircuit_tables()
    assert (tables.C_M, tables.TAU_M, tables.TAU_SYN) == pytest.approx((model["C_m"], model["tau_m"], model["tau_syn"]))


def test_brian2_microcircuit_connections_are_the_scaled_totals_with_signs_and_delays_kept():
    import numpy as np

    tables = protocol.microcircuit_tables()
    scale_n, scale_k = 0.02, 0.05
    pre, post, w, delay = brian2_script.microcircuit_connections(tables, scale_n, scale_k, np.random.default_rng(3))
    sizes = list(tables.scaled_sizes(scale_n).values())
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    expected = sum(round(k * scale_n * scale_k) for row in tables.full_totals() for k in row)
    assert len(pre) == len(post) == len(w) == len(delay) == expected
    source_type = np.searchsorted(bounds, pre, side="right") - 1
    excitatory = source_type % 2 == 0  # POPULATIONS alternate E, I
    assert (w[excitatory] > 0).all() and (w[~excitatory] < 0).all()
    assert delay.min() >= 1e-4
    # L2/3E -> L2/3E: the mean weight over sqrt(scale_K), and delays around 1.5 ms
    first = (source_type == 0) & (post < sizes[0])
    assert w[first].mean() == pytest.approx(tables.mean_weights()[0][0] / math.sqrt(scale_k), rel=0.02)
    assert np.median(delay[first]) == pytest.approx(1.5e-3, rel=0.1)


def test_brian2_refuses_a_microcircuit_that_would_not_fit_with_the_estimate():
    tables = protocol.microcircuit_tables()
    assert brian2_script.microcircuit_refusal(tables, 0.05, 0.05, 24 * 10**9) is None
    refusal = brian2_script.microcircuit_refusal(tables, 1.0, 1.0, 24 * 10**9)
    assert refusal.startswith("the microcircuit at --scale-n 1.0 --scale-k 1.0 has 298,880,968 synapses, about 29.9 GB")
    assert "more than this machine's 24.0 GB" in refusal
