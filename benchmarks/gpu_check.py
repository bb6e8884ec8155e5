"""One short check of the jax backend on whatever device jax finds (meant for a GPU).

    python benchmarks/gpu_check.py [--quick] [--out gpu_check.txt] [--budget 60]

1. the model suite (models/*.brain) in float64: the jax run against the numpy
   backend's (computed on the host CPU), bit for bit, and a second jax run
   against the first (run-to-run determinism); compile and run times;
2. the same in float32 (`dtype="float32"`) where the backend accepts that
   option: the agreement report against float64 numpy (skipped if not);
3. CUBA (fan-in 80) and Brunel (fan-in 1350) at growing sizes, jax only, until a
   size fails (out of memory) or one run takes longer than `--budget` seconds.

The figures and the card's name (`jax.devices()[0].device_kind`) go to `--out`.
`--quick` runs tiny sizes and a few models, so the script can be tried on a CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brainsim.backends.jax_backend import configure  # noqa: E402  (before jax starts)

PROBLEM = configure()

import jax  # noqa: E402

import brainsim  # noqa: E402
from brainsim.errors import BrainsimError  # noqa: E402
from brainsim.results import compare_results  # noqa: E402

MODELS = sorted((ROOT / "models").glob("*.brain"))
# As tests/test_models.py: the largest models are checked over their first part.
DURATION = {"brunel": 0.05, "cobahh": 0.2, "izhikevich": 0.2, "poisson_lif": 1.0, "stdp_song2000": 0.2}
QUICK_MODELS = ("cuba", "hh_single", "stdp_song2000")


def timed_run(model, duration, **options):
    simulation = model.compile(backend="jax", **options)
    results = simulation.run(duration)
    return results, f"compile {results.compile_seconds:.2f} s run {results.run_seconds:.3f} s"


def suite(quick: bool, write) -> None:
    for path in MODELS:
        if quick and path.stem not in QUICK_MODELS:
            continue
        model, duration = brainsim.load(path), 0.02 if quick else DURATION.get(path.stem)
        reference = model.compile(backend="numpy").run(duration)
        first, times = timed_run(model, duration)
        second, _ = timed_run(model, duration)
        identical = compare_results(reference, first).identical
        deterministic = compare_results(first, second).identical
        write(f"float64 {path.stem}: identical to numpy {identical}, run to run {deterministic}, {times}, "
              f"numpy run {reference.run_seconds:.3f} s")
        try:
            single, times = timed_run(model, duration, dtype="float32")
        except BrainsimError as error:
            write(f"float32 {path.stem}: skipped ({error})")
            continue
        lines = compare_results(reference, single).format().splitlines()
        write(f"float32 {path.stem}: {times}; " + " | ".join(lines[:1] + lines[2:]))


def cuba(n: int, duration: float):
    text = (ROOT / "models" / "cuba.brain").read_text()
    n_exc = n * 4 // 5
    text = text.replace("CubaLIF[3200]", f"CubaLIF[{n_exc}]").replace("CubaLIF[800]", f"CubaLIF[{n - n_exc}]")
    text = text.replace("p = 0.02", f"p = {80 / n!r}").replace("record v of Cortex.exc[0:5]", "")
    return with_duration(brainsim.loads(text), duration)


def brunel(factor: float, duration: float):
    text = (ROOT / "models" / "brunel.brain").read_text()
    text = text.replace("BrunelLIF[10000]", f"BrunelLIF[{round(10000 * factor)}]")
    text = text.replace("BrunelLIF[2500]", f"BrunelLIF[{round(2500 * factor)}]")
    return with_duration(brainsim.loads(text, filename=str(ROOT / "models" / "brunel.brain")), duration)


def with_duration(model, duration: float):
    settings = dataclasses.replace(model.network.simulation, duration=duration)
    return brainsim.Model(dataclasses.replace(model.network, simulation=settings))


def scaling(name: str, build, sizes, duration: float, budget: float, write) -> None:
    """`build(size)` run on jax at each size until one fails or takes longer than `budget`."""
    for size in sizes:
        began = time.perf_counter()
        try:
            model = build(size, duration)
            results = model.compile(backend="jax").run()
        except Exception as error:  # out of device memory: XLA's error type varies by version
            write(f"{name} {size}: failed after {time.perf_counter() - began:.1f} s ({type(error).__name__}: {str(error)[:200]})")
            return
        neurons = sum(p.size for p in model.network.populations)
        spikes = sum(int(c.sum()) for c in results.spike_counts.values())
        write(f"{name} {size}: {neurons} neurons, {duration:g} s simulated, compile {results.compile_seconds:.2f} s, "
              f"run {results.run_seconds:.3f} s, {spikes} spikes")
        if results.run_seconds > budget:
            return


def teed(path: Path, mode: str = "w"):
    """`write(line)`: print `line` and add it to the file at `path` (opened with `mode`),
    flushed at once, so that a run stopped by its time limit keeps every line it wrote."""
    out = path.open(mode)

    def write(line: str) -> None:
        print(line, flush=True)
        out.write(line + "\n")
        out.flush()

    return write


def device_name() -> str:
    """jax's first device as "NVIDIA H200 (gpu)"."""
    device = jax.devices()[0]
    return f"{device.device_kind} ({device.platform})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and a few models (works on a CPU)")
    parser.add_argument("--out", type=Path, default=Path("gpu_check.txt"))
    parser.add_argument("--budget", type=float, default=60.0, help="stop growing a network once a run takes longer (s)")
    args = parser.parse_args()
    write = teed(args.out, "w")
    write(f"device: {device_name()}, {len(jax.devices())} devices, jax {jax.__version__}")
    write(f"exactness: {PROBLEM or 'bit-identical to numpy promised'}")
    suite(args.quick, write)
    if args.quick:
        scaling("cuba", cuba, [400, 800], 0.01, args.budget, write)
        scaling("brunel", brunel, [0.2], 0.01, args.budget, write)
    else:
        scaling("cuba", cuba, [4_000, 16_000, 64_000, 256_000, 1_024_000, 4_096_000], 1.0, args.budget, write)
        scaling("brunel", brunel, [1, 2, 4, 8, 16], 0.2, args.budget, write)


if __name__ == "__main__":
    main()
