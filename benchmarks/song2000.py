"""Song, Miller & Abbott (2000) at full length on both backends: the final weight
distribution and the output rate, beside Brian2's run of the same model.

    python benchmarks/song2000.py [--duration 100] [--backends numpy jax]

Prints, per backend, the fractions of the 1000 weights below 10% and above 90%
of w_max, the output rate over the whole run and over its last 10%, the
compile and run times, and whether the backends' final weights are identical
bit for bit; then Brian2's numbers at the same duration from
tests/data/brian2_song2000.json (benchmarks/peers/brian2_song2000.py, 4 seeds),
when it has them. The model is models/stdp_song2000.brain (100 s of 0.1 ms
steps: a long run; run it alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import brainsim  # noqa: E402

MODEL = ROOT / "models" / "stdp_song2000.brain"
BRIAN2 = ROOT / "tests" / "data" / "brian2_song2000.json"
PROJECTION = "Input.poisson->Output.cell"
W_MAX = 0.1e-9


def summary(results) -> dict[str, float]:
    """The weight fractions and output rates of one run (tests/test_song2000.py uses them too)."""
    w = results.synapses[PROJECTION].states["w"] / W_MAX
    times = results.spikes["Output.cell"].times
    duration = results.duration
    return {
        "below_10_percent": float(np.mean(w < 0.1)),
        "above_90_percent": float(np.mean(w > 0.9)),
        "std_over_w_max": float(np.std(w)),
        "output_rate_hz": len(times) / duration,
        "output_rate_last_10_percent_hz": np.count_nonzero(times >= 0.9 * duration) / (0.1 * duration),
        "first_second_rate_hz": float(np.count_nonzero(times < 1.0)),
        "compile_seconds": results.compile_seconds,
        "run_seconds": results.run_seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=100.0, help="model time, s")
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax"])
    arguments = parser.parse_args()
    model = brainsim.load(MODEL)
    runs = {}
    for backend in arguments.backends:
        runs[backend] = model.compile(backend=backend).run(arguments.duration)
        numbers = summary(runs[backend])
        print(f"brainsim {backend}: " + "  ".join(f"{k} = {v:.4g}" for k, v in numbers.items()), flush=True)
    if len(runs) == 2:
        a, b = runs.values()
        same = all(np.array_equal(a.synapses[PROJECTION].states[v], b.synapses[PROJECTION].states[v])
                   for v in a.synapses[PROJECTION].states)
        print(f"final synapse states identical on {' and '.join(runs)}: {same}")
    reference = json.loads(BRIAN2.read_text())["durations"].get(f"{arguments.duration:g}")
    if reference:
        mean = reference["mean"]
        print(f"Brian2 (mean of {len(reference['runs'])} seeds): " + "  ".join(f"{k} = {v:.4g}" for k, v in mean.items()))


if __name__ == "__main__":
    main()
