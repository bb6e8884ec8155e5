"""The standard library (brainsim/std/*.brain) against published and analytic results.

Each model runs on the numpy backend for the physics, and a short run of each
module's models checks that numpy and jax agree bit for bit. A test builds its
model as text: a `simulation` block, `import <modules> from std`, then a small
network.
"""

import math
from pathlib import Path

import numpy as np
import pytest

import brainsim
from backends.identity import assert_identical

STD = Path(brainsim.__file__).parent / "std"

def std_model(modules: tuple[str, ...], network: str, dt: str = "0.1 ms", duration: str = "100 ms"):
    """A model made of the standard library `modules` followed by `network`."""
    text = f"simulation {{ dt = {dt}  duration = {duration} }}\nimport {', '.join(modules)} from std\n{network}"
    return brainsim.loads(text, filename=f"std_{'_'.join(modules)}.brain")


def run(modules, network, dt="0.1 ms", duration="100 ms", backend="numpy"):
    """`std_model(...)` run on `backend` for its whole duration."""
    return std_model(modules, network, dt, duration).compile(backend=backend).run()


def parameters(model, population: str) -> dict[str, float]:
    """The parameter values (SI) of `population` in a loaded model."""
    found = next(p for p in model.network.populations if p.name == population)
    return {parameter.name: parameter.value for parameter in found.model.parameters}


def spike_times(results, population: str) -> np.ndarray:
    """The spike times (s) of a one-neuron `population`, or of all its neurons together."""
    return results.spikes[population].times


def test_every_module_is_here():
    assert {path.stem for path in STD.glob("*.brain")} == {
        "lif", "izhikevich", "adex", "hodgkin_huxley", "seed", "stdp",
        "triplet_stdp", "stp", "homeostasis", "neuromodulation",  # tested in their own files
    }


# ---------------------------------------------------------------- numpy == jax

IDENTITY = {
    "lif": """
        region In { cue = SpikeTimes[1] { times = [2 ms, 4 ms] } }
        region N { a = LifCurrentExp[2]  b = LifCurrentAlpha[2]  c = LifConductanceExp[2]  d = LifConductanceAlpha[2] }
        connect In -> N.a with CurrentExpSynapse { weight = 2 nA }
        connect In -> N.b with CurrentAlphaSynapse { weight = 2 nA }
        connect In -> N.c with ExcitatoryConductanceExp { weight = 50 nS }
        connect In -> N.c with InhibitoryConductanceExp { weight = 5 nS }
        connect In -> N.d with ExcitatoryConductanceAlpha { weight = 50 nS }
        connect In -> N.d with InhibitoryConductanceAlpha { weight = 5 nS }
        stimulus N { I_ext += 300 pA }
        record v of N.a, N.b, N.c, N.d
    """,
    "izhikevich": """
        region C { rs = RegularSpiking[1]  ib = IntrinsicallyBursting[1]  ch = Chattering[1]
                   fs = FastSpiking[1]  lts = LowThresholdSpiking[1] }
        connect C.rs -> C with IzhikevichPulse { weight = 3 mV }
        stimulus C { I += 10 mV }
        record v, u of C.rs, C.ib, C.ch, C.fs, C.lts
        record spikes of C
    """,
    "adex": """
        region C { tonic = AdexTonic[1]  adapting = AdexAdapting[1]  bursting = AdexBursting[1]
                   conductance = AdexConductanceAlpha[1] }
        stimulus C.tonic { I += 500 pA }
        stimulus C.adapting { I += 500 pA }
        stimulus C.bursting { I += 210 pA }
        stimulus C.conductance { I += 1 nA }
        record v, w of C.tonic, C.adapting, C.bursting, C.conductance
        record spikes of C
    """,
    "hodgkin_huxley": """
        region A { patch = HodgkinHuxley[2] }
        stimulus A { I_app += 10 uA }
        record v, m, h, n of A
        record spikes of A
    """,
    "seed": """
        region In { cue = SpikeTimes[1] { times = [1 ms] } }
        region A { cell = SeedNeuron[2] }
        connect In -> A with SeedSynapse
        stimulus A { I_ext += 2 nA }
        record v, I_syn of A
        record spikes of A
    """,
}
IDENTITY_DT = {"hodgkin_huxley": "0.01 ms", "adex": "0.05 ms"}


