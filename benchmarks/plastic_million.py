"""A plastic projection of 10^6 synapses: the time per step grows with spikes, not synapses.

    python benchmarks/plastic_million.py [--backends numpy jax] [--repeats 3] [--duration 0.2]

1000 Poisson inputs project all to all onto 1000 leaky integrate-and-fire
neurons through pair-based STDP synapses (event-driven traces, on pre and on
post), so the projection holds 10^6 plastic synapses. Two sweeps:

- the input rate (0 = silent, then 1 to 50 Hz) with all 10^6 synapses: each
  presynaptic spike updates its 1000 synapses, so the work per step is about
  1000 x rate x dt x 1000 synapse updates plus a fixed cost per step;
- the number of synapses (10^4 to 10^6, by the number of inputs) while silent:
  a silent step costs the same whatever the number of synapses.

The targets' weights are too small to make them fire (the `on post` pathway
is built but never runs), and the static row is the same projection without
plasticity, for the fixed cost. Each time is the best of `--repeats` runs of
`--duration` simulated seconds at dt = 0.1 ms; the build (loading, connecting,
compiling) is timed apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import brainsim  # noqa: E402

RATES = (0.0, 1.0, 5.0, 20.0, 50.0)  # Hz
SIZES = (10, 100, 1000)  # inputs, onto 1000 targets
TARGETS = 1000

SYNAPSES = """
synapse STDP {
    parameters { tau_pre = 20 ms  tau_post = 20 ms  A_pre = 0.01  A_post = -0.0105  w_max = 1 pA }
    state      { w = 0.5 pA  a_pre = 0  a_post = 0 }
    bounds     { w = [0 pA, w_max] }
    equations  {
        da_pre/dt  = -a_pre / tau_pre
        da_post/dt = -a_post / tau_post
    }
    on pre  { I_syn += w   a_pre += A_pre   w += a_post * w_max }
    on post { a_post += A_post   w += a_pre * w_max }
}
synapse Static { state { w = 0.5 pA }  on pre { I_syn += w } }
"""


def model(inputs: int, rate: float, synapse: str, duration: float) -> brainsim.Model:
    """`inputs` Poisson sources at `rate` onto TARGETS LIF neurons, all to all, with `synapse`."""
    text = f"""
simulation {{ dt = 0.1 ms  duration = {duration * 1e3:g} ms  seed = 1 }}
import lif from std
{SYNAPSES}
region In {{ source = PoissonSource[{inputs}] {{ rate = {rate:g} Hz }} }}
region Out {{ target = LifCurrentExp[{TARGETS}] }}
connect In -> Out with {synapse}
"""
    return brainsim.loads(text, filename="plastic_million.brain")


def time_per_step(inputs: int, rate: float, synapse: str, backend: str, duration: float, repeats: int):
    """(best microseconds per step, presynaptic spikes per step, build seconds): the
    build is loading, connecting and compiling (jax: the first run's compilation too)."""
    start = time.perf_counter()
    simulation = model(inputs, rate, synapse, duration).compile(backend=backend)
    build = time.perf_counter() - start
    runs = [simulation.run() for _ in range(repeats)]
    best = min(runs, key=lambda r: r.run_seconds)
    steps = best.n_steps
    spikes = int(best.spike_counts["In.source"].sum()) / steps
    return best.run_seconds / steps * 1e6, spikes, build + runs[0].compile_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", default=["numpy"], choices=["numpy", "jax"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=0.2, help="simulated seconds per run")
    args = parser.parse_args()
    for backend in args.backends:
        print(f"{backend}: {TARGETS} LIF targets, dt = 0.1 ms, {args.duration:g} s per run, best of {args.repeats}")
        print(f"  {'synapses':>9} {'synapse':>7} {'rate Hz':>8} {'pre spikes/step':>16} {'synapse updates/step':>21} {'us/step':>9} {'build s':>8}")
        rows = [(1000, rate, "STDP") for rate in RATES] + [(1000, 0.0, "Static"), (1000, 20.0, "Static")]
        rows += [(inputs, 0.0, "STDP") for inputs in SIZES if inputs != 1000]
        for inputs, rate, synapse in rows:
            micro, spikes, build = time_per_step(inputs, rate, synapse, backend, args.duration, args.repeats)
            print(f"  {inputs * TARGETS:>9} {synapse:>7} {rate:>8g} {spikes:>16.2f} {spikes * TARGETS:>21.0f} {micro:>9.1f} {build:>8.2f}")


if __name__ == "__main__":
    main()
