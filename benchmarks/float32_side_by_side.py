"""float32 against float64 on the jax backend, side by side in one process: run time and
the bytes of the arrays the compiled program holds (CUBA, models/cuba.brain).

    python benchmarks/float32_side_by_side.py [duration_s] [repeats]

Each dtype is compiled once, then the runs alternate (float64, float32, float64, ...),
so that the load of a shared machine falls on both alike; the best run of each is printed.
"""

import sys
from pathlib import Path

from brainsim.backends.jax_backend import configure

configure()

import jax  # noqa: E402

import brainsim  # noqa: E402

MODEL = Path(__file__).parent.parent / "models" / "cuba.brain"


def held_bytes(simulation) -> int:
    """Bytes of the program's arrays and initial state (connectivity, weights, parameters, buffers)."""
    return sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves((simulation._arrays, simulation._initial)))


def main(duration: float = 1.0, repeats: int = 3) -> None:
    model = brainsim.load(MODEL)
    simulations = {dtype: model.compile(backend="jax", dtype=dtype) for dtype in ("float64", "float32")}
    best = {dtype: float("inf") for dtype in simulations}
    for dtype, simulation in simulations.items():
        results = simulation.run(duration)  # compiles
        print(f"{dtype}: compile {results.compile_seconds:.2f} s, {held_bytes(simulation) / 1e6:.2f} MB held, "
              f"{sum(results.spike_counts[p].sum() for p in results.spike_counts)} spikes")
    for _ in range(repeats):
        for dtype, simulation in simulations.items():
            best[dtype] = min(best[dtype], simulation.run(duration).run_seconds)
    print(f"run of {duration:g} s, best of {repeats}: " + ", ".join(f"{d} {s:.2f} s" for d, s in best.items())
          + f"; float32 / float64 = {best['float32'] / best['float64']:.2f}")


if __name__ == "__main__":
    main(*(float(a) if i == 0 else int(a) for i, a in enumerate(sys.argv[1:])))
