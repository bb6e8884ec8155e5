"""Are the microcircuit's spikes bit for bit the same on both backends, holding one network at a time?

    python benchmarks/microcircuit_identity.py                       # full scale, 0.1 s, seed 1 (about 6 minutes)
    python benchmarks/microcircuit_identity.py --scale 0.1 --duration 0.5
    python benchmarks/microcircuit_identity.py --compiled-updates   # numpy with its compiled loops, against jax

`brainsim check` holds both networks at once: at full scale, 10 ms, its peak is 16.2 GB
of this 24 GB machine (docs/performance.md), which leaves little room for longer runs'
recordings. Here each backend runs in a process of its own,
one after the other, and reports per population the spike count and a SHA-256 of its
spike times and indices; the script prints them side by side and exits 1 if any differ.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import brainsim
from brainsim import microcircuit
from brainsim.errors import BrainsimError

MODEL = Path(__file__).resolve().parent.parent / "models" / "microcircuit.brain"


def digests(scale: float, duration: float, seed: int, backend: str, compiled: bool = False) -> dict[str, list]:
    """Per population: [spike count, SHA-256 of times and indices] of one run on `backend`
    (numpy with `compiled_updates` if `compiled`)."""
    model = brainsim.load(MODEL).with_values(microcircuit.values(scale, scale) | {"seed": seed})
    model = brainsim.Model(dataclasses.replace(model.network, state_records=(), synapse_records=()))
    results = model.compile(backend=backend, **({"compiled_updates": True} if compiled else {})).run(duration)
    print(f"{backend}{' (compiled updates)' if compiled else ''}: {results.run_seconds:.2f} s to run", file=sys.stderr)
    out = {}
    for name, spikes in results.spikes.items():
        digest = hashlib.sha256(spikes.times.tobytes() + spikes.indices.tobytes()).hexdigest()
        out[name] = [len(spikes.times), digest[:16]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="scale of neurons and in-degrees, in (0, 1]")
    parser.add_argument("--duration", type=float, default=0.1, help="model seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--compiled-updates", action="store_true", help="run numpy with its compiled loops")
    parser.add_argument("--backend", choices=("numpy", "jax"), help=argparse.SUPPRESS)  # one run, in the child
    args = parser.parse_args()
    if args.backend:
        try:
            print(json.dumps(digests(args.scale, args.duration, args.seed, args.backend, args.compiled_updates)))
        except BrainsimError as error:  # a scale out of range, a network too large for this machine
            sys.exit(str(error))
        return
    runs = {}
    for backend in ("numpy", "jax"):
        command = [sys.executable, __file__, "--scale", str(args.scale), "--duration", str(args.duration),
                   "--seed", str(args.seed), "--backend", backend]
        if args.compiled_updates and backend == "numpy":
            command.append("--compiled-updates")
        child = subprocess.run(command, capture_output=True, text=True)
        if child.returncode != 0:  # e.g. the network would not fit: compile's own message, with its estimate
            sys.exit(f"the {backend} run failed:\n{child.stderr.strip()}")
        runs[backend] = json.loads(child.stdout)
        print(child.stderr.strip())
    print(f"microcircuit at scale {args.scale}, {args.duration} s, seed {args.seed}")
    print(f"{'population':<10} {'numpy spikes':>12} {'jax spikes':>10}  digests")
    for name in [*runs["numpy"], *(name for name in runs["jax"] if name not in runs["numpy"])]:
        (count, digest), (other_count, other_digest) = (runs[b].get(name, ["-", None]) for b in ("numpy", "jax"))
        verdict = "identical" if digest == other_digest else f"DIFFER ({digest} / {other_digest})"
        print(f"{name:<10} {count:>12} {other_count:>10}  {verdict}")
    sys.exit(0 if runs["numpy"] == runs["jax"] else 1)


if __name__ == "__main__":
    main()