@pytest.mark.parametrize(
    "module", sorted(IDENTITY)
)
def test_backends_identical(module):
    model = std_model((module,), IDENTITY[module], IDENTITY_DT.get(module, "0.1 ms"), "30 ms")
    numpy_run = model.compile(backend="numpy").run()
    jax_run = model.compile(backend="jax").run()
    assert sum(int(c.sum()) for c in numpy_run.spike_counts.values()) > 0, "nothing spiked: a weak check"
    assert_identical(numpy_run, jax_run)


# ---------------------------------------------------------------- lif

LIF = {"C_m": 250e-12, "tau_m": 10e-3, "E_L": -70e-3, "V_th": -55e-3, "t_ref": 2e-3, "tau_syn": 2e-3}
ARRIVAL = 6e-3  # a spike at 5 ms with a delay of 1 ms reaches the target at 6 ms (docs/semantics.md)
SINGLE_SPIKE = "region In { cue = SpikeTimes[1] { times = [5 ms] } }\n"


def test_lif_current_exp_psp_is_the_difference_of_exponentials():
    """A current jump w decaying with tau_s gives, for t after its arrival,
    v - E_L = w / C_m * tau_m tau_s / (tau_m - tau_s) (exp(-t / tau_m) - exp(-t / tau_s));
    the current-based model is integrated exactly, so only rounding is left."""
    results = run(("lif",), SINGLE_SPIKE + """
        region N { a = LifCurrentExp[1] }
        connect In -> N with CurrentExpSynapse { weight = 100 pA  delay = 1 ms }
        record v of N
    """, duration="50 ms")
    trace = results.traces[("N.a", "v")]
    after = trace.times >= ARRIVAL - 1e-12
    s = trace.times[after] - ARRIVAL
    tau_m, tau_s = LIF["tau_m"], LIF["tau_syn"]
    expected = 100e-12 / LIF["C_m"] * tau_m * tau_s / (tau_m - tau_s) * (np.exp(-s / tau_m) - np.exp(-s / tau_s))
    np.testing.assert_allclose(trace.values[after, 0] - LIF["E_L"], expected, rtol=1e-9, atol=1e-15)
    assert np.all(trace.values[~after, 0] == LIF["E_L"]), "v moved before the spike arrived"
    assert expected.max() > 0.1e-3, "a PSP too small to test"


def test_lif_current_alpha_current_peaks_at_the_weight_after_tau_syn():
    """The alpha synapse is normalised so that I_syn = w (t / tau_s) exp(1 - t / tau_s): its peak
    is w, tau_s after the arrival."""
    results = run(("lif",), SINGLE_SPIKE + """
        region N { b = LifCurrentAlpha[1] }
        connect In -> N with CurrentAlphaSynapse { weight = 100 pA  delay = 1 ms }
        record I_syn of N
    """, duration="30 ms")
    trace = results.traces[("N.b", "I_syn")]
    s = trace.times - ARRIVAL
    expected = np.where(s > 0, 100e-12 * (s / LIF["tau_syn"]) * np.exp(1 - s / LIF["tau_syn"]), 0.0)
    np.testing.assert_allclose(trace.values[:, 0], expected, rtol=1e-9, atol=1e-24)
    assert trace.times[np.argmax(trace.values[:, 0])] == pytest.approx(ARRIVAL + LIF["tau_syn"])


