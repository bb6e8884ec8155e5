"""The numpy backend with and without `compiled_updates`, interleaved in one process: ratios.

    python benchmarks/compiled_side_by_side.py [--models cuba-4000 cobahh brunel cuba-256000]
                                               [--duration 0.2] [--rounds 2]

Each model is compiled both ways once (the C loops compile with the simulation), warmed up
for 10 ms, then run `--duration` seconds in turn, round after round. Prints every run time
per model second, the medians, the median per-round ratio compiled / plain, and whether the
two runs' spikes are identical (they must be: the loops are traced from the same code).
CUBA-N is models/cuba.brain with N neurons and fan-in 80 (`cuba_scaling.cuba_text`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cuba_scaling import cuba_text  # noqa: E402

MODELS = Path(__file__).resolve().parent.parent / "models"


def load(name: str):
    import brainsim

    if name.startswith("cuba-"):
        return brainsim.loads(cuba_text(int(name.split("-")[1]), 1.0), f"{name}.brain")
    return brainsim.load(MODELS / f"{name}.brain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cuba-4000", "cobahh", "brunel", "cuba-256000"])
    parser.add_argument("--duration", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from brainsim.results import compare_results

    for name in args.models:
        model = load(name)
        simulations = {}
        for compiled in (False, True):
            started = time.perf_counter()
            simulations[compiled] = model.compile(backend="numpy", compiled_updates=compiled)
            simulations[compiled].run(0.01)
            print(f"{name}: {'compiled' if compiled else 'plain'} built in {time.perf_counter() - started:.2f} s",
                  flush=True)
        times = {False: [], True: []}
        results = {}
        for _ in range(args.rounds):
            for compiled, simulation in simulations.items():
                results[compiled] = simulation.run(args.duration)
                times[compiled].append(results[compiled].run_seconds / args.duration)
                print(f"{name}: {'compiled' if compiled else 'plain'} {times[compiled][-1]:.3f} s per model second",
                      flush=True)
        ratio = statistics.median(c / p for p, c in zip(times[False], times[True]))
        identical = compare_results(results[False], results[True]).identical
        print(f"{name}: plain {statistics.median(times[False]):.3f}, compiled {statistics.median(times[True]):.3f} "
              f"s per model second; compiled / plain {ratio:.3f}; identical: {identical}", flush=True)


if __name__ == "__main__":
    main()
