"""The jax backend's synapse batch size against run time: batches sized for several rates, interleaved.

    python benchmarks/batch_rate.py MODEL RATE [RATE ...]      # MODEL: brunel, or a CUBA size
    taskset -c 0 python benchmarks/batch_rate.py 16000 10 2.5  # as measured for bounds.TYPICAL_RATE

For each rate (Hz) it sets `brainsim.backends.bounds.TYPICAL_RATE`, compiles the
model on jax, and times 0.3 s simulated (after a 10 ms warm-up run), twice over
in interleaved rounds; it prints the batches each pathway got and the run time.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import brainsim  # noqa: E402
from brainsim.backends import bounds  # noqa: E402
from cuba_scaling import cuba_text  # noqa: E402

MODELS = Path(__file__).resolve().parent.parent / "models"


def main() -> None:
    which, rates = sys.argv[1], [float(r) for r in sys.argv[2:]]
    model = brainsim.load(MODELS / "brunel.brain") if which == "brunel" else brainsim.loads(cuba_text(int(which), 0.3), "cuba.brain")
    for _ in range(2):
        for rate in rates:
            bounds.TYPICAL_RATE = rate
            simulation = model.compile(backend="jax")
            simulation.run(0.01)
            simulation.reset()
            results = simulation.run(0.3)
            print(f"{which} {rate:g} Hz batches {simulation.event_batches} run {results.run_seconds:.3f} s", flush=True)


if __name__ == "__main__":
    main()