@pytest.mark.parametrize("current_pA", [400, 500, 800, 1500])
def test_lif_rate_under_constant_current_follows_the_f_i_formula(current_pA):
    """With V_reset = E_L, the interval is t_ref + tau_m ln(R I / (R I - (V_th - E_L))), R = tau_m / C_m.
    On the grid, v integrates again one step after the refractory period and a crossing is seen
    at the end of a step, so each interval is that value rounded up to whole steps: between it
    and it + dt."""
    results = run(("lif",), f"""
        region N {{ a = LifCurrentExp[1] }}
        stimulus N {{ I_ext += {current_pA} pA }}
        record spikes of N
    """, duration="300 ms")
    drive = LIF["tau_m"] / LIF["C_m"] * current_pA * 1e-12
    interval = LIF["t_ref"] + LIF["tau_m"] * math.log(drive / (drive - (LIF["V_th"] - LIF["E_L"])))
    first, *later = np.diff(np.concatenate([[0.0], spike_times(results, "N.a")]))
    intervals = np.array(later)
    assert len(intervals) >= 5
    assert interval - LIF["t_ref"] - 1e-12 <= first <= interval - LIF["t_ref"] + 1e-4 + 1e-12, "the first spike, from rest"
    assert np.all(intervals >= interval - 1e-12) and np.all(intervals <= interval + 1e-4 + 1e-12)


def _hand_conductance_psp(alpha: bool, weight: float, times: np.ndarray) -> np.ndarray:
    """v of LifConductance{Exp,Alpha} after one excitatory spike of `weight` at t = 0, by
    classic Runge-Kutta at 1 us, sampled at `times`: an integration independent of brainsim's."""
    C_m, g_L, E_L, E_ex, tau = 250e-12, 16.7e-9, -70e-3, 0.0, 0.2e-3

    def f(y):
        v, g, x = y
        dg = (x - g) / tau if alpha else -g / tau
        return np.array([(g_L * (E_L - v) + g * (E_ex - v)) / C_m, dg, -x / tau])

    start = np.array([E_L, 0.0, weight * math.e]) if alpha else np.array([E_L, weight, 0.0])
    return _classic_runge_kutta_v(f, start, times)


@pytest.mark.parametrize("kind", ["Exp", "Alpha"])
def test_lif_conductance_psp_matches_a_hand_integration(kind):
    """Exponential Euler is first order for v: the conductance is frozen at its value at the
    start of each step, which overstates the charge a decaying g_ex delivers by about
    dt / (2 tau_ex) = 2.5% at dt = 10 us. So the PSP is within 3% of its peak of a fine
    Runge-Kutta integration (and within rounding where the conductance is gone)."""
    results = run(("lif",), SINGLE_SPIKE + f"""
        region N {{ c = LifConductance{kind}[1] }}
        connect In -> N with ExcitatoryConductance{kind} {{ weight = 10 nS  delay = 1 ms }}
        record v of N
    """, dt="0.01 ms", duration="30 ms")
    trace = results.traces[("N.c", "v")]
    after = trace.times >= ARRIVAL - 1e-12
    ours = trace.values[after, 0] - (-70e-3)
    hand = _hand_conductance_psp(kind == "Alpha", 10e-9, trace.times[after] - ARRIVAL) - (-70e-3)
    assert hand.max() > 0.5e-3
    assert np.max(np.abs(ours - hand)) < 0.03 * hand.max()


# ---------------------------------------------------------------- izhikevich

IZHIKEVICH_TYPES = ("RegularSpiking", "IntrinsicallyBursting", "Chattering", "FastSpiking", "LowThresholdSpiking")
IZHIKEVICH_PARAMETERS = {  # Izhikevich (2003), Fig. 2: a, b, c, d
    "RegularSpiking": (0.02, 0.2, -65, 8), "IntrinsicallyBursting": (0.02, 0.2, -55, 4),
    "Chattering": (0.02, 0.2, -50, 2), "FastSpiking": (0.1, 0.2, -65, 2),
    "LowThresholdSpiking": (0.02, 0.25, -65, 2),
}


@pytest.fixture(scope="module")
def izhikevich_dc():
    """Every cell type under the paper's DC step, I = 10, for 300 ms, at dt = 0.1 ms."""
    cells = "  ".join(f"{name} = {name}[1]" for name in IZHIKEVICH_TYPES)
    return run(("izhikevich",), f"""
        region C {{ {cells} }}
        stimulus C {{ I += 10 mV }}
        record spikes of C
        record v of C
    """, duration="300 ms")


