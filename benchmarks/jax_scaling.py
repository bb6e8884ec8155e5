"""Issue 9's scaling bars: CUBA at growing N (fan-in 80) and Brunel, both backends, side by side.

    python benchmarks/jax_scaling.py [--sizes 4000 16000 64000 256000] [--duration 1.0]
                                     [--brunel-duration 0.3] [--cpus K]

For each network, in one process: the numpy backend's run time, the jax
backend's compile time (every compilation, recompiles on overflow included) and
run time, the bytes per synapse the jax backend holds
(`Simulation.synapse_memory`), whether the spike trains are identical, and the
jax bounds with their growths. Then the bars of issue 9 as ratios: jax run /
numpy run (at most 1.5 at N = 4 000, at most 1 from 16 000), and the jax compile
at 64 000 over the one at 4 000 (at most 2).

`--cpus K` pins the process to K cores (os.sched_setaffinity): on a machine
shared with other jobs XLA's and OpenBLAS's worker threads wait for busy cores,
which swamps what is measured.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cuba_scaling import cuba_text  # noqa: E402


def brunel_text(duration: float) -> str:
    """models/brunel.brain (regime C, 12 500 neurons, 1 350 inputs each) run for `duration` seconds."""
    return (ROOT / "models" / "brunel.brain").read_text().replace("duration = 1.2 s", f"duration = {duration * 1000:g} ms")


def measure(name: str, text: str) -> dict:
    """Both backends on one model text; numpy first, then jax, in this process."""
    import numpy as np

    import brainsim

    model = brainsim.loads(text, f"{name}.brain")
    numpy_results = model.compile(backend="numpy").run()
    jax_sim = model.compile(backend="jax")
    jax_results = jax_sim.run()
    memory = jax_sim.synapse_memory()
    identical = all(
        np.array_equal(numpy_results.spikes[p].times, jax_results.spikes[p].times)
        and np.array_equal(numpy_results.spikes[p].indices, jax_results.spikes[p].indices)
        for p in numpy_results.spikes
    )
    return {
        "numpy": numpy_results.run_seconds,
        "compile": jax_results.compile_seconds,
        "jax": jax_results.run_seconds,
        "bytes": sum(m.bytes for m in memory) / max(1, sum(m.synapses for m in memory)),
        "synapses": sum(m.synapses for m in memory),
        "identical": identical,
        "bounds": jax_sim.bounds.describe(),
        "growths": jax_sim.bounds.growths,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 64000, 256000])
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--brunel-duration", type=float, default=0.3)
    parser.add_argument("--cpus", type=int, default=None)
    args = parser.parse_args()
    if args.cpus:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cpus])
    print(f"cores {sorted(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.2f} at the start")
    print(f"{'model':>12} {'synapses':>10} {'numpy run':>10} {'jax compile':>12} {'jax run':>8} {'jax/numpy':>10} "
          f"{'B/synapse':>10}  identical  bounds")
    rows = {}
    networks = [(f"CUBA {n}", cuba_text(n, args.duration)) for n in args.sizes]
    networks.append(("Brunel", brunel_text(args.brunel_duration)))
    for name, text in networks:
        began = time.perf_counter()
        row = rows[name] = measure(name.replace(" ", ""), text)
        print(f"{name:>12} {row['synapses']:10d} {row['numpy']:10.3f} {row['compile']:12.3f} {row['jax']:8.3f} "
              f"{row['jax'] / row['numpy']:10.2f} {row['bytes']:10.2f}  {row['identical']!s:9}  {row['bounds']}"
              f"  ({time.perf_counter() - began:.0f} s in all)", flush=True)
        for growth in row["growths"]:
            print(f"{'':>14}growth: {growth}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print("bars (issue 9):")
    for name, row in rows.items():
        n = int(name.split()[1]) if name.startswith("CUBA") else None
        limit = 1.5 if n is not None and n < 16000 else 1.0
        print(f"  {name:>12}: jax run / numpy run = {row['jax'] / row['numpy']:.2f} (bar {limit:g}): "
              f"{'met' if row['jax'] / row['numpy'] <= limit else 'NOT met'}")
    if "CUBA 4000" in rows and "CUBA 64000" in rows:
        ratio = rows["CUBA 64000"]["compile"] / rows["CUBA 4000"]["compile"]
        print(f"  jax compile at 64 000 / at 4 000 = {ratio:.2f} (bar 2): {'met' if ratio <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
