"""Brian2's signatures of the four regimes of Brunel (2000), model A, for tests/test_brunel.py.

The model of models/brunel.brain, with the paper's external drive: N_E = 10 000
and N_I = 2 500 leaky integrate-and-fire neurons (tau = 20 ms, theta = 20 mV,
V_r = 10 mV, t_ref = 2 ms, integrated exactly at dt = 0.1 ms), each with a
fixed in-degree of C_E = 1000 excitatory (J = 0.1 mV) and C_I = 250 inhibitory
(-g J) inputs, drawn without repetition and without autapses, delay D = 1.5 ms.
Brian2's schedule applies a spike in the step after the one it crossed in plus
the delay, as brainsim does (docs/semantics.md). Input arriving while a neuron
is refractory is dropped (`* int(not_refractory_post)`), NEST's default.

External drive: `PoissonInput(N = C_E, rate = nu_ext)` per neuron, i.e. C_E
independent Poisson inputs, the paper's model; Brian2 draws the count of each
step from binomial(C_E, nu_ext dt), within 0.2 % of Poisson's variance. (brainsim
approximates it with 100 channels per neuron; docs/models.md compares the two.)

Each regime runs with SEEDS different seeds (connectivity, initial v uniform in
[0, theta), drive); the signatures of tests/brunel_signatures.py are computed on
the excitatory population in each of WINDOWS and saved with their mean and
standard deviation over the seeds. Run it with Brian2 2.x (Python >= 3.13):

    /work/venv313/bin/python tests/data/make_brian2_brunel.py --out tests/data/brian2_brunel.json
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from brunel_signatures import signatures  # noqa: E402

REGIMES = {"A": (3.0, 2.0), "B": (6.0, 4.0), "C": (5.0, 2.0), "D": (4.5, 0.9)}  # (g, nu_ext / nu_thr)
N_E, N_I, C_E, C_I = 10_000, 2_500, 1000, 250
SEEDS = (1, 2, 3)
DURATION = 1.2
TARGET = "cython"  # compiled once (cached by Brian2), about ten times faster per step than "numpy"
WINDOWS = {"long": (0.2, 1.2), "short": (0.1, 0.4)}


def fixed_indegree(rng, n_pre, n_post, indegree, offset):
    """(pre, post) of `indegree` distinct presynaptic neurons per target, no autapses.

    The presynaptic population's neuron k is neuron k + offset of the whole network,
    so target k + offset may not draw k.
    """
    pre, post = [], []
    for first in range(0, n_post, 500):
        targets = np.arange(first, min(first + 500, n_post))
        keys = rng.random((len(targets), n_pre))
        own = targets - offset
        inside = (own >= 0) & (own < n_pre)
        keys[np.nonzero(inside)[0], own[inside]] = np.inf
        chosen = np.argpartition(keys, indegree, axis=1)[:, :indegree]
        pre.append(chosen.ravel())
        post.append(np.repeat(targets, indegree))
    return np.concatenate(pre), np.concatenate(post)


def run(g: float, ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Spike times (s) and indices of the excitatory neurons of one run."""
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = TARGET
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(seed)
    rng = np.random.default_rng(seed)
    tau, theta, V_r, J, D = 20 * b2.ms, 20 * b2.mV, 10 * b2.mV, 0.1 * b2.mV, 1.5 * b2.ms
    nu_ext = ratio * theta / (J * C_E * tau)
    cells = b2.NeuronGroup(
        N_E + N_I, "dv/dt = -v / tau : volt (unless refractory)", threshold="v > theta",
        reset="v = V_r", refractory=2 * b2.ms, method="exact",
    )
    cells.v = rng.uniform(0, 20, N_E + N_I) * b2.mV
    excitatory, inhibitory = cells[:N_E], cells[N_E:]
    synapses = []
    for source, indegree, weight, offset in ((excitatory, C_E, J, 0), (inhibitory, C_I, -g * J, N_E)):
        pathway = b2.Synapses(source, cells, on_pre="v_post += w * int(not_refractory_post)",
                              namespace={"w": weight}, delay=D)
        pre, post = fixed_indegree(rng, len(source), N_E + N_I, indegree, offset)
        pathway.connect(i=pre, j=post)
        synapses.append(pathway)
    drive = b2.PoissonInput(cells, "v", N=C_E, rate=nu_ext, weight="J * int(not_refractory)")
    monitor = b2.SpikeMonitor(excitatory)
    network = b2.Network(cells, *synapses, drive, monitor)
    network.run(DURATION * b2.second, namespace={"tau": tau, "theta": theta, "V_r": V_r, "J": J})
    # Brian2 stamps a spike with the start of the step that crossed; brainsim with its end.
    return np.asarray(monitor.t) + float(b2.defaultclock.dt), np.asarray(monitor.i)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "brian2_brunel.json"))
    args = parser.parse_args()
    runs = {name: [] for name in REGIMES}
    for seed in SEEDS:  # every regime once before any twice, saving after each run
        for name, (g, ratio) in REGIMES.items():
            started = time.time()
            times, indices = run(g, ratio, seed)
            runs[name].append({window: signatures(times, indices, N_E, span) for window, span in WINDOWS.items()})
            print(name, seed, runs[name][-1]["long"], f"{time.time() - started:.0f} s", flush=True)
            Path(args.out).write_text(json.dumps(summarise(runs), indent=2) + "\n")


def summarise(runs: dict[str, list[dict]]) -> dict:
    """The JSON document: the signatures of each run, their mean and spread over the seeds run so far."""
    import brian2

    regimes = {}
    for name, done in runs.items():
        if not done:
            continue
        g, ratio = REGIMES[name]
        regimes[name] = {
            "g": g, "nu_ext_over_nu_thr": ratio, "seeds": list(SEEDS[: len(done)]),
            "windows": {
                window: {
                    measure: {
                        "runs": [one[window][measure] for one in done],
                        "mean": float(np.mean([one[window][measure] for one in done])),
                        "std": float(np.std([one[window][measure] for one in done], ddof=1)) if len(done) > 1 else None,
                    }
                    for measure in done[0][window]
                }
                for window in WINDOWS
            },
        }
    return {
        "simulator": f"Brian2 {brian2.__version__} ({TARGET} target), exact integration, dt 0.1 ms",
        "model": "Brunel (2000) model A, Fig. 8 regimes; models/brunel.brain with the paper's drive",
        "drive": "PoissonInput(N=C_E, rate=nu_ext) per neuron (C_E independent Poisson inputs)",
        "command": "/work/venv313/bin/python tests/data/make_brian2_brunel.py",
        "duration_s": DURATION,
        "windows_s": WINDOWS,
        "population": "excitatory (10 000 neurons)",
        "regimes": regimes,
    }


if __name__ == "__main__":
    main()