def _bursts(times: np.ndarray, gap: float = 10e-3) -> list[int]:
    """The number of spikes in each burst: runs of spikes closer than `gap`."""
    sizes = [1]
    for interval in np.diff(times):
        if interval < gap:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


def _izhikevich_by_hand(a, b, c, d, current, dt_ms, steps):
    """The paper's equations by forward Euler in numpy, as brainsim steps them (the spike is
    seen after the step, then reset): spike times in ms."""
    v, u, spikes = -65.0, b * -65.0, []
    for n in range(steps):
        v, u = v + dt_ms * (0.04 * v * v + 5 * v + 140 - u + current), u + dt_ms * (a * (b * v - u))
        if v >= 30:
            spikes.append((n + 1) * dt_ms)
            v, u = c, u + d
    return np.array(spikes)


@pytest.mark.parametrize("name", IZHIKEVICH_TYPES)
def test_izhikevich_types_are_the_papers_equations(izhikevich_dc, name):
    """Each type's spike train matches the paper's equations integrated by hand."""
    hand = _izhikevich_by_hand(*IZHIKEVICH_PARAMETERS[name], 10.0, 0.1, 3000)
    ours = spike_times(izhikevich_dc, f"C.{name}") * 1e3
    assert len(ours) == len(hand)
    np.testing.assert_allclose(ours, hand, atol=0.1 + 1e-9)


def test_izhikevich_regular_spiking_adapts(izhikevich_dc):
    """RS: "fire a few spikes with short interspike period and then the period increases"
    (Izhikevich 2003, Fig. 2): single spikes, the last interval about twice the first."""
    intervals = np.diff(spike_times(izhikevich_dc, "C.RegularSpiking"))
    assert len(intervals) >= 5
    assert intervals.min() > 10e-3, "RS does not burst"
    assert intervals[-1] / intervals[0] > 1.6


def test_izhikevich_intrinsically_bursting_starts_with_one_burst(izhikevich_dc):
    """IB: "a stereotypical burst of spikes followed by repetitive single spikes"."""
    sizes = _bursts(spike_times(izhikevich_dc, "C.IntrinsicallyBursting"))
    assert sizes[0] >= 3
    assert len(sizes) >= 5 and set(sizes[1:]) == {1}


def test_izhikevich_chattering_fires_repeated_bursts(izhikevich_dc):
    """CH: "stereotypical bursts of closely spaced spikes", repeatedly (about every 50 ms here)."""
    sizes = _bursts(spike_times(izhikevich_dc, "C.Chattering"))
    assert len(sizes) >= 5
    assert all(size >= 3 for size in sizes[:-1])  # the last may be cut by the end of the run


def test_izhikevich_fast_spiking_fires_fast_without_much_adaptation(izhikevich_dc):
    """FS: "periodic trains of action potentials with extremely high frequency practically
    without any adaptation": above 100 Hz at I = 10, the steady interval within a factor 2 of
    the first, where RS's grows by more."""
    times = spike_times(izhikevich_dc, "C.FastSpiking")
    intervals = np.diff(times)
    assert 1 / intervals[-1] > 100
    assert intervals[-1] / intervals[0] < 2.0
    rs = np.diff(spike_times(izhikevich_dc, "C.RegularSpiking"))
    assert len(times) > 3 * (len(rs) + 1)


