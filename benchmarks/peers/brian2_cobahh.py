"""Brian2's run of the COBAHH network of models/cobahh.brain, as a peer reference.

Benchmark 3 of Brette et al. (2007, J Comput Neurosci 23:349): 4000
Traub-Miles Hodgkin-Huxley neurons with exponential conductance synapses,
integrated with exponential Euler at 0.1 ms. The model is the one in
models/cobahh.brain, which departs from Brian2's examples/COBAHH.py in two
places, both made identically here so that the two simulators run one model:

* initial values are uniform with the mean and standard deviation of the
  example's Gaussians (brainsim has uniform initial values only);
* every synapse has a delay of one step (brainsim's shortest) instead of none.

Random numbers differ between simulators, so the reference is statistical: per
population the mean rate, and the mean CV of the inter-spike intervals, over
several seeds. tests/test_peer_cobahh.py checks brainsim against them.

Brian2 2.11 needs Python >= 3.13; run it in its own environment:

    python3.13 -m venv /work/venv313 && /work/venv313/bin/pip install brian2
    /work/venv313/bin/python benchmarks/peers/brian2_cobahh.py --seeds 5 \
        --out tests/data/brian2_cobahh.json
"""

import argparse
import json
import math
import platform
import time

import numpy as np
from bench_brian2 import COBAHH_EQUATIONS  # this script's directory is on sys.path when it runs

N_EXCITATORY, N_INHIBITORY = 3200, 800
DURATION_S = 1.0


# The uniform initial values of models/cobahh.brain, in SI units: the example's
# Gaussians v = El + (randn() * 5 - 5) mV, ge = (randn() * 1.5 + 4) * 10 nS and
# gi = (randn() * 12 + 20) * 10 nS, replaced by uniforms of the same mean and
# standard deviation (ends at mean -+ sqrt(3) sd, rounded as written there).
INITIAL_RANGES = {"v": (-73.66e-3, -56.34e-3, "volt"), "ge": (14.02e-9, 65.98e-9, "siemens"),
                  "gi": (-7.85e-9, 407.85e-9, "siemens")}


def run_cobahh(seed: int, duration_s: float) -> dict:
    """One Brian2 run of COBAHH (numpy target, exponential Euler); rates and CVs."""
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    area = 20000 * b2.umetre ** 2
    namespace = {
        "Cm": 1 * b2.ufarad * b2.cm ** -2 * area,
        "gl": 5e-5 * b2.siemens * b2.cm ** -2 * area,
        "g_na": 100 * b2.msiemens * b2.cm ** -2 * area,
        "g_kd": 30 * b2.msiemens * b2.cm ** -2 * area,
        "El": -60 * b2.mV, "EK": -90 * b2.mV, "ENa": 50 * b2.mV, "VT": -63 * b2.mV,
        "Ee": 0 * b2.mV, "Ei": -80 * b2.mV, "taue": 5 * b2.ms, "taui": 10 * b2.ms,
        "we": 6 * b2.nS, "wi": 67 * b2.nS,
    }
    cells = b2.NeuronGroup(N_EXCITATORY + N_INHIBITORY, COBAHH_EQUATIONS, threshold="v > -20 * mV",
                           refractory=3 * b2.ms, method="exponential_euler", namespace=namespace)
    for name, (low, high, unit) in INITIAL_RANGES.items():
        setattr(cells, name, f"{low!r} * {unit} + rand() * {high - low!r} * {unit}")
    excitatory = b2.Synapses(cells, cells, on_pre="ge += we", delay=0.1 * b2.ms, namespace=namespace)
    inhibitory = b2.Synapses(cells, cells, on_pre="gi += wi", delay=0.1 * b2.ms, namespace=namespace)
    excitatory.connect(f"i < {N_EXCITATORY} and i != j", p=0.02)
    inhibitory.connect(f"i >= {N_EXCITATORY} and i != j", p=0.02)
    monitor = b2.SpikeMonitor(cells)
    network = b2.Network(cells, excitatory, inhibitory, monitor)
    network.run(duration_s * b2.second, namespace=namespace)

    indices, times = np.asarray(monitor.i), np.asarray(monitor.t)
    result = {"seed": seed}
    for name, neurons in (("exc", range(N_EXCITATORY)), ("inh", range(N_EXCITATORY, N_EXCITATORY + N_INHIBITORY))):
        in_population = (indices >= neurons.start) & (indices < neurons.stop)
        result[f"rate_{name}_hz"] = float(np.sum(in_population) / len(neurons) / duration_s)
        result[f"cv_isi_{name}"] = mean_cv_isi(indices, times, neurons)
    return result


def mean_cv_isi(indices: np.ndarray, times: np.ndarray, neurons: range) -> float:
    """The mean, over the neurons with at least 3 spikes, of the CV of their intervals
    (the same rule as brainsim's `Results.statistics()`); nan if there are none."""
    cvs = []
    for neuron in neurons:
        intervals = np.diff(times[indices == neuron])
        if len(intervals) >= 2:
            cvs.append(intervals.std() / intervals.mean())
    return float(np.mean(cvs)) if cvs else float("nan")


QUANTITIES = ("rate_exc_hz", "rate_inh_hz", "cv_isi_exc", "cv_isi_inh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=DURATION_S, help="seconds")
    parser.add_argument("--out", default="tests/data/brian2_cobahh.json")
    args = parser.parse_args()
    import brian2

    started = time.time()
    runs = [run_cobahh(seed, args.duration) for seed in range(1, args.seeds + 1)]
    summary = {
        "simulator": f"Brian2 {brian2.__version__} (numpy target), Python {platform.python_version()}",
        "model": (f"COBAHH as in models/cobahh.brain: 4000 Traub-Miles HH, p=0.02, delay 0.1 ms, "
                  f"uniform initial values, exponential Euler, dt 0.1 ms, {args.duration:g} s"),
        "command": f"python benchmarks/peers/brian2_cobahh.py --seeds {args.seeds} --duration {args.duration:g}",
        "duration_s": args.duration,
        "runs": runs,
    }
    for key in QUANTITIES:
        values = np.array([run[key] for run in runs])
        std = float(values.std(ddof=1))
        summary[key] = {"mean": float(values.mean()), "std": std, "sem": std / math.sqrt(len(values))}
    with open(args.out, "w") as handle:
        json.dump(summary, handle, indent=2)
    print(json.dumps({key: summary[key] for key in QUANTITIES}, indent=2))
    print(f"{len(runs)} runs in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
