"""Brian2's run of Song, Miller & Abbott (2000), the model of models/stdp_song2000.brain.

The model is Brian2's documentation example "Song, Miller and Abbott 2000"
(examples/synapses/STDP.py): 1000 Poisson inputs at 15 Hz onto one
integrate-and-fire neuron whose excitatory conductance g_e (in units of the leak
conductance) drives it through the driving force linearised at the reset
potential, and additive pair-based STDP with all-to-all pairing on every input
(tau_pre = tau_post = 20 ms, A_pre = 0.01 g_max, A_post = -1.05 A_pre,
weights clipped to [0, g_max], g_max = 0.01, initial weights uniform in
[0, g_max]). Brian2's random numbers differ from brainsim's, so the comparison
is statistical: the fractions of final weights below 10% and above 90% of
g_max, and the output rate over the last 10% of the run (and over the whole run).

Brian2 2.11 needs Python >= 3.13; run it in its own environment:

    /work/venv313/bin/python benchmarks/peers/brian2_song2000.py --durations 2 5 10 20 100 --seeds 4 \
        --out tests/data/brian2_song2000.json

(cython target: about 20 s per 100 s of model time here, after a compilation
of about 10 s.) The JSON holds, per duration, every seed's numbers and their means.
"""

import argparse
import json
import platform
import time

import numpy as np
from bench_brian2 import SONG_G_MAX, build_song2000  # this script's directory is on sys.path when it runs


def run_song2000(duration_s: float, seed: int, target: str) -> dict:
    """One Brian2 run of the model for `duration_s` seconds; the weight fractions and rates."""
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = target
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    (inputs, neuron, synapses), _ = build_song2000(b2, 1, delay_ms=0.0)
    g_max = SONG_G_MAX
    spikes = b2.SpikeMonitor(neuron)
    network = b2.Network(inputs, neuron, synapses, spikes)
    started = time.perf_counter()
    network.run(duration_s * b2.second)
    elapsed = time.perf_counter() - started

    w = np.asarray(synapses.w) / g_max
    times = np.asarray(spikes.t)
    last = times[times >= 0.9 * duration_s]
    return {
        "seed": seed,
        "duration_s": duration_s,
        "below_10_percent": float(np.mean(w < 0.1)),
        "above_90_percent": float(np.mean(w > 0.9)),
        "std_over_w_max": float(np.std(w)),
        "output_rate_hz": float(len(times) / duration_s),
        "output_rate_last_10_percent_hz": float(len(last) / (0.1 * duration_s)),
        "run_seconds": elapsed,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", type=float, nargs="+", default=[100.0], help="model times, s")
    parser.add_argument("--seeds", type=int, default=1, help="run seeds 1..SEEDS")
    parser.add_argument("--target", default="cython", help="Brian2 code generation target")
    parser.add_argument("--out", help="write the numbers as JSON here")
    arguments = parser.parse_args()
    import brian2

    report = {"brian2": brian2.__version__, "python": platform.python_version(), "target": arguments.target,
              "durations": {}}
    for duration in arguments.durations:
        runs = [run_song2000(duration, seed, arguments.target) for seed in range(1, arguments.seeds + 1)]
        keys = ("below_10_percent", "above_90_percent", "std_over_w_max", "output_rate_hz", "output_rate_last_10_percent_hz")
        mean = {key: float(np.mean([run[key] for run in runs])) for key in keys}
        report["durations"][f"{duration:g}"] = {"runs": runs, "mean": mean}
        print(f"{duration:g} s: {json.dumps(mean)}", flush=True)
    if arguments.out:
        with open(arguments.out, "w") as file:
            json.dump(report, file, indent=2)


if __name__ == "__main__":
    main()