def test_izhikevich_low_threshold_spiking_has_a_low_threshold_and_rebounds():
    """LTS: a low firing threshold and rebound spikes (Izhikevich 2003, Fig. 2). With u at rest
    (u = b v), the rest state vanishes where 0.04 v^2 + (5 - b) v + 140 + I has no root,
    I > (5 - b)^2 / 0.16 - 140: 1.02 for LTS (b = 0.25), 4 for RS (b = 0.2). At I = 2, LTS fires and
    RS does not; released from 100 ms of hyperpolarisation (I = -15), LTS fires a rebound spike
    and RS does not."""
    results = run(("izhikevich",), """
        region C { lts = LowThresholdSpiking[1]  rs = RegularSpiking[1]
                   lts_rebound = LowThresholdSpiking[1]  rs_rebound = RegularSpiking[1] }
        stimulus C.lts { I += 2 mV }
        stimulus C.rs { I += 2 mV }
        stimulus C.lts_rebound { I += pulses(period = 200 ms, width = 100 ms, amplitude = -15 mV, start = 100 ms, stop = 200 ms) }
        stimulus C.rs_rebound { I += pulses(period = 200 ms, width = 100 ms, amplitude = -15 mV, start = 100 ms, stop = 200 ms) }
        record spikes of C
    """, duration="300 ms")
    assert len(spike_times(results, "C.lts")) >= 3
    assert len(spike_times(results, "C.rs")) == 0
    rebound = spike_times(results, "C.lts_rebound")
    assert len(rebound) >= 1 and np.all((rebound > 200e-3) & (rebound < 240e-3))
    assert len(spike_times(results, "C.rs_rebound")) == 0


# ---------------------------------------------------------------- adex

@pytest.fixture(scope="module")
def adex():
    """The three regimes under Naud et al.'s (2008, Table 1) step currents, for 600 ms at
    dt = 20 us, on jax (the same bits as numpy, test_backends_identical; faster for this many steps)."""
    return run(("adex",), """
        region C { tonic = AdexTonic[1]  adapting = AdexAdapting[1]  bursting = AdexBursting[1] }
        stimulus C.tonic { I += 500 pA }
        stimulus C.adapting { I += 500 pA }
        stimulus C.bursting { I += 210 pA }
        record spikes of C
    """, dt="0.02 ms", duration="600 ms", backend="jax")


