"""Writes tests/data/microcircuit_digest.json: digests of the microcircuit at (0.02, 0.05),
of its spike trains over 50 ms on numpy and of its host arrays (every connectivity and
pathway array, as int64 / float64 so that a narrower dtype digests the same), made with
the builder before docs/performance.md's "Memory per synapse" changes;
tests/test_microcircuit_digest.py checks that the builder still makes exactly these. Run: python tests/data/make_microcircuit_digest.py"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import brainsim
from brainsim import microcircuit
from brainsim.describe import host_network

ROOT = Path(__file__).parent.parent.parent
SCALE = (0.02, 0.05)
DURATION = 0.05


def array_digest(host) -> str:
    """SHA-256 of every array of the connectivities and pathways of `host`, widened."""
    hashed = hashlib.sha256()

    def add(a):
        a = np.asarray(a)
        hashed.update((a.astype(np.float64) if a.dtype.kind == "f" else a.astype(np.int64)).tobytes())

    for c in host.projections:
        hashed.update(c.projection.name.encode())
        for a in (c.indptr, c.post, c.delay_steps, *(c.states[k] for k in sorted(c.states))):
            add(a)
    for p in host.pathways:
        for a in (p.indptr, p.post, p.delay_steps, *(p.states[k] for k in sorted(p.states)), *p.origin, p.slots):
            add(a)
    return hashed.hexdigest()


def spike_digest(results) -> str:
    hashed = hashlib.sha256()
    for name in sorted(results.spikes):
        hashed.update(name.encode() + results.spikes[name].times.tobytes() + results.spikes[name].indices.tobytes())
    return hashed.hexdigest()


def model():
    return brainsim.load(ROOT / "models" / "microcircuit.brain").with_values(microcircuit.values(*SCALE))


if __name__ == "__main__":
    scaled = model()
    digests = {"scale": SCALE, "duration": DURATION, "arrays": array_digest(host_network(scaled.network)),
               "spikes": spike_digest(scaled.compile(backend="numpy").run(DURATION))}
    (Path(__file__).parent / "microcircuit_digest.json").write_text(json.dumps(digests, indent=1) + "\n")
    json.dump(digests, sys.stdout)
