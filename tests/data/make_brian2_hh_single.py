"""Brian2's spike times for models/hh_single.brain, for tests/test_hh_single.py.

The same equations, method (forward Euler) and step (10 us) as brainsim uses for
the model, and the current step as three runs: 0 for 20 ms, 10 uA for 150 ms,
0 for 30 ms (brainsim's pulse is on in the steps 2000 to 16999, the same steps).
Brian2 stamps a spike with the start of the step that crossed threshold,
brainsim with its end, so one step is added. Run it with Brian2 2.x:

    /work/venv313/bin/python tests/data/make_brian2_hh_single.py
"""

import json
from pathlib import Path

SEGMENTS = ((20.0, 0.0), (150.0, 10.0), (30.0, 0.0))  # (duration ms, current uA)
DT_MS = 0.01


def main() -> None:
    import brian2 as b2
    import numpy as np

    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT_MS * b2.ms
    namespace = {
        "C_m": 1 * b2.uF, "g_Na": 120 * b2.msiemens, "g_K": 36 * b2.msiemens, "g_L": 0.3 * b2.msiemens,
        "E_Na": 50 * b2.mV, "E_K": -77 * b2.mV, "E_L": -54.387 * b2.mV,
    }
    equations = """
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
    I_app : amp
    """
    cell = b2.NeuronGroup(1, equations, threshold="v > 0 * mV", refractory=2 * b2.ms,
                          method="euler", namespace=namespace)
    cell.v, cell.m, cell.h, cell.n = -65 * b2.mV, 0.0529, 0.5961, 0.3177
    monitor = b2.SpikeMonitor(cell)
    network = b2.Network(cell, monitor)
    for duration, current in SEGMENTS:
        cell.I_app = current * b2.uA
        network.run(duration * b2.ms, namespace=namespace)
    times = np.asarray(monitor.t) + DT_MS * 1e-3
    summary = {
        "simulator": f"Brian2 {b2.__version__} (numpy target), euler, dt {DT_MS} ms",
        "model": "models/hh_single.brain: one 1 cm^2 HH patch, 10 uA from 20 ms to 170 ms, 200 ms",
        "command": "/work/venv313/bin/python tests/data/make_brian2_hh_single.py",
        "note": "times are Brian2's plus one step: brainsim stamps a spike with the end of its step",
        "spike_times_s": [round(float(x), 9) for x in times],
    }
    out = Path(__file__).parent / "brian2_hh_single.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(len(times), "spikes")


if __name__ == "__main__":
    main()