def test_adex_tonic_intervals_are_constant(adex):
    """Tonic spiking (Fig. 4a): after a short transient (the intervals lengthen by 8% while w
    builds up, over about 50 ms, a few tau_w) every interval is the same."""
    intervals = np.diff(spike_times(adex, "C.tonic"))
    assert len(intervals) >= 30
    steady = intervals[len(intervals) // 2:]
    assert steady.max() - steady.min() <= 0.1e-3 + 1e-12
    assert steady.mean() / intervals[0] < 1.1


def test_adex_adapting_intervals_grow(adex):
    """Spike-frequency adaptation (Fig. 4b): each interval at least as long as the one before,
    growing several times over to a steady value."""
    intervals = np.diff(spike_times(adex, "C.adapting"))
    assert len(intervals) >= 5
    assert np.all(np.diff(intervals) > -1e-4), "the intervals should not shrink"
    assert intervals[-1] / intervals[0] > 4


def test_adex_bursting_intervals_are_bimodal(adex):
    """Regular bursting (Fig. 4d): short intervals within bursts, long ones between them,
    and nothing in between: the largest gap in the sorted intervals splits them in two groups
    whose means differ many times over."""
    intervals = np.sort(np.diff(spike_times(adex, "C.bursting")))
    assert len(intervals) >= 8
    split = np.argmax(np.diff(intervals)) + 1
    short, long = intervals[:split], intervals[split:]
    assert len(short) >= 3 and len(long) >= 3
    assert long.min() > 3 * short.max()


def _hand_adex_psp(weight: float, times: np.ndarray) -> np.ndarray:
    """v of AdexConductanceAlpha (NEST's aeif_cond_alpha defaults) after one excitatory spike of
    `weight` at t = 0, by classic Runge-Kutta at 1 us, sampled at `times`."""
    C, g_L, E_L, V_T, Delta_T, a, tau_w, tau = 281e-12, 30e-9, -70.6e-3, -50.4e-3, 2e-3, 4e-9, 144e-3, 0.2e-3

    def f(y):
        v, w, g, x = y
        dv = (-g_L * (v - E_L) + g_L * Delta_T * math.exp((v - V_T) / Delta_T) + g * (0.0 - v) - w) / C
        return np.array([dv, (a * (v - E_L) - w) / tau_w, (x - g) / tau, -x / tau])

    return _classic_runge_kutta_v(f, np.array([E_L, 0.0, 0.0, weight * math.e]), times)


def test_adex_conductance_alpha_psp_matches_a_hand_integration():
    """AdexConductanceAlpha has NEST's aeif_cond_alpha equations: the PSP of one excitatory
    spike (lif's ExcitatoryConductanceAlpha), forward Euler at 10 us, is within 3% of its peak
    of a fine Runge-Kutta integration of those equations (exponential term and adaptation in)."""
    results = run(("lif", "adex"), SINGLE_SPIKE + """
        region N { c = AdexConductanceAlpha[1] }
        connect In -> N with ExcitatoryConductanceAlpha { weight = 5 nS  delay = 1 ms }
        record v of N
    """, dt="0.01 ms", duration="30 ms")
    trace = results.traces[("N.c", "v")]
    after = trace.times >= ARRIVAL - 1e-12
    ours = trace.values[after, 0] - (-70.6e-3)
    hand = _hand_adex_psp(5e-9, trace.times[after] - ARRIVAL) - (-70.6e-3)
    assert hand.max() > 0.5e-3
    assert np.max(np.abs(ours - hand)) < 0.03 * hand.max()


# ---------------------------------------------------------------- hodgkin_huxley

HH_RHEOBASE_STEPS = (2.0, 2.1, 2.2, 2.25, 2.3, 2.4, 2.6)
HH_F_I_STEPS = (5.0, 5.5, 6.0, 6.5, 7.0, 8.0, 10.0, 15.0, 20.0)


@pytest.fixture(scope="module")
def hodgkin_huxley():
    """One patch at rest and one per step amplitude (uA/cm^2), 300 ms at dt = 10 us, on jax
    (the same bits as numpy, test_backends_identical; faster for this many steps)."""
    amplitudes = sorted(set(HH_RHEOBASE_STEPS + HH_F_I_STEPS))
    names = {a: f"i{int(round(a * 100))}" for a in amplitudes}
    cells = "\n".join(f"{name} = HodgkinHuxley[1]" for name in names.values())
    stimuli = "\n".join(f"stimulus A.{name} {{ I_app += {a} uA }}" for a, name in names.items())
    results = run(("hodgkin_huxley",), f"""
        region A {{ rest = HodgkinHuxley[1]
                    {cells} }}
        {stimuli}
        record spikes of A
        record v of A.rest
    """, dt="0.01 ms", duration="300 ms", backend="jax")
    return results, names


def test_hodgkin_huxley_rests_near_minus_65_mV(hodgkin_huxley):
    results, _ = hodgkin_huxley
    v = results.traces[("A.rest", "v")].values[:, 0]
    assert np.all(np.abs(v - -65e-3) < 0.1e-3)


def test_hodgkin_huxley_rheobase_for_a_long_step(hodgkin_huxley):
    """A 300 ms step fires from 2.25 uA/cm^2 on and not at 2.2 (the literature gives 2.2-2.5
    uA/cm^2 for the 1952 model's rheobase, e.g. Koch 1999, "Biophysics of Computation",
    ch. 6); above it, up to the onset of repetitive firing, the axon fires once and falls silent."""
    results, names = hodgkin_huxley
    fired = [a for a in HH_RHEOBASE_STEPS if results.spike_counts[f"A.{names[a]}"][0] > 0]
    assert fired == [a for a in HH_RHEOBASE_STEPS if a >= 2.25]
    assert all(results.spike_counts[f"A.{names[a]}"][0] == 1 for a in fired)


def test_hodgkin_huxley_f_i_curve_is_type_ii(hodgkin_huxley):
    """Repetitive firing starts between 6.0 and 6.5 uA/cm^2 (near the 6.26 of the saddle-node of
    periodic orbits) at about 55 Hz, not near 0 Hz (Hodgkin's class II); the rate then rises
    slowly with the current (about 85 Hz at 20 uA/cm^2)."""
    results, names = hodgkin_huxley

    def rate(a):  # the steady rate: from the last intervals of the 300 ms step
        times = spike_times(results, f"A.{names[a]}")
        return 1 / np.mean(np.diff(times[-4:])) if len(times) >= 5 else 0.0

    rates = [rate(a) for a in HH_F_I_STEPS]
    repetitive = [a for a, r in zip(HH_F_I_STEPS, rates) if r > 0]
    assert repetitive == [a for a in HH_F_I_STEPS if a >= 6.5]
    assert 45 < rates[HH_F_I_STEPS.index(6.5)] < 65
    assert np.all(np.diff(rates[HH_F_I_STEPS.index(6.5):]) > 0)
    assert 75 < rates[-1] < 100


# ---------------------------------------------------------------- seed

@pytest.fixture(scope="module")
def seed_run():
    """The seed's neuron under a 2 nA step (R_m I = 20 mV, 5 mV above threshold), 100 ms."""
    return run(("seed",), """
        region A { cell = SeedNeuron[1] }
        stimulus A { I_ext += 2 nA }
        record v of A
        record spikes of A
    """)


def test_seed_neuron_rests_at_minus_70_mV_without_input():
    results = run(("seed",), "region A { cell = SeedNeuron[1] }\nrecord v of A", duration="20 ms")
    assert np.all(results.traces[("A.cell", "v")].values == -70e-3)


def test_seed_neuron_shows_a_30_mV_peak_then_the_reset(seed_run):
    trace = seed_run.traces[("A.cell", "v")]
    v, times = trace.values[:, 0], trace.times
    spikes = spike_times(seed_run, "A.cell")
    assert len(spikes) >= 3
    peaks = np.isin(np.round(times / 1e-4), np.round(spikes / 1e-4))
    assert np.all(v[peaks] == 30e-3), "the sample of the spike's step is the +30 mV peak"
    assert np.all(v[~peaks] <= -55e-3), "no sample other than a peak is above threshold"
    after = np.flatnonzero(peaks) + 1
    np.testing.assert_allclose(v[after[after < len(v)]], -70e-3, rtol=0, atol=1e-15)


def test_seed_neuron_is_refractory_for_2_ms(seed_run):
    """v stays at -70 mV from the step after the peak through t_spike + 2 ms, and integrates
    again in the next step; no spike can come closer than t_ref + dt (docs/semantics.md)."""
    trace = seed_run.traces[("A.cell", "v")]
    v = trace.values[:, 0]
    for spike in spike_times(seed_run, "A.cell")[:-1]:
        k = int(round(spike / 1e-4)) - 1  # the sample at the spike
        np.testing.assert_allclose(v[k + 1:k + 21], -70e-3, rtol=0, atol=1e-15)
        assert v[k + 21] > -70e-3 + 1e-6
    strong = run(("seed",), "region A { cell = SeedNeuron[1] }\nstimulus A { I_ext += 1000 nA }\nrecord spikes of A",
                 duration="20 ms")
    np.testing.assert_allclose(np.diff(spike_times(strong, "A.cell")), 2.1e-3, rtol=1e-9)


@pytest.mark.parametrize("ion, expected_mV", [("E_Na", 66), ("E_K", -98), ("E_Ca", 132), ("E_Cl", -89)])
def test_seed_neuron_nernst_potentials_at_37_C(ion, expected_mV):
    """The model computes E_ion = R T / (z F) ln(c_out / c_in) at 37 degrees C; each comes out
    within 1 mV of the seed's value."""
    model = std_model(("seed",), "region A { cell = SeedNeuron[1] }", duration="1 ms")
    assert parameters(model, "A.cell")[ion] * 1e3 == pytest.approx(expected_mV, abs=1.0)


def _classic_runge_kutta_v(f, y: np.ndarray, times: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """y[0] (the membrane potential) of dy/dt = f(y) from `y` at t = 0, by classic
    Runge-Kutta in steps of `h`, sampled at `times` (ascending)."""
    out, now = [], 0.0
    for target in times:
        while now < target - h / 2:
            k1 = f(y); k2 = f(y + h / 2 * k1); k3 = f(y + h / 2 * k2); k4 = f(y + h * k3)
            y, now = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), now + h
        out.append(y[0])
    return np.array(out)
