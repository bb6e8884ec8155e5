"""Brian2's run of the CUBA network of models/cuba.brain, as a peer reference.

Brian2 cannot give the same spike trains (its random numbers differ), so the
reference is statistical: the mean excitatory and inhibitory rates and the mean
CV of the inter-spike intervals over several seeds. Two more numbers are exact,
the same for every seed, and must be the same in brainsim: how many samples v
stays at Vr after a spike (the refractory hold), and the lag in steps from a
spike's time stamp to the first sample of a target's ge that shows its event
(the delay). tests/test_peer_cuba.py checks brainsim against the numbers this
script writes.

Brian2 2.11 needs Python >= 3.13; run it in its own environment:

    python3.13 -m venv /tmp/brian2-env && /tmp/brian2-env/bin/pip install brian2 numpy
    /tmp/brian2-env/bin/python benchmarks/peers/brian2_cuba.py --seeds 10 \
        --out tests/data/brian2_cuba.json
"""

import argparse
import json
import platform
import time

import numpy as np


def run_cuba(seed: int) -> dict:
    """One Brian2 run of CUBA (numpy target, exact integration, 1 s); rates and CV."""
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = 0.1 * b2.ms
    namespace = {
        "taum": 20 * b2.ms, "taue": 5 * b2.ms, "taui": 10 * b2.ms,
        "Vt": -50 * b2.mV, "Vr": -60 * b2.mV, "El": -49 * b2.mV,
        "we": 1.62 * b2.mV, "wi": -9 * b2.mV,
    }
    equations = """
    dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    """
    cells = b2.NeuronGroup(4000, equations, threshold="v > Vt", reset="v = Vr",
                           refractory=5 * b2.ms, method="exact", namespace=namespace)
    cells.v = "Vr + rand() * (Vt - Vr)"
    excitatory = b2.Synapses(cells, cells, on_pre="ge += we", delay=0.1 * b2.ms, namespace=namespace)
    inhibitory = b2.Synapses(cells, cells, on_pre="gi += wi", delay=0.1 * b2.ms, namespace=namespace)
    excitatory.connect("i < 3200 and i != j", p=0.02)
    inhibitory.connect("i >= 3200 and i != j", p=0.02)
    monitor = b2.SpikeMonitor(cells)
    traces = b2.StateMonitor(cells, ["v", "ge"], record=range(5))
    network = b2.Network(cells, excitatory, inhibitory, monitor, traces)
    network.run(1 * b2.second, namespace=namespace)

    indices, times = np.asarray(monitor.i), np.asarray(monitor.t)
    steps = np.rint(times / 1e-4).astype(np.int64)
    sample_steps = np.rint(np.asarray(traces.t) / 1e-4).astype(np.int64)
    cvs = []
    for neuron in range(4000):
        intervals = np.diff(times[indices == neuron])
        if len(intervals) >= 2:
            cvs.append(intervals.std() / intervals.mean())
    return {
        "seed": seed,
        "rate_exc_hz": float(np.sum(indices < 3200) / 3200),
        "rate_inh_hz": float(np.sum(indices >= 3200) / 800),
        "cv_isi": float(np.mean(cvs)),
        "hold_samples": hold_samples(np.asarray(traces.v), sample_steps, indices, steps, float(namespace["Vr"])),
        "excitatory_lag_steps": excitatory_lag(np.asarray(traces.ge), sample_steps, steps[indices < 3200]),
    }


def hold_samples(v: np.ndarray, sample_steps: np.ndarray, indices: np.ndarray, steps: np.ndarray, reset: float) -> list:
    """The distinct numbers of consecutive samples at v == reset from the first sample
    stamped after each spike of the recorded neurons (rows of `v`); spikes too close to
    the end of the run to be released are left out."""
    holds = set()
    for neuron, trace in enumerate(v):
        for step in steps[indices == neuron]:
            after = np.flatnonzero(sample_steps > step)
            held = trace[after] == reset
            if not held.all():
                holds.add(int(np.argmin(held)))
    return sorted(holds)


def excitatory_lag(ge: np.ndarray, sample_steps: np.ndarray, spike_steps: np.ndarray) -> int | None:
    """The lag L (steps) from spike stamps to samples such that every rise of a recorded
    neuron's ge (an excitatory event arrived) has an excitatory spike stamped L steps
    before its sample; None if no lag in 0..5 explains them all."""
    rises = sample_steps[1:][np.any(np.diff(ge, axis=1) > 0, axis=0)]
    spiking = set(spike_steps.tolist())
    lags = [lag for lag in range(6) if all(int(s) - lag in spiking for s in rises)]
    return lags[0] if len(lags) == 1 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", default="tests/data/brian2_cuba.json")
    args = parser.parse_args()
    import brian2

    started = time.time()
    runs = [run_cuba(seed) for seed in range(1, args.seeds + 1)]
    summary = {
        "simulator": f"Brian2 {brian2.__version__} (numpy target), Python {platform.python_version()}",
        "model": "CUBA as in models/cuba.brain: 4000 LIF, p=0.02, delay 0.1 ms, 1 s, dt 0.1 ms",
        "command": "python benchmarks/peers/brian2_cuba.py --seeds %d" % args.seeds,
        "runs": runs,
    }
    for key in ("hold_samples", "excitatory_lag_steps"):
        values = {json.dumps(run[key]) for run in runs}
        summary[key] = json.loads(values.pop()) if len(values) == 1 else None  # exact: one value for all seeds
    for key in ("rate_exc_hz", "rate_inh_hz", "cv_isi"):
        values = np.array([run[key] for run in runs])
        summary[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1))}
    with open(args.out, "w") as handle:
        json.dump(summary, handle, indent=2)
    print(json.dumps({k: summary[k] for k in ("rate_exc_hz", "rate_inh_hz", "cv_isi", "hold_samples",
                                              "excitatory_lag_steps")}, indent=2))
    print(f"{len(runs)} runs in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
