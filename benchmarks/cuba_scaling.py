"""CUBA at growing N with a fixed fan-in of 80: compile and run times of both backends.

    python benchmarks/cuba_scaling.py [--sizes 4000 16000 64000] [--duration 1.0] [--tree PATH]

models/cuba.brain with N neurons (80% excitatory) and p = 80 / N, so each neuron
receives 80 synapses at every N, as in Brette et al. (2007)'s scaling runs. For
each N it prints the numpy backend's run time, the jax backend's compile time
(all compilations, recompiles on overflow included) and run time, the jax bounds
it ended with, and whether the spike trains of the two backends are identical.

`--tree PATH` imports brainsim from another checkout (e.g. a worktree of the
commit before a change), so that two versions can be timed side by side by
running this script twice in a row on a quiet machine; the model text is the
same for both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

MODEL = Path(__file__).resolve().parent.parent / "models" / "cuba.brain"


def cuba_text(n: int, duration: float) -> str:
    """models/cuba.brain with `n` neurons, fan-in 80, `duration` seconds, no recording of v."""
    text = MODEL.read_text()
    n_exc = n * 4 // 5
    text = text.replace("CubaLIF[3200]", f"CubaLIF[{n_exc}]").replace("CubaLIF[800]", f"CubaLIF[{n - n_exc}]")
    text = text.replace("p = 0.02", f"p = {80 / n!r}").replace("duration = 1 s", f"duration = {duration * 1000:g} ms")
    return text.replace("record v of Cortex.exc[0:5]", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000, 64000])
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--skip-numpy", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree.resolve()))
    import numpy as np

    import brainsim

    print(f"brainsim from {Path(brainsim.__file__).parent}")
    print(f"{'N':>7} {'numpy run':>10} {'jax compile':>12} {'jax run':>9}  identical  bounds")
    for n in args.sizes:
        model = brainsim.loads(cuba_text(n, args.duration), f"cuba{n}.brain")
        started = time.perf_counter()
        jax_sim = model.compile(backend="jax")
        jax_results = jax_sim.run()
        jax_total = time.perf_counter() - started
        numpy_run, identical = float("nan"), "-"
        if not args.skip_numpy:
            numpy_results = model.compile(backend="numpy").run()
            numpy_run = numpy_results.run_seconds
            identical = all(
                np.array_equal(numpy_results.spikes[p].times, jax_results.spikes[p].times)
                and np.array_equal(numpy_results.spikes[p].indices, jax_results.spikes[p].indices)
                for p in numpy_results.spikes
            )
        bounds = getattr(jax_sim, "bounds", None)
        described = bounds.describe() if bounds is not None else f"{jax_sim.capacities} {jax_sim.event_budgets}"
        print(f"{n:7d} {numpy_run:10.3f} {jax_results.compile_seconds:12.3f} {jax_results.run_seconds:9.3f}  "
              f"{identical!s:9}  {described}  (jax total {jax_total:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
