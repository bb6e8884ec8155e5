"""One step per call, before and after: `SimulatedNeuron.update` of two versions of brainsim in one process.

    python benchmarks/stepper_side_by_side.py --old /path/to/old/checkout [--steps 3000] [--rounds 5]

The seed's object API advances the engine one step per Python call
(`brainsim.backends.stepping.Stepper`), so what a long run spreads over
thousands of steps, a stepped run pays in every one. This times a
`SimulatedNeuron` driven by `add_synaptic_input` every 10 ms, `--steps`
updates per run, the two versions in turn (`versions_side_by_side.import_old`),
and prints the microseconds per step of each and the median new/old ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from versions_side_by_side import import_old


def microseconds_per_step(module, steps: int) -> float:
    neuron = module.simulation.SimulatedNeuron(0)
    neuron.update(dt_ms=0.1)  # builds the stepper: not timed
    started = time.perf_counter()
    for k in range(steps):
        if k % 100 == 0:
            neuron.add_synaptic_input(15.0)
        neuron.update(dt_ms=0.1)
    return (time.perf_counter() - started) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import brainsim
    import brainsim.simulation  # noqa: F401

    with tempfile.TemporaryDirectory() as folder:
        old = import_old(args.old, Path(folder))
        import brainsim_old.simulation  # noqa: F401

        times = {"old": [], "new": []}
        for _ in range(args.rounds):
            times["old"].append(microseconds_per_step(old, args.steps))
            times["new"].append(microseconds_per_step(brainsim, args.steps))
    print(f"SimulatedNeuron.update, {args.rounds} interleaved rounds of {args.steps} steps, us per step")
    for name, values in times.items():
        print(f"  {name}  median {statistics.median(values):8.1f}  " + " ".join(f"{v:.1f}" for v in values))
    ratios = [n / o for n, o in zip(times["new"], times["old"])]
    print(f"  new / old, median of the rounds: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
