"""Brian2's spike times for models/hh_single.brain, for tests/test_hh_single.py.

The same equations, method (forward Euler) and step (10 us) as brainsim uses for
the model, and the current step as three runs: 0 for 20 ms, 10 uA for 150 ms,
0 for 30 ms (brainsim's pulse is on in the steps 2000 to 16999, the same steps).
Brian2 stamps a spike with the start of the step that crossed threshold,
brainsim with its end, so one step is added. Run it with Brian2 2.x:

    /work/venv313/bin/python tests/data/make_brian2_hh_single.py
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent.parent / "benchmarks" / "peers"))
from brian2_hodgkin_huxley import HODGKIN_HUXLEY_EQUATIONS, hodgkin_huxley_namespace  # noqa: E402

SEGMENTS = ((20.0, 0.0), (150.0, 10.0), (30.0, 0.0))  # (duration ms, current uA)
DT_MS = 0.01


def main() -> None:
    import brian2 as b2
    import numpy as np

    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT_MS * b2.ms
    namespace = hodgkin_huxley_namespace(b2)
    equations = HODGKIN_HUXLEY_EQUATIONS + "I_app : amp\n"
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
