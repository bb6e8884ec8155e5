"""A long run in constant memory: 10^6 steps of a 1000-neuron network, its recordings streamed to disk.

    python benchmarks/long_run.py [--steps 1000000] [--backends numpy jax] [--chunk-steps 10000] [--record 20]

The network is models/cuba.brain at a quarter of its size (800 excitatory and 200
inhibitory neurons, p = 0.08, so each neuron keeps its 64 inputs and CUBA's
activity), recording the spikes of all 1000 neurons and `v` of `--record`
excitatory neurons after every step. The run goes through `stream_to_file`
(`brainsim.export.stream`, what `brainsim run --output run.h5 --stream` does): each
chunk of `--chunk-steps` steps is appended to an HDF5 file in a temporary folder
and dropped, so the process's memory should not grow with the number of steps,
although the file does.

Each backend runs in a process of its own, so that its peak resident set size
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is its own. After every chunk the
process notes the steps done, the peak RSS so far and the current RSS
(/proc/self/statm); the table shows ten of those samples and the last, and the
summary line compares the peak at a tenth of the run with the peak at its end.
An in-memory run of the same length would hold the recordings twice over at its
end (`bytes in memory` shows how much that would be).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def model_text(steps: int, recorded: int) -> str:
    """models/cuba.brain with 1000 neurons, a duration of `steps` steps and `recorded` traces."""
    text = (ROOT / "models" / "cuba.brain").read_text()
    for old, new in (("CubaLIF[3200]", "CubaLIF[800]"), ("CubaLIF[800]\n", "CubaLIF[200]\n"), ("p = 0.02", "p = 0.08"),
                     ("duration = 1 s", f"duration = {steps / 10} ms"), ("exc[0:5]", f"exc[0:{recorded}]")):
        assert old in text, old
        text = text.replace(old, new)
    return text


def resident() -> int:
    """The current resident set size of this process, in bytes."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak() -> int:
    """The peak resident set size of this process so far, in bytes (ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def one(backend: str, steps: int, chunk_steps: int, recorded: int) -> dict:
    """Run the network on `backend`, streaming to a temporary file; the samples of memory."""
    import brainsim
    from brainsim.backends.memory import recording_bytes
    from brainsim.export.stream import stream_to_file

    model = brainsim.loads(model_text(steps, recorded), filename="long_run.brain")
    simulation = model.compile(backend=backend, chunk_steps=chunk_steps)
    stream, samples = simulation.stream, []
    started = time.perf_counter()

    def watched(duration=None):
        for chunk in stream(duration):
            yield chunk
            samples.append((simulation.steps_done, time.perf_counter() - started, peak(), resident()))

    simulation.stream = watched
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "long_run.h5"
        summary = stream_to_file(simulation, path, progress=False)
        size = path.stat().st_size
    spikes = int(sum(counts.sum() for counts in summary.spike_counts.values()))
    in_memory = 2 * (recording_bytes(simulation.host, steps) + 16 * spikes)
    return {"backend": backend, "steps": steps, "seconds": time.perf_counter() - started, "file_bytes": size,
            "spikes": spikes, "in_memory_bytes": in_memory, "samples": samples}


def report(result: dict) -> None:
    samples = [tuple(sample) for sample in result["samples"]]  # JSON made them lists
    shown = sorted({samples[min(len(samples) - 1, k * len(samples) // 10)] for k in range(10)} | {samples[-1]})
    print(f"\n{result['backend']}: {result['steps']:,} steps in {result['seconds']:.1f} s, {result['spikes']:,} spikes, "
          f"file {result['file_bytes'] / 1e6:.1f} MB; an in-memory run would hold {result['in_memory_bytes'] / 1e6:.1f} MB "
          "of recordings at its end")
    print(f"  {'steps':>10}  {'wall s':>8}  {'peak RSS MB':>11}  {'RSS MB':>8}")
    for steps, wall, top, now in shown:
        print(f"  {steps:>10,}  {wall:>8.1f}  {top / 1e6:>11.1f}  {now / 1e6:>8.1f}")
    tenth = next(sample for sample in samples if sample[0] >= result["steps"] // 10)
    print(f"  peak RSS at a tenth of the run {tenth[2] / 1e6:.1f} MB, at the end {samples[-1][2] / 1e6:.1f} MB "
          f"(growth {(samples[-1][2] - tenth[2]) / 1e6:+.1f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--backends", nargs="+", default=["numpy", "jax"], choices=["numpy", "jax"])
    parser.add_argument("--chunk-steps", type=int, default=10_000)
    parser.add_argument("--record", type=int, default=20, help="excitatory neurons whose v is recorded every step")
    parser.add_argument("--one", choices=["numpy", "jax"], help=argparse.SUPPRESS)  # a backend's own process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.steps, args.chunk_steps, args.record)))
        return
    for backend in args.backends:
        command = [sys.executable, __file__, "--one", backend, "--steps", str(args.steps),
                   "--chunk-steps", str(args.chunk_steps), "--record", str(args.record)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        report(json.loads(output.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
