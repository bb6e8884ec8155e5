"""CUBA side by side, in one process: the hand-written numpy loop, the numpy
backend and the jax backend (compile and run timed apart), with ratios.

    python benchmarks/cuba.py [--repeats 3] [--duration 1.0]

The bar: the numpy backend's run time within 1.5x of the hand-written loop's.
Each time is the best of `--repeats` runs (the machine is shared; runs under a
second vary by about 20%). The model is models/cuba.brain; the hand-written
loop (handwritten_cuba.py) implements the same equations and parameters.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import handwritten_cuba  # noqa: E402

import brainsim  # noqa: E402
from brainsim import ir  # noqa: E402
from brainsim.backends import compile_network  # noqa: E402

MODEL = Path(__file__).resolve().parent.parent / "models" / "cuba.brain"


def cuba_network(duration: float | None = None) -> ir.Network:
    """models/cuba.brain as IR, optionally with another duration (s)."""
    network = brainsim.load(MODEL).network
    if duration is None:
        return network
    return dataclasses.replace(network, simulation=dataclasses.replace(network.simulation, duration=duration))


def benchmark(network: ir.Network, repeats: int = 3) -> dict[str, float]:
    """Best-of-`repeats` run times (s) of the three implementations on `network`; prints a table."""
    settings = network.simulation
    size = sum(p.size for p in network.populations)
    times: dict[str, float] = {}
    times["hand-written numpy loop"] = min(
        handwritten_cuba.simulate(size, settings.duration, settings.dt, settings.seed)["run_seconds"]
        for _ in range(repeats)
    )
    numpy_simulation = compile_network(network, backend="numpy")
    numpy_runs = [numpy_simulation.run() for _ in range(repeats)]
    times["numpy backend"] = min(r.run_seconds for r in numpy_runs)
    jax_simulation = compile_network(network, backend="jax")
    jax_runs = [jax_simulation.run() for _ in range(repeats)]
    times["jax backend compile"] = sum(r.compile_seconds for r in jax_runs)
    times["jax backend"] = min(r.run_seconds for r in jax_runs)
    identical = all(
        np.array_equal(numpy_runs[0].spikes[p].indices, jax_runs[0].spikes[p].indices)
        and np.array_equal(numpy_runs[0].spikes[p].times, jax_runs[0].spikes[p].times)
        for p in numpy_runs[0].spikes
    )
    baseline = times["hand-written numpy loop"]
    rate = sum(int(c.sum()) for c in numpy_runs[0].spike_counts.values()) / (size * settings.duration)
    print(f"CUBA, N={size}, {settings.duration:g} s simulated, dt={settings.dt * 1e3:g} ms, "
          f"{rate:.2f} Hz mean rate, best of {repeats}")
    for name, seconds in times.items():
        ratio = "" if name.endswith("compile") else f"{seconds / baseline:6.2f}x hand-written"
        print(f"  {name:26s} {seconds:8.3f} s   {ratio}")
    print(f"  numpy and jax spike trains identical: {identical}; jax bounds: {jax_simulation.bounds.describe()}")
    return times


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    args = parser.parse_args()
    benchmark(cuba_network(args.duration), args.repeats)
