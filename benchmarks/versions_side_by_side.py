"""Two versions of brainsim in one process, run interleaved on the same model: before/after ratios.

    python benchmarks/versions_side_by_side.py --old /path/to/old/checkout [--model models/cuba.brain]
                                               [--backends numpy,jax] [--rounds 6]

On a shared machine timings drift by tens of percent over minutes, so two
versions timed in separate processes can differ by more than a change does.
This script copies the old checkout's `brainsim/` to a temporary folder as the
package `brainsim_old` (rewriting its imports), loads both versions in one
process, and runs them in turn, round after round, each for the model's
duration. It prints every run time, the medians, and the median of the
per-round new/old ratios, which is the figure to report.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_old(checkout: Path, folder: Path):
    """The old checkout's brainsim, imported as `brainsim_old`."""
    target = folder / "brainsim_old"
    shutil.copytree(checkout / "brainsim", target)
    for path in target.rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"\bbrainsim\.", "brainsim_old.", text)
        text = re.sub(r"from brainsim import", "from brainsim_old import", text)
        text = re.sub(r"^(\s*)import brainsim$", r"\1import brainsim_old", text, flags=re.M)  # also inside functions
        path.write_text(text)
    sys.path.insert(0, str(folder))
    import brainsim_old

    return brainsim_old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout of the version to compare with")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "cuba.brain")
    parser.add_argument("--backends", default="numpy,jax")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import brainsim

    text = args.model.read_text()
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory() as folder:
        old = import_old(args.old.resolve(), Path(folder))
        simulations = {}
        for version, package in (("old", old), ("new", brainsim)):
            model = package.loads(text, args.model.name)
            for backend in backends:
                simulation = model.compile(backend=backend)
                simulation.run(duration=10 * model.network.simulation.dt)  # compile outside the timing
                simulations[version, backend] = simulation
        times = {key: [] for key in simulations}
        for _ in range(args.rounds):
            for key, simulation in simulations.items():
                times[key].append(simulation.run().run_seconds)
    print(f"{args.model.name}: {args.rounds} interleaved rounds, run time (s) of each")
    for (version, backend), values in times.items():
        print(f"  {version} {backend:5s} median {statistics.median(values):.3f}  " + " ".join(f"{v:.3f}" for v in values))
    for backend in backends:
        ratios = [new / old for new, old in zip(times["new", backend], times["old", backend])]
        print(f"  {backend}: new / old, median of the rounds: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
