"""Brian2's spike times for models/hodgkin_huxley.brain, as a peer reference.

Brian2 integrates the same equations with fourth-order Runge-Kutta at a tenth
of the model's step (1 us), which makes its spike times a reference for
brainsim's forward Euler at 10 us. tests/test_peer_hodgkin_huxley.py compares
them. Brian2 2.11 needs Python >= 3.13:

    python3.13 -m venv /tmp/brian2-env && /tmp/brian2-env/bin/pip install brian2 numpy
    /tmp/brian2-env/bin/python benchmarks/peers/brian2_hodgkin_huxley.py \
        --out tests/data/brian2_hodgkin_huxley.json
"""

import argparse
import json
import time

# The squid axon of models/hodgkin_huxley.brain in Brian2's notation, per cm^2; the
# applied current I_app is declared by each script (constant or switched).
HODGKIN_HUXLEY_EQUATIONS = """
dv/dt = (I_app - g_Na * m**3 * h * (v - E_Na) - g_K * n**4 * (v - E_K) - g_L * (v - E_L)) / C_m : volt
dm/dt = alpha_m * (1 - m) - beta_m * m : 1
dh/dt = alpha_h * (1 - h) - beta_h * h : 1
dn/dt = alpha_n * (1 - n) - beta_n * n : 1
alpha_m = 0.1 * (v / mV + 40) / (1 - exp(-(v / mV + 40) / 10)) / ms : Hz
beta_m = 4 * exp(-(v / mV + 65) / 18) / ms : Hz
alpha_h = 0.07 * exp(-(v / mV + 65) / 20) / ms : Hz
beta_h = 1 / (1 + exp(-(v / mV + 35) / 10)) / ms : Hz
alpha_n = 0.01 * (v / mV + 55) / (1 - exp(-(v / mV + 55) / 10)) / ms : Hz
beta_n = 0.125 * exp(-(v / mV + 65) / 80) / ms : Hz
"""


def hodgkin_huxley_namespace(b2) -> dict:
    """The parameters of HODGKIN_HUXLEY_EQUATIONS, in Brian2 quantities."""
    return {
        "C_m": 1 * b2.uF, "g_Na": 120 * b2.msiemens, "g_K": 36 * b2.msiemens, "g_L": 0.3 * b2.msiemens,
        "E_Na": 50 * b2.mV, "E_K": -77 * b2.mV, "E_L": -54.387 * b2.mV,
    }


CURRENTS_UA = {"Axon.rest": 0.0, "Axon.i5": 5.0, "Axon.i7": 7.0, "Axon.i10": 10.0, "Axon.i20": 20.0}


def run(dt_ms: float, duration_ms: float) -> dict[str, list[float]]:
    """Spike times (s) per population name of models/hodgkin_huxley.brain."""
    import brian2 as b2
    import numpy as np

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = dt_ms * b2.ms
    namespace = hodgkin_huxley_namespace(b2)
    equations = HODGKIN_HUXLEY_EQUATIONS + "I_app : amp (constant)\n"
    cells = b2.NeuronGroup(len(CURRENTS_UA), equations, threshold="v > 0 * mV", refractory=2 * b2.ms,
                           method="rk4", namespace=namespace)
    cells.v, cells.m, cells.h, cells.n = -65 * b2.mV, 0.0529, 0.5961, 0.3177
    cells.I_app = np.array(list(CURRENTS_UA.values())) * b2.uA
    monitor = b2.SpikeMonitor(cells)
    b2.run(duration_ms * b2.ms, namespace=namespace)
    indices, times = np.asarray(monitor.i), np.asarray(monitor.t)
    return {name: times[indices == k].tolist() for k, name in enumerate(CURRENTS_UA)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="tests/data/brian2_hodgkin_huxley.json")
    args = parser.parse_args()
    import brian2

    started = time.time()
    spikes = run(dt_ms=0.001, duration_ms=200.0)
    summary = {
        "simulator": f"Brian2 {brian2.__version__} (numpy target), rk4, dt 0.001 ms",
        "model": "models/hodgkin_huxley.brain: 1 cm^2 HH patches at 0, 5, 7, 10, 20 uA, 200 ms",
        "command": "python benchmarks/peers/brian2_hodgkin_huxley.py",
        "note": "Brian2 stamps a spike with the start of the step that crossed threshold",
        "spike_times_s": spikes,
    }
    with open(args.out, "w") as handle:
        json.dump(summary, handle, indent=2)
    print({name: len(times) for name, times in spikes.items()}, f"in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
